"""Parcel centroids and inter-parcel distance matrices.

Pure array functions (NumPy/SciPy only): no file I/O, no logging. They are
the geometric building blocks for spatially constrained null models, e.g.
spin tests (which rotate parcel centroids on the sphere, Alexander-Bloch et
al., 2018, NeuroImage 178:540-551) and variogram-matching surrogates (which
need a parcel-by-parcel distance matrix, Burt et al., 2020, NeuroImage
220:117038).

Conventions
-----------
- Label values that are absent give a row of NaN (coordinates/distances) and,
  where vertex indices are returned, the index ``-1``.
- Geodesic distances are graph distances along the triangle edges of the
  mesh (Dijkstra, 1959, Numer. Math. 1:269-271). They approximate, and
  slightly overestimate, the true geodesic distance on the surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from scipy import sparse

__all__ = [
    "volume_centroids",
    "surface_centroids",
    "euclidean_distance_matrix",
    "mesh_edges",
    "geodesic_distance_matrix",
    "parcel_geodesic_distances",
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _as_label_values(label_values: Sequence[int]) -> np.ndarray:
    values = np.asarray(label_values).ravel()
    if values.size != np.unique(values).size:
        raise InputError("label_values must not contain duplicates.")
    return values


def _label_positions(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each element of `labels` in `values`, or ``len(values)``.

    Works for any label dtype (float volumes from ``get_fdata()`` included);
    elements whose label is not in `values` (background, NaN) map to the
    extra bin ``len(values)``.
    """
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        with np.errstate(invalid="ignore"):
            as_int = labels.astype(np.intp)
        if np.array_equal(as_int, labels):  # integer-valued floats
            labels = as_int
    if labels.size and np.issubdtype(labels.dtype, np.integer):
        # fast path: lookup table over the label range (one gather)
        lo, hi = min(int(labels.min()), 0), int(labels.max())
        if hi - lo < 2**24:
            table = np.full(hi - lo + 1, values.size, dtype=np.intp)
            usable = (values >= lo) & (values <= hi) & (values == np.round(values))
            table[values[usable].astype(np.intp) - lo] = np.flatnonzero(usable)
            return table[labels if lo == 0 else np.subtract(labels, lo, dtype=np.intp)]
    # general path: binary search (any dtype, NaN, huge label ranges)
    order = np.argsort(values)
    sorted_values = values[order]
    pos = np.searchsorted(sorted_values, labels)
    pos[pos == values.size] = 0  # out of range -> any index, fixed below
    found = sorted_values[pos] == labels if values.size else np.zeros(labels.shape, bool)
    out = np.full(labels.shape, values.size, dtype=np.intp)
    out[found] = order[pos[found]]
    return out


def _check_coords(coords: np.ndarray, name: str = "coords") -> np.ndarray:
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise InputError(f"{name} must have shape (n, 3), got {coords.shape}.")
    return coords


# --------------------------------------------------------------------------
# centroids
# --------------------------------------------------------------------------

