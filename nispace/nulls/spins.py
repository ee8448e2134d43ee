"""Spin tests: null maps from random rotations of the cortical sphere.

A cortical map is carried to the template sphere (parcel centroids or vertices),
the sphere is rotated at random and every parcel takes the value that the rotation
brings to it. Rotations keep the map's spatial autocorrelation intact, which is
what a null model for the correlation of two brain maps needs
(Alexander-Bloch et al. 2018). The left hemisphere gets a uniformly random
rotation; the right hemisphere gets the same rotation mirrored across the
midsagittal (Y-Z) plane, so both hemispheres turn alike.

Parcel-level spins (:func:`spin_permutations`) differ in how rotated centroids are
matched back to parcels:

=============  ==================================================  ==================
``method``     matching                                            result
=============  ==================================================  ==================
``original``   nearest rotated centroid (Alexander-Bloch 2018)     parcels may repeat
``vasa``       greedy one-to-one: the parcel whose nearest free    permutation
               centroid is farthest chooses first (Váša 2018)
``hungarian``  one-to-one, minimum total distance                  permutation
               (Markello & Misic 2021)
=============  ==================================================  ==================

Vertex-level spins rotate the vertices of the template sphere and parcellate the
rotated map again: :func:`baum` gives each parcel the value of the parcel that
covers most of it after the rotation (Baum et al. 2020); :func:`cornblath` projects
the parcel values to the vertices and averages the rotated vertex values over each
parcel (Cornblath et al. 2020).

Arrays: ``coords`` (n_parcels, 3) centroids on the sphere, ``hemiid`` (n_parcels,)
with 0 = left and 1 = right; index nulls ``idx`` (n_perm, n_parcels) with
``null = data[idx]`` and -1 meaning "no parcel" (NaN); nulls (n_perm, n_parcels).
NaN parcels of the input stay NaN in every null.

Compatibility with neuromaps
----------------------------
With ``compat=True`` rotations are drawn exactly as netneurotools 0.2 / neuromaps
0.0.7 draw them (a :class:`numpy.random.RandomState`, one Gaussian 3x3 matrix per
rotation), rejected resamplings are drawn again from the same stream, and near-ties
between rotated centroids are settled with the same k-d tree query, so
``spin_permutations(coords, hemiid, n, seed, method=m, compat=True)`` equals
``neuromaps.nulls.spins.gen_spinsamples(coords, hemiid, n_rotate=n, seed=seed,
method=m).T`` element for element.

Speed
-----
When numba is importable, the matching runs in compiled loops
(:mod:`nispace.nulls._spin_kernels`), in threads: the nearest rotated centroid or
vertex is looked up among the few candidates of a grid cell instead of among all
points, Váša's greedy steps update row minima in place, and the assignment problem
is solved by shortest augmenting paths started from reduced duals. Without numba
the NumPy matchers run. Both return the same indices (checked in the tests, and
against neuromaps in compat mode); set ``nispace.nulls.spins.USE_COMPILED = False``
to force the NumPy path.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Literal

import numpy as np

from .._errors import check_option
from .._random import as_generator
from ..errors import InputError, InputTypeError
from ._base import gather
from .shuffle import check_data, check_n_perm


def cKDTree(*args, **kwargs):  # noqa: N802 - scipy's name
    """``scipy.spatial.cKDTree``, imported on first use (importing scipy.spatial takes
    ~0.3 s, which analyses without spins should not pay)."""
    from scipy.spatial import cKDTree as tree

    return tree(*args, **kwargs)


__all__ = ["SPIN_MATCHING", "rotation_matrices", "spin_permutations", "alexander_bloch",
           "vasa", "hungarian", "vertex_spin_indices", "baum", "cornblath"]

#: Ways to match rotated centroids to parcels (``method`` of :func:`spin_permutations`).
SPIN_MATCHING = ("original", "vasa", "hungarian")

#: Draws allowed for one rotation before a duplicate resampling is accepted (neuromaps).
_MAX_TRIES = 500
#: Mirror across the midsagittal (Y-Z) plane, as a diagonal.
_FLIP_X = np.array([-1.0, 1.0, 1.0])
#: Entries of one (rotations, parcels, parcels) distance block handled at once, on one
#: thread and on several (nearest: larger blocks keep threads from contending).
_BLOCK_NEAREST = (2**18, 2**20)
_BLOCK_VASA = (2**22, 2**22)  # the greedy steps run on all rotations of a block together
_BLOCK_HUNGARIAN = (2**20, 2**20)  # one assignment problem per rotation
#: Candidate resamplings held in memory at once (rows x parcels).
_CANDIDATE_ENTRIES = 2**22
#: Gap (relative to the largest squared radius) below which the single-precision
#: distances of the two nearest rotated centroids are checked in double precision.
_TIE_RTOL = 1e-5


# --------------------------------------------------------------------------------------
# rotations
# --------------------------------------------------------------------------------------

def _rotation_source(seed, compat: bool):
    """The random stream rotations are drawn from: a Generator, or a RandomState (compat)."""
    if not compat:
        return as_generator(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(seed)
    raise InputTypeError(f"seed: with compat=True expected None, an int or a numpy RandomState "
                         f"(neuromaps' random stream); got {type(seed).__name__}.")


def _draw_rotations(source, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (left, right) rotation pairs from ``source``; continues its stream."""
    if isinstance(source, np.random.RandomState):
        gauss = source.normal(size=(n, 3, 3))
    else:
        gauss = source.standard_normal((n, 3, 3))
    # QR of a Gaussian matrix, columns signed by diag(R): uniform on O(3) (Mezzadri 2007);
    # negating the first column of the improper ones maps O(3) \ SO(3) onto SO(3)
    q, r = np.linalg.qr(gauss)
    q *= np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    right = q * _FLIP_X[None, :, None] * _FLIP_X[None, None, :]  # F @ q @ F
    return q, right


