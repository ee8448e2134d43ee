"""Result objects with provenance, tidy tables and the open save/load format.

* :mod:`~nispace.results.objects` - immutable :class:`ColocalizationResult`,
  :class:`PermutationResult` and :class:`CorrectionResult`;
* :mod:`~nispace.results.provenance` - content hashes, versions, data files;
* :mod:`~nispace.results.tidy` - one row per (statistic, Y map, X map);
* :mod:`~nispace.results.storage` - ``NiSpace.save``/``NiSpace.load``: JSON + CSV +
  ``.npy``, never a pickle.
"""

from .objects import (PERMUTE_WHAT, ColocalizationResult, CorrectionResult,
                      MissingResultError, PermutationResult, StaleResultError)
from .provenance import content_hash
from .storage import FORMAT, FORMAT_VERSION, PickleRefusedError, is_saved_analysis
from .tidy import tidy_frame

__all__ = ["ColocalizationResult", "PermutationResult", "CorrectionResult",
           "MissingResultError", "StaleResultError", "PickleRefusedError", "PERMUTE_WHAT",
           "content_hash", "tidy_frame", "FORMAT", "FORMAT_VERSION", "is_saved_analysis"]
