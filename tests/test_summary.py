"""model.summary(): the same table as Keras 3 for the same architecture (names given explicitly)."""

import io
import sys

import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kiln
from kiln.models._summary import _column_widths, print_summary, readable_memory_size


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    # Both libraries size the default table from the terminal; fix it so they agree (and so
    # that rich, behind Keras, does not crop the captured lines).
    monkeypatch.setenv("COLUMNS", "200")


def _text(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    assert len(out) == 1  # Keras 3 calls print_fn once with the whole text
    return out[0]


def _kiln_text(model, **kwargs):
    out = []
    print_summary(model, print_fn=out.append, **kwargs)
    return out[0]


# -- custom layers written once for each library ---------------------------------------------------

def _kiln_concat():
    class Concatenate(kiln.layers.Layer):
        def call(self, xs):
            return jnp.concatenate(xs, axis=-1)
    return Concatenate


def _kiln_batchnorm():
    # Same weights as Keras's BatchNormalization: gamma, beta trainable; mean, variance not.
    class BatchNormalization(kiln.layers.Layer):
        def build(self, shape):
            n = (shape[-1],)
            self.gamma = self.add_weight(shape=n, initializer="ones")
            self.beta = self.add_weight(shape=n, initializer="zeros")
            self.mean = self.add_weight(shape=n, initializer="zeros", trainable=False)
            self.var = self.add_weight(shape=n, initializer="ones", trainable=False)

        def call(self, x):
            return x * self.gamma + self.beta
    return BatchNormalization


def _split_layer(lib):
    class Split(lib.layers.Layer):
        def call(self, x):
            return [x[:, :1], x[:, 1:]]
    return Split


# -- architectures: (kiln model, keras model) -----------------------------------------------------

def _sequential(lib, **_):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="hidden"),
                           lib.layers.Dense(2, activation="softmax", name="probs")], name="seq")


def _long_names(lib, **_):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="dense_a"),
                           lib.layers.Dense(1000, name="a_very_long_layer_name_that_goes_on_and_on")],
                          name="long")


def _functional(lib, **_):
    x = lib.Input((3,), name="x")
    h = lib.layers.Dense(4, name="d1")(x)
    return lib.Model(x, lib.layers.Dense(1, name="y")(h), name="func")


def _two_inputs(lib, concat, **_):
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    h = lib.layers.Dense(4, name="da")(a)
    g = lib.layers.Dense(4, name="db")(b)
    c = concat(name="cat")([h, g])
    return lib.Model([a, b], lib.layers.Dense(1, name="out")(c), name="two")


def _shared(lib, **_):
    x = lib.Input((3,), name="x")
    p = lib.layers.Dense(3, name="p")
    return lib.Model(x, p(p(x)), name="shared")


def _two_outputs(lib, **_):
    x = lib.Input((3,), name="x")
    y1 = lib.layers.Dense(2, name="y1")(x)
    return lib.Model(x, [y1, lib.layers.Dense(2, name="y2")(y1)], name="twoout")


def _unbuilt(lib, **_):
    return lib.Sequential([lib.layers.Dense(3, name="lazy")], name="unbuilt")


def _nested(lib, **_):
    x = lib.Input((3,), name="x")
    inner = lib.Sequential([lib.layers.Dense(2, name="i1"), lib.layers.Dense(5, name="i2")],
                           name="inner")
    return lib.Model(x, inner(x), name="nest")


def _non_trainable(lib, batchnorm, **_):
    model = lib.Sequential([lib.Input((5,)), batchnorm(name="bn"),
                            lib.layers.Dense(100000, name="wide")], name="bnmodel")
    model.layers[1].trainable = False
    return model


def _multi_output_layer(lib, split, **_):
    x = lib.Input((3,), name="x")
    first, rest = split(name="split")(x)
    return lib.Model(x, lib.layers.Dense(1, name="head")(rest), name="multi")


ARCHITECTURES = [_sequential, _long_names, _functional, _two_inputs, _shared, _two_outputs,
                 _unbuilt, _nested, _non_trainable, _multi_output_layer]


def _pair(build):
    ours = build(kiln, concat=_kiln_concat(), batchnorm=_kiln_batchnorm(),
                 split=_split_layer(kiln))
    theirs = build(keras, concat=keras.layers.Concatenate,
                   batchnorm=keras.layers.BatchNormalization, split=_split_layer(keras))
    return ours, theirs


@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__.strip("_"))
def test_summary_matches_keras(build):
    ours, theirs = _pair(build)
    assert _text(ours) == _text(theirs)


@pytest.mark.parametrize("kwargs", [
    {"line_length": 40}, {"line_length": 60}, {"line_length": 100}, {"show_trainable": True},
    {"expand_nested": True}, {"positions": [0.5, 0.7, 1.0]},
    {"layer_range": ["i1", "i2"], "expand_nested": False},
], ids=str)
def test_summary_options_match_keras(kwargs):
    ours, theirs = _pair(_nested)
    if "layer_range" in kwargs:
        ours, theirs = ours.layers[1], theirs.layers[1]  # the inner Sequential
    assert _kiln_text(ours, **kwargs) == _text(theirs, **kwargs)


def test_show_trainable_on_frozen_layer_matches_keras():
    ours, theirs = _pair(_non_trainable)
    assert _kiln_text(ours, show_trainable=True) == _text(theirs, show_trainable=True)


def test_optimizer_params_after_fit_match_keras():
    x, y = np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    texts = []
    for lib in (kiln, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="opt")
        model.compile(optimizer=lib.optimizers.SGD(momentum=0.9), loss="mse")
        before = _text(model)
        assert "Optimizer params" not in before  # the optimizer is not built before fit
        model.fit(x, y, verbose=0)
        texts.append(_text(model))
    assert "Optimizer params" in texts[0]
    assert texts[0] == texts[1]


def test_summary_prints_to_stdout(capsys):
    model = _sequential(kiln)
    model.summary(line_length=70)
    out = capsys.readouterr().out
    assert out.startswith('Model: "seq"\n┏')
    assert out.endswith(" Non-trainable params: 0 (0.00 B)\n")
    assert all(len(line) == 70 for line in out.splitlines()[1:-3])


def test_plain_table_when_stdout_cannot_encode_box_characters(monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    _sequential(kiln).summary(line_length=60)
    stream.seek(0)
    text = stream.read()
    lines = text.splitlines()
    assert lines[1] == "+" + "-" * 26 + "+" + "-" * 19 + "+" + "-" * 11 + "+"
    assert lines[3].startswith("+====")
    assert "| hidden (Dense)           | (None, 3)         |        15 |" in lines


def test_column_widths_follow_rich_reduction():
    # 76 columns, positions (0.45, 0.8, 1): Keras's default table on an 80-column terminal.
    assert _column_widths(76, [0.45, 0.80, 1.0]) == [33, 24, 15]
    assert _column_widths(76, [0.3, 0.56, 0.74, 1.0]) == [21, 19, 12, 19]
    with pytest.raises(ValueError, match="too narrow"):
        _column_widths(8, [0.45, 0.80, 1.0])


@pytest.mark.parametrize("size,text", [
    (0, "0.00 B"), (260, "260.00 B"), (1023, "1023.00 B"), (1260, "1.23 KB"),
    (4.56 * 1024**2, "4.56 MB"), (3 * 1024**3, "3.00 GB"),
])
def test_readable_memory_size(size, text):
    assert readable_memory_size(size) == text


def test_bad_layer_range_says_which_layers_exist():
    with pytest.raises(ValueError, match="hidden"):
        print_summary(_sequential(kiln), layer_range=["nope", "probs"], print_fn=lambda s: None)
