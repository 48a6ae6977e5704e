"""Loading a .keras file, watched by a Python audit hook (in a fresh interpreter, since a hook
cannot be removed): the loader opens the archive and nothing else, imports nothing, runs no
code from the file, starts no process, opens no socket, unpickles nothing, loads no library.
A Lambda's bytecode in the file is refused in safe mode before it is unmarshalled."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import os, sys, tempfile, encodings.cp437  # zipfile's codec, imported before the hook
    import numpy as np
    import kiln
    d = tempfile.mkdtemp()
    plain, lam = os.path.join(d, "plain.keras"), os.path.join(d, "lambda.keras")
    i = kiln.Input((3,))
    m = kiln.Model(i, kiln.layers.Dense(2)(kiln.layers.BatchNormalization()(i)))
    m.compile("adam", "mse")
    m.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    m.save(plain)
    kiln.Sequential([kiln.Input((3,)), kiln.layers.Lambda(lambda x: x * 2)]).save(lam)
    want = m.predict(np.ones((1, 3)), verbose=0)
    kiln.models.load_model(plain).predict(np.ones((1, 3)), verbose=0)  # warm every path
    WATCH = ("import", "exec", "compile", "open", "subprocess.Popen", "os.system", "os.exec",
             "os.posix_spawn", "os.fork", "socket.connect", "socket.bind", "pickle.find_class",
             "marshal.loads", "ctypes.dlopen", "os.remove", "os.rename", "os.mkdir",
             "shutil.rmtree", "urllib.Request")
    events = []
    sys.addaudithook(lambda e, a: events.append((e, str(a[0]) if a else ""))
                     if e in WATCH else None)
    got = kiln.models.load_model(plain).predict(np.ones((1, 3)), verbose=0)
    assert np.allclose(got, want)
    try:
        kiln.models.load_model(lam)
    except ValueError as e:
        assert "safe_mode" in str(e), e
    else:
        raise AssertionError("a Lambda's bytecode loaded in safe mode")
    print("EVENTS", sorted(set(events)))
    assert set(events) <= {("open", plain), ("open", lam)}, sorted(set(events))
''')


def test_load_model_touches_only_the_archive():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "EVENTS" in proc.stdout
