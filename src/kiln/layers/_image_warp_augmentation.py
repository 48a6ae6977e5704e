"""Keras 3's blur and warp augmentation layers: `RandomGaussianBlur`, `RandomShear`,
`RandomPerspective`, `RandomElasticTransform`.

As with the other image layers, a call with `training=False` returns the inputs cast to the
compute dtype, and a training call (or one with no flag, as in Keras) applies the layer. The
draws come from `next_rng_key`, so they advance inside a compiled step. Each layer splits
its work into `draw(key, x)` (the random parameters, a dict) and `apply(x, params)`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..ops._image_warp import _FILL_MODES, elastic_warp, perspective_transform
from ..ops.image import affine_transform, gaussian_blur
from ._color_augmentation import _bounded_factor, _value_range
from ._image_affine import _AffineLayer
from ._image_preprocessing import _hw_axes, _RandomImageLayer

_INTERPOLATIONS = ("nearest", "bilinear")


def _check_interpolation(name: str, interpolation: str) -> str:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}(interpolation=...) must be one of {_INTERPOLATIONS}; "
                         f"received {interpolation!r}.")
    return interpolation


def _batch_of(x: jax.Array) -> int:
    return x.shape[0] if x.ndim == 4 else 1


def _chosen(key: jax.Array, x: jax.Array, factor: tuple) -> jax.Array:
    """Keras's per-image coin: `uniform(0, 1) < p`, `p ~ uniform(*factor)` (shape (batch,))."""
    k_p, k_draw = jax.random.split(key)
    batch = _batch_of(x)
    probability = jax.random.uniform(k_p, (batch,), minval=factor[0], maxval=factor[1])
    return jax.random.uniform(k_draw, (batch,)) < probability


def _select(apply: jax.Array, new: jax.Array, old: jax.Array) -> jax.Array:
    mask = apply.reshape((-1, 1, 1, 1)) if old.ndim == 4 else apply.reshape((1, 1, 1))
    return jnp.where(mask, new, old)


def _odd_sizes(size: Any) -> tuple[int, int]:
    pair = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    if len(pair) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, float))
                             or s != int(s) or int(s) % 2 == 0 for s in pair):
        raise ValueError(f"RandomGaussianBlur(kernel_size=...) must be an odd int or a "
                         f"pair of odd ints; received {size!r}. Pass e.g. kernel_size=3.")
    return int(pair[0]), int(pair[1])


