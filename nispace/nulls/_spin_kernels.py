"""Compiled matching kernels of the spin nulls (optional: numba).

Loops over blocks of rotations of one hemisphere that :mod:`nispace.nulls.spins`
otherwise runs with NumPy and k-d trees. Each kernel is compiled on its first call
(a few seconds, once: numba caches the machine code beside this file). They return
exactly what the NumPy path returns:

- distances are ``sqrt(((b0 - a0)**2 + (b1 - a1)**2) + (b2 - a2)**2)`` in double
  precision, operation for operation what ``scipy.spatial.distance_matrix`` computes
  (no fused multiply-add: numba compiles without ``fastmath``);
- ``vasa_block`` runs the greedy steps of Váša et al. (2018) with neuromaps'
  tie-breaking (first row of the largest row minimum, first column of a row
  minimum);
- ``lap_block`` solves each assignment problem exactly with the shortest
  augmenting path method that ``scipy.optimize.linear_sum_assignment`` uses, started
  from dual variables of a column and a row reduction and a greedy partial
  matching on the tight pairs (Jonker & Volgenant 1987), so most rows never need an
  augmenting path; the optimum of a real-valued cost matrix is unique (almost
  surely), so the matching is scipy's (with tied costs: a matching of the same,
  minimum total). Each step of a path search updates the path
  costs of every column in one branch-free (vectorised) loop and takes the lowest
  with ``_argmin``, sixteen independent running minima instead of one chain of
  dependent comparisons (the lowest and its first index, as a plain scan finds
  them); the dual update runs over the settled columns only. Measured on
  Schaefer400 (200 parcels a hemisphere): 36 of 200 rows left after the greedy
  matching, paths of 52 steps on average; Jonker & Volgenant's augmenting row
  reduction left 14 rows but cost more than it saved (its chains of small dual
  steps are long on these problems), and so did searching the lowest among only
  the columns below the path cost bound (a few dozen, but gathered);
- ``nearest_block`` looks the nearest rotated centroid up among the few centroids a
  grid cell can hold (see ``_CellCandidates`` in ``spins``), in double precision,
  and flags the queries whose two nearest are too close to call so that the caller
  settles them with neuromaps' k-d tree query; ``grid_nearest`` does the same for
  the vertices of the vertex-level spins.

All kernels release the GIL.

References
----------
Jonker, R., & Volgenant, A. (1987). A shortest augmenting path algorithm for dense
and sparse linear assignment problems. Computing, 38(4), 325-340.
Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. IEEE
Transactions on Aerospace and Electronic Systems, 52(4), 1679-1696.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


@njit(**_OPTS)
def _distances(coor, rotated, dist):
    """``dist[i, j] = |rotated[j] - coor[i]|`` as scipy's ``distance_matrix``."""
    n = coor.shape[0]
    b = np.empty((3, n))  # axis by axis, so that the inner loop runs on contiguous rows
    for j in range(n):
        b[0, j], b[1, j], b[2, j] = rotated[j, 0], rotated[j, 1], rotated[j, 2]
    b0, b1, b2 = b[0], b[1], b[2]
    for i in range(n):
        a0, a1, a2 = coor[i, 0], coor[i, 1], coor[i, 2]
        row = dist[i]
        for j in range(n):
            d0 = b0[j] - a0
            d1 = b1[j] - a1
            d2 = b2[j] - a2
            row[j] = np.sqrt((d0 * d0 + d1 * d1) + d2 * d2)


@njit(**_OPTS)
def pair_distances(coor, rotated):
    """(k, n, n) distances for rotated centroids (k, n, 3); for tests."""
    k, n = rotated.shape[0], rotated.shape[1]
    out = np.empty((k, n, n))
    for r in range(k):
        _distances(coor, rotated[r], out[r])
    return out


