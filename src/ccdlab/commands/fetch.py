"""``ccdlab fetch`` (and ``python data_fetch.py``): create the synthetic night, or get a real one."""

from __future__ import annotations

import argparse
import sys

#: Sizes of the synthetic night (kept here so that --help imports nothing heavy).
SIZES = ("tiny", "workshop", "full")

#: Cameras of the synthetic night: the course camera at -60 C, or a warm one at -10 C.
CAMERAS = ("cool", "warm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the data options to ``parser`` (used by ``data_fetch.py`` and ``ccdlab fetch``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--size", "tiny"]).size
    'tiny'
    >>> parser.parse_args([]).size is None  # the default night, or on Colab whatever Drive holds
    True
    """
    parser.add_argument(
        "--size", choices=list(SIZES), default=None,
        help="synthetic night (NAXIS1 x NAXIS2): tiny (512 x 514, ~21 MB), workshop (2048 x 2054, ~270 MB) "
        "or full (4096 x 4108, ~1 GB); without it any verified night already there is kept, else workshop "
        "is created",
    )
    parser.add_argument(
        "--dest", metavar="DIR", default=None,
        help="data folder (default: the one ccdlab finds: CCDLAB_DATA, Google Drive on Colab, or data/)",
    )
    parser.add_argument(
        "--url", metavar="URL", action="append", default=None,
        help="get real data instead: a zip/tar/tar.gz archive or a FITS file, by http(s) URL, file:// URL or "
        "local path (repeat for several files)",
    )
    parser.add_argument(
        "--sha256", metavar="HEX", action="append", default=None,
        help="expected SHA-256 of each --url, in the same order (the file is refused if it differs)",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="replace a dataset already in the folder (bias/, flats/, science/, truth/; reduced/ is kept)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the synthetic night (default: the course's)")
    parser.add_argument("--student", metavar="NAME", default=None,
                        help="make your own night, drawn from your name (write it as on your notebooks): the same "
                        "night as everyone's, with its own numbers; it replaces the default night in the folder")
    parser.add_argument(
        "--camera", choices=list(CAMERAS), default=None,
        help="the synthetic night's camera: cool (the course camera at -60 C, default) or warm (-10 C: every frame "
        "carries dark current, and darks/ holds the darks the reduction needs)",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Carry out ``data_fetch.py`` / ``ccdlab fetch``; print what was done; return the exit code.

    Without ``--size`` (and ``--seed``) any verified dataset already in the folder is kept, and
    files changed since it was made are only a warning (exit 0), so ``make lab`` always starts;
    ``--size`` asks for that night strictly. Bad input raises a :class:`ccdlab.errors.CcdlabError`
    (printed as one sentence by the command line).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> run(parser.parse_args(["--sha256", "ab"]))
    Traceback (most recent call last):
    ...
    ccdlab.errors.FetchError: --sha256 checks a download: give it together with --url.
    """
    from ccdlab.errors import FetchError

    progress = getattr(args, "progress", True)
    urls = getattr(args, "url", None) or []
    hashes = getattr(args, "sha256", None) or []
    seed = getattr(args, "seed", None)
    dest = getattr(args, "dest", None)
    size = getattr(args, "size", None)
    force = getattr(args, "force", False)
    camera = getattr(args, "camera", None)
    if hashes and not urls:
        raise FetchError("--sha256 checks a download: give it together with --url.")
    student = getattr(args, "student", None)
    for option, given in (("--seed", seed is not None), ("--student", student), ("--camera", camera is not None)):
        if urls and given:
            raise FetchError(f"{option} applies to the synthetic night only, not to downloads.")
    if student is not None and seed is not None:
        raise FetchError("--student draws the night from your name: leave out --seed.")
    if seed is not None and seed < 0:
        raise FetchError(f"--seed must be zero or a positive integer; got {seed}.")

    from ccdlab.data import fetch
    from ccdlab.data.simulate import DEFAULT_CAMERA, DEFAULT_SEED, DEFAULT_SIZE
    from ccdlab.paths import on_colab

    if urls:
        report = fetch.fetch_url(urls, dest, sha256=hashes or None, force=force, progress=progress)
    elif student is not None:
        report = fetch.ensure_default(dest, size=size, force=force, progress=progress, student=student)
    elif dest is None and on_colab():
        from ccdlab.data.colab import prepare_colab_data

        local = prepare_colab_data(size=size, seed=DEFAULT_SEED if seed is None else seed, force=force, progress=progress,
                                   camera=camera or DEFAULT_CAMERA)
        report = fetch.FetchReport(local, "verified", message=f"Data ready in {local} (a working copy of your Google Drive folder).")
    else:
        # No --size (what `make lab` runs): keep any verified night, warn about changed files.
        # --size or --seed ask for one night exactly: anything else is an error.
        strict = seed is not None or camera is not None  # --seed or --camera ask for one night exactly
        report = fetch.ensure_default(
            dest, size=size or (DEFAULT_SIZE if strict else None), force=force,
            progress=progress, seed=DEFAULT_SEED if seed is None else seed, camera=camera or DEFAULT_CAMERA,
        )
    print(report.summary(), file=sys.stderr if report.status == "changed" else sys.stdout)
    return 0
