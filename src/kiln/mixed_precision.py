"""Keras's `keras.mixed_precision`: the global dtype policy and loss scaling.

Under "mixed_float16" or "mixed_bfloat16", new layers compute in float16 / bfloat16 and keep
their weights in float32; `compile()` under "mixed_float16" wraps the optimizer in a
`LossScaleOptimizer` (Keras's `auto_scale_loss`).

Example:
    >>> set_global_policy("mixed_float16")
    >>> global_policy().compute_dtype
    'float16'
    >>> set_global_policy("float32")
"""

from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from .optimizers import LossScaleOptimizer

Policy = DTypePolicy  # Keras's legacy name
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