@njit(**_OPTS)
def vasa_block(coor, rotated, out):
    """Greedy matching of Váša et al. (2018) for rotated centroids (k, n, 3) into
    ``out`` (k, n)."""
    k, n = rotated.shape[0], rotated.shape[1]
    dist = np.empty((n, n))
    nearest = np.empty(n, dtype=np.intp)
    nearest_d = np.empty(n)
    free = np.empty(n, dtype=np.bool_)
    for r in range(k):
        _distances(coor, rotated[r], dist)
        for i in range(n):
            best, jbest = np.inf, 0
            for j in range(n):
                if dist[i, j] < best:
                    best, jbest = dist[i, j], j
            nearest[i], nearest_d[i] = jbest, best
            free[i] = True
        for _ in range(n):
            row, far = 0, -np.inf
            for i in range(n):  # first row of the largest minimum (assigned: -inf)
                if nearest_d[i] > far:
                    row, far = i, nearest_d[i]
            taken = nearest[row]
            out[r, row] = taken
            nearest_d[row] = -np.inf
            free[taken] = False
            for i in range(n):
                if nearest_d[i] == -np.inf or nearest[i] != taken:
                    continue
                best, jbest = np.inf, 0
                for j in range(n):
                    if free[j] and dist[i, j] < best:
                        best, jbest = dist[i, j], j
                nearest[i], nearest_d[i] = jbest, best


@njit(**_OPTS)
def _argmin(x):
    """Lowest value of ``x`` (NaN skipped) and the first index holding it; -1 when
    no entry is below infinity.

    Sixteen running minima over the entries ``j % 16`` (so that the comparisons do
    not wait for each other) and one over the tail, then a scan for the first entry
    equal to the lowest, in its lane only when one lane holds it: the index a plain
    ``if x[j] < lowest`` scan returns, in less than half its time.
    """
    n = x.shape[0]
    end = n - n % 16
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = np.inf
    m8 = m9 = m10 = m11 = m12 = m13 = m14 = m15 = np.inf
    for j in range(0, end, 16):
        a = x[j + 0]
        m0 = a if a < m0 else m0
        a = x[j + 1]
        m1 = a if a < m1 else m1
        a = x[j + 2]
        m2 = a if a < m2 else m2
        a = x[j + 3]
        m3 = a if a < m3 else m3
        a = x[j + 4]
        m4 = a if a < m4 else m4
        a = x[j + 5]
        m5 = a if a < m5 else m5
        a = x[j + 6]
        m6 = a if a < m6 else m6
        a = x[j + 7]
        m7 = a if a < m7 else m7
        a = x[j + 8]
        m8 = a if a < m8 else m8
        a = x[j + 9]
        m9 = a if a < m9 else m9
        a = x[j + 10]
        m10 = a if a < m10 else m10
        a = x[j + 11]
        m11 = a if a < m11 else m11
        a = x[j + 12]
        m12 = a if a < m12 else m12
        a = x[j + 13]
        m13 = a if a < m13 else m13
        a = x[j + 14]
        m14 = a if a < m14 else m14
        a = x[j + 15]
        m15 = a if a < m15 else m15
    tail = np.inf
    for j in range(end, n):
        a = x[j]
        tail = a if a < tail else tail
    # the lowest of the lanes and the tail, pairwise
    a, b = (m0 if m0 <= m1 else m1), (m2 if m2 <= m3 else m3)
    c, d = (m4 if m4 <= m5 else m5), (m6 if m6 <= m7 else m7)
    e, f = (m8 if m8 <= m9 else m9), (m10 if m10 <= m11 else m11)
    g, h = (m12 if m12 <= m13 else m13), (m14 if m14 <= m15 else m15)
    a, c = (a if a <= b else b), (c if c <= d else d)
    e, g = (e if e <= f else f), (g if g <= h else h)
    a, e = (a if a <= c else c), (e if e <= g else g)
    low = a if a <= e else e
    low = low if low <= tail else tail
    if low == np.inf:
        return low, -1
    hits = ((m0 == low) + (m1 == low) + (m2 == low) + (m3 == low) + (m4 == low)
            + (m5 == low) + (m6 == low) + (m7 == low) + (m8 == low) + (m9 == low)
            + (m10 == low) + (m11 == low) + (m12 == low) + (m13 == low) + (m14 == low)
            + (m15 == low) + (tail == low))
    if hits == 1 and tail == low:
        j = end
        while not x[j] == low:
            j += 1
        return low, j
    if hits == 1:  # scan the one lane holding the lowest
        j = 0
        j = 15 if m15 == low else j
        j = 14 if m14 == low else j
        j = 13 if m13 == low else j
        j = 12 if m12 == low else j
        j = 11 if m11 == low else j
        j = 10 if m10 == low else j
        j = 9 if m9 == low else j
        j = 8 if m8 == low else j
        j = 7 if m7 == low else j
        j = 6 if m6 == low else j
        j = 5 if m5 == low else j
        j = 4 if m4 == low else j
        j = 3 if m3 == low else j
        j = 2 if m2 == low else j
        j = 1 if m1 == low else j
        while not x[j] == low:
            j += 16
        return low, j
    j = 0
    while not x[j] == low:
        j += 1
    return low, j


