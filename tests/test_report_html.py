"""The HTML report: structure (parsed with html.parser) and behaviour in a real browser.

The browser tests run headless Chromium on file:// URLs only. Chromium prints every
console message (log, warning, error, uncaught exception) to stderr with
``--enable-logging=stderr --v=0`` as a line ``...:CONSOLE...] "message", source: url``;
this Chromium (150) gives all levels the same ``INFO:CONSOLE`` tag, so the check is
strict: the report must print nothing at all. Two negative-control pages prove that
the detector sees ``console.error`` and uncaught exceptions.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nispace
from nispace.report import CITATIONS, Figure, ReportContext, cite, format_p, render_report, \
    write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL = '<b>bold</b> & "quoted"'
SECTION_IDS = ("inputs", "parcellation", "methods", "results", "figures", "references")


# --------------------------------------------------------------------------------------
# a small analysis to report


def _figures() -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    for fmt in ("png", "svg"):
        fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
        ax.bar(["a", "b", "c"], [0.3, -0.1, 0.5], color="tab:blue")
        ax.set_title(f"rho ({fmt})")
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt)
        plt.close(fig)
        content = buf.getvalue() if fmt == "png" else buf.getvalue().decode()
        out.append(Figure(caption=f"Colocalization of {EVIL} ({fmt})", **{fmt: content}))
    return out


@pytest.fixture(scope="module")
def ctx() -> ReportContext:
    results = pd.DataFrame({
        "x": [f"map{i}" for i in range(6)] + [EVIL],
        "y": ["target"] * 7,
        "rho": [0.41, -0.12, 0.05, 0.73, np.nan, 0.33, -0.5],
        "p": [0.03, 0.5, np.nan, 0.00023, 0.9, 0.0012, 0.2],
        "q": [0.07, 0.6, np.nan, 0.0016, 0.9, 0.004, 0.3],
    })
    regions = pd.DataFrame({
        "label value": [1, 2, 3], "name": ["LH_Vis_1", "RH_<Default>_2", "Thal&amus"],
        "size": [812, 640, np.nan], "unit": ["mm3"] * 3, "percent": [100.0, 97.5, 0.0]})
    references = pd.DataFrame({
        "map": [EVIL, "target-D1_tracer-sch23390"],
        "source": ["Savli2012", "Kaller2017"],
        "license": ["CC BY-NC-SA 4.0", "CC BY-NC-SA 4.0"],
        "doi": ["https://doi.org/10.1016/j.neuroimage.2012.07.001",
                "10.1007/s00259-017-3645-0"],
    })
    return ReportContext(
        title="Colocalization of <target> & PET maps",
        created="2025-01-02T03:04:05",
        summary='Spearman colocalization of one "target" map with 7 PET maps.',
        inputs=[("Y", "target.nii.gz"), ("X", "pet <UniqueTracers>")],
        provenance={"nispace": nispace.__version__, "python": "3.11.7",
                    "packages": {"numpy": np.__version__, "pandas": pd.__version__},
                    "data_files": [("reference/pet/tab-pet.csv", "ab" * 32)],
                    "parcellation": "Schaefer100Parcels7Networks", "null_method": "moran",
                    "n_perm": 1000, "seed": 42, "n_proc": 2,
                    "command": "nispace colocalize --y target.nii.gz --x pet"},
        parcellation={"name": "Schaefer100Parcels7Networks",
                      "spaces": ["MNI152NLin6Asym", "fsaverage"], "n_parcels": 3,
                      "regions": regions, "excluded": [("Thal&amus", "no voxels <0.5%")]},
        methods=[{"role": "colocalization", "name": "spearman",
                  "description": "Spearman rank correlation.",
                  "citation": CITATIONS["spearman"]["citation"],
                  "doi": CITATIONS["spearman"]["doi"]},
                 {"role": "null model", "name": "moran", "description": "Moran surrogates."},
                 {"role": "correction", "name": "fdr_bh", "description": "FDR."}],
        results=results,
        figures=_figures(),
        references=references,
        warnings=["2 parcels are NaN in <target>."],
    )


@pytest.fixture(scope="module")
def report(ctx, tmp_path_factory) -> Path:
    return write_report(ctx, tmp_path_factory.mktemp("report") / "report.html")


# --------------------------------------------------------------------------------------
# structure


class Collector(HTMLParser):
    """Records elements, ids and the cells of every table body."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.ids: list[str] = []
        self.tables: dict[str, dict] = {}  # id -> {"head", "rows", "row_attrs"}
        self._table = None
        self._in_body = False
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", f"#{len(self.tables)}"),
                                                 {"head": [], "rows": [], "row_attrs": []})
        elif tag == "tbody":
            self._in_body = True
        elif tag == "th" and self._table is not None and not self._in_body:
            self._table["head"].append(attrs)
        elif tag == "tr" and self._in_body:
            self._table["rows"].append([])
            self._table["row_attrs"].append(attrs)
        elif tag == "td" and self._in_body:
            self._cell = {"attrs": attrs, "text": ""}
            self._table["rows"][-1].append(self._cell)

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def tags(self, name):
        return [attrs for tag, attrs in self.elements if tag == name]

    def column(self, table_id, key, attr="data-value"):
        table = self.tables[table_id]
        j = [h.get("data-key") for h in table["head"]].index(key)
        return [row[j]["attrs"].get(attr) if attr else row[j]["text"] for row in table["rows"]]


