"""Account messages: email verification, password reset and security notices, phone codes."""

from __future__ import annotations

from api.notifications.models import Category, Channel
from api.notifications.wording import Trigger, Wording

TRIGGERS: dict[str, Trigger] = {
    "verify_email": Trigger(
        Category.account,
        "A new account confirms its email address",
        {"name": "Ada", "base_url": "http://127.0.0.1:8000", "token": "sample", "hours": 48},
        wording={
            (Channel.email, "en"): Wording(
                "Confirm your email address",
                "Hello {{ name }},\n\nconfirm your email address for Tessera with this link:\n\n"
                "{{ base_url }}/verify-email?token={{ token }}\n\n"
                "The link works once and expires in {{ hours }} hours. If you did not sign up, "
                "ignore this message.\n",
                "<p>Hello {{ name }},</p><p>confirm your email address for Tessera:</p>"
                '<p><a class="button" href="{{ base_url }}/verify-email?token={{ token }}">'
                "Confirm my address</a></p><p>The link works once and expires in {{ hours }} "
                "hours. If you did not sign up, ignore this message.</p>",
            ),
        },
    ),
    "reset_password": Trigger(
        Category.account,
        "Someone asked to reset an account's password",
        {"name": "Ada", "base_url": "http://127.0.0.1:8000", "token": "sample", "minutes": 60},
        wording={
            (Channel.email, "en"): Wording(
                "Reset your password",
                "Hello {{ name }},\n\nsomeone asked to reset the password of your Tessera "
                "account. If it was you, choose a new password here:\n\n"
                "{{ base_url }}/reset-password?token={{ token }}\n\n"
                "The link works once and expires in {{ minutes }} minutes. If it was not you, "
                "ignore this message; your password stays as it is.\n",
                "<p>Hello {{ name }},</p><p>someone asked to reset the password of your Tessera "
                "account. If it was you, choose a new password:</p>"
                '<p><a class="button" href="{{ base_url }}/reset-password?token={{ token }}">'
                "Choose a new password</a></p><p>The link works once and expires in "
                "{{ minutes }} minutes. If it was not you, ignore this message.</p>",
            ),
        },
    ),
    "account_exists": Trigger(
        Category.account,
        "Someone tried to sign up with an address that has an account",
        {"name": "Ada", "base_url": "http://127.0.0.1:8000"},
        wording={
            (Channel.email, "en"): Wording(
                "You already have a Tessera account",
                "Hello {{ name }},\n\nsomeone tried to sign up for Tessera with this address, "
                "which already has an account. If it was you, sign in, or reset your password "
                "at {{ base_url }}/reset-password if you forgot it. Otherwise ignore this "
                "message.\n",
            ),
        },
    ),
    "password_changed": Trigger(
        Category.account,
        "An account's password was changed",
        {"name": "Ada"},
        wording={
            (Channel.email, "en"): Wording(
                "Your password was changed",
                "Hello {{ name }},\n\nthe password of your Tessera account was just changed and "
                "every other session was signed out. If this was not you, reset your password "
                "at once.\n",
            ),
        },
    ),
    "phone_code": Trigger(
        Category.account,
        "A phone number is being verified",
        {"code": "123456", "minutes": 10},
        wording={
            (Channel.sms, "en"): Wording(
                "",
                "Your Tessera verification code is {{ code }}. It expires in {{ minutes }} min.",
            ),
        },
    ),
}
