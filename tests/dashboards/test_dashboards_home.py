"""The dashboards say when no snapshot is published, and which snapshot they read."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def test_home_says_no_snapshot_when_none_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(tmp_path / "snapshot"))

    app = AppTest.from_file(str(APP)).run()

    assert not app.exception
    assert "No snapshot published yet" in app.info[0].value


def test_home_names_the_snapshot_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = tmp_path / "snapshot"
    build = snapshot / "builds" / "20260101T000000Z"
    build.mkdir(parents=True)
    (snapshot / "current").symlink_to(build)
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(snapshot))

    app = AppTest.from_file(str(APP)).run()

    assert not app.exception
    assert str(snapshot) in app.caption[0].value
    assert "Nothing sold yet" in app.info[0].value  # an empty build: a friendly empty state
