"""NASNet-A (Keras's `keras.applications.nasnet`): a stem, then normal and reduction cells.

Keras builds each cell inside name scopes (`normal_A_block_0/block_1/...`), which prefix
its weight paths; kiln's `name_scope` does the same, so the paths equal Keras's."""

from __future__ import annotations

from typing import Any

from kiln import _scope, layers
from kiln.applications import _common
from kiln.applications._mobilenet import correct_pad
from kiln.models import Model

BASE_URL = f"{_common.BASE_URL}nasnet/"
# default size: (file name, origin file, hash) with the top, then without it
_FILES = {
    224: (("nasnet_mobile.h5", "NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
          ("nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5",
           "1ed92395b5b598bdda52abe5c0dbfd63")),
    331: (("nasnet_large.h5", "NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
          ("nasnet_large_no_top.h5", "NASNet-large-no-top.h5",
           "d81d89dc07e6e56530c4e77faddd61b5")),
}


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv(x: Any, filters: int, name: str) -> Any:
    """A 1x1 convolution without bias, He-normal initialized."""
    return layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same", use_bias=False,
                         name=name, kernel_initializer="he_normal")(x)


def _relu(x: Any, name: str | None = None) -> Any:
    return layers.Activation("relu", name=name)(x)


def separable_conv_block(ip: Any, filters: int, kernel_size: tuple[int, int] = (3, 3),
                         strides: tuple[int, int] = (1, 1), block_id: str = "") -> Any:
    """ReLU, separable convolution (padded first when strided), BN, ReLU, separable
    convolution, BN: Keras's `_separable_conv_block`.

    Example:
        >>> import kiln
        >>> y = separable_conv_block(kiln.layers.Input((8, 8, 3)), 4, strides=(2, 2),
        ...                          block_id="b")
        >>> tuple(y.shape)
        (None, 4, 4, 4)
    """
    with _scope.name_scope(f"separable_conv_block_{block_id}"):
        x = _relu(ip)
        conv_pad = "same"
        if strides == (2, 2):
            x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size[0]),
                                     name=f"separable_conv_1_pad_{block_id}")(x)
            conv_pad = "valid"
        x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                                   name=f"separable_conv_1_{block_id}", padding=conv_pad,
                                   use_bias=False)(x)
        x = _relu(_bn(x, f"separable_conv_1_bn_{block_id}"))
        x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                                   padding="same", use_bias=False)(x)
        return _bn(x, f"separable_conv_2_bn_{block_id}")


def _factorized_reduction(p: Any, filters: int, block_id: str) -> Any:
    """Halves `p`'s spatial size: two strided 1x1 paths (one shifted by a pixel)."""
    with _scope.name_scope(f"adjust_reduction_block_{block_id}"):
        p = _relu(p, f"adjust_relu_1_{block_id}")
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_1_{block_id}", kernel_initializer="he_normal")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_2_{block_id}", kernel_initializer="he_normal")(p2)
        p = layers.Concatenate(axis=-1)([p1, p2])
        return _bn(p, f"adjust_bn_{block_id}")


def adjust_block(p: Any, ip: Any, filters: int, block_id: str) -> Any:
    """The previous cell's output `p` matched to `ip`'s spatial size and to `filters`
    channels (Keras's `_adjust_block`); `ip` itself when there is no previous cell."""
    with _scope.name_scope("adjust_block"):
        if p is None:
            return ip
        if p.shape[-2] != ip.shape[-2]:
            return _factorized_reduction(p, filters, block_id)
        if p.shape[-1] != filters:
            with _scope.name_scope(f"adjust_projection_block_{block_id}"):
                p = _conv(_relu(p), filters, f"adjust_conv_projection_{block_id}")
                return _bn(p, f"adjust_bn_{block_id}")
        return p


def _avg3(x: Any, strides: int, padding: str, name: str) -> Any:
    return layers.AveragePooling2D((3, 3), strides=(strides, strides), padding=padding,
                                   name=name)(x)


def _cell_input(ip: Any, p: Any, filters: int, kind: str, block_id: str) -> tuple[Any, Any]:
    """(adjusted previous output, ReLU-1x1 conv-BN of `ip`) at the start of a cell."""
    p = adjust_block(p, ip, filters, block_id)
    h = _conv(_relu(ip), filters, f"{kind}_conv_1_{block_id}")
    return p, _bn(h, f"{kind}_bn_1_{block_id}")


