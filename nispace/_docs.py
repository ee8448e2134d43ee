"""Parameter documentation written once and reused (nilearn's and MNE's ``fill_doc``).

A docstring line that holds only a placeholder such as ``%(n_perm)s`` is replaced by the
entry of that name in :data:`DOCDICT`, indented like the placeholder. Nothing else in a
docstring is touched, so literal ``%`` signs elsewhere are safe.

Examples
--------
>>> @fill_doc
... def f(n_perm=1000):
...     '''Do something.
...
...     Parameters
...     ----------
...     %(n_perm)s
...     '''
>>> "Number of permutations" in f.__doc__
True
"""

from __future__ import annotations

import inspect
import re
from typing import TypeVar

from .errors import InputError

__all__ = ["DOCDICT", "fill_doc"]

T = TypeVar("T")

#: Shared parameter entries: the first line is ``name : type``, the following lines are
#: the description indented by four spaces (numpydoc layout, without the outer indent).
DOCDICT: dict[str, str] = {}

DOCDICT["verbose"] = """\
verbose : bool, str, int or None, default None
    Logging level for this call: None follows :func:`nispace.set_verbosity` (WARNING
    unless changed), True or ``"INFO"`` shows each step and progress bars, False
    keeps warnings only; a level name or int sets that level. The previous level is
    restored afterwards."""

DOCDICT["n_perm"] = """\
n_perm : int
    Number of permutations (null maps or permuted labels), default 10,000. Exact
    permutation p-values cannot be smaller than ``1 / (n_perm + 1)``."""

DOCDICT["seed"] = """\
seed : int or None
    Seed for everything random: it is turned into one
    :class:`numpy.random.SeedSequence`, whose children seed each chunk of
    permutations. None: not reproducible (and null maps are not cached)."""

DOCDICT["n_proc"] = """\
n_proc : int
    Parallel workers for the permutations (joblib; -1: all cores). Results do not
    depend on it."""

DOCDICT["n_perm_seed_n_proc"] = "\n".join(
    [DOCDICT["n_perm"], DOCDICT["seed"], DOCDICT["n_proc"]])

DOCDICT["parcellation"] = """\
parcellation : str, Parcellation, image or None
    Default ``"Schaefer200"``: a library name (see
    :func:`nispace.datasets.available_parcellations`), a
    :class:`~nispace.parcellation.Parcellation` or your own label image. ``None`` for
    data that are already parcellated (tables or arrays sharing parcel labels);
    spatial nulls then need a distance matrix (``init_kwargs={"parcellation_dist_mat":
    ...}``) or your own null maps."""

DOCDICT["data_dir"] = """\
data_dir : str or path-like, optional
    Local cache of the reference data; default: the ``NISPACE_DATA_DIR`` environment
    variable, else ``~/nispace-data``."""

DOCDICT["data_url"] = """\
data_url : str or path-like, optional
    Where the data are fetched from: an ``http(s)://`` or ``file://`` URL or a local
    directory laid out like NiSpace-data; default: ``NISPACE_DATA_URL``, else the
    public repository at a pinned revision. Every file is checked against its
    SHA-256."""

DOCDICT["data_dir_url"] = "\n".join([DOCDICT["data_dir"], DOCDICT["data_url"]])

DOCDICT["null_method"] = """\
null_method : str, tuple or None
    Null model for the spatial null maps (:data:`nispace.nulls.NULL_METHODS`, e.g.
    ``"moran"``, ``"alexander_bloch"``, ``"burt2020"``, or ``"spin+moran"`` for
    cortex + subcortex). None: spins for cortical parcellations with a surface,
    Moran otherwise (as NiSpace); the choice is logged and recorded."""

DOCDICT["mc_method"] = """\
mc_method : str or None
    Multiple-comparison correction of the p-values (:data:`nispace.stats.MC_METHODS`:
    ``"meff"`` (default), ``"fdr_bh"``, ``"maxT"``, ``"holm"``, ``"bonferroni"``, ...);
    None: no correction."""

DOCDICT["colocalization_method"] = """\
colocalization_method : str or list of str
    Colocalization statistic(s) (:data:`nispace.stats.COLOC_METHODS`), default
    ``"spearman"``; e.g. ``"pearson"``, ``"partialspearman"`` (with Z), ``"slr"``,
    ``"mlr"``, ``"dominance"``."""

DOCDICT["x"] = """\
x : str, images, table or array
    Reference maps: a dataset name (``"pet"``, ``"mrna"``, ...) fetched for the
    parcellation (``x_collection`` selects a collection), images, a DataFrame
    (maps x parcels), an array, annotations or a Neurovault result."""

DOCDICT["z"] = """\
z : same as x, optional
    Covariate maps (partial correlations, or regressed from Y)."""

