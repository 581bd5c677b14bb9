"""A search backend that cannot answer is a 503 the client may retry, never a 500."""

from __future__ import annotations

import socket

import pytest

from tests.api.factories import Api


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "search_backend": "opensearch",
        "opensearch_url": f"http://127.0.0.1:{_closed_port()}",
    }


async def test_searches_answer_503_with_retry_after_when_the_server_is_down(api: Api) -> None:
    for path, params in (("/events", {"q": "jazz"}), ("/search/suggest", {"q": "ja"})):
        answer = await api.client.get(path, params=params)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "search.unavailable"
        assert answer.headers["retry-after"] == "5"
    listing = await api.client.get("/events")  # a plain listing needs no search server
    assert listing.status_code == 200
