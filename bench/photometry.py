"""Benchmark: ``ccdlab photometry`` and ``ccdlab solve`` against the truth of the synthetic nights, and their cost.

For the tiny and the default (workshop) night, made in a temporary folder and reduced by ccdlab:

- **photometry**: ``ccdlab photometry`` on the first cleaned frame with the night's reference
  catalogue, aperture and PSF: the zero point against the truth's (target 0.02 mag); the RMS of
  calibrated minus true magnitude over the stars with S/N > 50 (target 0.03; aperture: stars not
  saturated, away from edges and without a neighbour in their annulus; PSF: not saturated, away
  from edges; the aperture's RMS over every such star, crowded or not, is printed too); the 5-sigma
  limiting magnitude against the truth's (target 0.3 mag).
- **plate solving**: the frame without its WCS, ``ccdlab solve`` from a pointing 5 arcmin off in
  four directions: the RMS of the true stars' positions through the solved WCS against their true
  positions (target 0.3 arcsec), and the time (target 30 s on the workshop frame).
- **cost**: ``ccdlab photometry`` against the plain photutils recipe it wraps (the same steps written
  out with photutils and astropy: background, seeing, detection, apertures with an annulus, aperture
  correction, catalogue match, clipped zero point, empty-aperture noise, ECSV), each in a fresh
  process, median of three runs (target at most 1.2 times).

Run from the project folder (a few minutes; the workshop reduction is most of it)::

    .venv/bin/python bench/photometry.py
    .venv/bin/python bench/photometry.py --sizes tiny
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CCDLAB = [sys.executable, "-m", "ccdlab.cli"]


def plain_recipe(frame: str, catalog_path: str, out: str) -> None:
    """What ``ccdlab photometry`` does, written out with photutils and astropy (for the timing)."""
    import numpy as np
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.stats import SigmaClip, sigma_clip, sigma_clipped_stats
    from astropy.table import Table
    from astropy.wcs import WCS
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry
    from photutils.background import Background2D, MedianBackground
    from photutils.detection import DAOStarFinder
    from photutils.psf import fit_fwhm

    data = fits.getdata(frame).astype(np.float32)
    header = fits.getheader(frame)
    exptime, gain, readnoise = float(header["EXPTIME"]), 1.6, 14.0
    bad = ~np.isfinite(data)
    bkg = Background2D(np.where(bad, 0, data), 64, mask=bad, coverage_mask=bad, filter_size=3,
                       sigma_clip=SigmaClip(3.0), bkg_estimator=MedianBackground(), exclude_percentile=50.0)
    sub = np.where(bad, 0, data - bkg.background)
    rms = float(np.median(bkg.background_rms[~bad]))
    found = DAOStarFinder(threshold=5 * rms, fwhm=3.5, min_separation=0)(sub, mask=bad)
    found.sort("flux", reverse=True)
    xy = np.transpose([found["x_centroid"], found["y_centroid"]])
    fwhm = float(np.median(fit_fwhm(sub, xypos=xy[:20], fwhm=3.5, fit_shape=9, mask=bad)))
    radius, annulus = 1.5 * fwhm, (2.5 * fwhm, 3.5 * fwhm)
    aperture = CircularAperture(xy, r=radius)
    sky = ApertureStats(np.where(bad, 0, data), CircularAnnulus(xy, *annulus), mask=bad, sigma_clip=SigmaClip(3.0)).median
    flux = np.asarray(aperture_photometry(np.where(bad, 0, data), aperture)["aperture_sum"]) - sky * aperture.area
    flux_err = np.sqrt(np.clip(flux, 0, None) * gain + aperture.area * (sky * gain + readnoise ** 2)) / gain
    big = CircularAperture(xy[:150], r=2.5 * radius)
    ring = CircularAnnulus(xy[:150], 2.5 * radius + 4, 2.5 * radius + 12)
    sky_big = ApertureStats(np.where(bad, 0, data), ring, mask=bad, sigma_clip=SigmaClip(3.0)).median
    small = np.asarray(aperture_photometry(np.where(bad, 0, data), CircularAperture(xy[:150], r=radius))["aperture_sum"])
    large = np.asarray(aperture_photometry(np.where(bad, 0, data), big)["aperture_sum"]) - sky_big * big.area
    with np.errstate(invalid="ignore", divide="ignore"):
        apcorr = sigma_clipped_stats(-2.5 * np.log10(large / (small - sky_big * aperture.area)))[1]
        mag_inst = -2.5 * np.log10(flux / exptime) + apcorr
    catalog = Table.read(catalog_path)
    ra, dec = WCS(header).pixel_to_world_values(xy[:, 0], xy[:, 1])
    index, separation, _ = SkyCoord(ra, dec, unit="deg").match_to_catalog_sky(
        SkyCoord(catalog["ra"], catalog["dec"], unit="deg"))
    good = (separation.arcsec < 1.5) & (flux / flux_err > 10)
    difference = np.asarray(catalog["mag"])[index[good]] - mag_inst[good]
    zero_point = float(np.ma.median(sigma_clip(difference, sigma=3)))
    rng = np.random.default_rng(0)
    places = rng.uniform([20, 20], [data.shape[1] - 20, data.shape[0] - 20], (500, 2))
    empty = np.asarray(aperture_photometry(np.where(bad, np.nan, data), CircularAperture(places, r=radius))["aperture_sum"])
    empty = empty - np.nanmedian(data) * aperture.area
    noise = sigma_clipped_stats(empty[np.isfinite(empty)])[2]
    table = Table({"x": xy[:, 0], "y": xy[:, 1], "ra": ra, "dec": dec, "flux": flux, "flux_err": flux_err,
                   "mag_inst": mag_inst, "mag": mag_inst + zero_point},
                  meta={"ZP": zero_point, "MAGLIM": zero_point - 2.5 * np.log10(5 * noise / exptime) + apcorr})
    table.write(out, format="ascii.ecsv", overwrite=True)


def run(command, timeout=1800) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def make_night(size: str, folder: Path) -> tuple[Path, Path]:
    from ccdlab.data.simulate import make_night as simulate
    from ccdlab.paths import pipeline_dir
    from ccdlab.reduce import output_name, reduce

    night = simulate(folder / size, size=size, progress=False)
    out = pipeline_dir(night)
    reduce(night, out, progress=False, verbose=False)
    first = sorted((night / "science").glob("*.fits"))[0]
    return night, out / output_name(first.name, "proc")


def truth(night: Path, frame_name: str) -> dict:
    from astropy.table import Table

    info = json.loads((night / "truth" / "photometry.json").read_text())
    general = json.loads((night / "truth" / "truth.json").read_text())
    stars = Table.read(night / "truth" / "stars.ecsv")
    dx, dy = general["dithers"][frame_name]
    stars["x"] = stars["x"] + dx
    stars["y"] = stars["y"] + dy
    return {"zp": info["zero_point"], "maglim": info["frames"][frame_name]["limiting_magnitude"], "stars": stars}


def photometry_rows(size: str, night: Path, frame: Path, tmp: Path) -> list[dict]:
    import numpy as np
    from astropy.table import Table
    from scipy.spatial import cKDTree

    raw_name = frame.name.replace(".proc.fits", ".fits")
    t = truth(night, raw_name)
    tree = cKDTree(np.column_stack([t["stars"]["x"], t["stars"]["y"]]))
    rows = []
    aperture_snr = None
    for method in ("aperture", "psf"):
        out = tmp / f"{size}-{method}.ecsv"
        wall, _ = run([*CCDLAB, "photometry", str(frame), "--catalog", str(night / "catalog" / "reference_catalog.ecsv"),
                       "--out", str(out), "--method", method])
        table = Table.read(out)
        # "S/N > 50": the stars' aperture S/N, the same stars for both methods (same detections, same rows)
        aperture_snr = np.asarray(table["snr"]) if aperture_snr is None else aperture_snr
        distance, nearest = tree.query(np.column_stack([table["x"], table["y"]]))
        base = (distance < 1.0) & (aperture_snr > 50) & ~table["saturated"] & ~table["near_edge"] & np.isfinite(table["mag"])
        chosen = base & ~table["crowded"] if method == "aperture" else base
        error = np.asarray(table["mag"] - t["stars"]["mag"][nearest])
        row = {"night": size, "method": method, "zp_diff": table.meta["ZP"] - t["zp"],
               "n_snr50": int(chosen.sum()), "rms_snr50": float(np.sqrt(np.mean(error[chosen] ** 2))),
               "rms_all_clean": float(np.sqrt(np.mean(error[base] ** 2))),
               "maglim_diff": table.meta["MAGLIM"] - t["maglim"], "wall_s": wall}
        rows.append(row)
    return rows


def solve_rows(size: str, night: Path, frame: Path, tmp: Path) -> list[dict]:
    import astropy.units as u
    import numpy as np
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.wcs import WCS

    from ccdlab.astrometry import remove_wcs, sky_residuals

    header = fits.getheader(frame)
    bare = tmp / f"{size}-bare.fits"
    fits.writeto(bare, fits.getdata(frame), remove_wcs(header), overwrite=True)
    t = truth(night, frame.name.replace(".proc.fits", ".fits"))
    stars = t["stars"]
    ny, nx = fits.getdata(frame).shape
    inside = (stars["x"] > 0) & (stars["x"] < nx - 1) & (stars["y"] > 0) & (stars["y"] < ny - 1)
    xy = np.column_stack([stars["x"][inside], stars["y"][inside]])
    rows = []
    for angle in (0, 90, 180, 270):
        start = SkyCoord(header["RA"], header["DEC"], unit="deg").directional_offset_by(angle * u.deg, 5 * u.arcmin)
        out = tmp / f"{size}-solved-{angle}.fits"
        wall, text = run([*CCDLAB, "solve", str(bare), "--catalog", str(night / "catalog" / "reference_catalog.ecsv"),
                          "--out", str(out), "--ra", str(start.ra.deg), "--dec", str(start.dec.deg), "--scale", "0.676"])
        solved = WCS(fits.getheader(out))
        rms = float(np.sqrt(np.mean(sky_residuals(solved, xy, stars["ra"][inside], stars["dec"][inside]) ** 2)))
        fit_rms = float(text.split("RMS ")[1].split(" arcsec")[0])
        rows.append({"night": size, "start_pa": angle, "fit_rms": fit_rms, "truth_rms": rms, "wall_s": wall})
    return rows


def cost_rows(size: str, night: Path, frame: Path, tmp: Path, repeats: int = 3) -> dict:
    catalog = str(night / "catalog" / "reference_catalog.ecsv")
    ours, plain = [], []
    for k in range(repeats):
        ours.append(run([*CCDLAB, "photometry", str(frame), "--catalog", catalog, "--out", str(tmp / f"c{k}.ecsv")])[0])
        plain.append(run([sys.executable, __file__, "--plain", str(frame), catalog, str(tmp / f"p{k}.ecsv")])[0])
    return {"night": size, "ccdlab_s": statistics.median(ours), "plain_s": statistics.median(plain),
            "ratio": statistics.median(ours) / statistics.median(plain)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,workshop")
    parser.add_argument("--plain", nargs=3, metavar=("FRAME", "CATALOG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain:
        plain_recipe(*args.plain)
        return 0
    photometry, solving, cost = [], [], []
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-phot-") as tmp:
        tmp = Path(tmp)
        for size in args.sizes.split(","):
            start = time.perf_counter()
            night, frame = make_night(size, tmp)
            print(f"{size}: night made and reduced in {time.perf_counter() - start:.0f} s", flush=True)
            photometry += photometry_rows(size, night, frame, tmp)
            solving += solve_rows(size, night, frame, tmp)
            cost.append(cost_rows(size, night, frame, tmp))
    print("\nPhotometry against the truth (targets: |ZP - truth| <= 0.02, RMS(S/N > 50) <= 0.03, |MAGLIM - truth| <= 0.3)")
    print(f"{'night':9s} {'method':9s} {'ZP-truth':>9s} {'n S/N>50':>9s} {'RMS':>7s} {'RMS all':>8s} {'MAGLIM-truth':>13s} {'time':>7s}")
    for r in photometry:
        print(f"{r['night']:9s} {r['method']:9s} {r['zp_diff']:+9.4f} {r['n_snr50']:9d} {r['rms_snr50']:7.4f} "
              f"{r['rms_all_clean']:8.4f} {r['maglim_diff']:+13.3f} {r['wall_s']:6.1f}s")
    print("\nPlate solution from a pointing 5 arcmin off (targets: truth RMS <= 0.3 arcsec, <= 30 s on the workshop frame)")
    print(f"{'night':9s} {'start PA':>8s} {'fit RMS':>8s} {'truth RMS':>10s} {'time':>7s}")
    for r in solving:
        print(f"{r['night']:9s} {r['start_pa']:8d} {r['fit_rms']:7.3f}\" {r['truth_rms']:9.3f}\" {r['wall_s']:6.1f}s")
    print("\nCost of 'ccdlab photometry' against the plain photutils recipe (fresh processes, median of 3; target <= 1.2x)")
    print(f"{'night':9s} {'ccdlab':>8s} {'plain':>8s} {'ratio':>6s}")
    for r in cost:
        print(f"{r['night']:9s} {r['ccdlab_s']:7.2f}s {r['plain_s']:7.2f}s {r['ratio']:6.2f}")
    failed = [r for r in photometry if abs(r["zp_diff"]) > 0.02 or r["rms_snr50"] > 0.03 or abs(r["maglim_diff"]) > 0.3]
    failed += [r for r in solving if r["truth_rms"] > 0.3 or (r["night"] == "workshop" and r["wall_s"] > 30)]
    print("\nall targets met" if not failed else f"\n{len(failed)} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
