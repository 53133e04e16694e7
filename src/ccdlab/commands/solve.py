"""``ccdlab solve``: plate-solve a frame offline against a reference catalogue, and write it with its WCS."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``ccdlab solve``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="ccdlab solve")
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["frame.fits", "--catalog", "cat.ecsv", "--out", "solved.fits", "--ra", "339.7"])
    >>> args.ra, args.dec, args.search_radius
    (339.7, None, 10.0)
    """
    parser.description = (
        "Find which pixel looks where on the sky: detect the frame's stars, match their pattern to the catalogue's "
        "(triangles of neighbours), fit a TAN WCS (with SIP distortion where it helps), print its RMS in arcsec "
        "and write the frame with the new WCS. Starts from the header's pointing (RA/DEC) or --ra/--dec.")
    parser.add_argument("frame", metavar="FRAME", help="a calibrated frame (e.g. reduced/*.proc.fits)")
    parser.add_argument("--catalog", metavar="CAT", required=True,
                        help="reference catalogue of the field (ECSV, CSV, FITS: ra, dec and a magnitude column)")
    parser.add_argument("--out", metavar="SOLVED.fits", required=True, help="the solved frame to write")
    parser.add_argument("--ra", type=float, default=None, help="rough RA of the frame's centre, degrees")
    parser.add_argument("--dec", type=float, default=None, help="rough Dec of the frame's centre, degrees")
    parser.add_argument("--scale", type=float, default=None,
                        help="pixel scale, arcsec/pixel (default: from the header's WCS or PIXSCALE/SECPIX)")
    parser.add_argument("--search-radius", type=float, default=10.0,
                        help="how far off the pointing may be, arcmin (default 10)")
    parser.add_argument("--threshold", type=float, default=5.0, help="detection threshold in sky sigmas (default 5)")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab solve``; return the exit code (bad input raises a one-sentence ccdlab error).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["/no/such/frame.fits", "--catalog", "c.ecsv", "--out", "s.fits"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.MissingFileError: ...
    """
    import time
    from pathlib import Path

    from ccdlab.astrometry import solve_frame, solved_header
    from ccdlab.crossmatch import read_catalog
    from ccdlab.io import read_frame, write_frame

    start = time.perf_counter()
    data, header = read_frame(args.frame)
    catalog = read_catalog(args.catalog)
    solution = solve_frame(data, header, catalog, ra=args.ra, dec=args.dec, scale=args.scale,
                           search_radius=args.search_radius, threshold=args.threshold)
    header = solved_header(header, solution, Path(args.catalog).name)
    out = write_frame(args.out, data, header, inputs=[args.frame])
    projection = "TAN" if solution.sip_degree is None else f"TAN-SIP (degree {solution.sip_degree})"
    print(f"solved: {projection} from {solution.n_matched} stars, RMS {solution.rms:.3f} arcsec; "
          f"scale {solution.scale:.4f} arcsec/pixel, rotation {solution.rotation:.2f} deg; "
          f"{time.perf_counter() - start:.1f} s")
    print(f"wrote {out}")
    return 0
