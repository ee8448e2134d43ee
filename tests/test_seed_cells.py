"""Code cells [1]-[10] of ../shared/spec/nispace-data-and-parcellations.txt, run as written.

The cells are copied verbatim from the documentation. One difference is forced by
the data: the mirror has no mRNA collection ``CellTypesSilettiSuperclusters``,
so cell [6] is run as written (and must fail with an error listing the
collections that exist) and then with the mirror's ``CellTypesPsychEncodeTPM``.
"""

from __future__ import annotations

import textwrap

import pytest

CELLS = {
    1: """
import tqdm.notebook
tqdm.notebook.tqdm = tqdm.tqdm
""",
    2: """
from nispace.datasets import fetch_reference
pet_maps = fetch_reference("pet")
print("First two pet maps:")
print(pet_maps[0])
print(pet_maps[1])
""",
    3: """
# fetch PET maps in Schaefer200 parcellation
pet_tab = fetch_reference(
"pet",
parcellation="Schaefer200",
print_references=False
)
print(f"PET: {pet_tab.shape[0]} maps x {pet_tab.shape[1]} parcels")
print(f"Index: {pet_tab.index.names}") # ['set', 'map'] — two-level MultiIndex
print("First two entries:", list(pet_tab.index[:2]))
""",
    4: """
# fetch PET maps in Schaefer200 parcellation using the UniqueTracers collection
# -> one map per tracer/target
pet_unique = fetch_reference(
"pet",
parcellation="Schaefer200",
collection="UniqueTracers",
print_references=False
)
print(f"PET (UniqueTracers): {pet_unique.shape[0]} maps x {pet_unique.shape[1]} parcels")
print(f"Index: {pet_unique.index.names}") # ['set', 'map'] — two-level MultiIndex
print("First few entries:", list(pet_unique.index[:5]))
""",
    5: """
# without a collection: all maps, flat ['map'] index
pet_all = fetch_reference("pet", parcellation="Schaefer200", print_references=False)
print(f"No collection: {pet_all.shape[0]} maps, index: {pet_all.index.names}")
print(f"UniqueTracers: {pet_unique.shape[0]} maps, index: {pet_unique.index.names}")
""",
    6: """
# two other available reference datasets
# mRNA gene expression (Allen Human Brain Atlas)
mrna = fetch_reference(
"mrna",
parcellation="DesikanKilliany",
collection="CellTypesSilettiSuperclusters",
print_references=False
)
print(f"mRNA (CellTypesSilettiSuperclusters): {mrna.shape[0]} genes in "
f"{mrna.index.get_level_values('set').nunique()} cell-type sets x {mrna.shape[1]} parcels")
# ENIGMA cortical thickness effect sizes (Cohen's d, cases vs. controls)
# Note: this is a reference dataset — not example data — but we use it as input in Notebook 11
enigma_thick = fetch_reference(
"enigmathick",
parcellation="DesikanKilliany",
print_references=False
)
print(f"ENIGMA thickness: {enigma_thick.shape[0]} disorders x {enigma_thick.shape[1]} cortical parcels")
print(list(enigma_thick.index))
""",
    7: """
from nispace.datasets import fetch_example
an_data = fetch_example("anorexianervosa", parcellation="Schaefer200")
print(f"Shape: {an_data.shape} ({an_data.shape[0]} subjects x {an_data.shape[1]} parcels)")
print("First few IDs:", list(an_data.index[:4]), "...")
print("Last few IDs: ...", list(an_data.index[-4:]))
# extract group labels from the index
import pandas as pd
groups = an_data.index.str.extract(r'(AN|HC)$')[0]
print("\\nGroup counts:", groups.value_counts().to_dict())
""",
    8: """
from nispace.datasets import fetch_parcellation
parc = fetch_parcellation("Schaefer200")
print(parc)
""",
    9: """
# set active space
parc.set_active_space("MNI152NLin2009cAsym")
# geodesic distance matrix between Schaefer200 parcel centroids
dist_mat = parc.get_dist_mat()
print(f"Distance matrix: {dist_mat.shape} (parcels x parcels, in mm)")
""",
    10: """
# combined parcellation: Schaefer200 cortex + TianS1 subcortex
parc_combined = fetch_parcellation("Schaefer200TianS1")
print(f"Combined: {parc_combined}")
# reference data for the combined parcellation
pet_combined = fetch_reference(
"pet",
parcellation="Schaefer200TianS1",
collection="UniqueTracers",
print_references=False
)
n_cx = 200 # Schaefer200 cortex parcels
n_total = pet_combined.shape[1]
print(f"\\nPET (Schaefer200+TianS1): {pet_combined.shape[0]} maps x {n_total} parcels")
print(f" → {n_cx} cortex + {n_total - n_cx} subcortex parcels")
""",
}

