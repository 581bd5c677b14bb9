"""The running dashboard, opened in headless Chromium: a person signs in and sees the published
figures, and a screenshot is saved for people to look at."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.dashboards.world import Account, World

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    with httpx.Client() as client:
        for _ in range(300):  # up to 60 s; ends as soon as the server answers
            assert process.poll() is None, "the dashboard server stopped"
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{url}/_stcore/health").text == "ok":
                    return
            time.sleep(0.2)  # poll again: the server is still starting
    raise AssertionError("the dashboard server did not come up")


class DevTools:
    """Just enough of the Chrome DevTools Protocol to load a page, read it and photograph it."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next = 0

    def call(self, method: str, **params: object) -> dict[str, Any]:
        self._next += 1
        self._socket.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            answer = json.loads(self._socket.recv(timeout=60))
            if answer.get("id") == self._next:
                assert "error" not in answer, answer
                return dict(answer.get("result", {}))

    def text(self) -> str:
        found = self.call(
            "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
        )
        return str(found["result"].get("value", ""))


def _page_target(port: int, process: subprocess.Popen[bytes]) -> str:
    with httpx.Client() as client:
        for _ in range(300):
            assert process.poll() is None, "Chromium stopped"
            with contextlib.suppress(httpx.TransportError):
                targets = client.get(f"http://127.0.0.1:{port}/json/list").json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.2)  # poll again: Chromium is still starting
    raise AssertionError("Chromium's DevTools did not come up")


def _type_into(tab: DevTools, label: str, text: str) -> None:
    """Click into the field with this label and type, as a person does."""
    found = tab.call(
        "Runtime.evaluate",
        expression=f"(() => {{ const f = document.querySelector('input[aria-label=\"{label}\"]');"
        " if (!f) return false; f.focus(); return true; })()",
        returnByValue=True,
    )
    assert found["result"].get("value"), f"no field labelled {label}"
    tab.call("Input.insertText", text=text)


def _click(tab: DevTools, name: str) -> None:
    tab.call(
        "Runtime.evaluate",
        expression="[...document.querySelectorAll('button')]"
        f".find(b => b.innerText.trim() === {json.dumps(name)}).click()",
    )


def _wait_for(tab: DevTools, wanted: tuple[str, ...], *, drawn: bool) -> str:
    text = ""
    for _ in range(240):  # up to 60 s; ends as soon as the page shows it
        text = tab.text()
        charts = tab.call(
            "Runtime.evaluate",
            expression="document.querySelectorAll('canvas, svg.marks').length",
            returnByValue=True,
        )["result"].get("value", 0)
        if all(part in text for part in wanted) and (charts or not drawn):
            break
        time.sleep(0.25)
    return text


def _browse(
    world: World, api_url: str, who: Account, screenshot: Path, wanted: tuple[str, ...]
) -> str:
    """Serve the dashboards, open them in headless Chromium, sign in, wait until the page
    shows what is wanted and its charts are drawn, save a screenshot, return the text."""
    assert CHROMIUM is not None
    port, devtools_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our app
        [
            *(sys.executable, "-m", "streamlit", "run", str(APP)),
            *("--server.port", str(port), "--server.address", "127.0.0.1"),
            *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        ],
        env={**os.environ, "TESSERA_SNAPSHOT_DIR": world.snapshot, "TESSERA_API_URL": api_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = subprocess.Popen(  # noqa: S603 - the system's Chromium
        [
            *(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu"),
            *("--disable-background-networking", "--window-size=1400,1000"),
            f"--remote-debugging-port={devtools_port}",
            "--remote-allow-origins=*",
            f"--user-data-dir={screenshot.parent / 'chromium-profile'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_healthy(url, server)
        with connect(_page_target(devtools_port, browser), max_size=None) as socket:
            tab = DevTools(socket)
            tab.call("Page.enable")
            tab.call("Page.navigate", url=url)
            form = _wait_for(
                tab, ("Sign in to Tessera analytics", "Email", "Password"), drawn=False
            )
            assert "Net revenue" not in form, form
            _type_into(tab, "Email", who.email)
            _type_into(tab, "Password", who.password)
            _click(tab, "Sign in")
            text = _wait_for(tab, wanted, drawn=True)
            shot = tab.call("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            return text
    finally:
        for process in (browser, server):
            process.terminate()
            process.wait(timeout=30)


def test_the_dashboard_opens_in_a_browser_after_signing_in(
    world: World, dashboard_api: str, tmp_path: Path
) -> None:
    if CHROMIUM is None:
        missing = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the browser tests: {missing}; .ci/run installs it")
        pytest.skip(missing)
    screenshot = tmp_path / "dashboard.png"
    wanted = ("Net revenue", "€214.00", "Signed in as", "Sign out")
    text = _browse(world, dashboard_api, world.account("admin"), screenshot, wanted)
    assert all(part in text for part in wanted), text
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 30_000  # a drawn page, not a loading skeleton
    print(f"screenshot saved at {screenshot}")
