"""JaxLayer / FlaxLayer and ReversibleEmbedding: behaviour, errors, config, and parity with
Keras 3 (JAX backend) on the same weights: outputs, weights, masks and fit updates."""

import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kiln
from kiln.layers._jax_layer import FlaxLayer, JaxLayer
from kiln.layers._reversible_embedding import ReversibleEmbedding

RNG = np.random.default_rng(5)
X = RNG.normal(size=(8, 3)).astype("float32")
Y = RNG.normal(size=(8, 2)).astype("float32")
PARAMS = {"w": RNG.normal(size=(3, 2)).astype("float32"), "b": np.zeros(2, "float32")}
IDS = np.array([[1, 0, 3], [4, 2, 0]])


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(np.asarray(a, "float32"), np.asarray(b, "float32"), rtol=tol,
                               atol=tol)


@kiln.saving.register_keras_serializable(package="test_jax_layer")
def dense_fn(params, inputs):
    return jnp.tanh(inputs @ params["w"] + params["b"])


def stateful_fn(params, state, rng, inputs, training):
    out = jnp.tanh(inputs @ params["w"] + params["b"])
    if training:  # rng is a key in training only; the noise is zero so outputs stay comparable
        out = out + 0.0 * jax.random.normal(rng, out.shape)
    return out, {"calls": state["calls"] + 1}


def init_fn(rng, inputs):
    return {"w": jax.random.normal(rng, (inputs.shape[-1], 2)), "b": jnp.zeros(2)}


# -- JaxLayer ----------------------------------------------------------------------------------

