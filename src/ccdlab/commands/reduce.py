"""``ccdlab reduce``: the whole reduction of a night, with its summary picture."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``ccdlab reduce``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="ccdlab reduce")
    >>> add_arguments(parser)
    >>> parser.parse_args(["data", "--out", "out", "--gain", "1.6"]).gain
    1.6
    """
    parser.description = (
        "Reduce a night: master bias, master flat(s), vignetting mask, calibrated (*.fb.fits) and "
        "cosmic-ray cleaned (*.proc.fits) science frames, a summary figure and table."
    )
    parser.add_argument("data_dir", nargs="?", default=None, metavar="DATA_DIR",
                        help="folder holding the raw frames (bias/, flats/, science/); default: the course data folder")
    parser.add_argument("--out", metavar="OUT", default=None, help="output folder (default: DATA_DIR/reduced)")
    parser.add_argument("--gain", type=float, default=None,
                        help="gain in e-/ADU (default: header GAIN/EGAIN if plausible, else 1.6)")
    parser.add_argument("--readnoise", type=float, default=None,
                        help="read noise in electrons (default: header RDNOISE/READNOIS if plausible, else 14)")
    parser.add_argument("--satlevel", type=float, default=None,
                        help="saturation level in electrons (default: header SATURATE x gain, else 96000)")
    parser.add_argument("--jobs", type=int, default=None, help="processes for cosmic-ray cleaning (default: one per core)")
    parser.add_argument("--no-summary", action="store_true", help="do not draw reduction_summary.png")
    parser.add_argument("--no-progress", action="store_true", help="do not show progress bars")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab reduce`` with parsed arguments; return the exit code.

    Bad input (missing folder, no bias, mismatched frames, impossible gain...) raises a
    :class:`ccdlab.errors.CcdlabError`, which the command line prints as one sentence.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["/no/such/folder", "--no-progress"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.DataNotFoundError: The data folder /no/such/folder does not exist...
    """
    from ccdlab.reduce import reduce

    summary = False
    if not getattr(args, "no_summary", False):
        from ccdlab.display.summary import save_summary as summary
    reduce(
        args.data_dir, args.out, gain=args.gain, readnoise=args.readnoise, satlevel=args.satlevel,
        jobs=args.jobs, progress=not args.no_progress, summary=summary, verbose=True,
    )
    return 0
