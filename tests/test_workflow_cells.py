"""Code cells of ../shared/spec/nispace-workflows.txt, run on the mirror's data.

The cells are copied from the documentation; what the mirror lacks is stood in for
openly, by string replacement that the test shows:

* ``neuroquery/pain.nii.gz`` (NeuroQuery's pain map) → the mirror's pain
  meta-analysis (``fetch_example("painmeta")``, an ALE map of 21 pain fMRI studies);
* the mRNA collection ``CellTypesSilettiSuperclusters`` → ``CellTypesPsychEncodeTPM``
  (cells [10] and [12] are first run as written and must fail with an error that lists
  the collections the data has).

The plotting cells ([4], [8], [9], [11] and the ``.plot`` line of [12]) run too; their
figures are checked for structure (titles, categories), not pixels.
"""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pandas as pd
import pytest

CELLS = {
    1: """
import tqdm.notebook
tqdm.notebook.tqdm = tqdm.tqdm

import pandas as pd
import numpy as np
""",
    2: """
from nispace.workflows import colocalization
from nispace.io import load_img

pain_map = load_img("neuroquery/pain.nii.gz")

nsp = colocalization(
    y={"Pain": pain_map},  # dict key becomes the map label; can also be just the image
    x="pet",               # string shortcut: automatically fetches the PET reference dataset
    x_collection="UniqueTracers", # dataset collection to use for the PET reference dataset, optional
    parcellation="Schaefer200", # parcellation to use for the analysis
    colocalization_method="spearman", # colocalization method, default is "spearman"
    permute_kwargs={"p_tails": "upper"},  # directional test
    mc_method="meff", # multiple comparison correction method, default is "meff" (effective number of tests)
    n_perm=1000, # number of null runs, increase to >=10000 for final analyses
    seed=42, # random seed for reproducibility
    n_proc=4, # number of processes to use for parallelization, default is 1; set to -1 to use all available cores
    return_nispace_only=True # return only the NiSpace object, will be default in future versions
)
""",
    3: """
colocs   = nsp.get_colocalizations()
p_values = nsp.get_p_values()
q_values = nsp.get_p_values(mc_method="meff")

results = pd.concat([colocs, p_values, q_values], keys=["rho", "p", "q"])
results.droplevel(1).T.sort_values(by="p").head(8)
""",
    5: """
from nispace.datasets import fetch_reference

# ENIGMA cortical thickness effect sizes — 22 psychiatric disorders, DesikanKilliany parcellation
# This is a natural multi-map case: we have separate effect size maps per disorder
enigma = fetch_reference("enigmathick", parcellation="DesikanKilliany", print_references=False)
print(f"ENIGMA: {enigma.shape[0]} disorder maps x {enigma.shape[1]} parcels")
print("Disorders:", list(enigma.index[:4]), "...")

# --- pooled_p=False (default): one p-value per disorder × receptor pair ---
# Use case: "how does each disorder's cortical thinning relate to each receptor?"
nsp_multi = colocalization(
    y=enigma,
    x="pet",
    x_collection="UniqueTracers",
    parcellation="DesikanKilliany",
    colocalization_method="spearman",
    pooled_p=False,     # one p per (Y map, X map) pair — default
    mc_method="meff",
    n_perm=1000,        # increase to >=10000 for final analyses
    seed=42, n_proc=4,
    plot=False, # not correctly implemented currently
    return_nispace_only=True
)
p_per_map = nsp_multi.get_p_values()
print(f"\\npooled_p=False  → p-values shape: {p_per_map.shape}")
print(f"  {enigma.shape[0]} disorder rows × {p_per_map.shape[1]} receptor columns")

# --- pooled_p="mean": one pooled p-value per X map across all Y maps ---
# Use case: "do these disorders collectively and consistently colocalize with each receptor?"
nsp_pooled = colocalization(
    y=enigma,
    x="pet",
    x_collection="UniqueTracers",
    parcellation="DesikanKilliany",
    colocalization_method="spearman",
    pooled_p="mean",    # average colocs across Y maps → one p per X map
    mc_method="meff",
    n_perm=1000,
    seed=42, n_proc=4,
    plot=True,
    return_nispace_only=True
)
p_pooled = nsp_pooled.get_p_values()
print(f"\\npooled_p='mean' → p-values shape: {p_pooled.shape}")
print(f"  1 pooled row × {p_pooled.shape[1]} receptor columns")
""",
    6: """
from nispace.workflows import group_colocalization
from nispace.datasets import fetch_example

# load the anorexia nervosa example data
an_data = fetch_example("anorexianervosa", parcellation="Schaefer200")

# extract group labels
groups = an_data.index.str.extract(r'(AN|HC)$')[0].values

# generate synthetic covariates
rng = np.random.default_rng(42)
age = np.concatenate([rng.normal(25, 5, 50), rng.normal(30, 5, 50)])
sex = rng.integers(0, 2, 100)

# design matrix: groups column is mandatory, others are covariates
design = pd.DataFrame({
    "groups": groups,
    "age": age,
    "sex": sex
}, index=an_data.index)

nsp_gc = group_colocalization(
    y=an_data,
    design=design,
    x="pet",
    x_collection="UniqueTracers",
    parcellation="Schaefer200",
    comparison_method="hedges(a,b)",
    colocalization_method="spearman",
    n_perm=1000,
    seed=42,
    n_proc=4,
    return_nispace_only=True
)
""",
    7: """
colocs_gc = nsp_gc.get_colocalizations()
p_gc      = nsp_gc.get_p_values()
q_gc      = nsp_gc.get_corrected_p_values() # short cut for get_p_values(mc_method="meff")

gc_results = pd.concat([colocs_gc, p_gc, q_gc], keys=["rho", "p", "q"])
gc_results.droplevel(1).T.sort_values(by="p").head(8)
""",
    4: """
# the nsp_object is a fully fitted NiSpace object — you can use all methods on it
nsp.plot(sort_by="coloc")
""",
    8: """
nsp_gc.plot(sort_by="coloc")
""",
    9: """
# effect size map on the brain
nsp_gc.plot_brain(data="Y", symmetric_cmap=True)
""",
    11: """
nsp_xsea.plot(sort_by="coloc")
""",
    10: """
from nispace.workflows import xsea
from nispace.datasets import fetch_reference

# use the anorexia nervosa Hedges' g map we computed above
hedges_g = nsp_gc.get_y()

# test against mRNA gene expression sets (cell type markers)
nsp_xsea = xsea(
    y=hedges_g,
    x="mrna",          # mRNA gene expression reference
    x_collection="CellTypesSilettiSuperclusters",  # predefined cell type sets
    parcellation="Schaefer200",
    colocalization_method="spearman",
    n_perm=1000,
    seed=42,
    n_proc=4,
    return_nispace_only=True
)
""",
    12: """
from nispace.workflows import group_xsea

nsp_gxsea = group_xsea(
    y=an_data,
    design=design,
    x="mrna",
    x_collection="CellTypesSilettiSuperclusters",
    parcellation="Schaefer200",
    comparison_method="hedges(a,b)",
    colocalization_method="spearman",
    mc_method="meff",
    n_perm=1000,
    seed=42, n_proc=4,
    return_nispace_only=True
)
nsp_gxsea.plot(sort_by="coloc")
""",
}

