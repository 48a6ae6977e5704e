"""TensorBoard (event files read back with tensorboard's own reader), model_to_dot /
plot_model against Keras's dot graph, and plot_history.

Keras's TensorBoard callback needs TensorFlow (it writes through `tf.summary`), which is not
installed here, so the tag names are checked against those written in Keras's source
(keras/src/callbacks/tensorboard.py): `epoch_<name>` (train and validation runs, val_
prefix removed), `epoch_learning_rate`, `batch_<name>`, `evaluation_<name>_vs_iterations`,
`<weight.path>/histogram`, and `keras` (the model config) when write_graph.
"""

import os
import shutil

import keras
import numpy as np
import pytest

import kiln
from kiln.callbacks import _tensorboard
from kiln.callbacks._callback import _overrides
from kiln.utils import _plot

ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
tensor_util = pytest.importorskip("tensorboard.util.tensor_util")


def _read(run_dir):
    acc = ea.EventAccumulator(str(run_dir), size_guidance={ea.TENSORS: 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        out[tag] = [(e.step, e.tensor_proto) for e in acc.Tensors(tag)]
    return out


def _scalars(run, tag):
    return [(step, float(tensor_util.make_ndarray(t))) for step, t in run[tag]]


def _f32(values):
    return [float(np.float32(v)) for v in values]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("tb")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 4)).astype("float32")
    model = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(4, name="d1"),
                             kiln.layers.Dense(4, name="d2")], name="seq")
    model.compile(kiln.optimizers.SGD(0.05), "mse", metrics=["mae"])
    cb = kiln.callbacks.TensorBoard(log_dir, histogram_freq=1, update_freq=1)
    history = model.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), verbose=0,
                        callbacks=[cb])
    return model, history.history, _read(log_dir / "train"), _read(log_dir / "validation")


def test_runs_and_tags_are_keras_names(fitted):
    model, _, train, val = fitted
    weights = [f"{w.path}/histogram" for layer in model.layers for w in layer.weights]
    assert weights == ["seq/d1/kernel/histogram", "seq/d1/bias/histogram",
                       "seq/d2/kernel/histogram", "seq/d2/bias/histogram"]
    assert set(train) == {"keras", "batch_loss", "batch_mae", "epoch_loss", "epoch_mae",
                          "epoch_learning_rate", *weights}
    assert set(val) == {"epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations",
                        "evaluation_mae_vs_iterations"}


def test_epoch_scalars_equal_history(fitted):
    _, history, train, val = fitted
    for name in ("loss", "mae"):
        assert _scalars(train, f"epoch_{name}") == list(zip([0, 1], _f32(history[name])))
        assert _scalars(val, f"epoch_{name}") == list(zip([0, 1], _f32(history[f"val_{name}"])))
        # After each validation run, at step optimizer.iterations (2 batches per epoch).
        assert _scalars(val, f"evaluation_{name}_vs_iterations") == list(
            zip([2, 4], _f32(history[f"val_{name}"])))
    assert _scalars(train, "epoch_learning_rate") == [(0, _f32([0.05])[0]), (1, _f32([0.05])[0])]


def test_batch_scalars_every_batch(fitted):
    _, history, train, _ = fitted
    steps = [s for s, _ in _scalars(train, "batch_loss")]
    assert steps == [1, 2, 3, 4]
    # The running mean at each epoch's last batch is the epoch's value.
    batch = dict(_scalars(train, "batch_loss"))
    assert [batch[2], batch[4]] == _f32(history["loss"])


def test_histograms_of_final_weights(fitted):
    model, _, train, _ = fitted
    kernel = np.asarray(model.layers[0].weights[0].numpy())
    (step0, _), (step1, proto) = train["seq/d1/kernel/histogram"]
    assert (step0, step1) == (0, 1)
    buckets = tensor_util.make_ndarray(proto)  # rows: (left edge, right edge, count)
    assert buckets.shape == (30, 3)  # tf.summary.histogram's default bucket count
    assert buckets[:, 2].sum() == kernel.size
    np.testing.assert_allclose([buckets[0, 0], buckets[-1, 1]], [kernel.min(), kernel.max()],
                               rtol=1e-6)


def test_model_config_written_for_the_graph_plugin(fitted):
    model, _, train, _ = fitted
    (step, proto), = train["keras"]
    assert step == 0 and tensor_util.make_ndarray(proto).item().decode() == model.to_json()


def test_update_freq_epoch_reads_no_batch_logs_and_int_freq_skips(fitted, tmp_path):
    model = fitted[0]
    epoch_cb = kiln.callbacks.TensorBoard(tmp_path / "a", write_graph=False)
    assert not _overrides(epoch_cb, "on_train_batch_end")
    cb = kiln.callbacks.TensorBoard(tmp_path / "b", update_freq=2, write_graph=False)
    assert _overrides(cb, "on_train_batch_end")
    cb.set_model(model)
    cb.on_train_begin()
    for batch in range(5):
        cb.on_train_batch_begin(batch)
        cb.on_train_batch_end(batch, {"loss": float(batch)})
    cb.on_train_end()
    assert _scalars(_read(tmp_path / "b" / "train"), "batch_loss") == [(2, 1.0), (4, 3.0)]
    assert not os.path.exists(tmp_path / "a")  # writers are created on first use, as Keras