def parse(text: str) -> Collector:
    collector = Collector()
    collector.feed(text)
    collector.close()
    return collector


def test_html_structure(ctx):
    text = render_report(ctx)
    doc = parse(text)

    assert text.startswith("<!DOCTYPE html>")
    assert doc.tags("html")[0]["lang"] == "en"
    assert {"charset": "utf-8"} in doc.tags("meta")
    assert len(doc.tags("h1")) == 1
    assert set(SECTION_IDS) <= {a["id"] for a in doc.tags("section")}
    assert len(doc.ids) == len(set(doc.ids)), "duplicate ids"

    # self-contained: no remote resource of any kind, one inline script
    for tag, attrs in doc.elements:
        for name in ("src", "href", "xlink:href", "srcset", "poster", "data"):
            value = (attrs.get(name) or "").strip().lower()
            if value.startswith(("http:", "https:", "//")):
                assert (tag, name) == ("a", "href"), (tag, attrs)
    assert [a for a in doc.tags("script")] == [{}]
    assert not [a for a in doc.tags("link") if "stylesheet" in (a.get("rel") or "")]
    assert "@import" not in text and "@font-face" not in text and "url(http" not in text

    # figures: one embedded PNG that decodes to a PNG, one inline SVG
    images = doc.tags("img")
    assert len(images) == 1
    prefix = "data:image/png;base64,"
    assert images[0]["src"].startswith(prefix)
    assert base64.b64decode(images[0]["src"][len(prefix):]).startswith(PNG_SIGNATURE)
    assert len(doc.tags("svg")) == 1 and "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert len(doc.tags("figure")) == 2

    # escaping: the map name's <b> is text, not an element, wherever it appears
    assert doc.tags("b") == []
    assert EVIL in doc.column("results-table", "x", attr=None)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in text

    # results: one body row per DataFrame row, p-values formatted, significant rows marked
    assert len(doc.tables["results-table"]["rows"]) == len(ctx.results)
    assert doc.column("results-table", "p", attr=None) == \
        ["0.03", "0.5", "n/a", "2.3e-04", "0.9", "0.0012", "0.2"]
    sig = ["sig" in (a.get("class") or "") for a in doc.tables["results-table"]["row_attrs"]]
    assert sig == list(ctx.results["q"] < 0.05)
    assert all(h["aria-sort"] == "none" for h in doc.tables["results-table"]["head"])

    # provenance, methods and references
    assert "ab" * 32 in text and "<details>" in text
    # the answer first (summary, results, figures), then the details
    assert text.index('id="summary"') < text.index('id="results"') < \
        text.index('id="figures"') < text.index('id="methods"') < \
        text.index('id="inputs"') < text.index('id="parcellation"') < \
        text.index('id="references"')
    dois = {a["href"] for a in doc.tags("a") if a["href"].startswith("https://doi.org/")}
    assert "https://doi.org/" + CITATIONS["fdr_bh"]["doi"] in dois  # looked up by name
    assert "https://doi.org/10.1111/2041-210X.12407" in dois  # moran: Wagner & Dray
    assert "https://doi.org/10.1016/j.neuroimage.2012.07.001" in dois  # reference map
    assert len(doc.tables["references-table"]["rows"]) == 2
    assert len(doc.tables["regions-table"]["rows"]) == 3


