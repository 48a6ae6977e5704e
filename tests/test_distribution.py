"""kiln.distribution: the pure API in-process (one CPU device), training over an 8-device
CPU mesh in one subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from kiln import distribution as dist


@pytest.fixture
def mesh():
    return dist.DeviceMesh((1,), ["batch"], devices=["cpu:0"])


def test_devices():
    assert dist.list_devices("cpu")[0] == "cpu:0"
    assert dist.get_device_count("cpu") == len(jax.devices("cpu"))


def test_mesh_validation():
    with pytest.raises(ValueError, match="same length"):
        dist.DeviceMesh((1,), ["a", "b"], devices=["cpu:0"])
    with pytest.raises(ValueError, match="holds 2 devices but 1"):
        dist.DeviceMesh((2,), ["a"], devices=["cpu:0"])
    with pytest.raises(ValueError, match="non-empty"):
        dist.DeviceMesh((), [], devices=["cpu:0"])
    with pytest.raises(ValueError, match="Unknown device"):
        dist.DeviceMesh((1,), ["a"], devices=["cpu:99"]).backend_mesh


def test_tensor_layout(mesh):
    layout = dist.TensorLayout(("batch", None), mesh)
    sharding = layout.backend_layout
    assert isinstance(sharding, jax.sharding.NamedSharding)
    assert sharding.spec == jax.sharding.PartitionSpec("batch", None)
    with pytest.raises(ValueError, match="does not have"):
        dist.TensorLayout(("model",), mesh)
    with pytest.raises(ValueError, match="no device mesh"):
        dist.TensorLayout((None,)).backend_layout


def test_layout_map_rules(mesh):
    lm = dist.LayoutMap(mesh)
    lm["d1/kernel"] = ("batch", None)
    lm[".*kernel"] = (None, "batch")
    lm[".*bias"] = dist.TensorLayout((None,))
    assert lm["d1/kernel"].axes == ("batch", None)  # exact key first
    assert lm["d2/kernel"].axes == (None, "batch")  # then the one fullmatching pattern
    assert lm["d2/bias"].device_mesh is mesh  # the map fills in its mesh
    assert lm["d2/kernel_x"] is None and lm.get("nothing") is None  # fullmatch, not search
    lm["d2/.*"] = (None, None)
    with pytest.raises(ValueError, match="several LayoutMap keys"):
        lm["d2/kernel"]
    with pytest.raises(ValueError, match="already in the LayoutMap"):
        lm["d1/kernel"] = (None, None)
    with pytest.raises(ValueError, match="TensorLayout or a tuple"):
        lm["x"] = ["batch"]
    del lm["d2/.*"]
    assert len(lm) == 3 and list(lm) == ["d1/kernel", ".*kernel", ".*bias"]


class _Var:
    def __init__(self, path, shape):
        self.path, self.shape = path, shape


def test_data_parallel_layouts(mesh):
    dp = dist.DataParallel(devices=["cpu:0"])
    assert dp.batch_dim_name == "batch" and dp.num_model_replicas == 1
    assert dp.get_data_layout((4, 3)).axes == ("batch", None)
    assert dp.get_variable_layout(_Var("d/kernel", (3, 2))).axes == (None, None)
    assert dp.get_tensor_layout("d/kernel") is None
    assert dist.DataParallel(device_mesh=mesh).device_mesh is mesh
    with pytest.raises(ValueError, match="DeviceMesh"):
        dist.DataParallel(device_mesh="mesh")


def test_model_parallel_layouts():
    mesh = dist.DeviceMesh((1, 1), ["data", "model"], devices=["cpu:0"])
    lm = dist.LayoutMap(mesh)
    lm[".*kernel"] = (None, "model")
    mp = dist.ModelParallel(layout_map=lm)
    assert mp.batch_dim_name == "data" and mp.num_model_replicas == 1
    assert mp.get_variable_layout(_Var("d/kernel", (3, 2))).axes == (None, "model")
    assert mp.get_variable_layout(_Var("d/bias", (2,))).axes == (None,)
    assert mp.get_tensor_layout("d/kernel").axes == (None, "model")
    assert dist.ModelParallel(layout_map=lm, batch_dim_name="model").batch_dim_name == "model"
    with pytest.raises(ValueError, match="layout_map"):
        dist.ModelParallel()
    with pytest.raises(ValueError, match="not an axis"):
        dist.ModelParallel(layout_map=lm, batch_dim_name="nope")


def test_global_distribution_and_scope():
    dp = dist.DataParallel(devices=["cpu:0"])
    assert dist.distribution() is None
    with dp.scope():
        assert dist.distribution() is dp
    assert dist.distribution() is None
    with pytest.raises(ValueError, match="Distribution or None"):
        dist.set_distribution("dp")


def test_distribute_tensor(mesh):
    layout = dist.TensorLayout(("batch",), mesh)
    out = dist.distribute_tensor(np.arange(4.0), layout)
    assert out.sharding == layout.backend_layout
    traced = jax.jit(lambda a: dist.distribute_tensor(a * 2, layout))(np.arange(4.0))
    np.testing.assert_array_equal(traced, np.arange(4.0) * 2)


_SCRIPT = textwrap.dedent("""
    import numpy as np, jax
    import kiln as keras
    from kiln import distribution as dist
    assert jax.device_count() == 8

    def make():
        keras.utils.set_random_seed(1)
        m = keras.Sequential([keras.Input((6,)),
                              keras.layers.Dense(8, activation="relu", name="hidden"),
                              keras.layers.Dense(2, name="out")])
        m.compile(optimizer="adam", loss="mse", metrics=["mae"])
        return m

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    fit = dict(batch_size=16, epochs=3, verbose=0, shuffle=False)
    one = make()
    h1 = one.fit(x, y, **fit).history

    # DataParallel == one device.
    dist.set_distribution(dist.DataParallel())
    dp = make()
    h2 = dp.fit(x, y, **fit).history
    for k in h1:
        np.testing.assert_allclose(h1[k], h2[k], rtol=1e-5)
    for a, b in zip(one.get_weights(), dp.get_weights()):
        assert type(b) is np.ndarray
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    sh = dp.trainable_weights[0].value.sharding
    assert len(sh.device_set) == 8 and sh.is_fully_replicated, sh
    np.testing.assert_allclose(dp.evaluate(x, y, batch_size=16, verbose=0),
                               one.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(dp.predict(x, batch_size=16, verbose=0),
                               one.predict(x, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6)

    # An indivisible batch size: a clear error before any step; the model stays usable.
    before = dp.get_weights()
    try:
        dp.fit(x, y, batch_size=12, epochs=1, verbose=0)
        raise AssertionError("no error for batch_size=12 on 8 devices")
    except ValueError as e:
        msg = str(e)
        assert "batch_size=12" in msg and "8 devices" in msg and "divisible by 8" in msg, msg
    for a, b in zip(before, dp.get_weights()):
        np.testing.assert_array_equal(a, b)
    for call in (dp.evaluate, lambda x, y, **kw: dp.predict(x, **kw)):
        try:
            call(x, y, batch_size=12, verbose=0)
            raise AssertionError("no error for batch_size=12 on 8 devices")
        except ValueError as e:
            assert "batch_size=12" in str(e) and "divisible by 8" in str(e), str(e)
    dp.fit(x, y, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_allclose(dp.evaluate(x, y, batch_size=16, verbose=0),
                               dp.evaluate(x, y, batch_size=64, verbose=0), rtol=1e-5)

    # ModelParallel: the hidden kernel and its Adam slots split over "model".
    mesh = dist.DeviceMesh((2, 4), ["batch", "model"])
    lm = dist.LayoutMap(mesh)
    lm[".*hidden/kernel"] = (None, "model")
    dist.set_distribution(dist.ModelParallel(layout_map=lm))
    mp = make()
    h3 = mp.fit(x, y, **fit).history
    np.testing.assert_allclose(h1["loss"], h3["loss"], rtol=1e-5)
    kernel = mp.get_layer("hidden").kernel
    shapes = {s.data.shape for s in kernel.value.addressable_shards}
    assert shapes == {(6, 2)}, shapes
    for name in ("momentum", "velocity"):
        slot = mp.optimizer.state.slots[name][kernel.path]
        assert {s.data.shape for s in slot.addressable_shards} == {(6, 2)}, name
    bias = mp.get_layer("hidden").bias.value
    assert {s.data.shape for s in bias.addressable_shards} == {(8,)}
    assert mp.get_weights()[0].shape == (6, 8)
    np.testing.assert_allclose(mp.predict(x, batch_size=16, verbose=0),
                               one.predict(x, batch_size=16, verbose=0), rtol=1e-4, atol=1e-5)
    dist.set_distribution(None)
    print("OK")
""")


def test_training_on_8_cpu_devices():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
           "JAX_PLATFORMS": "cpu", "KERAS_BACKEND": "jax"}
    res = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and "OK" in res.stdout, res.stdout + res.stderr[-4000:]
