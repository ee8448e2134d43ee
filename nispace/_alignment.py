"""Matching subject-level inputs (designs, groups, covariates) to the Y maps by label.

Every table or vector that holds one value per Y map is matched to Y by its
labels, never by its row order, unless it has no labels at all (a numpy array, a
list, or a pandas object with a default ``RangeIndex`` that does not name the Y
maps); then it is taken in Y's order with a WARNING naming the order assumed, and
the assumption is recorded.

IDs are compared as text after one normalisation, the same on both sides:
integral numbers become their integer text (``1``, ``1.0``, ``np.int64(1)`` and
``"1"`` are the same ID); other values are compared as ``str(value)``. Zero
padding is *not* removed from text IDs (``"001"`` and ``"1"`` differ): when IDs
only match as numbers, the error says so and asks to make them identical.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["id_key", "align_to_index", "describe_ids", "is_default_index",
           "is_default_parcel_axis"]

logger = logging.getLogger("nispace.alignment")

_SHOW = 5  # IDs listed in error messages


def id_key(value):
    """The text an ID is compared by: integral numbers as integer text, else ``str``.

    Tuples (MultiIndex labels) are normalised element-wise.
    """
    if isinstance(value, tuple):
        return tuple(id_key(v) for v in value)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        as_float = float(value)
        if np.isfinite(as_float) and as_float == int(as_float):
            return str(int(as_float))
    return str(value)


def _as_number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def describe_ids(ids, n_show: int = _SHOW) -> str:
    """``"3 ['a', 'b', 'c']"`` or ``"12, e.g. ['a', ...]"`` for messages."""
    ids = [str(v) for v in ids]
    if len(ids) <= n_show:
        return f"{len(ids)} {ids}"
    return f"{len(ids)}, e.g. {ids[:n_show]}"


def is_default_index(index: pd.Index) -> bool:
    """True for pandas' default labels ``RangeIndex(0, n)`` without a name.

    Other RangeIndexes carry IDs: pandas reads consecutive integer IDs from a CSV
    file (subjects 1..100) as ``RangeIndex(1, 101, name="subject")``.
    """
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None)


def is_default_parcel_axis(columns: pd.Index) -> bool:
    """True for a parcel axis that carries no parcel names: a default ``RangeIndex`` or
    the texts ``"0" .. "n-1"`` (a table saved without parcel names)."""
    if is_default_index(columns):
        return True
    return [id_key(c) for c in columns] == [str(i) for i in range(len(columns))]


def _labelled(values, target_keys: list) -> bool:
    """Does ``values`` carry labels to match by? A default RangeIndex counts only when
    its numbers are exactly the target's IDs (Y maps labelled 0..n-1)."""
    if not isinstance(values, (pd.Series, pd.DataFrame)):
        return False
    if is_default_index(values.index):
        return sorted(id_key(v) for v in values.index) == sorted(target_keys)
    return True


