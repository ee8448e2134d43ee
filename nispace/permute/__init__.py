"""The permutation engine: null colocalizations in seeded, parallel, memory-flat chunks.

Modules
-------
engine
    Chunking, per-chunk seeds (``SeedSequence``), joblib parallelism.
nullmaps
    Null maps generated once per map/model/n_perm/seed, cached on disk, read by chunk.
models
    The null model for a parcellation (defaults, split cortex/subcortex methods).
spec
    What to compute per permutation (method, options, XSEA sets).
maps, groups, sets, pairs
    The four kinds of permutation of :meth:`nispace.api.NiSpace.permute`.
"""

from .engine import CHUNK_SIZE, run_chunks
from .models import default_null_method, null_model_for
from .nullmaps import NullMaps, prepare_null_maps

__all__ = ["CHUNK_SIZE", "run_chunks", "default_null_method", "null_model_for", "NullMaps",
           "prepare_null_maps"]
