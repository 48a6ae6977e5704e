"""Parity with Keras 3 (JAX backend): the same optimizer, start values and gradients must
give the same weights at every step (1e-6 abs / 1e-5 rel) and the same optimizer variables
(Keras's saved order) at the end."""

import warnings

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kiln.optimizers as kopt
from kiln._variables import Variable

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 8
TOL = dict(rtol=1e-5, atol=1e-6)


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    inits = [rng.normal(size=s).astype("float32") for s in SHAPES]
    # The last variable gets tiny gradients, so where epsilon sits visibly matters.
    scales = [1.0, 1.0, 1e-3]
    grads = [[(c * rng.normal(size=s)).astype("float32") for s, c in zip(SHAPES, scales)]
             for _ in range(STEPS)]
    return inits, grads


def _run_keras(opt, inits, grads, lr_at=None, exclude=None):
    variables = [keras.Variable(x, name=f"v{i}") for i, x in enumerate(inits)]
    if exclude:
        opt.exclude_from_weight_decay(var_names=exclude)
    history = []
    for step, g in enumerate(grads):
        if lr_at and step in lr_at:
            opt.learning_rate = lr_at[step]
        opt.apply_gradients(zip(g, variables))
        history.append([np.asarray(v.value) for v in variables])
    return history, opt, variables


def _run_keras_jitted(opt, inits, grads):
    """Keras's own JAX training path (`stateless_apply` under `jax.jit`); much faster than
    eager Keras where the update contains a `lax.cond` (gradient accumulation)."""
    variables = [keras.Variable(x, name=f"v{i}") for i, x in enumerate(inits)]
    opt.build(variables)
    step_fn = jax.jit(opt.stateless_apply)
    opt_values, values, history = [v.value for v in opt.variables], [v.value for v in variables], []
    for g in grads:
        values, opt_values = step_fn(opt_values, [jnp.asarray(x) for x in g], values)
        history.append([np.asarray(v) for v in values])
    for var, value in zip(list(opt.variables) + variables, list(opt_values) + list(values)):
        var.assign(value)
    return history, opt, variables


def _run_kiln(opt, inits, grads, lr_at=None, exclude=None, jit=False):
    keys = [f"layer/v{i}" for i in range(len(inits))]
    params = {k: jnp.asarray(x) for k, x in zip(keys, inits)}
    if exclude:
        opt.exclude_from_weight_decay(var_names=exclude)
    opt.build(params)
    step_fn = jax.jit(opt.apply) if jit else opt.apply
    history = []
    for step, g in enumerate(grads):
        if lr_at and step in lr_at:
            opt.learning_rate = lr_at[step]  # updates opt.state (no recompile under jit)
        params, opt.state = step_fn(dict(zip(keys, map(jnp.asarray, g))), params, opt.state)
        history.append([np.asarray(params[k]) for k in keys])
    return history, opt


def _compare(cls_name, kwargs, lr_at=None, exclude=None, seed=0, keras_jit=False, jit=False):
    inits, grads = _problem(seed)
    k_opt = getattr(keras.optimizers, cls_name)(**kwargs)
    if keras_jit:
        k_hist, k_opt, _ = _run_keras_jitted(k_opt, inits, grads)
    else:
        k_hist, k_opt, _ = _run_keras(k_opt, inits, grads, lr_at, exclude)
    n_hist, n_opt = _run_kiln(getattr(kopt, cls_name)(**kwargs), inits, grads, lr_at, exclude,
                              jit)
    for step, (k_vals, n_vals) in enumerate(zip(k_hist, n_hist)):
        for i, (k, n) in enumerate(zip(k_vals, n_vals)):
            np.testing.assert_allclose(n, k, **TOL, err_msg=f"{cls_name} step {step} var {i}")
    k_vars = [np.asarray(v.value) for v in k_opt.variables]
    n_vars = [np.asarray(v) for v in n_opt.variables]
    assert [v.shape for v in n_vars] == [v.shape for v in k_vars]
    for i, (k, n) in enumerate(zip(k_vars, n_vars)):
        np.testing.assert_allclose(n, k, **TOL, err_msg=f"{cls_name} optimizer variable {i}")
    assert int(n_opt.iterations) == int(k_opt.iterations)
    return n_opt, k_opt


ALL = ["SGD", "RMSprop", "Adam", "AdamW", "Adadelta", "Adagrad", "Nadam", "Adamax", "Lion",
       "Ftrl", "Lamb", "Adafactor"]

CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5}), ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.3, "rho": 0.8}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("Adam", {"beta_1": 0.8, "epsilon": 1e-3}),
    ("AdamW", {}), ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("Adadelta", {"learning_rate": 1.0}), ("Adadelta", {"rho": 0.9, "learning_rate": 0.5}),
    ("Adagrad", {"learning_rate": 0.1}), ("Adagrad", {"initial_accumulator_value": 1.0}),
    ("Nadam", {}), ("Nadam", {"beta_1": 0.8, "learning_rate": 0.05}),
    ("Adamax", {"learning_rate": 0.05}), ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"beta_1": 0.5, "beta_2": 0.9}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
              "beta": 0.1, "learning_rate_power": -0.6}),
    ("Lamb", {"learning_rate": 0.01}), ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "clip_threshold": 0.5}),
]


@pytest.mark.parametrize("cls_name,kwargs", CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_update_rules_match_keras(cls_name, kwargs):
    _compare(cls_name, kwargs)


# Weight decay reads the weights, so every rule is checked with it; clipping only touches
# the gradients before the rule, so each clip option is checked on four different rules.
CLIPS = {"SGD": "clipnorm", "RMSprop": "clipvalue", "Adam": "global_clipnorm",
         "AdamW": "clipnorm", "Adadelta": "clipvalue", "Adagrad": "global_clipnorm",
         "Nadam": "clipnorm", "Adamax": "clipvalue", "Lion": "global_clipnorm",
         "Ftrl": "clipnorm", "Lamb": "clipvalue", "Adafactor": "global_clipnorm"}
CLIP_VALUES = {"clipnorm": 0.5, "clipvalue": 0.3, "global_clipnorm": 0.7}


@pytest.mark.parametrize("cls_name", ALL)
def test_weight_decay_and_clipping_match_keras(cls_name):
    clip = CLIPS[cls_name]
    # Under jax.jit, as the trainer runs it (the other cases run the same pure `apply`
    # eagerly, which keeps this file fast; test_optimizers.py checks jit == eager).
    _compare(cls_name, {"learning_rate": 0.05, "weight_decay": 0.05, clip: CLIP_VALUES[clip]},
             jit=True)


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Adafactor"])
def test_learning_rate_changed_mid_run_matches_keras(cls_name):
    kwargs = {"learning_rate": 0.05, "momentum": 0.9} if cls_name == "SGD" else {}
    _compare(cls_name, kwargs, lr_at={4: 0.2, 7: 0.01}, jit=True)


def test_weight_decay_exclusion_by_name_matches_keras():
    _compare("AdamW", {"weight_decay": 0.2, "learning_rate": 0.05}, exclude=["v1"])


def _schedule_pair(name, *args, **kwargs):
    return (getattr(keras.optimizers.schedules, name)(*args, **kwargs),
            getattr(kopt.schedules, name)(*args, **kwargs))


SCHEDULES = [
    ("ExponentialDecay", (0.1, 3, 0.5), {}),
    ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([2, 5], [0.1, 0.05, 0.01]), {}),
    ("PolynomialDecay", (0.1, 6), {"end_learning_rate": 0.01, "power": 2.0}),
    ("PolynomialDecay", (0.1, 4), {"cycle": True}),
    ("InverseTimeDecay", (0.1, 2, 0.5), {}),
    ("InverseTimeDecay", (0.1, 2, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 8), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 6), {"warmup_target": 0.1, "warmup_steps": 3}),
    ("CosineDecayRestarts", (0.1, 3), {"t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 3), {"t_mul": 1.0}),
]


@pytest.mark.parametrize("name,args,kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_values_match_keras(name, args, kwargs):
    k_sched, n_sched = _schedule_pair(name, *args, **kwargs)
    steps = jnp.arange(0, 25, dtype=jnp.int32)
    k_vals = np.asarray(jax.jit(jax.vmap(k_sched))(steps))  # Keras's ops are jax.numpy
    n_vals = np.asarray(jax.jit(jax.vmap(n_sched))(steps))
    np.testing.assert_allclose(n_vals, k_vals, **TOL)
    assert n_sched.get_config() == k_sched.get_config()


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Adafactor"])
def test_optimizer_with_schedule_matches_keras(cls_name):
    inits, grads = _problem(1)
    k_sched, n_sched = _schedule_pair("ExponentialDecay", 0.1, 3, 0.5)
    k_hist, k_opt, _ = _run_keras(getattr(keras.optimizers, cls_name)(learning_rate=k_sched),
                                  inits, grads)
    n_hist, n_opt = _run_kiln(getattr(kopt, cls_name)(learning_rate=n_sched), inits, grads)
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for h in n_hist for v in h]),
                               np.concatenate([np.ravel(v) for h in k_hist for v in h]), **TOL)
    assert len(n_opt.variables) == len(k_opt.variables)  # no learning-rate variable
    np.testing.assert_allclose(n_opt.learning_rate, float(k_opt.learning_rate), rtol=1e-6)


