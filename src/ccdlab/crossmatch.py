"""Reference catalogues: reading one, finding a night's, and matching stars to it by sky position.

A catalogue of the field (a survey query: PanSTARRS, Gaia, APASS, or the synthetic night's
``catalog/reference_catalog.ecsv``) gives known stars' positions and magnitudes. :func:`read_catalog`
reads any table astropy reads (ECSV, CSV, FITS, VOTable) and finds its columns under the names
surveys use (``ra``/``dec``, ``RAJ2000``/``DEJ2000``, ``raMean``/``decMean``, ``RA_ICRS``...;
``mag``, ``rMeanPSFMag``, ``phot_g_mean_mag``...), so the rest of ccdlab sees ``ra``, ``dec``
(degrees), ``mag`` and ``mag_err``.

:func:`match_to_catalog` pairs each detected star with the nearest catalogue entry on the sky
(astropy's ``match_to_catalog_sky``, great-circle distances), and keeps a pair only when it is
closer than ``max_separation`` and the entry is no other star's nearer match: one catalogue star
answers for one detection at most.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.table import Table

from ccdlab.errors import CatalogError, MissingFileError

__all__ = ["CATALOG_FOLDER", "CATALOG_SUFFIXES", "find_catalog", "read_catalog", "match_to_catalog"]

#: The folder of a data folder where ccdlab looks for the night's reference catalogue.
CATALOG_FOLDER = "catalog"
#: File types :func:`find_catalog` considers, in order of preference.
CATALOG_SUFFIXES = (".ecsv", ".csv", ".fits", ".fit", ".vot", ".xml")

_RA = ("ra", "raj2000", "ra_icrs", "ramean", "ra_deg", "radeg", "alpha_j2000", "_raj2000")
_DEC = ("dec", "dej2000", "de_icrs", "decmean", "dec_deg", "dedeg", "delta_j2000", "_dej2000", "decj2000")
_MAG = ("mag", "rmeanpsfmag", "rpsfmag", "r_mag", "rmag", "phot_g_mean_mag", "gmag", "vmag", "gmeanpsfmag",
        "imeanpsfmag", "magnitude")


def find_catalog(data_dir=None) -> Path | None:
    """The night's reference catalogue: the first table file in ``catalog/`` of the data folder, or None.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = find_catalog(tmp)
    ...     (Path(tmp) / "catalog").mkdir()
    ...     _ = (Path(tmp) / "catalog" / "field.ecsv").write_text("# %ECSV 1.0")
    ...     before, find_catalog(tmp).name
    (None, 'field.ecsv')
    """
    from ccdlab.paths import find_data_dir

    folder = find_data_dir(data_dir) / CATALOG_FOLDER
    if not folder.is_dir():
        return None
    for suffix in CATALOG_SUFFIXES:
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == suffix)
        if found:
            return found[0]
    return None


def _column(table: Table, names, wanted: str | None, what: str, path) -> str | None:
    if wanted is not None:
        if wanted not in table.colnames:
            raise CatalogError(f"{path}: no column {wanted!r} (it has {', '.join(table.colnames)}).")
        return wanted
    lower = {name.lower(): name for name in table.colnames}
    for name in names:
        if name in lower:
            return lower[name]
    if what == "mag":
        mags = [n for n in table.colnames if n.lower().endswith("mag") and not n.lower().startswith("e_")]
        return mags[0] if mags else None
    return None


def _degrees(column, name: str, path) -> np.ndarray:
    unit = getattr(column, "unit", None)
    values = np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
    if unit is not None and str(unit) not in ("", "deg"):
        try:
            values = (values * unit).to_value("deg")
        except Exception:
            raise CatalogError(f"{path}: column {name} is in {unit}, not an angle: give degrees.") from None
    return values


def read_catalog(path, ra: str | None = None, dec: str | None = None, mag: str | None = None,
                 mag_err: str | None = None) -> Table:
    """Read a reference catalogue into a table with ``ra``, ``dec`` (degrees), ``mag`` and ``mag_err``.

    Parameters
    ----------
    path : path-like
        Any table astropy reads: ECSV, CSV, FITS, VOTable.
    ra, dec, mag, mag_err : str, optional
        Column names, when they are not among the usual ones (``ra``, ``RAJ2000``, ``raMean``,
        ``mag``, ``rMeanPSFMag``, ``phot_g_mean_mag``, ...; ``mag_err`` is found as ``e_<mag>``,
        ``<mag>_err`` or ``<mag>Err``). A catalogue without errors gets ``mag_err`` NaN.

    Returns
    -------
    astropy.table.Table
        Columns ``ra``, ``dec``, ``mag``, ``mag_err`` and every other column of the file; rows
        without a finite position or magnitude are dropped. ``meta`` keeps the file's and adds
        ``path`` and ``MAGLIM`` (the file's, or None).

    Raises
    ------
    MissingFileError
        No such file.
    CatalogError
        A table without RA, Dec or magnitude column, or without a usable row.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "field.csv"
    ...     _ = path.write_text("RAJ2000,DEJ2000,rmag,e_rmag\\n339.75,33.9,15.2,0.01\\n339.76,33.91,,0.01\\n")
    ...     table = read_catalog(path)
    >>> table["ra", "dec", "mag", "mag_err"].colnames, len(table)
    (['ra', 'dec', 'mag', 'mag_err'], 1)
    """
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise MissingFileError(f"No catalogue file {path}: give the path of a table (ECSV, CSV, FITS) of your field.")
    try:
        table = Table.read(path, format="ascii.csv") if path.suffix.lower() == ".csv" else Table.read(path)
    except Exception as exc:
        raise CatalogError(f"{path} cannot be read as a table ({exc}): save it as ECSV, CSV or FITS.") from None
    names = {"ra": _column(table, _RA, ra, "ra", path), "dec": _column(table, _DEC, dec, "dec", path),
             "mag": _column(table, _MAG, mag, "mag", path)}
    missing = [key for key, name in names.items() if name is None]
    if missing:
        raise CatalogError(
            f"{path}: no {', '.join(missing)} column found (columns: {', '.join(table.colnames)}): name them with "
            "ra=, dec=, mag= (or --ra-column/--dec-column/--mag-column).")
    mag_name = names["mag"]
    if mag_err is None:
        candidates = [f"e_{mag_name}", f"{mag_name}_err", f"{mag_name}Err", f"{mag_name}_error", "mag_err"]
        lower = {n.lower(): n for n in table.colnames}
        mag_err = next((lower[c.lower()] for c in candidates if c.lower() in lower), None)
    elif mag_err not in table.colnames:
        raise CatalogError(f"{path}: no column {mag_err!r} (it has {', '.join(table.colnames)}).")
    out = Table(meta=dict(table.meta))
    out["ra"] = _degrees(table[names["ra"]], names["ra"], path)
    out["dec"] = _degrees(table[names["dec"]], names["dec"], path)
    out["mag"] = np.ma.filled(np.ma.asarray(table[mag_name], dtype=float), np.nan)
    out["mag_err"] = (np.ma.filled(np.ma.asarray(table[mag_err], dtype=float), np.nan) if mag_err
                      else np.full(len(table), np.nan))
    for name in table.colnames:
        if name not in (names["ra"], names["dec"], mag_name, mag_err) and name not in out.colnames:
            out[name] = table[name]
    good = np.isfinite(out["ra"]) & np.isfinite(out["dec"]) & np.isfinite(out["mag"])
    out = out[good]
    if len(out) == 0:
        raise CatalogError(f"{path} has no row with a finite position and magnitude.")
    if np.nanmax(np.abs(out["dec"])) > 90.0:
        raise CatalogError(f"{path}: declinations beyond 90 degrees: is the dec column in degrees?")
    for key in ("ra", "dec"):
        out[key].unit = "deg"
    out.meta["path"] = str(path)
    out.meta["MAGLIM"] = table.meta.get("MAGLIM", table.meta.get("maglim"))
    out.meta["columns"] = {"ra": names["ra"], "dec": names["dec"], "mag": mag_name, "mag_err": mag_err}
    return out


def match_to_catalog(ra, dec, catalog, max_separation: float = 1.5):
    """Pair each star with its nearest catalogue entry on the sky, within ``max_separation`` arcsec.

    Parameters
    ----------
    ra, dec : array-like
        The stars' positions (degrees), e.g. from the frame's WCS.
    catalog : astropy.table.Table
        A catalogue with ``ra`` and ``dec`` in degrees (:func:`read_catalog`).
    max_separation : float
        Largest separation of a match, arcseconds (a few times the astrometric errors).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        For each star: the row of its catalogue match (-1 when none), and the separation in
        arcsec (NaN when none). A catalogue entry is matched to one star at most (the nearest).

    Raises
    ------
    CatalogError
        Positions of different lengths, a catalogue without ra/dec, or a separation that is not positive.

    Examples
    --------
    >>> catalog = Table({"ra": [10.0, 10.01], "dec": [20.0, 20.0]})
    >>> index, separation = match_to_catalog([10.0001, 10.5], [20.0, 20.0], catalog)
    >>> index.tolist(), round(float(separation[0]), 2)
    ([0, -1], 0.34)
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    if ra.shape != dec.shape:
        raise CatalogError(f"ra ({ra.size}) and dec ({dec.size}) must give one position per star.")
    if not isinstance(catalog, Table) or "ra" not in catalog.colnames or "dec" not in catalog.colnames:
        raise CatalogError("The catalogue must be a table with ra and dec columns in degrees: use read_catalog(path).")
    if not (isinstance(max_separation, (int, float, np.number)) and max_separation > 0):
        raise CatalogError(f"max_separation must be a positive number of arcseconds; got {max_separation!r}.")
    index = np.full(ra.shape, -1, dtype=int)
    separation = np.full(ra.shape, np.nan)
    finite = np.isfinite(ra) & np.isfinite(dec)
    if not finite.any() or len(catalog) == 0:
        return index, separation
    stars = SkyCoord(ra[finite] * u.deg, dec[finite] * u.deg)
    reference = SkyCoord(np.asarray(catalog["ra"], float) * u.deg, np.asarray(catalog["dec"], float) * u.deg)
    nearest, distance, _ = stars.match_to_catalog_sky(reference)
    distance = distance.to_value(u.arcsec)
    rows = np.flatnonzero(finite)
    close = distance <= max_separation
    # One catalogue entry for one star: the nearest claims it.
    order = np.argsort(distance)
    taken = set()
    for k in order:
        if not close[k] or int(nearest[k]) in taken:
            continue
        taken.add(int(nearest[k]))
        index[rows[k]] = int(nearest[k])
        separation[rows[k]] = float(distance[k])
    return index, separation
