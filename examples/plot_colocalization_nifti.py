"""
Colocalization of a NIfTI map with PET receptor maps
=====================================================

Does a meta-analytic pain map follow the density of neurotransmitter receptors and
transporters more than spatially autocorrelated random maps would?

The map is a NIfTI image in MNI152NLin6Asym space (the ``painmeta`` example; its file
name carries the BIDS ``space-`` entity, so nispace knows its space). It is parcellated
with Schaefer200, correlated with the 14 PET maps of the ``UniqueTracers`` collection,
and every correlation is tested against spin null maps of the PET maps. This example
uses 100 permutations to build quickly; use 10,000 for a real analysis.
"""

# %%
# Fetch the map
# -------------
# :func:`~nispace.datasets.fetch_example` downloads (or finds in the cache) the image
# and checks its SHA-256. Any NIfTI file path or nibabel image works the same way.
from nispace.datasets import fetch_example

pain_img = fetch_example("painmeta")
print(pain_img)

# %%
# Colocalize and test
# -------------------
# :func:`~nispace.workflows.colocalization` runs ``fit`` -> ``colocalize`` ->
# ``permute`` -> ``correct_p`` and returns the fitted :class:`~nispace.api.NiSpace`.
# The null model is chosen as NiSpace chooses it (for a cortical parcellation with a
# surface: spins of the parcel centroids on the fsLR sphere) and recorded with the
# results.
from nispace.workflows import colocalization

nsp = colocalization(y={"pain": pain_img}, x="pet", x_collection="UniqueTracers",
                     parcellation="Schaefer200", colocalization_method="spearman",
                     n_perm=100, seed=42, plot=False)

# %%
# Results
# -------
# Spearman's rho of the pain map with each PET map, the permutation p-values and the
# p-values corrected for the 14 tests (effective number of tests, the default):
rho = nsp.get_colocalizations()
p = nsp.get_p_values()
q = nsp.get_p_values(mc_method="meff")
summary = rho.T.rename(columns={"pain": "rho"})
summary["p"], summary["q"] = p.T["pain"], q.T["pain"]
print(summary.sort_values("rho").round(3).to_string())

# %%
# What ``fit`` decided (the data space and where it came from, the parcellation's space,
# the geometry of the null model) is recorded, never guessed silently:
print({k: nsp.fit_record_[k] for k in ("data_space", "data_space_source",
                                       "parcellation_space", "geometry_space")})
print("null model:", nsp.get_permutation_result().null_model)

# %%
# Plot
# ----
# One row per PET map: the observed rho and the null distribution as percentile bands.
fig, ax = nsp.plot()
