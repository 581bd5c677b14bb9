"""A Jinja2 sandbox whose templates cost a bounded amount to render.

Jinja's own sandbox keeps templates away from Python's internals, not from the processor or
memory: a huge `range`, loops inside loops, a macro calling itself, `'x' * 10**9`, `'%0999999999d'`,
a string doubled in a loop or a list of references to one big string each cost as much as their
author likes. Here every render runs on a budget (see the limits below), and a template that goes
past one raises `TooExpensive`:

- `range()` gives at most MAX_RANGE items; every loop turn, call, filter and intercepted operator
  is a step, and a render may take MAX_STEPS of them and CPU_SECONDS of the thread's processor time
  (checked at each step and attribute lookup);
- macro calls (and recursive loops) nest at most MAX_DEPTH deep;
- no value a template makes may be bigger than MAX_VALUE characters or items (references to the
  same value counted each time, as they would be when printed), and the operations that multiply
  size (`*`, `**`, `%` and format widths, `center`, `replace`, `join`, `indent`, `wordwrap`,
  `batch`, `slice`, `tojson`, `urlize`) are checked before they run, not after;
- everything printed, inside macros and `{% set %}` blocks too, counts towards MAX_OUTPUT.

The template's syntax tree is rewritten after parsing so that loops, `~` and list, tuple and dict
literals go through these checks; mutating methods (`list.append`) are refused, as in Jinja's
immutable sandbox.
"""

from __future__ import annotations

import functools
import inspect
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from string import Formatter
from typing import Any, cast

from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer
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
class _Budget:
    deadline: float
    steps: int = 0
    depth: int = 0
    output: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def budget() -> Iterator[None]:
    """Render (and compile) inside this: the bounds hold from here on."""
    token = _BUDGET.set(_Budget(deadline=time.thread_time() + CPU_SECONDS))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def check_clock() -> None:
    found = _BUDGET.get()
    if found is not None and time.thread_time() > found.deadline:
        raise TooExpensive(f"it takes more than {CPU_SECONDS} s of processor time to render")


def _step() -> None:
    found = _BUDGET.get()
    if found is None:
        return
    found.steps += 1
    if found.steps > MAX_STEPS:
        raise TooExpensive(
            f"it takes more than {MAX_STEPS:,} steps (loop turns, calls, filters) to render"
        )
    check_clock()


def _size(value: Any, limit: int = MAX_VALUE) -> int:
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


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")
    if _size(value) > MAX_VALUE:
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")
    return value


def _too_wide(number: str) -> bool:
    return number == "*" or len(number) > 6 or (number.isdigit() and int(number) > MAX_WIDTH)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")


def _check_printf(template: str | bytes) -> None:
    text = template if isinstance(template, str) else template.decode("latin-1")
    for width, precision in _PRINTF.findall(text):
        if _too_wide(width) or _too_wide(precision):
            raise TooExpensive(f"a %-format width or precision is above {MAX_WIDTH:,}")