def test_format_p():
    assert format_p(0.0123456) == "0.0123"
    assert format_p(0.00023) == "2.3e-04"
    assert format_p(0.000234567) == "2.35e-04"
    assert format_p(0.05) == "0.05"
    assert format_p(np.nan) == "n/a"


def test_bad_figures_are_rejected(ctx):
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"figures\[0\]: expected png bytes or svg"):
        render_report(replace(ctx, figures=[Figure("empty")]))
    with pytest.raises(ValueError, match=r"figures\[0\]\.png: .*PNG signature"):
        render_report(replace(ctx, figures=[Figure("jpeg", png=b"\xff\xd8\xff\xe0")]))
    remote = ('<svg xmlns="http://www.w3.org/2000/svg">'
              '<image href="https://x.org/a.png"/></svg>')
    with pytest.raises(ValueError, match=r"figures\[0\]\.svg: .*remote"):
        render_report(replace(ctx, figures=[Figure("remote", svg=remote)]))


def test_write_report_is_atomic_utf8(ctx, tmp_path):
    path = write_report(ctx, tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left
    assert path.read_bytes().decode("utf-8") == render_report(ctx)
    path = write_report(ctx, str(tmp_path / "r.html"))  # replaces an existing report
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(FileNotFoundError, match="path: the folder"):
        write_report(ctx, tmp_path / "missing" / "r.html")


# --------------------------------------------------------------------------------------
# citations


def test_citations_cover_every_method_and_reuse_module_references():
    from nispace.nulls.registry import NULL_METHODS
    from nispace.stats.coloc import COLOC_METHODS
    from nispace.stats.correction import MC_METHODS

    extra = ("permutation", "spice", "xsea", "nispace", "neuromaps", "juspace")
    assert set(NULL_METHODS) | set(COLOC_METHODS) | set(MC_METHODS) | set(extra) <= \
        set(CITATIONS)
    for key, entry in CITATIONS.items():
        assert entry["citation"], key
        for doi in (entry["doi"], *entry["extra_dois"]):
            assert doi is None or re.fullmatch(r"10\.\d{4,9}/\S+", doi), (key, doi)

    # the DOIs are the ones the implementing modules already cite
    src = Path(nispace.__file__).parent
    modules = {"nulls/spins.py": ("alexander_bloch", "vasa", "hungarian", "baum", "cornblath"),
               "nulls/moran.py": ("moran", "variomoran"),
               "nulls/burt.py": ("burt2018", "burt2020"),
               "stats/coloc.py": ("spearman", "mi", "pls", "pcr", "lasso", "ridge",
                                  "elasticnet", "juspace"),
               "stats/dominance.py": ("dominance",),
               "stats/correction.py": ("meffgalwey", "meffliji", "sidak"),
               "stats/pvalues.py": ("permutation", "neuromaps"),
               "stats/xsea.py": ("xsea",),
               "permute/pairs.py": ("spice",)}
    for module, keys in modules.items():
        text = (src / module).read_text(encoding="utf-8")
        for key in keys:
            for doi in (CITATIONS[key]["doi"], *CITATIONS[key]["extra_dois"]):
                assert f"https://doi.org/{doi}" in text, (key, doi, module)
    assert CITATIONS["maxt"]["doi"] is None
    assert "Westfall" in CITATIONS["step_maxt"]["citation"]
    assert CITATIONS["fdr_bh"]["doi"] == "10.1111/j.2517-6161.1995.tb02031.x"


def test_cite_resolves_aliases():
    assert cite("Spearman") == CITATIONS["spearman"]
    assert cite("spin") == CITATIONS["alexander_bloch"]
    assert cite("MSR") == CITATIONS["moran"]
    assert cite("FDR") == CITATIONS["fdr_bh"]
    assert cite("maxT") == CITATIONS["maxt"]
    assert cite("spin+moran") is None and cite("no such method") is None


# --------------------------------------------------------------------------------------
# a real browser


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else \
        shutil.which("chromium")
    if exe is None:
        msg = "Chromium is not installed (Debian package 'chromium', /usr/bin/chromium)."
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def run_chromium(exe: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, offline (every host name unresolvable), console to stderr."""
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile}",
           "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)


_CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


def console_messages(stderr: str) -> list[str]:
    """Console messages (any level, uncaught exceptions included) in Chromium's log."""
    return [m.group(1) for m in map(_CONSOLE.search, stderr.splitlines()) if m]


def test_console_detector_catches_errors(chromium, tmp_path):
    """Negative controls: a console.error and an uncaught exception are both seen."""
    pages = {"error.html": 'console.error("boom");',
             "throw.html": 'throw new Error("kaboom");'}
    found = {}
    for name, script in pages.items():
        page = tmp_path / name
        page.write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                        f'<title>control</title></head><body><script>{script}</script>'
                        '</body></html>', encoding="utf-8")
        found[name] = console_messages(run_chromium(chromium, tmp_path, "--dump-dom",
                                                    page.as_uri()).stderr)
    assert any("boom" in m for m in found["error.html"]), found
    assert any("Uncaught Error: kaboom" in m for m in found["throw.html"]), found


def test_browser_screenshot_is_not_blank(chromium, report, tmp_path):
    import matplotlib.image

    shot = tmp_path / "shot.png"
    proc = run_chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,3000",
                        report.as_uri())
    assert console_messages(proc.stderr) == []
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1280)
    assert pixels.std() > 0.05
    assert (pixels.min(axis=2) < 0.9).mean() > 0.01  # a fair share of non-white pixels


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_browser_sorts_from_url_hash(chromium, report, ctx, tmp_path, direction):
    url = f"{report.as_uri()}#sort=results:p:{direction}"
    proc = run_chromium(chromium, tmp_path, "--dump-dom", url)
    assert console_messages(proc.stderr) == []
    doc = parse(proc.stdout)
    assert doc.tags("body")[0].get("data-ready") == "1"

    p = [float(v) if v else np.nan for v in doc.column("results-table", "p")]
    expected = ctx.results["p"].dropna().sort_values(ascending=direction == "asc")
    assert p[:len(expected)] == list(expected)  # numeric order: 0.00023 < 0.0012 < 0.03
    assert np.isnan(p[len(expected):]).all()  # NaN last in either direction
    assert list(ctx.results["p"]) != p  # the table was reordered, not served sorted
    # every cell of a row moved with its p-value
    names = doc.column("results-table", "x", attr=None)
    assert names == list(ctx.results.set_index("p").loc[p[:-1], "x"]) + ["map2"]
    aria = {h["data-key"]: h["aria-sort"] for h in doc.tables["results-table"]["head"]}
    assert aria.pop("p") == {"asc": "ascending", "desc": "descending"}[direction]
    assert set(aria.values()) == {"none"}


