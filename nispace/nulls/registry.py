"""One registry for every null model, and the small objects the permutation engine uses.

A *null model* is prepared once for a geometry (centroids, distances, meshes) and
then draws null maps chunk by chunk. Two kinds exist:

* ``"index"`` models (spins) draw map-independent index arrays ``(n, n_parcels)``:
  null = data[idx], -1 meaning NaN. All maps are spun alike, which keeps the maps'
  relations to each other.
* ``"values"`` models (Moran, Burt, random, vertex-level Cornblath spins, split
  cortex/subcortex models) draw ``(n, n_parcels)`` null values for one map.

``values(data, n, seed_map, seed_shared)`` takes two seeds: ``seed_map`` for the
map-specific randomness and ``seed_shared`` for randomness that must be the same for
every map (the spins inside a split model).
"""

from __future__ import annotations

import hashlib
import pickle

import numpy as np

from .._errors import check_option

__all__ = ["SPIN_METHODS", "DIST_METHODS", "NULL_METHODS", "NullModel", "SplitNullModel",
           "SubsetNullModel", "parse_null_method", "make_null_model", "gather"]

SPIN_METHODS = ("alexander_bloch", "vasa", "hungarian", "baum", "cornblath")
DIST_METHODS = ("moran", "variomoran", "burt2020", "burt2018")
NULL_METHODS = SPIN_METHODS + DIST_METHODS + ("random",)
_ALIASES = {"spin": "alexander_bloch", "spins": "alexander_bloch",
            "alexanderbloch": "alexander_bloch", "msr": "moran"}


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"null_method: expected a str; got {type(name).__name__}.")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    check_option("null_method", key, list(NULL_METHODS) + list(_ALIASES))
    return key


def parse_null_method(null_method) -> tuple[str, str | None]:
    """``(cortex_or_single_method, subcortex_method_or_None)`` from a name, a
    ``"spin+moran"`` string or a 2-tuple."""
    if isinstance(null_method, (tuple, list)):
        if len(null_method) != 2:
            raise ValueError(f"null_method: a split method needs two names (cortex, "
                             f"subcortex); got {null_method!r}.")
        return _canonical(null_method[0]), _canonical(null_method[1])
    if isinstance(null_method, str) and "+" in null_method:
        parts = null_method.split("+")
        if len(parts) != 2:
            raise ValueError(f"null_method: expected 'cortex+subcortex' such as 'spin+moran'; "
                             f"got {null_method!r}.")
        return _canonical(parts[0]), _canonical(parts[1])
    return _canonical(null_method), None


def gather(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Resolve index nulls: ``data[idx]`` (1-D data → (n, n_parcels)), NaN where the
    index is -1 or the source is NaN, and the input's NaN parcels stay NaN."""
    data = np.asarray(data, dtype=np.float64)
    bad = idx < 0
    out = data[np.where(bad, 0, idx)]
    out[bad] = np.nan
    out[:, np.isnan(data)] = np.nan
    return out


class NullModel:
    """Base class: a null model prepared for one geometry."""

    name = ""
    kind = "values"

    def digest(self) -> str:
        """Hash of the prepared geometry and parameters (for the null-map cache)."""
        h = hashlib.sha256(self.name.encode())
        for arr in self._geometry():
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(pickle.dumps(sorted(self._params().items()), protocol=4))
        return f"{self.name}-{h.hexdigest()[:24]}"

    def _geometry(self) -> list[np.ndarray]:
        return []

    def _params(self) -> dict:
        return {}

    def prepare(self, data: np.ndarray) -> None:
        """Do the per-map preparation for every row of ``data`` (n_maps, n_parcels) once,
        before the model is shipped to workers (default: nothing to do)."""

    def indices(self, n: int, seed) -> np.ndarray:  # index kind
        raise NotImplementedError

    def values(self, data: np.ndarray, n: int, seed_map, seed_shared=None) -> np.ndarray:
        """``(n, n_parcels)`` nulls of the 1-D map ``data``."""
        if self.kind == "index":
            return gather(data, self.indices(n, seed_shared))
        raise NotImplementedError


def _children(seed) -> tuple:
    """Two child seeds of ``seed`` without changing ``seed`` (so every map gets the same)."""
    if seed is None:
        return None, None
    if not isinstance(seed, np.random.SeedSequence):
        seed = np.random.SeedSequence(seed)
    fresh = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                   pool_size=seed.pool_size)
    return tuple(fresh.spawn(2))


