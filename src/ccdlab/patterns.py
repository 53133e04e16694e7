"""Matching two lists of points by their geometric pattern: triangles of neighbouring stars.

Two pictures of the same stars differ by a shift, a rotation, a scale and maybe a mirror flip,
and each list has stars the other lacks. The shape of a triangle of stars survives all of that:
its sides' ratios do not change. :func:`match_patterns` builds the triangles each star makes with
its nearest neighbours, in both lists, looks up triangles of the same shape (a k-d tree on the two
side ratios), turns every such pair of triangles into a candidate transformation, and keeps the one
that brings the most points of one list onto points of the other; it then refines it by least
squares on all the pairs it found. This is the idea behind astrometry.net's quads and astroalign's
triangles (Groth 1986; Valdes et al. 1995), kept small, deterministic (no random sampling: the
same input gives the same answer) and told what it knows: the expected scale, within a tolerance.

Points are ``(x, y)`` pairs, brightest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from ccdlab.errors import AstrometryError

__all__ = ["PatternMatch", "triangles", "similarity_transform", "apply_transform", "match_patterns"]


@dataclass
class PatternMatch:
    """The transformation found between two point lists, and the pairs it matches.

    Attributes
    ----------
    matrix : numpy.ndarray
        2 x 2 linear part: ``target = matrix @ source + offset``.
    offset : numpy.ndarray
        The shift (2,).
    scale, rotation : float
        The scale (target units per source unit) and the rotation (degrees).
    mirrored : bool
        True when one list is the mirror image of the other.
    pairs : numpy.ndarray
        ``(n, 2)`` indices ``(source index, target index)`` of the matched points.
    rms : float
        RMS distance of the matched pairs after the transformation (target units).

    Examples
    --------
    >>> m = PatternMatch(np.eye(2), np.zeros(2), 1.0, 0.0, False, np.array([[0, 0]]), 0.1)
    >>> m.scale, len(m.pairs)
    (1.0, 1)
    """

    matrix: np.ndarray
    offset: np.ndarray
    scale: float
    rotation: float
    mirrored: bool
    pairs: np.ndarray = field(repr=False)
    rms: float = 0.0


def _points(values, what: str) -> np.ndarray:
    try:
        points = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise AstrometryError(f"The {what} must be (x, y) pairs; got {type(values).__name__}.") from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise AstrometryError(f"The {what} must be an (n, 2) array of (x, y) pairs; got shape {points.shape}.")
    return points[np.all(np.isfinite(points), axis=1)]


def triangles(points, neighbours: int = 6):
    """The triangles each point makes with its nearest neighbours, and their shapes.

    Parameters
    ----------
    points : array-like
        ``(n, 2)`` positions.
    neighbours : int
        How many nearest neighbours of each point form triangles with it.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``vertices`` ``(m, 3)`` point indices ordered by the opposite side (shortest, middle,
        longest), ``shapes`` ``(m, 2)`` the side ratios ``(shortest/longest, middle/longest)``,
        and ``longest`` ``(m,)`` the longest side. Degenerate triangles (a side < 1e-9) are left out.

    Examples
    --------
    >>> vertices, shapes, longest = triangles([(0, 0), (3, 0), (0, 4)])
    >>> vertices.tolist(), shapes.round(2).tolist(), longest.tolist()
    ([[2, 1, 0]], [[0.6, 0.8]], [5.0])
    """
    from scipy.spatial import cKDTree

    points = _points(points, "points")
    n = len(points)
    if n < 3:
        return np.zeros((0, 3), int), np.zeros((0, 2)), np.zeros(0)
    k = min(n, int(neighbours) + 1)
    _, near = cKDTree(points).query(points, k=k)
    found = set()
    for i in range(n):
        for a, b in combinations(near[i][1:], 2):
            found.add(tuple(sorted((i, int(a), int(b)))))
    tri = np.array(sorted(found), dtype=int)
    p = points[tri]                                   # (m, 3, 2)
    # side opposite vertex j joins the other two
    sides = np.stack([np.hypot(*(p[:, 1] - p[:, 2]).T), np.hypot(*(p[:, 0] - p[:, 2]).T),
                      np.hypot(*(p[:, 0] - p[:, 1]).T)], axis=1)
    order = np.argsort(sides, axis=1, kind="stable")
    vertices = np.take_along_axis(tri, order, axis=1)
    sides = np.take_along_axis(sides, order, axis=1)
    good = sides[:, 0] > 1e-9
    shapes = np.column_stack([sides[:, 0] / sides[:, 2], sides[:, 1] / sides[:, 2]])
    return vertices[good], shapes[good], sides[good, 2]


def similarity_transform(source, target, mirrored: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares similarity (rotation, scale, shift; optionally a mirror) taking ``source`` onto ``target``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``matrix`` (2 x 2) and ``offset`` (2,) with ``target ~ source @ matrix.T + offset``.

    Examples
    --------
    >>> source = np.array([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    >>> matrix, offset = similarity_transform(source, 2 * source[:, ::-1] * [1, -1] + 5, mirrored=False)
    >>> matrix.round(6).tolist(), offset.round(6).tolist()
    ([[0.0, 2.0], [-2.0, 0.0]], [5.0, 5.0])
    """
    source = np.asarray(source, float)
    target = np.asarray(target, float)
    flip = np.array([[1.0, 0.0], [0.0, -1.0]]) if mirrored else np.eye(2)
    s = source @ flip.T
    s_mean, t_mean = s.mean(axis=0), target.mean(axis=0)
    sc, tc = s - s_mean, target - t_mean
    a = np.sum(sc[:, 0] * tc[:, 0] + sc[:, 1] * tc[:, 1])
    b = np.sum(sc[:, 0] * tc[:, 1] - sc[:, 1] * tc[:, 0])
    norm = np.sum(sc ** 2)
    if norm <= 0:
        raise AstrometryError("The points to match coincide: no transformation can be found.")
    c, d = a / norm, b / norm
    rotation = np.array([[c, -d], [d, c]])
    matrix = rotation @ flip
    offset = t_mean - s_mean @ rotation.T
    return matrix, offset


