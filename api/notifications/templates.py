"""Rendering message templates in a bounded Jinja2 sandbox (api/notifications/sandbox.py): text
unescaped, HTML autoescaped and set in the email layout. Templates can read their context and two
filters, `money` and `when`, which show amounts and moments in the reader's locale.

A template that does not compile, fails with its data or is too expensive to render (see the
sandbox's bounds) raises `TemplateInvalid` naming the part at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from api.formatting import format_moment, format_money
from api.notifications import costs, sandbox


@pass_context
def _when(context: Context, value: Any, timezone: str | None = None) -> str:
    """An ISO instant in the given time zone, as the reader reads it: `Sun, Mar 14, 2027,
    7:30 PM GMT`, `So., 14. März 2027, 19:30 CET`."""
    if not value:
        return ""
    return format_moment(value, locale=context.get("locale"), timezone=timezone)


@pass_context
def _money(context: Context, minor: Any, currency: str = "") -> str:
    """Integer minor units as the reader reads the amount: `€1,234.56`, `1.234,56 €`, `¥1,500`."""
    return format_money(int(minor or 0), str(currency or ""), context.get("locale"))


def _environment(autoescape: bool) -> sandbox.BoundedSandbox:
    return sandbox.BoundedSandbox(
        autoescape=autoescape,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        filters={"when": _when, "money": _money},
    )


_text = _environment(autoescape=False)
_html = _environment(autoescape=True)

LAYOUT = _html.from_string(
    """<!doctype html>
<html lang="{{ locale }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title>
<style>
body{margin:0;background:#f4f4f7;color:#1d1d29;
font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif}
.card{max-width:560px;margin:24px auto;background:#fff;border-radius:8px;padding:24px 28px}
.button{display:inline-block;background:#4338ca;color:#fff!important;padding:10px 18px;
border-radius:6px;text-decoration:none} td{padding:2px 12px 2px 0}
.footer{max-width:560px;margin:0 auto 24px;color:#6b6b80;font-size:12px;text-align:center}
</style></head>
<body><div class="card">{{ body }}</div>
<div class="footer">Tessera · <a href="{{ base_url }}">{{ base_url }}</a>
{%- if unsubscribe_url %}<br>You get this because you opted in to news from organizers.
<a href="{{ unsubscribe_url }}">Unsubscribe</a>{% endif %}</div>
</body></html>
"""
)


class TemplateInvalid(Exception):
    """A template that does not compile or does not render with its trigger's sample."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def text_as_html(text: str) -> str:
    """Plain text as HTML paragraphs, for templates written without an HTML body."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


@lru_cache(maxsize=64)
def _compiled(autoescape: bool, source: str) -> Template:
    return (_html if autoescape else _text).from_string(source)


def _render_part(
    part: str, source: str, autoescape: bool, context: dict[str, Any], *, trusted: bool = False
) -> str:
    """One part, rendered on the sandbox's budget, its output streamed and stopped once it is
    past MAX_OUTPUT bytes. (Compiling costs what the source's length allows, once per process
    thanks to the cache; the budget is for what a short source can make rendering cost.)"""
    chunks: list[str] = []
    size = 0
    try:
        template = _compiled(autoescape, source)
        with costs.budget(clock=not trusted):
            for chunk in template.generate(context):
                size += len(chunk.encode("utf-8", "replace"))
                if size > costs.MAX_OUTPUT:
                    raise costs.TooExpensive(f"it renders to more than {costs.MAX_OUTPUT:,} bytes")
                chunks.append(chunk)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(part, f"line {exc.lineno}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateInvalid(part, "it nests too deeply to render") from exc
    except Exception as exc:  # whatever a template does wrong with its data is its own fault
        raise TemplateInvalid(part, str(exc) or type(exc).__name__) from exc
    return "".join(chunks)


def render(
    *,
    subject: str,
    text: str,
    html: str | None,
    context: dict[str, Any],
    email: bool,
    locale: str = "en",
    unsubscribe_url: str | None = None,
    trusted: bool = False,
) -> Rendered:
    """Render one message. Emails always get an HTML part, inside the layout. Amounts and
    moments are shown in the context's `locale` (the reader's), else in the template's.
    `trusted` is for the bundled wording: its render is not on the processor-time clock, so the
    fallback for a broken template is never lost to a busy machine (the other bounds hold)."""
    values = {"locale": locale} | context
    parts: dict[str, str] = {}
    for part, source, autoescape in (("subject", subject, False), ("text_body", text, False)) + (
        (("html_body", html, True),) if email and html else ()
    ):
        parts[part] = _render_part(part, source, autoescape, values, trusted=trusted)
    rendered_subject = " ".join(parts["subject"].split())
    body_html: str | None = None
    if email:
        inner = parts.get("html_body") or text_as_html(parts["text_body"])
        body_html = LAYOUT.render(
            body=Markup(inner),  # noqa: S704 - autoescaped render or escaped text
            subject=rendered_subject,
            locale=locale,
            base_url=context.get("base_url", ""),
            unsubscribe_url=unsubscribe_url,
        )
    return Rendered(rendered_subject, parts["text_body"], body_html)


def check(subject: str, text: str, html: str | None, sample: dict[str, Any]) -> None:
    """Refuse a template that does not compile or render with its trigger's sample data, or
    that is too expensive to render."""
    render(subject=subject, text=text, html=html, context=sample, email=html is not None)
