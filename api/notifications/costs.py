"""What rendering a notification template may cost: the bounds, the budget each render runs
on, and the checks that hold a template to them (used by the sandbox, api/notifications/sandbox.py).

Sizes are checked before an operation that multiplies them runs, not after: by then the memory
is spent.
"""

from __future__ import annotations

import gc
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from string import Formatter
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.utils import Namespace
from markupsafe import soft_str

MAX_RANGE = 1_000  # items one range() may have
MAX_STEPS = 20_000  # loop turns, calls, filters and operators in one render
MAX_DEPTH = 32  # macro calls (and recursive loops) inside one another
MAX_NESTING = 64  # lists, tuples and dicts inside one another
MAX_VALUE = 250_000  # characters or items of any one value a template makes
MAX_OUTPUT = 1_000_000  # characters printed in one render, and bytes of its result
MAX_WIDTH = 1_000  # a field width or precision in `%` or str.format
MAX_INT_BITS = 4_096  # the size of an integer a template computes
CPU_SECONDS = 0.1  # processor time one render may take


class TooExpensive(SecurityError):
    """A template went past one of the bounds on what rendering may cost."""


@dataclass
class Budget:
    deadline: float
    steps: int = 0
    depth: int = 0
    output: int = 0
    collecting_since: float | None = None


_BUDGET: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def current() -> Budget | None:
    """The budget of the render under way, if any."""
    return _BUDGET.get()


@contextmanager
def budget(*, clock: bool = True) -> Iterator[None]:
    """Render inside this: the bounds hold from here on. Without the `clock`, the processor
    time is not limited (for the bundled wording, which is ours); the other bounds still are."""
    deadline = time.thread_time() + CPU_SECONDS if clock else math.inf
    token = _BUDGET.set(Budget(deadline=deadline))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _garbage_collection(phase: str, info: dict[str, Any]) -> None:
    """Python's collector runs in whichever thread happens to allocate: a full collection of
    the process's heap (tens of milliseconds) is not the template's doing, so its time is given
    back to the render it interrupted."""
    found = _BUDGET.get()
    if found is None:
        return
    if phase == "start":
        found.collecting_since = time.thread_time()
    elif found.collecting_since is not None:
        found.deadline += time.thread_time() - found.collecting_since
        found.collecting_since = None


gc.callbacks.append(_garbage_collection)


def check_clock() -> None:
    found = _BUDGET.get()
    if found is not None and time.thread_time() > found.deadline:
        raise TooExpensive(f"it takes more than {CPU_SECONDS} s of processor time to render")


def step() -> None:
    found = _BUDGET.get()
    if found is None:
        return
    found.steps += 1
    if found.steps > MAX_STEPS:
        raise TooExpensive(
            f"it takes more than {MAX_STEPS:,} steps (loop turns, calls, filters) to render"
        )
    check_clock()


def size(value: Any, limit: int = MAX_VALUE) -> int:
    """About how big `value` is when printed: characters of text, one per item of a collection,
    an item referenced twice counted twice (each collection is walked once, though). Counting
    stops once past `limit`."""
    if isinstance(value, str | bytes):
        return len(value)
    known: dict[int, int] = {}

    def walk(item: Any, depth: int) -> int:
        if isinstance(item, str | bytes | bytearray):
            return len(item) + 1
        if isinstance(item, int):
            return item.bit_length() // 3 + 1
        if isinstance(item, range):
            return len(item) + 1
        if not isinstance(item, list | tuple | set | frozenset | dict | Namespace):
            return 1
        if id(item) in known:
            return known[id(item)]
        if depth >= MAX_NESTING:
            raise TooExpensive(f"it nests collections more than {MAX_NESTING} deep")
        children: Iterable[Any] = item
        if isinstance(item, Namespace):
            children = object.__getattribute__(item, "_Namespace__attrs").values()
        elif isinstance(item, dict):
            children = (x for pair in item.items() for x in pair)
        total = 1
        for child in children:
            total += walk(child, depth + 1)
            if total > limit:
                break
        known[id(item)] = total
        return total

    return walk(value, 0)