def test_callable_learning_rate_matches_keras():
    _compare("Adam", {"learning_rate": lambda: 0.03})


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Nadam"])
def test_ema_matches_keras(cls_name):
    kwargs = {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.9,
              "ema_overwrite_frequency": 3}
    _compare(cls_name, kwargs)


def test_ema_finalize_matches_keras():
    inits, grads = _problem(2)
    kwargs = {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.8}
    _, k_opt, k_vars = _run_keras(keras.optimizers.Adam(**kwargs), inits, grads)
    k_opt.finalize_variable_values(k_vars)
    n_vars = [Variable(x, name=f"v{i}") for i, x in enumerate(inits)]
    n_opt = kopt.Adam(**kwargs)
    for g in grads:
        n_opt.apply_gradients(zip(g, n_vars))
    n_opt.finalize_variable_values(n_vars)
    for n, k in zip(n_vars, k_vars):
        np.testing.assert_allclose(n.numpy(), np.asarray(k.value), **TOL)


@pytest.mark.parametrize("cls_name", ["SGD", "Nadam"])
def test_gradient_accumulation_matches_keras(cls_name):
    kwargs = {"learning_rate": 0.05, "gradient_accumulation_steps": 3, "clipnorm": 1.0}
    if cls_name == "SGD":
        kwargs["momentum"] = 0.5
    n_opt, k_opt = _compare(cls_name, kwargs, keras_jit=True, jit=True)
    assert int(n_opt.iterations) == int(k_opt.iterations) == STEPS // 3


def test_loss_scale_factor_matches_keras():
    _compare("Adam", {"learning_rate": 0.05, "loss_scale_factor": 8.0, "global_clipnorm": 1.0})


def test_apply_gradients_with_missing_gradient_matches_keras():
    inits, grads = _problem(3)
    k_vars = [keras.Variable(x) for x in inits]
    n_vars = [Variable(x, name=f"v{i}") for i, x in enumerate(inits)]
    k_opt = keras.optimizers.Adam(learning_rate=0.05, weight_decay=0.1)
    n_opt = kopt.Adam(learning_rate=0.05, weight_decay=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step, g in enumerate(grads[:4]):
            g = [None if (step % 2 and i == 1) else x for i, x in enumerate(g)]
            k_opt.apply_gradients(zip(g, k_vars))
            n_opt.apply_gradients(zip(g, n_vars))
            for n, k in zip(n_vars, k_vars):
                np.testing.assert_allclose(n.numpy(), np.asarray(k.value), **TOL)
    for n, k in zip(n_opt.variables, k_opt.variables):
        np.testing.assert_allclose(np.asarray(n), np.asarray(k.value), **TOL)


def test_stateless_apply_matches_keras():
    inits, grads = _problem(4)
    k_opt, n_opt = keras.optimizers.RMSprop(momentum=0.5), kopt.RMSprop(momentum=0.5)
    k_vars = [keras.Variable(x) for x in inits]
    k_opt.build(k_vars)
    n_opt.build({f"p{i}": jnp.asarray(x) for i, x in enumerate(inits)})
    k_opt_vars, n_opt_vars = [v.value for v in k_opt.variables], n_opt.variables
    k_train, n_train = [v.value for v in k_vars], list(map(jnp.asarray, inits))
    for g in grads[:3]:
        k_train, k_opt_vars = k_opt.stateless_apply(k_opt_vars, g, k_train)
        n_train, n_opt_vars = n_opt.stateless_apply(n_opt_vars, g, n_train)
    for n, k in zip(n_train + n_opt_vars, k_train + k_opt_vars):
        np.testing.assert_allclose(np.asarray(n), np.asarray(k), **TOL)


@pytest.mark.parametrize("cls_name", ALL)
def test_config_matches_keras(cls_name):
    k_cfg = getattr(keras.optimizers, cls_name)(name="opt").get_config()
    n_cfg = getattr(kopt, cls_name)(name="opt").get_config()
    assert n_cfg == k_cfg
