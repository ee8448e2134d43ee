"""Reading parcellated tables (maps or subjects x parcels) of the data repository."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .download import fetch_library_file


def read_table(relpath: str, data_dir=None, data_url=None) -> pd.DataFrame:
    """Read a ``.csv(.gz)`` table whose first column is the index; columns are parcels."""
    path = fetch_library_file(relpath, data_dir, data_url)
    table = pd.read_csv(path, index_col=0)
    return table.astype(np.float64) if len(table.columns) else table


def merge_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Combine cortex + subcortex tables: rows present in all (inner), columns concatenated."""
    if len(tables) == 1:
        return tables[0]
    merged = pd.concat(tables, axis=1, join="inner")
    return merged


def zscore_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Z-score every row across its columns (parcels), ignoring NaN (ddof = 0).

    Rows with zero variance become NaN rather than raising.
    """
    values = table.to_numpy(dtype=np.float64, copy=True)
    mean = np.nanmean(values, axis=1, keepdims=True)
    std = np.nanstd(values, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (values - mean) / np.where(std > 0, std, np.nan)
    return pd.DataFrame(values, index=table.index, columns=table.columns)
