"""The notifications domain's entry points for code outside it (the `tessera` command, seeding,
tests). Each concern has its own module: `account_messages` (requests and the worker's outbox
consumers), `preferences` (and unsubscribe), `template_store`, `inbox`, `push`, `callbacks`,
`delivery_log` and `variants`; turning outbox events into notifications is `planner.py`,
sending them `worker.py`.

Secrets a message must carry (a reset link's token) are sealed (`api.message_requests`), so
the outbox, the notification row and the warehouse never hold them in clear.
"""

from __future__ import annotations

from api.message_requests import seal, unseal
from api.notifications.account_messages import (
    ACCOUNT_CONSUMER,
    EVENT_TYPE,
    EVENTS_CONSUMER,
    request,
    skip_history,
)
from api.notifications.preferences import set_preferences
from api.notifications.template_store import TemplateDraft, create_template
from api.notifications.variants import variant_bucket

__all__ = [
    "ACCOUNT_CONSUMER",
    "EVENTS_CONSUMER",
    "EVENT_TYPE",
    "TemplateDraft",
    "create_template",
    "request",
    "seal",
    "set_preferences",
    "skip_history",
    "unseal",
    "variant_bucket",
]