def normal_a_cell(ip: Any, p: Any, filters: int, block_id: str) -> tuple[Any, Any]:
    """A normal cell: five branch pairs added, concatenated with `p`; returns (x, ip)."""
    with _scope.name_scope(f"normal_A_block_{block_id}"):
        p, h = _cell_input(ip, p, filters, "normal", block_id)
        with _scope.name_scope("block_1"):
            x1 = layers.Add(name=f"normal_add_1_{block_id}")([
                separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
                separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")])
        with _scope.name_scope("block_2"):
            x2 = layers.Add(name=f"normal_add_2_{block_id}")([
                separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
                separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")])
        with _scope.name_scope("block_3"):
            x3 = _avg3(h, 1, "same", f"normal_left3_{block_id}")
            x3 = layers.Add(name=f"normal_add_3_{block_id}")([x3, p])
        with _scope.name_scope("block_4"):
            x4 = layers.Add(name=f"normal_add_4_{block_id}")([
                _avg3(p, 1, "same", f"normal_left4_{block_id}"),
                _avg3(p, 1, "same", f"normal_right4_{block_id}")])
        with _scope.name_scope("block_5"):
            x5 = separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
            x5 = layers.Add(name=f"normal_add_5_{block_id}")([x5, h])
        x = layers.Concatenate(axis=-1, name=f"normal_concat_{block_id}")(
            [p, x1, x2, x3, x4, x5])
    return x, ip


def reduction_a_cell(ip: Any, p: Any, filters: int, block_id: str) -> tuple[Any, Any]:
    """A reduction cell (stride 2): returns (x, ip)."""
    with _scope.name_scope(f"reduction_A_block_{block_id}"):
        p, h = _cell_input(ip, p, filters, "reduction", block_id)
        h3 = layers.ZeroPadding2D(padding=correct_pad(h, 3),
                                  name=f"reduction_pad_1_{block_id}")(h)
        with _scope.name_scope("block_1"):
            x1 = layers.Add(name=f"reduction_add_1_{block_id}")([
                separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                     block_id=f"reduction_left1_{block_id}"),
                separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                     block_id=f"reduction_right1_{block_id}")])
        with _scope.name_scope("block_2"):
            x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                       name=f"reduction_left2_{block_id}")(h3)
            x2 = layers.Add(name=f"reduction_add_2_{block_id}")([x2_1, separable_conv_block(
                p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right2_{block_id}")])
        with _scope.name_scope("block_3"):
            x3_1 = _avg3(h3, 2, "valid", f"reduction_left3_{block_id}")
            x3 = layers.Add(name=f"reduction_add3_{block_id}")([x3_1, separable_conv_block(
                p, filters, (5, 5), strides=(2, 2), block_id=f"reduction_right3_{block_id}")])
        with _scope.name_scope("block_4"):
            x4 = _avg3(x1, 1, "same", f"reduction_left4_{block_id}")
            x4 = layers.Add()([x2, x4])
        with _scope.name_scope("block_5"):
            x5_1 = separable_conv_block(x1, filters, (3, 3),
                                        block_id=f"reduction_left4_{block_id}")
            x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                       name=f"reduction_right5_{block_id}")(h3)
            x5 = layers.Add(name=f"reduction_add4_{block_id}")([x5_1, x5_2])
        x = layers.Concatenate(axis=-1, name=f"reduction_concat_{block_id}")(
            [x2, x3, x4, x5])
    return x, ip


def nasnet_url(default_size: int, include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's NASNet ImageNet weights (224: NASNetMobile,
    331: NASNetLarge).

    Example:
        >>> nasnet_url(224, False)[0]
        'nasnet_mobile_no_top.h5'
    """
    fname, origin, file_hash = _FILES[default_size][0 if include_top else 1]
    return fname, f"{BASE_URL}{origin}", file_hash


def _check_nasnet_args(input_shape: Any, penultimate_filters: int, filter_multiplier: int,
                       weights: Any, default_size: int) -> None:
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` "
                         "weights, the input_shape argument must be static (no None entries). "
                         f"Got: `input_shape={input_shape}`. Fix: give every dimension.")
    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple "
                         f"of 24 * (`filter_multiplier` ** 2). Current value: "
                         f"{penultimate_filters}. Fix: pass such a multiple.")
    if weights == "imagenet" and default_size not in _FILES:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or "
                         f"NASNetMobile (default sizes {sorted(_FILES)}). Received: "
                         f"default_size={default_size}. Fix: pass weights=None.")


def _cells(x: Any, filters: int, num_blocks: int, skip_reduction: bool,
           filter_multiplier: int) -> Any:
    """The two stem reduction cells, then three stages of `num_blocks` normal cells with a
    reduction cell between them."""
    x, p = reduction_a_cell(x, None, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stage in range(3):
        width = filters * filter_multiplier ** stage
        if stage > 0:
            x, p0 = reduction_a_cell(x, p, width, block_id=f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            index = stage * num_blocks + i + (1 if stage else 0)  # Keras's: 0, n + 1, 2n + 1
            x, p = normal_a_cell(x, p, width, block_id=f"{index}")
    return x


def nasnet(input_shape: Any = None, penultimate_filters: int = 4032, num_blocks: int = 6,
           stem_block_filters: int = 96, skip_reduction: bool = True,
           filter_multiplier: int = 2, include_top: bool = True, weights: Any = "imagenet",
           input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
           default_size: int | None = None, classifier_activation: Any = "softmax",
           name: str = "NASNet") -> Model:
    """Keras's `NASNet(...)` builder (Keras's arguments and defaults; `default_size` 331)."""
    default_size = 331 if default_size is None else default_size
    _common.check_args(weights, include_top, classes)
    _check_nasnet_args(input_shape, penultimate_filters, filter_multiplier, weights,
                       default_size)
    inputs, x = _common.make_input(input_tensor, input_shape, default_size, 32, include_top,
                                   weights)
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1", kernel_initializer="he_normal")(x)
    x = _bn(x, "stem_bn1")
    x = _relu(_cells(x, penultimate_filters // 24, num_blocks, skip_reduction,
                     filter_multiplier))
    if include_top:  # Keras leaves the pooling layers unnamed here
        x = layers.GlobalAveragePooling2D()(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.pool(x, pooling, avg_name=None, max_name=None)
    return _common.build(inputs, x, name, weights,
                         lambda: nasnet_url(default_size, include_top))
