"""Keras `ops.nn` convolutions, pooling, attention, CTC and block rearrangements on `jax.lax`.

Inputs are `channels_last` unless `data_format="channels_first"`; kernels use Keras's layout
(`spatial... , in, out`; transposed convolutions `spatial..., out, in`).

>>> import jax.numpy as jnp
>>> conv(jnp.ones((1, 4, 1)), jnp.ones((2, 1, 1))).shape
(1, 3, 1)
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def _dimension_numbers(n: int, data_format: str | None) -> jax.lax.ConvDimensionNumbers:
    dims = n + 2
    spatial = tuple(range(dims - 2))
    if data_format == "channels_first":
        lhs = (0, 1, *range(2, dims))
    else:
        lhs = (0, dims - 1, *range(1, dims - 1))
    rhs = (dims - 1, dims - 2, *spatial)
    return jax.lax.ConvDimensionNumbers(lhs_spec=lhs, rhs_spec=rhs, out_spec=lhs)


def _check_padding(padding: str) -> str:
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"expected padding 'valid' or 'same'; received padding={padding!r}.")
    return padding.upper()


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1) -> jax.Array:
    """N-D convolution (Keras `ops.conv`); groups are inferred from the kernel's in-channels.

    >>> conv(jnp.ones((1, 3, 3, 1)), jnp.ones((2, 2, 1, 4)), padding="same").shape
    (1, 3, 3, 4)
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    dn = _dimension_numbers(n, data_format)
    channels = inputs.shape[dn.lhs_spec[1]]
    return jax.lax.conv_general_dilated(
        inputs, kernel, _tuple(strides, n), _check_padding(padding),
        rhs_dilation=_tuple(dilation_rate, n), dimension_numbers=dn,
        feature_group_count=channels // kernel.shape[-2])


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> jax.Array:
    """Depthwise convolution; `kernel` is `(spatial..., in_channels, multiplier)`.

    >>> depthwise_conv(jnp.ones((1, 4, 2)), jnp.ones((2, 2, 3))).shape
    (1, 3, 6)
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    dn = _dimension_numbers(n, data_format)
    channels = inputs.shape[dn.lhs_spec[1]]
    kernel = jnp.reshape(kernel, (*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]))
    return jax.lax.conv_general_dilated(
        inputs, kernel, _tuple(strides, n), _check_padding(padding),
        rhs_dilation=_tuple(dilation_rate, n), dimension_numbers=dn,
        feature_group_count=channels)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> jax.Array:
    """A depthwise convolution followed by a pointwise (1x1) convolution.

    >>> separable_conv(jnp.ones((1, 4, 2)), jnp.ones((2, 2, 1)), jnp.ones((1, 2, 5))).shape
    (1, 3, 5)
    """
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_padding(kernel: int, stride: int, dilation: int, padding: str,
                       output_padding: int | None) -> tuple[int, int]:
    kernel = (kernel - 1) * dilation + 1
    if padding.lower() == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return kernel - 1, kernel - 1 + extra
    if output_padding is None:
        total = stride + kernel - 2
    else:
        total = kernel + kernel % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, kernel - 1)
    return left, total - left


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1) -> jax.Array:
    """Transposed convolution; `kernel` is `(spatial..., out_channels, in_channels)`.

    >>> conv_transpose(jnp.ones((1, 3, 1)), jnp.ones((2, 4, 1)), strides=2).shape
    (1, 6, 4)
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    n = inputs.ndim - 2
    _check_padding(padding)
    strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
    extras = (None,) * n if output_padding is None else _tuple(output_padding, n)
    pads = [_transpose_padding(kernel.shape[i], strides[i], dilation[i], padding, extras[i])
            for i in range(n)]
    return jax.lax.conv_transpose(inputs, kernel, strides, pads, rhs_dilation=dilation,
                                  dimension_numbers=_dimension_numbers(n, data_format),
                                  transpose_kernel=True)


def _window(inputs: jax.Array, pool_size: Any, strides: Any,
            data_format: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = inputs.ndim - 2
    size = _tuple(pool_size, n)
    step = size if strides is None else _tuple(strides, n)
    if data_format == "channels_first":
        return (1, 1, *size), (1, 1, *step)
    return (1, *size, 1), (1, *step, 1)


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> jax.Array:
    """Max pooling over the spatial axes; `strides` default to `pool_size`.

    >>> max_pool(jnp.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0].tolist()
    [1.0, 3.0]
    """
    inputs = jnp.asarray(inputs)
    dims, steps = _window(inputs, pool_size, strides, data_format)
    return jax.lax.reduce_window(inputs, -jnp.inf, jax.lax.max, dims, steps,
                                 _check_padding(padding))


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> jax.Array:
    """Average pooling; with "same" padding, each window averages only its real entries.

    >>> average_pool(jnp.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0].tolist()
    [0.5, 2.5]
    """
    inputs = jnp.asarray(inputs)
    dims, steps = _window(inputs, pool_size, strides, data_format)
    pad = _check_padding(padding)
    total = jax.lax.reduce_window(inputs, 0.0, jax.lax.add, dims, steps, pad)
    if pad == "VALID":
        return total / math.prod(dims)
    count = jax.lax.reduce_window(jnp.ones_like(inputs), 0.0, jax.lax.add, dims, steps, pad)
    return total / count


def _adaptive(inputs: Any, output_size: Any, data_format: str | None, reduce: Any) -> jax.Array:
    x = jnp.asarray(inputs)
    n = x.ndim - 2
    first = data_format == "channels_first"
    for i, out in enumerate(_tuple(output_size, n)):
        axis = 2 + i if first else 1 + i
        length = x.shape[axis]
        pieces = [reduce(jax.lax.slice_in_dim(x, (j * length) // out,
                                              -((-(j + 1) * length) // out), axis=axis),
                         axis=axis, keepdims=True) for j in range(out)]
        x = jnp.concatenate(pieces, axis=axis)
    return x


def adaptive_average_pool(inputs: Any, output_size: Any,
                          data_format: str | None = None) -> jax.Array:
    """Average pooling to a fixed `output_size` (PyTorch's window rule).

    >>> adaptive_average_pool(jnp.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0].tolist()
    [0.5, 2.5]
    """
    return _adaptive(inputs, output_size, data_format, jnp.mean)


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> jax.Array:
    """Max pooling to a fixed `output_size` (PyTorch's window rule).

    >>> adaptive_max_pool(jnp.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0].tolist()
    [1.0, 3.0]
    """
    return _adaptive(inputs, output_size, data_format, jnp.max)


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False,
                          flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> jax.Array:
    """Scaled dot-product attention over `(batch, seq, heads, head_dim)` inputs.

    >>> dot_product_attention(jnp.ones((1, 2, 1, 4)), jnp.ones((1, 3, 1, 4)),
    ...                       jnp.ones((1, 3, 1, 4))).shape
    (1, 2, 1, 4)
    """
    if flash_attention:
        raise ValueError("dot_product_attention: kiln runs the XLA implementation; "
                         "received flash_attention=True, pass None or False.")
    query, key, value = jnp.asarray(query), jnp.asarray(key), jnp.asarray(value)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    logits = jnp.einsum("BTNH,BSNH->BNTS", query, key).astype(jnp.float32) * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * jnp.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + jnp.asarray(bias, logits.dtype)
    keep = jnp.ones(logits.shape, bool)
    if mask is not None:
        keep = keep & jnp.asarray(mask, bool)
    if is_causal:
        keep = keep & jnp.tril(jnp.ones(logits.shape[-2:], bool))
    logits = jnp.where(keep, logits, jnp.finfo(logits.dtype).min)
    weights = jax.nn.softmax(logits, axis=-1).astype(value.dtype)
    return jnp.einsum("BNTS,BSNH->BTNH", weights, value)


def _paddings(lengths: jax.Array, size: int) -> jax.Array:
    return (jnp.arange(size)[None, :] >= lengths[:, None]).astype(jnp.float32)


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> jax.Array:
    """Per-sample CTC loss of logits `output` `(batch, time, classes)` for labels `target`.

    >>> ctc_loss(jnp.array([[1]]), jnp.zeros((1, 2, 3)), jnp.array([1]), jnp.array([2])).shape
    (1,)
    """
    target = jnp.asarray(target, "int32")
    output = jnp.asarray(output)
    output = output.astype(jnp.promote_types(output.dtype, jnp.float32))
    label_pad = _paddings(jnp.asarray(target_length, "int32"), target.shape[1])
    logit_pad = _paddings(jnp.asarray(output_length, "int32"), output.shape[1])
    return optax.ctc_loss(output, logit_pad, target, label_pad, blank_id=mask_index,
                          log_epsilon=-1e5)


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy",
               beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> tuple[jax.Array, jax.Array]:
    """Greedy CTC decoding: `(decoded (1, batch, time) padded with -1, scores (batch, 1))`.

    >>> ctc_decode(jnp.array([[[0.1, 0.9], [0.9, 0.1]]]), jnp.array([2]))[0].tolist()
    [[[1, -1]]]
    """
    if strategy != "greedy":
        raise ValueError(f"ctc_decode: kiln implements strategy='greedy' only; received "
                         f"strategy={strategy!r}. Use 'greedy'.")
    x = jnp.asarray(inputs)
    x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    steps = x.shape[1]
    past_end = jnp.arange(steps)[None, :] >= jnp.asarray(sequence_lengths, "int32")[:, None]
    idx = jnp.where(past_end, mask_index, jnp.argmax(x, axis=-1))
    scores = jnp.where(past_end, 0.0, jnp.max(x, axis=-1))
    if merge_repeated:
        repeat = jnp.pad(idx[:, 1:] == idx[:, :-1], ((0, 0), (1, 0)))
        idx = jnp.where(repeat, mask_index, idx)
    blank = idx == mask_index
    idx = jnp.where(blank, -1, idx)
    order = jnp.argsort(jnp.where(blank, steps, jnp.arange(steps)[None, :]), axis=-1)
    idx = jnp.take_along_axis(idx, order, axis=-1)
    return idx[None], -jnp.sum(scores, axis=1)[:, None]


CUSTOM = (conv, depthwise_conv, separable_conv, conv_transpose, max_pool, average_pool,
          adaptive_average_pool, adaptive_max_pool, dot_product_attention, ctc_loss,
          ctc_decode)
