"""Parity with Keras 3 for the data utilities: pad_sequences on a grid of arguments,
get_file's cache and extraction names (file:// origins, no network), the dataset loaders on
the same small files, the image helpers, and timeseries windows (where TensorFlow, which
Keras's version returns, is installed)."""

import itertools
import os
import tarfile

import keras
import numpy as np
import pytest

from keras.src.backend import config as keras_config

import kiln
from kiln.datasets import _common, boston_housing, imdb, reuters

SEQS = [[1, 2, 3, 4], [5], [], [6, 7]]


@pytest.mark.parametrize("maxlen,padding,truncating", list(itertools.product(
    [None, 2, 6], ["pre", "post"], ["pre", "post"])))
def test_pad_sequences(maxlen, padding, truncating):
    for seqs, kw in ((SEQS, {}), (SEQS, {"dtype": "float32", "value": -1.5}),
                     ([np.ones((3, 2)), np.zeros((1, 2))], {"dtype": "float32"})):
        ours = kiln.utils.pad_sequences(seqs, maxlen, padding=padding, truncating=truncating,
                                        **kw)
        theirs = keras.utils.pad_sequences(seqs, maxlen, padding=padding,
                                           truncating=truncating, **kw)
        assert ours.dtype == theirs.dtype and ours.tolist() == theirs.tolist()


def test_get_file_names_match(tmp_path):
    src = tmp_path / "pack.tar.gz"
    (tmp_path / "a.txt").write_text("hi")
    with tarfile.open(src, "w:gz") as tar:
        tar.add(tmp_path / "a.txt", arcname="pack/a.txt")
    origin = src.as_uri()
    cases = ((None, False), ("pack.tar.gz", True), ("pack", True), (None, True))
    for i, (fname, extract) in enumerate(cases):
        k, r = tmp_path / f"k{i}", tmp_path / f"r{i}"
        os.makedirs(k)
        os.makedirs(r)  # Keras falls back to /tmp/.keras for a missing cache_dir
        ours = kiln.utils.get_file(fname, origin, extract=extract, cache_dir=str(k))
        theirs = keras.utils.get_file(fname, origin, extract=extract, cache_dir=str(r))
        assert os.path.relpath(ours, k) == os.path.relpath(theirs, r)
        if extract:
            assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))


@pytest.fixture
def both_homes(tmp_path, monkeypatch):
    """One KERAS_HOME for kiln and Keras (whose home is fixed at import: patched)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    os.makedirs(tmp_path / "datasets")
    return tmp_path / "datasets"


def _ragged(rng, n):
    out = np.empty(n, dtype=object)
    out[:] = [[int(v) for v in rng.integers(1, 30, size=rng.integers(1, 12))] for _ in range(n)]
    return out


def _same(ours, theirs):
    for a, b in zip(ours, theirs):
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape
            assert [list(s) for s in u] == [list(s) for s in v] if u.dtype == object else (
                u == v).all()


def test_loaders_match_keras(both_homes, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(both_homes / "boston_housing.npz", x=rng.normal(size=(25, 13)), y=rng.normal(size=25))
    np.savez(both_homes / "imdb.npz", x_train=_ragged(rng, 20), y_train=rng.integers(0, 2, 20),
             x_test=_ragged(rng, 10), y_test=rng.integers(0, 2, 10))
    np.savez(both_homes / "reuters.npz", x=_ragged(rng, 30), y=rng.integers(0, 46, 30))
    monkeypatch.setattr(_common, "get_file", lambda fname, **kw: str(both_homes / fname))
    monkeypatch.setattr("keras.src.datasets.boston_housing.get_file",
                        lambda fname, **kw: str(both_homes / fname))
    monkeypatch.setattr("keras.src.datasets.imdb.get_file",
                        lambda fname, **kw: str(both_homes / fname))
    monkeypatch.setattr("keras.src.datasets.reuters.get_file",
                        lambda fname, **kw: str(both_homes / fname))
    _same(boston_housing.load_data(test_split=0.3, seed=5),
          keras.datasets.boston_housing.load_data(test_split=0.3, seed=5))
    for kw in ({}, {"num_words": 20, "skip_top": 2, "maxlen": 8}, {"oov_char": None,
                                                                   "start_char": None}):
        _same(imdb.load_data(**kw), keras.datasets.imdb.load_data(**kw))
        _same(reuters.load_data(**kw), keras.datasets.reuters.load_data(**kw))


def test_image_helpers_match():
    pytest.importorskip("PIL")
    x = np.random.default_rng(0).uniform(-1, 3, size=(5, 4, 3)).astype("float32")
    for scale, channels in itertools.product([True, False], [1, 3, 4]):
        arr = np.abs(x[:, :, :1].repeat(channels, axis=2)) * 50
        ours = kiln.utils.img_to_array(kiln.utils.array_to_img(arr, scale=scale))
        theirs = keras.utils.img_to_array(keras.utils.array_to_img(arr, scale=scale))
        assert ours.tolist() == theirs.tolist()


def test_timeseries_matches():
    pytest.importorskip("tensorflow")
    data = np.arange(40).reshape(20, 2)
    kw = dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=3,
              start_index=1, end_index=18)
    ours = list(kiln.utils.timeseries_dataset_from_array(data, np.arange(20), **kw))
    theirs = [(np.asarray(a), np.asarray(b)) for a, b in
              keras.utils.timeseries_dataset_from_array(data, np.arange(20), **kw)]
    assert [(a.tolist(), b.tolist()) for a, b in ours] == [
        (a.tolist(), b.tolist()) for a, b in theirs]
