"""
neuromaps annotations as reference maps
=======================================

Besides its own reference datasets, nispace reads the catalogue of
`neuromaps <https://netneurolab.github.io/neuromaps/>`_ annotations: brain maps from
many studies (PET, MEG, gene expression, cortical expansion, ...) in their original
spaces. The catalogue is part of the data source, so browsing it works offline; the
files themselves are downloaded from OSF on first use, verified against their
checksums and cached.
"""

# %%
# Browse the catalogue
# --------------------
# Filters are those of neuromaps' ``available_annotations`` (``source``, ``desc``,
# ``space``, ``den``, ``res``, ``hemi``, ``tags``, ``format``), with the same answers.
from nispace.datasets import available_annotations, available_tags, describe_annotations

print(available_tags())
meg = available_annotations(space="fsLR", tags=["MEG"])
for annotation in meg:
    print(annotation)

# %%
# :func:`~nispace.datasets.describe_annotations` gives a table with the description,
# sample and references of each annotation:
table = describe_annotations(available_annotations(source="abagen"))
print(table[["full_desc", "n", "tags"]].to_string())
print(table["citation"].iloc[0])

# %%
# Use annotations as X
# --------------------
# An annotation key ``(source, desc, space, den|res)`` (or a list of them) can be given
# directly as ``x`` (or ``y``) of :class:`~nispace.api.NiSpace` and of the workflows;
# nispace fetches the files, reads the space from the key and brings the maps onto the
# parcellation, transforming between spaces with a WARNING where needed. This step
# downloads from OSF, so it is shown but not run here:
#
# .. code-block:: python
#
#    from nispace.datasets import fetch_annotation
#    from nispace.workflows import colocalization
#
#    gene_pc1 = fetch_annotation(source="abagen")   # [L, R] GIfTI paths, verified, cached
#    nsp = colocalization(y={"pain": "pain.nii.gz"},
#                         x=[("abagen", "genepc1", "fsaverage", "10k"),
#                            ("hcps1200", "megalpha", "fsLR", "4k")],
#                         parcellation="Schaefer200", n_perm=1000, seed=42)
#
# ``NISPACE_ANNOTATIONS_URL`` changes where the files come from and
# ``NISPACE_ANNOTATIONS_DIR`` where they are cached.
