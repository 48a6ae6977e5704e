"""The one closed registry: registered name -> class or function (a ground module).

Every built-in object is registered where it is defined, under its Keras name and a *kind*
("layers", "losses", ...; Keras's module is `keras.<kind>`). User objects are registered with
`register_keras_serializable` under `"package>Name"`, or passed as `custom_objects` (directly or
through `custom_object_scope`). Lookups only read these dicts: a name read from a config is never
imported.

Example:
    >>> @register_keras_serializable(package="Demo")
    ... def double(x):
    ...     return 2 * x
    >>> get_registered_name(double)
    'Demo>double'
    >>> get_registered_object("Demo>double") is double
    True
    >>> del get_custom_objects()["Demo>double"]
"""

from __future__ import annotations

import inspect
import threading
from typing import Any, Callable, Iterator

__all__ = [
    "KINDS", "builtin_name", "builtins", "custom_object_scope", "get_custom_objects",
    "get_registered_name", "get_registered_object", "keras_module", "kind_of", "lookup",
    "register", "register_alias", "register_keras_serializable",
]

#: Each kind and the module Keras writes in a serialized object of that kind.
KINDS: dict[str, str] = {
    "layers": "keras.layers", "models": "keras", "losses": "keras.losses",
    "metrics": "keras.metrics", "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules", "initializers": "keras.initializers",
    "regularizers": "keras.regularizers", "constraints": "keras.constraints",
    "activations": "keras.activations",
}

_BUILTINS: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_ALIASES: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_NAME_OF: dict[int, tuple[str, str]] = {}  # id(obj) -> (kind, canonical name)
_GLOBAL_CUSTOM: dict[str, Any] = {}
_CUSTOM_NAME_OF: dict[int, str] = {}  # id(obj) -> "package>Name"
_SCOPE = threading.local()


def register(obj: Any, kind: str, name: str | None = None) -> Any:
    """Registers a built-in class or function under its Keras name (default `__name__`).

    Returns `obj`, so it also works as a decorator-like call at the end of a module.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown registry kind {kind!r}; expected one of {sorted(KINDS)}.")
    name = name or obj.__name__
    _BUILTINS[kind][name] = obj
    _NAME_OF.setdefault(id(obj), (kind, name))
    return obj


def register_alias(kind: str, alias: str, obj: Any) -> None:
    """Adds another name that resolves to an already registered object (e.g. "mse")."""
    _ALIASES[kind][alias] = obj


def builtins(kind: str | None = None) -> dict[str, Any]:
    """The registered built-ins of `kind` (or of every kind, keyed "kind:Name"), as a copy."""
    if kind is not None:
        return dict(_BUILTINS[kind])
    return {f"{k}:{n}": obj for k, table in _BUILTINS.items() for n, obj in table.items()}


def kind_of(obj: Any) -> str | None:
    """The kind a built-in (class, function or instance's class) is registered under."""
    entry = _NAME_OF.get(id(obj)) or _NAME_OF.get(id(type(obj)))
    return entry[0] if entry else None


def builtin_name(obj: Any) -> str | None:
    """The Keras name of a built-in class or function, or None for anything else."""
    entry = _NAME_OF.get(id(obj))
    if entry is not None and _BUILTINS[entry[0]].get(entry[1]) is obj:
        return entry[1]
    return None


def keras_module(kind: str) -> str:
    """The `module` Keras writes for built-ins of `kind`."""
    return KINDS[kind]


# -- user objects ------------------------------------------------------------------------------
def get_custom_objects() -> dict[str, Any]:
    """The global dict of user objects (`register_keras_serializable` adds to it); editable."""
    return _GLOBAL_CUSTOM


def register_keras_serializable(package: str = "Custom", name: str | None = None
                                ) -> Callable[[Any], Any]:
    """Decorator registering a user class or function as `"package>name"` (Keras's scheme).

    Args:
        package: the prefix that keeps names of different packages apart.
        name: the short name; the class or function `__name__` by default.

    Raises:
        ValueError: a class without `get_config`, or a name already used by another object.
    """
    def decorator(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__} as {key!r}: a serializable class "
                             "must define get_config(). Add one returning its constructor "
                             "arguments.")
        old = _GLOBAL_CUSTOM.get(key, obj)
        if old is not obj and not _same_definition(old, obj):
            raise ValueError(f"{key!r} is already registered to {_GLOBAL_CUSTOM[key]!r}; pass "
                             "another package= or name= to register_keras_serializable.")
        _GLOBAL_CUSTOM[key] = obj
        _CUSTOM_NAME_OF[id(obj)] = key
        return obj
    return decorator


def _same_definition(old: Any, new: Any) -> bool:
    """Whether `new` is `old` defined again (a re-run notebook cell, a reloaded module): the
    same module and qualified name. Keras then keeps the newer one, and so does kiln."""
    return (getattr(old, "__module__", None) == getattr(new, "__module__", None)
            and getattr(old, "__qualname__", None) == getattr(new, "__qualname__", None))


def get_registered_name(obj: Any) -> str:
    """`"package>Name"` for a registered user object, else the object's `__name__`."""
    key = _CUSTOM_NAME_OF.get(id(obj))
    if key is not None and _GLOBAL_CUSTOM.get(key) is obj:
        return key
    return getattr(obj, "__name__", type(obj).__name__)


class custom_object_scope:
    """Within `with custom_object_scope({"Name": obj, ...}):`, configs may name these objects.

    Example:
        >>> with custom_object_scope({"my_fn": abs}):
        ...     lookup("my_fn") is abs
        True
        >>> lookup("my_fn") is None
        True
    """

    def __init__(self, *objects: dict[str, Any] | None):
        self._objects: dict[str, Any] = {}
        for table in objects:
            self._objects.update(table or {})

    def __enter__(self) -> "custom_object_scope":
        _SCOPE.stack = _scopes() + [self._objects]
        return self

    def __exit__(self, *exc: Any) -> None:
        _SCOPE.stack = _scopes()[:-1]


def _scopes() -> list[dict[str, Any]]:
    return list(getattr(_SCOPE, "stack", []))


def _custom_tables(custom_objects: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    if custom_objects:
        yield custom_objects
    yield from reversed(_scopes())
    yield _GLOBAL_CUSTOM


def lookup(name: Any, kind: str | None = None, custom_objects: dict[str, Any] | None = None,
           aliases: bool = True) -> Any:
    """The object registered as `name`, or None: user objects first, then built-ins of `kind`
    (of every kind when None), then their aliases. Pure dict reads."""
    if not isinstance(name, str):
        return None
    for table in _custom_tables(custom_objects):
        if name in table:
            return table[name]
    kinds = [kind] if kind is not None else list(KINDS)
    for k in kinds:
        if name in _BUILTINS[k]:
            return _BUILTINS[k][name]
    for k in kinds if aliases else []:
        if name in _ALIASES[k]:
            return _ALIASES[k][name]
    return None


def known_names(kind: str | None = None) -> list[str]:
    """Every name `lookup` resolves for `kind` (for error messages listing close matches)."""
    kinds = [kind] if kind is not None else list(KINDS)
    names = {n for k in kinds for n in (*_BUILTINS[k], *_ALIASES[k])}
    for table in _custom_tables(None):
        names.update(table)
    return sorted(names)


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None,
                          module_objects: dict[str, Any] | None = None) -> Any:
    """The object registered as `name` (custom objects, scopes, global, then `module_objects`,
    then built-ins), or None."""
    found = lookup(name, None, custom_objects)
    if found is None and module_objects and name in module_objects:
        return module_objects[name]
    return found
