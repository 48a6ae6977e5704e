"""Python operators and `ops` functions on symbolic tensors build functional-graph operations,
as in Keras: the same numbers, `model.layers` without them and `model.operations` with them,
the same config entries, and `.keras` files with operations that load both ways."""

import keras
import numpy as np
import pytest

import kiln

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 6)).astype("float32")


def _graph(lib):
    ops = lib.ops
    x = lib.Input((6,), name="x")
    h = lib.layers.Dense(6, name="dense")(x)
    y = (h * 2 + x) / 4.0 - 1.0
    y = ops.relu(-y) + abs(h) ** 2
    y = ops.concatenate([y[:, :3], 1 - x[:, 3:]], axis=-1)
    y = ops.expand_dims(ops.mean(y, axis=-1, keepdims=True), -1)
    z = ops.reshape(ops.sqrt(ops.square(h) + 1.0), (-1, 2, 3))
    z = ops.sum(z, axis=1) @ np.ones((3, 2), "float32")
    return lib.Model(x, [y, z], name="ops_graph")


@pytest.fixture(scope="module")
def pair():
    km, lm = _graph(keras), _graph(kiln)
    lm.set_weights(km.get_weights())
    return km, lm


def test_same_numbers_layers_and_operations(pair):
    km, lm = pair
    for got, want in zip(lm.predict(X, verbose=0), km.predict(X, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert [layer.name for layer in lm.layers] == [layer.name for layer in km.layers]
    assert [type(op).__name__ for op in km.operations][:2] == ["InputLayer", "Dense"]
    assert len(lm.operations) == len(km.operations)
    k_ops = sorted(c["class_name"] for c in km.get_config()["layers"])
    l_ops = sorted(c["class_name"] for c in lm.get_config()["layers"])
    assert l_ops == k_ops


def test_operation_config_entries_match_keras(pair):
    km, lm = pair
    k_entries = {c["name"]: c for c in km.get_config()["layers"]}
    for entry in lm.get_config()["layers"]:
        if entry["module"].startswith("keras.src.ops."):
            want = k_entries[entry["name"]]
            assert (entry["module"], entry["class_name"]) == \
                (want["module"], want["class_name"]), entry["name"]
            # Keras also writes the defaults of the op's other arguments (keepdims=False)
            assert entry["config"].items() <= want["config"].items(), entry["name"]


def test_files_with_operations_load_both_ways(pair, tmp_path):
    km, lm = pair
    km.save(tmp_path / "keras.keras")
    lm.save(tmp_path / "kiln.keras")
    from_keras = kiln.saving.load_model(tmp_path / "keras.keras")
    from_kiln = keras.saving.load_model(tmp_path / "kiln.keras")
    want = km.predict(X, verbose=0)
    for model in (from_keras, from_kiln):
        for got, expected in zip(model.predict(X, verbose=0), want):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert [layer.name for layer in from_keras.layers] == ["x", "dense"]
    live = kiln.Model.from_config(km.get_config())  # a live config holds tuples, not lists
    live.set_weights(km.get_weights())
    for got, expected in zip(live.predict(X, verbose=0), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_graph_with_operations_trains_and_clear_errors():
    x = kiln.Input((3,))
    out = kiln.layers.Dense(1)(x * 0.5)[:, 0]
    model = kiln.Model(x, out)
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 3)), np.ones(8), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    with pytest.raises(TypeError, match="boolean"):
        bool(x > 0)
    with pytest.raises(ValueError, match="symbolic"):
        np.asarray(x)


def test_summary_lists_operations_and_functional_models_are_named_functional(pair):
    km, lm = pair
    texts = {}
    for model in (km, lm):
        lines = []
        model.summary(line_length=160, print_fn=lambda text, line_break=True: lines.append(text))
        texts[model] = "\n".join(lines)
    for name in ("multiply (Multiply)", "get_item (GetItem)", "expand_dims (ExpandDims)"):
        assert name in texts[km] and name in texts[lm], name
    x = kiln.Input((2,))
    assert kiln.Model(x, kiln.layers.Dense(1)(x)).name.startswith("functional")
    k_in = keras.Input((2,))
    assert keras.Model(k_in, keras.layers.Dense(1)(k_in)).name.startswith("functional")
