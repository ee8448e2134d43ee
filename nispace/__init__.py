"""nispace: spatial colocalization of brain maps.

Subpackages
-----------
datasets
    Verified download and caching of reference data, parcellations, templates
    and examples (:func:`~nispace.datasets.fetch_reference`, ...).
parcellation
    The multi-space :class:`~nispace.parcellation.Parcellation`, centroids and
    distance matrices.
io
    Loading images and parcellating them; reading X/Y/Z inputs of any form.
stats
    Effect sizes, Y transforms, covariate cleaning, X reduction, colocalization.
api
    The :class:`~nispace.api.NiSpace` object tying these together.

nispace is quiet by default (warnings only); :func:`set_verbosity` ("INFO" or
True) shows what each step does, for all later calls.
"""

from . import errors
from ._logging import get_verbosity, set_log_level, set_verbosity
from ._version import __version__

__all__ = ["__version__", "errors", "get_verbosity", "parcellate", "set_log_level",
           "set_verbosity"]


def __getattr__(name: str):
    # nispace.parcellate without importing nibabel/nilearn at ``import nispace``
    if name == "parcellate":
        from .io.extract import parcellate

        return parcellate
    raise AttributeError(f"module 'nispace' has no attribute {name!r}")
