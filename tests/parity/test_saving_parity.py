"""`.keras` files both ways with Keras 3: a file kiln writes loads in Keras and predicts what
kiln predicted, and a file Keras writes loads in kiln and predicts what Keras predicted. Each
library runs in its own subprocess, so they never share a process."""

import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent('''
    import os, sys
    import numpy as np
    os.environ["KERAS_BACKEND"] = "jax"
    lib, action, folder = sys.argv[1], sys.argv[2], sys.argv[3]
    if lib == "kiln":
        import kiln as K
    else:
        import keras as K
    x = np.random.RandomState(0).rand(4, 6).astype("float32")
    t = np.random.RandomState(1).randint(1, 9, size=(4, 5))

    def functional():
        # One branch: with parallel branches kiln orders the layers (hence the optimizer's
        # positional slots) differently from Keras (a known gap, see docs/saving.md).
        b = K.Input((5,), dtype="int32", name="b")
        s = K.layers.LSTM(3)(K.layers.Embedding(10, 4)(b))
        h = K.layers.BatchNormalization()(K.layers.Dense(8, activation="relu")(s))
        inner = K.Sequential([K.Input((8,)), K.layers.Dense(4, activation="tanh")], name="inner")
        h = inner(h)
        return K.Model(b, [K.layers.Dense(2, name="y1")(h), K.layers.Dense(1, name="y2")(h)])

    def sequential():
        return K.Sequential([K.Input((6, 1)), K.layers.Conv1D(3, 3, activation="relu"),
                             K.layers.GlobalAveragePooling1D(), K.layers.Dense(2)])

    data = {"functional": (t, [np.ones((4, 2)), np.ones((4, 1))]),
            "sequential": (x[..., None], np.ones((4, 2)))}
    for name, build in [("functional", functional), ("sequential", sequential)]:
        inputs, labels = data[name]
        path = os.path.join(folder, f"{lib}_{name}")
        if action == "write":
            m = build()
            m.compile("adam", "mse")
            m.fit(inputs, labels, epochs=1, verbose=0)
            m.save(path + ".keras")
            out = m.predict(inputs, verbose=0)
            np.savez(path + ".npz", *[np.asarray(o) for o in (out if isinstance(out, list) else [out])])
        else:
            other = "keras" if lib == "kiln" else "kiln"
            path = os.path.join(folder, f"{other}_{name}")
            m = K.models.load_model(path + ".keras")
            out = m.predict(inputs, verbose=0)
            want = np.load(path + ".npz")
            out = out if isinstance(out, list) else [out]
            err = max(float(np.abs(np.asarray(o) - want[f"arr_{i}"]).max()) for i, o in enumerate(out))
            print(f"{lib} loads {other} {name}: {err}")
            assert err < 1e-5, (name, err)
''')


def _run(tmp_path, lib, action):
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, lib, action, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_keras_files_load_in_kiln_and_kiln_files_in_keras(tmp_path):
    _run(tmp_path, "kiln", "write")
    _run(tmp_path, "keras", "write")
    out = _run(tmp_path, "keras", "read") + _run(tmp_path, "kiln", "read")
    assert out.count("loads") == 4, out