class SplitNullModel(NullModel):
    """Cortex and subcortex parcels permuted by two models, stitched together."""

    kind = "values"

    def __init__(self, cortex: NullModel, subcortex: NullModel, cx_idx, sc_idx):
        self.cortex, self.subcortex = cortex, subcortex
        self.cx_idx, self.sc_idx = np.asarray(cx_idx), np.asarray(sc_idx)
        self.name = f"{cortex.name}+{subcortex.name}"

    def digest(self) -> str:
        h = hashlib.sha256(f"{self.cortex.digest()}|{self.subcortex.digest()}".encode())
        h.update(self.cx_idx.tobytes() + self.sc_idx.tobytes())
        return f"split-{h.hexdigest()[:24]}"

    def prepare(self, data):
        data = np.atleast_2d(np.asarray(data, dtype=np.float64))
        self.cortex.prepare(data[:, self.cx_idx])
        self.subcortex.prepare(data[:, self.sc_idx])

    def values(self, data, n, seed_map, seed_shared=None):
        data = np.asarray(data, dtype=np.float64)
        s_cx, s_sc = _children(seed_map)
        shared = _children(seed_shared)
        out = np.empty((n, data.size))
        out[:, self.cx_idx] = self.cortex.values(data[self.cx_idx], n, s_cx, shared[0])
        out[:, self.sc_idx] = self.subcortex.values(data[self.sc_idx], n, s_sc, shared[1])
        return out


class SubsetNullModel(NullModel):
    """A model of all ``n_all`` parcels applied to data on the parcels ``keep`` only;
    parcels outside ``keep`` count as NaN."""

    def __init__(self, model: NullModel, keep, n_all: int):
        self.model, self.keep, self.n_all = model, np.asarray(keep), int(n_all)
        self.kind, self.name = model.kind, model.name
        self._pos = np.full(self.n_all, -1)
        self._pos[self.keep] = np.arange(self.keep.size)

    def digest(self) -> str:
        h = hashlib.sha256(self.model.digest().encode() + self.keep.tobytes())
        return f"{self.name}-sub-{h.hexdigest()[:24]}"

    def prepare(self, data):
        data = np.atleast_2d(np.asarray(data, dtype=np.float64))
        full = np.full((data.shape[0], self.n_all), np.nan)
        full[:, self.keep] = data
        self.model.prepare(full)

    def indices(self, n, seed):
        idx = self.model.indices(n, seed)[:, self.keep]
        return np.where(idx < 0, -1, self._pos[np.where(idx < 0, 0, idx)])

    def values(self, data, n, seed_map, seed_shared=None):
        if self.kind == "index":
            return gather(data, self.indices(n, seed_shared))
        full = np.full(self.n_all, np.nan)
        full[self.keep] = data
        return self.model.values(full, n, seed_map, seed_shared)[:, self.keep]


_BUILDERS: dict = {}


def register(*names):
    """Decorator: register a NullModel builder under ``names``."""
    def deco(builder):
        for name in names:
            _BUILDERS[name] = builder
        return builder
    return deco


def make_null_model(method: str, **kwargs) -> NullModel:
    """Prepare the null model ``method`` for a geometry.

    Parameters
    ----------
    method : str
        One of :data:`NULL_METHODS` (aliases: ``"spin"`` = ``"alexander_bloch"``).
    **kwargs
        Geometry and options: ``coords`` and ``hemiid`` for parcel spins;
        ``vertex_coords``, ``vertex_labels``, ``label_values`` for ``baum`` and
        ``cornblath``; ``dist_mat`` for ``moran``, ``variomoran``, ``burt2018`` and
        ``burt2020``; ``n_parcels`` for ``random``; plus each model's options.
    """
    from . import _models  # noqa: F401 - registers the builders

    method = _canonical(method)
    return _BUILDERS[method](name=method, **kwargs)
