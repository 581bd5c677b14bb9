"""Every link in every bundled message (email and text, every language) leads to a page that
exists: rendered with the trigger's sample data, each of our links is followed and answers with
a page (or sends the visitor on to one), never with the JSON API's problem document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from api.notifications.catalogue import TRIGGERS
from api.notifications.models import Category, Channel
from api.notifications.preferences import unsubscribe_url
from api.notifications.templates import render
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event

LINK = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_link_in_every_message_opens_a_page(api: Api) -> None:
    settings = api.settings
    base = settings.public_base_url.rstrip("/")
    owner = await api.signed_in(Role.organizer)
    # The samples speak of this event.
    await published_event(api, owner, title="Night of the Analytical Engine")
    reader = await api.make_user()
    links: dict[str, set[str]] = {}
    for name, trigger in TRIGGERS.items():
        for (channel, locale), wording in trigger.wording.items():
            marketing = trigger.category == Category.marketing and channel == Channel.email
            message = render(
                subject=wording.subject,
                text=wording.text,
                html=wording.html,
                context=trigger.sample | {"base_url": base, "token": "a" * 43},
                email=channel == Channel.email,
                locale=locale,
                unsubscribe_url=unsubscribe_url(
                    settings, user_id=reader.id, category=Category.marketing
                )
                if marketing
                else None,
                trusted=True,
            )
            for text in (message.text, message.html or ""):
                for url in LINK.findall(text):
                    if url.startswith(base):
                        links.setdefault(url.replace("&amp;", "&"), set()).add(
                            f"{name}/{channel.value}/{locale}"
                        )
    assert len(links) >= 5, links
    for url, used_by in sorted(links.items()):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = await api.client.get(path)
        where = f"{url} (in {sorted(used_by)[:3]})"
        if response.status_code == 303 and response.headers["location"].startswith("/account/"):
            # The unsubscribe address (also the mail's List-Unsubscribe header) opens the page.
            response = await api.client.get(response.headers["location"])
        if response.status_code == 303:
            assert response.headers["location"].startswith("/account/sign-in"), where
            continue
        assert response.headers["content-type"].startswith("text/html"), where
        assert response.status_code in (200, 400), where  # 400: a sample token, said plainly
