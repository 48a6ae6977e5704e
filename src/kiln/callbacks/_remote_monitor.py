"""`RemoteMonitor`: posts each epoch's logs to an HTTP server (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from ._callback import Callback


class RemoteMonitor(Callback):
    """At each epoch end POSTs `{"epoch": epoch, **logs}` to `root + path`: as a form field
    `field` holding the JSON (the default) or, with `send_as_json`, as a JSON body (Keras's
    protocol). An unreachable server warns, it does not stop training. Uses `urllib`, so
    unlike Keras's it needs no `requests`.

    Args:
        root: the server's root URL.
        path: the path the events are sent to.
        field: the form field holding the JSON data.
        headers: optional dict of extra HTTP headers.
        send_as_json: send the body as `application/json`.

    Example:
        >>> cb = RemoteMonitor(root="http://127.0.0.1:9", path="/x")
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     cb.on_epoch_end(0, {"loss": 0.5})
        >>> "Could not reach RemoteMonitor" in str(w[0].message)
        True
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict | None = None,
                 send_as_json: bool = False) -> None:
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, logs: dict, epoch: int) -> urllib.request.Request:
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in logs.items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                      method="POST")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        request = self._request(logs or {}, epoch)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
