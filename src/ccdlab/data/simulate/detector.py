"""The camera part of the synthetic night: bias structure, the flat field, and saturation.

Modelled on the GROWTH-India Telescope's Andor iKon-XL as the course's real frames show it:

- The bias is ~270 ADU with a fixed pattern of ~5 ADU RMS (column structure, a gradient across
  the chip, row structure and a glow in the first columns read out) and a few hot pixels; read
  noise (14 e-, 8.75 ADU at 1.6 e-/ADU) is added per frame by the caller. The pattern is strong
  enough that one frame's clipped std (~10 ADU) is clearly above the read noise that the
  difference of two frames measures (the pattern cancels there), as the course teaches.
- The flat field (the detector's response times the telescope's illumination) is the product of
  a circular vignetted field whose corners fall to ~0.25, a 1 % illumination tilt, two or three
  dust donuts (out-of-focus shadows of dust on the window or filter), faint diagonal banding,
  pixel-to-pixel response variation (0.8 % RMS) and one dark bad column near x = 700 of 4096
  (scaled with the frame width). It is normalised to a median of 1 in the illuminated centre.
- A pixel holds at most 96,000 electrons; the excess of a saturated star bleeds up and down its
  column, as in a real CCD.

Geometric features scale with the frame (the tiny and workshop sizes look like the full frame,
shrunk); read noise, PSF and cosmic rays stay in physical pixels.
"""

from __future__ import annotations

import math

import numpy as np

from ccdlab.errors import InputError

__all__ = [
    "BIAS_LEVEL",
    "FULL_WELL",
    "ILLUMINATED",
    "bad_column_x",
    "central_box",
    "bias_pattern",
    "vignetting",
    "dust_donuts",
    "flat_field",
    "bleed_saturation",
]

#: Mean bias offset (ADU).
BIAS_LEVEL = 270.0

#: The bias's fixed pattern (ADU): column-to-column and row-to-row RMS, the glow of the first
#: columns read out, and the gradient across the chip from edge to edge in x and in y.
_COLUMN_RMS, _ROW_RMS, _GLOW, _GRADIENT_X, _GRADIENT_Y = 3.5, 1.2, 8.0, 12.0, 6.0

#: Full well: the most electrons a pixel holds (the tutorial's saturation level).
FULL_WELL = 96000.0

#: The flat-field level below which a pixel counts as vignetted (the tutorial's mask).
ILLUMINATED = 0.8


def _check_shape(shape) -> tuple[int, int]:
    try:
        ny, nx = (int(v) for v in shape)
    except (TypeError, ValueError) as exc:
        raise InputError(f"shape must be (ny, nx); got {shape!r}.") from exc
    if ny < 16 or nx < 16:
        raise InputError(f"Simulated frames must be at least 16 x 16 pixels; got shape {shape}.")
    return ny, nx


