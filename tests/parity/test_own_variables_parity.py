"""A layer's own `save_own_variables` / `load_own_variables` (Keras's saving guide pattern:
extra state stored beside the weights), honoured on save and load, with files that load both
ways between kiln and Keras; the defaults write and read `vars/0`, `vars/1`, ... as before."""

import io
import zipfile

import h5py
import keras
import numpy as np
import pytest

import kiln


def _custom_layer(lib):
    @lib.saving.register_keras_serializable(package="own_vars_parity")
    class WithExtraState(lib.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.extra = lib.Variable(np.zeros(units, "float32"), name="extra",
                                      trainable=False)

        def build(self, shape):
            self.kernel = self.add_weight(shape=(shape[-1], self.units), name="kernel")

        def call(self, x):
            return lib.ops.matmul(x, self.kernel) + self.extra

        def save_own_variables(self, store):
            store["kernel_values"] = np.asarray(self.kernel.numpy())
            store["extra_state"] = np.asarray(self.extra.numpy())

        def load_own_variables(self, store):
            self.kernel.assign(store["kernel_values"])
            self.extra.assign(store["extra_state"])

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    return WithExtraState


CLASSES = {"keras": _custom_layer(keras), "kiln": _custom_layer(kiln)}


def _model(lib):
    layer = CLASSES[lib.__name__](4, name="extra_layer")
    model = lib.Sequential([lib.Input((3,)), layer])
    layer.extra.assign(np.arange(4, dtype="float32"))
    return model


@pytest.mark.parametrize("writer", [keras, kiln], ids=["keras-writes", "kiln-writes"])
def test_own_variables_round_trip_both_ways(writer, tmp_path):
    model = _model(writer)
    path = tmp_path / "m.keras"
    model.save(path)
    x = np.ones((2, 3), "float32")
    want = np.asarray(model.predict(x, verbose=0))
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
        names = []
        f.visit(names.append)
    # Keras's layout: the group is named after the class, the datasets after the store keys
    assert "layers/with_extra_state/vars/extra_state" in names
    assert "layers/with_extra_state/vars/kernel_values" in names
    for reader in (keras, kiln):
        got = np.asarray(reader.saving.load_model(path).predict(x, verbose=0))
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_defaults_write_numbered_variables_and_check_the_count():
    layer = kiln.layers.Dense(2)
    layer.build((None, 3))
    store = {}
    layer.save_own_variables(store)
    assert list(store) == ["0", "1"]
    fresh = kiln.layers.Dense(2)
    fresh.build((None, 3))
    fresh.load_own_variables(store)
    np.testing.assert_array_equal(fresh.kernel.numpy(), layer.kernel.numpy())
    with pytest.raises(ValueError, match="expected 2 variables"):
        fresh.load_own_variables({"0": store["0"]})
