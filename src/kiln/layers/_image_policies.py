"""Keras 3's augmentation policies and plumbing: `RandAugment`, `AugMix`, `Pipeline`,
`MaxNumBoundingBoxes`.

`RandAugment` and `AugMix` apply kiln's own augmentation layers, built with Keras's
arguments, and pick among them inside the graph (`jax.lax.switch`), so the choice is drawn
afresh on every call, also inside a compiled step. Like the other random image layers they
act in training calls (or calls with no flag, as in Keras) and return the inputs cast to the
compute dtype when `training=False`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from ._color_augmentation import (
    AutoContrast,
    RandomColorDegeneration,
    RandomPosterization,
    Solarization,
    _bounded_factor,
    _value_range,
)
from ._core import _deserialize_layer, _serialize
from ._image_affine import RandomRotation, RandomTranslation
from ._image_filters import Equalization, RandomSharpness
from ._image_preprocessing import (
    RandomBrightness,
    RandomContrast,
    _data_format,
    _hw_axes,
    _RandomImageLayer,
)
from ._image_warp_augmentation import RandomShear
from ._layer import Layer

# Keras's orders (an index drawn in the graph picks a layer by its position).
RAND_AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation",
                       "random_brightness", "random_color_degeneration", "random_contrast",
                       "random_sharpness", "random_posterization", "solarization",
                       "auto_contrast", "equalization")
AUG_MIX_LAYERS = ("random_shear", "random_translation", "random_rotation",
                  "random_posterization", "solarization", "auto_contrast", "equalization")
AUG_MIX_EXTRA = ("random_brightness", "random_color_degeneration", "random_contrast",
                 "random_sharpness")


def _augmenters(names: tuple[str, ...], factor: tuple, value_range: Any, interpolation: str,
                seed: int | None, data_format: str) -> dict[str, Layer]:
    """kiln's layers for `names`, built as Keras's RandAugment and AugMix build theirs."""
    shared = {"seed": seed, "data_format": data_format}
    colour = {"value_range": value_range, **shared}
    makers: dict[str, Callable[[], Layer]] = {
        "random_shear": lambda: RandomShear(factor, factor, interpolation, **shared),
        "random_translation": lambda: RandomTranslation(factor, factor,
                                                        interpolation=interpolation, **shared),
        "random_rotation": lambda: RandomRotation(factor, interpolation=interpolation,
                                                  **shared),
        "random_brightness": lambda: RandomBrightness(factor, **colour),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor, **colour),
        "random_contrast": lambda: RandomContrast(factor, **colour),
        "random_sharpness": lambda: RandomSharpness(factor, **colour),
        "random_posterization": lambda: RandomPosterization(max(1, int(8 * factor[1])),
                                                            **colour),
        "solarization": lambda: Solarization(factor, factor, **colour),
        "auto_contrast": lambda: AutoContrast(value_range, data_format=data_format),
        "equalization": lambda: Equalization(value_range, data_format=data_format),
    }
    return {name: makers[name]() for name in names}


def _run(layer: Layer, key: jax.Array, x: jax.Array) -> jax.Array:
    """One training application of an augmentation layer (deterministic ones ignore key)."""
    transform = getattr(layer, "transform", None)
    y = transform(x, key) if transform is not None else layer.call(x, training=True)
    return y.astype(x.dtype)


def _check_interpolation(name: str, interpolation: str) -> str:
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"{name}(interpolation=...) must be 'nearest' or 'bilinear'; "
                         f"received {interpolation!r}.")
    return interpolation


def _count(name: str, arg: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}({arg}=...) must be an int >= 0; received {value!r}.")
    return value


@partial(jax.jit, static_argnums=0)
def _augment_compiled(layer: Any, x: jax.Array, key: jax.Array) -> jax.Array:
    """A policy's `_augment`, compiled once per layer and input shape (eager calls too)."""
    return layer._augment(x, key)


