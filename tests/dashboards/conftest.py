"""Dashboard tests sign in through the API, served on loopback, and read one snapshot published
from data made through the API (see world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dashboards.world import World, build_once, serve_api


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> World:
    """Built once per test run: pytest-xdist workers share their parent's temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return build_once(base if worker_id == "master" else base.parent)


@pytest.fixture(scope="session")
def dashboard_api(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_api(world, tmp_path_factory.mktemp("dashboard-api")) as url:
        yield url


@pytest.fixture
def dashboards(world: World, dashboard_api: str, monkeypatch: pytest.MonkeyPatch) -> World:
    """The dashboards pointed at the world's API and snapshot."""
    monkeypatch.setenv("TESSERA_API_URL", dashboard_api)
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", world.snapshot)
    return world
