"""A custom optimizer written for Keras (`build` with `add_variable_from_reference` /
`add_optimizer_variables`, `update_step` with `self.assign`, `self.iterations`) runs in kiln's
compiled step and gives Keras's numbers, with clipping and weight decay from the base class;
its variables are Keras's (order and values), so `.keras` files carry them both ways."""

import keras
import numpy as np
import pytest

import kiln


def _optimizer_class(lib, interleaved):
    ops = lib.ops

    @lib.saving.register_keras_serializable(package=f"keras_style_{interleaved}")
    class MomentumAdam(lib.optimizers.Optimizer):
        def __init__(self, learning_rate=0.05, beta=0.8, name="momentum_adam", **kwargs):
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            self.beta = beta

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            if interleaved == "name_major":
                self.m = [self.add_variable_from_reference(v, "m") for v in var_list]
                self.v = [self.add_variable_from_reference(v, "v", "ones") for v in var_list]
            elif interleaved:
                self.m, self.v = [], []
                for var in var_list:
                    self.m.append(self.add_variable_from_reference(var, "m"))
                    self.v.append(self.add_variable_from_reference(var, "v", "ones"))
            else:
                self.m, self.v = self.add_optimizer_variables(var_list, ["m", "v"],
                                                              ["zeros", "ones"])

        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            step = ops.cast(self.iterations + 1, variable.dtype)
            i = self._get_variable_index(variable)
            m, v = self.m[i], self.v[i]
            self.assign(m, self.beta * m + (1 - self.beta) * gradient)
            self.assign(v, 0.9 * v + 0.1 * ops.square(gradient))
            self.assign_sub(variable, lr * m / (ops.sqrt(v) + 1e-3) / ops.sqrt(step))

        def get_config(self):
            return {**super().get_config(), "beta": self.beta}
    return MomentumAdam


CLASSES = {(lib.__name__, flag): _optimizer_class(lib, flag)
           for lib in (keras, kiln) for flag in (False, True, "name_major")}
RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 3)).astype("float32")
Y = RNG.normal(size=(32, 1)).astype("float32")


def _fit(lib, interleaved, weights, **opt_kwargs):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="tanh"),
                            lib.layers.Dense(1)])
    model.set_weights(weights)
    opt = CLASSES[(lib.__name__, interleaved)](**opt_kwargs)
    model.compile(optimizer=opt, loss="mse", steps_per_execution=2)
    history = model.fit(X, Y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    return model, history.history["loss"]


@pytest.mark.parametrize("interleaved", [False, True, "name_major"],
                         ids=["add_optimizer_variables", "interleaved", "name-major"])
@pytest.mark.parametrize("extra", [{}, {"clipnorm": 0.5, "weight_decay": 0.01}],
                         ids=["plain", "clip-decay"])
def test_keras_style_optimizer_matches_keras(interleaved, extra):
    weights = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                keras.layers.Dense(1)]).get_weights()
    km, k_loss = _fit(keras, interleaved, weights, **extra)
    lm, l_loss = _fit(kiln, interleaved, weights, **extra)
    np.testing.assert_allclose(l_loss, k_loss, rtol=1e-5)
    for got, want in zip(lm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    k_vars = [np.asarray(v) for v in km.optimizer.variables]
    l_vars = [np.asarray(v) for v in lm.optimizer.variables]
    assert [v.shape for v in l_vars] == [v.shape for v in k_vars]
    for got, want in zip(l_vars, k_vars):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_keras_style_optimizer_state_travels_in_keras_files(tmp_path):
    weights = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                keras.layers.Dense(1)]).get_weights()
    lm, _ = _fit(kiln, False, weights)
    lm.save(tmp_path / "kiln.keras")
    loaded = keras.saving.load_model(tmp_path / "kiln.keras")
    for got, want in zip(loaded.optimizer.variables, lm.optimizer.variables):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
    back = kiln.saving.load_model(tmp_path / "kiln.keras")
    back.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    lm.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for got, want in zip(back.get_weights(), lm.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_unsupported_forms_say_so():
    class FreeState(kiln.optimizers.Optimizer):
        def build(self, var_list):
            super().build(var_list)
            self.counter = self.add_variable((), name="counter")

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, learning_rate * gradient)

    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.compile(optimizer=FreeState(learning_rate=0.1), loss="mse")
    with pytest.raises(NotImplementedError, match="per parameter"):
        model.fit(X, Y, verbose=0)