def test_jax_layer_outputs_and_weights_match_keras():
    state = {"calls": np.zeros((), "float32")}
    ours = JaxLayer(stateful_fn, params=PARAMS, state=state)
    theirs = keras.layers.JaxLayer(stateful_fn, params=PARAMS, state=state)
    close(ours(X), theirs(X))
    assert [w.shape for w in ours.trainable_weights] == [
        tuple(w.shape) for w in theirs.trainable_weights]
    assert [w.shape for w in ours.non_trainable_weights] == [
        tuple(w.shape) for w in theirs.non_trainable_weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        close(a, b)


def test_jax_layer_fit_updates_params_and_state_like_keras():
    state = {"calls": np.zeros((), "float32")}
    theirs = keras.layers.JaxLayer(stateful_fn, params=PARAMS, state=state)
    ours = JaxLayer(stateful_fn, params=PARAMS, state=state)
    km = keras.Sequential([keras.Input((3,)), theirs])
    nm = kiln.Sequential([kiln.Input((3,)), ours])
    for model in (km, nm):
        model.compile(optimizer="sgd", loss="mse")
        model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        close(a, b, 1e-5)
    assert not np.allclose(ours.get_weights()[1], PARAMS["w"])  # params did move
    assert float(ours.get_weights()[2]) == 4.0  # 2 epochs x 2 steps updated the state


def test_jax_layer_init_fn_and_rng():
    seen = []

    def call_fn(params, rng, inputs, training):
        seen.append((rng is None, training))
        return inputs @ params["w"] + params["b"]
    layer = JaxLayer(call_fn, init_fn=init_fn, seed=3)
    assert layer(X).shape == (8, 2) and seen[-1] == (True, False)
    assert [w.shape for w in layer.trainable_weights] == [(2,), (3, 2)]
    layer(X, training=True)
    assert seen[-1] == (False, True)
    assert len(layer.non_trainable_variables) == 1  # the seed generator's state
    layer = JaxLayer(lambda inputs: inputs * 2)
    assert layer.weights == [] and np.asarray(layer(X)).shape == X.shape


def test_jax_layer_symbolic_and_pytree_inputs():
    def add_fn(params, inputs):
        return inputs["a"] @ params["w"] + inputs["b"]

    layer = JaxLayer(add_fn, init_fn=lambda inputs: {"w": jnp.ones((inputs["a"].shape[-1], 2))})
    out = layer({"a": X, "b": Y})
    close(out, X @ np.ones((3, 2)) + Y)
    inp = kiln.Input((3,))
    model = kiln.Model(inp, JaxLayer(dense_fn, params=PARAMS)(inp))
    close(model.predict(X, verbose=0), np.tanh(X @ PARAMS["w"]), 1e-5)


def test_jax_layer_errors():
    with pytest.raises(ValueError, match="named `inputs`"):
        JaxLayer(lambda x: x)
    with pytest.raises(ValueError, match="unsupported argument"):
        JaxLayer(lambda params, inputs, mask: inputs, params={})
    with pytest.raises(ValueError, match="cannot all be None"):
        JaxLayer(dense_fn)
    layer = JaxLayer(lambda params, state, inputs: (inputs, {"other": 1.0}), params={},
                     state={"calls": np.zeros(())})
    with pytest.raises(ValueError, match="structure"):
        layer(X)


def test_jax_layer_config_matches_keras_keys_and_round_trips():
    ours = JaxLayer(dense_fn, params=PARAMS, name="jl")
    theirs = keras.layers.JaxLayer(dense_fn, params=PARAMS)
    config = json.loads(json.dumps(ours.get_config()))
    assert sorted(config) == sorted(theirs.get_config())
    assert config["call_fn"]["config"] == "test_jax_layer>dense_fn"
    back = JaxLayer.from_config({**config, "params": PARAMS})
    assert back.call_fn is dense_fn and back.init_fn is None
    close(back(X), ours(X))


def test_flax_layer_needs_flax():
    try:
        import flax  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install flax"):
            FlaxLayer(object())
    else:
        pytest.skip("flax is installed; the missing-flax error cannot be shown")


# -- ReversibleEmbedding -----------------------------------------------------------------------

@pytest.mark.parametrize("tie_weights,reverse_dtype,cap", [
    (True, None, None), (False, None, None), (True, "float16", None), (False, "float16", 0.05),
    (True, None, 0.05)])
def test_reversible_embedding_matches_keras(tie_weights, reverse_dtype, cap):
    kwargs = dict(input_dim=6, output_dim=4, tie_weights=tie_weights,
                  reverse_dtype=reverse_dtype, logit_soft_cap=cap, mask_zero=True)
    theirs, ours = keras.layers.ReversibleEmbedding(**kwargs), ReversibleEmbedding(**kwargs)
    theirs.build()
    ours.build()
    assert [w.path.split("/")[-1] for w in ours.weights] == [w.name for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    hidden = theirs(IDS)
    close(ours(IDS), hidden)
    logits, expected = ours(np.asarray(hidden), reverse=True), theirs(hidden, reverse=True)
    assert logits.shape == (2, 3, 6) and logits.dtype == np.dtype(reverse_dtype or "float32")
    close(logits, expected, 1e-3 if reverse_dtype else 1e-6)


def test_reversible_embedding_masks_forward_only():
    layer = ReversibleEmbedding(6, 4, mask_zero=True)
    ids = kiln.Input((3,), dtype="int32")
    hidden = layer(ids)
    pooled = kiln.layers.GlobalAveragePooling1D()(hidden)
    model = kiln.Model(ids, pooled)
    vectors = np.asarray(layer(IDS))
    expected = [vectors[i][IDS[i] != 0].mean(0) for i in range(2)]
    close(model.predict(IDS, verbose=0), expected, 1e-6)
    layer(vectors, reverse=True)
    assert layer.compute_mask(vectors) is None  # reverse outputs are logits, not padded ids
    assert layer.compute_output_shape((2, 3), reverse=False) == (2, 3, 4)
    assert layer.compute_output_shape((2, 3, 4), reverse=True) == (2, 3, 6)


def test_reversible_embedding_tied_lm_trains():
    layer = ReversibleEmbedding(7, 4, tie_weights=True)
    ids = kiln.Input((3,), dtype="int32")
    model = kiln.Model(ids, layer(layer(ids), reverse=True))
    model.compile(optimizer="adam", loss=kiln.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    x = RNG.integers(1, 7, size=(16, 3))
    before = np.asarray(layer.embeddings.value).copy()
    history = model.fit(x, x, epochs=3, verbose=0)
    assert len(model.trainable_weights) == 1
    assert model.predict(x[:2], verbose=0).shape == (2, 3, 7)  # the node replays reverse=True
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(before, layer.embeddings.value)


def test_reversible_embedding_config_matches_keras():
    kwargs = dict(input_dim=5, output_dim=3, tie_weights=False, reverse_dtype="float32",
                  logit_soft_cap=30.0)
    ours, theirs = ReversibleEmbedding(**kwargs), keras.layers.ReversibleEmbedding(**kwargs)
    config = json.loads(json.dumps(ours.get_config()))
    assert sorted(config) == sorted(theirs.get_config())
    back = ReversibleEmbedding.from_config(config)
    assert json.loads(json.dumps(back.get_config())) == config
    for key in ("tie_weights", "reverse_dtype", "logit_soft_cap", "input_dim", "output_dim"):
        assert config[key] == theirs.get_config()[key]
    from_keras = ReversibleEmbedding.from_config(json.loads(json.dumps(theirs.get_config())))
    assert not from_keras.tie_weights and from_keras.logit_soft_cap == 30.0
