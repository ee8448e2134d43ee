"""Tests for nispace.parcellation.geometry.

Every result is compared with an independent reference: scipy.ndimage and
nibabel for volume centroids, plain Python loops for surface centroids, a
closed form on a flat grid and Floyd-Warshall on hand-built dense graphs for
geodesic distances.
"""

import numpy as np
import pytest
from nibabel.affines import apply_affine
from scipy import ndimage
from scipy.sparse.csgraph import floyd_warshall
from scipy.spatial import ConvexHull

from nispace.parcellation.geometry import (
    euclidean_distance_matrix,
    geodesic_distance_matrix,
    mesh_edges,
    parcel_geodesic_distances,
    surface_centroids,
    volume_centroids,
)

# ---------------------------------------------------------------------------
# synthetic data
# ---------------------------------------------------------------------------


def sphere_mesh(n_points=300, seed=0):
    """Triangulated unit sphere: convex hull of random points on it."""
    rng = np.random.default_rng(seed)
    coords = rng.normal(size=(n_points, 3))
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    return coords, ConvexHull(coords).simplices


def voronoi_labels(coords, n_parcels, seed=0):
    """Contiguous parcels 1..n_parcels: nearest of random seed vertices."""
    rng = np.random.default_rng(seed)
    seeds = coords[rng.choice(len(coords), n_parcels, replace=False)]
    return 1 + np.argmin(((coords[:, None] - seeds[None]) ** 2).sum(-1), axis=1)


def flat_grid(n):
    """n x n grid in the plane, unit spacing, vertex (i, j) has index i*n + j.

    Every square is split by the diagonal (i, j)-(i+1, j+1).
    """
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    coords = np.column_stack([i.ravel(), j.ravel(), np.zeros(n * n)]).astype(float)
    faces = []
    for a in range(n - 1):
        for b in range(n - 1):
            v00, v10, v01, v11 = a * n + b, (a + 1) * n + b, a * n + b + 1, (a + 1) * n + b + 1
            faces += [(v00, v10, v11), (v00, v01, v11)]
    return coords, np.array(faces)


def dense_edge_graph(faces, coords, mask=None):
    """Dense adjacency with Euclidean edge lengths, built with a plain loop."""
    n = len(coords)
    graph = np.zeros((n, n))  # 0 = no edge for csgraph on dense input
    for face in faces:
        for a, b in [(face[0], face[1]), (face[1], face[2]), (face[2], face[0])]:
            if mask is None or (mask[a] and mask[b]):
                graph[a, b] = graph[b, a] = np.linalg.norm(coords[a] - coords[b])
    return graph


# ---------------------------------------------------------------------------
# volume centroids
# ---------------------------------------------------------------------------


