"""Data placement: CPU arrays are shared with XLA rather than copied, and gather like NumPy."""

import jax
import numpy as np
import pytest

import kiln
from kiln.training import _data

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU sharing only")


def _rows(view, idx):
    return np.asarray(jax.jit(lambda v, i: v[i])(view, np.asarray(idx, np.int32)))


@cpu_only
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8, np.float16])
@pytest.mark.parametrize("start", [0, 1, 3])
def test_shared_rows_gather_like_numpy_without_a_copy(dtype, start):
    rng = np.random.default_rng(0)
    base = (rng.random((1200, 7, 33)) * 200).astype(dtype)
    a = base[start:]  # views that start at various offsets from a 64-byte boundary
    view = _data.to_device(a)
    idx = [0, 5, len(a) - 1, 17, 5]
    got = _rows(view, idx) if isinstance(view, _data.SharedRows) else np.asarray(view)[idx]
    np.testing.assert_array_equal(got, a[idx])
    if isinstance(view, _data.SharedRows):
        ptr = view.flat.unsafe_buffer_pointer()
        assert a.ctypes.data - 64 < ptr <= a.ctypes.data  # the same memory: no copy
        assert view.offset * a.itemsize == a.ctypes.data - ptr


@cpu_only
def test_large_float32_arrays_are_shared():
    a = np.ones((4096, 100), np.float32)
    assert isinstance(_data.to_device(a), _data.SharedRows)
    assert isinstance(_data.to_device({"a": a, "b": [a]})["b"][0], _data.SharedRows)


@cpu_only
def test_small_strided_or_converted_arrays_are_copied():
    small = np.ones((10, 3), np.float32)
    strided = np.ones((4096, 200), np.float32)[:, ::2]
    wide = np.ones((4096, 100), np.float64)  # becomes float32 on the device (x64 off)
    for a in (small, strided, wide):
        out = _data.to_device(a)
        assert isinstance(out, jax.Array)
        np.testing.assert_array_equal(np.asarray(out), a.astype(out.dtype))


@cpu_only
def test_fit_on_shared_data_matches_fit_on_a_copy():
    """Training reads the same samples whether the arrays are shared or copied."""
    rng = np.random.default_rng(1)
    x = rng.random((3000, 100)).astype(np.float32)[1:]  # 16 bytes off a 64-byte boundary
    y = rng.integers(0, 3, len(x))
    assert isinstance(_data.to_device(x), _data.SharedRows)

    def train(data):
        kiln.utils.set_random_seed(3)
        m = kiln.Sequential([kiln.Input((100,)), kiln.layers.Dense(3, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = m.fit(data, y, batch_size=64, epochs=2, verbose=0)
        return h.history["loss"], m.predict(data, verbose=0)

    shared_loss, shared_pred = train(x)
    limit = _data._SHARE_MIN_BYTES
    try:
        _data._SHARE_MIN_BYTES = 1 << 62  # nothing is shared: every array is copied
        copied_loss, copied_pred = train(x)
    finally:
        _data._SHARE_MIN_BYTES = limit
    np.testing.assert_allclose(shared_loss, copied_loss, rtol=1e-6)
    np.testing.assert_allclose(shared_pred, copied_pred, rtol=1e-6)


@cpu_only
def test_shared_arrays_do_not_count_against_the_device_limit(monkeypatch):
    big = np.ones((4096, 100), np.float32)
    small = np.ones((4096,), np.int32)  # 16 KiB: copied
    monkeypatch.setattr(_data, "DEVICE_DATA_LIMIT_BYTES", small.nbytes)
    plan = _data.ArrayPlan((big, small, None), 32, False, None, seed=0)
    assert plan.on_device and isinstance(plan.data[0], _data.SharedRows)
    monkeypatch.setattr(_data, "DEVICE_DATA_LIMIT_BYTES", small.nbytes - 1)
    assert not _data.ArrayPlan((big, small, None), 32, False, None, seed=0).on_device


@cpu_only
def test_streamed_calls_are_staged_in_page_aligned_memory_xla_shares(monkeypatch):
    """Off-device data is gathered per call into a fresh mapping (returned to the system when
    freed, unlike glibc's heap) that XLA takes without a second copy."""
    big = _data._fresh((64, 1024, 8), np.float32)
    assert big.ctypes.data % 4096 == 0 and big.flags.writeable
    rng = np.random.default_rng(2)
    x = rng.random((4096, 100)).astype(np.float32)
    y = rng.integers(0, 3, 4096).astype(np.int32)
    monkeypatch.setattr(_data, "DEVICE_DATA_LIMIT_BYTES", 0)
    monkeypatch.setattr(_data, "_share", lambda a: None)
    plan = _data.ArrayPlan((x, y, None), 1024, True, None, seed=0)
    assert not plan.on_device
    (kk, (bx, by, _), idx), *_ = plan.epoch(4)
    assert kk == 4 and idx is None and bx.shape == (4, 1024, 100)
    assert bx.unsafe_buffer_pointer() % 4096 == 0  # the staging buffer itself: no copy
    perm = np.random.default_rng(0).permutation(4096)  # the plan's first epoch order
    np.testing.assert_array_equal(np.asarray(bx), x[perm].reshape(4, 1024, 100))
    np.testing.assert_array_equal(np.asarray(by), y[perm].reshape(4, 1024))


def test_validation_split_takes_views_not_copies():
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10, dtype=np.int32)
    (tx, ty, tsw), (vx, vy, vsw) = _data.split_validation(x, y, None, 0.3)
    np.testing.assert_array_equal(tx, x[:7])
    np.testing.assert_array_equal(vy, y[7:])
    assert tsw is None and vsw is None
    assert all(np.shares_memory(part, whole) for part, whole in
               ((tx, x), (vx, x), (ty, y), (vy, y)))
