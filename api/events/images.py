"""Uploaded images: accepted by their content only, and re-encoded without any metadata.

CPU-bound and synchronous: callers run `clean_image` in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from api.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

FIELD = "file"


class FileTooLarge(PayloadTooLarge):
    code = "media.too_large"


class UnsupportedImageType(UnsupportedMediaType):
    code = "media.unsupported_type"


class ImageTooLarge(Unprocessable):
    code = "media.too_large_image"


class CorruptImage(Unprocessable):
    code = "media.corrupt"


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes = field(repr=False)
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Output:
    format: str
    content_type: str
    extension: str
    modes: frozenset[str]
    options: dict[str, Any]


_JPEG = _Output(
    "JPEG",
    "image/jpeg",
    "jpg",
    frozenset({"L", "RGB"}),
    {"quality": 85, "optimize": True, "progressive": True},
)
_OUTPUTS = {
    "JPEG": _JPEG,
    "MPO": _JPEG,  # a JPEG with extra frames (MPF), as many phones and cameras write them
    "PNG": _Output(
        "PNG",
        "image/png",
        "png",
        frozenset({"1", "L", "LA", "I;16", "I;16B", "P", "RGB", "RGBA"}),
        {},
    ),
    # libwebp's default effort (method 4) is five times slower on large photos, for a few percent.
    "WEBP": _Output(
        "WEBP", "image/webp", "webp", frozenset({"RGB", "RGBA"}), {"quality": 85, "method": 1}
    ),
    "GIF": _Output("GIF", "image/gif", "gif", frozenset({"L", "P"}), {}),
}
# Only these decoders ever see the bytes (the JPEG one also yields MPO).
_DECODERS = ("JPEG", "PNG", "WEBP", "GIF")
# What the decoders raise on bad data.
_DECODE_ERRORS = (OSError, ValueError, EOFError, SyntaxError)
# EXIF orientation -> the turn that makes the pixels upright (as `ImageOps.exif_transpose`).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def clean_image(
    data: bytes, *, max_bytes: int, max_pixels: int = 40_000_000, max_side: int = 8000
) -> CleanImage:
    """Validate an upload as a JPEG, PNG, WebP or GIF and re-encode its first frame, upright."""
    if len(data) > max_bytes:
        raise FileTooLarge(f"The file must be at most {max_bytes:,} bytes.", field=FIELD)
    try:
        with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
            output = _OUTPUTS.get(image.format or "")
            if output is None:
                raise _unsupported()
            # `open` has read only the header: refuse before any pixel is decoded.
            width, height = image.size
            if width * height > max_pixels or max(width, height) > max_side:
                raise ImageTooLarge(
                    f"The image must be at most {max_side} pixels on a side and "
                    f"{max_pixels:,} pixels in all; it is {width}x{height}.",
                    field=FIELD,
                )
            image.load()
            upright = _upright(image)
    except UnidentifiedImageError as exc:
        raise _unsupported() from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard, when the header claims far more pixels than ours allows.
        raise ImageTooLarge("The image has too many pixels.", field=FIELD) from exc
    except _DECODE_ERRORS as exc:
        raise CorruptImage("The image is truncated or damaged.", field=FIELD) from exc

    fresh = _without_metadata(_to_mode(upright, output))
    del upright
    buffer = io.BytesIO()
    fresh.save(buffer, output.format, **output.options)
    return CleanImage(
        data=buffer.getvalue(),
        content_type=output.content_type,
        extension=output.extension,
        width=fresh.width,
        height=fresh.height,
    )


def _unsupported() -> UnsupportedImageType:
    return UnsupportedImageType("Upload a JPEG, PNG, WebP or GIF image.", field=FIELD)


def _upright(image: Image.Image) -> Image.Image:
    """A new image, turned as the EXIF (or XMP) orientation says.

    Not `ImageOps.exif_transpose`: it re-serialises the EXIF we are about to drop, and that
    raises `TypeError` on some malformed EXIF.
    """
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    method = _ORIENTATION.get(orientation) if isinstance(orientation, int) else None
    return image.copy() if method is None else image.transpose(method)


def _to_mode(image: Image.Image, output: _Output) -> Image.Image:
    """Pixels the output format can hold, in sRGB since the colour profile is dropped."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    target = "RGBA" if has_alpha and "RGBA" in output.modes else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in {"RGB", "RGBA", "CMYK"}:
        srgb = _to_srgb(image, icc, "RGBA" if image.mode == "RGBA" else "RGB")
        if srgb is not None:
            image = srgb
    if image.mode in output.modes:
        return image
    return image.convert(target)


def _to_srgb(image: Image.Image, icc: bytes, mode: str) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # an unreadable or mismatched profile: fall back to a plain conversion


def _without_metadata(image: Image.Image) -> Image.Image:
    """Keep pixels, palette and transparency; drop EXIF, XMP, ICC, comments and text.

    `image` is a copy made here, never the decoded file: savers fall back on `info` (a JPEG
    comment, GIF extensions), so `info` keeps only what describes the pixels.
    """
    image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    return image