def test_volume_centroids_match_ndimage_center_of_mass():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 6, size=(7, 8, 9))  # 0 = background
    data[data == 4] = 0  # label 4 absent
    # rotation, shear, anisotropic voxels and a translation
    c, s = np.cos(0.3), np.sin(0.3)
    rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    shear = np.array([[1, 0.2, 0], [0, 1, 0.1], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ shear @ np.diag([1.5, 2.0, 3.0])
    affine[:3, 3] = [-90, -126, -72]
    label_values = [5, 1, 4, 2, 3]  # arbitrary order

    centroids = volume_centroids(data, affine, label_values)

    assert centroids.shape == (5, 3)
    for row, value in zip(centroids, label_values):
        if value == 4:
            assert np.isnan(row).all()
        else:
            ijk = ndimage.center_of_mass(data == value)
            np.testing.assert_allclose(row, apply_affine(affine, ijk), atol=1e-9)
    # float volumes (as from img.get_fdata()) give the same result
    np.testing.assert_allclose(
        volume_centroids(data.astype(float), affine, label_values), centroids, equal_nan=True
    )


def test_volume_centroids_unusual_label_values():
    rng = np.random.default_rng(7)
    data = rng.choice([-5, 0, 7, 2**40], size=(6, 5, 4)).astype(np.int64)  # huge range
    label_values = [2**40, -5, 7, 3]
    affine = np.diag([2.0, 2.0, 2.0, 1.0])

    for volume in (data, np.where(data == 0, np.nan, data.astype(float))):  # NaN background
        centroids = volume_centroids(volume, affine, label_values)
        for row, value in zip(centroids[:3], label_values[:3]):
            ijk = ndimage.center_of_mass(data == value)
            np.testing.assert_allclose(row, apply_affine(affine, ijk), atol=1e-9)
        assert np.isnan(centroids[3]).all()


# ---------------------------------------------------------------------------
# surface centroids
# ---------------------------------------------------------------------------


def test_surface_centroids_match_brute_force_loop():
    coords, _ = sphere_mesh(400)
    labels = voronoi_labels(coords, 12)
    label_values = [3, 99, 1, 2, *range(4, 13)]  # arbitrary order, 99 absent

    surf, surf_idx = surface_centroids(labels, coords, label_values, method="surface")
    avg, avg_idx = surface_centroids(labels, coords, label_values, method="average")

    for k, value in enumerate(label_values):
        vertices = np.flatnonzero(labels == value)
        if vertices.size == 0:
            assert np.isnan(surf[k]).all() and np.isnan(avg[k]).all()
            assert surf_idx[k] == avg_idx[k] == -1
            continue
        mean = coords[vertices].mean(axis=0)
        closest = vertices[np.argmin(np.linalg.norm(coords[vertices] - mean, axis=1))]
        np.testing.assert_allclose(avg[k], mean, atol=1e-12)
        assert surf_idx[k] == avg_idx[k] == closest
        # the "surface" centroid is a vertex of the parcel, on the sphere
        assert labels[surf_idx[k]] == value
        np.testing.assert_array_equal(surf[k], coords[closest])
        assert np.isclose(np.linalg.norm(surf[k]), 1.0)
        assert np.linalg.norm(avg[k]) < 1.0  # the mean lies inside the sphere


# ---------------------------------------------------------------------------
# distances
# ---------------------------------------------------------------------------


def test_euclidean_distance_matrix_matches_numpy():
    rng = np.random.default_rng(2)
    coords = rng.normal(size=(10, 3)) * 50
    expected = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(euclidean_distance_matrix(coords), expected, atol=1e-10)

    coords[3] = np.nan  # e.g. an absent parcel
    dist = euclidean_distance_matrix(coords)
    assert np.isnan(dist[3]).all() and np.isnan(dist[:, 3]).all()
    keep = np.arange(10) != 3
    np.testing.assert_allclose(dist[np.ix_(keep, keep)], expected[np.ix_(keep, keep)], atol=1e-10)
    assert np.array_equal(dist, dist.T, equal_nan=True)


def test_mesh_edges_is_symmetric_with_edge_lengths():
    coords, faces = sphere_mesh(100)
    graph = mesh_edges(faces, coords)
    np.testing.assert_allclose(graph.toarray(), dense_edge_graph(faces, coords))
    # closed triangulated sphere: E = 3V - 6 edges, each stored in both directions
    assert graph.nnz == 2 * (3 * len(coords) - 6)


def test_geodesic_distance_on_flat_grid_has_closed_form():
    n = 12
    coords, faces = flat_grid(n)

    def vertex(i, j):
        return i * n + j

    def exact(dx, dy):
        # graph metric: steps (+-1, 0), (0, +-1) of length 1, (+1, +1), (-1, -1) of sqrt(2)
        if dx * dy >= 0:
            return min(abs(dx), abs(dy)) * np.sqrt(2) + abs(abs(dx) - abs(dy))
        return abs(dx) + abs(dy)

    points = [(0, 0), (3, 5), (7, 2), (11, 11), (0, 9), (10, 0), (5, 5), (2, 8)]
    sources = np.array([vertex(i, j) for i, j in points])
    dist = geodesic_distance_matrix(faces, coords, sources)

    for a, (i1, j1) in enumerate(points):
        for b, (i2, j2) in enumerate(points):
            assert dist[a, b] == pytest.approx(exact(i2 - i1, j2 - j1), abs=1e-9)
    # the formula from the origin: min(dx, dy) * sqrt(2) + |dx - dy|
    assert dist[0, 1] == pytest.approx(3 * np.sqrt(2) + 2)
    assert dist[0, 3] == pytest.approx(11 * np.sqrt(2))


def test_geodesic_distance_matches_floyd_warshall_on_sphere():
    coords, faces = sphere_mesh(250, seed=3)
    all_pairs = floyd_warshall(dense_edge_graph(faces, coords), directed=False)
    sources = np.array([0, 17, 42, 99, 100, 249, 42])  # a repeated source is fine

    dist = geodesic_distance_matrix(faces, coords, sources)

    np.testing.assert_allclose(dist, all_pairs[np.ix_(sources, sources)], rtol=1e-12)
    # graph paths are never shorter than the great-circle distance
    great_circle = np.arccos(np.clip(coords[sources] @ coords[sources].T, -1, 1))
    assert np.all(dist >= great_circle - 1e-12)


def test_geodesic_distance_is_symmetric_with_zero_diagonal():
    coords, faces = sphere_mesh(300, seed=4)
    sources = np.array([5, -1, 80, 160, 240, 299])  # -1 = missing (absent parcel)

    dist = geodesic_distance_matrix(faces, coords, sources)

    assert np.array_equal(dist, dist.T, equal_nan=True)
    assert np.isnan(dist[1]).all() and np.isnan(dist[:, 1]).all()
    valid = sources >= 0
    np.testing.assert_array_equal(np.diag(dist)[valid], 0.0)
    off_diagonal = dist[np.ix_(valid, valid)][~np.eye(valid.sum(), dtype=bool)]
    assert np.all(off_diagonal > 0) and np.all(np.isfinite(off_diagonal))


def test_masking_makes_distances_longer_or_infinite_never_shorter():
    coords, faces = sphere_mesh(400, seed=5)
    z = coords[:, 2]
    north, south = np.flatnonzero(z > 0.5)[:4], np.flatnonzero(z < -0.5)[:4]
    sources = np.r_[north, south]
    full = geodesic_distance_matrix(faces, coords, sources)

    # a band around the equator cuts the sphere in two
    band = np.abs(z) > 0.2
    cut = geodesic_distance_matrix(faces, coords, sources, mask=band)
    assert np.all(np.isinf(cut[:4, 4:])) and np.all(np.isinf(cut[4:, :4]))
    assert np.all(cut[:4, :4] >= full[:4, :4] - 1e-12)
    assert np.all(cut[4:, 4:] >= full[4:, 4:] - 1e-12)
    # same result as Floyd-Warshall on the masked graph
    reference = floyd_warshall(dense_edge_graph(faces, coords, band), directed=False)
    np.testing.assert_allclose(cut, reference[np.ix_(sources, sources)], rtol=1e-12)

    # a hole (e.g. a medial wall) on the path: longer, not shorter
    hole = np.linalg.norm(coords - [1, 0, 0], axis=1) > 0.6
    detour = geodesic_distance_matrix(faces, coords, sources, mask=hole)
    assert np.all(detour >= full - 1e-12)
    assert np.any(detour > full + 1e-6)


def test_parcel_geodesic_distances_between_centroid_vertices():
    coords, faces = sphere_mesh(400, seed=6)
    labels = voronoi_labels(coords, 10, seed=6)
    mask = coords[:, 0] < 0.8  # "medial wall" = cap around +x
    label_values = [*range(1, 11), 50]  # 50 absent

    dist = parcel_geodesic_distances(labels, faces, coords, label_values, mask=mask)

    # reference: centroid vertex of each parcel's unmasked vertices, by a loop
    centroid_vertices = []
    for value in label_values[:-1]:
        vertices = np.flatnonzero((labels == value) & mask)
        mean = coords[vertices].mean(axis=0)
        centroid_vertices.append(vertices[np.argmin(np.linalg.norm(coords[vertices] - mean, axis=1))])
    reference = floyd_warshall(dense_edge_graph(faces, coords, mask), directed=False)
    np.testing.assert_allclose(
        dist[:-1, :-1], reference[np.ix_(centroid_vertices, centroid_vertices)], rtol=1e-12
    )
    assert np.isnan(dist[-1]).all() and np.isnan(dist[:, -1]).all()


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    coords, faces = sphere_mesh(50)
    labels = voronoi_labels(coords, 4)

    with pytest.raises(ValueError, match="method must be 'surface' or 'average'"):
        surface_centroids(labels, coords, [1, 2], method="mean")
    with pytest.raises(ValueError, match="labels must have shape"):
        surface_centroids(labels[:-1], coords, [1, 2])
    with pytest.raises(ValueError, match=r"coords must have shape \(n, 3\)"):
        surface_centroids(labels, coords[:, :2], [1, 2])
    with pytest.raises(ValueError, match="label_values must not contain duplicates"):
        surface_centroids(labels, coords, [1, 2, 1])
    with pytest.raises(ValueError, match="labels_data must be a 3D volume"):
        volume_centroids(np.zeros((4, 4)), np.eye(4), [1])
    with pytest.raises(ValueError, match=r"affine must have shape \(4, 4\)"):
        volume_centroids(np.zeros((4, 4, 4), int), np.eye(3), [1])
    with pytest.raises(ValueError, match="faces must be an integer array"):
        mesh_edges(faces[:, :2], coords)
    with pytest.raises(ValueError, match="faces must index vertices"):
        mesh_edges(faces + 1, coords)
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        mesh_edges(faces, coords, mask=np.ones(len(coords)))
    with pytest.raises(ValueError, match="source_vertices must be -1 or in"):
        geodesic_distance_matrix(faces, coords, np.array([0, len(coords)]))
    with pytest.raises(ValueError, match="source_vertices must be a 1D integer array"):
        geodesic_distance_matrix(faces, coords, np.array([0.0, 1.0]))
