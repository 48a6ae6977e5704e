"""The one registry and the one serialize/deserialize pair (kiln._registry, kiln._serialization).

Every registered class is taken from the registry itself, so a class added later is covered.
"""

import builtins
import importlib
import inspect
import json

import numpy as np
import pytest

import kiln
from kiln import _registry, _serialization

L = kiln.layers


def _functional():
    x = kiln.Input((3,), name="x")
    return kiln.Model(x, L.Dense(2, name="d")(x), name="f")


@kiln.saving.register_keras_serializable(package="test_registry")
def _jax_layer_identity(inputs):
    return inputs


# Constructor arguments of the classes that need some (everything else is built bare).
ARGS = {
    "layers": {
        "LayerScale": dict(init_values=1e-6, projection_dim=3), "CustomScaleLayer": dict(scale=0.2),
        "Pipeline": dict(layers=[L.AutoContrast(), L.RandomFlip(seed=1)]),
        "MaxNumBoundingBoxes": dict(max_number=3),
        "StochasticDepth": dict(drop_path_rate=0.1),
        "ReversibleEmbedding": dict(input_dim=5, output_dim=2), "Hashing": dict(num_bins=3),
        "HashedCrossing": dict(num_bins=3), "JaxLayer": dict(call_fn=_jax_layer_identity),
        "RandomCrop": dict(height=2, width=2), "RandomRotation": dict(factor=0.1),
        "RandomTranslation": dict(height_factor=0.1, width_factor=0.1),
        "RandomZoom": dict(height_factor=0.1),
        "RandomColorDegeneration": dict(factor=0.5), "RandomHue": dict(factor=0.5),
        "RandomPosterization": dict(factor=4), "RandomSaturation": dict(factor=0.5),
        "RandomSharpness": dict(factor=0.5),
        "Dense": dict(units=3), "Activation": dict(activation="relu"),
        "Reshape": dict(target_shape=(2, 2)), "Dropout": dict(rate=0.5),
        "SpatialDropout1D": dict(rate=0.5), "SpatialDropout2D": dict(rate=0.5),
        "SpatialDropout3D": dict(rate=0.5), "GaussianNoise": dict(stddev=0.1),
        "GaussianDropout": dict(rate=0.1), "AlphaDropout": dict(rate=0.1),
        **{f"Conv{d}{t}": dict(filters=2, kernel_size=3) for d in ("1D", "2D", "3D")
           for t in ("", "Transpose")},
        "SeparableConv1D": dict(filters=2, kernel_size=3),
        "SeparableConv2D": dict(filters=2, kernel_size=3),
        "DepthwiseConv1D": dict(kernel_size=3), "DepthwiseConv2D": dict(kernel_size=3),
        **{f"AveragePooling{d}": dict(pool_size=2) for d in ("1D", "2D", "3D")},
        "Dot": dict(axes=1), "Permute": dict(dims=(2, 1)), "RepeatVector": dict(n=2),
        "Embedding": dict(input_dim=5, output_dim=2), "InputLayer": dict(shape=(3,)),
        "Discretization": dict(bin_boundaries=[0.0, 1.0]), "CategoryEncoding": dict(num_tokens=4),
        "Rescaling": dict(scale=0.5), "SimpleRNN": dict(units=2), "LSTM": dict(units=2),
        "GRU": dict(units=2), "SimpleRNNCell": dict(units=2), "LSTMCell": dict(units=2),
        "GRUCell": dict(units=2), "RNN": dict(cell=L.LSTMCell(2)),
        "StackedRNNCells": dict(cells=[L.LSTMCell(2), L.GRUCell(2)]),
        "Bidirectional": dict(layer=L.LSTM(2)), "MultiHeadAttention": dict(num_heads=2, key_dim=3),
        "StringLookup": dict(vocabulary=["a", "b"]), "IntegerLookup": dict(vocabulary=[1, 2]),
        "TextVectorization": dict(max_tokens=10), "Lambda": dict(function=abs),
        **{f"Adaptive{k}Pooling{d}": dict(output_size=2) for k in ("Average", "Max")
           for d in ("1D", "2D", "3D")},
        "CenterCrop": dict(height=2, width=2), "Resizing": dict(height=2, width=2),
        "EinsumDense": dict(equation="ab,bc->ac", output_shape=3),
        "RandomBrightness": dict(factor=0.1), "RandomContrast": dict(factor=0.1),
        "SpectralNormalization": dict(layer=L.Dense(2)), "TimeDistributed": dict(layer=L.Dense(2)),
        "Wrapper": dict(layer=L.Dense(2)),
        **{f"ConvLSTM{d}": dict(filters=2, kernel_size=2) for d in ("1D", "2D", "3D")},
        "GroupQueryAttention": dict(head_dim=2, num_query_heads=2, num_key_value_heads=1),
    },
    "metrics": {
        "PrecisionAtRecall": dict(recall=0.5), "RecallAtPrecision": dict(precision=0.5),
        "SensitivityAtSpecificity": dict(specificity=0.5),
        "SpecificityAtSensitivity": dict(sensitivity=0.5),
        "IoU": dict(num_classes=3, target_class_ids=[0]), "MeanIoU": dict(num_classes=3),
        "OneHotIoU": dict(num_classes=3, target_class_ids=[0]),
        "OneHotMeanIoU": dict(num_classes=3), "MeanMetricWrapper": dict(fn=kiln.losses.mean_squared_error),
    },
    "losses": {"LossFunctionWrapper": dict(fn=kiln.losses.mean_squared_error)},
    "optimizers": {"LossScaleOptimizer": dict(inner_optimizer=kiln.optimizers.SGD())},
    "schedules": {
        "ExponentialDecay": dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9),
        "InverseTimeDecay": dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9),
        "PolynomialDecay": dict(initial_learning_rate=0.1, decay_steps=10),
        "CosineDecay": dict(initial_learning_rate=0.1, decay_steps=10),
        "CosineDecayRestarts": dict(initial_learning_rate=0.1, first_decay_steps=10),
        "PiecewiseConstantDecay": dict(boundaries=[5], values=[0.1, 0.01]),
    },
}
FACTORIES = {("models", "Functional"): _functional,
             ("models", "Sequential"): lambda: kiln.Sequential([kiln.Input((3,)), L.Dense(2)])}
