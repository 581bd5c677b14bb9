"""Every search backend, for the conformance suite: tantivy always, OpenSearch when
TESSERA_OPENSEARCH_URL points at a server (each test gets its own index alias)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from search.backend import SearchBackend
from search.documents import EventDocument

OPENSEARCH_URL = os.environ.get("TESSERA_OPENSEARCH_URL")
BACKENDS = ["tantivy", "opensearch"]
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def make_backend(kind: str, tmp_path: Path) -> SearchBackend:
    if kind == "tantivy":
        from search.tantivy_backend import TantivyBackend

        return TantivyBackend(tmp_path / "index")
    if not OPENSEARCH_URL:
        pytest.skip(
            "OpenSearch conformance needs a server: set TESSERA_OPENSEARCH_URL "
            "(the README says how to start one)"
        )
    from search.opensearch_backend import OpenSearchBackend

    return OpenSearchBackend(OPENSEARCH_URL, alias=f"tessera-test-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    made = make_backend(request.param, tmp_path)
    try:
        yield made
    finally:
        if request.param == "opensearch":
            made.drop()  # type: ignore[attr-defined]
        made.close()


def doc(**overrides: Any) -> EventDocument:
    """An event document; every field can be overridden."""
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "slug": "an-event",
        "title": "An event",
        "description": "",
        "category": "Music",
        "tags": (),
        "venue": "Town Hall",
        "city": "Berlin",
        "country": "DE",
        "starts_at": NOW + timedelta(days=10),
        "price_min_cents": 2500,
        "price_max_cents": 2500,
        "currency": "EUR",
        "online": False,
        "popularity": 1.0,
        "lat": 52.52,
        "lon": 13.405,
    }
    values.update(overrides)
    return EventDocument(**values)
