"""kiln.constraints equal Keras's, alone and applied after each update inside fit."""

import keras
import numpy as np
import pytest

import kiln

CASES = [("MaxNorm", {"max_value": 0.5}), ("MaxNorm", {"max_value": 2.0, "axis": 1}),
         ("MinMaxNorm", {"min_value": 0.5, "max_value": 0.8, "rate": 0.7}),
         ("NonNeg", {}), ("UnitNorm", {}), ("UnitNorm", {"axis": 1})]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_constraint_values_match_keras(name, kwargs):
    w = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    ours = getattr(kiln.constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    np.testing.assert_allclose(ours(w), theirs(w), rtol=1e-6, atol=1e-7)
    assert kiln.constraints.get(kiln.constraints.serialize(ours)).get_config() == ours.get_config()


def test_names_resolve_and_unknown_names_suggest():
    assert isinstance(kiln.constraints.get("non_neg"), kiln.constraints.NonNeg)
    assert isinstance(kiln.constraints.get("MaxNorm"), kiln.constraints.MaxNorm)
    with pytest.raises(ValueError, match="max_norm"):
        kiln.constraints.get("max_nrom")


def test_constraint_in_fit_matches_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1))).astype("float32")

    def model(lib):
        return lib.Sequential([lib.Input((4,)),
                               lib.layers.Dense(3, kernel_constraint=lib.constraints.MaxNorm(0.5),
                                                bias_constraint="non_neg"),
                               lib.layers.Dense(1)])

    km, nm = model(keras), model(kiln)
    nm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    nm.compile(optimizer=kiln.optimizers.SGD(0.1), loss="mse")
    kh = km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    nh = nm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=2e-4)
    for a, b in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert np.linalg.norm(nm.get_weights()[0], axis=0).max() <= 0.5 + 1e-5
