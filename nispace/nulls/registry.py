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

from .._errors import check_option
from ..errors import InputError, InputTypeError
from ._base import NullModel, SplitNullModel, SubsetNullModel, gather
from ._models import BUILDERS

__all__ = ["SPIN_METHODS", "DIST_METHODS", "NULL_METHODS", "NullModel", "SplitNullModel",
           "SubsetNullModel", "parse_null_method", "make_null_model", "gather"]

SPIN_METHODS = ("alexander_bloch", "vasa", "hungarian", "baum", "cornblath")
DIST_METHODS = ("moran", "variomoran", "burt2020", "burt2018")
NULL_METHODS = SPIN_METHODS + DIST_METHODS + ("random",)
#: NiSpace's names: ``"brainspace"`` (its Moran implementation), ``"brainsmash"`` and
#: ``"variogram"`` (Burt 2020), ``"variomsr"``. ``"spin"`` is the parcel-level
#: Alexander-Bloch spin (NiSpace's default spin method), not vertex-level ``"cornblath"``.
_ALIASES = {"spin": "alexander_bloch", "spins": "alexander_bloch",
            "alexanderbloch": "alexander_bloch", "msr": "moran", "brainspace": "moran",
            "brainsmash": "burt2020", "variogram": "burt2020", "variomsr": "variomoran"}


def _canonical(name: str, argname: str = "null_method") -> str:
    if not isinstance(name, str):
        raise InputTypeError(f"{argname}: expected a str; got {type(name).__name__}.")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    check_option(argname, key, list(NULL_METHODS) + list(_ALIASES))
    return key


def parse_null_method(null_method, name: str = "null_method") -> tuple[str, str | None]:
    """Read a null method: one name, a ``"spin+moran"`` string or a 2-tuple.

    Parameters
    ----------
    null_method : str or tuple of str
        The method, or the cortical and subcortical methods of a split.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    tuple of (str, str or None)
        ``(cortex_or_single_method, subcortex_method_or_None)``, canonical names.
    """
    if isinstance(null_method, (tuple, list)):
        if len(null_method) != 2:
            raise InputError(f"{name}: a split method needs two names (cortex, "
                             f"subcortex); got {null_method!r}.")
        return _canonical(null_method[0], name), _canonical(null_method[1], name)
    if isinstance(null_method, str) and "+" in null_method:
        parts = null_method.split("+")
        if len(parts) != 2:
            raise InputError(f"{name}: expected 'cortex+subcortex' such as 'spin+moran'; "
                             f"got {null_method!r}.")
        return _canonical(parts[0], name), _canonical(parts[1], name)
    return _canonical(null_method, name), None


def make_null_model(method: str, **kwargs) -> NullModel:
    """Prepare the null model ``method`` for a geometry.

    Parameters
    ----------
    method : str
        One of :data:`NULL_METHODS` (aliases: ``"spin"`` = ``"alexander_bloch"``,
        ``"msr"`` / ``"brainspace"`` = ``"moran"``, ``"brainsmash"`` / ``"variogram"`` =
        ``"burt2020"``, ``"variomsr"`` = ``"variomoran"``).
    **kwargs
        Geometry and options: ``coords`` and ``hemiid`` for parcel spins;
        ``vertex_coords``, ``vertex_labels``, ``label_values`` for ``baum`` and
        ``cornblath``; ``dist_mat`` for ``moran``, ``variomoran``, ``burt2018`` and
        ``burt2020``; ``n_parcels`` for ``random``; plus each model's options.
    """
    method = _canonical(method)
    return BUILDERS[method](name=method, **kwargs)