def apply_transform(points, matrix, offset) -> np.ndarray:
    """Apply ``target = matrix @ point + offset`` to ``(n, 2)`` points.

    Examples
    --------
    >>> apply_transform([(1.0, 2.0)], np.eye(2) * 2, np.array([1.0, 0.0])).tolist()
    [[3.0, 4.0]]
    """
    return np.asarray(points, float) @ np.asarray(matrix, float).T + np.asarray(offset, float)


def _describe(matrix) -> tuple[float, float, bool]:
    det = float(np.linalg.det(matrix))
    mirrored = det < 0
    m = matrix @ np.array([[1.0, 0.0], [0.0, -1.0]]) if mirrored else matrix
    return math.sqrt(abs(det)), math.degrees(math.atan2(m[1, 0], m[0, 0])), mirrored


def _pairs(moved, target, tree, tolerance):
    distance, nearest = tree.query(moved, distance_upper_bound=tolerance)
    found = np.isfinite(distance)
    # one target point for one source point: the nearer wins
    order = np.argsort(distance[found])
    src = np.flatnonzero(found)[order]
    dst = nearest[found][order]
    _, first = np.unique(dst, return_index=True)
    keep = np.sort(first)
    return np.column_stack([src[keep], dst[keep]]), distance[found][order][keep]


