"""Resampling weights between spherical meshes (nispace.transforms._sphere), checked
analytically on small synthetic spheres: identity on the same mesh, one-hot rows on
shared vertices, rows summing to 1, linear functions reproduced within the planar error,
and the weighted mode of labels against a direct sum."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import ConvexHull

from nispace.transforms._sphere import (adaptive_area_weights, apply_weights,
                                        barycentric_weights, label_mode)


def sphere_mesh(n: int, radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points spread evenly on a sphere (Fibonacci lattice), triangulated by their
    convex hull."""
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + 5 ** 0.5) * i
    r = np.sqrt(1 - z ** 2)
    coords = radius * np.column_stack([r * np.cos(phi), r * np.sin(phi), z])
    return coords, ConvexHull(coords).simplices


def test_the_same_mesh_gives_the_identity():
    coords, faces = sphere_mesh(200)
    eye = np.eye(len(coords))
    np.testing.assert_allclose(barycentric_weights(coords, faces, coords).toarray(), eye,
                               atol=1e-9)
    np.testing.assert_allclose(
        adaptive_area_weights(coords, faces, coords, faces).toarray(), eye, atol=1e-9)


def test_targets_on_source_vertices_get_one_hot_rows():
    coords, faces = sphere_mesh(300, radius=100.0)  # any radius
    picked = np.random.default_rng(0).choice(len(coords), 40, replace=False)
    w = barycentric_weights(coords, faces, coords[picked] / 100.0).toarray()
    expected = np.zeros_like(w)
    expected[np.arange(len(picked)), picked] = 1.0
    np.testing.assert_allclose(w, expected, atol=1e-9)


def test_rows_sum_to_one_and_coarse_targets_average_every_source_vertex():
    src, src_faces = sphere_mesh(500)
    tgt, tgt_faces = sphere_mesh(120)
    bary = barycentric_weights(src, src_faces, tgt)
    assert bary.shape == (120, 500)
    assert (np.diff(bary.indptr) <= 3).all() and bary.data.min() >= 0
    np.testing.assert_allclose(np.asarray(bary.sum(axis=1)).ravel(), 1.0)
    area = np.random.default_rng(1).uniform(0.5, 2.0, len(src))
    adap = adaptive_area_weights(src, src_faces, tgt, tgt_faces, area)
    np.testing.assert_allclose(np.asarray(adap.sum(axis=1)).ravel(), 1.0)
    # downsampling: every source vertex contributes to some target vertex
    assert (np.asarray((adap > 0).sum(axis=0)).ravel() > 0).all()


def test_a_linear_function_is_reproduced_within_the_planar_error():
    """Barycentric interpolation is exact in the plane of each triangle; on the sphere the
    error is bounded by how far the triangle plane lies inside the sphere."""
    src, faces = sphere_mesh(400)
    tgt, _ = sphere_mesh(97)
    a = np.array([0.3, -1.2, 2.0])
    w = barycentric_weights(src, faces, tgt)
    ours = apply_weights(w, src @ a)
    # distance of each face plane from the centre; 1 - min is the largest gap to the sphere
    v0, v1, v2 = (src[faces[:, k]] for k in range(3))
    normal = np.cross(v1 - v0, v2 - v0)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    gap = 1 - np.abs((normal * v0).sum(axis=1)).min()
    assert 0 < gap < 0.05
    assert np.abs(ours - tgt @ a).max() <= np.linalg.norm(a) * gap + 1e-12
    # without NaN, apply_weights is the plain weighted mean
    np.testing.assert_allclose(ours, (w @ src) @ a, atol=1e-12)


def test_apply_weights_leaves_nan_sources_out():
    w = sparse.csr_matrix(np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]))
    out = apply_weights(w, np.array([2.0, np.nan, np.nan]))
    np.testing.assert_array_equal(out[:1], [2.0])
    assert np.isnan(out[1])


def test_label_mode_picks_the_label_with_the_largest_summed_weight():
    # row 0: label 2 has the largest single weight (0.45) but label 1 the largest sum (0.55)
    weights = sparse.csr_matrix(np.array([[0.20, 0.35, 0.45, 0.00],
                                          [0.10, 0.10, 0.50, 0.30],
                                          [0.00, 0.00, 0.00, 1.00]]))
    labels = np.array([1, 1, 2, 7])
    ours = label_mode(weights, labels)
    dense = weights.toarray()
    reference = [max(set(labels), key=lambda lab: dense[i, labels == lab].sum())
                 for i in range(len(dense))]
    np.testing.assert_array_equal(ours, reference)
    np.testing.assert_array_equal(ours, [1, 2, 7])
