"""Parity with Keras 3 (JAX backend) under mixed precision: the same 2-layer Dense model with a
float32 softmax, the same weights and data, 2 epochs of fit(shuffle=False) under
"mixed_float16" (Keras wraps the optimizer in a LossScaleOptimizer) and "mixed_bfloat16";
the dtypes, per-epoch losses, final weights and the loss-scale state must agree. Layer by
layer, on copied weights, each layer's output dtype and values equal Keras's under both
policies (normalization computes in float32 and casts back; RNN cells, attention projections
and embeddings compute in the low type). The loss
scale's halving and growth are compared step by step with an injected inf/NaN gradient."""


import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kiln

TOL = dict(rtol=1e-3, atol=1e-4)


def _model(lib):
    return lib.Sequential([lib.Input((5,)), lib.layers.Dense(8, activation="relu"),
                           lib.layers.Dense(3),
                           lib.layers.Activation("softmax", dtype="float32")])


def _policy(name):
    keras.config.set_dtype_policy(name)
    kiln.config.set_dtype_policy(name)


@pytest.fixture
def policy(request):
    _policy(request.param)
    yield request.param
    _policy("float32")


def _fit_both(x, y, optimizer="Adam", lr=0.1):
    km, nm = _model(keras), _model(kiln)
    rng = np.random.default_rng(2)
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in km.weights]
    km.set_weights(weights)
    nm.set_weights(weights)
    km.compile(optimizer=getattr(keras.optimizers, optimizer)(lr),
               loss="sparse_categorical_crossentropy")
    nm.compile(optimizer=getattr(kiln.optimizers, optimizer)(lr),
               loss="sparse_categorical_crossentropy")
    hk = km.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    hn = nm.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    return km, nm, hk, hn


def _data(scale=1.0, n=64):
    rng = np.random.default_rng(0)
    return (scale * rng.normal(size=(n, 5))).astype("float32"), rng.integers(0, 3, n)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_fit_matches_keras(policy):
    x, y = _data()
    km, nm, hk, hn = _fit_both(x, y)
    assert [str(w.dtype) for w in nm.weights] == [w.dtype for w in km.weights]
    assert [l.compute_dtype for l in nm.layers] == [l.compute_dtype for l in km.layers]
    assert str(nm.layers[0](x).dtype) == km.layers[0](x).dtype
    assert str(nm(x).dtype) == km(x).dtype == "float32"
    np.testing.assert_allclose(hn, hk, **TOL)
    for a, b in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, **TOL)
    assert type(nm.optimizer).__name__ == type(km.optimizer).__name__
    for a, b in zip(nm.optimizer.variables, km.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_fit_with_float16_overflow_matches_keras(policy):
    # Inputs of 300 overflow the scaled float16 gradients: the scale halves until they fit.
    # (SGD, not Adam: Adam's update is blind to a wrong gradient scale.)
    x, y = _data(scale=300.0, n=128)
    km, nm, hk, hn = _fit_both(x, y, "SGD", lr=1e-4)
    assert float(km.optimizer.dynamic_scale.value) < 2.0 ** 15
    np.testing.assert_allclose(hn, hk, **TOL)
    for a, b in zip(nm.optimizer.variables, km.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)


def test_loss_scale_sequence_matches_keras():
    rng = np.random.default_rng(1)
    w0 = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") for w in w0] for _ in range(7)]
    grads[2][0][1, 1] = np.inf
    grads[5][1][0] = np.nan
    kvars = [keras.Variable(w) for w in w0]
    ko = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=16.0,
                                             dynamic_growth_steps=2)
    no = kiln.optimizers.LossScaleOptimizer(kiln.optimizers.Adam(0.01), initial_scale=16.0,
                                            dynamic_growth_steps=2)
    ko.build(kvars)
    opt_vars, values = [v.value for v in ko.variables], [v.value for v in kvars]
    params = {"a": jnp.asarray(w0[0]), "b": jnp.asarray(w0[1])}
    state = no.init(params)
    keras_apply, kiln_apply = jax.jit(ko.stateless_apply), jax.jit(no.apply)
    for g in grads:
        values, opt_vars = keras_apply(opt_vars, g, values)
        params, state = kiln_apply({"a": g[0], "b": g[1]}, params, state)
        assert float(state.dynamic_scale) == float(opt_vars[3])
        assert int(state.step_counter) == int(opt_vars[2])
        np.testing.assert_allclose(params["a"], values[0], rtol=1e-6, atol=1e-7)
    no.state = state
    for a, b in zip(no.variables, opt_vars):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


LAYERS = {
    "BatchNormalization": (lambda l: l.BatchNormalization(), (4, 3, 5), 0),
    "LayerNormalization": (lambda l: l.LayerNormalization(), (4, 3, 5), 1),
    "GroupNormalization": (lambda l: l.GroupNormalization(2), (2, 3, 4), 1),
    "Embedding": (lambda l: l.Embedding(7, 4), (4, 3), 0),
    "Conv1D": (lambda l: l.Conv1D(4, 2), (2, 5, 3), 0),
    "LSTM": (lambda l: l.LSTM(3, return_sequences=True), (2, 4, 3), 0),
    "GRU": (lambda l: l.GRU(3), (2, 4, 3), 0),
    "SimpleRNN": (lambda l: l.SimpleRNN(3), (2, 4, 3), 0),
    "MultiHeadAttention": (lambda l: l.MultiHeadAttention(2, 4), (2, 3, 8), 1),
    "GaussianNoise": (lambda l: l.GaussianNoise(0.1), (2, 3), 0),
}


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_outputs_match_keras(policy, name):
    make, shape, ulps = LAYERS[name]
    rng = np.random.default_rng(0)
    if name == "Embedding":
        x = rng.integers(0, 7, shape).astype("int32")
    else:
        x = rng.normal(size=shape).astype("float32")
    args = (x, x) if name == "MultiHeadAttention" else (x,)
    k, n = make(keras.layers), make(kiln.layers)
    k(*args), n(*args)
    n.set_weights(k.get_weights())
    want, got = k(*args, training=False), n(*args, training=False)
    assert str(got.dtype) == str(want.dtype) == policy.split("_")[1]
    assert [str(w.dtype) for w in n.weights] == [w.dtype for w in k.weights]
    # Keras and kiln may round an intermediate differently by an ulp of the low type, and a
    # recurrence carries that ulp on: compare to about one ulp.
    spacing = float(np.finfo(np.float16).eps if "16" in policy and "b" not in policy
                    else 2.0 ** -7)
    np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32),
                               atol=spacing * (1 + 3 * ulps), rtol=spacing)
