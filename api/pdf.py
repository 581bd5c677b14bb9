"""PDF documents in fpdf2's built-in fonts, which are encoded as Windows-1252: Latin-1 plus the
euro sign, typographic quotes and dashes. Text is made to fit that encoding here: the thin and
narrow no-break spaces Babel puts into amounts become ordinary no-break spaces, the true minus
and the full-width yen their plain forms, bidirectional marks are dropped; anything else outside
the encoding shows as "?". The stored documents keep their text as it was."""

from __future__ import annotations

from fpdf import FPDF

ENCODING = "windows-1252"

_PLAIN = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space (French groups, English times)
        "\u2007": "\u00a0",  # figure space
        "\u2009": " ",  # thin space
        "\u2212": "-",  # minus sign
        "\uffe5": "\u00a5",  # full-width yen
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\u061c": None,  # Arabic letter mark
    }
)


def text(value: str) -> str:
    """`value` as the built-in fonts can show it."""
    return value.translate(_PLAIN).encode(ENCODING, "replace").decode(ENCODING)


def document(page: str | tuple[float, float] = "A4") -> FPDF:
    """A new PDF whose built-in fonts take Windows-1252 text (so `€` shows as itself)."""
    pdf = FPDF(format=page)
    pdf.core_fonts_encoding = ENCODING
    return pdf
