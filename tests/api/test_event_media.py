"""Event images through the API: content checks, metadata stripping, storage, ownership."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import create_event, published_event

GPS_IFD = 0x8825


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    return {"media_dir": tmp_path / "media", "media_max_bytes": 200_000}


def photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 17.0, 40.2)})
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bomb_header(width: int = 60_000, height: int = 60_000) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")


async def _upload(api: Api, event_id: str, headers: dict[str, str], data: bytes, name: str):  # type: ignore[no-untyped-def]
    return await api.client.post(
        f"/events/{event_id}/media",
        headers=headers,
        files={"file": (name, data, "image/jpeg")},
        data={"alt_text": "The stage"},
    )


async def test_upload_strips_metadata_and_is_served(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    response = await _upload(api, event["id"], owner.headers, original, "holiday.jpg")
    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["content_type"], media["width"], media["height"]) == ("image/jpeg", 64, 48)
    assert media["alt_text"] == "The stage"

    served = await api.client.get(media["url"].removeprefix(api.settings.public_base_url))
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.content)) as image:
        assert not image.getexif()
        assert image.format == "JPEG"
    listed = (await api.client.get(f"/events/{event['id']}/media")).json()
    assert [m["id"] for m in listed] == [media["id"]]
    assert len(await api.outbox("event_media.added")) == 1


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "poster.jpg", 415, "media.unsupported_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.png", 415, "media.unsupported_type"),
        (png_bomb_header(), "tiny.png", 422, "media.too_large_image"),
        (b"\xff\xd8\xff" + b"\x00" * 300_000, "huge.jpg", 413, "media.too_large"),
        (photo_with_gps()[:200], "cut.jpg", 422, "media.corrupt"),
    ],
    ids=["pdf-named-jpg", "svg", "decompression-bomb", "oversized", "truncated"],
)
async def test_bad_uploads_are_refused(
    api: Api, data: bytes, name: str, status: int, code: str
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await create_event(api, owner)
    response = await _upload(api, event["id"], owner.headers, data, name)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["field"] == "file"
    assert (
        await api.client.get(f"/events/{event['id']}/media", headers=owner.headers)
    ).json() == []
    media_dir = api.settings.media_dir
    assert not media_dir.exists() or not any(p.is_file() for p in media_dir.rglob("*"))


async def test_only_the_owner_uploads_and_deletes(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    intruder = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    denied = await _upload(api, event["id"], intruder.headers, photo_with_gps(), "x.jpg")
    assert denied.status_code == 403
    media = (await _upload(api, event["id"], owner.headers, photo_with_gps(), "x.jpg")).json()
    path = f"/events/{event['id']}/media/{media['id']}"
    assert (await api.client.delete(path, headers=intruder.headers)).status_code == 403
    assert (await api.client.delete(path, headers=owner.headers)).status_code == 204
    assert (await api.client.delete(path, headers=owner.headers)).status_code == 404
    gone = await api.client.get(media["url"].removeprefix(api.settings.public_base_url))
    assert gone.status_code == 404


async def test_duplicate_gets_its_own_copies_of_the_images(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    original = (await _upload(api, event["id"], owner.headers, photo_with_gps(), "a.jpg")).json()
    copy = (await api.client.post(f"/events/{event['id']}/duplicate", headers=owner.headers)).json()
    copied = (await api.client.get(f"/events/{copy['id']}/media", headers=owner.headers)).json()
    assert len(copied) == 1
    assert copied[0]["url"] != original["url"]
    await api.client.delete(f"/events/{event['id']}/media/{original['id']}", headers=owner.headers)
    still = await api.client.get(copied[0]["url"].removeprefix(api.settings.public_base_url))
    assert still.status_code == 200


async def test_the_owner_orders_the_images_and_the_first_is_shown_first(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    other = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    ids = []
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        uploaded = await _upload(api, event["id"], owner.headers, photo_with_gps(), name)
        ids.append(uploaded.json()["id"])
    path = f"/events/{event['id']}/media/{ids[2]}"

    refused = await api.client.patch(path, headers=other.headers, json={"position": 0})
    assert refused.status_code == 403, refused.text
    assert (await api.client.patch(path, json={"position": 0})).status_code == 401
    wrong = await api.client.patch(path, headers=owner.headers, json={"position": -1})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.position"

    moved = await api.client.patch(
        path, headers=owner.headers, json={"position": 0, "alt_text": "The crowd"}
    )
    assert moved.status_code == 200, moved.text
    assert [m["id"] for m in moved.json()] == [ids[2], ids[0], ids[1]]
    assert [m["sort_order"] for m in moved.json()] == [0, 1, 2]
    listed = (await api.client.get(f"/events/{event['id']}/media")).json()
    assert [m["id"] for m in listed] == [ids[2], ids[0], ids[1]]
    assert listed[0]["alt_text"] == "The crowd"
    # Each image whose place or text changed is one outbox row, in the same transaction.
    assert len(await api.outbox("event_media.updated")) == 3
    last = await api.client.patch(path, headers=owner.headers, json={"position": 99})
    assert [m["id"] for m in last.json()] == [ids[0], ids[1], ids[2]]
