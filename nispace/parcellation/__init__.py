"""The multi-space Parcellation: labels, spaces, centroids and distance matrices."""

from .parcellation import SPACES, Parcellation

__all__ = ["SPACES", "Parcellation"]