class _PolicyLayer(_RandomImageLayer):
    """Shared: the sub-layers (attributes under Keras's names) and a compiled transform."""

    def _set_layers(self, names: tuple[str, ...], interpolation: str) -> None:
        self._augment_layers = names
        layers = _augmenters(names, self.factor, self.value_range, interpolation, self.seed,
                             self.data_format)
        for name, layer in layers.items():
            setattr(self, name, layer)

    def _branches(self, key: jax.Array) -> list[Callable[[jax.Array], jax.Array]]:
        keys = jax.random.split(key, len(self._augment_layers))
        return [partial(_run, getattr(self, name), k)
                for name, k in zip(self._augment_layers, keys)]

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        return _augment_compiled(self, x, key)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class RandAugment(_PolicyLayer):
    """Applies `num_ops` augmentations in a row, each picked uniformly per call from
    Keras's eleven: RandomShear, RandomTranslation, RandomRotation, RandomBrightness,
    RandomColorDegeneration, RandomContrast, RandomSharpness, RandomPosterization,
    Solarization, AutoContrast, Equalization, all of strength `factor` (training only).
    As in Keras, one pick serves the whole batch, and each layer's random parameters are
    drawn once per call (a layer picked twice repeats the same draw).

    Args:
        value_range: the images' (min, max), default (0, 255).
        num_ops: how many augmentations to apply, default 2.
        factor: the strength, a number f in [0, 1] (range [0, f]) or a pair, default 0.5.
        interpolation: "bilinear" (default) or "nearest", for the geometric layers.
        seed: an int seed. data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> y = RandAugment(seed=0)(jnp.full((2, 8, 8, 3), 100.0), training=True)
        >>> y.shape, bool((y >= 0).all() and (y <= 255).all())
        ((2, 8, 8, 3), True)
    """

    def __init__(self, value_range: Any = (0, 255), num_ops: int = 2, factor: Any = 0.5,
                 interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        pair = _value_range("RandAugment", value_range)
        super().__init__(value_range=pair, seed=seed, data_format=data_format, **kwargs)
        self.value_range = tuple(value_range)  # kept as given, as Keras does
        self.num_ops = _count("RandAugment", "num_ops", num_ops)
        self.factor = _bounded_factor("RandAugment", factor, (0, 1))
        self.interpolation = _check_interpolation("RandAugment", interpolation)
        self._set_layers(RAND_AUGMENT_LAYERS, interpolation)

    def _augment(self, x: jax.Array, key: jax.Array) -> jax.Array:
        k_pick, k_layers = jax.random.split(key)
        picks = jax.random.randint(k_pick, (self.num_ops,), 0, len(self._augment_layers))
        branches = self._branches(k_layers)  # one draw per layer and call, as in Keras

        def step(y: jax.Array, pick: jax.Array) -> tuple[jax.Array, None]:
            return jax.lax.switch(pick, branches, y), None

        return jax.lax.scan(step, x, picks)[0]  # one switch, compiled once

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "value_range": list(self.value_range), "num_ops": self.num_ops,
                "factor": list(self.factor), "interpolation": self.interpolation,
                "seed": self.seed}


