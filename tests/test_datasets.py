"""kiln.datasets: Keras's loaders on small files written in Keras's formats (no network)."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from kiln.datasets import (boston_housing, california_housing, cifar10, cifar100,
                           fashion_mnist, imdb, mnist, reuters)
from kiln.utils import _file_utils


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KERAS_HOME, and a downloader that must not be reached unless a test says so."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(origin, target):
        raise urllib.error.URLError("offline in tests")
    monkeypatch.setattr(_file_utils, "_urlretrieve", offline)
    os.makedirs(tmp_path / "datasets")
    return tmp_path / "datasets"


def _hash_into(module, path, monkeypatch):
    monkeypatch.setattr(module, "_HASH", _file_utils.hash_file(str(path)))


def test_mnist_from_cache_and_download(home, monkeypatch):
    x = np.arange(2 * 28 * 28, dtype="uint8").reshape(2, 28, 28)
    src = home.parent / "src.npz"
    np.savez(src, x_train=x, y_train=np.array([3, 4], "uint8"), x_test=x[:1],
             y_test=np.array([5], "uint8"))
    _hash_into(mnist, src, monkeypatch)
    seen = []

    def fake(origin, target):
        seen.append(origin)
        with open(src, "rb") as f, open(target, "wb") as out:
            out.write(f.read())
    monkeypatch.setattr(_file_utils, "_urlretrieve", fake)
    (xt, yt), (xs, ys) = mnist.load_data()
    assert seen == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert xt.dtype == np.uint8 and xt.shape == (2, 28, 28) and ys.tolist() == [5]
    assert (home / "mnist.npz").exists()
    mnist.load_data()  # cached now, hash matches: no second download
    assert len(seen) == 1


def test_missing_file_error_names_file_and_url(home):
    with pytest.raises(OSError, match=r"mnist\.npz.*https://storage\.googleapis\.com/"
                                      r"tensorflow/tf-keras-datasets/mnist\.npz"):
        mnist.load_data()
    assert not os.listdir(home)  # no partial file left behind


def test_fashion_mnist_idx_files(home):
    folder = home / "fashion-mnist"
    os.makedirs(folder)
    images = np.arange(3 * 784, dtype=np.int64).astype("uint8")
    for prefix, n in (("train", 3), ("t10k", 3)):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes(range(n)))
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
    (xt, yt), (xs, ys) = fashion_mnist.load_data()
    assert xt.shape == (3, 28, 28) and xt.dtype == np.uint8 and yt.tolist() == [0, 1, 2]
    assert xt[1, 0, 0] == images[784]


def _cifar_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=4)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_cifar10_archive(home, monkeypatch):
    data = np.arange(2 * 3072, dtype=np.int64).astype("uint8").reshape(2, 3072)
    batch = {b"data": data, b"labels": [1, 7]}
    members = {f"cifar-10-batches-py/data_batch_{i}": batch for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = batch
    archive = home / "cifar-10-batches-py-target_archive"
    _cifar_tar(archive, members)
    _hash_into(cifar10, archive, monkeypatch)
    (xt, yt), (xs, ys) = cifar10.load_data()
    assert xt.shape == (10, 32, 32, 3) and xt.dtype == np.uint8
    assert yt.shape == (10, 1) and yt.dtype == np.uint8 and ys[:, 0].tolist() == [1, 7]
    assert xs[0, 0, 0].tolist() == [data[0, 0], data[0, 1024], data[0, 2048]]


def test_cifar100_label_modes_and_restricted_unpickling(home, monkeypatch):
    data = np.zeros((2, 3072), "uint8")
    split = {b"data": data, b"fine_labels": [10, 90], b"coarse_labels": [1, 9]}
    archive = home / "cifar-100-python-target_archive"
    _cifar_tar(archive, {"cifar-100-python/train": split, "cifar-100-python/test": split})
    _hash_into(cifar100, archive, monkeypatch)
    (_, fine), _ = cifar100.load_data()
    (_, coarse), _ = cifar100.load_data("coarse")
    assert fine[:, 0].tolist() == [10, 90] and coarse.shape == (2, 1)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium")
    evil = {"cifar-100-python/train": {b"data": os.system}, "cifar-100-python/test": split}
    _cifar_tar(archive, evil)
    _hash_into(cifar100, archive, monkeypatch)
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        cifar100.load_data()


def _ragged(seqs):
    out = np.empty(len(seqs), dtype=object)
    out[:] = [list(s) for s in seqs]
    return out


def test_imdb_word_indexing(home, monkeypatch):
    x_train = _ragged([[1, 2, 3], [4, 5], [6, 7, 8, 9]])
    x_test = _ragged([[1], [2, 2]])
    path = home / "imdb.npz"
    np.savez(path, x_train=x_train, y_train=np.array([0, 1, 0]), x_test=x_test,
             y_test=np.array([1, 0]))
    _hash_into(imdb, path, monkeypatch)
    (xt, yt), (xs, ys) = imdb.load_data(seed=0, num_words=100)
    order = np.arange(3)
    rng = np.random.RandomState(0)
    rng.shuffle(order)
    assert xt.dtype == object and [list(s) for s in xt] == [
        [1] + [w + 3 for w in x_train[i]] for i in order]
    (xt, _), _ = imdb.load_data(num_words=7, maxlen=4, oov_char=2, seed=0)
    assert all(len(s) < 4 for s in xt) and all(w < 7 or w == 2 for s in xt for w in s)
    (xt, _), _ = imdb.load_data(start_char=None, index_from=0, skip_top=3, oov_char=None)
    assert all(w >= 3 for s in xt for w in s)
    (home / "imdb_word_index.json").write_text(json.dumps({"the": 1}))
    monkeypatch.setattr(_file_utils, "validate_file", lambda *a, **k: True)
    assert imdb.get_word_index() == {"the": 1}


def test_reuters_split_and_labels(home, monkeypatch):
    path = home / "reuters.npz"
    np.savez(path, x=_ragged([[1, 2]] * 10), y=np.arange(10))
    _hash_into(reuters, path, monkeypatch)
    (xt, yt), (xs, ys) = reuters.load_data(test_split=0.3)
    assert len(xt) == 7 and len(xs) == 3 and sorted(yt.tolist() + ys.tolist()) == list(range(10))
    assert list(xt[0]) == [1, 4, 2]  # Keras: the largest index is out of num_words
    assert reuters.get_label_names()[:3] == ("cocoa", "grain", "veg-oil")


@pytest.mark.parametrize("module", [boston_housing, california_housing])
def test_housing_shuffle_split(home, monkeypatch, module):
    name = module.__name__.rsplit(".", 1)[1] + ".npz"
    x, y = np.arange(40, dtype="float64").reshape(10, 4), np.arange(10, dtype="float64")
    np.savez(home / name, x=x, y=y)
    _hash_into(module, home / name, monkeypatch)
    (xt, yt), (xs, ys) = module.load_data(test_split=0.2, seed=3)
    order = np.arange(10)
    np.random.RandomState(3).shuffle(order)
    assert yt.tolist() == order[:8].tolist() and ys.tolist() == order[8:].tolist()
    assert xt.dtype == np.float64 and xt.shape == (8, 4)
    with pytest.raises(ValueError, match="test_split"):
        module.load_data(test_split=1.0)