def match_patterns(source, target, scale: float = 1.0, scale_tolerance: float = 0.1, tolerance: float = 3.0,
                   neighbours: int = 6, shape_tolerance: float = 0.01, allow_mirror: bool = True,
                   min_matches: int = 6) -> PatternMatch:
    """Find the similarity transformation that lays ``source`` points onto ``target`` points.

    Parameters
    ----------
    source, target : array-like
        ``(n, 2)`` positions, brightest first (e.g. detected stars, and catalogue stars projected
        onto a plane). They need not be the same stars: each may have points the other lacks.
    scale : float
        The expected scale (target units per source unit), e.g. 1 when both are in pixels.
    scale_tolerance : float
        Relative tolerance on the scale (0.1: 10 %).
    tolerance : float
        A transformed source point within this distance (target units) of a target point matches it.
    neighbours : int
        Triangles are made of each point and two of its nearest ``neighbours``.
    shape_tolerance : float
        Two triangles have the same shape when their side ratios differ by less than this.
    allow_mirror : bool
        Also try mirror images (a camera read out flipped).
    min_matches : int
        Fewest matched points to accept a transformation.

    Returns
    -------
    PatternMatch

    Raises
    ------
    AstrometryError
        Fewer than 3 points in a list, or no transformation matching ``min_matches`` points.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> stars = rng.uniform(0, 500, (40, 2))
    >>> angle = np.radians(30.0)
    >>> turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    >>> seen = stars @ turn.T * 1.02 + [100.0, -40.0]
    >>> match = match_patterns(stars[:30], seen[5:], scale=1.0)
    >>> round(match.rotation, 2), round(match.scale, 3), len(match.pairs)
    (30.0, 1.02, 25)
    """
    from scipy.spatial import cKDTree

    source = _points(source, "source points")
    target = _points(target, "target points")
    if len(source) < 3 or len(target) < 3:
        raise AstrometryError(f"Pattern matching needs at least 3 points in each list; got {len(source)} and "
                              f"{len(target)}. Detect more stars, or widen the catalogue's area.")
    if not (scale > 0 and 0 <= scale_tolerance < 1 and tolerance > 0):
        raise AstrometryError("scale and tolerance must be positive, and scale_tolerance between 0 and 1.")
    s_vertices, s_shapes, s_longest = triangles(source, neighbours)
    t_vertices, t_shapes, t_longest = triangles(target, neighbours)
    if len(s_vertices) == 0 or len(t_vertices) == 0:
        raise AstrometryError("No triangle could be formed from the points: are they all in one place?")
    found = cKDTree(t_shapes).query_ball_point(s_shapes, r=shape_tolerance)
    candidates = [(i, j) for i, js in enumerate(found) for j in js
                  if abs(t_longest[j] / (s_longest[i] * scale) - 1.0) <= scale_tolerance]
    if not candidates:
        raise AstrometryError("No triangle of stars has a match of the same shape and scale: check the pixel "
                              "scale, and that the catalogue covers the frame (the pointing may be far off).")
    tree = cKDTree(target)
    best = None
    for i, j in candidates:
        src, dst = source[s_vertices[i]], target[t_vertices[j]]
        for mirrored in ((False, True) if allow_mirror else (False,)):
            matrix, offset = similarity_transform(src, dst, mirrored)
            residual = np.max(np.hypot(*(apply_transform(src, matrix, offset) - dst).T))
            if residual > tolerance:
                continue
            size = math.sqrt(abs(np.linalg.det(matrix)))
            if abs(size / scale - 1.0) > scale_tolerance:
                continue
            pairs, distance = _pairs(apply_transform(source, matrix, offset), target, tree, tolerance)
            score = (len(pairs), -float(np.sum(distance ** 2)))
            if best is None or score > best[0]:
                best = (score, matrix, offset, pairs)
    if best is None or best[0][0] < min_matches:
        got = 0 if best is None else best[0][0]
        raise AstrometryError(
            f"The star patterns do not match (the best transformation pairs {got} stars, {min_matches} are needed): "
            "check the pointing (RA/Dec), the pixel scale, and that the catalogue covers the field.")
    _, matrix, offset, pairs = best
    for _ in range(3):  # refine on every pair, then look for pairs again
        matrix, offset = similarity_transform(source[pairs[:, 0]], target[pairs[:, 1]], np.linalg.det(matrix) < 0)
        pairs, distance = _pairs(apply_transform(source, matrix, offset), target, tree, tolerance)
    size, rotation, mirrored = _describe(matrix)
    rms = float(np.sqrt(np.mean(distance ** 2))) if len(distance) else math.nan
    return PatternMatch(matrix, offset, size, rotation, mirrored, pairs, rms)
