"""Dtype policies, autocast in Layer.__call__, and LossScaleOptimizer (kiln on its own)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import dtype_policies, mixed_precision
from kiln.optimizers import SGD, Adam, LossScaleOptimizer


@pytest.fixture
def mixed16():
    kiln.config.set_dtype_policy("mixed_float16")
    yield
    kiln.config.set_dtype_policy("float32")


def test_policy_names_and_errors():
    p = kiln.DTypePolicy("mixed_bfloat16")
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_bfloat16", "bfloat16",
                                                           "float32")
    assert kiln.dtype_policies.DTypePolicy("float16").variable_dtype == "float16"
    assert dtype_policies.get(jnp.bfloat16) == kiln.DTypePolicy("bfloat16")
    with pytest.raises(ValueError, match="mixed_float16"):
        kiln.DTypePolicy("mixed_float8")
    with pytest.raises(ValueError, match="set_dtype_policy expected"):
        kiln.config.set_dtype_policy(3)


def test_global_policy_aliases(mixed16):
    assert mixed_precision.global_policy() is kiln.config.dtype_policy()
    assert kiln.config.dtype_policy().name == "mixed_float16"
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.dtype_policy().compute_dtype == "bfloat16"


def test_layer_dtypes_under_mixed_policy(mixed16):
    layer = kiln.layers.Dense(3)
    out = layer(np.ones((2, 4), "float32"))
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float32", "float16",
                                                                         "float32")
    assert layer.kernel.dtype == jnp.float32 and out.dtype == jnp.float16
    f32 = kiln.layers.Activation("softmax", dtype="float32")
    assert f32(out).dtype == jnp.float32
    assert kiln.layers.Dense(2, dtype=kiln.DTypePolicy("bfloat16")).compute_dtype == "bfloat16"


def test_config_round_trips_keras_policy_dict():
    keras_policy = {"module": "keras", "class_name": "DTypePolicy",
                    "config": {"name": "mixed_float16"}, "registered_name": None}
    layer = kiln.layers.Dense.from_config({"units": 2, "dtype": keras_policy})
    assert layer.dtype_policy == kiln.DTypePolicy("mixed_float16")
    again = kiln.layers.Dense.from_config(layer.get_config())
    assert again.dtype_policy.name == "mixed_float16"
    assert dtype_policies.deserialize(dtype_policies.serialize(layer.dtype_policy)) == \
        layer.dtype_policy


def test_default_policy_adds_no_casts():
    layer = kiln.layers.Dense(2)
    jaxpr = jax.make_jaxpr(lambda x: layer(x))(jnp.ones((1, 3)))
    assert "convert_element_type" not in str(jaxpr)


def test_weight_reads_are_cast_and_gradients_reach_float32(mixed16):
    layer = kiln.layers.Dense(2)
    layer(jnp.ones((1, 3)))
    seen = []
    orig = layer.call
    layer.call = lambda x: (seen.append(layer.kernel.value.dtype), orig(x))[1]
    layer(jnp.ones((1, 3)))
    assert seen == [jnp.float16] and layer.kernel.value.dtype == jnp.float32


def test_loss_scale_sequence_and_skip():
    opt = LossScaleOptimizer(SGD(0.5), initial_scale=4.0, dynamic_growth_steps=2)
    params = {"w": jnp.ones(2)}
    state = opt.init(params)
    scales, ws = [], []
    apply = jax.jit(opt.apply)
    for g in ([4.0, 4.0], [4.0, 4.0], [np.inf, 0.0], [8.0, 8.0]):
        params, state = apply({"w": jnp.asarray(g)}, params, state)
        scales.append(float(state.dynamic_scale))
        ws.append(float(params["w"][0]))
    assert scales == [4.0, 8.0, 4.0, 4.0]
    assert ws == [0.5, 0.0, 0.0, -1.0]  # g / scale: 1, 1, skipped, 8 / 8
    assert int(state.iterations) == 3


def test_loss_scale_config_round_trip():
    opt = LossScaleOptimizer(Adam(0.01), initial_scale=8.0, dynamic_growth_steps=10)
    config = kiln.optimizers.serialize(opt)
    assert config["class_name"] == "LossScaleOptimizer"
    again = kiln.optimizers.deserialize(config)
    assert isinstance(again.inner_optimizer, Adam) and again.dynamic_growth_steps == 10
    with pytest.raises(ValueError, match="inner optimizer"):
        LossScaleOptimizer(Adam(), clipnorm=1.0)


def test_compile_wraps_optimizer_under_mixed_float16(mixed16):
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.optimizer, LossScaleOptimizer)
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert not isinstance(model.optimizer, LossScaleOptimizer)
