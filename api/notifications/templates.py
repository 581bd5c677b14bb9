"""Rendering message templates in a Jinja2 sandbox: text unescaped, HTML autoescaped and set
in the email layout. Templates can read their context and two filters, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup


def _when(value: Any, timezone: str | None = None) -> str:
    """An ISO instant as people read it, in the given time zone: `Sun 14 Mar 2027, 19:30 GMT`."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def _money(cents: Any, currency: str = "") -> str:
    amount = int(cents or 0)
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {currency}".strip()


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=autoescape, keep_trailing_newline=True, undefined=StrictUndefined
    )
    env.filters["when"] = _when
    env.filters["money"] = _money
    return env


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


def render(
    *,
    subject: str,
    text: str,
    html: str | None,
    context: dict[str, Any],
    email: bool,
    locale: str = "en",
    unsubscribe_url: str | None = None,
) -> Rendered:
    """Render one message. Emails always get an HTML part, inside the layout."""
    parts: dict[str, str] = {}
    for part, source, env in (("subject", subject, _text), ("text_body", text, _text)) + (
        (("html_body", html, _html),) if email and html else ()
    ):
        try:
            parts[part] = env.from_string(source).render(context)
        except TemplateSyntaxError as exc:
            raise TemplateInvalid(part, f"line {exc.lineno}: {exc.message}") from exc
        except (UndefinedError, SecurityError, TypeError, ValueError) as exc:
            raise TemplateInvalid(part, str(exc)) from exc
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
    """Refuse a template that does not compile or render with its trigger's sample data."""
    render(subject=subject, text=text, html=html, context=sample, email=html is not None)
