"""Keras's `keras.ops.linalg`: matrix decompositions, solves and norms on `jax.numpy.linalg`.

>>> import jax.numpy as jnp
>>> from kiln.ops import linalg
>>> linalg.det(linalg.inv(jnp.eye(2) * 2)).item()
0.25
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from ._numpy_custom import norm
from ._wrap import as_float, export

_SAME_SIGNATURE: dict[str, Callable] = {
    "det": jnp.linalg.det, "eig": jnp.linalg.eig, "eigh": jnp.linalg.eigh,
    "inv": jnp.linalg.inv, "solve": jnp.linalg.solve, "slogdet": jnp.linalg.slogdet,
    "jvp": jax.jvp,
}


def cholesky(x: Any, upper: bool = False) -> jax.Array:
    """The Cholesky factor of positive-definite `x` (lower unless `upper`).

    >>> cholesky([[4.0, 0.0], [0.0, 9.0]]).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
    """
    return jnp.linalg.cholesky(as_float(x), upper=upper)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> jax.Array:
    """Solve `a @ x = b` for triangular `a` (upper unless `lower`).

    >>> solve_triangular([[2.0, 0.0], [0.0, 4.0]], [2.0, 4.0]).tolist()
    [1.0, 1.0]
    """
    a, b = as_float(a), as_float(b)
    vector = b.ndim == a.ndim - 1
    x = jax.scipy.linalg.solve_triangular(a, b[..., None] if vector else b, lower=lower)
    return x[..., 0] if vector else x


def cholesky_inverse(x: Any, upper: bool = False) -> jax.Array:
    """The inverse of `A` from its Cholesky factor `x` (`A = x @ x.T`, or `x.T @ x` if upper).

    >>> cholesky_inverse([[2.0, 0.0], [0.0, 1.0]]).tolist()
    [[0.25, 0.0], [0.0, 1.0]]
    """
    x = as_float(x)
    inv_factor = solve_triangular(x, jnp.eye(x.shape[-1], dtype=x.dtype), lower=not upper)
    if upper:
        return inv_factor @ jnp.swapaxes(inv_factor, -1, -2)
    return jnp.swapaxes(inv_factor, -1, -2) @ inv_factor


def lu_factor(x: Any) -> tuple[jax.Array, jax.Array]:
    """`(lu, pivots)` of `x` (batched over leading axes).

    >>> lu_factor([[1.0, 0.0], [0.0, 1.0]])[1].tolist()
    [0, 1]
    """
    x = as_float(x)
    fn = jax.scipy.linalg.lu_factor
    for _ in range(x.ndim - 2):
        fn = jax.vmap(fn)
    return fn(x)


def _matrix(x: Any, name: str) -> jax.Array:
    x = as_float(x)
    if x.ndim < 2:
        raise ValueError(f"{name}: expected an input of rank >= 2; received shape {x.shape}. "
                         f"Reshape it to a matrix.")
    return x


def matrix_rank(x: Any, tol: float | None = None) -> jax.Array:
    """The rank of matrix `x` (int32).

    >>> matrix_rank([[1.0, 2.0], [2.0, 4.0]]).item()
    1
    """
    return jnp.linalg.matrix_rank(_matrix(x, "matrix_rank"), tol).astype("int32")


def pinv(x: Any, rcond: float | None = None) -> jax.Array:
    """The Moore-Penrose pseudo-inverse of `x`.

    >>> pinv([[2.0, 0.0], [0.0, 4.0]]).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return jnp.linalg.pinv(_matrix(x, "pinv"), rtol=rcond)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> jax.Array:
    """The least-squares solution of `a @ x = b`.

    >>> round(lstsq([[1.0], [1.0]], [1.0, 3.0]).item(), 4)
    2.0
    """
    return jnp.linalg.lstsq(as_float(a), as_float(b), rcond=rcond)[0]


def qr(x: Any, mode: str = "reduced") -> tuple[jax.Array, jax.Array]:
    """`(q, r)` of `x`; `mode` "reduced" or "complete".

    >>> [m.shape for m in qr(jnp.ones((3, 2)))]
    [(3, 2), (2, 2)]
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: expected mode 'reduced' or 'complete'; received mode={mode!r}.")
    return jnp.linalg.qr(as_float(x), mode=mode)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """`(u, s, vh)` of `x`, or only `s` when `compute_uv=False`.

    >>> svd([[3.0, 0.0], [0.0, 1.0]], compute_uv=False).tolist()
    [3.0, 1.0]
    """
    return jnp.linalg.svd(as_float(x), full_matrices=full_matrices, compute_uv=compute_uv)


_CUSTOM = (cholesky, solve_triangular, cholesky_inverse, lu_factor, matrix_rank, pinv, lstsq,
           qr, svd, norm)

__all__ = [*export(globals(), _SAME_SIGNATURE, _CUSTOM, "kiln.ops.linalg")]
