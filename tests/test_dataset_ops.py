"""tf.data's chainable methods on the datasets Keras returns as tf.data.Dataset (take, skip,
map, batch, unbatch, shuffle, cache, prefetch, repeat, cardinality, `.numpy()` elements), and
`fit` / `evaluate` / `predict` streaming the result. TensorFlow is not installed, so the
expectations are tf.data's documented semantics, written out here."""

import numpy as np
import pytest

import kiln
from kiln.utils._dataset_ops import Elements, HostArray


def _elements(n=5, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(n * batch * 2, dtype="float32").reshape(n * batch, 2)
    y = rng.integers(0, 2, n * batch)
    return x, y, Elements([(x[i:i + batch], y[i:i + batch]) for i in range(0, n * batch, batch)])


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    image = pytest.importorskip("PIL.Image")
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c in ("cats", "dogs"):
        (root / c).mkdir()
        for i in range(5):
            image.fromarray(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)).save(
                root / c / f"{i}.png")
    return root


def test_take_skip_map_and_numpy_elements():
    x, y, ds = _elements()
    assert len(ds.take(2)) == 2 and len(ds.skip(2)) == 3 and len(ds.take(-1)) == 5
    assert len(ds.take(9)) == 5
    first, labels = next(iter(ds.skip(1).take(1)))
    assert isinstance(first, HostArray)
    np.testing.assert_array_equal(first.numpy(), x[4:8])
    doubled = [a.numpy() for a, _ in ds.map(lambda a, b: (a * 2, b))]
    np.testing.assert_array_equal(np.concatenate(doubled), x * 2)
    single = Elements([np.ones(3)]).map(lambda a: a + 1)  # a non-tuple element: fn(element)
    np.testing.assert_array_equal(single[0], 2 * np.ones(3))
    assert int(ds.cardinality().numpy()) == 5 and int(ds.repeat().cardinality()) == -1


def test_unbatch_then_batch_regroups_the_samples():
    x, y, ds = _elements(n=3, batch=4)
    flat = ds.unbatch()
    assert len(flat) == 12
    np.testing.assert_array_equal(flat[5][0], x[5])
    assert flat[5][1] == y[5]
    rebatched = flat.batch(5)
    assert [len(a) for a, _ in rebatched] == [5, 5, 2]
    assert len(flat.batch(5, drop_remainder=True)) == 2
    np.testing.assert_array_equal(np.concatenate([b for _, b in rebatched]), y)
    nested = ds.batch(2)  # batching batches adds an axis, as tf.data does
    assert nested[0][0].shape == (2, 4, 2) and nested[1][0].shape == (1, 4, 2)


def test_shuffle_follows_the_buffer_and_reshuffles_each_epoch():
    _, _, ds = _elements(n=6, batch=1)
    firsts = lambda d: [int(a[0, 0]) for a, _ in d]  # noqa: E731
    in_order = firsts(ds)
    assert firsts(ds.shuffle(1)) == in_order  # a buffer of one keeps the order
    full = ds.shuffle(100, seed=3)
    epoch1 = firsts(full)
    assert sorted(epoch1) == sorted(in_order)
    orders = {tuple(epoch1)}
    for _ in range(5):
        full.on_epoch_end()
        orders.add(tuple(firsts(full)))
    assert len(orders) > 1
    fixed = ds.shuffle(100, seed=3, reshuffle_each_iteration=False)
    before = firsts(fixed)
    fixed.on_epoch_end()
    assert firsts(fixed) == before
    window = ds.shuffle(2, seed=0)  # element i can only come out at position >= i - 1
    assert all(pos >= in_order.index(v) - 1 for pos, v in enumerate(firsts(window)))


def test_cache_reads_each_element_once_and_prefetch_is_transparent():
    calls = []
    _, _, ds = _elements(n=3)
    counted = ds.map(lambda a, b: (calls.append(1) or a, b)).cache().prefetch(2)
    for _ in range(3):
        list(counted)
    assert len(calls) == 3
    with pytest.raises(ValueError, match="in memory"):
        ds.cache("/tmp/somewhere")
    with pytest.raises(TypeError, match="forever"):
        len(ds.repeat())
    assert len(ds.repeat(2)) == 6


def test_a_directory_pipeline_as_tutorials_write_it(image_dir):
    train = kiln.utils.image_dataset_from_directory(image_dir, image_size=(8, 8), batch_size=4,
                                                    seed=1)
    assert train.class_names == ["cats", "dogs"]
    for images, labels in train.take(1):
        assert images[0].numpy().astype("uint8").shape == (8, 8, 3)
        assert labels.numpy().shape == (4,)
    norm = kiln.layers.Rescaling(1.0 / 255)
    ds = train.map(lambda x, y: (norm(x), y)).cache().shuffle(100, seed=0).prefetch(8)
    model = kiln.Sequential([kiln.Input((8, 8, 3)), kiln.layers.Flatten(),
                             kiln.layers.Dense(2)])
    model.compile("adam", kiln.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(ds, validation_data=ds.take(1), epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    history = model.fit(ds.repeat(), steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(model.evaluate(ds.take(2), verbose=0)) == 2
    assert model.predict(ds.map(lambda x, y: x), verbose=0).shape == (10, 2)
    labels = np.concatenate([y for _, y in train.unbatch().batch(3)])
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5


def test_timeseries_dataset_chains_too():
    ds = kiln.utils.timeseries_dataset_from_array(np.arange(20), np.arange(20), 3,
                                                  batch_size=4)
    windows = ds.unbatch()
    assert len(windows) == 18
    np.testing.assert_array_equal(windows[17][0], [17, 18, 19])
    assert [len(x) for x, _ in ds.unbatch().batch(8)] == [8, 8, 2]
