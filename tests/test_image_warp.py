"""The warp ops (`perspective_transform`, `elastic_transform`, `ssim`) and the layers
RandomGaussianBlur, RandomShear, RandomPerspective, RandomElasticTransform in kiln alone:
formulas on hand-made inputs, seeds, the training switch, draws advancing in a compiled
step, config round trip, one fit, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.layers as L
from kiln import _scope
from kiln.layers._image_warp_augmentation import (
    RandomElasticTransform,
    RandomGaussianBlur,
    RandomPerspective,
    RandomShear,
)
from kiln.ops._image_extra import gaussian_blur
from kiln.ops._image_warp import (
    elastic_transform,
    elastic_warp,
    homography,
    perspective_transform,
    ssim,
)

RNG = np.random.default_rng(0)
X = jnp.asarray(RNG.uniform(0, 255, (4, 8, 8, 3)), "float32")
CORNERS = jnp.array([[0.0, 0.0], [7.0, 0.0], [0.0, 7.0], [7.0, 7.0]])
OURS = {c.__name__: c for c in (RandomGaussianBlur, RandomShear, RandomPerspective,
                                 RandomElasticTransform)}
# (always applied, so that two unseeded calls surely differ)
RANDOM = [(RandomGaussianBlur, {"factor": (1, 1), "sigma": (0.3, 0.9)}),
          (RandomShear, {"x_factor": 0.3, "y_factor": 0.3}),
          (RandomPerspective, {"factor": (1, 1), "scale": 0.6}),
          (RandomElasticTransform, {"factor": (1, 1), "scale": 0.8})]


# ------------------------------------------------------------------------------------ ops

def test_homography_sends_end_points_to_start_points():
    end = CORNERS + jnp.array([[0.5, -0.3], [0.2, 0.4], [-0.6, 0.1], [0.3, 0.3]])
    t = homography(CORNERS, end)[0]
    ex, ey = end[:, 0], end[:, 1]
    k = t[6] * ex + t[7] * ey + 1.0
    np.testing.assert_allclose((t[0] * ex + t[1] * ey + t[2]) / k, CORNERS[:, 0], atol=1e-4)
    np.testing.assert_allclose((t[3] * ex + t[4] * ey + t[5]) / k, CORNERS[:, 1], atol=1e-4)


def test_perspective_transform_identity_shift_and_batching():
    np.testing.assert_allclose(perspective_transform(X, CORNERS, CORNERS), X, atol=1e-3)
    down = perspective_transform(X, CORNERS, CORNERS + jnp.array([0.0, 2.0]),
                                 interpolation="nearest", fill_value=-1.0)
    np.testing.assert_array_equal(down[:, 2:], X[:, :-2])  # content two rows down
    np.testing.assert_array_equal(down[:, :2], -1.0)
    one = perspective_transform(X[1], CORNERS, CORNERS + 1.0)
    np.testing.assert_allclose(perspective_transform(X, CORNERS, CORNERS + 1.0)[1], one)
    per_image = jnp.stack([CORNERS, CORNERS + 1.0, CORNERS, CORNERS])
    mixed = perspective_transform(X, jnp.stack([CORNERS] * 4), per_image)
    np.testing.assert_allclose(mixed[1], one, atol=1e-5)
    np.testing.assert_allclose(mixed[0], X[0], atol=1e-3)
    first = perspective_transform(jnp.moveaxis(X, -1, 1), CORNERS, CORNERS + 1.0,
                                  data_format="channels_first")
    np.testing.assert_allclose(jnp.moveaxis(first, 1, -1)[1], one, atol=1e-5)


def test_elastic_transform_seeds_and_limits():
    a, b = elastic_transform(X, 3.0, 1.0, seed=4), elastic_transform(X, 3.0, 1.0, seed=4)
    assert a.shape == X.shape and a.dtype == X.dtype
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, elastic_transform(X, 3.0, 1.0, seed=5))
    np.testing.assert_allclose(elastic_transform(X, 0.0, 1.0, seed=4), X, atol=1e-4)
    np.testing.assert_allclose(elastic_transform(X, 5.0, 0.0, seed=4), X, atol=1e-4)
    assert elastic_transform(X[0], seed=1).shape == X[0].shape
    key = jnp.array([4, 0], jnp.uint32)  # an int seed is Keras's raw key [seed, 0]
    noise = jnp.stack([jax.random.normal(k, (4, 8, 8)) for k in (key, jax.random.fold_in(key, 1))])
    np.testing.assert_allclose(a, elastic_warp(X, noise, 3.0, 1.0, 1.0), atol=1e-5)


def test_elastic_field_is_two_dimensional():
    """Keras 3.15 moves every pixel along the diagonal (one draw for both axes); kiln's x
    and y displacements differ: on a ramp along x (y) the change is the x (y) field."""
    cols = jnp.broadcast_to(jnp.arange(16.0)[None, :, None], (1, 16, 16, 1))
    rows = jnp.swapaxes(cols, 1, 2)
    dx = elastic_transform(cols, 1.0, 2.0, "bilinear", "nearest", seed=2) - cols
    dy = elastic_transform(rows, 1.0, 2.0, "bilinear", "nearest", seed=2) - rows
    inner = (slice(None), slice(4, 12), slice(4, 12))
    assert float(jnp.abs(dx[inner]).mean()) > 0.05
    assert not np.allclose(dx[inner], dy[inner], atol=0.05)


def test_elastic_warp_takes_a_traced_sigma_under_a_bound():
    noise = jax.random.normal(jax.random.key(0), (2, 4, 8, 8))
    exact = elastic_warp(X, noise, 2.0, 0.7, 0.7)
    traced = jax.jit(lambda s: elastic_warp(X, noise, 2.0, s, 1.9))(jnp.float32(0.7))
    np.testing.assert_allclose(traced, exact, atol=1e-4)


def test_ssim_values():
    y = X + jnp.asarray(RNG.normal(0, 20, X.shape), "float32")
    np.testing.assert_allclose(ssim(X, X, max_val=255.0, filter_size=5), 1.0, atol=1e-5)
    s = ssim(X, y, max_val=255.0, filter_size=5)
    assert s.shape == (4,) and bool((s < 0.99).all() and (s > -1).all())
    np.testing.assert_allclose(ssim(y, X, max_val=255.0, filter_size=5), s, atol=1e-6)
    np.testing.assert_allclose(ssim(X[1], y[1], max_val=255.0, filter_size=5), s[1], atol=1e-6)
    first = ssim(jnp.moveaxis(X, -1, 1), jnp.moveaxis(y, -1, 1), max_val=255.0,
                 filter_size=5, data_format="channels_first")
    np.testing.assert_allclose(first, s, atol=1e-6)
    flat = jnp.full((1, 5, 5, 1), 0.5)  # one 5x5 window, no variance: only the means count
    mean_term = (2 * 0.5 * 0.25 + 1e-4) / (0.25 + 0.0625 + 1e-4)
    np.testing.assert_allclose(ssim(flat, flat * 0.5, filter_size=5), [mean_term], rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda: perspective_transform(X, CORNERS[:3], CORNERS[:3]), r"\(4, 2\)"),
    (lambda: perspective_transform(X, CORNERS, CORNERS[None]), "same shape"),
    (lambda: perspective_transform(X, jnp.stack([CORNERS] * 3), jnp.stack([CORNERS] * 3)),
     "one per image"),
    (lambda: perspective_transform(X, CORNERS, CORNERS, interpolation="cubic"), "nearest"),
    (lambda: elastic_transform(X, fill_mode="edge"), "fill_mode"),
    (lambda: elastic_transform(X.astype("int32")), "float images"),
    (lambda: ssim(X, X[:2]), "same shape"),
    (lambda: ssim(X, X), "at least filter_size=11"),  # Keras: an empty convolution
    (lambda: ssim(X[0, 0], X[0, 0]), "rank 3"),
])
def test_bad_op_arguments_say_what_was_expected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------- layers

@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_random_layer_properties(cls, kwargs):
    layer = cls(seed=3, **kwargs)
    a = layer(X, training=True)
    assert a.shape == X.shape and a.dtype == X.dtype
    assert float(a.min()) >= -1e-3 and float(a.max()) <= 255.0 + 1e-3
    assert not np.allclose(a, layer(X, training=True))  # the stream advances
    np.testing.assert_array_equal(layer(X, training=False), X)
    same = []
    for layer_ in (cls(seed=3, **kwargs), cls(seed=3, **kwargs)):
        with _scope.bind({}, training=True, key=jax.random.key(5)):
            same.append(layer_(X))
    np.testing.assert_allclose(same[0], same[1])
    assert layer(X[0], training=True).shape == X[0].shape


@pytest.mark.parametrize("cls,kwargs", RANDOM[1:3])
def test_draws_advance_inside_a_compiled_step(cls, kwargs):
    layer = cls(**kwargs)

    @jax.jit
    def step(x, key):
        with _scope.bind({}, training=True, key=key):
            return layer(x)
    a = step(X, jax.random.key(0))
    assert not np.allclose(a, step(X, jax.random.key(1)))
    np.testing.assert_allclose(a, step(X, jax.random.key(0)))


def test_gaussian_blur_layer_formula():
    sure = RandomGaussianBlur(factor=(1, 1), kernel_size=(3, 5), sigma=(0.6, 0.6))
    expected = gaussian_blur(X, kernel_size=(5, 3), sigma=(0.600001, 0.600001))
    np.testing.assert_allclose(sure(X, training=True), expected, atol=1e-3)
    np.testing.assert_array_equal(RandomGaussianBlur(factor=0.0)(X, training=True), X)
    clipped = RandomGaussianBlur(factor=(0, 0), value_range=(0, 100))(X, training=True)
    np.testing.assert_array_equal(clipped, jnp.clip(X, 0, 100))


def test_shear_layer_formula():
    layer = RandomShear(x_factor=(0.2, 0.2), interpolation="nearest", fill_mode="constant")
    y = layer(X, training=True)
    grid = np.arange(8)
    for i in range(4):  # each image is sheared by +0.2 or -0.2 along x
        options = []
        for s in (0.2, -0.2):
            src = np.rint(grid[None, :] + s * grid[:, None]).astype(int)  # (row, col) -> col
            inside = (src >= 0) & (src < 8)
            want = np.where(inside[..., None], np.asarray(X[i])[grid[:, None],
                                                                 np.clip(src, 0, 7)], 0.0)
            options.append(np.allclose(y[i], want, atol=1e-3))
        assert any(options), i
    np.testing.assert_allclose(RandomShear()(X, training=True), X, atol=1e-3)


def test_perspective_and_elastic_layer_limits():
    np.testing.assert_allclose(RandomPerspective(scale=0.0)(X, training=True), X, atol=1e-3)
    np.testing.assert_array_equal(RandomPerspective(factor=0.0)(X, training=True), X)
    np.testing.assert_array_equal(RandomElasticTransform(scale=0.0)(X + 300, training=True),
                                  X + 300)  # nothing to do: no clipping either, as Keras
    np.testing.assert_array_equal(RandomElasticTransform(factor=0.0)(X + 300, training=True),
                                  X + 300)
    clipped = RandomElasticTransform(factor=(1e-9, 1e-9), scale=0.5, value_range=(0, 100))
    np.testing.assert_array_equal(clipped(X, training=True), jnp.clip(X, 0, 100))
    first = RandomPerspective(scale=0.5, data_format="channels_first", seed=1)
    with _scope.bind({}, training=True, key=jax.random.key(3)):
        a = first(jnp.moveaxis(X, -1, 1))
    with _scope.bind({}, training=True, key=jax.random.key(3)):
        b = RandomPerspective(scale=0.5, seed=1)(X)
    np.testing.assert_allclose(jnp.moveaxis(a, 1, -1), b, atol=1e-3)


@pytest.mark.parametrize("layer", [
    RandomGaussianBlur((0.2, 0.7), kernel_size=5, sigma=(0.1, 0.4), value_range=(0, 1), seed=4),
    RandomShear(0.2, (0.1, 0.4), "nearest", "constant", 1.5, seed=2),
    RandomPerspective((0.3, 0.6), 0.4, "nearest", 2.0, seed=1),
    RandomElasticTransform(0.5, (0.2, 0.8), "nearest", "mirror", 1.0, (0, 1), seed=3)])
def test_config_round_trip(layer):
    with kiln.saving.custom_object_scope(OURS):
        clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_layers_train_in_a_model():
    model = kiln.Sequential([kiln.Input((8, 8, 3)), RandomGaussianBlur(seed=0),
                             RandomShear(0.2, 0.2, seed=1), RandomPerspective(scale=0.3),
                             RandomElasticTransform(scale=0.5, seed=2), L.Rescaling(1 / 255),
                             L.Conv2D(2, 3), L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.asarray(X), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("make,match", [
    (lambda: RandomGaussianBlur(kernel_size=4), "odd"),
    (lambda: RandomGaussianBlur(sigma=2.0), r"\[0, 1\]"),
    (lambda: RandomGaussianBlur(factor=1.5), r"\[0, 1\]"),
    (lambda: RandomShear(x_factor=1.2), r"\[0, 1\]"),
    (lambda: RandomShear(y_factor=(-1.5, 0.0)), r"\[-1, 1\]"),
    (lambda: RandomShear(fill_mode="mirror"), "fill_mode"),
    (lambda: RandomPerspective(scale=2.0), "scale"),
    (lambda: RandomPerspective(interpolation="bicubic"), "interpolation"),
    (lambda: RandomElasticTransform(fill_mode="edge"), "fill_mode"),
    (lambda: RandomElasticTransform(value_range=3), "value_range"),
])
def test_bad_arguments_say_what_was_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
