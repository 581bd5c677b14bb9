"""Image uploads: accepted by content, bombs refused before decoding, metadata stripped."""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import zlib
from typing import Any

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from api.errors import AppError
from api.events.images import (
    CleanImage,
    CorruptImage,
    FileTooLarge,
    ImageTooLarge,
    UnsupportedImageType,
    clean_image,
)

MAX = 5_000_000
RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS_IFD, ORIENTATION = 0x8825, 0x0112


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _red_left_blue_right(size: tuple[int, int] = (40, 20)) -> Image.Image:
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def _exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 17.0, 40.2)}  # Paris, to the metre
    )
    return exif


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _noisy(size: tuple[int, int]) -> Image.Image:
    rng = random.Random(7)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _png_header_only(width: int, height: int, idat: bytes = b"not zlib data") -> bytes:
    """A PNG whose header claims a size; the pixel data is garbage, so decoding would fail."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _assert_no_metadata(clean: CleanImage) -> None:
    with Image.open(io.BytesIO(clean.data)) as image:
        assert not image.getexif()
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "Author"):
            assert key not in image.info
        if isinstance(image, PngImagePlugin.PngImageFile):
            assert not image.text
    for marker in (b"Exif\x00\x00", b"PhoneMaker", b"http://ns.adobe.com/xap", b"secret"):
        assert marker not in clean.data


def _near(pixel: Any, expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(pixel[:3], expected, strict=True))


@pytest.mark.parametrize("icc", [False, True], ids=["no-profile", "srgb-profile"])
def test_jpeg_exif_gps_is_stripped_and_orientation_applied(icc: bool) -> None:
    source = _encode(
        _red_left_blue_right(),
        "JPEG",
        exif=_exif_with_gps(orientation=6),  # "rotate 90° clockwise to display"
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>',
        comment=b"secret",
        **({"icc_profile": _srgb_icc()} if icc else {}),
    )
    with Image.open(io.BytesIO(source)) as original:
        assert original.getexif().get_ifd(GPS_IFD)  # the fixture really carries GPS
        assert original.info["comment"] == b"secret"
        assert ("icc_profile" in original.info) is icc

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")
    assert (clean.width, clean.height) == (20, 40)
    _assert_no_metadata(clean)
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40)
        assert _near(image.getpixel((10, 5)), RED)  # the left edge is now at the top
        assert _near(image.getpixel((10, 35)), BLUE)


def _exif_with_odd_gps_version() -> bytes:
    """Orientation 6, and a GPSVersionID written as ASCII where BYTE is expected."""
    gps_offset = 8 + 2 + 2 * 12 + 4
    ifd0 = struct.pack("<H", 2)
    ifd0 += struct.pack("<HHIHH", ORIENTATION, 3, 1, 6, 0)
    ifd0 += struct.pack("<HHII", GPS_IFD, 4, 1, gps_offset) + struct.pack("<I", 0)
    gps = struct.pack("<HHHI4sI", 1, 0, 2, 1, b"", 0)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd0 + gps


def test_malformed_exif_still_turns_the_image() -> None:
    # `ImageOps.exif_transpose` raises TypeError re-serialising this EXIF.
    source = _encode(_red_left_blue_right(), "JPEG", exif=_exif_with_odd_gps_version())

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.width, clean.height) == (20, 40)
    _assert_no_metadata(clean)


def test_png_keeps_transparency_and_drops_text_chunks() -> None:
    image = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    image.paste((10, 200, 30, 255), (0, 0, 8, 16))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "secret")
    source = _encode(image, "PNG", pnginfo=text, exif=_exif_with_gps(orientation=1))

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.content_type, clean.extension, clean.width, clean.height) == (
        "image/png",
        "png",
        16,
        16,
    )
    _assert_no_metadata(clean)
    with Image.open(io.BytesIO(clean.data)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((2, 2)) == (10, 200, 30, 255)
        assert out.getpixel((12, 2)) == (0, 0, 0, 0)


def test_palette_png_keeps_its_transparent_index() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([255, 255, 255, 200, 0, 0])
    source = _encode(image, "PNG", transparency=0)

    clean = clean_image(source, max_bytes=MAX)

    with Image.open(io.BytesIO(clean.data)) as out:
        assert out.mode == "P"
        assert out.convert("RGBA").getpixel((0, 0)) == (200, 0, 0, 255)
        assert out.info["transparency"] == 0


def test_webp_is_re_encoded_without_exif() -> None:
    source = _encode(_red_left_blue_right(), "WEBP", exif=_exif_with_gps(orientation=3))

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.content_type, clean.extension) == ("image/webp", "webp")
    _assert_no_metadata(clean)
    with Image.open(io.BytesIO(clean.data)) as out:
        assert out.size == (40, 20)
        assert _near(out.getpixel((5, 10)), BLUE)  # orientation 3: turned half a turn


def test_animated_gif_keeps_its_first_frame_only() -> None:
    frames = [Image.new("P", (12, 10), color) for color in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    source = _encode(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, comment=b"secret"
    )

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.content_type, clean.extension, clean.width, clean.height) == (
        "image/gif",
        "gif",
        12,
        10,
    )
    _assert_no_metadata(clean)
    with Image.open(io.BytesIO(clean.data)) as out:
        assert getattr(out, "n_frames", 1) == 1
        assert out.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_phone_jpeg_with_extra_frames_is_a_jpeg() -> None:
    source = _encode(
        _red_left_blue_right(),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (40, 20), BLUE)],
        exif=_exif_with_gps(orientation=1),
    )
    with Image.open(io.BytesIO(source)) as original:
        assert original.format == "MPO"

    clean = clean_image(source, max_bytes=MAX)

    assert (clean.content_type, clean.extension, clean.width) == ("image/jpeg", "jpg", 40)
    _assert_no_metadata(clean)


def test_cmyk_jpeg_becomes_rgb() -> None:
    source = _encode(Image.new("CMYK", (10, 10), (0, 255, 255, 0)), "JPEG")

    clean = clean_image(source, max_bytes=MAX)

    with Image.open(io.BytesIO(clean.data)) as out:
        assert out.mode == "RGB"
        assert _near(out.getpixel((5, 5)), (255, 0, 0))


@pytest.mark.parametrize(
    "profile",
    [b"not an icc profile", ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()],
    ids=["garbage", "wrong-colour-space"],
)
def test_an_unusable_colour_profile_is_dropped(profile: bytes) -> None:
    source = _encode(Image.new("RGB", (10, 10), RED), "JPEG", icc_profile=profile)

    clean = clean_image(source, max_bytes=MAX)

    _assert_no_metadata(clean)
    with Image.open(io.BytesIO(clean.data)) as out:
        assert _near(out.getpixel((5, 5)), RED)


def test_the_file_name_and_declared_type_play_no_part() -> None:
    clean = clean_image(_encode(Image.new("RGB", (4, 4)), "PNG"), max_bytes=MAX)

    assert (clean.content_type, clean.extension) == ("image/png", "png")
    with pytest.raises(dataclasses.FrozenInstanceError):
        clean.content_type = "image/jpeg"  # type: ignore[misc]
    assert "data=" not in repr(clean)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", id="pdf"
        ),
        pytest.param(b"just some text, saved as photo.jpg\n", id="text"),
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script></svg>',
            id="svg",
        ),
        pytest.param(b"", id="empty"),
        pytest.param(_encode(Image.new("RGB", (4, 4)), "BMP"), id="bmp"),
        pytest.param(_encode(Image.new("RGB", (4, 4)), "TIFF"), id="tiff"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 64, id="jpeg-magic-only"),
    ],
)
def test_anything_but_the_four_formats_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedImageType) as caught:
        clean_image(data, max_bytes=MAX)

    error = caught.value
    assert isinstance(error, AppError)
    assert (error.status, error.code, error.field) == (415, "media.unsupported_type", "file")


def test_oversized_bytes_are_refused_before_parsing() -> None:
    with pytest.raises(FileTooLarge) as caught:
        clean_image(b"\x00" * 1001, max_bytes=1000)

    assert (caught.value.status, caught.value.code, caught.value.field) == (
        413,
        "media.too_large",
        "file",
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(7000, 7000, id="over-our-pixel-budget"),
        pytest.param(8001, 10, id="over-our-side-limit"),
        pytest.param(10_000, 10_000, id="pillow-warns"),
        pytest.param(50_000, 50_000, id="pillow-refuses"),
    ],
)
def test_a_header_claiming_too_many_pixels_is_refused_without_decoding(
    width: int, height: int
) -> None:
    # The pixel data is garbage: had it been decoded, this would be `media.corrupt`.
    with pytest.raises(ImageTooLarge) as caught:
        clean_image(_png_header_only(width, height), max_bytes=MAX)

    assert (caught.value.status, caught.value.code, caught.value.field) == (
        422,
        "media.too_large_image",
        "file",
    )


def test_pillow_warning_outside_tests_still_refuses() -> None:
    # In production the warning is only a warning; our own pixel budget refuses the image.
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(ImageTooLarge),
    ):
        clean_image(_png_header_only(10_000, 10_000), max_bytes=MAX)


def test_a_real_compressed_bomb_is_refused() -> None:
    bomb = _encode(Image.new("1", (7000, 7000)), "PNG")
    assert len(bomb) < 100_000  # tiny on the wire, 49 million pixels once decoded

    with pytest.raises(ImageTooLarge):
        clean_image(bomb, max_bytes=MAX)


def test_limits_are_the_callers() -> None:
    source = _encode(Image.new("RGB", (100, 100)), "PNG")

    with pytest.raises(ImageTooLarge):
        clean_image(source, max_bytes=MAX, max_pixels=5_000)
    with pytest.raises(ImageTooLarge):
        clean_image(source, max_bytes=MAX, max_side=99)
    assert clean_image(source, max_bytes=MAX, max_pixels=10_000, max_side=100).width == 100


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_corrupt(fmt: str) -> None:
    whole = _encode(_noisy((128, 128)), fmt)
    clean_image(whole, max_bytes=MAX)  # the untruncated image is fine

    with pytest.raises(CorruptImage) as caught:
        clean_image(whole[: len(whole) // 2], max_bytes=MAX)

    assert (caught.value.status, caught.value.code, caught.value.field) == (
        422,
        "media.corrupt",
        "file",
    )
