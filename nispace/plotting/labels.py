"""Human-readable labels for colocalization methods, transforms and permutations.

Used for axis labels and figure titles, e.g.::

    >>> coloc_title("spearman", transform="hedges(a,b)", what="groups")
    "Spearman's rho colocalization after Hedges' g transform (permutation of groups)"
"""

from __future__ import annotations

from .._errors import check_option

__all__ = ["method_label", "transform_label", "permutation_label", "coloc_title"]

#: display name of each method, used as a prefix for its model-level statistics
_METHOD_NAMES = {
    "pearson": "Pearson's r",
    "spearman": "Spearman's rho",
    "partialpearson": "partial Pearson's r",
    "partialspearman": "partial Spearman's rho",
    "mi": "mutual information",
    "slr": "SLR",
    "mlr": "MLR",
    "dominance": "dominance",
    "pls": "PLS",
    "pcr": "PCR",
    "lasso": "Lasso",
    "ridge": "Ridge",
    "elasticnet": "Elastic net",
}

#: statistic -> label suffix for the regression-type methods ("{name} {suffix}")
_MODEL_STATS = {
    "r2": "R²",
    "r2_adj": "adjusted R²",
    "r2_raw": "unadjusted R²",
    "r2_cv": "cross-validated R²",
    "beta": "β",
    "intercept": "intercept",
    "individual": "individual R²",
    "score_r": "score correlation",
    "weight": "weight",
    "alpha": "α",
    "l1ratio": "L1 ratio",
}

_SLR_STATS = {"r2": "R²", "r2_adj": "adjusted R²", "r2_raw": "unadjusted R²"}

_DOMINANCE_STATS = {"total": "dominance (total)", "individual": "dominance (individual)",
                    "relative": "dominance (relative)", "sum": "dominance (sum)"}

#: canonical transform operation (see :class:`nispace.stats.transforms.Transform`) -> label
_TRANSFORM_NAMES = {
    "mean": "mean",
    "median": "median",
    "std": "standard deviation",
    "var": "variance",
    "elemdiff": "difference",
    "meandiff": "mean difference",
    "center": "difference from reference mean",
    "cohen": "Cohen's d",
    "pairedcohen": "paired Cohen's d",
    "hedges": "Hedges' g",
    "zscore": "z-score",
    "rzscore": "robust z-score",
    "centile": "centile",
    "prc": "percent change",
    "logfc": "log fold change",
}

_PERMUTED = ["maps", "groups", "sets", "pairs"]
_MAPS_WHICH = {"X": "X maps", "Y": "Y maps", "XY": "X and Y maps"}


def method_label(method: str, stat: str | None = None) -> str:
    """Readable name of a colocalization statistic.

    Parameters
    ----------
    method : str
        A method of :data:`nispace.stats.coloc.COLOC_METHODS` (``"spearman"``,
        ``"mlr"``, ...), optionally with the ``"_xsea"`` suffix NiSpace uses for
        set-level (XSEA) results, which appends ``" (set mean)"``.
    stat : str, optional
        The statistic (``"rho"``, ``"r2"``, ``"beta"``, ...). Default: the
        method's main statistic (the first one listed in ``COLOC_METHODS``).

    Returns
    -------
    str
        E.g. ``"Spearman's rho"``, ``"partial Pearson's r"``, ``"R²"`` (``slr``),
        ``"MLR β"``, ``"dominance (total)"``, ``"Spearman's rho (set mean)"``.
        A statistic without a dedicated label gives ``"<method name> <stat>"``.

    Raises
    ------
    ValueError
        If ``method`` is not a known colocalization method.
    """
    from ..stats.coloc import COLOC_METHODS

    if not isinstance(method, str):
        raise TypeError(f"method: expected a method name (str); got {type(method).__name__}.")
    base, xsea = (method[:-5], True) if method.endswith("_xsea") else (method, False)
    check_option("method", base, list(COLOC_METHODS))
    stat = COLOC_METHODS[base][0] if stat is None else stat
    name = _METHOD_NAMES.get(base, base)
    if base in ("pearson", "spearman", "partialpearson", "partialspearman", "mi"):
        label = name if stat in ("rho", "mi") else f"{name} {stat}"
    elif base == "dominance":
        label = _DOMINANCE_STATS.get(stat, f"dominance {stat}")
    elif base == "slr" and stat in _SLR_STATS:
        label = _SLR_STATS[stat]
    else:
        label = f"{name} {_MODEL_STATS.get(stat, stat)}"
    return f"{label} (set mean)" if xsea else label


