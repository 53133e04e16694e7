"""``ccdlab photometry``: calibrated magnitudes of every star of a frame, against a reference catalogue."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``ccdlab photometry``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="ccdlab photometry")
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["frame.fits", "--catalog", "cat.ecsv", "--out", "stars.ecsv", "--method", "psf"])
    >>> args.method, args.threshold
    ('psf', 5.0)
    """
    parser.description = (
        "Detect every star of a calibrated frame, measure it (aperture with a sky annulus, or PSF), match it to "
        "a reference catalogue by sky position, and fit the zero point: writes each star's position, "
        "instrumental and calibrated magnitude with errors, and ZP, ZP_ERR and MAGLIM (5 sigma) in the "
        "table's metadata.")
    parser.add_argument("frame", metavar="FRAME", help="a calibrated frame with a WCS (e.g. reduced/*.proc.fits)")
    parser.add_argument("--catalog", metavar="CAT", default=None,
                        help="reference catalogue of the field (ECSV, CSV, FITS: ra, dec and a magnitude column); "
                             "without it the magnitudes stay instrumental")
    parser.add_argument("--out", metavar="TABLE.ecsv", required=True, help="the table to write (ECSV)")
    parser.add_argument("--method", choices=("aperture", "psf"), default="aperture", help="how to measure the stars")
    parser.add_argument("--fwhm", type=float, default=None, help="seeing FWHM in pixels (default: measured)")
    parser.add_argument("--radius", type=float, default=None, help="aperture radius in pixels (default: 1.5 FWHM)")
    parser.add_argument("--threshold", type=float, default=5.0, help="detection threshold in sky sigmas (default 5)")
    parser.add_argument("--max-separation", type=float, default=1.5,
                        help="largest catalogue match distance, arcsec (default 1.5)")
    parser.add_argument("--exptime", type=float, default=None, help="exposure time in s (default: header EXPTIME)")
    parser.add_argument("--gain", type=float, default=None, help="gain in e-/ADU (default: header, else 1.6)")
    parser.add_argument("--readnoise", type=float, default=None, help="read noise in e- (default: header, else 14)")
    parser.add_argument("--satlevel", type=float, default=None, help="saturation in e- (default: header, else 96000)")
    parser.add_argument("--mag-column", default=None, help="the catalogue's magnitude column (default: found by name)")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab photometry``; return the exit code (bad input raises a one-sentence ccdlab error).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["/no/such/frame.fits", "--out", "stars.ecsv"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.MissingFileError: ...
    """
    import math

    from ccdlab.crossmatch import read_catalog
    from ccdlab.io import read_frame
    from ccdlab.magnitudes import measure_magnitudes, write_magnitudes

    data, header = read_frame(args.frame)
    catalog = read_catalog(args.catalog, mag=args.mag_column) if args.catalog else None
    table = measure_magnitudes(data, header, catalog, method=args.method, fwhm=args.fwhm, radius=args.radius,
                               threshold=args.threshold, gain=args.gain, readnoise=args.readnoise,
                               saturation=args.satlevel, exptime=args.exptime, max_separation=args.max_separation)
    table.meta["FRAME"] = str(args.frame)
    if args.catalog:
        table.meta["CATALOG"] = str(args.catalog)
    out = write_magnitudes(table, args.out)
    meta = table.meta
    print(f"{meta['NSTARS']} stars, {meta['METHOD']} photometry (FWHM {meta['FWHM']:.2f} px, "
          f"aperture correction {meta['APCORR']:+.3f} mag)")
    if math.isfinite(meta["ZP"]):
        print(f"zero point {meta['ZP']:.3f} +- {meta['ZP_ERR']:.3f} mag from {meta['NZP']} matched stars "
              f"(scatter {meta['ZPSCATTER']:.3f}); 5-sigma limiting magnitude {meta['MAGLIM']:.2f}")
    else:
        print("no catalogue: instrumental magnitudes only (give --catalog for the zero point)")
    print(f"wrote {out}")
    return 0