def bounded(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")
    if size(value) > MAX_VALUE:
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")
    return value


def _too_wide(number: str) -> bool:
    return number == "*" or len(number) > 6 or (number.isdigit() and int(number) > MAX_WIDTH)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")


def check_printf(template: str | bytes) -> None:
    text = template if isinstance(template, str) else template.decode("latin-1")
    for width, precision in _PRINTF.findall(text):
        if _too_wide(width) or _too_wide(precision):
            raise TooExpensive(f"a %-format width or precision is above {MAX_WIDTH:,}")


def check_format(template: str) -> None:
    for _text, field, spec, _conversion in Formatter().parse(template):
        if field is None or not spec:
            continue
        if "{" in spec or any(_too_wide(n) for n in re.findall(r"\d+", spec)):
            raise TooExpensive(f"a format width or precision is above {MAX_WIDTH:,}")


def check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")
        return
    times, sequence = (right, left) if isinstance(right, int) else (left, right)
    if (
        isinstance(times, int)
        and times > 0
        and not isinstance(sequence, int | float)
        and size(sequence, MAX_VALUE // times + 1) * times > MAX_VALUE
    ):
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")


def check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")


def limit(estimate: int) -> None:
    if estimate > MAX_VALUE:
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")


def _replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    text, old, new = soft_str(text), soft_str(old), soft_str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def joined(items: Iterable[Any], separator: Any) -> tuple[list[Any], int]:
    materialised = list(items)
    total = sum(size(item) for item in materialised)
    return materialised, total + len(soft_str(separator)) * max(len(materialised) - 1, 0)


def _check_padding(text: str | bytes, args: tuple[Any, ...]) -> None:
    limit(args[0] if args and isinstance(args[0], int) else 0)


def _check_str_replace(text: str | bytes, args: tuple[Any, ...]) -> None:
    if isinstance(text, str) and len(args) >= 2:
        limit(_replaced_size(text, args[0], args[1], args[2] if len(args) > 2 else -1))


# String methods a template may call that could multiply size: checked before they run.
STRING_CHECKS: dict[str, Callable[[str | bytes, tuple[Any, ...]], None]] = {
    "center": _check_padding,
    "ljust": _check_padding,
    "rjust": _check_padding,
    "zfill": _check_padding,
    "replace": _check_str_replace,
}
# Methods no message needs that blow up cheaply (`('\t' * 9).expandtabs(10**8)`).
REFUSED_ON_STRINGS = frozenset({"expandtabs", "translate", "maketrans", "format_map"})


def _width_of(value: Any) -> int:
    if isinstance(value, int):
        return value
    return len(soft_str(value)) if value is not None else 0


def _check_center(a: dict[str, Any]) -> None:
    limit(_width_of(a.get("width", 80)))


def _check_indent(a: dict[str, Any]) -> None:
    text = soft_str(a["s"])
    limit(len(text) + (text.count("\n") + 1) * _width_of(a.get("width", 4)))


def _check_wordwrap(a: dict[str, Any]) -> None:
    text = soft_str(a["s"])
    width = a.get("width", 79)
    lines = len(text) // max(width if isinstance(width, int) else 1, 1)
    lines += text.count(" ") + text.count("\n") + 1
    limit(len(text) + lines * _width_of(a.get("wrapstring") or "\n"))


def _check_format_filter(a: dict[str, Any]) -> None:
    check_printf(soft_str(a["value"]))


def _check_replace(a: dict[str, Any]) -> None:
    limit(_replaced_size(a["s"], a["old"], a["new"], a.get("count")))


def _check_join(a: dict[str, Any]) -> None:
    items, total = joined(a["value"], a.get("d", ""))
    a["value"] = items
    limit(total)


def _check_batch(a: dict[str, Any]) -> None:
    if _width_of(a.get("linecount", 0)) > MAX_RANGE:
        raise TooExpensive(f"batch() is limited to {MAX_RANGE:,} items a batch")


def _check_slice(a: dict[str, Any]) -> None:
    if _width_of(a.get("slices", 0)) > MAX_RANGE:
        raise TooExpensive(f"slice() is limited to {MAX_RANGE:,} slices")


def _check_tojson(a: dict[str, Any]) -> None:
    if _width_of(a.get("indent")) > 8:
        raise TooExpensive("tojson() indents by at most 8")


def _check_urlize(a: dict[str, Any]) -> None:
    text = soft_str(a["value"])
    links = text.count(".") + text.count("@") + text.count(":") + 1
    extra = _width_of(a.get("target")) + _width_of(a.get("rel")) + 64
    limit(3 * len(text) + links * extra)


def _check_sum(a: dict[str, Any]) -> None:
    if not isinstance(a.get("start", 0), int | float):
        raise TooExpensive("sum() adds numbers only")


FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "center": _check_center,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "format": _check_format_filter,
    "replace": _check_replace,
    "join": _check_join,
    "batch": _check_batch,
    "slice": _check_slice,
    "tojson": _check_tojson,
    "urlize": _check_urlize,
    "sum": _check_sum,
}