STAND_IN = {"CellTypesSilettiSuperclusters": "CellTypesPsychEncodeTPM"}


def run(cell: int, namespace: dict, replace: dict | None = None) -> None:
    code = textwrap.dedent(CELLS[cell])
    for old, new in (replace or {}).items():
        code = code.replace(old, new)
    exec(compile(code, f"<cell [{cell}]>", "exec"), namespace)


def test_documented_cells_run_on_the_mirror(data_url, capsys):
    ns: dict = {}
    for cell in range(1, 6):
        run(cell, ns)
    out = capsys.readouterr().out
    assert "Dukart et al., 2021" in out  # cell [2] prints the references
    assert len(ns["pet_maps"]) == 28 and ns["pet_maps"][0].name.endswith(".nii.gz")
    assert "PET: 28 maps x 200 parcels" in out and "Index: ['map']" in out
    assert "Index: ['set', 'map']" in out

    with pytest.raises(ValueError, match="CellTypesSilettiSuperclusters.*CellTypesPsychEncodeTPM"):
        run(6, ns)
    run(6, ns, STAND_IN)
    out = capsys.readouterr().out
    assert "x 68 parcels" in out and "ENIGMA thickness: 17 disorders x 68 cortical parcels" in out

    for cell in range(7, 11):
        run(cell, ns)
    out = capsys.readouterr().out
    assert "Shape: (100, 200) (100 subjects x 200 parcels)" in out
    assert "Group counts: {'AN': 50, 'HC': 50}" in out
    assert "Distance matrix: (200, 200) (parcels x parcels, in mm)" in out
    assert "200 cortex + 16 subcortex parcels" in out
    assert ns["pet_combined"].index.names == ["set", "map"]


def test_cell_11_custom_parcellation_with_images(data_url, capsys):
    """Cell [11] with stand-ins for what needs the internet: nilearn's AAL download
    becomes the mirror's Harvard-Oxford NIfTI (a custom label image given by path,
    with its label list), and NeuroQuery's pain map the mirror's pain meta-analysis."""
    from nispace.datasets import fetch_example, fetch_file, fetch_reference

    pet_maps = fetch_reference("pet", print_references=False, verbose=False)
    stem = "parcellation/HarvardOxfordCortical/MNI152NLin6Asym/"
    stem += "parc-HarvardOxfordCortical_space-MNI152NLin6Asym.label"
    aal_map = str(fetch_file(stem + ".nii.gz"))
    aal_labels = fetch_file(stem + ".txt").read_text().splitlines()
    pain_path = str(fetch_example("painmeta", verbose=False))

    code = '''
from nispace.io import load_img
from nispace.api import NiSpace

nsp_custom = NiSpace(
x=pet_maps[:5], # use the first 5 maps of the PET map data loaded above
y=load_img(pain_path),
y_labels="Pain",
parcellation=aal_map, # custom NIfTI image
parcellation_labels=aal_labels # parcel names (optional)
)
nsp_custom.fit()
print(f"Parcellated with Destrieux: {nsp_custom.get_y().shape[1]} parcels")
'''
    ns = {"pet_maps": pet_maps, "aal_map": aal_map, "aal_labels": aal_labels,
          "pain_path": pain_path}
    exec(compile(code, "<cell [11]>", "exec"), ns)
    assert "Parcellated with Destrieux: 96 parcels" in capsys.readouterr().out
    nsp = ns["nsp_custom"]
    assert nsp.get_x().shape == (5, 96) and list(nsp.get_y().index) == ["Pain"]
    assert nsp.get_x().columns[0] == aal_labels[0]
