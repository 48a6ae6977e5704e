"""Keras-named array operations (`keras.ops`) for user code: custom layers, losses, metrics.

The flat namespace holds every op; the sub-namespaces group them as Keras does
(`kiln.ops.numpy`, `kiln.ops.nn`, `kiln.ops.image`, `kiln.ops.linalg`), plus `kiln.ops.math`
and `kiln.ops.core` for Keras's math and core ops. Every function accepts kiln `Variable`s
anywhere an array goes (`ops.matmul(x, self.kernel)`): recent JAX releases no longer convert
foreign objects through `__jax_array__`, so each op unwraps Variables first. kiln itself calls
JAX directly; this package exists for code written against Keras.

Example:
    >>> from kiln import ops
    >>> ops.shape(ops.matmul(ops.ones((2, 3)), ops.ones((3, 4))))
    (2, 4)
"""

from __future__ import annotations

from . import core, image, linalg, math, nn, numpy
from .core import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .numpy import *  # noqa: F401,F403

# The flat surface, Keras's names only: `core` and `math` stay reachable as attributes but
# are kiln's own groupings (Keras has no `keras.ops.core` / `keras.ops.math`).
__all__ = sorted({*numpy.__all__, *nn.__all__, *linalg.__all__, *math.__all__,
                  *core.__all__, "image", "linalg", "nn", "numpy"})
