"""RandAugment, AugMix, Pipeline and MaxNumBoundingBoxes in kiln alone: the layers the
policies apply, ranges, seeds, the training switch, draws advancing in a compiled step,
collapsed cases, config round trips (nested layers too), one fit, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.layers as L
from kiln import _scope
from kiln.layers._image_policies import (
    AUG_MIX_EXTRA,
    AUG_MIX_LAYERS,
    RAND_AUGMENT_LAYERS,
    AugMix,
    MaxNumBoundingBoxes,
    Pipeline,
    RandAugment,
    _run,
)
from kiln.layers._image_warp_augmentation import RandomGaussianBlur

X = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)), "float32")
OURS = {c.__name__: c for c in (RandAugment, AugMix, Pipeline, MaxNumBoundingBoxes,
                                 RandomGaussianBlur)}
RA, AM = RandAugment(seed=1), AugMix(seed=2)  # one compile each for the whole file
RA_TYPES = ["RandomShear", "RandomTranslation", "RandomRotation", "RandomBrightness",
            "RandomColorDegeneration", "RandomContrast", "RandomSharpness",
            "RandomPosterization", "Solarization", "AutoContrast", "Equalization"]


def _bound(layer, key):
    with _scope.bind({}, training=True, key=key):
        return layer(X)


def test_rand_augment_builds_keras_layers_with_its_factor():
    assert [type(getattr(RA, n)).__name__ for n in RAND_AUGMENT_LAYERS] == RA_TYPES
    assert RA.factor == (0, 0.5) and RA.random_shear.x_factor == (0.0, 0.5)
    assert RA.random_posterization.factor == (1, 4)  # max(1, int(8 * 0.5))
    assert RA.random_rotation._range == (0.0, 0.5)
    assert RA.solarization.threshold_factor == (0, 0.5)
    assert AM.factor == (0, 0.3) and AM._augment_layers == AUG_MIX_LAYERS + AUG_MIX_EXTRA
    assert AugMix(all_ops=False)._augment_layers == AUG_MIX_LAYERS
    assert not hasattr(AugMix(all_ops=False), "random_brightness")


@pytest.mark.parametrize("layer", [RA, AM], ids=["RandAugment", "AugMix"])
def test_policy_properties(layer):
    a = _bound(layer, jax.random.key(0))
    assert a.shape == X.shape and a.dtype == X.dtype
    assert float(a.min()) >= 0.0 and float(a.max()) <= 255.0
    np.testing.assert_array_equal(a, _bound(layer, jax.random.key(0)))
    outputs = [_bound(layer, jax.random.key(k)) for k in range(1, 4)]
    assert any(not np.allclose(a, b) for b in outputs)
    np.testing.assert_array_equal(layer(X, training=False), X)


def test_draws_advance_inside_a_compiled_step():
    """(AugMix shares the machinery: its draws are checked in the fit below.)"""
    @jax.jit
    def step(x, key):
        with _scope.bind({}, training=True, key=key):
            return RA(x)
    a = step(X, jax.random.key(0))
    np.testing.assert_allclose(a, _bound(RA, jax.random.key(0)), atol=1e-3)
    assert any(not np.allclose(step(X, jax.random.key(k)), a) for k in (5, 6, 7))
    assert RA(X[0], training=True).shape == X[0].shape


def test_rand_augment_picks_one_of_its_layers():
    layer = RandAugment(num_ops=1, factor=0.0, seed=3)
    run = jax.jit(lambda x: [_run(getattr(layer, n), jax.random.key(0), x)
                             for n in RAND_AUGMENT_LAYERS])  # deterministic at factor 0
    candidates = [np.asarray(c) for c in run(X)]
    seen = set()
    for k in range(8):
        y = np.asarray(_bound(layer, jax.random.key(k)))
        matches = [i for i, c in enumerate(candidates) if np.allclose(y, c, atol=1e-2)]
        assert matches, k
        seen.add(tuple(matches))
    assert len(seen) > 1  # the pick changes with the key
    np.testing.assert_array_equal(RandAugment(num_ops=0)(X, training=True), X)


def test_aug_mix_without_steps_blends_the_image_with_itself():
    np.testing.assert_allclose(AugMix(chain_depth=0, seed=1)(X, training=True), X, atol=1e-3)


def test_pipeline_applies_its_layers_in_order_and_passes_training():
    scale, shift = L.Rescaling(2.0), L.Rescaling(1.0, offset=1.0)
    np.testing.assert_allclose(Pipeline([scale, shift])(X), 2 * X + 1)
    np.testing.assert_allclose(Pipeline([shift, scale])(X), 2 * X + 2)
    blur = Pipeline([RandomGaussianBlur(factor=(1, 1))])
    np.testing.assert_array_equal(blur(X, training=False), X)
    assert not np.allclose(blur(X, training=True), X)
    assert blur.layers[0].factor == (1, 1)


def test_max_num_bounding_boxes():
    boxes = jnp.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4)
    labels = jnp.asarray([[1, 2, 3], [4, 5, 6]])
    data = {"images": X, "bounding_boxes": {"boxes": boxes, "labels": labels}}
    out = MaxNumBoundingBoxes(5)(data)
    assert out["images"] is data["images"] or np.array_equal(out["images"], X)
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"][:, :3], boxes)
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"][:, 3:], -1.0)
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"], [[1, 2, 3, -1, -1],
                                                                   [4, 5, 6, -1, -1]])
    cut = MaxNumBoundingBoxes(2, fill_value=0)(data, training=False)
    np.testing.assert_array_equal(cut["bounding_boxes"]["labels"], [[1, 2], [4, 5]])
    one = MaxNumBoundingBoxes(4, fill_value=0)({"images": X[0], "bounding_boxes": {
        "boxes": boxes[0], "labels": labels[0]}})
    assert one["bounding_boxes"]["boxes"].shape == (4, 4)
    np.testing.assert_array_equal(one["bounding_boxes"]["labels"], [1, 2, 3, 0])
    np.testing.assert_array_equal(MaxNumBoundingBoxes(2)(X), X)
    assert data["bounding_boxes"]["boxes"].shape == (2, 3, 4)  # the input is not changed


@pytest.mark.parametrize("layer", [
    RandAugment((0, 1), num_ops=3, factor=(0.2, 0.6), interpolation="nearest", seed=4),
    AugMix((0, 1), num_chains=2, chain_depth=4, factor=0.6, alpha=0.5, all_ops=False, seed=5),
    Pipeline([RandomGaussianBlur(0.5, seed=1), Pipeline([L.Rescaling(0.5)], name="inner")],
             name="outer"),
    MaxNumBoundingBoxes(7, bounding_box_format="xyxy", data_format="channels_first")])
def test_config_round_trip(layer):
    with kiln.saving.custom_object_scope(OURS):
        clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    if isinstance(layer, Pipeline):
        assert [type(la) for la in clone.layers] == [RandomGaussianBlur, Pipeline]
        assert clone.layers[1].layers[0].scale == 0.5


def test_policies_train_in_a_model():
    model = kiln.Sequential([kiln.Input((8, 8, 3)), Pipeline([RA, AM]), MaxNumBoundingBoxes(2),
                             L.Rescaling(1 / 255), L.Conv2D(2, 3), L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.asarray(X), np.zeros((2, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("make,match", [
    (lambda: RandAugment(num_ops=-1), "num_ops"),
    (lambda: RandAugment(factor=1.5), r"\[0, 1\]"),
    (lambda: RandAugment(interpolation="bicubic"), "interpolation"),
    (lambda: AugMix(alpha=0.0), "alpha"),
    (lambda: AugMix(value_range=5), "value_range"),
    (lambda: Pipeline(L.Rescaling(1.0)), "list of Layer"),
    (lambda: MaxNumBoundingBoxes(0), "positive int"),
    (lambda: MaxNumBoundingBoxes(2)({"boxes": X}), "'images'"),
    (lambda: MaxNumBoundingBoxes(2)({"images": X, "bounding_boxes": {
        "boxes": jnp.ones((2, 3)), "labels": jnp.ones((2,))}}), r"\(batch, n, 4\)"),
])
def test_bad_arguments_say_what_was_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
