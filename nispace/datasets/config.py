"""Where nispace reads its data from and where it caches it.

See :mod:`nispace._config`, a base module every layer may import (the parcellation
layer caches distance matrices under the data directory); the names are public here.
"""

from .._config import (DATA_REVISION, DEFAULT_DATA_URL, ENV_DATA_DIR, ENV_DATA_URL,
                       get_data_dir, get_data_url)

__all__ = ["DATA_REVISION", "DEFAULT_DATA_URL", "ENV_DATA_DIR", "ENV_DATA_URL", "get_data_dir",
           "get_data_url"]
