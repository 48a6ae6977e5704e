"""Keras's automatic names (`dense`, `dense_1`, ...) and `clear_session` (a ground module).

Example:
    >>> clear_session()
    >>> unique_name("Dense"), unique_name("Dense"), unique_name("input_layer")
    ('dense', 'dense_1', 'input_layer')
    >>> clear_session()
    >>> unique_name("Dense")
    'dense'
"""

from __future__ import annotations

from ._utils import to_snake_case

__all__ = ["clear_session", "get_uid", "unique_name"]

_uids: dict[str, int] = {}


def unique_name(base: str) -> str:
    """`base` in snake case, numbered from the second use on, per session (as Keras names)."""
    base = to_snake_case(base)
    n = _uids.get(base, 0)
    _uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Resets automatic layer names (the next Dense is `dense` again), as Keras's does."""
    _uids.clear()


def get_uid(prefix: str = "") -> int:
    """Counts the uses of `prefix` (1 the first time), sharing the counters of `unique_name`,
    as Keras's `keras.backend.get_uid` does.

    Example:
        >>> clear_session()
        >>> get_uid("dense"), get_uid("dense"), unique_name("Dense")
        (1, 2, 'dense_2')
    """
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]
