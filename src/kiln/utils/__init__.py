"""Utilities: the progress bar (more helpers are exported here as they are added)."""

from ._progbar import Progbar as Progbar

__all__ = ["Progbar"]