DOCDICT["x_collection"] = """\
x_collection : str, optional
    Collection of the reference dataset when ``x`` is a dataset name (e.g.
    ``"UniqueTracers"`` for ``"pet"``); see :func:`nispace.datasets.list_collections`."""

DOCDICT["standardize"] = """\
standardize : str or bool
    Which of X, Y, Z to z-score across parcels after parcellation (default ``"xz"``;
    True = ``"xyz"``, False = none)."""

DOCDICT["plot"] = """\
plot : bool
    Draw the results (:meth:`nispace.api.NiSpace.plot`, one figure per method)."""

DOCDICT["return_nispace_only"] = """\
return_nispace_only : bool
    Return the fitted :class:`~nispace.api.NiSpace` (default) or the tuple
    ``(colocalizations, p_values, corrected_p_values, nsp)``."""

DOCDICT["space"] = """\
space : str or list of str, optional
    Space of the image data (``data_space`` of :class:`~nispace.api.NiSpace`), e.g.
    ``"MNI152NLin6Asym"`` or ``"MNI152NLin2009cAsym"``, or a list of 1 or 3 (x, y, z).
    Default: the ``space-`` entity of the file names, else ``"MNI152NLin6Asym"`` for
    volumes (with a WARNING, recorded in ``fit_record_``); surfaces by vertex count."""

DOCDICT["workflow_kwargs"] = """\
**kwargs
    Further arguments of :func:`colocalization` (e.g. ``init_kwargs``,
    ``permute_kwargs``, ``plot_kwargs``)."""

DOCDICT["workflow_returns"] = """\
NiSpace or tuple
    The fitted :class:`~nispace.api.NiSpace` or, with
    ``return_nispace_only=False``, ``(colocalizations, p_values,
    corrected_p_values, nsp)``."""

DOCDICT["method"] = """\
method : str or None
    Colocalization method the result was stored under (e.g. ``"spearman"`` or
    ``"spearman_xsea"``); None: the only one, else an error listing them."""

DOCDICT["stat"] = """\
stat : str or None
    One statistic (e.g. ``"rho"``, ``"beta"``, ``"r2"``); None: the only one (a
    method with several statistics, such as ``mlr``, needs ``stat``)."""

DOCDICT["permute_what"] = """\
permute_what : str or None
    Which permutation of the method (:meth:`nispace.api.NiSpace.permute`):
    ``"xmaps"``, ``"ymaps"``, ``"xymaps"`` (or ``"maps"`` for the only one of these),
    ``"groups"``, ``"sets"`` or ``"pairs"``; None: the only one run for this
    method, else an error listing them."""

DOCDICT["parc_space"] = """\
space : str, optional
    One of the parcellation's spaces (:attr:`~nispace.parcellation.Parcellation.spaces`);
    None: the active space."""

DOCDICT["surface_data"] = """\
data : (L, R) pair
    GIfTI files or images (each data array one map), or arrays of shape
    ``(n_vertices,)`` or ``(n_vertices, n_maps)``."""

DOCDICT["surface_method"] = """\
method : {"linear", "nearest"}
    ``"linear"``: area-weighted adaptive barycentric resampling for continuous maps;
    ``"nearest"``: for label maps, the label with the largest summed weight."""

DOCDICT["as_arrays"] = """\
as_arrays : bool
    Return arrays instead of GIfTI images."""

DOCDICT["surface_returns"] = """\
tuple of two nibabel.gifti.GiftiImage (or arrays)
    Left and right hemisphere on the target mesh (see
    :func:`nispace.transforms.resample_surface`)."""

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def _fill(doc: str, where: str) -> str:
    def replace(match: re.Match) -> str:
        name, indent = match["name"], match["indent"]
        if name not in DOCDICT:
            raise InputError(f"fill_doc: the docstring of {where} names the unknown "
                             f"parameter entry %({name})s; known: {sorted(DOCDICT)}.")
        return "\n".join(indent + line if line else line
                         for line in DOCDICT[name].splitlines())

    return _PLACEHOLDER.sub(replace, doc)


def fill_doc(obj: T) -> T:
    """Fill the ``%(name)s`` placeholder lines of a docstring from :data:`DOCDICT`.

    Parameters
    ----------
    obj : function or class
        Decorated object. For a class, its own docstring and those of the functions and
        static/class methods it defines are filled.

    Returns
    -------
    function or class
        The same object, with filled docstrings (behaviour unchanged).

    Raises
    ------
    nispace.errors.InputError
        A placeholder names no entry of :data:`DOCDICT`.
    """
    where = getattr(obj, "__qualname__", repr(obj))
    if obj.__doc__:  # None under ``python -OO``
        obj.__doc__ = _fill(obj.__doc__, where)
    if inspect.isclass(obj):
        for name, member in vars(obj).items():
            func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if inspect.isfunction(func) and func.__doc__:
                func.__doc__ = _fill(func.__doc__, f"{where}.{name}")
    return obj
