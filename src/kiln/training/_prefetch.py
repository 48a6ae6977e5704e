"""A background thread that prepares the next batches while the device runs the current one."""

from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(source: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Yields the items of `source`, produced up to `depth` items ahead on a worker thread.

    The host work of building batch n+1 (reading a generator, gathering rows, copying to the
    device) overlaps with the device computing batch n. Exceptions raised by `source` are
    re-raised here, in the caller's thread, at the point where that item would have come.
    """
    items: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in source:
                if stop.is_set():
                    return
                items.put(item)
            items.put(_DONE)
        except BaseException as error:  # delivered to the consumer
            items.put(_Failure(error))

    thread = threading.Thread(target=work, name="kiln-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                items.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.01)
