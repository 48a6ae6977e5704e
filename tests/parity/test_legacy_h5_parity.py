"""Legacy `.h5` model files both ways with Keras 3: a file kiln writes loads in Keras and
predicts what kiln predicted (and the two-branch model's optimizer state, set in Keras, trains
on as kiln's did);
a file Keras writes loads in kiln, predicts what Keras predicted and, compiled from the file,
trains on as Keras did. Each library runs in its own subprocess (Keras writes, kiln reads and
writes, Keras reads)."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import os, sys, warnings
    import numpy as np
    os.environ["KERAS_BACKEND"] = "jax"
    warnings.simplefilter("ignore")
    lib, actions, folder = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    if lib == "kiln":
        import kiln as K
    else:
        import h5py
        import keras as K
        from keras.src.legacy.saving import legacy_h5_format
    x = np.random.RandomState(0).rand(8, 6).astype("float32")
    y = np.random.RandomState(1).rand(8, 2).astype("float32")

    def functional():
        a = K.Input((6,), name="a")
        h1 = K.layers.Dense(3, name="d1")(a)
        h2 = K.layers.Dense(3, activation="relu", name="d2")(a)
        h = K.layers.BatchNormalization()(K.layers.Concatenate()([h1, h2]))
        return K.Model(a, K.layers.Dense(2, name="out")(h))

    def sequential():
        return K.Sequential([K.Input((6,)), K.layers.Dense(4, activation="tanh"),
                             K.layers.Dense(2)])

    def fit(m):
        m.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)

    def write(name, build):
        m = build()
        # Loss and metric objects: Keras 3 cannot read back its own string losses from .h5.
        m.compile(K.optimizers.Adam(1e-2), K.losses.MeanSquaredError())
        fit(m)
        m.save(os.path.join(folder, f"{lib}_{name}.h5"))
        pred = m.predict(x, verbose=0)
        if name == "functional":  # training on is checked on the two-branch model only
            fit(m)
        np.savez(os.path.join(folder, f"{lib}_{name}.npz"), pred=pred,
                 after=m.predict(x, verbose=0))

    def keras_resume(path):
        # Keras's own .h5 loader builds the optimizer on no variables (it cannot train on):
        # set the file's optimizer_weights on a freshly built optimizer instead.
        m = K.models.load_model(path, compile=False)
        m.compile(K.optimizers.Adam(1e-2), K.losses.MeanSquaredError())
        m.optimizer.build(m.trainable_variables)
        with h5py.File(path) as f:
            m.optimizer.set_weights(legacy_h5_format.load_optimizer_weights_from_hdf5_group(f))
        return m

    def read(name):
        other = "keras" if lib == "kiln" else "kiln"
        path = os.path.join(folder, f"{other}_{name}.h5")
        want = np.load(os.path.join(folder, f"{other}_{name}.npz"))
        m = K.models.load_model(path)
        assert type(m.optimizer).__name__ == "Adam", m.optimizer
        assert abs(float(np.asarray(m.optimizer.learning_rate)) - 1e-2) < 1e-7
        loss = m.loss if lib == "keras" else m._compiled.loss  # kiln's Model has no .loss yet
        assert type(loss).__name__ == "MeanSquaredError", loss
        err = float(np.abs(m.predict(x, verbose=0) - want["pred"]).max())
        msg = f"{lib} loads {other} {name}: predict {err:.2e}"
        if name == "functional":
            m = keras_resume(path) if lib == "keras" else m
            fit(m)
            err = max(err, float(np.abs(m.predict(x, verbose=0) - want["after"]).max()))
            msg += f", after one more epoch {err:.2e}"
        print(msg)
        assert err < 1e-5, (name, err)

    for name, build in [("sequential", sequential), ("functional", functional)]:
        if "read" in actions:
            read(name)
        if "write" in actions:
            write(name, build)
''')


def _run(tmp_path, lib, actions):
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, lib, actions, str(tmp_path)], env=env,
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_h5_files_both_ways(tmp_path):
    out = _run(tmp_path, "keras", "write")
    out += _run(tmp_path, "kiln", "read,write")
    out += _run(tmp_path, "keras", "read")
    print(out)
    assert out.count("loads") == 4, out