def transform_label(formula: str) -> str:
    """Readable name of a ``transform_y`` formula.

    Parameters
    ----------
    formula : str
        A formula accepted by :func:`nispace.stats.transforms.parse_transform`
        (see :data:`~nispace.stats.transforms.ACCEPTED_FORMS`).

    Returns
    -------
    str
        ``"hedges(a,b)"`` → ``"Hedges' g"``, ``"cohen(a,b)"`` → ``"Cohen's d"``,
        ``"pairedcohen(a,b)"`` → ``"paired Cohen's d"``, ``"zscore(a,b)"`` →
        ``"z-score"``, ``"mean(a)-mean(b)"`` / ``"meandiff(a,b)"`` → ``"mean
        difference"``, ``"prc(a,b)"`` → ``"percent change"``, ... A formula that
        does not parse (or the identity ``"y"``) is returned unchanged.
    """
    from ..stats.transforms import parse_transform

    try:
        parsed = parse_transform(formula)
    except (TypeError, ValueError):
        return str(formula)
    return _TRANSFORM_NAMES.get(parsed.operation, str(formula))


def permutation_label(what: str, maps_which: str | None = None) -> str:
    """Readable description of what a permutation test permuted.

    Parameters
    ----------
    what : {"maps", "groups", "sets", "pairs"}
        ``NiSpace.permute(what=...)``.
    maps_which : {"X", "Y", "XY"}, optional
        For ``what="maps"``: which maps were replaced by null maps (default X).

    Returns
    -------
    str
        ``"permutation of X maps"``, ``"permutation of Y maps"``, ``"permutation
        of X and Y maps"``, ``"permutation of groups"``, ``"permutation of sets"``
        or ``"permutation of pairs"``.
    """
    check_option("what", what, _PERMUTED)
    if what != "maps":
        return f"permutation of {what}"
    which = "X" if maps_which is None else str(maps_which).upper()
    check_option("maps_which", which, list(_MAPS_WHICH))
    return f"permutation of {_MAPS_WHICH[which]}"


def coloc_title(method: str, stat: str | None = None, transform: str | None = None,
                what: str | None = None, maps_which: str | None = None) -> str:
    """Figure title for a colocalization result.

    Parameters
    ----------
    method, stat : str
        See :func:`method_label`.
    transform : str, optional
        The ``transform_y`` formula applied before colocalizing.
    what, maps_which : str, optional
        The permutation (see :func:`permutation_label`); omitted when ``what``
        is None.

    Returns
    -------
    str
        E.g. ``"Spearman's rho colocalization (permutation of X maps)"`` or
        ``"Spearman's rho colocalization after Hedges' g transform (permutation of
        groups)"``.
    """
    title = f"{method_label(method, stat)} colocalization"
    if transform:
        title += f" after {transform_label(transform)} transform"
    if what is not None:
        title += f" ({permutation_label(what, maps_which)})"
    return title


def _truncate(text: str, max_len: int) -> str:
    """``text`` cut to ``max_len`` characters, ending with "…" when cut."""
    return text if len(text) <= max_len else text[:max_len - 1].rstrip() + "…"


def _column_labels(columns, max_len: int = 50, names: dict | None = None) -> list[str]:
    """Display labels of X maps: the map name, prefixed by its set for (set, map) indexes.

    Parameters
    ----------
    columns : pandas.Index or pandas.MultiIndex
        Columns of a colocalization table.
    max_len : int
        Labels longer than this are truncated with "…".
    names : dict, optional
        Display names of map ids (:func:`display_names`) used instead of the ids.

    Returns
    -------
    list of str
        ``"Serotonin · target-5HT1a_…"`` for a MultiIndex (level ``"set"``, else
        the first, and level ``"map"``, else the last), ``str(label)`` otherwise.
    """
    import pandas as pd

    if isinstance(columns, pd.MultiIndex):
        levels = list(columns.names)
        first = levels.index("set") if "set" in levels else 0
        last = levels.index("map") if "map" in levels else columns.nlevels - 1
        shown = names or {}
        labels = [f"{tup[first]} · {shown.get(str(tup[last]), tup[last])}" for tup in columns]
    else:
        labels = [(names or {}).get(str(c), str(c)) for c in columns]
    return [_truncate(lab, max_len) for lab in labels]


def display_names(info) -> dict[str, str]:
    """Readable map names from a reference dataset's ``map_info`` table.

    Parameters
    ----------
    info : pandas.DataFrame or None
        ``map_info`` (index = map id), as :func:`nispace.datasets.fetch_metadata`
        returns it.

    Returns
    -------
    dict
        ``{map id: "5HT1a · [11C]CUMI-101 (beliveau2017, n=8)"}`` for maps with a
        ``target`` (and optionally ``tracer``, ``publication``, ``sample_size``);
        maps without them are left out (their id is shown).
    """
    import pandas as pd

    if info is None or "target" not in getattr(info, "columns", []):
        return {}
    out = {}
    for name, row in info.iterrows():
        target = row.get("target")
        if not isinstance(target, str) or not target:
            continue
        text = target
        tracer = row.get("tracer")
        if isinstance(tracer, str) and tracer:
            text += f" · {tracer}"
        extra = [str(row["publication"])] if isinstance(row.get("publication"), str) else []
        n = row.get("sample_size")
        if n is not None and not pd.isna(n):
            extra.append(f"n={int(n)}")
        out[str(name)] = text + (f" ({', '.join(extra)})" if extra else "")
    return out