@njit(**_OPTS)
def _lap_init(cost, u, v, col4row, row4col, free, red):
    """Feasible duals (``u_i + v_j <= c_ij``) and a partial matching on tight pairs
    (column reduction, row reduction, greedy); the unmatched rows go into ``free``,
    their number is returned. ``red`` is work space (n,)."""
    n = cost.shape[0]
    for j in range(n):
        v[j] = cost[0, j]
        row4col[j] = -1
    for i in range(1, n):
        ci = cost[i]
        for j in range(n):
            v[j] = min(v[j], ci[j])
    n_free = 0
    for i in range(n):
        ci = cost[i]
        for j in range(n):
            red[j] = ci[j] - v[j]
        low, jlow = _argmin(red)
        u[i] = low
        if row4col[jlow] == -1:  # a tight pair with a free column: keep it
            row4col[jlow], col4row[i] = i, jlow
        else:
            col4row[i] = -1
            free[n_free] = i
            n_free += 1
    return n_free


@njit(**_OPTS)
def _relax(ci, base, v, key, path, i):
    """Path costs through row ``i``: ``key[j] = min(key[j], base + ci[j] - v[j])``,
    ``path[j] = i`` where lowered; settled columns (key NaN) never change."""
    for j in range(ci.shape[0]):  # branch-free, so that it vectorises
        red = base + ci[j] - v[j]
        kj = key[j]
        better = red < kj
        key[j] = red if better else kj
        path[j] = i if better else path[j]


@njit(**_OPTS)
def _augment(cost, u, v, col4row, row4col, free, n_free, path, spc, key, settled):
    """Shortest augmenting paths for the free rows (Crouse 2016, as scipy).

    ``key`` holds the tentative path costs of unsettled columns (NaN once settled),
    ``settled`` the settled columns in order and ``spc`` their path costs; the rows
    reached are those matched to the settled columns before the last (the sink).
    """
    n = cost.shape[0]
    for t in range(n_free):
        cur = free[t]
        base, ci = -u[cur], cost[cur]
        for j in range(n):  # the first row: every column reached
            key[j] = base + ci[j] - v[j]
            path[j] = cur
        n_settled = 0
        while True:
            min_val, jlow = _argmin(key)
            spc[jlow] = min_val
            key[jlow] = np.nan
            settled[n_settled] = jlow
            n_settled += 1
            i = row4col[jlow]
            if i == -1:
                break
            _relax(cost[i], min_val - u[i], v, key, path, i)
        # dual update (as scipy: rows reached and settled columns), then augmentation
        u[cur] += min_val
        for s in range(n_settled - 1):
            j = settled[s]
            step = min_val - spc[j]
            u[row4col[j]] += step
            v[j] -= step
        j = jlow
        while True:
            i = path[j]
            row4col[j] = i
            j, col4row[i] = col4row[i], j
            if i == cur:
                break


@njit(**_OPTS)
def _lap(cost, u, v, col4row, row4col, free, path, spc, key, settled):
    """Solve one assignment problem: ``col4row`` holds the matching."""
    n_free = _lap_init(cost, u, v, col4row, row4col, free, key)
    _augment(cost, u, v, col4row, row4col, free, n_free, path, spc, key, settled)


@njit(**_OPTS)
def _lap_work(n):
    """Work arrays of :func:`_lap` for ``n`` x ``n`` problems."""
    return (np.empty(n), np.empty(n), np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp),
            np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp), np.empty(n), np.empty(n),
            np.empty(n, dtype=np.intp))