@pytest.mark.parametrize("option", [{"embeddings_freq": 1},
                                    {"embeddings_metadata": "meta.tsv"},
                                    {"write_images": True}])
def test_unsupported_options_warn(option, tmp_path):
    with pytest.warns(UserWarning, match="kiln does not"):
        kiln.callbacks.TensorBoard(tmp_path, **option)


def test_profile_batch_traces_with_jax_profiler(fitted, tmp_path):
    model = fitted[0]
    x = np.ones((12, 4), "float32")
    cb = kiln.callbacks.TensorBoard(tmp_path, profile_batch="2,3", write_graph=False)
    assert (cb._start_batch, cb._stop_batch) == (2, 3)
    model.fit(x, x, batch_size=4, epochs=1, verbose=0, callbacks=[cb])
    assert not cb._is_tracing
    traces = [f for _, _, files in os.walk(tmp_path / "train" / "plugins" / "profile")
              for f in files if f.endswith(".xplane.pb")]
    assert len(traces) == 1
    for bad in (-1, (3, 2), "a,b", (1, 2, 3)):
        with pytest.raises(ValueError, match="profile_batch"):
            kiln.callbacks.TensorBoard(tmp_path, profile_batch=bad)


def test_bad_update_freq_and_missing_tensorboard(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        kiln.callbacks.TensorBoard(tmp_path, update_freq="sometimes")
    monkeypatch.setattr(_tensorboard, "_tb", lambda: None)
    with pytest.raises(ImportError, match=r'pip install "kiln\[tensorboard\]"'):
        kiln.callbacks.TensorBoard(tmp_path)


# -- model_to_dot / plot_model ------------------------------------------------------------

def _graph(K):
    # One kernel shape throughout: each new shape costs a first-time XLA compile.
    x = K.Input((4,), name="x")
    a = K.layers.Dense(4, activation="relu", name="a")(x)
    b = K.layers.Dense(4, name="b")(x)
    o = K.layers.Dense(4, name="out")(K.layers.Add(name="add")([a, b]))
    inner = K.Model(x, o, name="inner")
    z = K.Input((4,), name="z")
    outer = K.Model(z, K.layers.Dense(4, name="head")(inner(z)), name="outer")
    seq = K.Sequential([K.Input((4,)), K.layers.Dense(4, name="s1"),
                        K.layers.Dense(4, name="s2", trainable=False)], name="seq")
    return inner, outer, seq


def _describe(dot):
    """Labels and edges by layer name (node ids are id(layer), different per process)."""
    labels, edges, clusters = {}, [], []

    def walk(graph):
        for node in graph.get_nodes():
            if node.get("label"):
                labels[node.get_name()] = node.get("label")
        edges.extend((e.get_source(), e.get_destination()) for e in graph.get_edges())
        for sub in graph.get_subgraphs():
            clusters.append(sub.get_name())
            walk(sub)

    walk(dot)
    name = {k: v.split("<b>")[1].split("</b>")[0] for k, v in labels.items()}
    return (sorted(labels.values()), sorted((name[s], name[d]) for s, d in edges), clusters,
            dot.obj_dict["attributes"])


@pytest.mark.parametrize("opts", [{}, {"expand_nested": True, "show_shapes": True,
                                       "show_dtype": True, "show_layer_activations": True,
                                       "show_trainable": True, "rankdir": "LR"}])
def test_model_to_dot_matches_keras(opts):
    pytest.importorskip("pydot")
    for ours, theirs in zip(_graph(kiln), _graph(keras)):
        assert _describe(kiln.utils.model_to_dot(ours, **opts)) == _describe(
            keras.utils.model_to_dot(theirs, **opts))


def test_model_to_dot_structure():
    pytest.importorskip("pydot")
    inner = _graph(kiln)[0]
    dot = kiln.utils.model_to_dot(inner)
    ids = {str(id(layer)): layer.name for layer in inner.layers}
    assert sorted(ids[n.get_name()] for n in dot.get_nodes() if n.get_name() in ids) == [
        "a", "add", "b", "out", "x"]
    assert sorted((ids[e.get_source()], ids[e.get_destination()]) for e in dot.get_edges()) == [
        ("a", "add"), ("add", "out"), ("b", "add"), ("x", "a"), ("x", "b")]


def test_plot_model_writes_png_or_names_the_fix(tmp_path, monkeypatch):
    pytest.importorskip("pydot")
    inner = _graph(kiln)[0]
    path = tmp_path / "model.png"
    if shutil.which("dot") is None:
        with pytest.raises(ImportError, match="Graphviz"):
            kiln.utils.plot_model(inner, to_file=path)
    else:
        kiln.utils.plot_model(inner, to_file=path, show_shapes=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr(_plot, "pydot", None)
    with pytest.raises(ImportError, match=r'kiln\[plot\]'):
        kiln.utils.plot_model(inner, to_file=path)


# -- plot_history -------------------------------------------------------------------------

def test_plot_history_curves_equal_history(fitted, tmp_path):
    pytest.importorskip("matplotlib")
    history = fitted[1]
    path = tmp_path / "history.png"
    fig = kiln.utils.plot_history(history, to_file=path)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    for ax, name in zip(fig.axes, ("loss", "mae")):
        lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        assert lines == {name: history[name], f"val_{name}": history[f"val_{name}"]}
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="accuracy"):
        kiln.utils.plot_history(history, metrics=["accuracy"])
