"""
X-set enrichment analysis (XSEA): cell-type gene sets
=====================================================

Does the pain map colocalize with the expression of the marker genes of a cell type
more than spatial null maps of the pain map do?

XSEA colocalizes the map with every gene's expression map (Allen Human Brain Atlas,
``"mrna"``), averages the correlations of each set of genes (here the cell-type marker
genes of the ``CellTypesPsychEncodeTPM`` collection) on Fisher's z scale, and compares
each set's mean with the same mean computed on spatial null maps of the pain map.
This example uses 100 permutations; use 10,000 for a real analysis.
"""

# %%
# The gene sets
# -------------
from nispace.datasets import fetch_example, list_collections, load_collection

print(list_collections("mrna"))
name, sets = load_collection("mrna", "CellTypesPsychEncodeTPM")
print(sets.groupby("set").size())

# %%
# Run XSEA
# --------
# :func:`~nispace.workflows.xsea` takes the same arguments as
# :func:`~nispace.workflows.colocalization`; only ``x`` defaults to ``"mrna"``.
from nispace.workflows import xsea

nsp = xsea(y={"pain": fetch_example("painmeta")}, x="mrna",
           x_collection="CellTypesPsychEncodeTPM", parcellation="Schaefer200",
           n_perm=100, seed=42, plot=False)

# %%
# One value per set: the mean Spearman's rho of the set's genes, its p-value against
# the null maps of the pain map, and the corrected p-value.
table = nsp.to_frame()
print(table[["set", "value", "p", "q"]].sort_values("value").round(3).to_string(index=False))

# %%
# Plot
# ----
fig, ax = nsp.plot()
