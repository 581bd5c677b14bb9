"""Messages about an event: it changed or was cancelled, it starts soon (reminders), or an
organizer someone booked with published a new one."""

from __future__ import annotations

from api.notifications.models import Category, Channel
from api.notifications.wording import EVENT_SAMPLE, Trigger, Wording

TRIGGERS: dict[str, Trigger] = {
    "event_changed": Trigger(
        Category.event_updates,
        "The time or place of an event you hold tickets for changed",
        EVENT_SAMPLE | {"changes": ["time", "venue"]},
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
        EVENT_SAMPLE | {"reason": "The venue is closed for repairs."},
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
        EVENT_SAMPLE,
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
        EVENT_SAMPLE,
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
        EVENT_SAMPLE | {"organizer_name": "Difference Engine Society"},
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
