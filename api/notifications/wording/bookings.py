"""Messages about a booking: confirmed (with tickets, invoice and calendar entry), cancelled,
refunded, and a waitlist's offer of seats."""

from __future__ import annotations

from api.notifications.models import Category, Channel
from api.notifications.wording import EVENT_SAMPLE, Trigger, Wording

TRIGGERS: dict[str, Trigger] = {
    "booking_confirmed": Trigger(
        Category.orders,
        "A booking is confirmed (paid or free): tickets, invoice and calendar entry attached",
        EVENT_SAMPLE,
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
        EVENT_SAMPLE,
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
        EVENT_SAMPLE,
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
        EVENT_SAMPLE | {"offer_expires_at": "2027-03-10T19:30:00+00:00"},
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
}
