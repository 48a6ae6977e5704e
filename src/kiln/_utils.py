"""Small helpers shared by the name registries (activations, losses, metrics, ...)."""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable


def to_snake_case(name: str) -> str:
    """`"CategoricalCrossentropy"` -> `"categorical_crossentropy"` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def closest_names(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid names that look most like `name` (case-insensitive), best first."""
    valid = sorted(set(valid))
    lowered = {v.lower(): v for v in valid}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def unknown_name_error(kind: str, name: Any, valid: Iterable[str], argument: str | None = None) -> ValueError:
    """A ValueError for an unknown identifier that lists the closest valid names.

    Args:
        kind: what was looked up, e.g. "loss", "optimizer", "metric", "activation".
        name: the identifier received.
        valid: every accepted name.
        argument: the argument it came from, e.g. "compile(loss=...)".
    """
    valid = list(valid)
    close = closest_names(str(name), valid)
    where = f" in {argument}" if argument else ""
    msg = f"Unknown {kind} {name!r}{where}."
    if close:
        msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        msg += " Valid names include: " + ", ".join(sorted(valid)[:25]) + "."
    return ValueError(msg)


def kiln_default(fn: Any) -> Any:
    """Marks one of kiln's default methods that a user's class may override in Keras's way
    (`train_step`, `compute_metrics`, `save_own_variables`, ...); `overrides` reads the mark.

    >>> class Base:
    ...     @kiln_default
    ...     def step(self): ...
    >>> class Mine(Base):
    ...     def step(self): ...
    >>> overrides(Base(), "step"), overrides(Mine, "step"), overrides(Mine, "absent")
    (False, True, False)
    """
    fn._kiln_default = True
    return fn


def overrides(obj: Any, name: str) -> bool:
    """Whether the class of `obj` (or `obj`, a class) defines its own `name` in place of
    kiln's `kiln_default`-marked one (a property counts by its getter); False without one."""
    cls = obj if isinstance(obj, type) else type(obj)
    attr = getattr(cls, name, None)
    if attr is None:
        return False
    fn = attr.fget if isinstance(attr, property) else attr
    return not getattr(fn, "_kiln_default", False)
