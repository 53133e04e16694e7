"""``ccdlab detector``: measure the camera from a night's frames, and draw its photon transfer curve."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``ccdlab detector``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="ccdlab detector")
    >>> add_arguments(parser)
    >>> parser.parse_args(["data", "--no-plot"]).no_plot
    True
    """
    parser.description = (
        "Measure the camera from the frames: gain and read noise (ADU and electrons), full well and "
        "linearity from flat pairs (a photon transfer curve), dark current and hot pixels from darks, each with "
        "its uncertainty, compared with the header's keywords. What the frames cannot measure is said, never guessed."
    )
    parser.add_argument("data_dir", nargs="?", default=None, metavar="DATA_DIR",
                        help="the night's folder (bias/, flats/, darks/, detector/); default: the course data folder")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="where to save the photon transfer curve (default: DATA_DIR/reduced/photon_transfer.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not save the photon transfer curve")
    parser.add_argument("--gain", type=float, default=None,
                        help="gain (e-/ADU) to use for electrons when the frames cannot measure one")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab detector`` with parsed arguments; print the report; return the exit code.

    Bad input (no such folder, fewer than two bias frames) raises a
    :class:`ccdlab.errors.CcdlabError`, which the command line prints as one sentence.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["/no/such/folder"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.DataNotFoundError: The data folder /no/such/folder does not exist...
    """
    from pathlib import Path

    from ccdlab.characterise import characterise
    from ccdlab.paths import find_data_dir, reduced_dir

    data_dir = find_data_dir(args.data_dir)
    result = characterise(data_dir, gain=getattr(args, "gain", None))
    print(result.report())
    if getattr(args, "no_plot", False):
        return 0
    if result.ptc is None:
        print("\nNo photon transfer curve: the night has no pairs of flats of equal exposure.")
        return 0
    from ccdlab.display.ptc import save_photon_transfer

    target = Path(args.plot) if getattr(args, "plot", None) else reduced_dir(data_dir) / "photon_transfer.png"
    path = save_photon_transfer(result.ptc, target, title=f"Photon transfer curve of {data_dir.name}")
    print(f"\nPhoton transfer curve: {path}")
    return 0
