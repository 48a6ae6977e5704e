"""A layer's own files (`save_assets` / `load_assets`, Keras's saving-guide hook) travel in the
`.keras` archive as `assets/<layer path>/<file>`, both ways between kiln and Keras; asset names
that would leave the folder are refused; redefining a registered class (a re-run notebook
cell) replaces it, as in Keras."""

import os
import zipfile

import keras
import numpy as np
import pytest

import kiln
from kiln.saving import _assets


def _vocab_layer(lib):
    @lib.saving.register_keras_serializable(package="assets_parity")
    class Vocab(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.vocab = ["a", "b"]

        def call(self, x):
            return x

        def save_assets(self, dir_path):
            os.makedirs(os.path.join(dir_path, "sub"))
            with open(os.path.join(dir_path, "vocabulary.txt"), "w") as f:
                f.write("\n".join(self.vocab))
            with open(os.path.join(dir_path, "sub", "extra.bin"), "wb") as f:
                f.write(b"\x00\x01")

        def load_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocabulary.txt")) as f:
                self.vocab = f.read().split("\n")
            with open(os.path.join(dir_path, "sub", "extra.bin"), "rb") as f:
                assert f.read() == b"\x00\x01"
    return Vocab


CLASSES = {"keras": _vocab_layer(keras), "kiln": _vocab_layer(kiln)}


@pytest.mark.parametrize("writer", [keras, kiln], ids=["keras-writes", "kiln-writes"])
def test_assets_round_trip_both_ways(writer, tmp_path):
    model = writer.Sequential([writer.Input((2,)), CLASSES[writer.__name__](name="v"),
                               writer.layers.Dense(1)])
    model.layers[0].vocab = ["x", "y", "z"]
    path = tmp_path / "m.keras"
    model.save(path)
    names = zipfile.ZipFile(path).namelist()
    assert "assets/layers/vocab/vocabulary.txt" in names
    assert "assets/layers/vocab/sub/extra.bin" in names
    for reader in (keras, kiln):
        assert reader.saving.load_model(path).layers[0].vocab == ["x", "y", "z"]
    x = np.ones((1, 2), "float32")
    np.testing.assert_allclose(kiln.saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_asset_names_cannot_leave_the_folder():
    model = kiln.Sequential([kiln.Input((2,)), CLASSES["kiln"](name="v")])
    with pytest.raises(ValueError, match="asset"):
        _assets.restore(model, {"assets/layers/vocab/../../evil.txt": b"x"})
    with pytest.raises(ValueError, match="asset"):
        _assets.restore(model, {"assets/layers/vocab/a\\b": b"x"})


def test_redefining_a_registered_class_replaces_it():
    classes = []
    for _ in range(2):
        @kiln.saving.register_keras_serializable(package="assets_parity_redefined")
        class Again(kiln.layers.Layer):
            pass
        classes.append(Again)
    assert kiln.saving.get_registered_object("assets_parity_redefined>Again") is classes[1]

    class Other(kiln.layers.Layer):
        pass
    Other.__name__ = "Again"
    with pytest.raises(ValueError, match="already registered"):
        kiln.saving.register_keras_serializable(package="assets_parity_redefined")(Other)
