"""The one `serialize` / `deserialize` pair, in Keras's dict format (a ground module).

An object with `get_config` becomes `{"module", "class_name", "config", "registered_name"}`
(plus `build_config` for a built layer); a function becomes `{"module": "builtins",
"class_name": "function", "config": <registered name>, "registered_name": "function"}`.
`deserialize` resolves names only through `kiln._registry` (user objects, then built-ins of the
expected kind): nothing named in a config is ever imported, and Python code (`__lambda__`) is
never loaded.

Example:
    >>> import kiln
    >>> config = serialize(kiln.initializers.Constant(2.0))
    >>> config["module"], config["class_name"], config["registered_name"]
    ('keras.initializers', 'Constant', None)
    >>> deserialize(config, kind="initializers").value
    2.0
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Any, Iterator

import numpy as np

from . import _registry
from ._utils import closest_names, overrides

__all__ = ["build", "deserialize", "deserialize_keras_object", "in_safe_mode", "resolve",
           "safe_mode_scope", "serialize", "serialize_keras_object", "unknown_object_error"]

_SAFE = threading.local()
_LABELS = {"layers": "layer", "models": "model", "losses": "loss", "metrics": "metric",
           "optimizers": "optimizer", "schedules": "learning rate schedule",
           "initializers": "initializer", "regularizers": "regularizer",
           "constraints": "constraint", "activations": "activation"}
# Modules Keras writes for models, besides `keras` (KINDS["models"]).
_MODULE_KINDS = {module: kind for kind, module in _registry.KINDS.items()}
_MODULE_KINDS.update({"keras.models": "models", "keras.src.models.functional": "models",
                      "keras.src.models.sequential": "models",
                      "keras.src.models.model": "models"})
# Layer arguments Keras writes that kiln does not implement: dropped when they hold Keras's
# neutral value (anything else reaches the constructor, which names the unsupported argument).
_KEEP = object()
_KERAS_ONLY = {"quantization_config": None, "optional": False, "sparse": False,
               "ragged": False, "lora_rank": None, "lora_alpha": None}
# Layers whose Keras `build` takes several shapes (Keras writes a `shapes_dict`, kiln keeps
# only the first input's shape): no build_config is written for them.
_SHAPES_DICT_BUILD = {"MultiHeadAttention", "Attention", "AdditiveAttention"}
# Registered names that Keras writes under another module than their kind's.
_MODULE_OF_NAME = {("models", "Functional"): "keras.src.models.functional",
                   ("layers", "LayerScale"): "keras.src.applications.convnext",
                   ("layers", "StochasticDepth"): "keras.src.applications.convnext",
                   ("layers", "CustomScaleLayer"): "keras.src.applications.inception_resnet_v2"}


# The builder of functional-graph operations (`kiln.layers` sets it when it loads): Keras
# writes an op called on symbolic tensors as `{"module": "keras.src.ops.numpy", "class_name":
# "Multiply", ...}`; only names of `kiln.ops` functions are accepted.
OPERATIONS: dict[str, Any] = {"from_config": None}


# -- safe mode ---------------------------------------------------------------------------------
_PROCESS = {"unsafe": False}  # set only by the program itself, never by a file


def in_safe_mode() -> bool:
    """Whether configs may only name registered objects (True unless `safe_mode=False`, or
    the program called `kiln.config.enable_unsafe_deserialization()`)."""
    return getattr(_SAFE, "value", True) and not _PROCESS["unsafe"]


def enable_unsafe_deserialization() -> None:
    """Turns safe mode off for the whole process, as Keras's function of the same name does:
    Lambda layers saved with their bytecode then load. Only code can call it; a config
    naming it is refused like any unregistered name."""
    _PROCESS["unsafe"] = True


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None = True) -> Iterator[None]:
    """Sets `in_safe_mode()` for the block (None keeps the current setting)."""
    saved = getattr(_SAFE, "value", True)
    _SAFE.value = saved if safe_mode is None else bool(safe_mode)
    try:
        yield
    finally:
        _SAFE.value = saved


# -- serialize ---------------------------------------------------------------------------------
def serialize(obj: Any) -> Any:
    """`obj` as JSON-friendly data in Keras's format (plain values and containers pass through).

    Raises:
        ValueError: for a Python lambda (kiln never stores code) or an object without
            `get_config`.
    """
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize(v) for k, v in obj.items()}
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    if isinstance(obj, slice):  # an index of a graph's GetItem, as Keras writes it
        return {"class_name": "__slice__",
                "config": {"start": obj.start, "stop": obj.stop, "step": obj.step}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _serialize_function(obj)
    if hasattr(obj, "get_config"):
        return _serialize_object(obj)
    raise ValueError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: expected a kiln "
                     "object with get_config(), a function, or plain data. Give your class a "
                     "get_config() and register it with kiln.saving.register_keras_serializable.")


def _serialize_function(fn: Any) -> dict[str, Any]:
    if getattr(fn, "__name__", "<lambda>") == "<lambda>":
        raise ValueError(f"Cannot serialize the lambda {fn!r}: kiln never stores code in a "
                         "config. Define it with `def`, register it with "
                         "kiln.saving.register_keras_serializable(), and serialize that.")
    name = _registry.builtin_name(fn) or _registry.get_registered_name(fn)
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def _serialize_object(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    keras_module = getattr(obj, "_keras_module", None)
    if keras_module is not None:  # a functional-graph operation, as Keras writes one
        name = obj._registered_class_name
        return {"module": keras_module, "class_name": name, "config": obj.get_config(),
                "registered_name": name}
    name = getattr(obj, "_registered_class_name", None) or _registry.builtin_name(cls)
    kind = _registry.kind_of(cls)
    if name is not None and kind is not None:
        module = _MODULE_OF_NAME.get((kind, name), _registry.keras_module(kind))
        out = {"module": module, "class_name": name, "config": obj.get_config(),
               "registered_name": None}
    else:
        out = {"module": cls.__module__, "class_name": cls.__name__,
               "config": obj.get_config(), "registered_name": _registry.get_registered_name(cls)}
    if overrides(obj, "get_build_config"):
        build_config = obj.get_build_config()  # the class's own, as Keras writes it
        if build_config is not None:
            out["build_config"] = serialize(build_config)
        return out
    build_shape = getattr(obj, "_build_shape", None) if getattr(obj, "built", False) else None
    if build_shape is not None and out["class_name"] not in _SHAPES_DICT_BUILD:
        out["build_config"] = {"input_shape": serialize(build_shape)}
    return out


# -- deserialize -------------------------------------------------------------------------------
def deserialize(config: Any, kind: str | None = None, custom_objects: dict[str, Any] | None = None,
                safe_mode: bool | None = None, label: str | None = None) -> Any:
    """Rebuilds what `serialize` wrote (or Keras wrote): an instance, a function, or data.

    Args:
        config: a serialized dict, a registered name (gives the class or function), a list.
        kind: the expected kind ("layers", "losses", ...): its built-ins are looked up.
        custom_objects: name -> class or function for user objects (also seen by nested
            `from_config` calls).
        safe_mode: False allows a Lambda layer to name a function to look up (never to load
            code); None keeps the surrounding setting (True by default).
        label: what the object is, for error messages ("loss", "metric class", ...).

    Raises:
        ValueError: an unknown name (with close matches and the fix) or a malformed config.
    """
    with _registry.custom_object_scope(custom_objects), safe_mode_scope(safe_mode):
        return _deserialize(config, kind, label)


def _deserialize(config: Any, kind: str | None, label: str | None) -> Any:
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        return resolve(config, kind, label)
    if isinstance(config, (list, tuple)):
        return [_deserialize(c, kind, label) for c in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize {config!r}: expected a registered name or a dict "
                         "with 'class_name' and 'config' keys, as written by serialize().")
    class_name, inner = config["class_name"], config.get("config")
    special = _SPECIAL.get(class_name)
    if special is not None:
        return special(config, kind, label)
    module = str(config.get("module") or "")
    if module.startswith("keras.src.ops.") and OPERATIONS["from_config"] is not None:
        return OPERATIONS["from_config"](class_name, module, inner)
    registered = config.get("registered_name")
    module_kind = _MODULE_KINDS.get(config.get("module"))
    name = registered if registered and registered != class_name else class_name
    kind = module_kind or kind
    obj = resolve(name, kind, label, fallback=class_name)
    if not inspect.isclass(obj):
        return obj
    inner = dict(inner or {})
    if kind == "layers":
        inner = {k: v for k, v in inner.items() if _KERAS_ONLY.get(k, _KEEP) != v}
    instance = obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
    _own_build_from_config(instance, config.get("build_config"))
    return instance


def _own_build_from_config(instance: Any, build_config: Any) -> None:
    """A class that defines its own `build_from_config` gets it called on load, as Keras
    calls it, and so does an unbuilt (subclassed) model; kiln's layers are built by the graph
    or by their first call instead."""
    if not build_config or not hasattr(instance, "build_from_config"):
        return
    if overrides(instance, "build_from_config"):
        instance.build_from_config(build_config)
    elif hasattr(instance, "_functional") and not getattr(instance, "built", True) \
            and "input_shape" in build_config:
        # a subclassed model is built from its recorded input shape before its weights load
        instance.build_from_config(build_config)


def _function(config: dict, kind: str | None, label: str | None) -> Any:
    return resolve(config.get("config"), kind, label or "function")


def _lambda(config: dict, kind: str | None, label: str | None) -> Any:
    raise ValueError(
        "Refusing to deserialize a Python lambda stored as bytecode (class_name '__lambda__'): "
        "running code from a config allows arbitrary code execution, and kiln never does it, "
        "even with safe_mode=False. Define the function with `def`, register it with "
        "kiln.saving.register_keras_serializable() (or pass it in custom_objects), and save "
        "the model again.")


def _numpy(config: dict, kind: str | None, label: str | None) -> Any:
    inner = config.get("config") or {}
    return np.asarray(inner.get("value"), dtype=inner.get("dtype"))


def _tuple(config: dict, kind: str | None, label: str | None) -> Any:
    return tuple(_deserialize(v, kind, label) for v in (config.get("config") or {}).get("value", []))


def _dtype_policy(config: dict, kind: str | None, label: str | None) -> Any:
    return (config.get("config") or {}).get("name")


def _slice(config: dict, kind: str | None, label: str | None) -> Any:
    inner = config.get("config") or {}
    return slice(inner.get("start"), inner.get("stop"), inner.get("step"))


_SPECIAL = {"function": _function, "__lambda__": _lambda, "__numpy__": _numpy,
            "__tuple__": _tuple, "DTypePolicy": _dtype_policy, "__slice__": _slice,
            "__ellipsis__": lambda config, kind, label: Ellipsis}


def build(config: Any, kind: str, custom_objects: dict[str, Any] | None = None,
          label: str | None = None) -> Any:
    """Like `deserialize`, but a name given as a string gives an instance (built with its
    defaults through `from_config({})`) rather than the class itself."""
    obj = deserialize(config, kind, custom_objects, label=label)
    if inspect.isclass(obj):
        return obj.from_config({}) if hasattr(obj, "from_config") else obj()
    return obj


def resolve(name: Any, kind: str | None = None, label: str | None = None,
            fallback: str | None = None) -> Any:
    """The class or function registered as `name` (user objects first), or a ValueError that
    lists close matches and says how to register it."""
    found = _registry.lookup(name, kind)
    if found is None and fallback is not None and fallback != name:
        found = _registry.lookup(fallback, kind)
    if found is None:
        raise unknown_object_error(name, kind, label)
    return found


def unknown_object_error(name: Any, kind: str | None, label: str | None = None) -> ValueError:
    """"Unknown <label> '<name>'. Did you mean ...? <how to register it>"."""
    label = label or _LABELS.get(kind, "object")
    valid = _registry.known_names(kind)
    close = closest_names(str(name), valid)
    msg = f"Unknown {label} {name!r}."
    if close:
        msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    msg += (f" If {name!r} is your own class or function, decorate it with "
            "@kiln.saving.register_keras_serializable() or pass "
            f"custom_objects={{{str(name)!r}: ...}} when loading (nothing is imported by name).")
    return ValueError(msg)


def serialize_keras_object(obj: Any) -> Any:
    """`obj` in Keras's format: `{"module", "class_name", "config", "registered_name"}` (and
    `build_config` for a built layer); functions by registered name; plain data as is."""
    return serialize(obj)


def deserialize_keras_object(config: Any, custom_objects: dict[str, Any] | None = None,
                             safe_mode: bool = True, **kwargs: Any) -> Any:
    """Rebuilds what `serialize_keras_object` (or Keras) wrote.

    Args:
        config: a serialized dict (or a registered name, which gives the class or function).
        custom_objects: name -> class or function, for your own objects.
        safe_mode: True (the default) refuses a Lambda layer that names a function; False
            looks that function up among the registered and custom objects (code stored in a
            config is never run).
        **kwargs: accepted for Keras compatibility (`module_objects`, `printable_module_name`).

    Raises:
        ValueError: an unknown name, with the close matches and how to register it.

    Example:
        >>> config = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
        ...           "registered_name": None}
        >>> type(deserialize_keras_object(config)).__name__
        'Zeros'
    """
    return deserialize(config, None, custom_objects, safe_mode)
