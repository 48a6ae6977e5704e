"""ConvNeXt Tiny, Small, Base, Large, XLarge (Keras's `keras.applications.convnext`).

A patchify stem and three downsampling steps (each a nested `Sequential`, as in Keras) feed
four stages of ConvNeXt blocks: a 7x7 depthwise convolution, LayerNormalization, a 4x MLP
(Dense layers on the channels), a learned per-channel `LayerScale`, then a residual add.

Keras adds the residual with the `+` operator, an operation that is not a layer; kiln's
functional graphs only hold layers, so kiln adds it with an unnamed `Add` layer: `add`,
`add_1`, ... (Keras's operations get the same automatic names). These weightless layers are
the one difference in `model.layers`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kiln import _registry, initializers, layers
from kiln._naming import unique_name
from kiln._scope import next_rng_key
from kiln.applications import _common, imagenet_utils
from kiln.layers import Layer
from kiln.models import Model, Sequential

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
_HASHES = {  # SHA-256 of the files (with top, without)
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}
_EPS = 1e-6
_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
_VARIANCE = ((0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2)


class StochasticDepth(Layer):
    """Drops the whole residual branch of a sample with probability `drop_path_rate` while
    training (kept ones are scaled by 1 / (1 - rate)); the identity otherwise.

    Args:
        drop_path_rate: the probability of dropping a sample's branch, in [0, 1].

    Example:
        >>> import numpy as np
        >>> StochasticDepth(0.5)(np.ones((2, 3)), training=False).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, drop_path_rate: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        if not training:
            return x
        keep = 1 - self.drop_path_rate
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = jnp.floor(keep + jax.random.uniform(next_rng_key(), shape, dtype=x.dtype))
        return x / keep * mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """Multiplies the channels by a learned vector `gamma` that starts at `init_values`.

    Its weight has Keras's automatic name (`variable`, `variable_1`, ... in a session),
    so the weight paths equal Keras's.

    Args:
        init_values: the initial value of every entry of `gamma`.
        projection_dim: the number of channels (the size of `gamma`).

    Example:
        >>> import numpy as np
        >>> LayerScale(0.5, 2)(np.ones((1, 2))).tolist()
        [[0.5, 0.5]]
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: Any) -> None:
        self.gamma = self.add_weight((self.projection_dim,),
                                     initializers.Constant(self.init_values),
                                     trainable=True, name=unique_name("Variable"))

    def call(self, x: jax.Array) -> jax.Array:
        return x * self.gamma.value

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}



def convnext_block(x: Any, projection_dim: int, drop_path_rate: float = 0.0,
                   layer_scale_init_value: float | None = 1e-6, name: str = "") -> Any:
    """Keras's `ConvNeXtBlock` applied to `x`, its layers named `<name>_...`."""
    inputs = x
    x = layers.Conv2D(projection_dim, 7, padding="same", groups=projection_dim,
                      name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=_EPS, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        x = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    return inputs + x  # a graph operation, as Keras writes the residual


def _downsampling(name: str, dims: list) -> list:
    """The stem and the three downsampling steps, nested `Sequential` models as in Keras."""
    stem = Sequential([
        layers.Conv2D(dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=_EPS, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    return [stem] + [Sequential([
        layers.LayerNormalization(epsilon=_EPS, name=f"{name}_downsampling_layernorm_{i}"),
        layers.Conv2D(dims[i + 1], kernel_size=2, strides=2,
                      name=f"{name}_downsampling_conv_{i}"),
    ], name=f"{name}_downsampling_block_{i}") for i in range(3)]


def _head(x: Any, include_top: bool, pooling: Any, classes: int, classifier_activation: Any,
          weights: Any, name: str) -> Any:
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=_EPS, name=f"{name}_head_layernorm")(x)
        return layers.Dense(classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)
    x = _common.pool(x, pooling, avg_name=None, max_name=None)
    return layers.LayerNormalization(epsilon=_EPS)(x)


def weights_file(variant: str, include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, SHA-256) of Keras's 'imagenet' file for a ConvNeXt variant.

    Example:
        >>> weights_file("tiny", False)[0]
        'convnext_tiny_notop.h5'
    """
    stem = f"convnext_{variant}"
    fname = stem + (".h5" if include_top else "_notop.h5")
    return fname, BASE_URL + fname, _HASHES[stem][0 if include_top else 1]


def convnext(variant: str, include_top: bool, include_preprocessing: bool, weights: Any,
             input_tensor: Any, input_shape: Any, pooling: Any, classes: int,
             classifier_activation: Any, name: str, drop_path_rate: float = 0.0,
             layer_scale_init_value: float | None = 1e-6) -> Model:
    """A ConvNeXt `variant` ("tiny", "small", "base", "large", "xlarge"), Keras's names."""
    config, weights_name = MODEL_CONFIGS[variant], f"convnext_{variant}"
    _common.check_args(weights, include_top, classes)
    if weights == "imagenet" and weights_name not in name:
        raise ValueError(f'Model name "{name}" does not match weights variant '
                         f'"{weights_name}". When using imagenet weights, model name must '
                         f'contain the weights variant. Fix: pass a name containing '
                         f'"{weights_name}" (the default), or weights=None.')
    inputs, x = _common.make_input(input_tensor, input_shape, config["default_size"], 32,
                                   include_top, weights)
    if include_preprocessing and x.shape[-1] == 3:
        x = layers.Normalization(mean=list(_MEAN), variance=list(_VARIANCE),
                                 name=f"{name}_prestem_normalization")(x)
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(config["depths"]))]
    dims, cur = config["projection_dims"], 0
    for i, step in enumerate(_downsampling(name, dims)):
        x = step(x)
        for j in range(config["depths"][i]):
            x = convnext_block(x, dims[i], rates[cur + j], layer_scale_init_value,
                               name=f"{name}_stage_{i}_block_{j}")
        cur += config["depths"][i]
    x = _head(x, include_top, pooling, classes, classifier_activation, weights, name)
    return _common.build(inputs, x, name, weights, lambda: weights_file(variant, include_top))


_registry.register(StochasticDepth, "layers")
_registry.register(LayerScale, "layers")
