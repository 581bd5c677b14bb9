"""Where uploaded files live: a local directory by default, any fsspec filesystem (S3) otherwise."""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio.to_thread
from fsspec.core import url_to_fs  # type: ignore[import-untyped]
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

MAX_KEY_LENGTH = 512
# Segments never start with a dot: no `.`/`..`, no hidden files, and the temporary files
# `LocalStorage` writes (`.name.xxxx.tmp`) can never be named by a key.
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}"
_KEY = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")

# The keyword each object store takes for the Content-Type it serves the object with.
_CONTENT_TYPE_ARGUMENT = {
    "s3": "ContentType",
    "s3a": "ContentType",
    "gs": "content_type",
    "gcs": "content_type",
}


class InvalidStorageKey(ValueError):
    """A key that could name something outside the storage root; keys come from us, so a bug."""


class StoredFileMissing(KeyError):
    """Nothing is stored under this key."""


def check_key(key: str) -> str:
    """The key itself when it is a relative path of safe segments; raises otherwise."""
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidStorageKey(f"Invalid storage key: {key!r}")
    return key


@runtime_checkable
class Storage(Protocol):
    """Uploaded files by key (`events/<id>/<uuid>.jpg`); keys are relative, `/`-separated."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The stored bytes; raises `StoredFileMissing` when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; nothing happens when it is already gone."""
        ...

    async def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str:
        """Where clients fetch the file from."""
        ...


class LocalStorage:
    """Files under a local directory, replaced atomically so readers never see half a file."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # The content type is not kept: the key's extension decides how the file is served.
        await anyio.to_thread.run_sync(_write_atomically, self.path(key), data)

    async def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(key) from exc

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_unlink, self.path(key))

    async def exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self.path(key).is_file)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server in front may need to read it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()


class FsspecStorage:
    """Files on any fsspec filesystem: `s3://bucket/prefix` (with s3fs), `memory://`, ..."""

    def __init__(self, url: str, public_base_url: str, **storage_options: Any) -> None:
        self.fs, root = url_to_fs(url, **storage_options)
        self.root: str = root.rstrip("/")
        self.base_url = public_base_url.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self._content_type_argument = next(
            (_CONTENT_TYPE_ARGUMENT[p] for p in protocols if p in _CONTENT_TYPE_ARGUMENT), None
        )

    def path(self, key: str) -> str:
        key = check_key(key)
        return f"{self.root}/{key}" if self.root else key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(self._put, self.path(key), data, content_type)

    def _put(self, path: str, data: bytes, content_type: str) -> None:
        # Object stores write a whole object in one request; a local directory needs parents.
        if isinstance(self.fs, LocalFileSystem):
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        options = {self._content_type_argument: content_type} if self._content_type_argument else {}
        self.fs.pipe_file(path, data, **options)

    async def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            data: bytes = await anyio.to_thread.run_sync(self.fs.cat_file, path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(key) from exc
        return data

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, self.path(key))

    def _delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.fs.rm_file(path)

    async def exists(self, key: str) -> bool:
        return bool(await anyio.to_thread.run_sync(self.fs.isfile, self.path(key)))

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"


def make_storage(media_url: str | None, media_dir: Path, public_base_url: str) -> Storage:
    """A local directory unless a filesystem URL is configured; `public_base_url` serves them."""
    if media_url:
        return FsspecStorage(media_url, public_base_url)
    return LocalStorage(media_dir, public_base_url)
