"""Fetch the PET reference maps parcellated with Schaefer200 + TianS1 and summarise them.

Run with the data source of your choice, e.g. the offline mirror::

    NISPACE_DATA_URL=../shared/nispace-data python examples/pet_summary.py
"""

from __future__ import annotations

import numpy as np

import nispace
from nispace.datasets import fetch_parcellation, fetch_reference, get_data_dir, get_data_url


def main() -> None:
    print(f"nispace {nispace.__version__}")
    print(f"data source: {get_data_url()}\ncache:       {get_data_dir()}\n")

    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    pet = fetch_reference("pet", parcellation=parc, collection="UniqueTracers",
                          standardize_parcellated=False, print_references=False,
                          verbose=False)
    cx, sc = parc.cortex_indices, parc.subcortex_indices
    print(f"{parc.name}: {parc.n_parcels} parcels ({len(cx)} cortical, {len(sc)} subcortical), "
          f"spaces {parc.spaces}")
    print(f"PET UniqueTracers: {pet.shape[0]} maps x {pet.shape[1]} parcels, "
          f"{pet.index.get_level_values('set').nunique()} sets\n")

    values = pet.to_numpy()
    width = max(len(s) for s in pet.index.get_level_values("set"))
    print(f"{'set':<{width}} {'map':<58} {'cortex':>8} {'subcx':>8} {'NaN':>4}")
    for (set_name, map_name), row in zip(pet.index, values):
        print(f"{set_name:<{width}} {map_name:<58} {np.nanmean(row[cx]):8.2f} "
              f"{np.nanmean(row[sc]):8.2f} {int(np.isnan(row).sum()):4d}")

    corr = np.ma.corrcoef(np.ma.masked_invalid(values))
    upper = corr[np.triu_indices_from(corr, k=1)]
    print(f"\nPairwise Pearson r between maps: median {np.ma.median(upper):.2f}, "
          f"range {upper.min():.2f} to {upper.max():.2f}")
    dist = parc.get_dist_mat()
    print(f"Distance matrix {dist.shape}: median {np.median(dist[np.triu_indices(len(dist), 1)]):.1f} mm")


if __name__ == "__main__":
    main()
