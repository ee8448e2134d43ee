"""Where nispace reads its data from and where it caches it.

``NISPACE_DATA_DIR`` (the local cache) and ``NISPACE_DATA_URL`` (the remote base) are
described in :mod:`nispace._config`, a base module every layer may import (the
parcellation layer caches distance matrices under the data directory); the names are
public here.

Limits and trust (see :mod:`nispace.datasets.download` and
:mod:`nispace.datasets.annotations`):

``NISPACE_MAX_DOWNLOAD_MB``
    Largest file one download may deliver, in MB (default 1024). A larger or
    endless response is stopped and nothing is written.
``NISPACE_DOWNLOAD_DEADLINE``
    Overall time one file's download may take, retries included, in seconds
    (default 1800).
``NISPACE_ALLOW_UNVERIFIED``
    ``1`` accepts annotation catalogue entries without a checksum (default: they
    are an error; the per-call argument is ``allow_unverified=``).

Computed results are cached in ``<NISPACE_DATA_DIR>/cache`` (null maps in
``cache/nulls``, distance matrices in ``cache/distmat``), each file with a JSON
sidecar recording what it was computed from and its SHA-256, verified before use
(:mod:`nispace._cache`). If that folder cannot be written, null maps go to a
temporary folder for the run and distance matrices stay in memory, with a
WARNING.
"""

from .._config import (DATA_REVISION, DEFAULT_DATA_URL, ENV_DATA_DIR, ENV_DATA_URL,
                       get_data_dir, get_data_url)

__all__ = ["DATA_REVISION", "DEFAULT_DATA_URL", "ENV_DATA_DIR", "ENV_DATA_URL", "get_data_dir",
           "get_data_url"]