@njit(**_OPTS)
def solve_lap(cost):
    """Column matched to each row by a minimum-cost perfect matching of ``cost``."""
    u, v, col4row, row4col, free, path, spc, key, settled = _lap_work(cost.shape[0])
    _lap(cost, u, v, col4row, row4col, free, path, spc, key, settled)
    return col4row


@njit(**_OPTS)
def lap_block(coor, rotated, out):
    """Minimum-total-distance matching for rotated centroids (k, n, 3) into ``out``."""
    k, n = rotated.shape[0], rotated.shape[1]
    dist = np.empty((n, n))
    u, v, col4row, row4col, free, path, spc, key, settled = _lap_work(n)
    for r in range(k):
        _distances(coor, rotated[r], dist)
        _lap(dist, u, v, col4row, row4col, free, path, spc, key, settled)
        out[r] = col4row


@njit(**_OPTS)
def _cell_row(x, y, z, lo, inv_h, dims, lookup):
    """Row of the candidate table for the grid cell holding (x, y, z); -1: none."""
    fx = (x - lo[0]) * inv_h
    fy = (y - lo[1]) * inv_h
    fz = (z - lo[2]) * inv_h
    if not (fx >= 0.0 and fy >= 0.0 and fz >= 0.0):
        return -1
    ix, iy, iz = int(fx), int(fy), int(fz)
    if ix >= dims[0] or iy >= dims[1] or iz >= dims[2]:
        return -1
    return lookup[(ix * dims[1] + iy) * dims[2] + iz]


@njit(**_OPTS)
def grid_nearest(queries, pts, lo, inv_h, dims, lookup, cand, out):
    """Nearest point of ``pts`` to every query (m, 3), among the candidates of the
    query's grid cell, into ``out`` (m,); -1 where the cell has no candidate list."""
    for t in range(queries.shape[0]):
        x, y, z = queries[t, 0], queries[t, 1], queries[t, 2]
        row = _cell_row(x, y, z, lo, inv_h, dims, lookup)
        if row < 0:
            out[t] = -1
            continue
        best, jbest = np.inf, -1
        for c in range(cand.shape[1]):
            j = cand[row, c]
            if j < 0:
                break
            d0 = x - pts[j, 0]
            d1 = y - pts[j, 1]
            d2 = z - pts[j, 2]
            d = (d0 * d0 + d1 * d1) + d2 * d2
            if d < best:
                best, jbest = d, j
        out[t] = jbest


@njit(**_OPTS)
def nearest_block(coor, rotated, rots, lo, inv_h, dims, lookup, cand, tol, out):
    """Nearest rotated centroid for each centroid, (k, n) into ``out``.

    The candidates come from the grid cell of ``coor[i] @ rots[r].T`` (the centroid
    turned back, looked up among the unrotated centroids, which the grid holds);
    the distances compared are ``|rotated[r, j] - coor[i]|`` squared, in double
    precision. ``out`` is -1 where the cell has no list or where the two nearest
    differ by ``tol`` or less (the caller settles those).
    """
    k, n = rotated.shape[0], rotated.shape[1]
    for r in range(k):
        for i in range(n):
            a0, a1, a2 = coor[i, 0], coor[i, 1], coor[i, 2]
            x = a0 * rots[r, 0, 0] + a1 * rots[r, 0, 1] + a2 * rots[r, 0, 2]
            y = a0 * rots[r, 1, 0] + a1 * rots[r, 1, 1] + a2 * rots[r, 1, 2]
            z = a0 * rots[r, 2, 0] + a1 * rots[r, 2, 1] + a2 * rots[r, 2, 2]
            row = _cell_row(x, y, z, lo, inv_h, dims, lookup)
            if row < 0:
                out[r, i] = -1
                continue
            best, second, jbest = np.inf, np.inf, -1
            for c in range(cand.shape[1]):
                j = cand[row, c]
                if j < 0:
                    break
                d0 = rotated[r, j, 0] - a0
                d1 = rotated[r, j, 1] - a1
                d2 = rotated[r, j, 2] - a2
                d = (d0 * d0 + d1 * d1) + d2 * d2
                if d < best:
                    second, best, jbest = best, d, j
                elif d < second:
                    second = d
            out[r, i] = jbest if second - best > tol else -1
