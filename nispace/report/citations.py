"""Citations of the methods, null models, corrections and toolboxes nispace uses.

:data:`CITATIONS` maps a method key (the name used in nispace's API, e.g. a null
method, a colocalization method or a multiple-comparison correction) to a dict with

``"citation"``
    ``"Authors (year). Title. Journal, volume(issue), pages."``; several papers are
    separated by ``"; "``.
``"doi"``
    DOI of the primary paper (``"10...."``, without ``https://doi.org/``) or ``None``
    when it has none (books, JSTOR-only papers, software without a paper).
``"extra_dois"``
    DOIs of the further papers in ``"citation"`` (a tuple, possibly empty), following
    NiSpace-data's ``citation_extra_dois`` field.

The references and DOIs are those of the docstrings of the modules that implement
each method (``nispace.nulls``, ``nispace.stats.coloc``, ``nispace.stats.dominance``,
``nispace.stats.correction``, ``nispace.stats.pvalues``, ``nispace.stats.xsea``,
``nispace.permute.pairs``). NiSpace has no paper yet; its documentation asks users to
cite JuSpace (Dukart et al. 2021) and neuromaps (Markello et al. 2022).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["CITATIONS", "bibtex_records", "cite", "method_bibtex", "to_bibtex"]


def _entry(citation: str, doi: str | None, *extra_dois: str, url: str | None = None
           ) -> dict:
    out = {"citation": citation, "doi": doi, "extra_dois": tuple(extra_dois)}
    if url is not None:
        out["url"] = url
    return out


# Papers cited by more than one key.
_ALEXANDER_BLOCH = (
    "Alexander-Bloch, A. F., Shou, H., Liu, S., Satterthwaite, T. D., Glahn, D. C., "
    "Shinohara, R. T., Vandekar, S. N., & Raznahan, A. (2018). On testing for spatial "
    "correspondence between maps of human brain structure and function. NeuroImage, 178, "
    "540-551.", "10.1016/j.neuroimage.2018.05.070")
_MARKELLO_MISIC = (
    "Markello, R. D., & Misic, B. (2021). Comparing spatial null models for brain maps. "
    "NeuroImage, 236, 118052.", "10.1016/j.neuroimage.2021.118052")
_WAGNER_DRAY = (
    "Wagner, H. H., & Dray, S. (2015). Generating spatially constrained null models for "
    "irregularly spaced data using Moran spectral randomization methods. Methods in "
    "Ecology and Evolution, 6(10), 1169-1178.", "10.1111/2041-210X.12407")
_VOS_DE_WAEL = (
    "Vos de Wael, R., et al. (2020). BrainSpace: a toolbox for the analysis of macroscale "
    "gradients in neuroimaging and connectomics datasets. Communications Biology, 3, 103.",
    "10.1038/s42003-020-0794-7")
_BURT2020 = (
    "Burt, J. B., Helmer, M., Shinn, M., Anticevic, A., & Murray, J. D. (2020). Generative "
    "modeling of brain maps with spatial autocorrelation. NeuroImage, 220, 117038.",
    "10.1016/j.neuroimage.2020.117038")
_PEARSON = (
    "Pearson, K. (1895). Note on regression and inheritance in the case of two parents. "
    "Proceedings of the Royal Society of London, 58, 240-242.", "10.1098/rspl.1895.0041")
_SPEARMAN = (
    "Spearman, C. (1904). The proof and measurement of association between two things. "
    "American Journal of Psychology, 15(1), 72-101.", "10.2307/1412159")
_FISHER = (
    "Fisher, R. A. (1915). Frequency distribution of the values of the correlation "
    "coefficient in samples from an indefinitely large population. Biometrika, 10(4), "
    "507-521.", "10.2307/2331838")
_DUKART = (
    "Dukart, J., et al. (2021). JuSpace: A tool for spatial correlation analyses of "
    "magnetic resonance imaging data with nuclear imaging derived neurotransmitter maps. "
    "Human Brain Mapping, 42(3), 555-566.", "10.1002/hbm.25244")
_MARKELLO2022 = (
    "Markello, R. D., Hansen, J. Y., Liu, Z.-Q., et al. (2022). neuromaps: structural and "
    "functional interpretation of brain maps. Nature Methods, 19, 1472-1479.",
    "10.1038/s41592-022-01625-w")
_BUDESCU = (
    "Budescu, D. V. (1993). Dominance analysis: A new approach to the problem of relative "
    "importance of predictors in multiple regression. Psychological Bulletin, 114(3), "
    "542-551.", "10.1037/0033-2909.114.3.542")
_AZEN_BUDESCU = (
    "Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing "
    "predictors in multiple regression. Psychological Methods, 8(2), 129-148.",
    "10.1037/1082-989X.8.2.129")
_SIDAK = (
    "Šidák, Z. (1967). Rectangular confidence regions for the means of multivariate "
    "normal distributions. Journal of the American Statistical Association, 62(318), "
    "626-633.", "10.1080/01621459.1967.10482935")
_HOLM = ("Holm, S. (1979). A simple sequentially rejective multiple test procedure. "
         "Scandinavian Journal of Statistics, 6(2), 65-70.")
_HOCHBERG = (
    "Hochberg, Y. (1988). A sharper Bonferroni procedure for multiple tests of "
    "significance. Biometrika, 75(4), 800-802.", "10.1093/biomet/75.4.800")
_SIMES = (
    "Simes, R. J. (1986). An improved Bonferroni procedure for multiple tests of "
    "significance. Biometrika, 73(3), 751-754.", "10.1093/biomet/73.3.751")
_BKY = (
    "Benjamini, Y., Krieger, A. M., & Yekutieli, D. (2006). Adaptive linear step-up "
    "procedures that control the false discovery rate. Biometrika, 93(3), 491-507.",
    "10.1093/biomet/93.3.491")
_WESTFALL_YOUNG = ("Westfall, P. H., & Young, S. S. (1993). Resampling-Based Multiple "
                   "Testing: Examples and Methods for p-Value Adjustment. Wiley.")
_LOTTER2024 = (
    "Lotter, L. D., et al. (2024). Regional patterns of human cortex development correlate "
    "with underlying neurobiology. Nature Communications, 15, 7987.",
    "10.1038/s41467-024-52366-7")


def _both(first: tuple[str, str], second: tuple[str, str]) -> dict:
    """Entry citing two papers, each given as (citation, doi)."""
    return _entry(f"{first[0].rstrip('.')}; {second[0]}", first[1], second[1])


#: Citation of every method key: ``{"citation": str, "doi": str | None,
#: "extra_dois": tuple[str, ...]}`` (plus ``"url"`` for software without a paper).
CITATIONS: dict[str, dict] = {
    # ---- null models (nispace.nulls)
    "alexander_bloch": _entry(*_ALEXANDER_BLOCH),
    "vasa": _entry(
        "Váša, F., Seidlitz, J., Romero-Garcia, R., Whitaker, K. J., Rosenthal, G., Vértes, "
        "P. E., et al. (2018). Adolescent tuning of association cortex in human structural "
        "brain networks. Cerebral Cortex, 28(1), 281-294.", "10.1093/cercor/bhx249"),
    "hungarian": _entry(*_MARKELLO_MISIC),
    "baum": _entry(
        "Baum, G. L., Cui, Z., Roalf, D. R., Ciric, R., Betzel, R. F., Larsen, B., et al. "
        "(2020). Development of structure-function coupling in human brain networks during "
        "youth. PNAS, 117(1), 771-778.", "10.1073/pnas.1912034117"),
    "cornblath": _entry(
        "Cornblath, E. J., Ashourvan, A., Kim, J. Z., Betzel, R. F., Ciric, R., Adebimpe, "
        "A., et al. (2020). Temporal sequences of brain activity at rest are constrained "
        "by white matter structure and modulated by cognitive demands. Communications "
        "Biology, 3, 261.", "10.1038/s42003-020-0961-x"),
    "moran": _both(_WAGNER_DRAY, _VOS_DE_WAEL),
    "variomoran": _both(_WAGNER_DRAY, _BURT2020),
    "burt2018": _entry(
        "Burt, J. B., Demirtas, M., Eckner, W. J., et al. (2018). Hierarchy of "
        "transcriptomic specialization across human cortex captured by structural "
        "neuroimaging topography. Nature Neuroscience, 21(9), 1251-1259.",
        "10.1038/s41593-018-0195-0"),
    "burt2020": _entry(*_BURT2020),
    "random": _both(_MARKELLO_MISIC, _ALEXANDER_BLOCH),
    # ---- colocalization methods (nispace.stats.coloc)
    "pearson": _both(_PEARSON, _FISHER),
    "spearman": _entry(*_SPEARMAN),
    "partialpearson": _both(_PEARSON, _FISHER),
    "partialspearman": _both(_SPEARMAN, _FISHER),
    "slr": _entry(*_DUKART),
    "mlr": _entry(*_DUKART),
    "dominance": _both(_BUDESCU, _AZEN_BUDESCU),
    "pls": _entry(
        "Wold, S., Sjöström, M., & Eriksson, L. (2001). PLS-regression: a basic tool of "
        "chemometrics. Chemometrics and Intelligent Laboratory Systems, 58(2), 109-130.",
        "10.1016/S0169-7439(01)00155-1"),
    "pcr": _entry(
        "Jolliffe, I. T. (1982). A note on the use of principal components in regression. "
        "Journal of the Royal Statistical Society C, 31(3), 300-303.", "10.2307/2348005"),
    "lasso": _entry(
        "Tibshirani, R. (1996). Regression shrinkage and selection via the lasso. Journal "
        "of the Royal Statistical Society B, 58(1), 267-288.",
        "10.1111/j.2517-6161.1996.tb02080.x"),
    "ridge": _entry(
        "Hoerl, A. E., & Kennard, R. W. (1970). Ridge regression: biased estimation for "
        "nonorthogonal problems. Technometrics, 12(1), 55-67.",
        "10.1080/00401706.1970.10488634"),
    "elasticnet": _entry(
        "Zou, H., & Hastie, T. (2005). Regularization and variable selection via the "
        "elastic net. Journal of the Royal Statistical Society B, 67(2), 301-320.",
        "10.1111/j.1467-9868.2005.00503.x"),
    "mi": _entry(
        "Kraskov, A., Stögbauer, H., & Grassberger, P. (2004). Estimating mutual "
        "information. Physical Review E, 69, 066138.", "10.1103/PhysRevE.69.066138"),
    # ---- multiple-comparison corrections (nispace.stats.correction)
    "bonferroni": _entry(
        "Bonferroni, C. E. (1936). Teoria statistica delle classi e calcolo delle "
        "probabilità. Pubblicazioni del R. Istituto Superiore di Scienze Economiche e "
        "Commerciali di Firenze, 8, 3-62.", None),
    "sidak": _entry(*_SIDAK),
    "holm": _entry(_HOLM, None),
    "holm-sidak": _entry(f"{_HOLM.rstrip('.')}; {_SIDAK[0]}", None, _SIDAK[1]),
    "simes-hochberg": _both(_HOCHBERG, _SIMES),
    "hommel": _entry(
        "Hommel, G. (1988). A stagewise rejective multiple test procedure based on a "
        "modified Bonferroni test. Biometrika, 75(2), 383-386.", "10.1093/biomet/75.2.383"),
    "fdr_bh": _entry(
        "Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a "
        "practical and powerful approach to multiple testing. Journal of the Royal "
        "Statistical Society B, 57(1), 289-300.", "10.1111/j.2517-6161.1995.tb02031.x"),
    "fdr_by": _entry(
        "Benjamini, Y., & Yekutieli, D. (2001). The control of the false discovery rate in "
        "multiple testing under dependency. Annals of Statistics, 29(4), 1165-1188.",
        "10.1214/aos/1013699998"),
    "fdr_tsbh": _entry(*_BKY),
    "fdr_tsbky": _entry(*_BKY),
    "fdr_gbs": _entry(
        "Gavrilov, Y., Benjamini, Y., & Sarkar, S. K. (2009). An adaptive step-down "
        "procedure with proven FDR control under independence. Annals of Statistics, "
        "37(2), 619-629.", "10.1214/07-AOS586"),
    "meffgalwey": _entry(
        "Galwey, N. W. (2009). A new measure of the effective number of tests, a practical "
        "tool for comparing families of non-independent significance tests. Genetic "
        "Epidemiology, 33(7), 559-568.", "10.1002/gepi.20408"),
    "meffliji": _entry(
        "Li, J., & Ji, L. (2005). Adjusting multiple testing in multilocus analyses using "
        "the eigenvalues of a correlation matrix. Heredity, 95(3), 221-227.",
        "10.1038/sj.hdy.6800717"),
    "maxt": _entry(_WESTFALL_YOUNG, None),
    "step_maxt": _entry(_WESTFALL_YOUNG, None),
    # ---- p-values, paired and set-level tests
    "permutation": _entry(
        "Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero: "
        "calculating exact p-values when permutations are randomly drawn. Statistical "
        "Applications in Genetics and Molecular Biology, 9(1), 39.",
        "10.2202/1544-6115.1585"),
    "spice": _entry(
        "Weinstein, S. M., Vandekar, S. N., Adebimpe, A., et al. (2021). A simple "
        "permutation-based test of intermodal correspondence. Human Brain Mapping, 42(16), "
        "5175-5187.", "10.1002/hbm.25577"),
    "xsea": _both(_LOTTER2024, (
        "Subramanian, A., et al. (2005). Gene set enrichment analysis: a knowledge-based "
        "approach for interpreting genome-wide expression profiles. PNAS, 102(43), "
        "15545-15550.", "10.1073/pnas.0506580102")),
    # ---- toolboxes
    "nispace": _entry(
        "Lotter, L. D., et al. NiSpace: spatial colocalization of brain maps (software, "
        "https://github.com/LeonDLotter/NiSpace). No paper yet; its documentation asks to "
        "cite Dukart et al. (2021) and Markello et al. (2022).",
        None, _DUKART[1], _MARKELLO2022[1], url="https://github.com/LeonDLotter/NiSpace"),
    "neuromaps": _entry(*_MARKELLO2022),
    "juspace": _entry(*_DUKART),
}


def cite(key: str) -> dict | None:
    """Citation of a method, null model, correction or toolbox, or None if unknown.

    Parameters
    ----------
    key : str
        A key of :data:`CITATIONS` (case-insensitive), or an alias that nispace
        accepts for a null method (``"spin"``, ``"msr"``) or a multiple-comparison
        method (``"fdr"``, ``"bonf"``, ``"maxT"``, ...).

    Returns
    -------
    dict or None
        A copy of the entry: ``{"citation": str, "doi": str | None,
        "extra_dois": tuple}``; None when ``key`` names nothing nispace cites.

    Examples
    --------
    >>> cite("FDR")["doi"]
    '10.1111/j.2517-6161.1995.tb02031.x'
    """
    if not isinstance(key, str):
        raise TypeError(f"key: expected a str; got {type(key).__name__}.")
    name = key.strip().lower()
    if name in CITATIONS:
        return dict(CITATIONS[name])
    # Aliases are defined once, by the modules that accept them (imported lazily:
    # the null registry pulls in scipy).
    from ..nulls.registry import parse_null_method
    from ..stats.correction import canonical_mc_method

    def null_method(name: str) -> str:
        single, subcortex = parse_null_method(name)
        if subcortex is not None:  # "spin+moran" names two methods, not one
            raise ValueError(name)
        return single

    for canonical in (null_method, canonical_mc_method):
        try:
            name = canonical(key)
        except ValueError:
            continue
        if name in CITATIONS:
            return dict(CITATIONS[name])
    return None


# --------------------------------------------------------------------------------------
# BibTeX

_PAPER_SPLIT = re.compile(r"; (?=[^;]*\(\d{4}\)\.)")
_FULL_REF = re.compile(r"^(?P<author>.+?) \((?P<year>\d{4})\)\. (?P<title>.+?[.?!]) "
                       r"(?P<rest>.+?)\.?$")
_SHORT_REF = re.compile(r"^(?P<author>[^,]+?)(?: et al\.?)?,? (?P<year>\d{4})(?:,\s*(?P<rest>.+))?$")
_INITIALS = re.compile(r"^(?:[^\W\d_]{1,2}\.[\s-]?)+$")


def _bib_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", str(text)).replace("{", "").replace("}", "")


def _bib_authors(text: str) -> str:
    """``"Burt, J. B., Helmer, M., & Murray, J. D."`` -> ``"Burt, J. B. and ..."``."""
    tokens = [t.strip().removeprefix("& ").strip() for t in text.split(",")]
    names, others = [], False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token:
            i += 1
            continue
        if token.startswith("et al"):
            others = True
            i += 1
            continue
        if i + 1 < len(tokens) and _INITIALS.match(tokens[i + 1].removeprefix("& ")):
            names.append(f"{token}, {tokens[i + 1]}")
            i += 2
        else:
            names.append(token)
            i += 1
    return " and ".join(names + (["others"] if others else []))


def _surname(authors: str) -> str:
    first = re.split(r",| and | et al", authors)[0]
    return re.sub(r"[^a-z]", "", first.lower()
                  .translate(str.maketrans("áàäéèëíóöúüšžčćß", "aaaeeeioouuszccs"))) or "ref"


def bibtex_records(text: str, dois: Sequence[str | None] = ()) -> list[dict]:
    """Parse a citation into BibTeX fields, one dict per paper.

    Parameters
    ----------
    text : str
        A citation in :data:`CITATIONS` style (``"Authors (year). Title. Journal,
        volume, pages."``, several papers separated by ``"; "``) or a short reference
        as in the data registry (``"Dukart et al., 2021"``).
    dois : sequence of str or None
        The papers' DOIs in order (None for a paper without DOI).

    Returns
    -------
    list of dict
        ``{"type", "author", "year", "title", "journal", "doi", "note"}`` (fields
        that are known) per paper, for :func:`to_bibtex`.

    Examples
    --------
    >>> bibtex_records("Dukart et al., 2021", ["10.1002/hbm.25244"])[0]["author"]
    'Dukart and others'
    """
    dois = list(dois)
    out = []
    for i, part in enumerate(_PAPER_SPLIT.split(str(text).strip())):
        doi = dois[i] if i < len(dois) else None
        full, short = _FULL_REF.match(part), _SHORT_REF.match(part.strip())
        if full:
            rec = {"type": "article", "author": _bib_authors(full["author"]),
                   "year": full["year"], "title": full["title"].rstrip("."),
                   "journal": full["rest"]}
        elif short:
            rec = {"type": "article", "author": short["author"].strip() + " and others"
                   if "et al" in part else short["author"].strip(), "year": short["year"]}
            if short["rest"]:
                rec["journal"] = short["rest"]
            rec["note"] = part.strip()
        else:
            rec = {"type": "misc", "author": "", "note": part.strip()}
        if doi:
            rec["doi"] = doi
        out.append(rec)
    return out


def to_bibtex(records: list[dict]) -> str:
    """BibTeX text of parsed records.

    Parameters
    ----------
    records : list of dict
        Records of :func:`bibtex_records` / :func:`method_bibtex`; an optional
        ``"key"`` sets the citation key.

    Returns
    -------
    str
        One entry per distinct paper (same DOI, or same text, once); keys are
        ``surnameYEAR`` with a/b/... suffixes when two papers share one.
    """
    seen: set = set()
    used: dict[str, int] = {}
    entries = []
    for rec in records:
        ident = rec.get("doi") or (rec.get("author"), rec.get("year"), rec.get("title"),
                                   rec.get("note"))
        if ident in seen:
            continue
        seen.add(ident)
        key = rec.get("key") or f"{_surname(rec.get('author', ''))}{rec.get('year', '')}"
        n = used.get(key, 0)
        used[key] = n + 1
        if n:
            key += "abcdefghijklmnopqrstuvwxyz"[min(n, 25)]
        fields = [(k, v) for k, v in rec.items() if k not in ("type", "key") and v]
        body = ",\n".join(f"  {k} = {{{v if k in ('doi', 'url') else _bib_escape(v)}}}"
                          for k, v in fields)
        entries.append(f"@{rec.get('type', 'misc')}{{{key},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def method_bibtex(key: str) -> list[dict]:
    """BibTeX records of a method, null model, correction or toolbox.

    Parameters
    ----------
    key : str
        A key of :data:`CITATIONS` or an alias :func:`cite` resolves; ``"nispace"``
        gives the software entry plus JuSpace and neuromaps, which its
        documentation asks users to cite.

    Returns
    -------
    list of dict
        Records for :func:`to_bibtex`; empty when nispace cites nothing for ``key``.
    """
    if key.strip().lower() == "nispace":
        entry = CITATIONS["nispace"]
        return [{"type": "software", "key": "nispace", "author": "Lotter, L. D. and others",
                 "title": "NiSpace: spatial colocalization of brain maps",
                 "url": entry["url"], "note": "No paper yet; cite JuSpace and neuromaps too"},
                *method_bibtex("juspace"), *method_bibtex("neuromaps")]
    entry = cite(key)
    if entry is None:
        return []
    return bibtex_records(entry["citation"], [entry["doi"], *entry["extra_dois"]])