def volume_centroids(
    labels_data: np.ndarray,
    affine: np.ndarray,
    label_values: Sequence[int],
) -> np.ndarray:
    """World coordinates of the centers of mass of the labels of a volume.

    The centroid of a label is the mean voxel index ``(i, j, k)`` of its
    voxels (center of mass of the binary mask), mapped to world space with
    ``x = A[:3, :3] @ ijk + A[:3, 3]``. All labels are computed at once with
    :func:`numpy.bincount` (one pass per axis), so a 1 mm MNI volume with
    hundreds of labels takes well under a second.

    Parameters
    ----------
    labels_data : ndarray, shape (nx, ny, nz)
        Integer label volume (integer-valued floats are accepted).
    affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) affine.
    label_values : sequence of int, length n_labels
        Labels to compute centroids for, in the desired output order.

    Returns
    -------
    centroids : ndarray, shape (n_labels, 3)
        World coordinates; a row of NaN for labels absent from the volume.
    """
    data = np.asarray(labels_data)
    if data.ndim != 3:
        raise InputError(f"labels_data must be a 3D volume, got shape {data.shape}.")
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4):
        raise InputError(f"affine must have shape (4, 4), got {affine.shape}.")
    values = _as_label_values(label_values)
    n = values.size

    bins = _label_positions(data.ravel(), values)
    counts = np.bincount(bins, minlength=n + 1)[:n]
    ijk = np.empty((n, 3))
    for axis, size in enumerate(data.shape):
        shape = [1, 1, 1]
        shape[axis] = size
        index = np.broadcast_to(np.arange(size, dtype=float).reshape(shape), data.shape)
        ijk[:, axis] = np.bincount(bins, weights=index.ravel(), minlength=n + 1)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        ijk /= counts[:, None]  # absent labels: 0 / 0 -> NaN
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def surface_centroids(
    labels: np.ndarray,
    coords: np.ndarray,
    label_values: Sequence[int],
    method: str = "surface",
) -> tuple[np.ndarray, np.ndarray]:
    """Centroids of surface parcels.

    The mean coordinate of a parcel's vertices generally lies inside the
    mesh (e.g. below the surface of a sphere). With ``method="surface"`` the
    centroid is instead the parcel's own vertex closest (Euclidean) to that
    mean, so it lies on the mesh, as needed for spin tests on the sphere.

    Parameters
    ----------
    labels : ndarray, shape (n_vertices,)
        Parcel label of each vertex.
    coords : ndarray, shape (n_vertices, 3)
        Vertex coordinates (e.g. of the sphere or a midthickness surface).
    label_values : sequence of int, length n_labels
        Labels to compute centroids for, in the desired output order.
    method : {"surface", "average"}
        ``"average"``: mean vertex coordinate; ``"surface"``: coordinate of
        the parcel vertex closest to the mean.

    Returns
    -------
    centroids : ndarray, shape (n_labels, 3)
        Centroid coordinates; a row of NaN for absent labels.
    vertices : ndarray of int, shape (n_labels,)
        Index of the parcel vertex closest to the mean (for both methods);
        ``-1`` for absent labels. Ties go to the lowest vertex index.
    """
    if method not in ("surface", "average"):
        raise InputError(f"method must be 'surface' or 'average', got {method!r}.")
    coords = _check_coords(coords)
    labels = np.asarray(labels)
    if labels.shape != (coords.shape[0],):
        raise InputError(
            f"labels must have shape (n_vertices,) = ({coords.shape[0]},) to match "
            f"coords, got {labels.shape}."
        )
    values = _as_label_values(label_values)
    n = values.size

    bins = _label_positions(labels, values)
    counts = np.bincount(bins, minlength=n + 1)
    mean = np.stack(
        [np.bincount(bins, weights=c, minlength=n + 1) for c in coords.T], axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean /= counts[:, None]

    # closest vertex of each parcel to its mean: sort by (parcel, distance)
    dist = np.sum((coords - mean[bins]) ** 2, axis=1)
    order = np.lexsort((dist, bins))
    first = np.searchsorted(bins[order], np.arange(n))
    vertices = np.full(n, -1, dtype=np.intp)
    present = counts[:n] > 0
    vertices[present] = order[first[present]]

    if method == "average":
        return mean[:n], vertices
    centroids = np.full((n, 3), np.nan)
    centroids[present] = coords[vertices[present]]
    return centroids, vertices


# --------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------

def euclidean_distance_matrix(coords: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances between points.

    Parameters
    ----------
    coords : ndarray, shape (n, 3)
        Point coordinates, e.g. parcel centroids; rows with NaN are allowed.

    Returns
    -------
    dist : ndarray, shape (n, n)
        Symmetric distance matrix with zero diagonal; rows and columns of
        points with non-finite coordinates are NaN (diagonal included).
    """
    coords = _check_coords(coords)
    from scipy.spatial.distance import pdist, squareform  # ~0.2 s: only when used

    dist = squareform(pdist(coords))
    bad = ~np.isfinite(coords).all(axis=1)
    dist[bad, :] = np.nan
    dist[:, bad] = np.nan
    return dist


def mesh_edges(
    faces: np.ndarray,
    coords: np.ndarray,
    mask: np.ndarray | None = None,
) -> sparse.csr_matrix:
    """Weighted edge graph of a triangle mesh.

    Parameters
    ----------
    faces : ndarray of int, shape (n_faces, 3)
        Vertex indices of the triangles.
    coords : ndarray, shape (n_vertices, 3)
        Vertex coordinates.
    mask : ndarray of bool, shape (n_vertices,), optional
        True for vertices to keep. Edges touching a masked-out vertex (e.g.
        the medial wall) are dropped, so paths cannot cross it.

    Returns
    -------
    graph : scipy.sparse.csr_matrix, shape (n_vertices, n_vertices)
        Symmetric adjacency matrix; each edge ``(i, j)`` stored once per
        direction with weight ``||coords[i] - coords[j]||``. Zero-length
        edges are stored explicitly (csgraph treats them as edges).
    """
    coords = _check_coords(coords)
    n_vertices = coords.shape[0]
    faces = np.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise InputError(f"faces must be an integer array of shape (n_faces, 3), got "
                         f"{faces.dtype} array of shape {faces.shape}.")
    if faces.size and (faces.min() < 0 or faces.max() >= n_vertices):
        raise InputError(f"faces must index vertices in [0, {n_vertices}).")

    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2).astype(np.intp)
    edges = np.unique(np.sort(edges, axis=1), axis=0)  # each edge once
    edges = edges[edges[:, 0] != edges[:, 1]]  # degenerate faces
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != (n_vertices,) or mask.dtype != bool:
            raise InputError(f"mask must be a boolean array of shape ({n_vertices},), "
                             f"got {mask.dtype} array of shape {mask.shape}.")
        edges = edges[mask[edges[:, 0]] & mask[edges[:, 1]]]

    i, j = edges.T
    weight = np.linalg.norm(coords[i] - coords[j], axis=1)
    from scipy import sparse

    return sparse.csr_matrix(
        (np.r_[weight, weight], (np.r_[i, j], np.r_[j, i])), shape=(n_vertices, n_vertices)
    )


def geodesic_distance_matrix(
    faces: np.ndarray,
    coords: np.ndarray,
    source_vertices: np.ndarray,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Shortest-path distances along the mesh between selected vertices.

    Runs Dijkstra's algorithm from the source vertices only (not all pairs)
    on the graph of :func:`mesh_edges`.

    Parameters
    ----------
    faces : ndarray of int, shape (n_faces, 3)
        Vertex indices of the triangles.
    coords : ndarray, shape (n_vertices, 3)
        Vertex coordinates.
    source_vertices : ndarray of int, shape (n_sources,)
        Vertices between which to measure distances; ``-1`` marks a missing
        source (e.g. an absent parcel).
    mask : ndarray of bool, shape (n_vertices,), optional
        True for vertices paths may use; see :func:`mesh_edges`. A masked-out
        source is isolated (infinite distance to all other sources).

    Returns
    -------
    dist : ndarray, shape (n_sources, n_sources)
        Symmetric (elementwise minimum of the two directions, removing
        floating-point asymmetry) with zero diagonal; ``np.inf`` for pairs
        not connected on the mesh, NaN rows and columns for ``-1`` sources.
    """
    graph = mesh_edges(faces, coords, mask)
    sources = np.asarray(source_vertices)
    if sources.ndim != 1 or not np.issubdtype(sources.dtype, np.integer):
        raise InputError("source_vertices must be a 1D integer array.")
    if sources.size and (sources.min() < -1 or sources.max() >= graph.shape[0]):
        raise InputError(f"source_vertices must be -1 or in [0, {graph.shape[0]}).")

    valid = sources >= 0
    dist = np.full((sources.size, sources.size), np.nan)
    if not valid.any():
        return dist
    unique, inverse = np.unique(sources[valid], return_inverse=True)
    # the graph holds both directions of every edge, so directed=True is exact
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(graph, directed=True, indices=unique)[:, unique][np.ix_(inverse, inverse)]
    d = np.minimum(d, d.T)
    np.fill_diagonal(d, 0.0)
    dist[np.ix_(valid, valid)] = d
    return dist


def parcel_geodesic_distances(
    labels: np.ndarray,
    faces: np.ndarray,
    coords: np.ndarray,
    label_values: Sequence[int],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Geodesic distances between surface parcels.

    The distance between two parcels is defined as the shortest path along
    the mesh edges between their centroid vertices, with masked-out vertices
    (medial wall) excluded from the paths. The centroid vertex of a parcel is
    its vertex closest to the parcel's mean vertex coordinate on this mesh
    (:func:`surface_centroids` with ``method="surface"``), computed from the
    parcel's unmasked vertices only, so it never lies in the medial wall.

    Parameters
    ----------
    labels : ndarray, shape (n_vertices,)
        Parcel label of each vertex.
    faces : ndarray of int, shape (n_faces, 3)
        Vertex indices of the triangles.
    coords : ndarray, shape (n_vertices, 3)
        Vertex coordinates of the surface to measure on (e.g. midthickness).
    label_values : sequence of int, length n_labels
        Parcels, in the desired output order.
    mask : ndarray of bool, shape (n_vertices,), optional
        True for vertices to keep (cortex), False for the medial wall.

    Returns
    -------
    dist : ndarray, shape (n_labels, n_labels)
        Symmetric, zero diagonal; ``np.inf`` for parcels not connected on the
        mesh (e.g. separated by the mask), NaN rows/columns for absent parcels.
    """
    coords = _check_coords(coords)
    if mask is None:
        _, vertices = surface_centroids(labels, coords, label_values, method="surface")
    else:
        mask = np.asarray(mask)
        if mask.shape != (coords.shape[0],) or mask.dtype != bool:
            raise InputError(f"mask must be a boolean array of shape ({coords.shape[0]},), "
                             f"got {mask.dtype} array of shape {mask.shape}.")
        labels = np.asarray(labels)
        if labels.shape != (coords.shape[0],):
            raise InputError(f"labels must have shape ({coords.shape[0]},) to match "
                             f"coords, got {labels.shape}.")
        keep = np.flatnonzero(mask)
        _, sub = surface_centroids(labels[keep], coords[keep], label_values, method="surface")
        vertices = np.full_like(sub, -1)
        vertices[sub >= 0] = keep[sub[sub >= 0]]
    return geodesic_distance_matrix(faces, coords, vertices, mask)


def vertex_areas(coords: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area (mm²) attributed to every vertex of a triangle mesh: one third of the area
    of each triangle it belongs to (so the areas sum to the mesh's area).

    Parameters
    ----------
    coords : ndarray (n_vertices, 3)
    faces : ndarray (n_faces, 3) of int

    Returns
    -------
    ndarray (n_vertices,)
    """
    coords = _check_coords(coords)
    faces = np.asarray(faces, dtype=np.int64)
    a, b, c = (coords[faces[:, k]] for k in range(3))
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    out = np.zeros(len(coords))
    for k in range(3):
        np.add.at(out, faces[:, k], tri / 3.0)
    return out
