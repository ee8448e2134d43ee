"""
Maps from Neurovault
====================

`Neurovault <https://neurovault.org>`_ hosts thousands of statistical brain maps.
nispace fetches them with nilearn's Neurovault fetcher (same arguments and filter
vocabulary, base URL settable) and caches them, so that a Neurovault result can be
given directly as ``x`` or ``y``.

This example needs the internet, so the documentation shows it without running it.
"""

# %%
# Fetch two images by their IDs
# -----------------------------
from nispace.datasets import fetch_neurovault_ids

nv = fetch_neurovault_ids(image_ids=[32015, 32016])
print(nv.images)

# %%
# Or search with nilearn's filter vocabulary: here up to 5 T or Z maps from
# collections whose description mentions pain.
from nispace.datasets import fetch_neurovault
from nispace.datasets.neurovault import Contains, IsIn

found = fetch_neurovault(max_images=5, image_terms={"map_type": IsIn("T map", "Z map")},
                         collection_terms={"description": Contains("pain")})

# %%
# Colocalize with the PET maps
# ----------------------------
# The Neurovault result goes straight in as ``y``; the images' space comes from their
# metadata or, failing that, NiSpace's default ``MNI152NLin6Asym`` with a WARNING.
from nispace.workflows import colocalization

nsp = colocalization(y=nv, x="pet", x_collection="UniqueTracers",
                     parcellation="Schaefer200", n_perm=1000, seed=42)
print(nsp.to_frame().head())

# %%
# ``NISPACE_NEUROVAULT_URL`` and ``NISPACE_NEUROVAULT_DIR`` set the server and the
# cache folder.
