"""`get_file` (download once into Keras's cache folder, check a hash, extract safely).

The cache folder is Keras's: `$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` when the home
folder is not writable). Archives are extracted only when no member would land outside the
target folder: absolute names, `..` and links pointing out are refused with a ValueError.

Example:
    >>> resolve_hasher("auto", "0" * 64).name, resolve_hasher("md5").name
    ('sha256', 'md5')
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Any

_CHUNK = 65535


def keras_home() -> str:
    """Keras's cache folder: `$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` if home is read-only).

    Example:
        >>> os.path.basename(keras_home()) != ""
        True
    """
    if os.environ.get("KERAS_HOME"):
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def resolve_hasher(algorithm: str, file_hash: str | None = None) -> Any:
    """sha256 for "sha256" (or "auto" with a 64-character hash), md5 otherwise."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath: str, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of a file ("sha256", "md5" or "auto").

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"")
        >>> hash_file(f.name)[:12]
        'e3b0c44298fc'
    """
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str, file_hash: str, algorithm: str = "auto",
                  chunk_size: int = _CHUNK) -> bool:
    """Whether the file's hash is `file_hash` (sha256 or md5, "auto" picks by length).

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"")
        >>> validate_file(f.name, "d41d8cd98f00b204e9800998ecf8427e")
        True
    """
    hasher = resolve_hasher(algorithm, file_hash)
    return str(hash_file(fpath, hasher, chunk_size)) == str(file_hash)


def _inside(root: str, name: str) -> bool:
    root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, name))
    return os.path.commonpath([root, target]) == root


def _refuse(path: str, member: str, why: str) -> None:
    raise ValueError(f"Refusing to extract {path!r}: member {member!r} {why}. Only archives "
                     "whose members all stay inside the extraction folder are extracted.")


def _check_tar_member(path: str, root: str, m: tarfile.TarInfo) -> None:
    if os.path.isabs(m.name) or not _inside(root, m.name):
        _refuse(path, m.name, "would be written outside the target folder")
    if m.issym():
        link = os.path.join(os.path.dirname(m.name), m.linkname)
        if os.path.isabs(m.linkname) or not _inside(root, link):
            _refuse(path, m.name, f"is a symlink pointing outside ({m.linkname!r})")
    if m.islnk() and (os.path.isabs(m.linkname) or not _inside(root, m.linkname)):
        _refuse(path, m.name, f"is a hard link pointing outside ({m.linkname!r})")
    if m.isdev():
        _refuse(path, m.name, "is a device file")


def _extract_tar(path: str, root: str) -> None:
    with tarfile.open(path) as archive:
        members = archive.getmembers()
        for m in members:
            _check_tar_member(path, root, m)
        archive.extractall(root, members=members, **_TAR_FILTER)


def _extract_zip(path: str, root: str) -> None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            if os.path.isabs(name) or name.startswith(("/", "\\")) or not _inside(root, name):
                _refuse(path, name, "would be written outside the target folder")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                _refuse(path, name, "is a symlink")
        archive.extractall(root)


_TAR_FILTER: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _formats(archive_format: Any) -> list[str]:
    if archive_format is None:
        return []
    if archive_format == "auto":
        return ["tar", "zip"]
    return [archive_format] if isinstance(archive_format, str) else list(archive_format)


def extract_archive(file_path: str, path: str = ".", archive_format: Any = "auto") -> bool:
    """Extracts a tar or zip archive into `path`, safely; False if it is neither format.

    Raises ValueError (and leaves nothing behind) when a member would land outside `path`.

    Example:
        >>> import tempfile, zipfile, os
        >>> d = tempfile.mkdtemp()
        >>> with zipfile.ZipFile(os.path.join(d, "a.zip"), "w") as z:
        ...     z.writestr("x.txt", "hi")
        >>> extract_archive(os.path.join(d, "a.zip"), os.path.join(d, "out"))
        True
        >>> open(os.path.join(d, "out", "x.txt")).read()
        'hi'
    """
    checks = {"tar": (tarfile.is_tarfile, _extract_tar), "zip": (zipfile.is_zipfile, _extract_zip)}
    for fmt in _formats(archive_format):
        if fmt not in checks:
            raise ValueError(f'archive_format must be "auto", "tar", "zip" or a list of them; '
                             f"received {fmt!r}.")
        is_fmt, extract = checks[fmt]
        if not is_fmt(file_path):
            continue
        existed = os.path.exists(path)
        try:
            extract(file_path, path)
        except BaseException:
            if os.path.exists(path) and not existed:
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
            raise
        return True
    return False


def _cache_dir(cache_dir: str | None, cache_subdir: str) -> str:
    base = os.path.expanduser(cache_dir if cache_dir is not None else keras_home())
    os.makedirs(base, exist_ok=True) if not os.path.exists(base) else None
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _targets(fname: Any, origin: str, datadir: str, extract: bool) -> tuple[str, str | None]:
    """(where the download goes, where it is extracted), with Keras 3's names."""
    given = os.fspath(fname) if fname is not None else None
    name = given or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"Cannot read a file name from origin={origin!r}; pass fname.")
    if given and os.sep in given:
        raise ValueError(f"fname must be a file name, not a path (received fname={given!r}); "
                         "pass the folder as cache_dir instead.")
    if not extract:
        return os.path.join(datadir, name), None
    if given and "." in name:
        stem = name[:name.find(".")]
        return os.path.join(datadir, name), os.path.join(datadir, f"{stem}_extracted")
    return os.path.join(datadir, f"{name}_archive"), os.path.join(datadir, name)


