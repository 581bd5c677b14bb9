"""Local and fsspec storage: round trips, atomic writes, and keys that cannot escape the root."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.storage import (
    FsspecStorage,
    InvalidStorageKey,
    LocalStorage,
    Storage,
    StoredFileMissing,
    make_storage,
)

KEY = "events/42/3f2a.jpg"

BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside.jpg",
    "events/../../outside.jpg",
    "events/..",
    "..",
    ".",
    "events/./a.jpg",
    "events//a.jpg",
    "events/",
    "/events/a.jpg",
    "events\\..\\a.jpg",
    "C:/a.jpg",
    ".hidden",
    "events/.a.jpg.x1y2.tmp",
    "events/a b.jpg",
    "events/ä.jpg",
    "events/a.jpg\n",
    "events/a\x00.jpg",
    "a%2F..%2Fb",
    "x" * 256,
    "/".join(["abcdefgh"] * 60),
]


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", "http://cdn.test/media/")


@pytest.fixture
def memory() -> Iterator[FsspecStorage]:
    prefix = f"tessera-{uuid.uuid4().hex}"
    storage = FsspecStorage(f"memory://{prefix}/media", "https://media.test")
    yield storage
    if storage.fs.exists(f"/{prefix}"):  # the memory filesystem is one store per process
        storage.fs.rm(f"/{prefix}", recursive=True)


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.startswith("."))


def _everything_under(root: Path) -> list[Path]:
    return list(root.rglob("*"))


async def test_local_round_trip(local: LocalStorage, tmp_path: Path) -> None:
    assert isinstance(local, Storage)
    assert not await local.exists(KEY)

    await local.put(KEY, b"\xff\xd8 jpeg bytes", "image/jpeg")

    assert await local.exists(KEY)
    assert await local.get(KEY) == b"\xff\xd8 jpeg bytes"
    stored = tmp_path / "media" / "events" / "42" / "3f2a.jpg"
    assert stored.read_bytes() == b"\xff\xd8 jpeg bytes"
    assert stored.stat().st_mode & 0o777 == 0o644
    assert not await local.exists("events/42")  # a directory is not a stored file
    assert _leftovers(tmp_path) == []


async def test_local_overwrite_replaces_the_whole_file(local: LocalStorage, tmp_path: Path) -> None:
    await local.put(KEY, b"a much longer first version", "image/jpeg")
    await local.put(KEY, b"second", "image/jpeg")

    assert await local.get(KEY) == b"second"
    assert _leftovers(tmp_path) == []


async def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    local: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await local.put(KEY, b"old", "image/jpeg")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        await local.put(KEY, b"new", "image/jpeg")
    monkeypatch.undo()

    assert await local.get(KEY) == b"old"
    assert _leftovers(tmp_path) == []


async def test_local_missing_file(local: LocalStorage) -> None:
    with pytest.raises(StoredFileMissing) as caught:
        await local.get(KEY)
    assert isinstance(caught.value, KeyError)

    await local.put(KEY, b"x", "image/jpeg")
    with pytest.raises(StoredFileMissing):
        await local.get("events/42")  # a directory
    with pytest.raises(StoredFileMissing):
        await local.get(f"{KEY}/below-a-file")


async def test_local_delete_is_idempotent(local: LocalStorage) -> None:
    await local.delete(KEY)  # never stored
    await local.put(KEY, b"x", "image/jpeg")

    await local.delete(KEY)
    await local.delete(KEY)
    await local.delete("events")  # a directory: nothing to do

    assert not await local.exists(KEY)


def test_local_url(local: LocalStorage) -> None:
    assert local.url(KEY) == "http://cdn.test/media/events/42/3f2a.jpg"


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_local_refuses_keys_that_could_escape(
    local: LocalStorage, tmp_path: Path, key: str
) -> None:
    with pytest.raises(InvalidStorageKey):
        await local.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidStorageKey):
        await local.get(key)
    with pytest.raises(InvalidStorageKey):
        await local.exists(key)
    with pytest.raises(InvalidStorageKey):
        await local.delete(key)
    with pytest.raises(InvalidStorageKey):
        local.url(key)
    assert _everything_under(tmp_path) == []


@pytest.mark.parametrize("key", ["a", "events/7/x.jpg", "A-b_c.1/2.webp", "x" * 255])
def test_plain_keys_are_accepted(local: LocalStorage, key: str) -> None:
    assert local.url(key).endswith(f"/{key}")


async def test_memory_round_trip(memory: FsspecStorage) -> None:
    assert isinstance(memory, Storage)
    assert not await memory.exists(KEY)

    await memory.put(KEY, b"png bytes", "image/png")
    await memory.put(KEY, b"new png bytes", "image/png")

    assert await memory.exists(KEY)
    assert await memory.get(KEY) == b"new png bytes"
    assert memory.fs.cat_file(f"{memory.root}/{KEY}") == b"new png bytes"
    assert memory.url(KEY) == "https://media.test/events/42/3f2a.jpg"


async def test_memory_missing_and_delete(memory: FsspecStorage) -> None:
    with pytest.raises(StoredFileMissing):
        await memory.get(KEY)
    await memory.delete(KEY)

    await memory.put(KEY, b"x", "image/png")
    await memory.delete(KEY)
    await memory.delete(KEY)

    assert not await memory.exists(KEY)
    with pytest.raises(StoredFileMissing):
        await memory.get(KEY)


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_fsspec_refuses_keys_that_could_escape(memory: FsspecStorage, key: str) -> None:
    with pytest.raises(InvalidStorageKey):
        await memory.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidStorageKey):
        await memory.get(key)
    with pytest.raises(InvalidStorageKey):
        memory.url(key)


async def test_file_url_round_trip(tmp_path: Path) -> None:
    storage = FsspecStorage(f"file://{tmp_path}/bucket/prefix", "https://media.test/prefix/")

    await storage.put(KEY, b"webp bytes", "image/webp")

    assert (tmp_path / "bucket" / "prefix" / "events" / "42" / "3f2a.jpg").read_bytes() == (
        b"webp bytes"
    )
    assert await storage.get(KEY) == b"webp bytes"
    assert await storage.exists(KEY)
    assert storage.url(KEY) == "https://media.test/prefix/events/42/3f2a.jpg"
    await storage.delete(KEY)
    await storage.delete(KEY)
    assert not await storage.exists(KEY)
    with pytest.raises(StoredFileMissing):
        await storage.get(KEY)


def test_make_storage_picks_the_backend(tmp_path: Path) -> None:
    local = make_storage(None, tmp_path / "media", "http://api.test/media")
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "media").resolve()
    assert isinstance(make_storage("", tmp_path, "http://api.test/media"), LocalStorage)

    remote = make_storage("memory://tessera-make", tmp_path, "https://cdn.test")
    assert isinstance(remote, FsspecStorage)
    assert remote.url("a.png") == "https://cdn.test/a.png"