def test_browser_sorts_text_columns_by_table_id(chromium, report, ctx, tmp_path):
    proc = run_chromium(chromium, tmp_path, "--dump-dom",
                        f"{report.as_uri()}#sort=results-table:x:desc")
    assert console_messages(proc.stderr) == []
    doc = parse(proc.stdout)
    assert doc.column("results-table", "x", attr=None) == \
        ["map5", "map4", "map3", "map2", "map1", "map0", EVIL]


def test_png_figures_are_shown_at_their_printed_size():
    """A 300 dpi PNG 3 inches wide is 288 CSS pixels wide (96 per inch), not 900."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nispace.report.html import _png_css_width

    fig = plt.figure(figsize=(3, 2))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=300)
    plt.close(fig)
    assert _png_css_width(buf.getvalue()) == 288
    # a PNG without a resolution keeps its pixel width (no width attribute)
    from PIL import Image

    plain = io.BytesIO()
    Image.new("RGB", (50, 20)).save(plain, format="PNG")
    assert _png_css_width(plain.getvalue()) is None


def test_brain_colorbar_names_the_y_transform():
    from types import SimpleNamespace

    from nispace.report.results import _y_value_label

    group = SimpleNamespace(transforms_=[{"y": "hedges(a,b)", "n_maps_in": 100}])
    assert _y_value_label(group) == "Hedges' g"
    assert _y_value_label(SimpleNamespace(transforms_=[])) == "Y value"
