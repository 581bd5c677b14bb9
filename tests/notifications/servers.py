"""Servers on loopback that speak the providers' documented wire formats: SMTP (aiosmtpd),
Twilio's Messages API, and a Web Push service."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Mailbox:
    """What the SMTP server accepted, and how it should answer the next messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    # Replies for the next DATA commands, in order ("451 ..." defers, "550 ..." refuses).
    replies: list[str] = field(default_factory=list)
    # Set to hold the DATA of message number `hold_at` (0-based) until released: a worker
    # killed mid-send. The held message is not accepted.
    hold: threading.Event | None = None
    hold_at: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    calls: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.calls += 1
        if self.hold is not None and self.calls - 1 == self.hold_at:
            gate, self.hold = self.hold, None
            self.holding.set()
            await asyncio.to_thread(gate.wait)
            return "421 closing: the client went away"
        if self.replies:
            return self.replies.pop(0)
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(
            BytesParser(policy=policy.default).parsebytes(content)  # type: ignore[arg-type]
        )
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port after starting: pick one
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        if mailbox.hold is not None:
            mailbox.hold.set()
        controller.stop()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class HttpService:
    requests: list[Recorded] = field(default_factory=list)
    # (status, JSON body) answers for the next requests, in order; then `default`.
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    default: Callable[[Recorded], tuple[int, dict[str, Any]]] = lambda r: (201, {})
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def http_service(
    default: Callable[[Recorded], tuple[int, dict[str, Any]]],
) -> Iterator[HttpService]:
    service = HttpService(default=default)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            recorded = Recorded(
                "POST",
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            service.requests.append(recorded)
            status, body = service.answers.pop(0) if service.answers else service.default(recorded)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 201 and "location" in body:
                self.send_header("Location", str(body["location"]))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


def twilio_answer(recorded: Recorded) -> tuple[int, dict[str, Any]]:
    """Twilio's 201 for a queued message (the fields a client relies on)."""
    form = recorded.form()
    return 201, {
        "sid": "SM" + uuid.uuid4().hex,
        "status": "queued",
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body"),
        "num_segments": "1",
        "error_code": None,
    }


def push_answer(recorded: Recorded) -> tuple[int, dict[str, Any]]:
    return 201, {"location": f"/messages/{uuid.uuid4().hex}"}