def bad_column_x(nx: int) -> int:
    """Return the column of the dark bad column: x = 700 on the 4096-wide camera, scaled.

    Examples
    --------
    >>> bad_column_x(4096), bad_column_x(2048), bad_column_x(512)
    (700, 350, 87)
    """
    if nx < 16:
        raise InputError(f"Frames must be at least 16 pixels wide; got {nx}.")
    return int(700 * nx // 4096)


def central_box(shape: tuple[int, int]) -> tuple[slice, slice]:
    """Return the slices of the illuminated centre (the middle half in each direction).

    The true flat is normalised to a median of 1 over this box.

    Examples
    --------
    >>> central_box((514, 512))
    (slice(128, 386, None), slice(128, 384, None))
    """
    ny, nx = _check_shape(shape)
    return slice(ny // 4, ny - ny // 4), slice(nx // 4, nx - nx // 4)


def bias_pattern(
    shape: tuple[int, int],
    rng: np.random.Generator,
    level: float = BIAS_LEVEL,
    hot_per_megapixel: float = 2.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the noiseless bias (ADU, float32) and the positions of its hot pixels.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    rng : numpy.random.Generator
        The random stream.
    level : float
        Mean offset (ADU).
    hot_per_megapixel : float
        Hot pixels per million pixels (at least two are always placed).

    Returns
    -------
    bias : numpy.ndarray
        ``level`` plus the fixed pattern (about 5 ADU RMS in all): a column pattern (3.5 ADU RMS),
        a glow of 8 ADU fading over the first columns read out, a gradient across the chip
        (12 ADU from left to right, 6 ADU from bottom to top), row structure (1.2 ADU RMS), and
        hot pixels (300 to 1500 ADU above the level).
    hot : numpy.ndarray
        ``(n, 2)`` integer array of hot-pixel ``(x, y)`` positions.

    Examples
    --------
    >>> bias, hot = bias_pattern((64, 64), np.random.default_rng(0))
    >>> round(float(np.median(bias))), hot.shape[1]
    (270, 2)
    >>> bias, hot = bias_pattern((512, 512), np.random.default_rng(0))
    >>> bias[hot[:, 1], hot[:, 0]] = np.median(bias)
    >>> 4.5 < float(bias.std()) < 6.5  # a few ADU: one frame's std is well above the read noise alone
    True
    """
    ny, nx = _check_shape(shape)
    columns = rng.normal(0.0, _COLUMN_RMS, nx).astype(np.float32)
    # a glow in the first columns read out, as many CCDs show, and a gradient across the chip
    columns += (_GLOW * np.exp(-np.arange(nx) / max(nx / 200.0, 2.0))).astype(np.float32)
    columns += np.linspace(-_GRADIENT_X / 2, _GRADIENT_X / 2, nx, dtype=np.float32)
    rows = (rng.normal(0.0, _ROW_RMS, ny) + np.linspace(-_GRADIENT_Y / 2, _GRADIENT_Y / 2, ny)).astype(np.float32)
    bias = np.float32(level) + rows[:, None] + columns[None, :]
    n_hot = max(2, int(round(hot_per_megapixel * ny * nx / 1e6)))
    hx = rng.integers(0, nx, n_hot)
    hy = rng.integers(0, ny, n_hot)
    bias[hy, hx] += rng.uniform(300.0, 1500.0, n_hot).astype(np.float32)
    return bias, np.stack([hx, hy], axis=1)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def vignetting(
    shape: tuple[int, int],
    centre: tuple[float, float] | None = None,
    inner: float = 0.72,
    outer: float = 1.45,
    floor: float = 0.25,
) -> np.ndarray:
    """Return the circular illumination of the telescope (float32, 1 in the centre).

    The response is flat out to ``inner`` half-widths from ``centre``, then rolls off smoothly to
    ``floor`` at ``outer`` half-widths: the corners of the frame (about 1.4 half-widths out) fall
    far below 0.8, and the illuminated field (> 0.8) is a circle touching the frame's edges.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    centre : (float, float), optional
        ``(x, y)`` of the optical axis in pixels; by default slightly off the frame centre.
    inner, outer : float
        Radii (in half-widths, ``nx / 2``) where the roll-off starts and ends.
    floor : float
        Relative illumination beyond ``outer``.

    Examples
    --------
    >>> v = vignetting((512, 512))
    >>> round(float(v[256, 256]), 2), bool(v[0, 0] < 0.8)
    (1.0, True)
    """
    ny, nx = _check_shape(shape)
    if not 0 < inner < outer:
        raise InputError(f"Need 0 < inner < outer; got inner={inner}, outer={outer}.")
    if centre is None:
        centre = ((nx - 1) / 2.0 + 0.02 * nx, (ny - 1) / 2.0 - 0.015 * ny)
    half = nx / 2.0
    x = ((np.arange(nx, dtype=np.float32) - np.float32(centre[0])) / np.float32(half)) ** 2
    y = ((np.arange(ny, dtype=np.float32) - np.float32(centre[1])) / np.float32(half)) ** 2
    rho = np.sqrt(y[:, None] + x[None, :])
    roll = _smoothstep((rho - np.float32(inner)) / np.float32(outer - inner))
    return (1.0 - np.float32(1.0 - floor) * roll).astype(np.float32, copy=False)


def dust_donuts(shape: tuple[int, int], rng: np.random.Generator, count: int = 3) -> list[dict]:
    """Draw dust donuts: ring-shaped shadows inside the illuminated field.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    rng : numpy.random.Generator
        The random stream.
    count : int
        How many donuts (two or three look like the real camera).

    Returns
    -------
    list of dict
        Each with ``x``, ``y`` (centre, pixels), ``r_in``, ``r_out`` (pixels) and ``depth``
        (fractional dimming of the ring, 2 % to 6 %).

    Examples
    --------
    >>> [sorted(d) for d in dust_donuts((512, 512), np.random.default_rng(0), 1)]
    [['depth', 'r_in', 'r_out', 'x', 'y']]
    """
    ny, nx = _check_shape(shape)
    if count < 0:
        raise InputError(f"count must be zero or more; got {count}.")
    donuts = []
    r_out = max(14.0, 70.0 * nx / 4096.0)
    for _ in range(count):
        angle = rng.uniform(0.0, 2.0 * math.pi)
        radius = rng.uniform(0.15, 0.6) * nx / 2.0
        outer = float(r_out * rng.uniform(0.8, 1.2))
        donuts.append(
            {
                "x": float((nx - 1) / 2.0 + radius * math.cos(angle)),
                "y": float((ny - 1) / 2.0 + radius * math.sin(angle)),
                "r_out": outer,
                "r_in": float(outer * 0.45),
                "depth": float(rng.uniform(0.02, 0.06)),
            }
        )
    return donuts


def _apply_donut(flat: np.ndarray, donut: dict) -> None:
    ny, nx = flat.shape
    pad = donut["r_out"] + 4.0
    x0, x1 = max(int(donut["x"] - pad), 0), min(int(donut["x"] + pad) + 1, nx)
    y0, y1 = max(int(donut["y"] - pad), 0), min(int(donut["y"] + pad) + 1, ny)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1, dtype=np.float32) - np.float32(donut["x"])
    dy = np.arange(y0, y1, dtype=np.float32) - np.float32(donut["y"])
    r = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2)
    edge = np.float32(max(1.0, 0.06 * donut["r_out"]))
    outside_in = 1.0 / (1.0 + np.exp((r - np.float32(donut["r_out"])) / edge))  # 1 inside r_out
    inside_hole = 1.0 / (1.0 + np.exp((np.float32(donut["r_in"]) - r) / edge))  # 1 outside r_in
    ring = outside_in * inside_hole
    hole = outside_in * (1.0 - inside_hole)
    depth = np.float32(donut["depth"])
    flat[y0:y1, x0:x1] *= 1.0 - depth * ring - np.float32(0.3) * depth * hole


def flat_field(shape: tuple[int, int], rng: np.random.Generator, n_donuts: int = 3) -> tuple[np.ndarray, dict]:
    """Return the true flat field (float32, median 1 in the illuminated centre) and its recipe.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    rng : numpy.random.Generator
        The random stream.
    n_donuts : int
        Number of dust donuts.

    Returns
    -------
    flat : numpy.ndarray
        Vignetting x tilt x dust donuts x diagonal banding x pixel response x bad column.
    info : dict
        The recipe: ``vignetting_centre``, ``donuts``, ``banding`` (amplitude, period, angle),
        ``prnu_rms``, ``bad_column`` (x, response) and ``normalisation`` (the central box).

    Examples
    --------
    >>> flat, info = flat_field((128, 128), np.random.default_rng(0))
    >>> round(float(np.median(flat[32:96, 32:96])), 3), info["bad_column"]["x"]
    (1.0, 21)
    """
    ny, nx = _check_shape(shape)
    centre = ((nx - 1) / 2.0 + 0.02 * nx, (ny - 1) / 2.0 - 0.015 * ny)
    flat = vignetting(shape, centre)
    # 1 % illumination tilt across the field
    tilt = 1.0 + np.float32(0.01) * (np.arange(nx, dtype=np.float32) / np.float32(nx) - 0.5)
    flat *= tilt[None, :]
    donuts = dust_donuts(shape, rng, n_donuts)
    for donut in donuts:
        _apply_donut(flat, donut)
    # faint diagonal banding: sin(a x + b y) = sin(a x) cos(b y) + cos(a x) sin(b y), separable
    amplitude, period, angle = 0.004, nx / 12.0, 35.0
    k = 2.0 * math.pi / period
    a, b = k * math.cos(math.radians(angle)), k * math.sin(math.radians(angle))
    ax = np.arange(nx, dtype=np.float32) * np.float32(a)
    by = np.arange(ny, dtype=np.float32) * np.float32(b)
    banding = np.sin(by)[:, None] * np.cos(ax)[None, :] + np.cos(by)[:, None] * np.sin(ax)[None, :]
    flat *= 1.0 + np.float32(amplitude) * banding
    prnu = 0.008
    flat *= 1.0 + np.float32(prnu) * rng.standard_normal((ny, nx), dtype=np.float32)
    x_bad, response = bad_column_x(nx), 0.55
    flat[:, x_bad] *= np.float32(response)
    box = central_box(shape)
    flat /= np.float32(np.median(flat[box]))
    info = {
        "vignetting_centre": [float(centre[0]), float(centre[1])],
        "donuts": donuts,
        "banding": {"amplitude": amplitude, "period": period, "angle_deg": angle},
        "prnu_rms": prnu,
        "bad_column": {"x": x_bad, "response": response},
        "normalisation": {"rows": [box[0].start, box[0].stop], "columns": [box[1].start, box[1].stop]},
        "illuminated_threshold": ILLUMINATED,
    }
    return flat, info


def bleed_saturation(image: np.ndarray, full_well: float = FULL_WELL) -> np.ndarray:
    """Cap pixels at the full well, spreading each saturated run's excess up and down its column.

    Charge is conserved: each run of over-full pixels grows up and down the column, taking in
    the charge its new pixels held, until it can hold everything at ``full_well``, as the
    bleeding trail of a saturated star does.

    Parameters
    ----------
    image : numpy.ndarray
        2-D float array (electrons), modified in place.
    full_well : float
        Most electrons a pixel holds.

    Returns
    -------
    numpy.ndarray
        ``image`` itself; afterwards no pixel exceeds ``full_well``.

    Examples
    --------
    >>> img = np.zeros((9, 1), dtype=np.float32)
    >>> img[4, 0] = 3.0
    >>> bleed_saturation(img, full_well=1.0)[:, 0].tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    if image.ndim != 2:
        raise InputError(f"bleed_saturation needs a 2-D image; got shape {image.shape}.")
    if not full_well > 0:
        raise InputError(f"full_well must be positive; got {full_well}.")
    fw = np.float32(full_well)
    over_columns = np.flatnonzero((image > fw).any(axis=0))
    ny = image.shape[0]
    for c in over_columns:
        column = image[:, c]
        over = column > fw
        edges = np.flatnonzero(np.diff(np.concatenate(([0], over.view(np.int8), [0]))))
        for start, stop in zip(edges[::2], edges[1::2]):
            lo, hi = int(start), int(stop)
            charge = float(column[lo:hi].sum(dtype=np.float64))
            last = None
            # grow the run alternately down and up, collecting what those pixels hold, until
            # it can hold all the charge at full well
            while charge > float(fw) * (hi - lo) and (lo > 0 or hi < ny):
                if (hi - lo) % 2 == 0 and lo > 0 or hi >= ny:
                    lo -= 1
                    last = lo
                else:
                    last = hi
                    hi += 1
                charge += float(column[last])
            column[lo:hi] = fw
            if last is not None:
                column[last] = min(float(fw), charge - float(fw) * (hi - lo - 1))
        np.minimum(column, fw, out=column)
    return image