# Abstract bases: registered so that configs may name them, but not usable by themselves.
ABSTRACT = {("layers", "FlaxLayer"), ("schedules", "LearningRateSchedule"), ("optimizers", "Optimizer"),
            ("regularizers", "Regularizer")}

CLASSES = sorted((kind, name) for kind in _registry.KINDS
                 for name, obj in _registry.builtins(kind).items()
                 if inspect.isclass(obj) and (kind, name) not in ABSTRACT)
FUNCTIONS = sorted((kind, name) for kind in _registry.KINDS
                   for name, obj in _registry.builtins(kind).items() if not inspect.isclass(obj))


def _json(config):
    return json.loads(json.dumps(config))


def test_every_kind_is_populated():
    for kind in _registry.KINDS:
        assert _registry.builtins(kind), kind


@pytest.mark.parametrize("kind, name", CLASSES)
def test_from_config_of_get_config_is_a_fixed_point(kind, name):
    cls = _registry.builtins(kind)[name]
    factory = FACTORIES.get((kind, name))
    obj = factory() if factory else cls(**ARGS.get(kind, {}).get(name, {}))
    config = _json(obj.get_config())
    # (Lambda names its function: rebuilding it needs safe_mode=False and the function.)
    with _serialization.safe_mode_scope(False), kiln.saving.custom_object_scope({"abs": abs}):
        rebuilt = type(obj).from_config(config)
    assert _json(rebuilt.get_config()) == config


@pytest.mark.parametrize("kind, name", FUNCTIONS)
def test_every_registered_function_round_trips(kind, name):
    fn = _registry.builtins(kind)[name]
    config = _json(_serialization.serialize(fn))
    assert config == {"module": "builtins", "class_name": "function", "config": name,
                      "registered_name": "function"}
    assert _serialization.deserialize(config, kind) is fn


@pytest.mark.parametrize("obj, kind", [
    (kiln.losses.Huber(delta=2.0), "losses"), (kiln.losses.mean_absolute_error, "losses"),
    (kiln.metrics.AUC(num_thresholds=50), "metrics"),
    (kiln.initializers.RandomNormal(stddev=0.2, seed=3), "initializers"),
    (kiln.regularizers.L1L2(l1=0.1, l2=0.2), "regularizers"),
    (kiln.constraints.MaxNorm(3.0), "constraints"),
    (kiln.activations.gelu, "activations"),
])
def test_deserialize_of_serialize(obj, kind):
    config = _json(_serialization.serialize(obj))
    assert config["module"] in ("builtins", _registry.KINDS[kind])
    back = _serialization.deserialize(config, kind)
    if callable(obj) and not hasattr(obj, "get_config"):
        assert back is obj
    else:
        assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_package_helpers_round_trip():
    assert kiln.losses.deserialize(kiln.losses.serialize(kiln.losses.Hinge())).name == "hinge"
    assert kiln.metrics.deserialize(kiln.metrics.serialize(kiln.metrics.Recall())).name == "recall"
    assert kiln.constraints.deserialize(kiln.constraints.serialize(kiln.constraints.NonNeg()))
    layer = kiln.layers.deserialize(_json(kiln.layers.serialize(L.Dense(4, name="d4"))))
    assert layer.units == 4 and layer.name == "d4"
    assert kiln.activations.deserialize(kiln.activations.serialize(kiln.activations.relu)) \
        is kiln.activations.relu