def _check_format(template: str) -> None:
    for _text, field, spec, _conversion in Formatter().parse(template):
        if field is None or not spec:
            continue
        if "{" in spec or any(_too_wide(n) for n in re.findall(r"\d+", spec)):
            raise TooExpensive(f"a format width or precision is above {MAX_WIDTH:,}")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")
        return
    times, sequence = (right, left) if isinstance(right, int) else (left, right)
    if (
        isinstance(times, int)
        and times > 0
        and not isinstance(sequence, int | float)
        and _size(sequence, MAX_VALUE // times + 1) * times > MAX_VALUE
    ):
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise TooExpensive(f"it makes an integer of more than {MAX_INT_BITS:,} bits")


def _limit(estimate: int) -> None:
    if estimate > MAX_VALUE:
        raise TooExpensive(f"it makes a value of more than {MAX_VALUE:,} characters or items")


def _replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    text, old, new = soft_str(text), soft_str(old), soft_str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _joined(items: Iterable[Any], separator: Any) -> tuple[list[Any], int]:
    materialised = list(items)
    total = sum(_size(item) for item in materialised)
    return materialised, total + len(soft_str(separator)) * max(len(materialised) - 1, 0)


def _check_padding(text: str | bytes, args: tuple[Any, ...]) -> None:
    _limit(args[0] if args and isinstance(args[0], int) else 0)


def _check_str_replace(text: str | bytes, args: tuple[Any, ...]) -> None:
    if isinstance(text, str) and len(args) >= 2:
        _limit(_replaced_size(text, args[0], args[1], args[2] if len(args) > 2 else -1))


# String methods a template may call that could multiply size: checked before they run.
_STRING_CHECKS: dict[str, Callable[[str | bytes, tuple[Any, ...]], None]] = {
    "center": _check_padding,
    "ljust": _check_padding,
    "rjust": _check_padding,
    "zfill": _check_padding,
    "replace": _check_str_replace,
}
# Methods no message needs that blow up cheaply (`('\t' * 9).expandtabs(10**8)`).
_REFUSED_ON_STRINGS = frozenset({"expandtabs", "translate", "maketrans", "format_map"})


def _width_of(value: Any) -> int:
    if isinstance(value, int):
        return value
    return len(soft_str(value)) if value is not None else 0


def _check_center(a: dict[str, Any]) -> None:
    _limit(_width_of(a.get("width", 80)))


def _check_indent(a: dict[str, Any]) -> None:
    text = soft_str(a["s"])
    _limit(len(text) + (text.count("\n") + 1) * _width_of(a.get("width", 4)))


def _check_wordwrap(a: dict[str, Any]) -> None:
    text = soft_str(a["s"])
    width = a.get("width", 79)
    lines = len(text) // max(width if isinstance(width, int) else 1, 1)
    lines += text.count(" ") + text.count("\n") + 1
    _limit(len(text) + lines * _width_of(a.get("wrapstring") or "\n"))


def _check_format_filter(a: dict[str, Any]) -> None:
    _check_printf(soft_str(a["value"]))


def _check_replace(a: dict[str, Any]) -> None:
    _limit(_replaced_size(a["s"], a["old"], a["new"], a.get("count")))


def _check_join(a: dict[str, Any]) -> None:
    items, total = _joined(a["value"], a.get("d", ""))
    a["value"] = items
    _limit(total)


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
    _limit(3 * len(text) + links * extra)


def _check_sum(a: dict[str, Any]) -> None:
    if not isinstance(a.get("start", 0), int | float):
        raise TooExpensive("sum() adds numbers only")


_FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
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


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, counted as a step, with its arguments and result held to the bounds (and,
    for the filters that multiply size, its arguments checked before it runs)."""
    check = _FILTER_CHECKS.get(name)
    inner = inspect.unwrap(func)
    signature = inspect.signature(inner)
    # Jinja's sync/async filters may take an evaluation context their sync body does not.
    extra = int(
        getattr(func, "jinja_pass_arg", None) is not None
        and getattr(inner, "jinja_pass_arg", None) is None
    )

    @functools.wraps(func)  # keeps Jinja's pass_context / pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        for argument in (*args, *kwargs.values()):
            _bounded(argument)
        if check is not None:
            bound = signature.bind(*args[extra:], **kwargs)
            check(bound.arguments)
            args, kwargs = (*args[:extra], *bound.args), bound.kwargs
        return _bounded(func(*args, **kwargs))

    return guarded


def _range(*args: int) -> range:
    """Jinja's `range`, with at most MAX_RANGE items."""
    found = range(*args)
    try:
        length = len(found)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise TooExpensive(f"range() is limited to {MAX_RANGE:,} items")
    return found


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """What a `{% for %}` loop walks: each turn is a step."""
    for item in iterable:
        _step()
        yield item


@pass_eval_context
def _concat(eval_ctx: EvalContext, *values: Any) -> str:
    """The `~` operator, its size checked before the strings are joined."""
    parts = [soft_str(_bounded(value)) for value in values]
    _limit(sum(len(part) for part in parts))
    return markup_join(parts) if eval_ctx.autoescape else str_join(parts)


@pass_context
def _printed(context: Context, value: Any) -> Any:
    """Every value a template prints (Jinja's `finalize`), counted towards MAX_OUTPUT."""
    found = _BUDGET.get()
    if found is None:
        return value
    check_clock()
    _bounded(value)
    text = value if isinstance(value, str) or hasattr(value, "__html__") else str(value)
    found.output += len(soft_str(text))
    if found.output > MAX_OUTPUT:
        raise TooExpensive(f"it prints more than {MAX_OUTPUT:,} characters")
    return text


def _literal(value: Any) -> Any:
    """A list, tuple or dict literal: `call` checks its size."""
    return value


_HOOKS = (_iterate, _concat, _literal)


def _hook(name: str, *args: nodes.Node, lineno: int) -> nodes.Call:
    """A call of the environment's attribute `name`, which the compiled template makes through
    the sandbox's `call` (so it is a step too)."""
    attribute = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(attribute, cast(list[nodes.Expr], list(args)), [], None, None, lineno=lineno)


class _Guards(NodeTransformer):
    """Rewrites a parsed template so that its loops, `~`, literals and literal text go through
    the budget."""

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> nodes.Node:
        node = self.generic_visit(node)
        if isinstance(node, nodes.For):
            node.iter = _hook("tessera_iterate", node.iter, lineno=node.lineno)
        elif isinstance(node, nodes.Concat):
            return _hook("tessera_concat", *node.nodes, lineno=node.lineno)
        elif isinstance(node, nodes.List | nodes.Dict) or (
            isinstance(node, nodes.Tuple) and node.ctx == "load"
        ):
            return _hook("tessera_value", node, lineno=node.lineno)
        elif isinstance(node, nodes.Output):
            node.nodes = [
                nodes.MarkSafeIfAutoescape(nodes.Const(child.data), lineno=child.lineno)
                if isinstance(child, nodes.TemplateData)
                else child
                for child in node.nodes
            ]
        return node


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, on a budget."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    tessera_iterate = staticmethod(_iterate)
    tessera_concat = staticmethod(_concat)
    tessera_value = staticmethod(_literal)

    def __init__(self, *, filters: dict[str, Callable[..., Any]], **options: Any) -> None:
        super().__init__(finalize=_printed, **options)
        self.globals["range"] = _range
        self.globals.pop("lipsum", None)
        self.filters.update(filters)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _Guards().visit(tree)
        tree.set_environment(self)
        return tree

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str | bytes) and attr in _REFUSED_ON_STRINGS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_clock()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        check_clock()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _step()
        _bounded(left)
        _bounded(right)
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str | bytes):
            _check_printf(left)
        return _bounded(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _step()
        if obj not in _HOOKS:  # the hooks check what they need themselves
            for argument in (*args, *kwargs.values()):
                _bounded(argument)
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str | bytes):
            method = getattr(obj, "__name__", "")
            if method in _STRING_CHECKS:
                _STRING_CHECKS[method](owner, args)
            elif method == "join" and args:
                items, total = _joined(args[0], owner)
                _limit(total)
                args = (items, *args[1:])
        found = _BUDGET.get()
        if found is not None:
            found.depth += 1
        try:
            if found is not None and found.depth > MAX_DEPTH:
                raise TooExpensive(f"it calls macros more than {MAX_DEPTH} deep")
            return _bounded(super().call(context, obj, *args, **kwargs))
        finally:
            if found is not None:
                found.depth -= 1
