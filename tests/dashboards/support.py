"""Driving the dashboards in AppTest as a person does (sign in, open pages, sign out), and
reading back everything a page shows: its text and every number in its tables and charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from tests.dashboards.world import Account

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGES = {
    "overview": "screens/overview.py",
    "revenue": "screens/revenue.py",
    "events": "screens/events.py",
    "audience": "screens/audience.py",
    "search": "screens/search.py",
    "notifications": "screens/notifications.py",
    "finance": "screens/finance.py",
}


def opened() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception, app.exception
    return app


def labelled(elements: Any, label: str) -> Any:
    [element] = [e for e in elements if e.label == label]
    return element


def submit(app: AppTest, email: str, password: str) -> AppTest:
    labelled(app.text_input, "Email").input(email)
    labelled(app.text_input, "Password").input(password)
    labelled(app.button, "Sign in").click()
    app.run()
    assert not app.exception, app.exception
    return app


def signed_in(account: Account) -> AppTest:
    app = submit(opened(), account.email, account.password)
    assert [t.value for t in app.title] != ["Sign in to Tessera analytics"], [
        e.value for e in app.error
    ]
    return app


def visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(PAGES[page]).run()
    assert not app.exception, (page, app.exception)
    return app


@dataclass
class Shown:
    """Everything a run of a page put on screen."""

    texts: list[str] = field(default_factory=list)
    numbers: set[float] = field(default_factory=set)
    charts: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def has_number(self, value: float) -> bool:
        return any(math.isclose(value, n) for n in self.numbers)


def shown(app: AppTest) -> Shown:
    seen = Shown()
    for node in app:
        seen.charts += "chart" in getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            _walk(proto, seen)
    return seen


def _walk(message: Message, seen: Shown) -> None:
    for descriptor, value in message.ListFields():
        repeated = descriptor.label == FieldDescriptor.LABEL_REPEATED
        if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry:
                items = [v for pair in value.items() for v in pair]
            else:
                items = list(value) if repeated else [value]
            for item in items:
                if isinstance(item, Message):
                    _walk(item, seen)
                elif isinstance(item, str):
                    seen.texts.append(item)
        elif descriptor.type == FieldDescriptor.TYPE_STRING:
            seen.texts.extend(value if repeated else [value])
        elif descriptor.type == FieldDescriptor.TYPE_BYTES:
            for blob in value if repeated else [value]:
                _arrow(blob, seen)
        elif descriptor.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            seen.numbers.update(value if repeated else [value])


def _arrow(blob: bytes, seen: Shown) -> None:
    """Tables and chart data travel as Arrow IPC streams."""
    try:
        frame = pa.ipc.open_stream(blob).read_all().to_pandas()
    except (pa.ArrowInvalid, OSError):
        return
    seen.texts.append(frame.to_csv(index=False))
    seen.texts.extend(str(name) for name in frame.columns)
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        ):
            seen.numbers.update(float(v) for v in frame[column].dropna())


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}