COLLECTION = {"CellTypesSilettiSuperclusters": "CellTypesPsychEncodeTPM"}


def run(cell: int, ns: dict, replace: dict | None = None):
    code = textwrap.dedent(CELLS[cell])
    for old, new in (replace or {}).items():
        assert old in code
        code = code.replace(old, new)
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, f"<cell [{cell}]>", "exec"), ns)
    if last is None:
        return None
    # a notebook shows the value of the last expression
    return eval(compile(ast.Expression(last.value), f"<cell [{cell}]>", "eval"), ns)


def valid_p(frame: pd.DataFrame) -> bool:
    values = frame.to_numpy(dtype=float)
    return bool(np.isfinite(values).all() and (values > 0).all() and (values <= 1).all())


def title_of(fig, ax) -> str:
    return fig._suptitle.get_text() if fig._suptitle is not None else ax.get_title()


def test_workflow_cells_run_on_the_mirror(data_url, capsys):
    import matplotlib.pyplot as plt

    from nispace.datasets import fetch_example

    pain = str(fetch_example("painmeta", verbose=False))
    ns: dict = {}
    run(1, ns)
    run(2, ns, {'"neuroquery/pain.nii.gz"': repr(pain)})
    table = run(3, ns)
    assert list(table.columns) == ["rho", "p", "q"] and len(table) == 8
    assert table["p"].is_monotonic_increasing and (table["q"] >= table["p"]).all()
    for key in ("p_values", "q_values"):
        assert valid_p(ns[key])
    assert ns["nsp"].get_permutation_result("spearman").tails == {"rho": "upper"}
    assert ns["nsp"].get_p_values().shape == (1, 14)
    fig, ax = run(4, ns)
    assert title_of(fig, ax) == "Spearman's rho colocalization (permutation of X maps)"
    assert len(ax.get_yticklabels()) == 14
    plt.close("all")

    run(5, ns)
    out = capsys.readouterr().out
    assert "ENIGMA: 17 disorder maps x 68 parcels" in out
    assert "pooled_p=False  → p-values shape: (17, 14)" in out
    assert "pooled_p='mean' → p-values shape: (1, 14)" in out
    assert valid_p(ns["p_per_map"]) and valid_p(ns["p_pooled"])

    run(6, ns)
    gc = run(7, ns)
    assert list(gc.columns) == ["rho", "p", "q"] and valid_p(ns["p_gc"]) and valid_p(ns["q_gc"])
    assert ns["nsp_gc"].get_permutation_result("spearman").permute_what == "groups"
    fig, ax = run(8, ns)
    assert title_of(fig, ax) == ("Spearman's rho colocalization after Hedges' g transform "
                                 "(permutation of groups)")
    brain = run(9, ns)
    assert sum(a.get_label().startswith("surface:") for a in brain.axes) == 4
    plt.close("all")

    for cell, name in ((10, "nsp_xsea"), (12, "nsp_gxsea")):
        with pytest.raises(ValueError, match="CellTypesPsychEncodeTPM"):
            run(cell, ns)
        run(cell, ns, COLLECTION)
        p = ns[name].get_p_values()
        assert valid_p(p) and p.shape == (1, 18)  # 18 cell-type sets
        assert valid_p(ns[name].get_corrected_p_values())
    fig, ax = run(11, ns)
    assert len(ax.get_yticklabels()) == 18  # one row per cell-type set
    plt.close("all")