def _urlretrieve(origin: str, target: str) -> None:
    """Downloads `origin` into `target` (urllib only; replaced in tests)."""
    with urllib.request.urlopen(origin) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK)


def _download(origin: str, target: str) -> None:
    """Downloads into `target + ".part"`, renamed to `target` only once complete."""
    print(f"Downloading data from {origin}")
    partial = target + ".part"
    try:
        _urlretrieve(origin, partial)
    except BaseException as e:
        if os.path.exists(partial):
            os.remove(partial)
        if isinstance(e, (urllib.error.URLError, OSError, ValueError)):
            raise OSError(f"{os.path.basename(target)!r} is not in the cache ({target}) and "
                          f"could not be downloaded from {origin}: {e}. Check the network, or "
                          "put the file there by hand.") from e
        raise
    os.replace(partial, target)


def _ensure(origin: str, target: str, file_hash: str | None, algorithm: str,
            force: bool) -> None:
    """Downloads `target` unless it is cached (with the right hash, when one is given)."""
    download = force or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                    algorithm):
        print(f"A local file was found at {target}, but its {algorithm} hash does not "
              f"match {file_hash}; downloading it again.")
        download = True
    if download:
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, algorithm):
            raise ValueError(f"The file downloaded from {origin} ({target}) is incomplete or "
                             f"corrupted: its {algorithm} hash does not match {file_hash}. "
                             "Delete it and try again, or check the hash.")


def get_file(fname: Any = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: Any = "auto", cache_dir: str | None = None,
             force_download: bool = False) -> str:
    """Downloads `origin` into Keras's cache folder unless it is there already; its path.

    The file goes to `cache_dir/cache_subdir/fname` (cache_dir: `$KERAS_HOME` or `~/.keras`).
    With `file_hash` (sha256, or md5 for 32 characters) a cached file that does not match is
    downloaded again, and a download that does not match raises ValueError. With `extract`
    (or `untar`) the archive is extracted safely and the extraction folder is returned.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(d, "datasets"))
        >>> _ = open(os.path.join(d, "datasets", "a.txt"), "w").write("")
        >>> get_file("a.txt", "https://example.invalid/a.txt", cache_dir=d) == os.path.join(
        ...     d, "datasets", "a.txt")
        True
    """
    if origin is None:
        raise ValueError("get_file needs origin, the URL of the file to download.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = _cache_dir(cache_dir, cache_subdir)
    target, extract_to = _targets(fname, origin, datadir, extract or untar)
    _ensure(origin, target, file_hash, hash_algorithm, force_download)
    if extract_to is None:
        return target
    if not extract_archive(target, extract_to, "tar" if untar else archive_format):
        raise ValueError(f"Could not extract {target}: it is not a {archive_format} archive "
                         "(expected tar or zip).")
    return extract_to
