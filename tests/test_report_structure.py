"""The analysis report opens on the answer: a summary (question, design, key results,
first figure) before the details; group analyses state the contrast, the group sizes
and the covariates; a methods paragraph and a BibTeX file of everything used."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from nispace import __version__
from nispace.api import NiSpace
from nispace.datasets import fetch_metadata, fetch_parcellation
from nispace.report import parcellation_report
from nispace.report.citations import CITATIONS, bibtex_records, method_bibtex, to_bibtex
from nispace.report.context import build_context
from nispace.report.html import render_report
from nispace.report.results import BIBTEX_FILE, export_results, provenance


@pytest.fixture(scope="module")
def subjects() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """12 simulated subject maps on Schaefer100 (6 AN, 6 HC) and two covariates."""
    rng = np.random.default_rng(0)
    index = [f"sub-{i:02d}" for i in range(12)]
    groups = pd.Series(["AN"] * 6 + ["HC"] * 6, index=index, name="group")
    y = pd.DataFrame(rng.normal(0, 1, (12, 100)), index=index)
    covariates = pd.DataFrame({"age": rng.normal(30, 5, 12), "sex": ["f", "m"] * 6},
                              index=index)
    return y, groups, covariates


@pytest.fixture
def group_report(data_url, subjects, tmp_path):
    """AN vs HC with covariates, against the PET dataset, spatial nulls, FDR."""
    y, groups, covariates = subjects
    y.columns = fetch_parcellation("Schaefer100", verbose=False).labels
    nsp = NiSpace(x="pet", y=y, parcellation="Schaefer100", seed=1, verbose=False).fit()
    nsp.clean_y("between", covariates_between=covariates)
    nsp.transform_y("hedges(a,b)", groups=groups)
    nsp.colocalize("spearman")
    nsp.permute("maps", method="spearman", null_method="random", n_perm=20, seed=3)
    nsp.correct_p("fdr_bh", method="spearman")
    out = export_results(nsp, tmp_path / "out", figures=False)
    return nsp, out


class Sections(HTMLParser):
    """Text of each <section> by id, and the open state of each <details>."""

    def __init__(self):
        super().__init__()
        self.text: dict[str, str] = {}
        self.current: str | None = None
        self.details_open: dict[str, bool] = {}  # table id -> its <details> is open
        self._details: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.text[self.current] = ""
        elif tag == "details":
            self._details.append("open" in attrs)
        elif tag == "table" and attrs.get("id") and self._details:
            self.details_open[attrs["id"]] = self._details[-1]

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None
        elif tag == "details":
            self._details.pop()

    def handle_data(self, data):
        if self.current is not None:
            self.text[self.current] += data


def sections(text: str) -> Sections:
    parser = Sections()
    parser.feed(text)
    return parser


def bib_entries(text: str) -> dict[str, str]:
    """{key: entry body} of a BibTeX text."""
    return dict(re.findall(r"@\w+\{([^,\s]+),\n(.*?)\n\}", text, re.S))


def test_group_report_opens_on_the_answer(group_report):
    _, out = group_report
    text = (out / "report.html").read_text(encoding="utf-8")
    doc = sections(text)
    # the summary comes first: before the region table and the full results table
    assert text.index('id="summary"') < text.index('id="key-results-table"') < \
        text.index('id="results-table"') < text.index('id="regions-table"')
    assert list(doc.text)[0] == "summary"
    # long tables are collapsed
    assert doc.details_open == {"results-table": False, "regions-table": False}
    summary = " ".join(doc.text["summary"].split())
    # the contrast, the group sizes and the covariates
    assert "AN vs HC, Hedges' g" in summary
    assert "AN: n = 6, HC: n = 6 (12 subject maps)" in summary
    assert "age, sex" in summary
    # the right count: one Hedges' g map made from 12 subject maps
    assert "One AN vs HC Hedges' g map computed from 12 subject maps" in summary
    assert "12 Y map" not in text
    assert "20 spatial null maps (random" in summary and "seed 3" in summary


def test_methods_paragraph_names_data_methods_nulls_corrections_versions(group_report):
    nsp, out = group_report
    text = (out / "report.html").read_text(encoding="utf-8")
    paragraph = html.unescape(re.search(r'<blockquote class="paste">(.*?)</blockquote>',
                                        text, re.S)[1])
    for expected in (f"nispace {__version__}", "Schaefer100Parcels7Networks", "100 parcels",
                     "(AN: n = 6, HC: n = 6)", "age, sex", "'hedges(a,b)'",
                     f"{len(nsp.get_x())} maps of the nispace reference dataset 'pet'",
                     "Spearman's rho", "20 spatial null maps", "seed 3", "fdr_bh",
                     "(Benjamini et al., 1995)", "Python 3."):
        assert expected in paragraph, expected


def test_bibtex_file_lists_parcellation_datasets_maps_nulls_methods(group_report):
    nsp, out = group_report
    bib = (out / BIBTEX_FILE).read_text(encoding="utf-8")
    text = (out / "report.html").read_text(encoding="utf-8")
    assert f'href="{BIBTEX_FILE}"' in text  # linked from the report
    entries = bib_entries(bib)
    assert len(entries) == bib.count("\n@") + 1  # every entry parsed; keys are unique
    assert bib.count("{") == bib.count("}")
    dois = set(re.findall(r"doi = \{([^}]+)\}", bib))
    # the parcellation (its registry entry) and the dataset's papers (ref.yaml)
    assert "10.1093/cercor/bhx179" in dois  # Schaefer et al. 2018
    assert {"10.1002/hbm.25244", "10.1038/s41593-022-01186-3"} <= dois
    # every reference map's paper, read independently from map_info.csv
    info = fetch_metadata("pet")
    used = nsp.get_x(raw=True).index.get_level_values(-1)
    map_dois = {d.strip() for v in info.loc[used, "doi"].dropna()
                for d in str(v).replace(";", ",").split(",") if d.strip()}
    assert map_dois and map_dois <= dois
    # the null model, the colocalization, the p-values, the correction, nispace
    for key in ("random", "spearman", "permutation", "fdr_bh"):
        assert CITATIONS[key]["doi"] in dois, key
    assert "nispace" in entries and "github.com/LeonDLotter/NiSpace" in entries["nispace"]


def test_single_map_report_names_the_map(data_url):
    rng = np.random.default_rng(1)
    labels = fetch_parcellation("Schaefer100", verbose=False).labels
    y = pd.DataFrame(rng.normal(size=(1, 100)), index=["pain <meta>"], columns=labels)
    nsp = NiSpace(x="pet", y=y, parcellation="Schaefer100", verbose=False).fit()
    nsp.colocalize("pearson")
    ctx = build_context(nsp, provenance(nsp), [], ["pearson"])
    assert ctx.summary.startswith("The Y map 'pain <meta>' colocalized with")
    assert ("Y map", "pain <meta>") in ctx.design
    assert not any(k == "Contrast" for k, _ in ctx.design)
    text = render_report(ctx)
    assert "pain &lt;meta&gt;" in text and "<meta>'" not in text
    doc = sections(text)
    assert "results" in doc.text and "figures" not in doc.text  # no empty section


def test_parcellation_report_has_no_empty_sections(data_url):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    text = parcellation_report(parc).html
    doc = sections(text)
    assert list(doc.text) == ["summary", "methods", "inputs", "parcellation"]
    for sid, body in doc.text.items():
        assert len(body.split()) > 3, sid
    assert 'class="empty"' not in text
    assert "https://doi.org/10.1093/cercor/bhx179" in text  # the parcellation is cited


def test_repr_html_of_nispace_parcellation_and_results(group_report):
    nsp, _ = group_report
    results = [*nsp.colocalizations_.values(), *nsp.permutations_["spearman"].values(),
               *nsp.corrections_]
    for obj, expected in [(nsp, "hedges(a,b)"), (nsp.get_parcellation(), "100"),
                          (results[0], "spearman"), (results[1], "random"),
                          (results[2], "fdr_bh")]:
        out = obj._repr_html_()
        assert out.startswith("<div>") and expected in out, (type(obj), out)
        assert "<script" not in out and "<style" not in out
    assert "n_perm</th><td style=\"text-align:left\">20<" in results[1]._repr_html_()
    assert NiSpace(x="pet", parcellation="Schaefer100")._repr_html_().startswith(
        "<div><strong>NiSpace (not fitted)")


def test_bibtex_records_parse_citations_and_deduplicate():
    recs = method_bibtex("moran")  # two papers: Wagner & Dray 2015; Vos de Wael 2020
    assert [r["year"] for r in recs] == ["2015", "2020"]
    assert recs[0]["author"] == "Wagner, H. H. and Dray, S."
    assert recs[1]["author"] == "Vos de Wael, R. and others"
    assert recs[0]["doi"] == "10.1111/2041-210X.12407"
    assert recs[0]["title"].startswith("Generating spatially constrained null models")
    short = bibtex_records("Dukart et al., 2021", ["10.1002/hbm.25244"])
    bib = to_bibtex(method_bibtex("juspace") + short + method_bibtex("holm"))
    keys = list(bib_entries(bib))
    assert keys == ["dukart2021", "holm1979"]  # one entry per DOI
    assert "journal = {Scandinavian Journal of Statistics, 6(2), 65-70}" in bib


def test_every_part_of_a_split_null_model_is_cited():
    from types import SimpleNamespace

    from nispace.report.context import _null_keys

    split = SimpleNamespace(kind="maps", null_model="alexander_bloch (fsLR) (cortex) + "
                            "moran (Euclidean centroid distances, MNI152NLin6Asym) (subcortex)")
    assert _null_keys(split) == ["alexander_bloch", "moran"]
    assert _null_keys(SimpleNamespace(kind="pairs", null_model=None)) == ["spice"]
    assert _null_keys(SimpleNamespace(kind="groups", null_model=None)) == ["permutation"]


def test_key_results_show_the_main_statistic():
    import pandas as pd

    from nispace.report.context import key_results

    table = pd.DataFrame({"stat": ["beta", "beta", "r2"], "y": ["pain"] * 3,
                          "x": ["a", "b", "r2"], "value": [0.9, -0.8, 0.4],
                          "p": [0.01, 0.02, 0.03]})
    assert key_results(table)["x"].tolist() == ["r2"]  # mlr: the model's R², not a beta
