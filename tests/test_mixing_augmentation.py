"""MixUp, CutMix and RandomErasing in kiln alone: the structure of every draw (convex mixes,
pasted and erased rectangles, label weights), dict and plain inputs, the training switch,
draws advancing in a compiled step, config round trip, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln.layers as L
from kiln import _scope
from kiln.layers import CutMix, MixUp, RandomErasing

X = np.random.default_rng(0).uniform(1, 254, (6, 8, 10, 3)).astype("float32")
Y = np.eye(6, dtype="float32")


def mix_partners(labels):
    """From one-hot labels mixed as `w * y + (1 - w) * y[p]`: the weights w and partners p."""
    labels = np.asarray(labels)
    own = labels[np.arange(len(labels)), np.arange(len(labels))]
    other = labels.copy()
    other[np.arange(len(labels)), np.arange(len(labels))] = 0.0
    partners = np.where(other.max(axis=1) > 0, other.argmax(axis=1), np.arange(len(labels)))
    return own, partners


def check_mixup(x, out):
    weights, partners = mix_partners(out["labels"])
    np.testing.assert_allclose(out["labels"].sum(axis=1), 1.0, atol=1e-5)
    w = weights[:, None, None, None]
    np.testing.assert_allclose(out["images"], w * x + (1 - w) * x[partners], rtol=1e-4,
                               atol=1e-3)


def rectangle(changed):
    """The (rows, cols) of a changed-pixel mask that must be a full rectangle (or empty)."""
    rows, cols = np.nonzero(changed.any(axis=1)), np.nonzero(changed.any(axis=0))
    rows, cols = rows[0], cols[0]
    if rows.size:
        assert changed[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
        assert changed.sum() == rows.size * cols.size
        assert rows.max() - rows.min() + 1 == rows.size
    return rows.size, cols.size


def check_cutmix(x, out):
    images, (weights, partners) = np.asarray(out["images"]), mix_partners(out["labels"])
    for i, p in enumerate(partners):
        changed = (images[i] != x[i]).any(axis=-1)
        pasted = np.isclose(images[i], x[p]).all(axis=-1)
        assert (pasted | ~changed).all()  # every changed pixel comes from the partner
        rows, cols = rectangle(changed)
        if p == i:
            continue
        side = np.sqrt(1.0 - weights[i])  # label weight 1 - (continuous) area fraction
        assert abs(rows - side * x.shape[1]) <= 1.0 + 1e-4
        assert abs(cols - side * x.shape[2]) <= 1.0 + 1e-4


def check_erasing(x, out, fill, scale=(0.02, 0.33), value_range=(0, 255)):
    out = np.asarray(out)
    erased = 0
    for i in range(len(x)):
        changed = (out[i] != x[i]).any(axis=-1)
        rows, cols = rectangle(changed)
        erased += rows > 0
        if rows:
            pixels = out[i][changed]
            assert ((pixels >= value_range[0]) & (pixels <= value_range[1])).all()
            if fill is not None:
                np.testing.assert_allclose(pixels, np.broadcast_to(
                    np.clip(fill, *value_range), pixels.shape), rtol=1e-6)
            for n, length in ((rows, x.shape[1]), (cols, x.shape[2])):
                assert np.sqrt(scale[0]) * length - 1 <= n <= np.sqrt(scale[1]) * length + 1
    return erased


def test_mixup_mixes_images_and_labels_alike():
    layer = MixUp(alpha=1.0, seed=2)
    first, second = (layer({"images": X, "labels": Y}, training=True) for _ in range(2))
    check_mixup(X, first)
    check_mixup(X, second)
    assert not np.allclose(first["images"], second["images"])
    assert MixUp()(X, training=True).shape == X.shape


def test_cutmix_pastes_a_rectangle_weighted_by_area():
    layer = CutMix(seed=4)
    outs = [layer({"images": X, "labels": Y}, training=True) for _ in range(3)]
    for out in outs:
        check_cutmix(X, out)
    assert any((np.asarray(o["images"]) != X).any() for o in outs)
    assert CutMix((0.5, 0.5))(X, training=True).shape == X.shape


@pytest.mark.parametrize("fill", [None, 7.0, (300.0, 2.0, 3.0)])
def test_erasing_fills_one_rectangle(fill):
    layer = RandomErasing(factor=(1.0, 1.0), fill_value=fill, seed=1)
    out = layer({"images": X, "labels": Y}, training=True)
    np.testing.assert_array_equal(out["labels"], Y)
    assert check_erasing(X, out["images"], fill) == len(X)
    assert check_erasing(X, RandomErasing(factor=0.0)(X, training=True), 0.0) == 0


def test_erasing_channels_first_and_unit_range():
    x = np.moveaxis(X / 255.0, -1, 1)
    out = RandomErasing((1, 1), scale=0.3, fill_value=0.5, value_range=(0, 1),
                        data_format="channels_first", seed=0)(x, training=True)
    assert check_erasing(np.moveaxis(x, 1, -1), np.moveaxis(np.asarray(out), 1, -1), 0.5,
                         (0.0, 0.3), (0, 1)) >= 1  # a tiny scale draw can erase no pixel


def test_cutmix_channels_first():
    x = np.moveaxis(X, -1, 1)
    out = CutMix(seed=3, data_format="channels_first")({"images": x, "labels": Y})
    check_cutmix(X, {"images": np.moveaxis(np.asarray(out["images"]), 1, -1),
                     "labels": out["labels"]})


@pytest.mark.parametrize("cls", [MixUp, CutMix, RandomErasing])
def test_inference_unbatched_and_compiled_draws(cls):
    layer = cls(seed=5)
    out = layer({"images": X, "labels": Y}, training=False)
    np.testing.assert_array_equal(out["images"], X)
    np.testing.assert_array_equal(out["labels"], Y)
    if cls is not RandomErasing:  # one image has nothing to mix with
        np.testing.assert_allclose(layer(X[0], training=True), X[0])
    assert layer(X[0], training=True).shape == X[0].shape

    @jax.jit
    def step(x, key):
        with _scope.bind({}, training=True, key=key):
            return layer(x)
    a = step(X, jax.random.key(0))
    np.testing.assert_allclose(a, step(X, jax.random.key(0)))
    assert any(not np.allclose(a, step(X, jax.random.key(k))) for k in (1, 2, 3))


@pytest.mark.parametrize("layer", [MixUp(alpha=0.4, seed=1), CutMix((0.2, 0.7)),
                                   RandomErasing(0.5, (0.1, 0.2), (1, 2, 3), (0, 1))])
def test_config_round_trip(layer):
    clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_errors():
    with pytest.raises(ValueError, match="alpha"):
        MixUp(alpha=0)
    with pytest.raises(ValueError, match="factor"):
        CutMix(factor=2.0)
    with pytest.raises(ValueError, match="fill_value"):
        RandomErasing(fill_value=(1, 2))
    with pytest.raises(ValueError, match="segmentation"):
        MixUp()({"images": X, "segmentation_masks": X})
    with pytest.raises(ValueError, match="'images'"):
        CutMix()({"labels": Y})
    with pytest.raises(ValueError, match="rank"):
        RandomErasing()(jnp.ones((2, 3)))
