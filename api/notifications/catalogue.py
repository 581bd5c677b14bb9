"""What can trigger a message, who may switch it off, and the bundled wording of each.

Bundled templates are the defaults: an admin's template for the same trigger, channel and
locale (see the admin endpoints) replaces them. Every trigger has a bundled English template on
each of its channels; German ones exist for the messages people see most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.notifications.models import Category, Channel

ALL_CHANNELS = (Channel.email, Channel.sms, Channel.push, Channel.in_app)


@dataclass(frozen=True)
class CategoryRules:
    channels: tuple[Channel, ...]  # where this category may go
    defaults: frozenset[Channel]  # on unless the person switches them off
    mandatory: frozenset[Channel] = frozenset()  # cannot be switched off
    description: str = ""


CATEGORIES: dict[Category, CategoryRules] = {
    Category.account: CategoryRules(
        (Channel.email,),
        frozenset({Channel.email}),
        frozenset({Channel.email}),
        "Email verification, password resets and security notices",
    ),
    Category.orders: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app}),
        frozenset({Channel.email}),
        "Booking confirmations with tickets and receipts, cancellations and refunds",
    ),
    Category.event_updates: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        frozenset({Channel.email}),
        "An event you hold tickets for changed or was cancelled",
    ),
    Category.reminders: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        description="Reminders 24 hours and 1 hour before your events",
    ),
    Category.waitlist: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        description="A seat you waited for is yours to book",
    ),
    Category.marketing: CategoryRules(
        (Channel.email, Channel.push, Channel.in_app),
        frozenset(),
        description="New events from organizers you booked with (only if you opt in)",
    ),
}


@dataclass(frozen=True)
class Wording:
    subject: str  # the email subject, or the push and inbox title
    text: str
    html: str | None = None  # emails only; without it the text is shown as HTML paragraphs


@dataclass(frozen=True)
class Trigger:
    category: Category
    description: str
    sample: dict[str, Any]  # what a preview renders with
    attachments: tuple[str, ...] = ()  # emails: tickets, invoice, calendar
    wording: dict[tuple[Channel, str], Wording] = field(default_factory=dict)


_EVENT_SAMPLE: dict[str, Any] = {
    "name": "Ada Lovelace",
    "event_title": "Night of the Analytical Engine",
    "starts_at": "2027-03-14T19:30:00+00:00",
    "timezone": "Europe/London",
    "venue": "Conway Hall, London",
    "event_url": "http://127.0.0.1:8000/events/night-of-the-analytical-engine",
    "booking_id": "6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "booking_reference": "6F1C2F0E",
    "booking_url": "http://127.0.0.1:8000/bookings/6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "seats": 2,
    "total_cents": 5000,
    "currency": "GBP",
}

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
    "booking_confirmed": Trigger(
        Category.orders,
        "A booking is confirmed (paid or free): tickets, invoice and calendar entry attached",
        _EVENT_SAMPLE,
        attachments=("tickets", "invoice", "calendar"),
        wording={
            (Channel.email, "en"): Wording(
                "Your tickets for {{ event_title }}",
                "Hello {{ name }},\n\nyou are going to {{ event_title }} on "
                "{{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}.\n\n"
                "Booking {{ booking_reference }}: {{ seats }} ticket(s), "
                "{{ total_cents | money(currency) }}.\n"
                "Your tickets are attached; show the QR code at the entrance. "
                "You can also find them at {{ booking_url }}\n",
                "<p>Hello {{ name }},</p><p>you are going to <strong>{{ event_title }}</strong> "
                "on {{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}.</p>"
                "<table><tr><td>Booking</td><td>{{ booking_reference }}</td></tr>"
                "<tr><td>Tickets</td><td>{{ seats }}</td></tr>"
                "<tr><td>Total</td><td>{{ total_cents | money(currency) }}</td></tr></table>"
                "<p>Your tickets are attached; show the QR code at the entrance.</p>"
                '<p><a class="button" href="{{ booking_url }}">View my booking</a></p>',
            ),
            (Channel.email, "de"): Wording(
                "Deine Tickets für {{ event_title }}",
                "Hallo {{ name }},\n\ndu bist dabei: {{ event_title }} am "
                "{{ starts_at | when(timezone) }}{% if venue %} in {{ venue }}{% endif %}.\n\n"
                "Buchung {{ booking_reference }}: {{ seats }} Ticket(s), "
                "{{ total_cents | money(currency) }}.\n"
                "Deine Tickets sind angehängt; zeige den QR-Code am Eingang. "
                "Du findest sie auch unter {{ booking_url }}\n",
            ),
            (Channel.in_app, "en"): Wording(
                "Booking confirmed: {{ event_title }}",
                "{{ seats }} ticket(s) for {{ starts_at | when(timezone) }}. "
                "Your tickets are in your booking.",
            ),
            (Channel.push, "en"): Wording(
                "Booking confirmed", "{{ seats }} ticket(s) for {{ event_title }}."
            ),
            (Channel.sms, "en"): Wording(
                "",
                "Tessera: booking {{ booking_reference }} confirmed, {{ seats }} ticket(s) for "
                "{{ event_title }}, {{ starts_at | when(timezone) }}.",
            ),
        },
    ),
    "booking_cancelled": Trigger(
        Category.orders,
        "A booking was cancelled (by its holder or the organizer)",
        _EVENT_SAMPLE,
        wording={
            (Channel.email, "en"): Wording(
                "Your booking for {{ event_title }} is cancelled",
                "Hello {{ name }},\n\nyour booking {{ booking_reference }} for {{ event_title }} "
                "on {{ starts_at | when(timezone) }} is cancelled and its tickets no longer "
                "work.{% if total_cents %} What you paid is refunded to the way you paid; you "
                "will get a receipt when the refund is done.{% endif %}\n",
            ),
            (Channel.in_app, "en"): Wording(
                "Booking cancelled: {{ event_title }}",
                "Booking {{ booking_reference }} is cancelled.",
            ),
            (Channel.push, "en"): Wording(
                "Booking cancelled", "Your booking for {{ event_title }} is cancelled."
            ),
            (Channel.sms, "en"): Wording(
                "", "Tessera: booking {{ booking_reference }} for {{ event_title }} is cancelled."
            ),
        },
    ),
    "booking_refunded": Trigger(
        Category.orders,
        "A booking's payment was refunded: the credit note is attached",
        _EVENT_SAMPLE,
        attachments=("invoice",),
        wording={
            (Channel.email, "en"): Wording(
                "Your refund for {{ event_title }}",
                "Hello {{ name }},\n\nwe refunded {{ total_cents | money(currency) }} for "
                "booking {{ booking_reference }} ({{ event_title }}). Depending on your bank it "
                "shows on your statement within a few days. The credit note is attached.\n",
            ),
            (Channel.in_app, "en"): Wording(
                "Refunded: {{ event_title }}",
                "{{ total_cents | money(currency) }} refunded for booking {{ booking_reference }}.",
            ),
            (Channel.push, "en"): Wording(
                "Refund on its way", "Your refund for {{ event_title }} is on its way."
            ),
            (Channel.sms, "en"): Wording("", "Tessera: booking {{ booking_reference }} refunded."),
        },
    ),
    "waitlist_offer": Trigger(
        Category.waitlist,
        "Seats freed up for someone on the waitlist",
        _EVENT_SAMPLE | {"offer_expires_at": "2027-03-10T19:30:00+00:00"},
        wording={
            (Channel.email, "en"): Wording(
                "A seat for {{ event_title }} is yours",
                "Hello {{ name }},\n\ngood news: {{ seats }} seat(s) for {{ event_title }} on "
                "{{ starts_at | when(timezone) }} are held for you until "
                "{{ offer_expires_at | when(timezone) }}. Book them here:\n\n{{ booking_url }}\n\n"
                "After that they go to the next person on the waitlist.\n",
                "<p>Hello {{ name }},</p><p>good news: {{ seats }} seat(s) for "
                "<strong>{{ event_title }}</strong> are held for you until "
                "{{ offer_expires_at | when(timezone) }}.</p>"
                '<p><a class="button" href="{{ booking_url }}">Book my seats</a></p>'
                "<p>After that they go to the next person on the waitlist.</p>",
            ),
            (Channel.in_app, "en"): Wording(
                "A seat for {{ event_title }} is yours",
                "Held for you until {{ offer_expires_at | when(timezone) }}.",
            ),
            (Channel.push, "en"): Wording(
                "A seat is yours", "{{ event_title }}: book before it goes to the next person."
            ),
            (Channel.sms, "en"): Wording(
                "",
                "Tessera: seats for {{ event_title }} are held for you until "
                "{{ offer_expires_at | when(timezone) }}: {{ booking_url }}",
            ),
        },
    ),
    "event_changed": Trigger(
        Category.event_updates,
        "The time or place of an event you hold tickets for changed",
        _EVENT_SAMPLE | {"changes": ["time", "venue"]},
        wording={
            (Channel.email, "en"): Wording(
                "{{ event_title }} has changed",
                "Hello {{ name }},\n\nthe organizer changed the {{ changes | join(' and ') }} "
                "of {{ event_title }}. It now starts {{ starts_at | when(timezone) }}"
                "{% if venue %} at {{ venue }}{% endif %}. Your tickets stay valid. If you can "
                "no longer come, see your booking: {{ booking_url }}\n",
            ),
            (Channel.in_app, "en"): Wording(
                "{{ event_title }} has changed",
                "Now {{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}.",
            ),
            (Channel.push, "en"): Wording(
                "{{ event_title }} has changed",
                "Now {{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}.",
            ),
            (Channel.sms, "en"): Wording(
                "",
                "Tessera: {{ event_title }} now starts {{ starts_at | when(timezone) }}"
                "{% if venue %} at {{ venue }}{% endif %}.",
            ),
        },
    ),
    "event_cancelled": Trigger(
        Category.event_updates,
        "An event you hold tickets for was cancelled",
        _EVENT_SAMPLE | {"reason": "The venue is closed for repairs."},
        wording={
            (Channel.email, "en"): Wording(
                "{{ event_title }} is cancelled",
                "Hello {{ name }},\n\nwe are sorry: {{ event_title }} on "
                "{{ starts_at | when(timezone) }} is cancelled."
                "{% if reason %}\nThe organizer says: {{ reason }}{% endif %}\n\n"
                "Your booking {{ booking_reference }} is cancelled"
                "{% if total_cents %} and what you paid is refunded in full{% endif %}.\n",
            ),
            (Channel.in_app, "en"): Wording(
                "{{ event_title }} is cancelled", "Your booking {{ booking_reference }} is void."
            ),
            (Channel.push, "en"): Wording(
                "{{ event_title }} is cancelled", "Your booking is cancelled and refunded."
            ),
            (Channel.sms, "en"): Wording(
                "", "Tessera: {{ event_title }} is cancelled; your booking is refunded."
            ),
        },
    ),
    "reminder_24h": Trigger(
        Category.reminders,
        "An event you hold tickets for starts within 24 hours",
        _EVENT_SAMPLE,
        attachments=("tickets",),
        wording={
            (Channel.email, "en"): Wording(
                "Tomorrow: {{ event_title }}",
                "Hello {{ name }},\n\n{{ event_title }} starts {{ starts_at | when(timezone) }}"
                "{% if venue %} at {{ venue }}{% endif %}. Your tickets are attached again, so "
                "you have them at hand.\n",
            ),
            (Channel.email, "de"): Wording(
                "Morgen: {{ event_title }}",
                "Hallo {{ name }},\n\n{{ event_title }} beginnt am "
                "{{ starts_at | when(timezone) }}{% if venue %} in {{ venue }}{% endif %}. "
                "Deine Tickets sind noch einmal angehängt.\n",
            ),
            (Channel.in_app, "en"): Wording(
                "Tomorrow: {{ event_title }}", "Starts {{ starts_at | when(timezone) }}."
            ),
            (Channel.push, "en"): Wording(
                "Tomorrow: {{ event_title }}", "Starts {{ starts_at | when(timezone) }}."
            ),
            (Channel.sms, "en"): Wording(
                "", "Tessera: {{ event_title }} starts {{ starts_at | when(timezone) }}."
            ),
        },
    ),
    "reminder_1h": Trigger(
        Category.reminders,
        "An event you hold tickets for starts within the hour",
        _EVENT_SAMPLE,
        wording={
            (Channel.email, "en"): Wording(
                "Starting soon: {{ event_title }}",
                "Hello {{ name }},\n\n{{ event_title }} starts at "
                "{{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}. "
                "Have your tickets ready: {{ booking_url }}\n",
            ),
            (Channel.in_app, "en"): Wording(
                "Starting soon: {{ event_title }}", "Have your tickets ready."
            ),
            (Channel.push, "en"): Wording(
                "Starting soon: {{ event_title }}", "Have your tickets ready."
            ),
            (Channel.sms, "en"): Wording(
                "", "Tessera: {{ event_title }} starts at {{ starts_at | when(timezone) }}."
            ),
        },
    ),
    "new_event": Trigger(
        Category.marketing,
        "An organizer you booked with published a new event",
        _EVENT_SAMPLE | {"organizer_name": "Difference Engine Society"},
        wording={
            (Channel.email, "en"): Wording(
                "New from {{ organizer_name }}: {{ event_title }}",
                "Hello {{ name }},\n\n{{ organizer_name }}, whose event you went to, just "
                "announced {{ event_title }} on {{ starts_at | when(timezone) }}"
                "{% if venue %} at {{ venue }}{% endif %}.\n\nTickets: {{ event_url }}\n",
                "<p>Hello {{ name }},</p><p>{{ organizer_name }}, whose event you went to, just "
                "announced <strong>{{ event_title }}</strong> on "
                "{{ starts_at | when(timezone) }}{% if venue %} at {{ venue }}{% endif %}.</p>"
                '<p><a class="button" href="{{ event_url }}">Get tickets</a></p>',
            ),
            (Channel.in_app, "en"): Wording(
                "New from {{ organizer_name }}",
                "{{ event_title }}, {{ starts_at | when(timezone) }}.",
            ),
            (Channel.push, "en"): Wording(
                "New from {{ organizer_name }}", "{{ event_title }}: tickets are on sale."
            ),
        },
    ),
}


def channels_of(trigger: str) -> tuple[Channel, ...]:
    """The channels a trigger has bundled wording for."""
    return tuple(
        channel
        for channel in ALL_CHANNELS
        if any(c == channel for c, _ in TRIGGERS[trigger].wording)
    )


def bundled(trigger: str, channel: Channel, locale: str) -> tuple[str, Wording] | None:
    """The bundled wording for a locale, falling back to its language and then English."""
    wording = TRIGGERS[trigger].wording
    for candidate in (locale, locale.split("-")[0].lower(), "en"):
        if (channel, candidate) in wording:
            return candidate, wording[(channel, candidate)]
    return None