def test_optimizer_with_schedule_round_trip():
    schedule = kiln.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    opt = kiln.optimizers.Adam(learning_rate=schedule, beta_1=0.8)
    config = _json(kiln.optimizers.serialize(opt))
    assert config["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    back = kiln.optimizers.deserialize(config)
    assert type(back) is kiln.optimizers.Adam and back.get_config() == opt.get_config()


def _same_predictions(model, rebuilt, x):
    rebuilt.set_weights(model.get_weights())
    want, got = model.predict(x, verbose=0), rebuilt.predict(x, verbose=0)
    for w, g in zip(want if isinstance(want, list) else [want],
                    got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(g, w, atol=1e-6)


def test_functional_round_trip_multi_io_shared_and_nested():
    a, b = kiln.Input((4,), name="a"), kiln.Input((4,), name="b")
    shared = L.Dense(3, name="shared")
    inner_in = kiln.Input((3,), name="inner_in")
    inner = kiln.Model(inner_in, L.Dense(2, name="inner_d")(inner_in), name="inner")
    left, right = shared(a), shared(b)
    out1 = inner(L.Add(name="add")([left, right]))
    out2 = L.Dense(1, name="o2")(right)
    model = kiln.Model([a, b], [out1, out2], name="m")
    config = _json(model.get_config())
    assert config["layers"][2]["inbound_nodes"][1]["args"][0]["config"]["keras_history"] == \
        ["b", 0, 0]
    assert config["output_layers"] == [["inner", 1, 0], ["o2", 0, 0]]
    rebuilt = kiln.Model.from_config(config)
    assert _json(rebuilt.get_config()) == config
    x = [np.random.default_rng(0).normal(size=(5, 4)).astype("float32") for _ in range(2)]
    _same_predictions(model, rebuilt, x)


def test_sequential_round_trip():
    model = kiln.Sequential([kiln.Input((3,)), L.Dense(4, activation="relu"), L.Dropout(0.1),
                             L.Dense(1)], name="s")
    config = _json(model.get_config())
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert config["build_input_shape"] == [None, 3]
    rebuilt = kiln.Sequential.from_config(config)
    assert _json(rebuilt.get_config()) == config
    _same_predictions(model, rebuilt, np.ones((2, 3), "float32"))


def test_subclassed_model_from_config_calls_cls():
    class Custom(kiln.Model):
        def __init__(self, width=2, **kwargs):
            super().__init__(**kwargs)
            self.width = width

    assert Custom.from_config({"width": 5, "name": "c"}).width == 5


def test_unknown_and_unregistered_names_say_how_to_fix():
    with pytest.raises(ValueError, match="Unknown layer 'Dens'.*'Dense'.*register_keras_serializable"):
        kiln.layers.deserialize({"module": "keras.layers", "class_name": "Dens", "config": {}})

    class Mine(kiln.layers.Layer):
        pass

    config = kiln.layers.serialize(Mine(name="mine"))
    assert config["registered_name"] == "Mine"
    with pytest.raises(ValueError, match="custom_objects"):
        kiln.layers.deserialize(config)
    assert kiln.layers.deserialize(config, custom_objects={"Mine": Mine}).name == "mine"


def test_register_keras_serializable_and_scope():
    @kiln.saving.register_keras_serializable(package="Tests")
    class Scaled(kiln.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    try:
        config = kiln.saving.serialize_keras_object(Scaled(3.0, name="s"))
        assert config["registered_name"] == "Tests>Scaled"
        assert kiln.saving.get_registered_name(Scaled) == "Tests>Scaled"
        assert kiln.saving.get_registered_object("Tests>Scaled") is Scaled
        assert kiln.saving.deserialize_keras_object(_json(config)).factor == 3.0
    finally:
        del kiln.saving.get_custom_objects()["Tests>Scaled"]

    def twice(x):
        return 2 * x

    with kiln.saving.custom_object_scope({"twice": twice}):
        assert kiln.activations.get("twice") is twice
    with pytest.raises(ValueError, match="Unknown activation 'twice'"):
        kiln.activations.get("twice")


def test_lambda_configs_are_refused_in_safe_mode():
    def offset(x):
        return x + 1.0

    config = _json(kiln.layers.serialize(L.Lambda(offset, name="lam")))
    with pytest.raises(ValueError, match="safe_mode=False"):
        kiln.layers.deserialize(config, custom_objects={"offset": offset})
    layer = kiln.layers.deserialize(config, custom_objects={"offset": offset}, safe_mode=False)
    assert layer.function is offset
    code = {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None}}
    with pytest.raises(ValueError, match="never"):
        kiln.saving.deserialize_keras_object(code, safe_mode=False)


@pytest.mark.parametrize("config", [
    {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
    {"module": "subprocess", "class_name": "Popen", "config": {"args": "true"},
     "registered_name": "subprocess.Popen"},
    {"module": "builtins", "class_name": "function", "config": "os.system",
     "registered_name": "function"},
    "os.system",
])
def test_nothing_is_imported_by_name(config, monkeypatch):
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    monkeypatch.setattr(importlib, "import_module", lambda *a, **k: pytest.fail("import_module"))
    with pytest.raises(ValueError, match="Unknown"):
        kiln.saving.deserialize_keras_object(config)
    assert not {"os", "subprocess", "os.system"} & set(imported)
