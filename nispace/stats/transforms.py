"""The formula grammar of ``transform_y``: parse a formula, apply it to Y.

NiSpace describes how subject-level data ``Y`` (``(n_subjects, n_parcels)``)
become the map(s) to colocalize with a short formula such as
``"hedges(a,b)"`` or ``"zscore(a,b)"``. This module parses those formulas
with a tiny tokenizer and recursive-descent parser (never ``eval``) into a
:class:`Transform` and applies them with the pure functions of
:mod:`nispace.stats.effectsize`.

Grammar
-------
::

    formula := term | term "-" term
    term    := VAR | NAME "(" VAR ("," VAR)* ")"
    VAR     := "y" | "a" | "b"

Case and whitespace between tokens are ignored. ``y`` is every row of Y,
``a`` and ``b`` are the rows of the two groups. The accepted forms are
listed in :data:`ACCEPTED_FORMS`; single-group forms (``mean``, ``median``,
``std``, ``var``, ``zscore``, ``rzscore``, ``centile``, the identity and
``x-mean(x)``) take any of ``y``, ``a`` or ``b`` as arguments, two-group
forms take ``a`` and ``b`` (in either order: ``hedges(b,a) == -hedges(a,b)``).

Which group is "a"
------------------
As in NiSpace, the group levels are sorted and the first is "a", the second
"b" (``["HC", "AN"]`` gives a = "AN", b = "HC", so ``hedges(a,b)`` is
AN minus HC; ``[0, 1]`` gives a = 0). A pandas ``Categorical`` (or a Series
of categorical dtype) uses its category order instead, and ``levels=(a, b)``
states the order explicitly.

Paired forms
------------
``a-b`` / ``elemdiff(a,b)``, ``pairedcohen(a,b)`` and ``prc(a,b)`` are
paired (as in NiSpace): rows of a and b are matched by their ``subjects``
id, whatever their order in Y. Every subject must appear exactly once in
each group. Per-row results follow the order of the first argument's rows
in Y.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError, InputTypeError
from . import effectsize as es

__all__ = ["Transform", "parse_transform", "apply_transform", "ACCEPTED_FORMS"]

#: Every formula form accepted by :func:`parse_transform` (shown with their
#: usual arguments; see the module docstring for which arguments may vary).
ACCEPTED_FORMS: tuple[str, ...] = (
    "y", "mean(y)", "median(y)", "std(y)", "var(y)",
    "a-b", "elemdiff(a,b)", "mean(a)-mean(b)", "meandiff(a,b)", "a-mean(b)", "center(a,b)",
    "cohen(a,b)", "pairedcohen(a,b)", "hedges(a,b)",
    "zscore(a)", "zscore(a,b)", "rzscore(a)", "rzscore(a,b)", "centile(a)", "centile(a,b)",
    "prc(a,b)", "logfc(a,b)",
)

_VARS = ("y", "a", "b")

# operation -> (allowed arities, kind)
#   "rows"     one output row per row of the first argument
#   "single"   one output row (a group-level map)
#   "groups2"  one output row, independent groups a and b
#   "paired"   paired a/b, one row per pair
#   "paired1"  paired a/b, one output row
_OPS: dict[str, tuple[tuple[int, ...], str]] = {
    "identity": ((1,), "rows"),
    "mean": ((1,), "single"),
    "median": ((1,), "single"),
    "std": ((1,), "single"),
    "var": ((1,), "single"),
    "center": ((2,), "rows"),
    "zscore": ((1, 2), "rows"),
    "rzscore": ((1, 2), "rows"),
    "centile": ((1, 2), "rows"),
    "meandiff": ((2,), "groups2"),
    "cohen": ((2,), "groups2"),
    "hedges": ((2,), "groups2"),
    "logfc": ((2,), "groups2"),
    "elemdiff": ((2,), "paired"),
    "prc": ((2,), "paired"),
    "pairedcohen": ((2,), "paired1"),
}

# operations whose named argument needs >= 2 rows (an SD or MAD is computed)
_NEEDS_SD = {"std", "var", "cohen", "hedges", "pairedcohen", "zscore", "rzscore"}


@dataclass(frozen=True)
class Transform:
    """A parsed ``transform_y`` formula.

    Attributes
    ----------
    operation : str
        Canonical operation name: ``"identity"``, ``"mean"``, ``"median"``,
        ``"std"``, ``"var"``, ``"elemdiff"`` (``a-b``), ``"meandiff"``
        (``mean(a)-mean(b)``), ``"center"`` (``a-mean(b)``), ``"cohen"``,
        ``"pairedcohen"``, ``"hedges"``, ``"zscore"``, ``"rzscore"``,
        ``"centile"``, ``"prc"`` or ``"logfc"``.
    args : tuple of str
        The arguments, each ``"y"``, ``"a"`` or ``"b"``; for reference-based
        scores the second one is the reference.
    paired : bool
        Whether rows of a and b are matched by subject id.
    needs_groups : bool
        Whether the formula refers to group ``a`` or ``b``.
    per_row : bool
        True if the result has one row per row of ``args[0]`` (per subject),
        False if it is a single group-level map.
    """

    operation: str
    args: tuple[str, ...]
    paired: bool
    needs_groups: bool
    per_row: bool

    @property
    def formula(self) -> str:
        """Canonical formula text, e.g. ``"hedges(a,b)"``."""
        if self.operation == "identity":
            return self.args[0]
        return f"{self.operation}({','.join(self.args)})"

    @property
    def label(self) -> str:
        """Row label of a group-level result (the operation name, as NiSpace)."""
        return self.operation


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),\-]))")


_VAR = "$var"  # marks a bare variable term (cannot collide with a function name)


class _FormulaError(Exception):
    """Internal: why a formula was rejected (turned into a ValueError)."""


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].lstrip()[0]
            raise _FormulaError(f"unexpected character {bad!r} at position "
                                f"{len(text) - len(text[pos:].lstrip())}")
        tokens.append((m.group("name") or m.group("punct")).lower())
        pos = m.end()
    if not tokens:
        raise _FormulaError("empty formula")
    return tokens


def _parse_term(tokens: list[str], i: int) -> tuple[tuple[str, tuple[str, ...]], int]:
    """term := VAR | NAME '(' VAR (',' VAR)* ')'  ->  ((name, args), next index)."""
    if i >= len(tokens):
        raise _FormulaError("formula ends where a term was expected")
    name = tokens[i]
    if name in ("(", ")", ",", "-"):
        raise _FormulaError(f"unexpected {name!r} where a term was expected")
    i += 1
    if i < len(tokens) and tokens[i] == "(":
        i += 1
        args: list[str] = []
        while True:
            if i >= len(tokens):
                raise _FormulaError(f"missing ')' after arguments of {name!r}")
            if tokens[i] not in _VARS:
                raise _FormulaError(f"argument {tokens[i]!r} of {name!r} is not y, a or b")
            args.append(tokens[i])
            i += 1
            if i >= len(tokens):
                raise _FormulaError(f"missing ')' after arguments of {name!r}")
            if tokens[i] == ")":
                return (name, tuple(args)), i + 1
            if tokens[i] != ",":
                raise _FormulaError(f"expected ',' or ')' in {name!r}(...), got {tokens[i]!r}")
            i += 1
    if name not in _VARS:
        raise _FormulaError(f"{name!r} is neither y, a, b nor a function call")
    return (_VAR, (name,)), i


def _build(operation: str, args: tuple[str, ...]) -> Transform:
    if operation not in _OPS:
        raise _FormulaError(f"unknown function {operation!r}")
    arities, kind = _OPS[operation]
    if len(args) not in arities:
        want = " or ".join(str(k) for k in arities)
        raise _FormulaError(f"{operation!r} takes {want} argument(s), got {len(args)}")
    if kind in ("groups2", "paired", "paired1") and set(args) != {"a", "b"}:
        raise _FormulaError(f"{operation!r} compares the two groups: its arguments must be "
                            f"a and b, got {', '.join(args)}")
    return Transform(
        operation=operation,
        args=args,
        paired=kind in ("paired", "paired1"),
        needs_groups=any(x in ("a", "b") for x in args),
        per_row=kind in ("rows", "paired"),
    )


def _accepted_message() -> str:
    return ("Accepted forms (case and spaces ignored; single-group forms take y, a or b): "
            + ", ".join(ACCEPTED_FORMS) + ".")


def parse_transform(formula: str, argname: str = "formula") -> Transform:
    """Parse a ``transform_y`` formula into a :class:`Transform`.

    Parameters
    ----------
    formula : str
        One of :data:`ACCEPTED_FORMS`, e.g. ``"hedges(a,b)"``,
        ``"mean(a) - mean(b)"`` or ``"ZSCORE(a, b)"``. Case and whitespace
        between tokens are ignored. The text is tokenized and parsed; it is
        never evaluated.

    Returns
    -------
    Transform

    Raises
    ------
    TypeError
        If `formula` is not a string.
    ValueError
        If the formula is malformed or unknown; the message lists every
        accepted form.

    Examples
    --------
    >>> parse_transform("a - mean(b)").formula
    'center(a,b)'
    >>> parse_transform("Hedges(a, b)").per_row
    False
    """
    if not isinstance(formula, str):
        raise InputTypeError(f"{argname}: expected a string such as 'hedges(a,b)'; "
                             f"got {type(formula).__name__}.")
    try:
        tokens = _tokenize(formula)
        left, i = _parse_term(tokens, 0)
        if i == len(tokens):
            name, args = left
            return _build("identity" if name == _VAR else name, args)
        if tokens[i] != "-":
            raise _FormulaError(f"unexpected {tokens[i]!r} after the first term")
        right, j = _parse_term(tokens, i + 1)
        if j != len(tokens):
            raise _FormulaError(f"unexpected {tokens[j]!r} after the second term")
        (lname, largs), (rname, rargs) = left, right
        if lname == _VAR and rname == _VAR:
            return _build("elemdiff", largs + rargs)
        if lname == _VAR and rname == "mean" and len(rargs) == 1:
            return _build("center", largs + rargs)
        if lname == "mean" and rname == "mean" and len(largs) == len(rargs) == 1:
            return _build("meandiff", largs + rargs)
        raise _FormulaError("the only differences allowed are x-x, x-mean(x) and "
                            "mean(x)-mean(x)")
    except _FormulaError as err:
        raise InputError(f"{argname}: could not use {formula!r} ({err}). "
                         f"{_accepted_message()}") from None


# --------------------------------------------------------------------------
# applying
# --------------------------------------------------------------------------

def _is_missing(value: object) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(np.isnan(value))  # float NaN, NaT, pandas NA raise/return here
    except (TypeError, ValueError):
        return False


def _group_levels(groups: ArrayLike, values: list, levels: Sequence | None) -> list:
    """Ordered list of group levels: explicit, categorical order, or sorted."""
    present = list(dict.fromkeys(values))
    if levels is not None:
        levels = list(levels)
        if len(levels) != 2 or levels[0] == levels[1]:
            raise InputError(f"levels: expected two distinct group labels (a, b); "
                             f"got {levels!r}.")
        unknown = [v for v in present if v not in levels]
        if unknown:
            raise InputError(f"groups: contains level(s) {unknown!r} that are not in "
                             f"levels={levels!r}; select the rows of the two groups first.")
        return levels
    categories = None
    if hasattr(groups, "cat"):  # pandas Series of categorical dtype
        categories = list(groups.cat.categories)
    elif hasattr(groups, "categories"):  # pandas Categorical
        categories = list(groups.categories)
    if categories is not None:
        return [c for c in categories if c in present]
    try:
        return sorted(present)
    except TypeError:
        raise InputError(f"groups: levels {present!r} cannot be sorted to decide which is "
                         f"'a'; pass levels=(a_level, b_level).") from None


def _split_groups(groups: ArrayLike, n_rows: int, levels: Sequence | None
                  ) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    values = np.asarray(groups, dtype=object).ravel().tolist()
    if len(values) != n_rows:
        raise InputError(f"groups: expected one label per row of Y ({n_rows}); "
                         f"got {len(values)}.")
    missing = [i for i, v in enumerate(values) if _is_missing(v)]
    if missing:
        raise InputError(f"groups: contains missing labels at row(s) {missing[:10]}"
                         f"{' ...' if len(missing) > 10 else ''}; drop those rows first.")
    order = _group_levels(groups, values, levels)
    if len(order) != 2:
        raise InputError(f"groups: a formula with 'a'/'b' needs exactly two group levels; "
                         f"found {len(order)}: {order!r}.")
    idx = {name: np.flatnonzero([v == lvl for v in values]) for name, lvl in zip("ab", order)}
    for name, lvl in zip("ab", order):
        if idx[name].size == 0:
            raise InputError(f"groups: level {lvl!r} (given as group '{name}' in levels) "
                             f"has no rows.")
    return idx, dict(zip("ab", order))


def _match_pairs(subjects: ArrayLike, n_rows: int, idx: dict[str, np.ndarray],
                 level: dict[str, object], first: str) -> dict[str, np.ndarray]:
    """Reorder group rows so that a[i] and b[i] are the same subject."""
    ids = np.asarray(subjects, dtype=object).ravel().tolist()
    if len(ids) != n_rows:
        raise InputError(f"subjects: expected one id per row of Y ({n_rows}); got {len(ids)}.")
    missing = [i for i, v in enumerate(ids) if _is_missing(v)]
    if missing:
        raise InputError(f"subjects: contains missing ids at row(s) {missing[:10]}.")
    per_group: dict[str, list] = {}
    for g in "ab":
        gids = [ids[i] for i in idx[g]]
        counts: dict = {}
        for s in gids:
            counts[s] = counts.get(s, 0) + 1
        dup = [s for s, c in counts.items() if c > 1]
        if dup:
            raise InputError(f"subjects: paired formulas need each subject once per group; "
                             f"group {level[g]!r} ({g}) repeats {dup[:10]}.")
        per_group[g] = gids
    only = {g: [s for s in per_group[g] if s not in set(per_group[o])]
            for g, o in (("a", "b"), ("b", "a"))}
    if only["a"] or only["b"]:
        raise InputError(
            f"subjects: paired formulas need every subject in both groups; unmatched in "
            f"group {level['a']!r} (a): {only['a'][:10]!r}, in group {level['b']!r} (b): "
            f"{only['b'][:10]!r}.")
    other = "b" if first == "a" else "a"
    pos = {s: k for k, s in enumerate(per_group[other])}
    return {first: idx[first],
            other: idx[other][[pos[s] for s in per_group[first]]]}


def apply_transform(Y: ArrayLike, formula: str | Transform,
                    groups: ArrayLike | None = None, subjects: ArrayLike | None = None,
                    *, levels: Sequence | None = None,
                    row_labels: Sequence | None = None) -> tuple[np.ndarray, list[str]]:
    """Apply a ``transform_y`` formula to subject-level data.

    Parameters
    ----------
    Y : array-like of shape (n_subjects, n_parcels)
        Subject (or map) data, subjects in rows.
    formula : str or Transform
        A formula accepted by :func:`parse_transform`, or its result.
    groups : array-like of shape (n_subjects,), optional
        Group label of each row; needed when the formula uses ``a`` or ``b``,
        and then it must have exactly two levels. "a" is the first level in
        sorted order (NiSpace), or in category order for a pandas
        Categorical; see `levels`.
    subjects : array-like of shape (n_subjects,), optional
        Subject id of each row; needed by paired formulas (``a-b``,
        ``elemdiff``, ``pairedcohen``, ``prc``), which match the rows of a
        and b by id regardless of row order. Ignored otherwise.
    levels : sequence of two labels, optional
        Explicit ``(a_level, b_level)``; every label in `groups` must be one
        of them.
    row_labels : sequence of length n_subjects, optional
        Labels of the rows of Y (e.g. a DataFrame's index), used to label
        per-subject results. Default: the `subjects` ids if given, else the
        row numbers ``"0"``, ``"1"``, ...

    Returns
    -------
    values : numpy.ndarray of shape (n_out, n_parcels)
        ``n_out = 1`` for group-level formulas (``mean``, ``hedges``, ...),
        otherwise one row per row of the first argument (per pair for paired
        formulas), in the order those rows appear in Y.
    labels : list of str, length n_out
        ``[transform.label]`` (the operation name, e.g. ``"hedges"``) for a
        group-level result, else the labels of the rows used.

    Raises
    ------
    ValueError
        For a bad formula, missing/mismatched `groups` or `subjects`, a group
        count other than two, a group too small for the statistic (named by
        its level), or unmatched subjects in a paired formula.

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.arange(12.0).reshape(4, 3)
    >>> values, labels = apply_transform(Y, "mean(a)-mean(b)", groups=["p", "c", "p", "c"])
    >>> labels  # a = "c" (sorted first: rows 1, 3), b = "p" (rows 0, 2)
    ['meandiff']
    >>> values
    array([[3., 3., 3.]])
    """
    t = formula if isinstance(formula, Transform) else parse_transform(formula)
    Y = es._as_2d(Y, "Y")
    n = Y.shape[0]
    if row_labels is not None:
        labels_all = [str(x) for x in np.asarray(row_labels, dtype=object).ravel().tolist()]
        if len(labels_all) != n:
            raise InputError(f"row_labels: expected one label per row of Y ({n}); "
                             f"got {len(labels_all)}.")
    elif subjects is not None:
        labels_all = [str(x) for x in np.asarray(subjects, dtype=object).ravel().tolist()]
    else:
        labels_all = [str(i) for i in range(n)]

    rows: dict[str, np.ndarray] = {"y": np.arange(n)}
    level: dict[str, object] = {"y": "all rows"}
    if t.needs_groups:
        if groups is None:
            raise InputError(f"groups: formula {t.formula!r} refers to groups a/b; pass one "
                             f"group label per row of Y.")
        idx, lv = _split_groups(groups, n, levels)
        rows.update(idx)
        level.update(lv)
        if t.paired:
            if subjects is None:
                raise InputError(f"subjects: paired formula {t.formula!r} matches rows of a "
                                 f"and b by subject id; pass one id per row of Y.")
            rows.update(_match_pairs(subjects, n, idx, lv, t.args[0]))

    # group sizes, named by their level
    if t.operation in _NEEDS_SD:
        needy = t.args if t.operation in ("cohen", "hedges", "pairedcohen") else t.args[-1:]
        for g in needy:
            if rows[g].size < 2:
                name = "Y" if g == "y" else "groups"
                raise InputError(f"{name}: {t.formula!r} needs at least 2 rows in group "
                                 f"{level[g]!r} ({g}); got {rows[g].size}.")

    arr = {g: Y[r] for g, r in rows.items()}
    x = [arr[g] for g in t.args]
    op = t.operation
    if op == "identity":
        out = x[0].copy()
    elif op in ("mean", "median", "std", "var"):
        if op == "mean":
            out = es._nan_mean_var(x[0])[1]
        elif op == "median":
            out = es._nan_median(x[0])
        else:
            var = es._nan_mean_var(x[0])[2]
            out = np.sqrt(var) if op == "std" else var
    elif op == "center":
        out = x[0] - es._nan_mean_var(x[1])[1]
    elif op in ("zscore", "rzscore", "centile"):
        fun = {"zscore": es.zscore, "rzscore": es.rzscore, "centile": es.centile}[op]
        out = fun(x[0], x[1] if len(x) == 2 else None)
    elif op == "elemdiff":
        out = x[0] - x[1]
    else:
        fun = {"meandiff": es.mean_diff, "cohen": es.cohen_d, "hedges": es.hedges_g,
               "logfc": es.logfc, "prc": es.prc, "pairedcohen": es.paired_cohen_d}[op]
        out = fun(x[0], x[1])
    out = np.atleast_2d(np.asarray(out, dtype=np.float64))

    if t.per_row:
        labels = [labels_all[i] for i in rows[t.args[0]]]
    else:
        labels = [t.label]
    return out, labels
