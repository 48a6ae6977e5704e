"""`keras.tree`: nested structures (lists, tuples, dicts, namedtuples) as Keras walks them.

Built on `jax.tree_util`, with Keras's conventions: None is a leaf (JAX treats it as an empty
subtree), dicts are walked in sorted key order, OrderedDicts and namedtuples in their own.

Example:
    >>> flatten({"b": [1, None, (2, 3)], "a": 4})
    [4, 1, None, 2, 3]
    >>> map_structure(lambda x: x * 10, {"a": 1, "b": (2, 3)})
    {'a': 10, 'b': (20, 30)}
    >>> pack_sequence_as({"b": [0, 0], "a": 0}, [1, 2, 3])
    {'a': 1, 'b': [2, 3]}
"""

from __future__ import annotations

from typing import Any, Callable

import jax

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
           "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
           "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse"]


class _MapToNone:
    """The value a `traverse` function returns to put None in place of a subtree."""

    def __repr__(self) -> str:
        return "MAP_TO_NONE"


MAP_TO_NONE = _MapToNone()


def _none_leaf(x: Any) -> bool:
    return x is None


def _structure(x: Any) -> Any:
    return jax.tree_util.tree_structure(x, is_leaf=_none_leaf)


_LEAF = _structure(0)


def is_nested(structure: Any) -> bool:
    """Whether `structure` is a list, tuple, dict or other registered container."""
    return structure is not None and _structure(structure) != _LEAF


def flatten(structure: Any) -> list[Any]:
    """The leaves, in Keras's order (None counts as a leaf)."""
    return jax.tree_util.tree_leaves(structure, is_leaf=_none_leaf)


def _children(node: Any) -> list[tuple[Any, Any]]:
    """`(key, child)` for one level of `node`: dict keys, else positions (namedtuples too)."""
    pairs, _ = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)
    return [(path[0].key if isinstance(path[0], jax.tree_util.DictKey) else i, child)
            for i, (path, child) in enumerate(pairs)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """`(path, leaf)` pairs; a path is the tuple of keys and indices leading to the leaf.

    Example:
        >>> flatten_with_path({"a": [5, 6]})
        [(('a', 0), 5), (('a', 1), 6)]
    """
    if not is_nested(structure):
        return [((), structure)]
    return [((key,) + path, leaf) for key, child in _children(structure)
            for path, leaf in flatten_with_path(child)]


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """`flat_sequence` poured into the shape of `structure`."""
    treedef = _structure(structure)
    flat = list(flat_sequence)
    if len(flat) != treedef.num_leaves:
        raise ValueError(f"The structure has {treedef.num_leaves} leaves but flat_sequence has "
                         f"{len(flat)} items. Received structure={structure!r}.")
    return jax.tree_util.tree_unflatten(treedef, flat)


def assert_same_structure(a: Any, b: Any, check_types: Any = None) -> None:
    """Raises ValueError unless `a` and `b` nest the same containers the same way."""
    if _structure(a) != _structure(b):
        raise ValueError("The two structures don't have the same nested structure.\n"
                         f"First structure: {a!r}\nSecond structure: {b!r}")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raises ValueError unless `a` and `b` have the same leaf paths (container types may
    differ: a list and a tuple of two leaves share their paths)."""
    paths_a = {p for p, _ in flatten_with_path(a)}
    paths_b = {p for p, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError("The two structures don't have the same paths. Only in the first: "
                         f"{sorted(map(str, paths_a - paths_b))}; only in the second: "
                         f"{sorted(map(str, paths_b - paths_a))}.")


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """`func` applied leaf by leaf across `structures` (which must share one structure)."""
    if not structures:
        raise ValueError("map_structure needs at least one structure.")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    is_leaf = _none_leaf if none_is_leaf else None
    return jax.tree_util.tree_map(func, *structures, is_leaf=is_leaf)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """`func` applied to the subtrees of `structures` found at `shallow_structure`'s leaves.

    Example:
        >>> map_structure_up_to([0, 0], len, [[1, 2], (3,)])
        [2, 1]
    """
    treedef = _structure(shallow_structure)
    columns = [treedef.flatten_up_to(s) for s in structures]
    return jax.tree_util.tree_unflatten(treedef, [func(*xs) for xs in zip(*columns)])


def _is_shape(x: Any) -> bool:
    return x is None or (isinstance(x, (tuple, list))
                         and all(d is None or isinstance(d, int) for d in x))


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """Like `map_structure`, but a tuple or list of ints (a shape) is one leaf."""
    return jax.tree_util.tree_map(func, structure, is_leaf=_is_shape)


def lists_to_tuples(structure: Any) -> Any:
    """`structure` with every list turned into a tuple."""
    def convert(x: Any) -> Any:
        if isinstance(x, list):
            return tuple(convert(v) for v in x)
        if isinstance(x, tuple):
            items = [convert(v) for v in x]
            return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
        if isinstance(x, dict):
            return type(x)((k, convert(v)) for k, v in x.items())
        return x
    return convert(structure)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Walks every node (containers too). Top-down: where `func` returns something other than
    None that replaces the node and its children are not visited (`MAP_TO_NONE` gives None);
    bottom-up: `func` sees each node after its children were rebuilt.

    Example:
        >>> traverse(lambda x: 0 if isinstance(x, tuple) else None, [1, (2, 3)])
        [1, 0]
    """
    def visit(node: Any) -> Any:
        if top_down:
            out = func(node)
            if out is not None:
                return None if out is MAP_TO_NONE else out
        if is_nested(node):
            children, treedef = jax.tree_util.tree_flatten(
                node, is_leaf=lambda x: x is not node)
            node = jax.tree_util.tree_unflatten(treedef, [visit(c) for c in children])
        if top_down:
            return node
        out = func(node)
        return node if out is None else (None if out is MAP_TO_NONE else out)
    return visit(structure)