class AugMix(_PolicyLayer):
    """AugMix: `num_chains` chains of up to `chain_depth` augmentations each (every step
    picks one of the layers, or none, uniformly), mixed with Dirichlet(`alpha`) weights,
    then blended with the input by `w ~ Beta(alpha, alpha)`: `w x + (1 - w) mix`, clipped
    to `value_range` (training only). One draw serves the whole batch, as in Keras; Keras
    3.15 picks the steps with Python's `random` when it traces, so a compiled step repeats
    them, while kiln draws them in the graph, afresh on every call.

    Args:
        value_range: the images' (min, max), default (0, 255).
        num_chains: default 3. chain_depth: the steps per chain, default 3.
        factor: the strength, a number f in [0, 1] (range [0, f]) or a pair, default 0.3.
        alpha: the Beta / Dirichlet parameter, default 1.0.
        all_ops: also use RandomBrightness, RandomColorDegeneration, RandomContrast and
            RandomSharpness (default True) besides RandomShear, RandomTranslation,
            RandomRotation, RandomPosterization, Solarization, AutoContrast, Equalization.
        interpolation: "bilinear" (default) or "nearest". seed: an int seed.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> y = AugMix(seed=0)(jnp.full((2, 8, 8, 3), 100.0), training=True)
        >>> y.shape, bool((y >= 0).all() and (y <= 255).all())
        ((2, 8, 8, 3), True)
    """

    def __init__(self, value_range: Any = (0, 255), num_chains: int = 3, chain_depth: int = 3,
                 factor: Any = 0.3, alpha: float = 1.0, all_ops: bool = True,
                 interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        pair = _value_range("AugMix", value_range)
        super().__init__(value_range=pair, seed=seed, data_format=data_format, **kwargs)
        self.value_range = tuple(value_range)  # kept as given, as Keras does
        self.num_chains = _count("AugMix", "num_chains", num_chains)
        self.chain_depth = _count("AugMix", "chain_depth", chain_depth)
        self.factor = _bounded_factor("AugMix", factor, (0, 1))
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"AugMix(alpha=...) must be a positive number; received "
                             f"{alpha!r}. Pass e.g. alpha=1.0.")
        self.alpha, self.all_ops = alpha, bool(all_ops)
        self.interpolation = _check_interpolation("AugMix", interpolation)
        names = AUG_MIX_LAYERS + (AUG_MIX_EXTRA if self.all_ops else ())
        self._set_layers(names, interpolation)

    def _mixed(self, x: jax.Array, key: jax.Array, weights: jax.Array) -> jax.Array:
        """The chains, run as one scan over every (chain, step): one switch to compile."""
        depth = self.chain_depth
        if self.num_chains == 0:  # no chain: nothing mixed in (as in Keras)
            return jnp.zeros_like(x)
        if depth == 0:  # empty chains: each returns the input
            return x * jnp.sum(weights)
        k_pick, k_steps = jax.random.split(key)
        count = self.num_chains * depth
        picks = jax.random.randint(k_pick, (count,), 0, len(self._augment_layers) + 1)

        def step(carry: tuple, inputs: tuple) -> tuple[tuple, None]:
            y, mixed = carry
            i, pick, step_key = inputs
            y = jnp.where(i % depth == 0, x, y)  # a new chain starts from the input
            branches = [*self._branches(step_key), lambda v: v]  # the last: no step
            y = jax.lax.switch(pick, branches, y)
            mixed = mixed + jnp.where(i % depth == depth - 1, weights[i // depth], 0.0) * y
            return (y, mixed), None

        inputs = (jnp.arange(count), picks, jax.random.split(k_steps, count))
        return jax.lax.scan(step, (x, jnp.zeros_like(x)), inputs)[0][1]

    def _augment(self, x: jax.Array, key: jax.Array) -> jax.Array:
        k_weights, k_blend, k_chains = jax.random.split(key, 3)
        gammas = jax.random.gamma(k_weights, self.alpha, (max(self.num_chains, 1),))
        weights = (gammas / jnp.sum(gammas)).astype(x.dtype)
        blend = jax.random.beta(k_blend, self.alpha, self.alpha, ()).astype(x.dtype)
        y = blend * x + (1.0 - blend) * self._mixed(x, k_chains, weights)
        low, high = sorted(float(v) for v in self.value_range)
        return jnp.clip(y, low, high).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "value_range": list(self.value_range), "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": list(self.factor),
                "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}


class Pipeline(Layer):
    """Applies `layers` one after the other, passing the `training` flag on (a plain layer,
    not a Model: no weights of its own, nested configs serialized as Keras does).

    Args:
        layers: a list of layers. name: the layer's name.

    Example:
        >>> from kiln.layers import Rescaling
        >>> Pipeline([Rescaling(2.0), Rescaling(0.5, offset=1.0)])(jnp.ones((1, 2))).tolist()
        [[2.0, 2.0]]
    """

    def __init__(self, layers: Any, name: str | None = None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(la, Layer)
                                                            for la in layers):
            raise ValueError(f"Pipeline(layers=...) must be a list of Layer instances; "
                             f"received {layers!r}.")
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list[Layer]:
        """The layers, in the order they are applied."""
        return self._pipeline_layers

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {"layers": [_serialize(layer) for layer in self._pipeline_layers],
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Pipeline:
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"Pipeline's config needs a 'layers' list of serialized layers; "
                            f"received layers={layers!r}.")
        return cls(**{**config, "layers": [_deserialize_layer(la) for la in layers]})


def _fit_boxes(boxes: Any, labels: Any, max_number: int, fill_value: int) -> tuple:
    boxes, labels = jnp.asarray(boxes), jnp.asarray(labels)
    single = boxes.ndim == 2
    boxes, labels = (boxes[None], labels[None]) if single else (boxes, labels)
    if boxes.ndim != 3 or boxes.shape[-1] != 4 or labels.shape != boxes.shape[:2]:
        raise ValueError(f"MaxNumBoundingBoxes expects boxes (batch, n, 4) with labels "
                         f"(batch, n), or (n, 4) with (n,); received boxes "
                         f"{tuple(boxes.shape)} and labels {tuple(labels.shape)}.")
    pad = max(max_number - boxes.shape[1], 0)
    boxes = jnp.pad(boxes[:, :max_number], [(0, 0), (0, pad), (0, 0)],
                    constant_values=fill_value)
    labels = jnp.pad(labels[:, :max_number], [(0, 0), (0, pad)], constant_values=fill_value)
    return (boxes[0], labels[0]) if single else (boxes, labels)


class MaxNumBoundingBoxes(Layer):
    """Pads (with `fill_value`) or truncates the bounding boxes of `{"images": ...,
    "bounding_boxes": {"boxes": (batch, n, 4), "labels": (batch, n)}}` to `max_number`
    per image, in training and inference alike; images (and plain image inputs) pass
    through. Boxes must be dense arrays; as in Keras, `fill_value` is not in the config.
    Unlike Keras, no `bounding_box_format` is needed (the boxes' format does not matter).

    Args:
        max_number: the number of boxes per image. fill_value: default -1.
        bounding_box_format: recorded in the config when given.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> data = {"images": jnp.zeros((1, 4, 4, 3)),
        ...         "bounding_boxes": {"boxes": jnp.ones((1, 1, 4)), "labels": jnp.ones((1, 1))}}
        >>> MaxNumBoundingBoxes(2)(data)["bounding_boxes"]["labels"].tolist()
        [[1.0, -1.0]]
    """

    def __init__(self, max_number: int, fill_value: int = -1,
                 bounding_box_format: str | None = None, data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or int(max_number) < 1:
            raise ValueError(f"MaxNumBoundingBoxes(max_number=...) must be a positive int; "
                             f"received {max_number!r}.")
        self.max_number, self.fill_value = int(max_number), int(fill_value)
        self.bounding_box_format = bounding_box_format
        self.data_format = _data_format("MaxNumBoundingBoxes", data_format)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not isinstance(inputs, dict):
            return inputs
        if "images" not in inputs:
            raise ValueError(f"MaxNumBoundingBoxes expects images or a dict with an "
                             f"'images' key; received a dict with keys {sorted(inputs)}.")
        _hw_axes(jnp.asarray(inputs["images"]), self.data_format)  # checks the rank
        data = dict(inputs)
        if "bounding_boxes" in data:
            boxes = dict(data["bounding_boxes"])
            boxes["boxes"], boxes["labels"] = _fit_boxes(boxes["boxes"], boxes["labels"],
                                                         self.max_number, self.fill_value)
            data["bounding_boxes"] = boxes
        return data

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return {**config, "max_number": self.max_number}
