"""Spin nulls (nispace.nulls.spins) against independent references and neuromaps.

Synthetic spheres stand in for the template sphere: random parcel centroids for the
parcel-level spins and a Fibonacci sphere with a few Voronoi parcels and a
"medial wall" cap for the vertex-level spins.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree, distance_matrix

from nispace.nulls.spins import (alexander_bloch, baum, cornblath, hungarian, rotation_matrices,
                                 spin_permutations, vasa, vertex_spin_indices)

FLIP = np.diag([-1.0, 1.0, 1.0])


# --------------------------------------------------------------------------------------
# synthetic spheres
# --------------------------------------------------------------------------------------

def sphere_centroids(n_per_hemi: int, seed: int = 0):
    """Random parcel centroids on a radius-100 sphere per hemisphere, radii jittered a
    little as on real meshes; left parcels first."""
    rng = np.random.default_rng(seed)
    xyz = rng.standard_normal((2 * n_per_hemi, 3))
    xyz *= 100 * (1 + 1e-7 * rng.standard_normal((2 * n_per_hemi, 1))) / np.linalg.norm(
        xyz, axis=1, keepdims=True)
    return xyz, np.repeat([0, 1], n_per_hemi)


def fibonacci_sphere(n: int, radius: float = 100.0) -> np.ndarray:
    i = np.arange(n) + 0.5
    phi, theta = np.arccos(1 - 2 * i / n), np.pi * (1 + 5**0.5) * i
    return radius * np.c_[np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)]


@pytest.fixture(scope="module")
def mesh():
    """500 vertices per hemisphere (float32, as read from GIfTI), 6 Voronoi parcels per
    hemisphere labelled 1-6 and 7-12, a medial-wall cap labelled 0."""
    rng = np.random.default_rng(3)
    coords, labels = [], []
    for h, sign in enumerate((1, -1)):
        xyz = (fibonacci_sphere(500) * [sign, 1, 1]).astype(np.float32).astype(np.float64)
        seeds = xyz[rng.choice(500, 6, replace=False)]
        lab = np.argmin(((xyz[:, None] - seeds[None]) ** 2).sum(-1), axis=1) + 1 + 6 * h
        lab[sign * xyz[:, 0] > 80] = 0
        coords.append(xyz)
        labels.append(lab)
    return coords, labels, np.arange(1, 13)


def hemi_blocks(hemi):
    return [np.flatnonzero(np.asarray(hemi) == h) for h in (0, 1)]


# --------------------------------------------------------------------------------------
# rotations
# --------------------------------------------------------------------------------------

def test_rotations_are_proper_and_mirrored_for_the_right_hemisphere():
    left, right = rotation_matrices(500, seed=1)
    assert left.shape == right.shape == (500, 3, 3)
    np.testing.assert_allclose(left @ left.transpose(0, 2, 1), np.broadcast_to(np.eye(3),
                                                                             left.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(left), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(right), 1.0, atol=1e-12)
    np.testing.assert_array_equal(right, FLIP @ left @ FLIP)


def test_rotations_have_the_moments_of_the_uniform_distribution_on_so3():
    # Haar measure on SO(3): E[R_ij] = 0, E[R_ij^2] = 1/3, E[tr R] = 0, E[(tr R)^2] = 1
    left, _ = rotation_matrices(40_000, seed=2)
    tol = 5 / np.sqrt(40_000)
    assert np.abs(left.mean(axis=0)).max() < tol
    np.testing.assert_allclose((left**2).mean(axis=0), 1 / 3, atol=tol)
    trace = np.trace(left, axis1=1, axis2=2)
    assert abs(trace.mean()) < 2 * tol
    assert abs((trace**2).mean() - 1) < 4 * tol


def test_compat_rotations_follow_the_neuromaps_stream():
    spins = pytest.importorskip("neuromaps.nulls.spins")
    rs = np.random.RandomState(42)
    expected = [spins._gen_rotation(rs) for _ in range(60)]
    left, right = rotation_matrices(60, 42, compat=True)
    np.testing.assert_array_equal(left, [lr[0] for lr in expected])
    np.testing.assert_array_equal(right, [lr[1] for lr in expected])
    # a RandomState passed in is consumed like neuromaps consumes it
    rs = np.random.RandomState(42)
    first, _ = rotation_matrices(30, rs, compat=True)
    second, _ = rotation_matrices(30, rs, compat=True)
    np.testing.assert_array_equal(np.concatenate([first, second]), left)


# --------------------------------------------------------------------------------------
# parcel-level spins
# --------------------------------------------------------------------------------------

METHOD_SIZES = [("original", 200), ("vasa", 20), ("hungarian", 20)]


@pytest.mark.parametrize("method, n_perm", METHOD_SIZES)
def test_compat_reproduces_neuromaps_gen_spinsamples(method, n_perm):
    spins = pytest.importorskip("neuromaps.nulls.spins")
    coords, hemi = sphere_centroids(60, seed=4)
    expected = spins.gen_spinsamples(coords, hemi, n_rotate=n_perm, seed=7, method=method)
    ours = spin_permutations(coords, hemi, n_perm, seed=7, method=method, compat=True)
    np.testing.assert_array_equal(ours, expected.T)


@pytest.mark.parametrize("method, n_perm", METHOD_SIZES)
def test_compat_reproduces_neuromaps_on_schaefer200_centroids(data_url, method, n_perm):
    spins = pytest.importorskip("neuromaps.nulls.spins")
    from nispace.datasets import fetch_parcellation

    p = fetch_parcellation("Schaefer200", space="fsLR")
    coords = p.get_centroids("fsLR")
    hemi = np.isin(np.arange(p.n_parcels), p.get_hemi_indices("R")).astype(int)
    expected = spins.gen_spinsamples(coords, hemi, n_rotate=n_perm, seed=1234, method=method)
    ours = spin_permutations(coords, hemi, n_perm, seed=1234, method=method, compat=True)
    np.testing.assert_array_equal(ours, expected.T)
    data = np.arange(p.n_parcels, dtype=float)
    np.testing.assert_array_equal(
        {"original": alexander_bloch, "vasa": vasa, "hungarian": hungarian}[method](
            data, coords, hemi, n_perm, 1234, compat=True), data[expected.T])


def test_duplicate_resamplings_are_redrawn_as_neuromaps_does():
    spins = pytest.importorskip("neuromaps.nulls.spins")
    coords, hemi = sphere_centroids(3, seed=5)  # few parcels: spins often repeat
    expected = spins.gen_spinsamples(coords, hemi, n_rotate=40, seed=3)
    ours = spin_permutations(coords, hemi, 40, seed=3, compat=True)
    np.testing.assert_array_equal(ours, expected.T)
    assert len({row.tobytes() for row in ours}) == 40
    assert not (ours == np.arange(6)).all(axis=1).any()
    unchecked = spin_permutations(coords, hemi, 40, seed=3, compat=True, check_duplicates=False)
    assert len({row.tobytes() for row in unchecked}) < 40
    np.testing.assert_array_equal(unchecked, spins.gen_spinsamples(
        coords, hemi, n_rotate=40, seed=3, check_duplicates=False).T)


def test_duplicates_are_kept_with_a_warning_when_no_new_resampling_exists():
    coords, hemi = np.array([[100.0, 0, 0], [-100.0, 0, 0]]), [0, 1]
    with pytest.warns(RuntimeWarning, match="duplicate resamplings are used"):
        idx = spin_permutations(coords, hemi, 2, seed=0)
    np.testing.assert_array_equal(idx, [[0, 1], [0, 1]])


def test_given_rotations_match_a_kdtree_query_per_rotation():
    coords, hemi = sphere_centroids(80, seed=6)
    left, right = rotation_matrices(25, seed=8)
    idx = spin_permutations(coords, hemi, 25, rotations=(left, right))
    blocks = hemi_blocks(hemi)
    for r in range(25):
        for rot, block in zip((left[r], right[r]), blocks):
            c = coords[block]
            nearest = cKDTree(c @ rot).query(c)[1]
            np.testing.assert_array_equal(idx[r, block], block[nearest])


def test_exact_ties_are_broken_like_the_kdtree_neuromaps_queries():
    # octahedron vertices turned by 45 degrees: every vertex lies exactly halfway
    # between two rotated vertices, so only the k-d tree's tie-breaking decides
    octahedron = 100 * np.vstack([np.eye(3), -np.eye(3)])
    coords, hemi = np.vstack([octahedron, octahedron]), np.repeat([0, 1], 6)
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    turns = np.array([[[c, s, 0], [-s, c, 0], [0, 0, 1]],
                      [[1, 0, 0], [0, c, s], [0, -s, c]]])
    idx = spin_permutations(coords, hemi, 2, rotations=(turns, FLIP @ turns @ FLIP))
    for r in range(2):
        for rot, block in zip((turns[r], FLIP @ turns[r] @ FLIP), hemi_blocks(hemi)):
            c_h = coords[block]
            np.testing.assert_array_equal(idx[r, block],
                                          block[cKDTree(c_h @ rot).query(c_h)[1]])


def naive_vasa(dist: np.ndarray) -> np.ndarray:
    """Váša et al. (2018) as described: repeatedly let the parcel whose closest free
    target is farthest away take that target."""
    n = dist.shape[0]
    free_rows, free_cols = list(range(n)), list(range(n))
    col = np.empty(n, dtype=int)
    while free_rows:
        sub = dist[np.ix_(free_rows, free_cols)]
        i = int(sub.min(axis=1).argmax())
        j = int(sub[i].argmin())
        col[free_rows.pop(i)] = free_cols.pop(j)
    return col


def test_vasa_and_hungarian_match_direct_implementations():
    coords, hemi = sphere_centroids(40, seed=9)
    left, right = rotation_matrices(12, seed=10)
    idx_vasa = spin_permutations(coords, hemi, 12, method="vasa", rotations=(left, right))
    idx_hung = spin_permutations(coords, hemi, 12, method="hungarian", rotations=(left, right))
    for r in range(12):
        for rot, block in zip((left[r], right[r]), hemi_blocks(hemi)):
            c = coords[block]
            dist = distance_matrix(c, c @ rot)
            np.testing.assert_array_equal(idx_vasa[r, block], block[naive_vasa(dist)])
            _, optimal = linear_sum_assignment(dist)
            np.testing.assert_array_equal(idx_hung[r, block], block[optimal])
            rows = np.arange(len(block))
            local = np.searchsorted(block, idx_vasa[r, block])
            assert dist[rows, optimal].sum() <= dist[rows, local].sum() + 1e-9


@pytest.mark.parametrize("method", ["original", "vasa", "hungarian"])
def test_spins_stay_within_hemispheres_and_one_to_one_methods_permute(method):
    coords, hemi = sphere_centroids(30, seed=11)
    order = np.random.default_rng(0).permutation(60)  # hemispheres interleaved
    coords, hemi = coords[order], hemi[order]
    idx = spin_permutations(coords, hemi, 50, seed=12, method=method)
    assert idx.shape == (50, 60) and np.issubdtype(idx.dtype, np.integer)
    assert (hemi[idx] == hemi).all()
    if method != "original":
        for block in hemi_blocks(hemi):
            np.testing.assert_array_equal(np.sort(idx[:, block], axis=1),
                                          np.broadcast_to(block, (50, block.size)))
    labels = np.where(hemi == 0, "L", "R")
    np.testing.assert_array_equal(
        spin_permutations(coords, labels, 50, seed=12, method=method), idx)


def test_original_spins_repeat_parcels_sometimes():
    coords, hemi = sphere_centroids(50, seed=13)
    idx = spin_permutations(coords, hemi, 100, seed=14)
    assert any(len(np.unique(row)) < 100 for row in idx)


def test_nan_parcels_stay_nan_and_spread_where_spun_in():
    coords, hemi = sphere_centroids(40, seed=15)
    data = np.random.default_rng(16).standard_normal(80)
    data[[3, 50]] = np.nan
    idx = spin_permutations(coords, hemi, 100, seed=17)
    nulls = alexander_bloch(data, coords, hemi, 100, seed=17)
    expected = data[idx]
    expected[:, [3, 50]] = np.nan
    np.testing.assert_array_equal(nulls, expected)
    assert np.isnan(nulls[:, [3, 50]]).all()
    assert np.isnan(np.delete(nulls, [3, 50], axis=1)).any()


def test_same_seed_same_nulls_and_workers_do_not_matter():
    coords, hemi = sphere_centroids(40, seed=18)
    data = np.random.default_rng(19).standard_normal(80)
    a = alexander_bloch(data, coords, hemi, 300, seed=20)
    np.testing.assert_array_equal(a, alexander_bloch(data, coords, hemi, 300, seed=20,
                                                     workers=1))
    assert not np.array_equal(a, alexander_bloch(data, coords, hemi, 300, seed=21))
    g1 = vasa(data, coords, hemi, 10, seed=np.random.default_rng(5))
    g2 = vasa(data, coords, hemi, 10, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(g1, g2)


def test_parcel_spin_errors_name_the_argument():
    coords, hemi = sphere_centroids(5)
    with pytest.raises(ValueError, match="coords: expected an array of shape"):
        spin_permutations(coords[:, :2], hemi, 5)
    with pytest.raises(ValueError, match="hemiid: expected 0 .left. or 1"):
        spin_permutations(coords, hemi + 1, 5)
    with pytest.raises(ValueError, match="hemiid: expected a 1-D array of 10"):
        spin_permutations(coords, hemi[:4], 5)
    with pytest.raises(ValueError, match="method: expected one of"):
        spin_permutations(coords, hemi, 5, method="nearest")
    with pytest.raises(ValueError, match="n_perm: expected 3"):
        spin_permutations(coords, hemi, 5, rotations=rotation_matrices(3, 0))
    with pytest.raises(TypeError, match="seed: with compat=True"):
        spin_permutations(coords, hemi, 5, seed=np.random.default_rng(), compat=True)
    with pytest.raises(ValueError, match="workers: expected"):
        spin_permutations(coords, hemi, 5, workers=0)
    with pytest.raises(ValueError, match="data: expected 10 values"):
        alexander_bloch(np.zeros(9), coords, hemi, 5)


# --------------------------------------------------------------------------------------
# vertex-level spins
# --------------------------------------------------------------------------------------

def brute_force_vertex_nulls(data, coords, labels, label_values, left, right):
    """Baum (mode) and Cornblath (mean) nulls from full distance matrices."""
    parcel_of = {v: p for p, v in enumerate(label_values)}
    parcel = [np.array([parcel_of.get(v, -1) for v in lab]) for lab in labels]
    n = len(label_values)
    modes, means = np.full((len(left), n), -1), np.full((len(left), n), np.nan)
    for r in range(len(left)):
        spun_parcel = []
        for h, rot in enumerate((left[r], right[r])):
            nearest = distance_matrix(coords[h], coords[h] @ rot).argmin(axis=1)
            spun_parcel.append(parcel[h][nearest])
        spun_parcel, own = np.concatenate(spun_parcel), np.concatenate(parcel)
        for p in range(n):
            got = spun_parcel[own == p]
            got = got[got >= 0]
            if got.size:
                values, counts = np.unique(got, return_counts=True)
                modes[r, p] = values[counts.argmax()]
                vals = data[got]
                if np.isfinite(vals).any():
                    means[r, p] = np.nanmean(vals)
    return modes, means


def test_vertex_spins_match_a_brute_force_reference(mesh):
    coords, labels, values = mesh
    labels = [labels[0].copy(), labels[1]]
    labels[0][:7] = 99  # not a parcel of label_values: ignored like the medial wall
    data = np.random.default_rng(22).standard_normal(12)
    left, right = rotation_matrices(15, seed=23)
    modes, means = brute_force_vertex_nulls(data, coords, labels, values, left, right)
    idx = vertex_spin_indices(coords, labels, values, 15, rotations=(left, right))
    np.testing.assert_array_equal(idx, modes)
    expected_baum = np.where(modes >= 0, data[np.maximum(modes, 0)], np.nan)
    np.testing.assert_array_equal(baum(data, coords, labels, values, 15,
                                       rotations=(left, right)), expected_baum)
    np.testing.assert_allclose(cornblath(data, coords, labels, values, 15,
                                         rotations=(left, right)), means, rtol=1e-12)


def test_vertex_spins_compat_reproduce_neuromaps_baum_and_cornblath(mesh):
    nulls = pytest.importorskip("neuromaps.nulls")
    import nibabel as nib
    from scipy.spatial import ConvexHull

    coords, labels, values = mesh

    def gifti(*arrays):
        return nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(a) for a in arrays])

    surfaces = [gifti(c.astype(np.float32), ConvexHull(c).simplices.astype(np.int32))
                for c in coords]
    parcellation = [gifti(lab.astype(np.int32)) for lab in labels]
    data = np.random.default_rng(24).standard_normal(12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_baum = nulls.baum(data, surfaces=surfaces, parcellation=parcellation,
                                   n_perm=15, seed=25)
        expected_corn = nulls.cornblath(data, surfaces=surfaces, parcellation=parcellation,
                                        n_perm=15, seed=25)
    np.testing.assert_array_equal(baum(data, coords, labels, values, 15, 25, compat=True),
                                  expected_baum.T)
    np.testing.assert_allclose(cornblath(data, coords, labels, values, 15, 25, compat=True),
                               expected_corn.T, rtol=1e-12)


def test_vertex_spins_compat_reproduce_neuromaps_on_fslr_schaefer200(data_url):
    nulls = pytest.importorskip("neuromaps.nulls")
    import nibabel as nib

    from nispace.datasets import fetch_parcellation, fetch_template

    spheres = fetch_template("fsLR", desc="sphere", res="32k")
    coords = [np.asarray(nib.load(f).agg_data("pointset"), dtype=float) for f in spheres]
    p = fetch_parcellation("Schaefer200", space="fsLR")
    labels = p.get_data("fsLR")  # lh vertices then rh, rh labels continuing after lh
    labels = (labels[:coords[0].shape[0]], labels[coords[0].shape[0]:])
    values = p.get_label_values("fsLR")
    np.testing.assert_array_equal(values, np.arange(1, 201))  # neuromaps: label k = data[k-1]
    parcellation = [nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(lab.astype(np.int32))])
                    for lab in labels]
    data = np.random.default_rng(26).standard_normal(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_baum = nulls.baum(data, surfaces=[str(f) for f in spheres],
                                   parcellation=parcellation, n_perm=2, seed=27)
        expected_corn = nulls.cornblath(data, surfaces=[str(f) for f in spheres],
                                        parcellation=parcellation, n_perm=2, seed=27)
    np.testing.assert_array_equal(baum(data, coords, labels, values, 2, 27, compat=True),
                                  expected_baum.T)
    np.testing.assert_allclose(cornblath(data, coords, labels, values, 2, 27, compat=True),
                               expected_corn.T, rtol=1e-12)


def test_identity_rotation_gives_back_the_data(mesh):
    coords, labels, values = mesh
    eye = np.broadcast_to(np.eye(3), (2, 3, 3))
    data = np.arange(12.0)
    np.testing.assert_array_equal(
        vertex_spin_indices(coords, labels, values, 2, rotations=(eye, eye)),
        np.tile(np.arange(12), (2, 1)))
    np.testing.assert_allclose(cornblath(data, coords, labels, values, 2,
                                         rotations=(eye, eye)), np.tile(data, (2, 1)))


def test_parcel_spun_onto_the_medial_wall_becomes_nan():
    xyz = fibonacci_sphere(400)
    # a medial wall around +x, a smaller parcel around -x, the rest one parcel
    lh = np.where(xyz[:, 0] > 70, 0, np.where(xyz[:, 0] < -80, 1, 2))
    rh = np.full(400, 3)
    half_turn = np.broadcast_to(np.diag([-1.0, -1.0, 1.0]), (1, 3, 3))  # -x cap -> +x cap
    data = np.array([1.0, 2.0, 3.0])
    args = (data, (xyz, xyz), (lh, rh), [1, 2, 3], 1)
    for fn in (baum, cornblath):
        null = fn(*args, rotations=(half_turn, half_turn))
        assert np.isnan(null[0, 0]) and np.isfinite(null[0, 1:]).all()
    data[2] = np.nan
    for fn in (baum, cornblath):
        null = fn(*args, seed=0)
        assert np.isnan(null[0, 2])


def test_vertex_spin_errors_name_the_argument(mesh):
    coords, labels, values = mesh
    with pytest.raises(ValueError, match="vertex_coords: expected a pair"):
        baum(np.zeros(12), coords[0], labels, values, 2)
    with pytest.raises(ValueError, match=r"vertex_labels\[1\]: expected shape \(500,\)"):
        baum(np.zeros(12), coords, [labels[0], labels[1][:10]], values, 2)
    with pytest.raises(ValueError, match="label_values: expected unique, non-zero"):
        cornblath(np.zeros(12), coords, labels, np.arange(12), 2)
    with pytest.raises(ValueError, match="data: expected 12 values"):
        cornblath(np.zeros(11), coords, labels, values, 2)


def test_bounded_nearest_vertex_query_is_exact_also_beyond_the_bound():
    from nispace.nulls.spins import _NearestVertex

    xyz = fibonacci_sphere(300)
    rng = np.random.default_rng(11)
    # points near the sphere and a few far off it (no vertex within the bound)
    points = np.r_[fibonacci_sphere(700) @ rotation_matrices(1, seed=12)[0][0],
                   300 * rng.standard_normal((20, 3))]
    nearest = _NearestVertex(xyz)
    expected = distance_matrix(points, xyz).argmin(axis=1)
    np.testing.assert_array_equal(nearest(points, 1), expected)
    assert (distance_matrix(points[-20:], xyz).min(axis=1) > nearest.bound).all()


def test_pair_distances_equal_scipy_distance_matrix_bit_for_bit():
    # Vasa and Hungarian decide on these values: equality with neuromaps needs the bits
    from nispace.nulls.spins import _pair_distances

    coords, hemi = sphere_centroids(57, seed=30)
    left, _ = rotation_matrices(9, seed=31)
    c = coords[hemi == 0]
    dist = _pair_distances(c, c @ left)
    assert dist.shape == (9, 57, 57)
    for r in range(9):
        np.testing.assert_array_equal(dist[r], distance_matrix(c, c @ left[r]))


def test_vertex_spins_do_not_depend_on_how_rotations_are_chunked(mesh, monkeypatch):
    import nispace.nulls.spins as spins

    coords, labels, values = mesh
    data = np.random.default_rng(32).standard_normal(12)
    left, right = rotation_matrices(7, seed=33)
    modes, means = brute_force_vertex_nulls(data, coords, labels, values, left, right)
    monkeypatch.setattr(spins, "_VERTEX_QUERY_ROWS", 2500)  # 2 rotations a query, 1 left
    np.testing.assert_array_equal(
        vertex_spin_indices(coords, labels, values, 7, rotations=(left, right)), modes)
    np.testing.assert_allclose(
        cornblath(data, coords, labels, values, 7, rotations=(left, right)), means, rtol=1e-12)


# --------------------------------------------------------------------------------------
# compiled kernels (numba, optional) against the NumPy path and scipy
# --------------------------------------------------------------------------------------

@pytest.fixture(params=[True, False], ids=["compiled", "numpy"])
def matching_path(request, monkeypatch):
    """Run a test on the compiled kernels (when numba is importable) and on NumPy."""
    import nispace.nulls.spins as spins

    if request.param and spins._compiled_kernels() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(spins, "USE_COMPILED", request.param)
    return request.param


@pytest.mark.parametrize("method, n_perm", [("original", 400), ("vasa", 40), ("hungarian", 40)])
def test_compiled_and_numpy_matching_give_the_same_indices(method, n_perm, monkeypatch):
    import nispace.nulls.spins as spins

    if spins._compiled_kernels() is None:
        pytest.skip("numba is not installed")
    coords, hemi = sphere_centroids(70, seed=40)
    compiled = spin_permutations(coords, hemi, n_perm, seed=41, method=method, compat=True)
    monkeypatch.setattr(spins, "USE_COMPILED", False)
    numpy_path = spin_permutations(coords, hemi, n_perm, seed=41, method=method, compat=True)
    np.testing.assert_array_equal(compiled, numpy_path)


def test_without_numba_the_numpy_path_runs(monkeypatch):
    import sys

    import nispace.nulls.spins as spins

    coords, hemi = sphere_centroids(30, seed=42)
    expected = spin_permutations(coords, hemi, 20, seed=43, method="hungarian")
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.delitem(sys.modules, "nispace.nulls._spin_kernels", raising=False)
    monkeypatch.delattr(sys.modules["nispace.nulls"], "_spin_kernels", raising=False)
    monkeypatch.setattr(spins, "_KERNELS", [])
    assert spins._compiled_kernels() is None
    np.testing.assert_array_equal(spin_permutations(coords, hemi, 20, seed=43,
                                                    method="hungarian"), expected)


def test_compiled_distances_are_scipy_distance_matrix_bit_for_bit():
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    coords, hemi = sphere_centroids(57, seed=44)
    left, _ = rotation_matrices(5, seed=45)
    c = coords[hemi == 0]
    dist = kernels.pair_distances(c, c @ left)
    for r in range(5):
        np.testing.assert_array_equal(dist[r], distance_matrix(c, c @ left[r]))


@pytest.mark.parametrize("n", [1, 2, 3, 10, 60])
def test_compiled_assignment_equals_scipy_on_random_costs(n):
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    rng = np.random.default_rng(n)
    for _ in range(20):
        cost = rng.random((n, n)) * rng.choice([1e-3, 1.0, 1e3])
        np.testing.assert_array_equal(kernels.solve_lap(cost), linear_sum_assignment(cost)[1])


def test_compiled_assignment_is_optimal_with_ties():
    # integer costs have many optimal matchings: any of them is a minimum
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    rng = np.random.default_rng(46)
    for n in (4, 25, 80):
        cost = rng.integers(0, 4, size=(n, n)).astype(float)
        col = kernels.solve_lap(cost)
        np.testing.assert_array_equal(np.sort(col), np.arange(n))
        rows, best = linear_sum_assignment(cost)
        assert cost[rows, col].sum() == cost[rows, best].sum()


def first_lowest(x):
    """The plain scan the compiled argmin replaces: first index of the lowest entry
    (NaN never lower), -1 when none is below infinity."""
    lowest, at = np.inf, -1
    for j, value in enumerate(x):
        if value < lowest:
            lowest, at = value, j
    return lowest, at


def test_compiled_argmin_is_the_first_lowest_entry_with_ties_nan_and_signed_zeros():
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    rng = np.random.default_rng(60)
    values = np.array([-2.5, -0.0, 0.0, 1.0, 1.0, 3e-300, np.inf, np.nan])
    for n in [*range(0, 20), 31, 33, 48, 64, 200]:  # tails shorter than the 16 lanes too
        for _ in range(50):
            x = rng.choice(values, n)
            lowest, at = kernels._argmin(x)
            expected_lowest, expected_at = first_lowest(x)
            assert at == expected_at, x
            assert lowest == expected_lowest


@pytest.mark.parametrize("n", [2, 7, 9, 17, 64, 131])
def test_compiled_assignment_equals_scipy_on_ties_around_a_unique_optimum(n):
    # integer costs full of ties everywhere but on one planted matching of cost 0
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    rng = np.random.default_rng(61 + n)
    for scale in (1.0, -1.0, 1e6):
        perm = rng.permutation(n)
        cost = rng.integers(1, 3, size=(n, n)).astype(float)
        cost[np.arange(n), perm] = 0.0
        cost = scale * cost if scale > 0 else cost - 5.0  # negative costs too
        col = kernels.solve_lap(cost)
        np.testing.assert_array_equal(col, perm)
        np.testing.assert_array_equal(col, linear_sum_assignment(cost)[1])


@pytest.mark.parametrize("n", [5, 23, 80, 150])
def test_compiled_assignment_is_optimal_with_many_ties_and_few_values(n):
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    rng = np.random.default_rng(62 + n)
    for high in (2, 3, 10):
        cost = rng.integers(0, high, size=(n, n)).astype(float)
        col = kernels.solve_lap(cost)
        np.testing.assert_array_equal(np.sort(col), np.arange(n))
        rows, best = linear_sum_assignment(cost)
        assert cost[rows, col].sum() == cost[rows, best].sum()


def test_compiled_block_equals_scipy_on_sphere_centroids():
    # the matching neuromaps computes: linear_sum_assignment of the distance matrix
    kernels = pytest.importorskip("nispace.nulls._spin_kernels")
    coords, hemi = sphere_centroids(101, seed=63)
    c = coords[hemi == 0]
    left, _ = rotation_matrices(30, seed=64)
    out = np.empty((30, c.shape[0]), dtype=np.intp)
    kernels.lap_block(c, c @ left, out)
    for r in range(30):
        np.testing.assert_array_equal(out[r],
                                      linear_sum_assignment(distance_matrix(c, c @ left[r]))[1])


def test_grid_candidates_hold_the_nearest_point(matching_path):
    from nispace.nulls.spins import _CellCandidates, _NearestVertex

    coords, _ = sphere_centroids(300, seed=47)
    rng = np.random.default_rng(48)
    left, _ = rotation_matrices(30, seed=49)
    queries = (coords @ left).reshape(-1, 3)  # on the shell, as rotated points are
    expected = distance_matrix(queries, coords).argmin(axis=1)
    np.testing.assert_array_equal(_NearestVertex(coords)(queries, 2), expected)
    grid = _CellCandidates(coords, margin=1e-6)
    assert (grid.cand >= 0).sum(axis=1).mean() < 12  # a few candidates per cell
    # off the shell: no list, the k-d tree answers
    far = 300 * rng.standard_normal((10, 3))
    np.testing.assert_array_equal(_NearestVertex(coords)(far, 1),
                                  distance_matrix(far, coords).argmin(axis=1))


def test_grid_stays_small_for_a_far_outlier(matching_path):
    # one centroid far from a tight cluster: the grid is capped, answers stay exact
    from nispace.nulls.spins import _MAX_CELLS, _CellCandidates, _NearestVertex

    rng = np.random.default_rng(50)
    pts = np.r_[rng.standard_normal((200, 3)) * 1e-3, [[1e4, 0, 0]]]
    grid = _CellCandidates(pts, margin=1e-9)
    assert grid.lookup.size <= _MAX_CELLS
    queries = rng.standard_normal((300, 3)) * 1e-3
    np.testing.assert_array_equal(_NearestVertex(pts)(queries, 1),
                                  distance_matrix(queries, pts).argmin(axis=1))
    # points filling a cube, not on a sphere: no grid, the plain search answers
    cube = rng.uniform(-1, 1, (3000, 3))
    cube[0] = [1e3, 1e3, 1e3]
    assert _CellCandidates(cube, margin=1e-9).cand is None
    np.testing.assert_array_equal(_NearestVertex(cube)(queries, 1),
                                  distance_matrix(queries, cube).argmin(axis=1))
    spun = spin_permutations(cube, np.zeros(3000, dtype=int), 2, seed=51)
    assert spun.shape == (2, 3000)