class RandomGaussianBlur(_RandomImageLayer):
    """Blurs each image with probability `p ~ uniform(*factor)` by a Gaussian whose two
    sigmas are drawn once per call from `uniform(*sigma)` (+1e-6), then clips to
    `value_range` (training only). As in Keras, `kernel_size[0]` and the first sigma act
    along the width, the second along the height.

    Args:
        factor: the blur probability: a number f in [0, 1] (range [0, f]) or a pair.
        kernel_size: an odd int (default 3) or a pair of odd ints.
        sigma: a number s in [0, 1] (range [0, s]) or a pair (lower, upper), default 1.0.
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default) or "channels_first". seed: an int seed.

    Example:
        >>> x = jnp.full((2, 5, 5, 1), 9.0)
        >>> RandomGaussianBlur(factor=(0, 0))(x, training=True).tolist() == x.tolist()
        True
    """

    def __init__(self, factor: Any = 1.0, kernel_size: Any = 3, sigma: Any = 1.0,
                 value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomGaussianBlur", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomGaussianBlur", factor, (0, 1))
        self.kernel_size = _odd_sizes(kernel_size)
        self.sigma = _bounded_factor("RandomGaussianBlur(sigma)", sigma, (0, 1))

    def draw(self, key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
        k_apply, k_sigma = jax.random.split(key)
        sigma = jax.random.uniform(k_sigma, (2,), x.dtype, *self.sigma) + 1e-6
        return {"apply": _chosen(k_apply, x, self.factor), "sigma": sigma}

    def apply(self, x: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
        width_taps, height_taps = self.kernel_size
        sigma = params["sigma"]
        blurred = gaussian_blur(x, kernel_size=(height_taps, width_taps),
                                sigma=(sigma[1], sigma[0]), data_format=self.data_format)
        y = _select(params["apply"], blurred, x)
        return jnp.clip(y, *self.value_range).astype(x.dtype)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        return self.apply(x, self.draw(key, x))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "kernel_size": list(self.kernel_size),
                "sigma": list(self.sigma), "value_range": list(self.value_range),
                "seed": self.seed}


def _shear_factor(name: str, factor: Any) -> tuple[float, float]:
    """Keras's RandomShear factor: a number f in [0, 1] -> (-f, f), or a pair. Keras 3.15
    takes pairs within [0, 1] only, so it cannot rebuild its own config of a number factor;
    kiln takes pairs within [-1, 1]."""
    message = (f"RandomShear({name}=...) must be a number in [0, 1] or a pair of numbers "
               f"in [-1, 1]; received {factor!r}.")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(-1.0 <= f <= 1.0 for f in factor):
            raise ValueError(message)
        low, high = sorted(float(f) for f in factor)
        return low, high
    if isinstance(factor, (int, float)) and not isinstance(factor, bool) and 0 <= factor <= 1:
        return -abs(float(factor)), abs(float(factor))
    raise ValueError(message)


class RandomShear(_AffineLayer):
    """Shears each image about its top-left corner (training only): the output pixel
    `(x, y)` reads the input at `(x + s_x y, s_y x + y)`, with `s_x ~ uniform(*x_factor)`,
    `s_y ~ uniform(*y_factor)`, both negated together with probability 1/2.

    Args:
        x_factor / y_factor: a number f in [0, 1] (range [-f, f]) or a pair (lower,
            upper) within [-1, 1] (Keras: [0, 1], which its own configs break).
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "reflect" (default), "wrap", "constant", "nearest". fill_value: for
            "constant". data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> RandomShear(0.2, 0.2, seed=0)(jnp.ones((2, 6, 6, 3)), training=True).shape
        (2, 6, 6, 3)
    """

    def __init__(self, x_factor: Any = 0.0, y_factor: Any = 0.0,
                 interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = _shear_factor("x_factor", x_factor)
        self.y_factor = _shear_factor("y_factor", y_factor)

    def draw(self, key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
        k_sign, k_y, k_x = jax.random.split(key, 3)
        batch = _batch_of(x)
        sign = jnp.where(jax.random.uniform(k_sign, (batch, 1)) > 0.5, -1.0, 1.0)
        shear_y = jax.random.uniform(k_y, (batch, 1), minval=self.y_factor[0],
                                     maxval=self.y_factor[1])
        shear_x = jax.random.uniform(k_x, (batch, 1), minval=self.x_factor[0],
                                     maxval=self.x_factor[1])
        return {"shear_factor": jnp.concatenate([shear_x, shear_y], axis=1) * sign}

    def apply(self, x: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
        # ops.image's projective warp: the layers' compiled affine_transform samples wrongly
        # outside the image under the XLA flags of tests/conftest.py (opt level 0 with the
        # classic emitters); this one is right under both.
        matrix = self.shear_matrix(params["shear_factor"])
        y = affine_transform(x.astype(jnp.float32), matrix if x.ndim == 4 else matrix[0],
                             self.interpolation, self.fill_mode, self.fill_value,
                             self.data_format)
        return y.astype(x.dtype)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        return self.apply(x, self.draw(key, x))

    @staticmethod
    def shear_matrix(shear_factor: jax.Array) -> jax.Array:
        """The 8-vector transforms `[1, s_x, 0, s_y, 1, 0, 0, 0]` for `(batch, 2)` factors."""
        ones, zeros = jnp.ones_like(shear_factor[:, 0]), jnp.zeros_like(shear_factor[:, 0])
        return jnp.stack([ones, shear_factor[:, 0], zeros, shear_factor[:, 1], ones, zeros,
                          zeros, zeros], axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "x_factor": list(self.x_factor),
                "y_factor": list(self.y_factor)}


def _unit_scale(name: str, scale: Any) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
        raise ValueError(f"{name}(scale=...) must be a number in [0, 1]; received "
                         f"{scale!r}. Pass e.g. scale=0.5.")
    return scale


class RandomPerspective(_RandomImageLayer):
    """Warps each image, with probability `p ~ uniform(*factor)`, by the perspective
    transform that moves its corners `(x, y)` to `(x, y) * (1 + d)`, each `d` drawn from
    `uniform(-scale / 2, scale / 2)` (so, as in Keras, the top-left corner stays put).
    Pixels from outside the image get `fill_value` (training only).

    Args:
        factor: the probability: a number f in [0, 1] (range [0, f]) or a pair.
        scale: in [0, 1], the corners' largest relative shift (times 2), default 1.0.
        interpolation: "bilinear" (default) or "nearest". fill_value: default 0.0.
        seed: an int seed. data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> RandomPerspective(scale=0.3, seed=0)(jnp.ones((2, 6, 6, 3)), training=True).shape
        (2, 6, 6, 3)
    """

    def __init__(self, factor: Any = 1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomPerspective", factor, (0, 1))
        self.scale = _unit_scale("RandomPerspective", scale)
        self.interpolation = _check_interpolation("RandomPerspective", interpolation)
        self.fill_value = fill_value

    def draw(self, key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
        k_apply, k_shift = jax.random.split(key)
        batch = _batch_of(x)
        h_axis, w_axis = _hw_axes(x, self.data_format)
        h, w = x.shape[h_axis] - 1.0, x.shape[w_axis] - 1.0
        start = jnp.array([[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]], jnp.float32)
        start = jnp.broadcast_to(start, (batch, 4, 2))
        shift = jax.random.uniform(k_shift, (batch, 4, 2), minval=-0.5 * self.scale,
                                   maxval=0.5 * self.scale)
        return {"apply": _chosen(k_apply, x, self.factor), "start_points": start,
                "end_points": start + start * shift}

    def apply(self, x: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
        batched = x if x.ndim == 4 else x[None]
        warped = perspective_transform(batched, params["start_points"], params["end_points"],
                                       self.interpolation, self.fill_value, self.data_format)
        warped = warped if x.ndim == 4 else warped[0]
        return _select(params["apply"], warped, x).astype(x.dtype)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        return self.apply(x, self.draw(key, x))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value,
                "seed": self.seed}


class RandomElasticTransform(_RandomImageLayer):
    """Elastically deforms each image with probability `p ~ uniform(*factor)` (training
    only), then clips to `value_range`. One strength `s ~ uniform(*scale)` per call gives
    `alpha = 0.1 s max(height, width)` and `sigma = 0.05 s min(height, width)` for
    `ops.image.elastic_transform` (a fresh random field per image). A zero upper `factor`
    or `scale` leaves the images untouched, as in Keras.

    Args:
        factor: the probability: a number f in [0, 1] (range [0, f]) or a pair.
        scale: a number s in [0, 1] (range [0, s]) or a pair, default 1.0.
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "reflect" (default), "constant", "nearest", "wrap", "mirror".
        fill_value: for "constant". value_range: the images' (min, max), default (0, 255).
        seed: an int seed. data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> RandomElasticTransform(seed=0)(jnp.ones((2, 8, 8, 1)), training=True).shape
        (2, 8, 8, 1)
    """

    def __init__(self, factor: Any = 1.0, scale: Any = 1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0,
                 value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        value_range = _value_range("RandomElasticTransform", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomElasticTransform", factor, (0, 1))
        self.scale = _bounded_factor("RandomElasticTransform(scale)", scale, (0, 1))
        self.interpolation = _check_interpolation("RandomElasticTransform", interpolation)
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"RandomElasticTransform(fill_mode=...) must be one of "
                             f"{_FILL_MODES}; received {fill_mode!r}.")
        self.fill_mode, self.fill_value = fill_mode, fill_value

    def _sizes(self, x: jax.Array) -> tuple[int, int]:
        h_axis, w_axis = _hw_axes(x, self.data_format)
        return x.shape[h_axis], x.shape[w_axis]

    def draw(self, key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
        k_apply, k_scale, k_noise = jax.random.split(key, 3)
        height, width = self._sizes(x)
        strength = jax.random.uniform(k_scale, (), minval=self.scale[0], maxval=self.scale[1])
        noise = jax.random.normal(k_noise, (2, _batch_of(x), height, width), x.dtype)
        return {"apply": _chosen(k_apply, x, self.factor), "strength": strength,
                "noise": noise}

    def apply(self, x: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
        height, width = self._sizes(x)
        strength = params["strength"]
        alpha = max(height, width) * (0.1 * strength)
        sigma = min(height, width) * (0.05 * strength)
        max_sigma = min(height, width) * 0.05 * self.scale[1]
        batched = x if x.ndim == 4 else x[None]
        warped = elastic_warp(batched, params["noise"], alpha, sigma, max_sigma,
                              self.interpolation, self.fill_mode, self.fill_value,
                              self.data_format)
        warped = warped if x.ndim == 4 else warped[0]
        y = _select(params["apply"], warped, x)
        return jnp.clip(y, *self.value_range).astype(x.dtype)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        if self.scale[1] == 0 or self.factor[1] == 0:
            return x
        return self.apply(x, self.draw(key, x))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "scale": list(self.scale),
                "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "value_range": list(self.value_range),
                "seed": self.seed}
