"""Warning and error classes shared by every package (a ground module: imports nothing of kiln).

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("softmax with binary cross-entropy", ConfigurationWarning)
    >>> caught[0].category.__name__
    'ConfigurationWarning'
"""

from __future__ import annotations

__all__ = ["ConfigurationWarning"]


class ConfigurationWarning(UserWarning):
    """A configuration that is legal but usually a mistake (e.g. softmax with binary
    cross-entropy). Silence one with `warnings.filterwarnings("ignore", category=...)`."""
