"""kiln.utils data utilities: pad_sequences, get_file (safe extraction), PyDataset in fit,
timeseries, split_dataset, the directory datasets and the image helpers."""

from __future__ import annotations

import io
import os
import tarfile
import urllib.error
import zipfile

import numpy as np
import pytest

import kiln
from kiln import utils
from kiln.utils import _file_utils, _image_utils


# -- pad_sequences --------------------------------------------------------------------------------

def test_pad_sequences_modes():
    seqs = [[1, 2, 3], [4], []]
    assert utils.pad_sequences(seqs).tolist() == [[1, 2, 3], [0, 0, 4], [0, 0, 0]]
    out = utils.pad_sequences(seqs, maxlen=2, padding="post", truncating="post", value=-1)
    assert out.tolist() == [[1, 2], [4, -1], [-1, -1]] and out.dtype == np.int32
    assert utils.pad_sequences(seqs, maxlen=2).tolist()[0] == [2, 3]
    feats = utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert feats.shape == (2, 2, 3) and feats[1, 0].tolist() == [0, 0, 0]
    text = utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert text.tolist() == [["", "a"], ["b", "c"]]
    with pytest.raises(ValueError, match="padding"):
        utils.pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="string padding value"):
        utils.pad_sequences(seqs, value="x")


# -- get_file -------------------------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    served = {}

    def fake(origin, target):
        if origin not in served:
            raise urllib.error.URLError("unreachable")
        with open(target, "wb") as f:
            f.write(served[origin])
    monkeypatch.setattr(_file_utils, "_urlretrieve", fake)
    return served


def test_get_file_download_cache_and_hash(cache, tmp_path):
    cache["http://x.invalid/data.bin"] = b"abc"
    path = utils.get_file(origin="http://x.invalid/data.bin")
    assert path == str(tmp_path / "home" / "datasets" / "data.bin") and open(path).read() == "abc"
    md5 = "900150983cd24fb0d6963f7d28e17f72"
    assert utils.get_file(origin="http://x.invalid/data.bin", md5_hash=md5) == path
    with open(path, "wb") as f:  # a stale cached copy is downloaded again
        f.write(b"old")
    utils.get_file(origin="http://x.invalid/data.bin", file_hash=md5)
    assert open(path).read() == "abc"
    cache["http://x.invalid/bad.bin"] = b"xyz"
    with pytest.raises(ValueError, match="hash does not match"):
        utils.get_file("bad.bin", "http://x.invalid/bad.bin", file_hash="0" * 64)
    with pytest.raises(OSError, match=r"'gone.bin'.*http://x.invalid/gone.bin"):
        utils.get_file("gone.bin", "http://x.invalid/gone.bin", cache_subdir="other")
    assert not os.path.exists(tmp_path / "home" / "other" / "gone.bin.part")
    with pytest.raises(ValueError, match="not a path"):
        utils.get_file("a/b.bin", "http://x.invalid/b.bin")