def rotation_matrices(n_perm: int, seed=None, *, compat: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Uniformly random rotations of the sphere, mirrored for the right hemisphere.

    Parameters
    ----------
    n_perm : int
        Number of rotations.
    seed : None, int, SeedSequence or Generator
        Random seed (see :func:`nispace._random.as_generator`). With ``compat=True``:
        None, an int or a :class:`numpy.random.RandomState`.
    compat : bool
        Draw the sequence that netneurotools 0.2 / neuromaps 0.0.7
        (``neuromaps.nulls.spins._gen_rotation``) draws from
        ``numpy.random.RandomState(seed)``, one rotation after the other.

    Returns
    -------
    left : (n_perm, 3, 3) np.ndarray
        Rotations for the left hemisphere, uniform on SO(3): ``Q`` of the QR
        decomposition of a standard Gaussian matrix, with columns signed so that
        ``diag(R) > 0`` and the first column negated when ``det(Q) = -1``.
    right : (n_perm, 3, 3) np.ndarray
        ``F @ left @ F`` with ``F = diag(-1, 1, 1)``: the left rotation reflected
        across the midsagittal (Y-Z) plane.

    Notes
    -----
    Coordinates are row vectors and are rotated as ``coords @ left[i]``.

    References
    ----------
    Mezzadri, F. (2007). How to generate random matrices from the classical compact
    groups. Notices of the AMS, 54(5), 592-604. https://arxiv.org/abs/math-ph/0609050
    """
    return _draw_rotations(_rotation_source(seed, compat), check_n_perm(n_perm))


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------

def _check_coords(coords, name: str = "coords") -> np.ndarray:
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{name}: expected an array of shape (n, 3) with sphere coordinates; "
                         f"got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: expected finite coordinates; got "
                         f"{int((~np.isfinite(arr)).sum())} non-finite value(s).")
    return arr


def _check_hemiid(hemiid, n: int) -> np.ndarray:
    """``hemiid`` as int8 0/1 (accepts 0/1, booleans and "L"/"R")."""
    arr = np.asarray(hemiid)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"hemiid: expected a 1-D array of {n} values (one per parcel of "
                         f"coords); got shape {arr.shape}.")
    if arr.dtype.kind in "USO":
        text = np.char.upper(arr.astype(str))
        bad = ~np.isin(text, ["L", "R"])
        if bad.any():
            raise InputError(f"hemiid: expected 0/1 or 'L'/'R'; got {sorted(set(arr[bad]))}.")
        return (text == "R").astype(np.int8)
    if arr.size and not np.isin(arr, [0, 1]).all():
        raise InputError(f"hemiid: expected 0 (left) or 1 (right); got values "
                         f"{np.unique(arr).tolist()}.")
    return arr.astype(np.int8)


def _check_rotations(rotations) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(rotations, (tuple, list)) or len(rotations) != 2:
        raise InputError("rotations: expected a pair (left, right) of (n_perm, 3, 3) arrays; "
                         f"got {type(rotations).__name__}.")
    left, right = (np.asarray(r, dtype=np.float64) for r in rotations)
    if left.ndim != 3 or left.shape[1:] != (3, 3) or left.shape != right.shape:
        raise InputError(f"rotations: expected left and right of the same shape (n_perm, 3, 3); "
                         f"got {left.shape} and {right.shape}.")
    eye = np.eye(3)
    for side, rot in (("left", left), ("right", right)):
        if not np.allclose(rot.transpose(0, 2, 1) @ rot, eye, atol=1e-6):
            raise InputError(f"rotations: expected orthonormal {side} matrices (R.T @ R = I).")
    return left, right


def _n_threads(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) \
            or not (workers == -1 or workers >= 1):
        raise InputError(f"workers: expected a positive integer or -1 (all cores); got "
                         f"{workers!r}.")
    return (os.cpu_count() or 1) if workers == -1 else int(workers)


def _run_threads(fn, tasks: list, workers: int) -> None:
    """Run ``fn(task)`` for every task, on ``workers`` threads (results do not depend on it).

    A few tasks run in this thread: starting a pool would cost more than it saves.
    """
    n = _n_threads(workers)
    if n <= 1 or len(tasks) < 2 * n:
        for task in tasks:
            fn(task)
        return
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(fn, tasks))


# --------------------------------------------------------------------------------------
# matching rotated centroids to parcels, one hemisphere, a block of rotations
# --------------------------------------------------------------------------------------

class _Nearest:
    """Nearest rotated centroid, for blocks of rotations of one hemisphere's centroids.

    One single-precision matrix product gives ``|b_j|^2 - 2 a_i.b_j`` (the squared
    distance minus a per-row constant) for all rotations of a block, and its argmin
    is the match. Queries whose two nearest rotated centroids are too close for
    single precision to tell apart are recomputed in double precision, and exact
    ties go to a k-d tree on the rotated centroids (the query neuromaps runs), so
    every mode returns the exact nearest neighbour with neuromaps' tie-breaking.
    """

    def __init__(self, coor: np.ndarray):
        self.coor = coor
        self.sq_norm = np.einsum("ij,ij->i", coor, coor)
        self.a_aug = np.empty((coor.shape[0], 4), dtype=np.float32)
        self.a_aug[:, :3], self.a_aug[:, 3] = coor, 1.0
        scale = self.sq_norm.max()
        # single precision errs by < 2e-6 |x|^2 on the difference of two entries
        self.tol_single, self.tol_double = _TIE_RTOL * scale, 1e-9 * scale

    def __call__(self, rots: np.ndarray) -> np.ndarray:
        """Index of the nearest rotated centroid, (k, n), for rotations (k, 3, 3)."""
        coor = self.coor
        rotated = coor @ rots                                       # (k, n, 3)
        k, n = rotated.shape[:2]
        b_aug = np.empty((4, k, n), dtype=np.float32)
        np.multiply(rotated.transpose(2, 0, 1), -2.0, out=b_aug[:3])
        b_aug[3] = self.sq_norm
        dist = self.a_aug @ b_aug.reshape(4, k * n)  # row i, column r * n + j
        flat = dist.reshape(-1)
        col = dist.reshape(n * k, n).argmin(axis=-1)
        at = np.arange(0, n * k * n, n) + col
        best = flat.take(at)
        flat.put(at, np.inf)
        at = np.arange(0, n * k * n, n) + dist.reshape(n * k, n).argmin(axis=-1)
        near = flat.take(at) - best <= self.tol_single
        col = col.reshape(n, k).T.copy()
        near_i, near_r = np.divmod(np.flatnonzero(near), k)
        self.settle(rotated, col, near_r, near_i)
        return col

    def settle(self, rotated: np.ndarray, col: np.ndarray, near_r: np.ndarray,
               near_i: np.ndarray) -> None:
        """Set ``col[near_r, near_i]`` in double precision, exact ties by k-d tree."""
        if near_r.size == 0:
            return
        coor = self.coor
        diff = rotated[near_r] - coor[near_i, None, :]
        sq = np.einsum("mjc,mjc->mj", diff, diff)
        first = sq.argmin(axis=-1)
        m = np.arange(first.size)
        gap = -sq[m, first]
        sq[m, first] = np.inf
        gap += sq.min(axis=-1)
        col[near_r, near_i] = first
        tie = gap <= self.tol_double
        for r in np.unique(near_r[tie]):
            sel = near_i[tie & (near_r == r)]
            col[r, sel] = cKDTree(rotated[r]).query(coor[sel])[1]


#: Largest grid of :class:`_CellCandidates` (cells; the lookup table holds int32), and
#: most cells given a candidate list (more: no grid, the plain search runs).
_MAX_CELLS = 2**23
_MAX_LISTED = 2**20


class _CellCandidates:
    """A grid over a point set with, per cell, the points that can be nearest to it.

    Cells are cubes of side ``h`` (half the median nearest-neighbour distance); a
    cell with centre ``z`` and half-diagonal ``rho`` lists every point within
    ``d(z) + 2 rho + margin`` of ``z``, ``d(z)`` being the distance from ``z`` to its
    nearest point. By the triangle inequality that list holds the nearest point of
    every location in the cell, and every point left out is more than ``margin``
    farther than the nearest. Only cells that reach the shell of the points' norms
    get a list (queries are rotated points, whose norms do not change); others, and
    cells with more than ``max_candidates`` points, are marked -1 and their queries
    are answered by the caller. ``cand`` is None when more than ``_MAX_LISTED``
    cells would need a list (points far from lying on a sphere): use no grid.
    """

    def __init__(self, pts: np.ndarray, margin: float, max_candidates: int = 16):
        tree = cKDTree(pts)
        n = pts.shape[0]
        spacing = np.median(tree.query(pts, k=2)[0][:, 1]) if n > 1 else 1.0
        extent = float((pts.max(axis=0) - pts.min(axis=0)).max())
        # at most _MAX_CELLS cells, whatever the spread of the points
        h = max(0.5 * spacing, extent / (_MAX_CELLS ** (1 / 3) - 6),
                1e-9 * max(1.0, float(np.abs(pts).max())))
        rho = h * np.sqrt(3) / 2
        self.lo = pts.min(axis=0) - 2 * h
        self.dims = np.ceil((pts.max(axis=0) + 2 * h - self.lo) / h).astype(np.int64)
        self.inv_h = 1.0 / h
        axes = [self.lo[a] + h * (np.arange(self.dims[a]) + 0.5) for a in range(3)]
        c_sq = (axes[0][:, None, None]**2 + axes[1][None, :, None]**2
                + axes[2][None, None, :]**2).reshape(-1)
        norms = np.linalg.norm(pts, axis=1)
        low, high = max(norms.min() - rho - margin, 0.0), norms.max() + rho + margin
        keep = np.flatnonzero((c_sq >= low * low) & (c_sq <= high * high))
        self.cand = None
        if keep.size > _MAX_LISTED:  # points far from a sphere: the grid would not pay
            return
        centres = np.stack([axes[a][i] for a, i in
                            enumerate(np.unravel_index(keep, tuple(self.dims)))], axis=1)
        k = min(max_candidates, n)
        dist, idx = tree.query(centres, k=k)
        dist, idx = dist.reshape(keep.size, k), idx.reshape(keep.size, k)
        inside = dist <= dist[:, :1] + (2 * rho + margin)
        full = inside[:, -1] if k < n else np.zeros(keep.size, dtype=bool)
        self.lookup = np.full(c_sq.size, -1, dtype=np.int32)
        self.lookup[keep[~full]] = np.arange(keep.size, dtype=np.int32)[~full]
        self.cand = np.where(inside, idx, -1).astype(np.int32)

    def args(self) -> tuple:
        return self.lo, self.inv_h, self.dims, self.lookup, self.cand


class _NearestGrid(_Nearest):
    """:class:`_Nearest` on the compiled grid lookup: the same answers, fewer distances."""

    def __init__(self, coor: np.ndarray, kernels):
        super().__init__(coor)
        # left-out points are farther by > margin, i.e. > tol_double in squared distance
        margin = 1e-3 * np.sqrt(self.sq_norm.max())
        self.grid, self.kernel = _CellCandidates(coor, margin), kernels.nearest_block

    def __call__(self, rots: np.ndarray) -> np.ndarray:
        if self.grid.cand is None:
            return super().__call__(rots)
        rotated = self.coor @ rots
        col = np.empty(rotated.shape[:2], dtype=np.intp)
        self.kernel(self.coor, rotated, rots, *self.grid.args(), self.tol_double, col)
        near_r, near_i = np.nonzero(col < 0)
        self.settle(rotated, col, near_r, near_i)
        return col


def _pair_distances(coor: np.ndarray, rotated: np.ndarray) -> np.ndarray:
    """``dist[r, i, j] = |rotated[r, j] - coor[i]|``, (k, n, n).

    Summed axis by axis in the order ``scipy.spatial.distance_matrix`` uses, so the
    values (and hence greedy and optimal assignments) are the same bit for bit. One
    rotation at a time, on coordinates laid out axis by axis: the (n, n) temporaries
    stay in the processor cache, which makes this several times faster than one
    pass over the whole block.
    """
    k, n = rotated.shape[:2]
    rot_t = np.ascontiguousarray(rotated.transpose(0, 2, 1))           # (k, 3, n)
    coor_t = np.ascontiguousarray(coor.T)[:, :, None]                   # (3, n, 1)
    out = np.empty((k, n, n))
    tmp = np.empty((n, n))
    for r in range(k):
        acc = out[r]
        np.subtract(rot_t[r, 0], coor_t[0], out=acc)
        np.multiply(acc, acc, out=acc)
        for ax in (1, 2):
            np.subtract(rot_t[r, ax], coor_t[ax], out=tmp)
            np.multiply(tmp, tmp, out=tmp)
            np.add(acc, tmp, out=acc)
        np.sqrt(acc, out=acc)
    return out


def _match_vasa(coor: np.ndarray, rots: np.ndarray) -> np.ndarray:
    """Greedy one-to-one matching of Váša et al. (2018) for a block of rotations, (k, n).

    At every step the unassigned parcel whose nearest free rotated centroid is the
    farthest takes that centroid. Row minima are kept up to date instead of being
    recomputed (only rows whose nearest centroid was just taken look again, over
    the free columns), and all rotations of the block advance together.
    """
    dist = _pair_distances(coor, coor @ rots)
    k, n, _ = dist.shape
    ar = np.arange(k)
    nearest = dist.argmin(axis=-1)                                      # (k, n)
    nearest_d = np.take_along_axis(dist, nearest[..., None], -1)[..., 0]
    free = np.ones((k, n), dtype=bool)
    col = np.empty((k, n), dtype=np.intp)
    for _ in range(n):
        row = nearest_d.argmax(axis=-1)  # ties: the first row, as neuromaps' argmax
        taken = nearest[ar, row]
        col[ar, row] = taken
        nearest_d[ar, row] = -np.inf
        free[ar, taken] = False
        # assigned rows hold their own (taken) column, so only free rows can hit
        hit = nearest == taken[:, None]
        hit[ar, row] = False
        rk, rr = np.nonzero(hit)
        if rk.size:
            sub = np.where(free[rk], dist[rk, rr], np.inf)
            new = sub.argmin(axis=-1)
            nearest[rk, rr] = new
            nearest_d[rk, rr] = sub[np.arange(rk.size), new]
    return col


def _match_hungarian(coor: np.ndarray, rots: np.ndarray) -> np.ndarray:
    """Minimum-total-distance matching (``scipy.optimize.linear_sum_assignment``), (k, n)."""
    from scipy.optimize import linear_sum_assignment

    dist = _pair_distances(coor, coor @ rots)
    return np.stack([linear_sum_assignment(d)[1] for d in dist])


#: method -> (matcher factory for one hemisphere's centroids, block sizes)
_MATCHERS = {"original": (_Nearest, _BLOCK_NEAREST),
             "vasa": (lambda coor: partial(_match_vasa, coor), _BLOCK_VASA),
             "hungarian": (lambda coor: partial(_match_hungarian, coor), _BLOCK_HUNGARIAN)}

#: Use the compiled kernels of :mod:`._spin_kernels` when numba is importable (same
#: output as the NumPy matchers; tests switch this off to compare the two).
USE_COMPILED = True
#: Entries (rotations x parcels x parcels) per task of a compiled kernel.
_BLOCK_COMPILED = (2**21, 2**19)
_KERNELS: list = []


def _compiled_kernels():
    """The module of compiled kernels, or None without numba (imported once, lazily)."""
    if not USE_COMPILED:
        return None
    if not _KERNELS:
        try:
            from . import _spin_kernels
        except ImportError:
            _spin_kernels = None
        _KERNELS.append(_spin_kernels)
    return _KERNELS[0]


def _compiled_matcher(kernel, coor: np.ndarray):
    """A matcher running ``kernel(coor, rotated, out)`` on a block of rotations."""
    def match(rots: np.ndarray) -> np.ndarray:
        out = np.empty((rots.shape[0], coor.shape[0]), dtype=np.intp)
        kernel(coor, coor @ rots, out)
        return out
    return match


def _matcher(method: str, workers: int):
    """(matcher factory, entries per block) for ``method``, compiled when possible."""
    kernels = _compiled_kernels()
    if kernels is not None and method == "original":
        return partial(_NearestGrid, kernels=kernels), _BLOCK_COMPILED[_n_threads(workers) > 1]
    if kernels is not None:
        kernel = kernels.vasa_block if method == "vasa" else kernels.lap_block
        return partial(_compiled_matcher, kernel), _BLOCK_COMPILED[_n_threads(workers) > 1]
    factory, blocks = _MATCHERS[method]
    return factory, blocks[_n_threads(workers) > 1]


def _resample(coords, hemi, left, right, method: str, workers: int) -> np.ndarray:
    """Resampling indices (k, n_parcels) for the rotation pairs ``left``, ``right``."""
    factory, block = _matcher(method, workers)
    k = left.shape[0]
    out = np.empty((k, coords.shape[0]), dtype=np.intp)
    tasks, hemis = [], []
    for h, rots in enumerate((left, right)):
        hidx = np.flatnonzero(hemi == h)
        if hidx.size == 0:
            continue
        match, local = factory(coords[hidx]), np.empty((k, hidx.size), dtype=np.intp)
        hemis.append((hidx, local))
        step = max(1, block // hidx.size**2)
        tasks += [(match, local, rots, s, min(s + step, k)) for s in range(0, k, step)]

    def run(task):
        match, local, rots, start, stop = task
        local[start:stop] = match(rots[start:stop])

    from threadpoolctl import threadpool_limits

    # many small products: BLAS threads would only wait for each other (and for ours)
    with threadpool_limits(limits=1, user_api="blas"):
        _run_threads(run, tasks, workers)
    for hidx, local in hemis:
        if hidx[-1] - hidx[0] + 1 == hidx.size:  # a contiguous block of parcels
            np.add(local, hidx[0], out=out[:, hidx[0]:hidx[-1] + 1])
        else:
            out[:, hidx] = hidx[local]
    return out


def _accept_resamplings(draw, resample, n_perm: int, n: int, check_duplicates: bool
                        ) -> np.ndarray:
    """Fill ``n_perm`` rows with candidate resamplings, skipping duplicates.

    A candidate equal to the identity or to an accepted row is rejected and the
    next rotation of the stream is tried, up to ``_MAX_TRIES`` tries per row, after
    which the duplicate is kept with a warning: the decision neuromaps makes by
    comparing every candidate with every accepted row, made here by looking the
    candidate's hash up among the accepted rows' hashes (rows with the same hash
    are compared in full). Candidates are drawn in blocks no larger than the rows
    still missing, so a seeded stream is consumed exactly as drawing one rotation
    at a time consumes it.
    """
    out = np.empty((n_perm, n), dtype=np.intp)
    identity = np.arange(n, dtype=np.intp)
    by_key: dict[int, list[int]] = {}
    filled, tries, warned = 0, 0, False
    max_rows = max(1, _CANDIDATE_ENTRIES // max(n, 1))
    while filled < n_perm:
        candidates = resample(*draw(min(n_perm - filled, max_rows)))
        if not check_duplicates:
            out[filled:filled + candidates.shape[0]] = candidates
            filled += candidates.shape[0]
            continue
        keys = [hash(row.tobytes()) for row in candidates]
        unmoved = (candidates == identity).all(axis=1).tolist()
        if not any(unmoved) and len(set(keys)) == len(keys) and by_key.keys().isdisjoint(keys):
            out[filled:filled + len(keys)] = candidates  # the usual case: all new
            by_key.update((key, [filled + pos]) for pos, key in enumerate(keys))
            filled, tries = filled + len(keys), 0
            continue
        for pos, (key, is_identity) in enumerate(zip(keys, unmoved)):
            tries += 1
            duplicate = is_identity or any(np.array_equal(candidates[pos], out[j])
                                           for j in by_key.get(key, ()))
            if duplicate and tries < _MAX_TRIES:
                continue
            if duplicate and not warned:
                warnings.warn(f"spin_permutations: no new resampling after {_MAX_TRIES} "
                              f"rotations; duplicate resamplings are used. Count the unique "
                              f"rows of the result before trusting its p-values.",
                              RuntimeWarning, stacklevel=3)
                warned = True
            by_key.setdefault(key, []).append(filled)
            out[filled], filled, tries = candidates[pos], filled + 1, 0
    return out


# --------------------------------------------------------------------------------------
# parcel-level spins
# --------------------------------------------------------------------------------------

def spin_permutations(coords, hemiid, n_perm: int = 1000, seed=None, *,
                      method: Literal["original", "vasa", "hungarian"] = "original",
                      rotations: tuple[np.ndarray, np.ndarray] | None = None,
                      compat: bool = False, check_duplicates: bool = True,
                      workers: int = -1) -> np.ndarray:
    """Resampling indices of parcels under random rotations of the sphere.

    For every rotation and hemisphere, parcel ``i`` receives the parcel ``j`` of the
    same hemisphere whose *rotated* centroid lies nearest to centroid ``i``
    (``method="original"``), or is matched one-to-one (``"vasa"``, ``"hungarian"``).

    Parameters
    ----------
    coords : (n_parcels, 3) array_like
        Parcel centroids on the template sphere (both hemispheres, any order).
    hemiid : (n_parcels,) array_like
        Hemisphere of each parcel: 0 or ``"L"`` (left), 1 or ``"R"`` (right).
    n_perm : int
        Number of rotations. Must equal the number of ``rotations`` when those are
        given.
    seed : None, int, SeedSequence or Generator
        Random seed (see :func:`nispace._random.as_generator`); with
        ``compat=True`` None, an int or a :class:`numpy.random.RandomState`.
    method : {"original", "vasa", "hungarian"}
        ``"original"``: nearest rotated centroid, parcels may repeat
        (Alexander-Bloch et al. 2018). ``"vasa"``: greedy one-to-one assignment in
        which the parcel whose nearest free centroid is farthest goes first (Váša
        et al. 2018). ``"hungarian"``: one-to-one assignment of minimum total
        distance (Markello & Misic 2021).
    rotations : (left, right) pair of (n_perm, 3, 3) arrays, optional
        Rotations to use instead of random ones (row-vector convention,
        ``coords @ R``). ``check_duplicates`` does not apply to them.
    compat : bool
        Reproduce ``neuromaps.nulls.spins.gen_spinsamples(coords, hemiid,
        n_rotate=n_perm, seed=seed, method=method,
        check_duplicates=check_duplicates).T`` exactly (its random stream, redraws
        and tie-breaking).
    check_duplicates : bool
        Redraw a rotation whose resampling is the identity or repeats an earlier
        one (up to 500 draws per rotation; then the duplicate is kept with a
        RuntimeWarning).
    workers : int
        Threads for blocks of rotations (-1: all cores). The result does not depend
        on it.

    Returns
    -------
    idx : (n_perm, n_parcels) np.ndarray of int
        ``data[idx]`` are the spun maps. Indices never cross hemispheres; with
        ``"vasa"`` and ``"hungarian"`` each row permutes every hemisphere's parcels.

    Notes
    -----
    ``"original"`` runs on blocks of rotations without a loop per rotation: one
    single-precision matrix product of the centroids with all rotated centroids of
    the block, then an argmin; the rare queries whose two nearest rotated centroids
    lie too close to tell apart in single precision are recomputed in double
    precision, and exact ties are broken by the k-d tree query neuromaps runs.
    ``"vasa"`` advances all rotations of a block together;
    ``"hungarian"`` solves one assignment problem per rotation. With numba the
    three run compiled (see the module's "Speed" notes), with the same result.

    References
    ----------
    Alexander-Bloch, A. F., et al. (2018). On testing for spatial correspondence
    between maps of human brain structure and function. NeuroImage, 178, 540-551.
    https://doi.org/10.1016/j.neuroimage.2018.05.070
    Váša, F., et al. (2018). Adolescent tuning of association cortex in human
    structural brain networks. Cerebral Cortex, 28(1), 281-294.
    https://doi.org/10.1093/cercor/bhx249
    Markello, R. D., & Misic, B. (2021). Comparing spatial null models for brain
    maps. NeuroImage, 236, 118052. https://doi.org/10.1016/j.neuroimage.2021.118052
    """
    check_option("method", method, SPIN_MATCHING)
    coords = _check_coords(coords)
    hemi = _check_hemiid(hemiid, coords.shape[0])
    n_perm = check_n_perm(n_perm)
    _n_threads(workers)

    def resample(left, right):
        return _resample(coords, hemi, left, right, method, workers)

    if rotations is not None:
        left, right = _check_rotations(rotations)
        if left.shape[0] != n_perm:
            raise InputError(f"n_perm: expected {left.shape[0]} (the number of rotations "
                             f"given); got {n_perm}.")
        return resample(left, right)
    source = _rotation_source(seed, compat)
    return _accept_resamplings(lambda k: _draw_rotations(source, k), resample, n_perm,
                               coords.shape[0], check_duplicates)


def _spun_parcels(method: str, data, coords, hemiid, n_perm, seed, kwargs) -> np.ndarray:
    data = check_data(data)
    if data.shape[0] != len(coords):
        raise InputError(f"data: expected {len(coords)} values (one per row of coords); got "
                         f"{data.shape[0]}.")
    if "method" in kwargs:
        raise InputTypeError(f"method: not an argument of {method}; call spin_permutations to "
                             f"choose the matching.")
    matching = "original" if method == "alexander_bloch" else method
    idx = spin_permutations(coords, hemiid, n_perm, seed, method=matching, **kwargs)
    return gather(data, idx)


_PARCEL_PARAMS = """\
    Parameters
    ----------
    data : (n_parcels,) array_like
        Parcellated map; NaN parcels stay NaN in every null.
    coords : (n_parcels, 3) array_like
        Parcel centroids on the template sphere.
    hemiid : (n_parcels,) array_like
        0 or "L" for left, 1 or "R" for right hemisphere parcels.
    n_perm : int
        Number of null maps.
    seed : None, int, SeedSequence or Generator
        Random seed (see :func:`nispace._random.as_generator`).
    **kwargs
        ``rotations``, ``compat``, ``check_duplicates``, ``workers`` of
        :func:`spin_permutations`.

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray
        Spun maps. A null value is NaN where the parcel spun in is NaN."""


def alexander_bloch(data, coords, hemiid, n_perm: int = 1000, seed=None, **kwargs
                    ) -> np.ndarray:
    return _spun_parcels("alexander_bloch", data, coords, hemiid, n_perm, seed, kwargs)


def vasa(data, coords, hemiid, n_perm: int = 1000, seed=None, **kwargs) -> np.ndarray:
    return _spun_parcels("vasa", data, coords, hemiid, n_perm, seed, kwargs)


def hungarian(data, coords, hemiid, n_perm: int = 1000, seed=None, **kwargs) -> np.ndarray:
    return _spun_parcels("hungarian", data, coords, hemiid, n_perm, seed, kwargs)


alexander_bloch.__doc__ = f"""Spin nulls: each parcel takes the value of the nearest rotated one.

    Parcels may be sampled more than once or not at all (Alexander-Bloch et al. 2018;
    parcel-centroid version of Vázquez-Rodríguez et al. 2019).

{_PARCEL_PARAMS}

    References
    ----------
    Alexander-Bloch, A. F., Shou, H., Liu, S., Satterthwaite, T. D., Glahn, D. C.,
    Shinohara, R. T., Vandekar, S. N., & Raznahan, A. (2018). On testing for spatial
    correspondence between maps of human brain structure and function. NeuroImage,
    178, 540-551. https://doi.org/10.1016/j.neuroimage.2018.05.070
    Vázquez-Rodríguez, B., et al. (2019). Gradients of structure-function tethering
    across neocortex. PNAS, 116(42), 21219-21227. https://doi.org/10.1073/pnas.1903403116
    """

vasa.__doc__ = f"""Spin nulls with a greedy one-to-one reassignment (Váša et al. 2018).

    Every null is a permutation of each hemisphere's parcels.

{_PARCEL_PARAMS}

    References
    ----------
    Váša, F., Seidlitz, J., Romero-Garcia, R., Whitaker, K. J., Rosenthal, G.,
    Vértes, P. E., ... & Bullmore, E. T. (2018). Adolescent tuning of association
    cortex in human structural brain networks. Cerebral Cortex, 28(1), 281-294.
    https://doi.org/10.1093/cercor/bhx249
    """

hungarian.__doc__ = f"""Spin nulls with a minimum-cost one-to-one reassignment (Hungarian).

    Every null is a permutation of each hemisphere's parcels, chosen to minimise the
    total distance between centroids and their rotated partners (Markello & Misic
    2021).

{_PARCEL_PARAMS}

    References
    ----------
    Markello, R. D., & Misic, B. (2021). Comparing spatial null models for brain
    maps. NeuroImage, 236, 118052. https://doi.org/10.1016/j.neuroimage.2021.118052
    Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval
    Research Logistics Quarterly, 2(1-2), 83-97.
    """


# --------------------------------------------------------------------------------------
# vertex-level spins
# --------------------------------------------------------------------------------------

def _check_vertex_inputs(vertex_coords, vertex_labels, label_values, data=None):
    """Validated vertex inputs: per-hemisphere coordinates, the parcel index of every
    vertex (lh then rh; -1: none), the number of parcels and the map (if given)."""
    for name, pair, shape in (("vertex_coords", vertex_coords, "(lh (n_l, 3), rh (n_r, 3))"),
                              ("vertex_labels", vertex_labels, "(lh (n_l,), rh (n_r,))")):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InputError(f"{name}: expected a pair {shape}; got {type(pair).__name__}.")
    coords = [_check_coords(c, f"vertex_coords[{h}]") for h, c in enumerate(vertex_coords)]
    labels = [np.asarray(lab) for lab in vertex_labels]
    for h, (c, lab) in enumerate(zip(coords, labels)):
        if lab.shape != (c.shape[0],):
            raise InputError(f"vertex_labels[{h}]: expected shape ({c.shape[0]},) to match "
                             f"vertex_coords[{h}]; got {lab.shape}.")
    values = np.asarray(label_values)
    if values.ndim != 1 or values.size == 0:
        raise InputError(f"label_values: expected a non-empty 1-D array (one label per "
                         f"parcel); got shape {values.shape}.")
    if np.unique(values).size != values.size or (values == 0).any():
        raise InputError("label_values: expected unique, non-zero labels (0 marks vertices "
                         "outside every parcel).")
    order = np.argsort(values, kind="stable")
    flat = np.concatenate(labels)
    pos = np.clip(np.searchsorted(values[order], flat), 0, values.size - 1)
    parcel = np.where(values[order][pos] == flat, order[pos], -1).astype(np.intp)
    if data is not None:
        data = check_data(data)
        if data.shape[0] != values.size:
            raise InputError(f"data: expected {values.size} values (one per label_values); "
                             f"got {data.shape[0]}.")
    return coords, parcel, values.size, data


class _NearestVertex:
    """Exact nearest vertex of a sphere mesh for many query points (a k-d tree).

    Queries are first answered within a distance bound of 1.5 times the largest
    distance between a vertex and its nearest neighbour, which lets the tree prune
    most branches (about twice as fast on fsaverage5); the rare query with no vertex
    inside the bound is asked again without it, so every answer is the exact
    nearest vertex.
    """

    def __init__(self, coords: np.ndarray):
        self.tree = cKDTree(coords, leafsize=32)
        self.n = coords.shape[0]
        if self.n > 1:
            self.bound = 1.5 * float(self.tree.query(coords, k=2)[0][:, 1].max())
        else:
            self.bound = np.inf
        kernels = _compiled_kernels()
        self.coords, self.grid = coords, None
        if kernels is not None and self.n > 1:
            self.kernel = kernels.grid_nearest
            self.grid = _CellCandidates(coords, 1e-6 * float(np.abs(coords).max()))
            if self.grid.cand is None:
                self.grid = None

    def __call__(self, points: np.ndarray, workers: int) -> np.ndarray:
        if self.grid is not None:
            return self._grid_query(points, workers)
        idx = self.tree.query(points, distance_upper_bound=self.bound, workers=workers)[1]
        missed = np.flatnonzero(idx == self.n)
        if missed.size:
            idx[missed] = self.tree.query(points[missed], workers=workers)[1]
        return idx

    def _grid_query(self, points: np.ndarray, workers: int) -> np.ndarray:
        """The compiled grid lookup, in ``workers`` threads; misses go to the tree."""
        idx = np.empty(points.shape[0], dtype=np.intp)
        bounds = np.linspace(0, points.shape[0], 2 * _n_threads(workers) + 1).astype(int)

        def run(part):
            a, b = part
            self.kernel(points[a:b], self.coords, *self.grid.args(), idx[a:b])

        _run_threads(run, list(zip(bounds[:-1], bounds[1:])), workers)
        missed = np.flatnonzero(idx < 0)
        if missed.size:
            idx[missed] = self.tree.query(points[missed], workers=workers)[1]
        return idx


#: Vertices queried at once (rotations stacked): fewer calls, threads started less often.
_VERTEX_QUERY_ROWS = 2**17


def _vertex_resamplings(coords, n_perm, seed, rotations, compat, workers):
    """Yield, per rotation, the index of the vertex spun onto every vertex (lh then rh).

    Vertex ``i`` receives the vertex whose rotated position is nearest to it. The
    default queries one k-d tree of the unrotated sphere with the inversely rotated
    vertices (``|a - bR| = |aR^T - b|``), several rotations in one query; ``compat``
    builds the tree on the rotated vertices as neuromaps does, so that ties fall the
    same way. Memory stays at a few chunks of rotations whatever ``n_perm``.
    """
    if rotations is None:
        left, right = rotation_matrices(n_perm, seed, compat=compat)
    else:
        left, right = _check_rotations(rotations)
        if left.shape[0] != n_perm:
            raise InputError(f"n_perm: expected {left.shape[0]} (the number of rotations "
                             f"given); got {n_perm}.")
    n_threads = _n_threads(workers)
    offsets = (0, coords[0].shape[0])
    if compat:
        for r in range(n_perm):
            yield np.concatenate([cKDTree(c @ rot).query(c, workers=n_threads)[1] + offsets[h]
                                  for h, (c, rot) in enumerate(zip(coords, (left[r], right[r])))
                                  if c.shape[0]])
        return
    nearest = [_NearestVertex(c) if c.shape[0] else None for c in coords]
    n_total = offsets[1] + coords[1].shape[0]
    step = max(1, _VERTEX_QUERY_ROWS // max(n_total, 1))
    for start in range(0, n_perm, step):
        stop = min(start + step, n_perm)
        block = np.empty((stop - start, n_total), dtype=np.intp)
        for h, rots in enumerate((left[start:stop], right[start:stop])):
            c = coords[h]
            if c.shape[0] == 0:
                continue
            spun = c @ rots.transpose(0, 2, 1)                           # (k, n_h, 3)
            found = nearest[h](spun.reshape(-1, 3), n_threads)
            block[:, offsets[h]:offsets[h] + c.shape[0]] = found.reshape(stop - start, -1)
            block[:, offsets[h]:offsets[h] + c.shape[0]] += offsets[h]
        yield from block


def _vertex_spins(kind: str, vertex_coords, vertex_labels, label_values, n_perm, seed,
                  rotations, compat, workers, verbose, data=None):
    """Shared loop of the vertex-level spins: per rotation, the modal parcel spun onto
    each parcel (``kind="mode"``, an index) or the mean spun vertex value (``"mean"``)."""
    coords, parcel, n_parcels, data = _check_vertex_inputs(vertex_coords, vertex_labels,
                                                           label_values, data)
    n_perm = check_n_perm(n_perm)
    target = np.flatnonzero(parcel >= 0)
    tgt = parcel[target]
    if kind == "mode":
        out, rows = np.empty((n_perm, n_parcels), dtype=np.intp), np.arange(n_parcels)
    else:
        out = np.empty((n_perm, n_parcels))
        vertex_values = np.full(parcel.shape[0], np.nan)
        vertex_values[target] = data[tgt]
    spins = _vertex_resamplings(coords, n_perm, seed, rotations, compat, workers)
    if verbose:
        from .._logging import progress_bar

        spins = progress_bar(spins, verbose=verbose, total=n_perm, desc=f"Vertex spins ({kind})")
    for r, spun in enumerate(spins):
        if kind == "mode":
            src = parcel[spun[target]]
            ok = src >= 0
            counts = np.bincount(tgt[ok] * n_parcels + src[ok], minlength=n_parcels**2)
            counts = counts.reshape(n_parcels, n_parcels)
            mode = counts.argmax(axis=1)  # ties: the parcel listed first in label_values
            out[r] = np.where(counts[rows, mode] > 0, mode, -1)
        else:
            values = vertex_values[spun[target]]
            ok = ~np.isnan(values)
            total = np.bincount(tgt[ok], weights=values[ok], minlength=n_parcels)
            count = np.bincount(tgt[ok], minlength=n_parcels)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[r] = total / count
    if kind == "mode" and data is not None:
        return gather(data, out)
    if kind == "mean":
        out[:, np.isnan(data)] = np.nan
    return out


def vertex_spin_indices(vertex_coords, vertex_labels, label_values, n_perm: int = 1000,
                        seed=None, *, rotations=None, compat: bool = False,
                        workers: int = -1, verbose: bool = False) -> np.ndarray:
    return _vertex_spins("mode", vertex_coords, vertex_labels, label_values, n_perm, seed,
                         rotations, compat, workers, verbose)


def baum(data, vertex_coords, vertex_labels, label_values, n_perm: int = 1000, seed=None,
         *, rotations=None, compat: bool = False, workers: int = -1,
         verbose: bool = False) -> np.ndarray:
    return _vertex_spins("mode", vertex_coords, vertex_labels, label_values, n_perm, seed,
                         rotations, compat, workers, verbose, data)


def cornblath(data, vertex_coords, vertex_labels, label_values, n_perm: int = 1000,
              seed=None, *, rotations=None, compat: bool = False, workers: int = -1,
              verbose: bool = False) -> np.ndarray:
    return _vertex_spins("mean", vertex_coords, vertex_labels, label_values, n_perm, seed,
                         rotations, compat, workers, verbose, data)


_VERTEX_PARAMS = """\
    vertex_coords : (lh (n_l, 3), rh (n_r, 3)) pair of array_like
        Vertices of the template sphere of each hemisphere.
    vertex_labels : (lh (n_l,), rh (n_r,)) pair of array_like
        Label of every vertex; 0 and labels not in ``label_values`` (medial wall)
        belong to no parcel.
    label_values : (n_parcels,) array_like
        Label of each parcel, in the order of the data.
    n_perm : int
        Number of rotations.
    seed : None, int, SeedSequence or Generator
        Random seed (see :func:`nispace._random.as_generator`).
    rotations : (left, right) pair of (n_perm, 3, 3) arrays, optional
        Rotations to use instead of random ones (``coords @ R``).
    compat : bool
        Draw rotations from ``numpy.random.RandomState(seed)`` and match vertices as
        neuromaps does (``neuromaps.nulls.baum``/``cornblath`` with ``seed``). No
        duplicate check is made: resamplings of a mesh's vertices practically never
        repeat.
    workers : int
        Threads for the k-d tree queries (-1: all cores).
    verbose : bool
        Show a progress bar over the rotations."""

_DATA_PARAM = """\
    data : (n_parcels,) array_like
        Parcellated map in the order of ``label_values``; NaN parcels stay NaN."""

_BAUM_REF = """\
    Baum, G. L., Cui, Z., Roalf, D. R., Ciric, R., Betzel, R. F., Larsen, B., ... &
    Satterthwaite, T. D. (2020). Development of structure-function coupling in human
    brain networks during youth. PNAS, 117(1), 771-778.
    https://doi.org/10.1073/pnas.1912034117"""

_VERTEX_DOC = """{summary}

{body}

    Parameters
    ----------
{params}

    Returns
    -------
{returns}

    References
    ----------
{refs}
    """

vertex_spin_indices.__doc__ = _VERTEX_DOC.format(
    summary="Parcel indices of vertex-level spins with modal reassignment.",
    body="""\
    The vertices of the sphere are rotated; every vertex takes the label of the
    rotated vertex nearest to it, and every parcel takes the parcel that is most
    frequent (the mode) among the labels spun onto its vertices (Baum et al. 2020).
    Vertices without a parcel are ignored on both sides.""",
    params=_VERTEX_PARAMS,
    returns="""\
    idx : (n_perm, n_parcels) np.ndarray of int
        Parcel spun onto each parcel; -1 where only unlabelled vertices were spun in.
        Ties between equally frequent parcels go to the one listed first in
        ``label_values``.""",
    refs=_BAUM_REF)

baum.__doc__ = _VERTEX_DOC.format(
    summary="Vertex-level spin nulls with modal parcel reassignment (Baum et al. 2020).",
    body="""\
    ``data[vertex_spin_indices(...)]``, -1 giving NaN: each parcel takes the value of the
    parcel most frequently spun onto its vertices.""",
    params=_DATA_PARAM + "\n" + _VERTEX_PARAMS,
    returns="""\
    nulls : (n_perm, n_parcels) np.ndarray
        NaN where no labelled vertex or a NaN parcel was spun in.""",
    refs=_BAUM_REF)

cornblath.__doc__ = _VERTEX_DOC.format(
    summary="Vertex-level spin nulls with re-averaging (Cornblath et al. 2020).",
    body="""\
    Parcel values are projected to their vertices, the vertices are rotated (each
    vertex takes the value of the rotated vertex nearest to it) and the spun vertex
    values are averaged over each parcel's vertices, ignoring unlabelled and NaN
    vertices.""",
    params=_DATA_PARAM + "\n" + _VERTEX_PARAMS,
    returns="""\
    nulls : (n_perm, n_parcels) np.ndarray
        NaN where no labelled non-NaN vertex was spun in.""",
    refs="""\
    Cornblath, E. J., Ashourvan, A., Kim, J. Z., Betzel, R. F., Ciric, R., Adebimpe,
    A., ... & Bassett, D. S. (2020). Temporal sequences of brain activity at rest are
    constrained by white matter structure and modulated by cognitive demands.
    Communications Biology, 3, 261. https://doi.org/10.1038/s42003-020-0961-x""")
