"""Keras's stateful optimizer calls over the pure core (mixed into `Optimizer`):
`apply_gradients` on Variables, the JAX-style `stateless_apply` on lists, and
`finalize_variable_values` for the EMA.

Example:
    >>> import numpy as np, kiln
    >>> w = kiln.Variable(np.ones(2), name="w")
    >>> opt = kiln.optimizers.SGD(learning_rate=0.5)
    >>> int(opt.apply_gradients([(np.ones(2), w)])), w.numpy().tolist()
    (1, [0.5, 0.5])
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import jax

from ._binding import VariableBinding
from ._state import list_from_tree, state_from_list, state_to_list, tree_from_list


class StatefulSurface:
    """`apply_gradients`, `stateless_apply`, `finalize_variable_values`."""

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> jax.Array:
        """Keras-style eager update: applies `(gradient, Variable)` pairs in place (builds the
        optimizer on first use). Returns `iterations`."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self._apply_to_variables(list(grads), list(variables))
        return self.iterations

    def _apply_to_variables(self, grads: list, variables: list | None) -> None:
        if not grads:
            return
        if not self.built:
            if variables is None:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built. Call `optimizer.build(variables)` first.")
            self.build(list(variables))
        if self._binding is None:  # built from a {path: array} dict: adopt Variables by path
            self._binding = VariableBinding.adopt(self._keys, variables or [])
        binding = self._binding
        grad_tree = dict.fromkeys(binding.keys)
        grad_tree.update(zip(binding.keys_of(variables or binding.variables), grads))
        if self._jit_apply is None:
            self._jit_apply = jax.jit(self.apply)
        new, self.state = self._jit_apply(grad_tree, binding.params(), self.state)
        binding.write(new)

    def stateless_apply(self, optimizer_variables: Sequence[Any], grads: Sequence[Any],
                        trainable_variables: Sequence[Any]) -> tuple[list, list]:
        """Keras's JAX-style pure step on lists: returns `(new trainable values, new optimizer
        variables)`, both in Keras's order. The optimizer must be built."""
        if not self.built:
            raise ValueError(f"To call `stateless_apply`, {type(self).__name__} must be built. "
                             "Call `optimizer.build(trainable_variables)` first.")
        state = state_from_list(list(optimizer_variables), self.state, *self._layout())
        layout = self._treedef, self._order
        values = [getattr(v, "value", v) for v in trainable_variables]
        new, state = self.apply(tree_from_list(*layout, grads), tree_from_list(*layout, values),
                                state)
        return list_from_tree(*layout, new), state_to_list(state, *self._layout())

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        """With `use_ema`, overwrites `var_list` (the built-on variables, same order) with
        their moving averages, as Keras's `fit()` does at the end of training."""
        if not self.use_ema or self._treedef is None:
            return
        averages = list_from_tree(self._treedef, self._order, self.state.ema)
        if len(var_list) != len(averages):
            raise ValueError(f"The length of model variables ({len(var_list)}) to override does "
                             f"not match the {len(averages)} variables the optimizer tracks.")
        for var, avg in zip(var_list, averages):
            var.assign(avg)