def align_to_index(values, target: pd.Index, *, argument: str, what: str = "Y map",
                   record: list | None = None):
    """Return ``values`` with one row per label of ``target``, in ``target``'s order.

    Parameters
    ----------
    values : Series, DataFrame, ndarray, list or None
        One value (Series, 1-D) or row (DataFrame) per item of ``target``. Labelled
        pandas objects are matched by label (see the module docstring for how IDs are
        compared); unlabelled ones are taken in ``target``'s order with a WARNING.
    target : pandas.Index
        The labels to align to (e.g. the Y maps' labels).
    argument : str
        Name of the user's argument, for messages (e.g. ``"design"``).
    what : str
        What one item of ``target`` is, for messages.
    record : list, optional
        A JSON-serialisable description of how the values were matched is appended.

    Returns
    -------
    Series or DataFrame or None
        A new object indexed by ``target`` (the input is never modified).

    Raises
    ------
    ValueError
        Missing or extra IDs (listed, with counts), IDs that only match as numbers
        (zero padding, ``"1.0"``), duplicated IDs, or an unlabelled input of the
        wrong length.
    """
    if values is None:
        return None
    target_keys = [id_key(v) for v in target]
    n = len(target)
    if not isinstance(values, (pd.Series, pd.DataFrame)):
        arr = np.asarray(values)
        if arr.ndim not in (1, 2):
            raise InputError(f"{argument}: expected one value per {what} "
                             f"({n}); got an array of shape {arr.shape}.")
        values = pd.Series(arr) if arr.ndim == 1 else pd.DataFrame(arr)
    if not _labelled(values, target_keys):
        if len(values) != n:
            raise InputError(f"{argument}: expected one value per {what} ({n}); "
                             f"got {len(values)}.")
        first, last = (str(target[0]), str(target[-1])) if n else ("", "")
        logger.warning(
            "%s: has no labels to match the %ss by (%s); taken in the order of the %ss: "
            "%r ... %r (%d). Give a pandas Series/DataFrame indexed by the %s labels to "
            "match by label.", argument, what, _kind(values), what, first, last, n, what)
        out = values.copy()
        out.index = target.copy()
        _note(record, argument, "position", n, first, last)
        return out
    keys = [id_key(v) for v in values.index]
    counts = pd.Series(keys).value_counts()
    dup = list(counts.index[counts > 1])
    if dup:
        raise InputError(f"{argument}: each {what} must appear once; duplicated IDs: "
                         f"{describe_ids(dup)}.")
    if len(set(target_keys)) < n:
        raise InputError(f"{argument}: the {what} labels are not unique, so they cannot be "
                         f"matched by label.")
    have, want = set(keys), set(target_keys)
    missing = [str(target[i]) for i, k in enumerate(target_keys) if k not in have]
    extra = [str(values.index[i]) for i, k in enumerate(keys) if k not in want]
    if missing or extra:
        _raise_numeric_mismatch(argument, what, values.index, target)
        parts = []
        if missing:
            parts.append(f"{describe_ids(missing)} {what}(s) without a row in {argument}")
        if extra:
            parts.append(f"{describe_ids(extra)} ID(s) of {argument} that are not {what}s")
        raise InputError(f"{argument}: expected exactly one row per {what}, matched by "
                         f"label; got " + " and ".join(parts) + ". Make the IDs of "
                         f"{argument} equal to the {what} labels (e.g. "
                         f"{[str(v) for v in target[:3]]}).")
    pos = pd.Index(keys).get_indexer(target_keys)
    out = values.iloc[pos].copy()
    out.index = target.copy()
    reordered = not np.array_equal(pos, np.arange(n))
    if reordered:
        logger.info("%s: rows matched to the %ss by label (reordered).", argument, what)
    _note(record, argument, "label", n, None, None, reordered=reordered)
    return out


def _kind(values) -> str:
    if isinstance(values, (pd.Series, pd.DataFrame)) and is_default_index(values.index):
        return f"a {type(values).__name__} with a default RangeIndex"
    return "an array or list"


def _note(record, argument, how, n, first, last, **extra) -> None:
    if record is None:
        return
    entry = {"argument": argument, "matched_by": how, "n": int(n)}
    if how == "position":
        entry.update(assumed_order_first=first, assumed_order_last=last)
    entry.update(extra)
    record.append(entry)


def _raise_numeric_mismatch(argument, what, index, target) -> None:
    """Raise when the IDs differ as text but agree as numbers (``"001"`` vs ``1``)."""
    mine = [_as_number(v) for v in index]
    theirs = [_as_number(v) for v in target]
    if None in mine or None in theirs or sorted(mine) != sorted(theirs) \
            or len(set(theirs)) != len(theirs):
        return
    by_number = {_as_number(b): b for b in target}
    pairs = [(str(a), str(by_number[_as_number(a)])) for a in index
             if id_key(a) != id_key(by_number[_as_number(a)])][:3]
    raise InputError(
        f"{argument}: the IDs match the {what} labels only as numbers, not as text (e.g. "
        f"{pairs}, {argument} vs {what}s): zero padding or decimals differ. nispace does "
        f"not guess which is meant; make the IDs identical on both sides (e.g. both "
        f"integers, or both zero-padded text).")
