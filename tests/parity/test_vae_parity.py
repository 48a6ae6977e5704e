"""The VAE pattern of Keras's examples: a sampling layer drawing from its own SeedGenerator
inside the compiled step and a KL term added with `add_loss`, trained by the built-in step.
The SeedGenerator's state is a non-trainable variable in both libraries, so the draws (and so
the weights after training) agree with Keras's exactly, step after step."""

import keras
import numpy as np

import kiln

rng = np.random.default_rng(0)
X = rng.uniform(size=(32, 6)).astype("float32")


def _vae(lib):
    class Sampling(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = lib.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            eps = lib.random.normal(lib.ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + lib.ops.exp(0.5 * z_log_var) * eps

    class KL(lib.layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            kl = -0.5 * (1 + z_log_var - lib.ops.square(z_mean) - lib.ops.exp(z_log_var))
            self.add_loss(lib.ops.mean(lib.ops.sum(kl, axis=1)))
            return z_mean

    inputs = lib.Input((6,))
    h = lib.layers.Dense(4, activation="relu")(inputs)
    z_mean, z_log_var = lib.layers.Dense(2)(h), lib.layers.Dense(2)(h)
    z = Sampling()([KL()([z_mean, z_log_var]), z_log_var])
    outputs = lib.layers.Dense(6, activation="sigmoid")(z)
    return lib.Model(inputs, outputs)


def test_vae_with_seed_generator_and_add_loss_trains_like_keras():
    ours, theirs = _vae(kiln), _vae(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="binary_crossentropy")
        histories.append(model.fit(X, X, batch_size=8, epochs=2, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # 8 steps, one draw each: both generators advanced to [1337, 8].
    sampler = [l for l in ours.layers if type(l).__name__ == "Sampling"][0]
    np.testing.assert_array_equal(np.asarray(sampler.seed_generator.state.value), [1337, 8])
