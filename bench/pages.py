"""The storefront's pages under load, against the JSON API reading the same things.

Over the demo catalogue (its events, ticket types and search index), two processes serve and
wrk drives 32 connections:
- home: GET / (the upcoming events from the search index, the categories, the layout), against
  GET /events?limit=12 (the API's listing of the same page of events);
- event: GET /event/{slug} (the event, its ticket types and images, similar events from the
  index, rendered with Babel dates and money), against GET /events/slug/{slug}.
Each page is measured as served to a visitor who is not signed in (the page shared for
`page_cache_seconds`, api/pages/cache.py), as served to a signed-in visitor (the session checked,
the page every signed-in visitor sees with their name and form token filled in, and for the
event page their waitlist places and bookings looked up), and rendered on every request (a
second server with the sharing off: what a render costs). Each p95 is reported beside the JSON
read's, so a slower machine shows in both. The pages are checked to show what they should first.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Any

import httpx

from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.migrate import upgrade
from bench.harness import scratch_database, served, summarise, wrk_load
from demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_users
from pipelines import search_index
from search.factory import make_backend

EVENTS = 150
USERS = 300


async def _prepare(url: str, settings: Settings) -> None:
    engine = make_engine(url)
    await seed_users(make_sessionmaker(engine), settings, count=USERS, events=EVENTS)
    await engine.dispose()


def _index(url: str, search_dir: Path, snapshot_dir: Path) -> int:
    result = search_index.sync_database(
        url,
        make_backend("tantivy", index_dir=search_dir),
        index_dir=search_dir,
        snapshot_dir=snapshot_dir,
    )
    return result.indexed


def _signed_in_cookie(base: str) -> str:
    """The cookies of a browser that signed in through the sign-in page (the demo attendee)."""
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/account/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        email = next(email for email, _, role in DEMO_ACCOUNTS if role.value == "attendee")
        fields = {"csrf_token": token.group(1), "email": email, "password": DEMO_PASSWORD}
        signed = browser.post("/account/sign-in", data=fields)
        assert signed.status_code == 303, signed.text
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def run(*, db: str, runs: int, seconds: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, cleanup = scratch_database(db, workdir)
        try:
            env = {
                "TESSERA_DATABASE_URL": url,
                "TESSERA_LOG_LEVEL": "WARNING",
                "TESSERA_SEARCH_DIR": str(workdir / "search"),
                "TESSERA_SNAPSHOT_DIR": str(workdir / "snapshot"),
                "TESSERA_MEDIA_DIR": str(workdir / "media"),
                "TESSERA_MAIL_DIR": str(workdir / "mail"),
            }
            upgrade(url)
            asyncio.run(_prepare(url, Settings(database_url=url)))
            indexed = _index(url, workdir / "search", workdir / "snapshot")
            # The same application twice: as configured (anonymous pages shared for a moment,
            # api/pages/cache.py) and rendering every page, to show what the render costs.
            with (
                served("api.main:app", env) as base,
                served("api.main:app", env | {"TESSERA_PAGE_CACHE_SECONDS": "0"}) as uncached,
            ):
                listing = httpx.get(f"{base}/events", params={"limit": 12}).json()
                event = listing["items"][0]
                home_page = httpx.get(f"{base}/")
                event_page = httpx.get(f"{base}/event/{event['slug']}")
                cookie = _signed_in_cookie(base)
                signed_in = {"Cookie": cookie}
                own_page = httpx.get(f"{base}/event/{event['slug']}", headers=signed_in)
                shows = (
                    home_page.status_code == 200
                    and event["title"] in home_page.text
                    and event_page.status_code == 200
                    and "tickets-heading" in event_page.text
                    and "Ari Attendee" in own_page.text
                    and 'name="form_key"' in own_page.text
                )
                page_path = f"/event/{event['slug']}"
                scenarios = {
                    "GET /events?limit=12": (base, "/events?limit=12", None),
                    "GET / (home page)": (base, "/", None),
                    "GET / (signed in)": (base, "/", signed_in),
                    "GET / (rendered each time)": (uncached, "/", None),
                    "GET /events/slug/{slug}": (base, f"/events/slug/{event['slug']}", None),
                    "GET /event/{slug} (page)": (base, page_path, None),
                    "GET /event/{slug} (signed in)": (base, page_path, signed_in),
                    "GET /event/{slug} (rendered)": (uncached, page_path, None),
                }
                loads: dict[str, list[Any]] = {name: [] for name in scenarios}
                for _ in range(runs):
                    for name, (server, path, headers) in scenarios.items():
                        loads[name].append(
                            wrk_load(
                                server,
                                path,
                                seconds=seconds,
                                connections=concurrency,
                                headers=headers,
                            )
                        )
        finally:
            if cleanup is not None:
                asyncio.run(cleanup())

    results = [summarise(name, found).as_dict() for name, found in loads.items()]
    (
        json_list,
        home,
        home_signed_in,
        home_rendered,
        json_event,
        page,
        page_signed_in,
        page_rendered,
    ) = results
    return {
        "bench": "pages",
        "db": db,
        "runs": runs,
        "concurrency": concurrency,
        "events_indexed": indexed,
        "results": results,
        "home_p95_vs_json": round(home["p95_ms_median"] / json_list["p95_ms_median"], 2),
        "event_p95_vs_json": round(page["p95_ms_median"] / json_event["p95_ms_median"], 2),
        "signed_in_home_p95_vs_json": round(
            home_signed_in["p95_ms_median"] / json_list["p95_ms_median"], 2
        ),
        "signed_in_event_p95_vs_json": round(
            page_signed_in["p95_ms_median"] / json_event["p95_ms_median"], 2
        ),
        "rendered_home_p95_vs_json": round(
            home_rendered["p95_ms_median"] / json_list["p95_ms_median"], 2
        ),
        "rendered_event_p95_vs_json": round(
            page_rendered["p95_ms_median"] / json_event["p95_ms_median"], 2
        ),
        "correct": shows and all(r["statuses"].get("0", 0) == 0 for r in results),
    }
