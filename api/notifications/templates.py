"""Bundled message templates, rendered in a Jinja2 sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class Template:
    channel: str
    subject: str
    text: str


TEMPLATES: dict[str, Template] = {
    "verify_email": Template(
        "email",
        "Confirm your email address",
        "Hello {{ name }},\n\nconfirm your email address for Tessera with this link:\n\n"
        "{{ base_url }}/verify-email?token={{ token }}\n\n"
        "The link works once and expires in {{ hours }} hours. If you did not sign up, "
        "ignore this message.\n",
    ),
    "reset_password": Template(
        "email",
        "Reset your password",
        "Hello {{ name }},\n\nsomeone asked to reset the password of your Tessera account. "
        "If it was you, choose a new password here:\n\n"
        "{{ base_url }}/reset-password?token={{ token }}\n\n"
        "The link works once and expires in {{ minutes }} minutes. If it was not you, "
        "ignore this message; your password stays as it is.\n",
    ),
    "account_exists": Template(
        "email",
        "You already have a Tessera account",
        "Hello {{ name }},\n\nsomeone tried to sign up for Tessera with this address, which "
        "already has an account. If it was you, sign in, or reset your password at "
        "{{ base_url }}/reset-password if you forgot it. Otherwise ignore this message.\n",
    ),
    "password_changed": Template(
        "email",
        "Your password was changed",
        "Hello {{ name }},\n\nthe password of your Tessera account was just changed and every "
        "other session was signed out. If this was not you, reset your password at once.\n",
    ),
    "phone_code": Template(
        "sms", "", "Your Tessera verification code is {{ code }}. It expires in {{ minutes }} min."
    ),
}


def render(name: str, context: dict[str, Any]) -> tuple[Template, str, str]:
    """The template, its rendered subject and its rendered text."""
    template = TEMPLATES[name]
    subject = _env.from_string(template.subject).render(context)
    return template, subject, _env.from_string(template.text).render(context)
