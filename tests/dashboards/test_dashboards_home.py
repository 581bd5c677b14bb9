"""The dashboards say when no figures are published, and when they were, without naming the
server's folders."""

from pathlib import Path

import pytest

from tests.dashboards.support import shown, signed_in
from tests.dashboards.world import World


def test_home_says_no_figures_are_published_yet(
    dashboards: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(tmp_path / "snapshot"))

    app = signed_in(dashboards.account("analyst"))

    assert "No figures are published yet" in app.info[0].value
    assert str(tmp_path) not in shown(app).text


def test_home_says_when_the_figures_were_built(dashboards: World) -> None:
    app = signed_in(dashboards.account("admin"))

    [caption] = [c.value for c in app.caption if c.value.startswith("Figures as of ")]
    assert caption.endswith(" UTC.")  # the admin's own time zone
    assert dashboards.snapshot not in shown(app).text


def test_an_empty_build_gives_a_friendly_empty_state(
    dashboards: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snapshot"
    build = snapshot / "builds" / "20260101T000000Z"
    build.mkdir(parents=True)
    (snapshot / "current").symlink_to(build)
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(snapshot))

    app = signed_in(dashboards.account("admin"))

    assert not app.exception
    assert "Nothing sold yet" in app.info[0].value
    assert str(snapshot) not in shown(app).text
