"""Loading images and turning them into parcellated data.

:func:`load_img` reads NIfTI volumes and (L, R) GIfTI pairs;
:func:`parcellate_array` is the pure array core (maps x points -> maps x parcels);
:func:`parcellate_images` parcellates volumes and surface maps with a
:class:`~nispace.parcellation.Parcellation`; :func:`read_input` turns any supported
input (images, tables, arrays, dicts) into a maps x parcels DataFrame;
:func:`parcellate` (also ``nispace.parcellate``) is region extraction in one call;
:func:`parcellate_reference` gives a reference dataset on any parcellation.
"""

from .extract import parcellate
from .images import load_img
from .inputs import read_input
from .parcellate import parcellate_array, parcellate_images
from .references import parcellate_reference

__all__ = ["load_img", "parcellate", "parcellate_array", "parcellate_images",
           "parcellate_reference", "read_input"]
