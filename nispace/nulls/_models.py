"""Builders of the registry: each null family wrapped as a :class:`NullModel`.

Distance-based families use the samplers of their modules (prepare once per parcel
set, fit once per map, draw per chunk). Maps with NaN parcels are handled on their
valid parcels (one prepared sampler per NaN pattern), and NaN is put back at the
same parcels in every null.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np

from ..errors import InputError
from . import spins
from ._base import NullModel
from .burt import Burt2018Sampler, Burt2020Sampler
from .moran import MoranSampler, VarioMoranSampler
from .shuffle import RandomSampler

__all__ = ["BUILDERS"]

#: name -> builder ``builder(name=..., **geometry_and_options) -> NullModel``; read by
#: :func:`nispace.nulls.registry.make_null_model`.
BUILDERS: dict = {}


def register(*names):
    """Decorator: register a NullModel builder under ``names`` in :data:`BUILDERS`."""
    def deco(builder):
        for name in names:
            BUILDERS[name] = builder
        return builder
    return deco


#: sampler models whose draws cost about as much as reading them back (one small matrix
#: product or shuffle per chunk after a fit); see :attr:`NullModel.cheap`
_CHEAP = ("moran", "random")


def _row_key(row: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(row, dtype=np.float64).tobytes()).hexdigest()


class SamplerModel(NullModel):
    """A values-kind model around a ``Sampler(dist_mat, **options)`` class."""

    kind = "values"

    def __init__(self, name: str, sampler_cls, dist_mat=None, n_parcels=None, **options):
        self.name, self.sampler_cls, self.options = name, sampler_cls, options
        self.dist_mat = None if dist_mat is None else np.asarray(dist_mat, dtype=np.float64)
        if self.dist_mat is not None:
            if self.dist_mat.ndim != 2 or self.dist_mat.shape[0] != self.dist_mat.shape[1]:
                raise InputError(f"dist_mat: expected a square (n_parcels, n_parcels) matrix; "
                                 f"got shape {self.dist_mat.shape}.")
            n_parcels = self.dist_mat.shape[0]
        self.n_parcels = n_parcels
        self.cheap = name in _CHEAP
        self._bases: dict[bytes, object] = {}
        self._fitted: dict[str, tuple[np.ndarray, object]] = {}

    def _geometry(self):
        return [] if self.dist_mat is None else [self.dist_mat]

    def _params(self):
        return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.options.items()} | {"n": self.n_parcels}

    def _base(self, mask: np.ndarray):
        key = mask.tobytes()
        if key not in self._bases:
            if self.dist_mat is None:
                self._bases[key] = self.sampler_cls(**self.options)
            else:
                self._bases[key] = self.sampler_cls(self.dist_mat[np.ix_(mask, mask)],
                                                    **self.options)
        return self._bases[key]

    def _fit(self, data: np.ndarray):
        key = _row_key(data)
        if key not in self._fitted:
            if data.shape != (self.n_parcels,):
                raise InputError(f"data: expected {self.n_parcels} parcels (the parcels of "
                                 f"dist_mat); got shape {data.shape}.")
            mask = ~np.isnan(data)
            sampler = copy.copy(self._base(mask)).fit(data[mask])
            self._fitted[key] = (mask, sampler)
        return self._fitted[key]

    def prepare(self, data: np.ndarray) -> None:
        """Prepare and fit all maps (rows of ``data``) once, before chunks are shipped."""
        for row in np.atleast_2d(np.asarray(data, dtype=np.float64)):
            self._fit(row)

    def values(self, data, n, seed_map, seed_shared=None):
        data = np.asarray(data, dtype=np.float64)
        mask, sampler = self._fit(data)
        out = np.full((n, data.size), np.nan)
        out[:, mask] = sampler.draw(n, seed_map)
        return out


class SpinModel(NullModel):
    """Parcel-centroid spins (index kind): the same rotations for every map."""

    kind = "index"

    def __init__(self, name: str, coords, hemiid, **options):
        self.name, self.options = name, options
        self.coords = np.asarray(coords, dtype=np.float64)
        self.hemiid = np.asarray(hemiid)

    def _geometry(self):
        return [self.coords, np.asarray(self.hemiid, dtype=np.int64)]

    def _params(self):
        return dict(self.options)

    def indices(self, n, seed):
        method = {"alexander_bloch": "original"}.get(self.name, self.name)
        return spins.spin_permutations(self.coords, self.hemiid, n, seed, method=method,
                                       **self.options)


class VertexSpinModel(NullModel):
    """Vertex-level spins (Baum: index kind; Cornblath: values kind, shared rotations)."""

    def __init__(self, name: str, vertex_coords, vertex_labels, label_values, **options):
        self.name, self.options = name, options
        self.kind = "index" if name == "baum" else "values"
        self.vertex_coords = tuple(np.asarray(c, dtype=np.float64) for c in vertex_coords)
        self.vertex_labels = tuple(np.asarray(v) for v in vertex_labels)
        self.label_values = np.asarray(label_values)

    def _geometry(self):
        return [*self.vertex_coords, *(v.astype(np.int64) for v in self.vertex_labels),
                self.label_values.astype(np.int64)]

    def _params(self):
        return dict(self.options)

    def indices(self, n, seed):
        return spins.vertex_spin_indices(self.vertex_coords, self.vertex_labels,
                                         self.label_values, n, seed, **self.options)

    def values(self, data, n, seed_map, seed_shared=None):
        if self.kind == "index":
            return super().values(data, n, seed_map, seed_shared)
        return spins.cornblath(data, self.vertex_coords, self.vertex_labels, self.label_values,
                               n, seed_shared, **self.options)


@register("alexander_bloch", "vasa", "hungarian")
def _spin(coords=None, hemiid=None, *, name="alexander_bloch", **options):
    if coords is None or hemiid is None:
        raise InputError("coords, hemiid: spin nulls need parcel centroids on the sphere and "
                         "their hemisphere (0 = left, 1 = right).")
    return SpinModel(name, coords, hemiid, **options)


@register("baum", "cornblath")
def _vertex_spin(vertex_coords=None, vertex_labels=None, label_values=None, *, name="baum",
                 **options):
    if vertex_coords is None or vertex_labels is None or label_values is None:
        raise InputError("vertex_coords, vertex_labels, label_values: vertex-level spins need "
                         "the template sphere and the per-vertex parcel labels.")
    return VertexSpinModel(name, vertex_coords, vertex_labels, label_values, **options)


_SAMPLERS = {"moran": MoranSampler, "variomoran": VarioMoranSampler,
             "burt2020": Burt2020Sampler, "burt2018": Burt2018Sampler}


@register(*_SAMPLERS)
def _distance(dist_mat=None, *, name="moran", **options):
    if dist_mat is None:
        raise InputError(f"dist_mat: null method {name!r} needs a (n_parcels, n_parcels) "
                         f"distance matrix.")
    return SamplerModel(name, _SAMPLERS[name], dist_mat=dist_mat, **options)


@register("random")
def _random(n_parcels=None, *, name="random", dist_mat=None, **options):
    if n_parcels is None and dist_mat is not None:
        n_parcels = np.shape(dist_mat)[0]
    if n_parcels is None:
        raise InputError("n_parcels: the random null needs the number of parcels.")
    return SamplerModel(name, RandomSampler, n_parcels=n_parcels, **options)
