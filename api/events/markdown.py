"""Event descriptions: Markdown rendered to HTML that is safe to embed."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render(markdown: str) -> str:
    """Render, then sanitise with an allow-list (no scripts, styles or event handlers)."""
    return nh3.clean(_renderer().render(markdown), link_rel="noopener noreferrer nofollow")
