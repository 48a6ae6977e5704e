"""The optimizer state pytree and its mapping to Keras's flat list of optimizer variables."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp


class OptState(NamedTuple):
    """Everything an optimizer carries between steps (a pytree; jit/scan friendly).

    Attributes:
        iterations: int32 scalar, the number of `apply` calls so far (Keras's `iteration`
            variable; with gradient accumulation it counts micro-steps).
        learning_rate: float32 scalar. For a float learning rate this is the value used
            (set it to change the rate without recompiling); for a schedule or callable it
            is the rate of the last update (informational).
        slots: `{slot name: pytree shaped like params}` (e.g. Adam's "momentum", "velocity").
        shared: optimizer-wide scalars (Nadam's "u_product"); usually empty.
        ema: pytree like params with the weights' moving average (`use_ema=True`), or None.
        accumulators: pytree like params with the summed gradients
            (`gradient_accumulation_steps`), or None.
    """

    iterations: Any
    learning_rate: Any
    slots: dict
    shared: dict
    ema: Any = None
    accumulators: Any = None


def build_order(params: Any) -> list[int]:
    """Leaf indices of `params` in the order Keras lists the variables.

    `jax.tree_util` flattens a dict in sorted key order; Keras keeps the order the trainable
    variables were given in, which for a flat `{path: array}` dict is its insertion order.
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    if isinstance(params, dict) and treedef.num_leaves == len(params):
        ranked = sorted(params)
        return [ranked.index(k) for k in params]
    return list(range(len(leaves)))


def leaf_names(params: Any) -> list[str]:
    """A '/'-joined path name for every leaf of `params`, in jax's flattening order."""
    names = []
    for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]:
        parts = [str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path]
        names.append("/".join(parts))
    return names


def _entries(state: OptState, order: Sequence[int], groups: Sequence[Sequence[str]],
             has_lr: bool) -> list[tuple[Any, ...]]:
    """Where each Keras optimizer variable lives in `state`, in Keras's saved order:
    iteration, learning_rate, EMA averages, accumulators, then each slot group interleaved
    per variable (Adam: m_0, v_0, m_1, v_1, ...), then the shared scalars."""
    entries: list[tuple[Any, ...]] = [("iterations",)]
    if has_lr:
        entries.append(("learning_rate",))
    if state.ema is not None:
        entries += [("ema", i) for i in order]
    if state.accumulators is not None:
        entries += [("accumulators", i) for i in order]
    for group in groups:
        entries += [("slots", name, i) for i in order for name in group]
    entries += [("shared", name) for name in state.shared]
    return entries


def _leaves(state: OptState, field: str, name: str | None = None) -> list:
    tree = getattr(state, field) if name is None else getattr(state, field)[name]
    return jax.tree_util.tree_leaves(tree)


def state_to_list(state: OptState, order: Sequence[int], groups: Sequence[Sequence[str]],
                  has_lr: bool) -> list:
    """The state as Keras's flat list of optimizer variables."""
    out = []
    for entry in _entries(state, order, groups, has_lr):
        if len(entry) == 1:
            out.append(getattr(state, entry[0]))
        elif entry[0] == "shared":
            out.append(state.shared[entry[1]])
        elif entry[0] == "slots":
            out.append(_leaves(state, "slots", entry[1])[entry[2]])
        else:
            out.append(_leaves(state, entry[0])[entry[1]])
    return out


def state_from_list(values: Sequence[Any], template: OptState, order: Sequence[int],
                    groups: Sequence[Sequence[str]], has_lr: bool) -> OptState:
    """The inverse of `state_to_list`: `template`'s structure filled with `values`.

    Raises:
        ValueError: if the count or a shape does not match.
    """
    entries = _entries(template, order, groups, has_lr)
    if len(values) != len(entries):
        raise ValueError(
            f"Expected {len(entries)} optimizer variables (iteration, learning rate and slots, "
            f"in Keras's order); received {len(values)}."
        )
    new = {"slots": {k: _leaves(template, "slots", k) for k in template.slots},
           "ema": _leaves(template, "ema"), "accumulators": _leaves(template, "accumulators"),
           "shared": dict(template.shared), "top": {}}
    reference = state_to_list(template, order, groups, has_lr)
    for k, (entry, value, ref) in enumerate(zip(entries, values, reference)):
        value = jnp.asarray(getattr(value, "value", value)).astype(jnp.asarray(ref).dtype)
        if value.shape != jnp.shape(ref):
            raise ValueError(f"Optimizer variable {k} ({'/'.join(map(str, entry))}) has shape "
                             f"{jnp.shape(ref)}; received a value of shape {value.shape}.")
        if len(entry) == 1:
            new["top"][entry[0]] = value
        elif entry[0] == "shared":
            new["shared"][entry[1]] = value
        elif entry[0] == "slots":
            new["slots"][entry[1]][entry[2]] = value
        else:
            new[entry[0]][entry[1]] = value
    return _rebuild(template, new)


def _rebuild(template: OptState, new: dict) -> OptState:
    def unflatten(tree: Any, leaves: list) -> Any:
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(tree), leaves)

    return OptState(
        iterations=new["top"].get("iterations", template.iterations),
        learning_rate=new["top"].get("learning_rate", template.learning_rate),
        slots={k: unflatten(template.slots[k], v) for k, v in new["slots"].items()},
        shared=new["shared"],
        ema=None if template.ema is None else unflatten(template.ema, new["ema"]),
        accumulators=(None if template.accumulators is None
                      else unflatten(template.accumulators, new["accumulators"])),
    )


def tree_from_list(treedef: Any, order: Sequence[int], values: Sequence[Any]) -> Any:
    """A pytree from values listed in Keras's variable order."""
    leaves = [None] * len(order)
    for pos, idx in enumerate(order):
        leaves[idx] = values[pos]
    return treedef.unflatten(leaves)


def list_from_tree(treedef: Any, order: Sequence[int], tree: Any) -> list:
    """The leaves of `tree` in Keras's variable order."""
    leaves = treedef.flatten_up_to(tree)
    return [leaves[i] for i in order]
