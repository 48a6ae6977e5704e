"""Masks beside the values inside one call, so subclassed models pass them as Keras does.

Keras attaches a mask to the tensor a layer returns (`_keras_mask`) and hands it to the next
layer whose `call` takes `mask`. JAX arrays and tracers take no attributes, so kiln keeps the
table in the call's scope instead: `{id(output): (output, mask)}`, shared by the nested
scopes of one outer call and gone with it (the output is held so its id cannot be reused).
Functional and Sequential models pass masks explicitly; the table serves the rest.

Example:
    >>> import jax.numpy as jnp
    >>> from kiln import _scope
    >>> x, m = jnp.ones((1, 2)), jnp.array([[True, False]])
    >>> with _scope.bind({}) as scope:
    ...     record(scope, x, m)
    ...     lookup(scope, x).tolist(), lookup(scope, jnp.ones(1))
    ([[True, False]], None)
"""

from __future__ import annotations

from typing import Any


def _table(scope: Any) -> dict:
    return scope.masks if scope is not None else {}


def lookup(scope: Any, inputs: Any) -> Any:
    """The mask recorded for `inputs` (a list of masks for a list input), or None."""
    table = _table(scope)
    if not table:
        return None
    if isinstance(inputs, (list, tuple)):
        found = [table.get(id(t), (None, None))[1] for t in inputs]
        return found if any(m is not None for m in found) else None
    return table.get(id(inputs), (None, None))[1]


def record(scope: Any, outputs: Any, mask: Any) -> None:
    """Remembers `mask` as the mask of `outputs` (one array, or a list with a mask list)."""
    if scope is None or mask is None:
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for out, m in zip(outputs, masks):
            record(scope, out, m)
        return
    if not isinstance(mask, (list, tuple)):
        scope.masks[id(outputs)] = (outputs, mask)