def _tar_bytes(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        add(tar)
    return buf.getvalue()


def _file(tar, name, data=b"hi"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _link(tar, name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    tar.addfile(info)


def _zip_bytes(name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, "hi")
    return buf.getvalue()


def test_get_file_extracts_tar_and_zip(cache, tmp_path):
    cache["http://x.invalid/pack.tar.gz"] = _tar_bytes(lambda t: _file(t, "pack/a.txt"))
    out = utils.get_file("pack.tar.gz", "http://x.invalid/pack.tar.gz", extract=True)
    assert out.endswith("pack_extracted") and open(os.path.join(out, "pack", "a.txt")).read() == "hi"
    cache["http://x.invalid/z.zip"] = _zip_bytes("z/b.txt")
    out = utils.get_file(origin="http://x.invalid/z.zip", extract=True)
    assert out.endswith(os.path.join("datasets", "z.zip"))
    assert os.path.exists(os.path.join(out, "z", "b.txt"))


@pytest.mark.parametrize("payload", [
    lambda: _tar_bytes(lambda t: _file(t, "../escape.txt")),
    lambda: _tar_bytes(lambda t: _file(t, "/tmp/kiln_abs_escape.txt")),
    lambda: _tar_bytes(lambda t: _link(t, "ln", "../../outside", tarfile.SYMTYPE)),
    lambda: _tar_bytes(lambda t: _link(t, "ln", "/etc/passwd", tarfile.SYMTYPE)),
    lambda: _tar_bytes(lambda t: _link(t, "hard", "../../outside", tarfile.LNKTYPE)),
    lambda: _zip_bytes("../escape.txt"),
    lambda: _zip_bytes("/abs.txt"),
], ids=["dotdot", "absolute", "symlink", "abs-symlink", "hardlink", "zip-dotdot", "zip-abs"])
def test_get_file_refuses_unsafe_archives(cache, tmp_path, payload):
    cache["http://x.invalid/evil.archive"] = payload()
    with pytest.raises(ValueError, match="Refusing to extract"):
        utils.get_file("evil.archive", "http://x.invalid/evil.archive", extract=True)
    extracted = tmp_path / "home" / "datasets" / "evil_extracted"
    assert not extracted.exists()
    assert not (tmp_path / "home" / "escape.txt").exists()
    assert not os.path.exists("/tmp/kiln_abs_escape.txt")


# -- PyDataset and batch formats in fit -----------------------------------------------------------

class Batches(utils.PyDataset):
    def __init__(self, n=3, as_list=False, **kwargs):
        super().__init__(**kwargs)
        self.n, self.as_list, self.ends, self.reads = n, as_list, 0, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads.append(i)
        x, y = np.full((4, 2), i, "float32"), np.ones((4, 1), "float32")
        return [x, y] if self.as_list else (x, y, np.ones(4, "float32"))

    def on_epoch_end(self):
        self.ends += 1


@pytest.fixture(scope="module")
def model():
    m = kiln.Sequential([kiln.layers.Input((2,)), kiln.layers.Dense(1)])
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize("workers", [1, 3])
def test_pydataset_in_fit(model, workers):
    ds = Batches(workers=workers, as_list=workers == 1)
    val = Batches(n=2)
    history = model.fit(ds, epochs=2, verbose=0, validation_data=val)
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 2
    assert ds.ends == 2 and sorted(ds.reads) == [0, 0, 1, 1, 2, 2]
    assert model.predict(Batches(), verbose=0).shape == (12, 1)
    plain = [(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"))] * 2

    class Indexed:  # any object with __len__ / __getitem__ is read the same way
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return list(plain[i])
    assert np.isfinite(model.evaluate(Indexed(), verbose=0))


def test_pydataset_defaults_and_packing():
    ds = Batches()
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size, ds.num_batches) == (
        1, False, 10, 3)
    assert utils.Sequence is utils.PyDataset
    assert utils.is_keras_tensor(kiln.Input((2,))) and not utils.is_keras_tensor(np.ones(2))
    assert utils.CustomObjectScope is utils.custom_object_scope
    assert utils.get_registered_object(utils.get_registered_name(kiln.layers.Dense)) is (
        kiln.layers.Dense)
    assert utils.unpack_x_y_sample_weight([1, 2]) == (1, 2, None)
    assert utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    with pytest.raises(ValueError, match="tuple of 4"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))


# -- timeseries and split_dataset -----------------------------------------------------------------

def test_timeseries_windows():
    data = np.arange(20)
    ds = utils.timeseries_dataset_from_array(data, data * 10, sequence_length=3, sampling_rate=2,
                                             sequence_stride=4, batch_size=2, start_index=2,
                                             end_index=18)
    batches = list(ds)
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.tolist() == [[2, 4, 6], [6, 8, 10], [10, 12, 14]] and y.tolist() == [20, 60, 100]
    shuffled = utils.timeseries_dataset_from_array(data, None, 5, batch_size=None, shuffle=True,
                                                   seed=1)
    assert len(shuffled) == 16 and sorted(int(w[0]) for w in shuffled) == list(range(16))
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)


def test_split_dataset():
    x, y = np.arange(10), np.arange(10) * 2
    (lx, ly), (rx, ry) = utils.split_dataset((x, y), left_size=0.7, shuffle=True, seed=2)
    assert len(lx) == 7 and len(rx) == 3 and (ly == 2 * lx).all()
    assert sorted(lx.tolist() + rx.tolist()) == list(range(10))
    left, right = utils.split_dataset({"a": x}, right_size=4)
    assert left["a"].tolist() == list(range(6)) and right["a"].tolist() == [6, 7, 8, 9]
    with pytest.raises(ValueError, match="left_size or right_size"):
        utils.split_dataset(x)
    with pytest.raises(TypeError, match="left_size"):
        utils.split_dataset(x, left_size="half")


# -- directory datasets and images ----------------------------------------------------------------

def test_text_dataset_from_directory(tmp_path, model):
    for label, texts in (("neg", ["bad", "awful", "meh"]), ("pos", ["good", "great"])):
        os.makedirs(tmp_path / label)
        for i, t in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(t)
    (tmp_path / "neg" / "skip.md").write_text("not a txt")
    train, val = utils.text_dataset_from_directory(
        tmp_path, batch_size=2, label_mode="binary", validation_split=0.4, subset="both",
        seed=1, max_length=3, verbose=False)
    assert train.class_names == ["neg", "pos"] and len(train.file_paths) == 3
    x, y = train[0]
    assert y.dtype == np.float32 and y.shape == (2, 1) and all(len(t) <= 3 for t in x)
    texts = utils.text_dataset_from_directory(tmp_path, labels=None, shuffle=False,
                                              verbose=False)[0]
    assert texts.tolist() == ["bad", "awful", "meh", "good", "great"]  # sorted files, folder order
    with pytest.raises(ValueError, match="seed"):
        utils.text_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")


def test_image_utils_and_directory(tmp_path, model):
    pytest.importorskip("PIL")
    for label, value in (("cat", 0), ("dog", 255)):
        os.makedirs(tmp_path / label)
        for i in range(3):
            img = np.full((6, 4, 3), value, "uint8")
            img[0, 0] = [10, 20, 30]
            utils.save_img(str(tmp_path / label / f"{i}.png"), img, scale=False)
    arr = utils.img_to_array(utils.load_img(str(tmp_path / "cat" / "0.png")))
    assert arr.shape == (6, 4, 3) and arr.dtype == np.float32 and arr[0, 0].tolist() == [10, 20, 30]
    gray = utils.load_img(str(tmp_path / "dog" / "0.png"), color_mode="grayscale",
                          target_size=(3, 2))
    assert gray.size == (2, 3) and utils.img_to_array(gray).shape == (3, 2, 1)
    assert utils.array_to_img(np.ones((2, 2, 4))).mode == "RGBA"
    ds = utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=4,
                                            label_mode="categorical", seed=0, verbose=False)
    x, y = ds[0]
    assert x.shape == (4, 4, 4, 3) and x.dtype == np.float32 and y.shape == (4, 2)
    assert len(ds) == 2 and ds.class_names == ["cat", "dog"]
    padded = utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), seed=0,
                                                pad_to_aspect_ratio=True, verbose=False,
                                                interpolation="nearest")
    x, y = padded[0]
    assert x[:, :, 0].max() == 0 and x[y == 1][:, :, 1:3].min() == 255  # zero padding left and right


def test_image_utils_without_pillow(monkeypatch):
    monkeypatch.setattr(_image_utils, "_pil_image", None)
    with pytest.raises(ImportError, match=r'pip install "kiln\[image\]"'):
        utils.array_to_img(np.zeros((2, 2, 3)))
    with pytest.raises(ImportError, match="Pillow"):
        utils.load_img("any.png")
