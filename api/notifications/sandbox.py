"""A Jinja2 sandbox whose templates cost a bounded amount to render.

Jinja's own sandbox keeps templates away from Python's internals, not from the processor or
memory: a huge `range`, loops inside loops, a macro calling itself, `'x' * 10**9`, `'%0999999999d'`,
a string doubled in a loop or a list of references to one big string each cost as much as their
author likes. Here every render runs on a budget (the bounds and checks are in
api/notifications/costs.py), and a template that goes past one raises `TooExpensive`:

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
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import soft_str

from api.notifications import costs


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, counted as a step, with its arguments and result held to the bounds (and,
    for the filters that multiply size, its arguments checked before it runs)."""
    check = costs.FILTER_CHECKS.get(name)
    inner = inspect.unwrap(func)
    signature = inspect.signature(inner)
    # Jinja's sync/async filters may take an evaluation context their sync body does not.
    extra = int(
        getattr(func, "jinja_pass_arg", None) is not None
        and getattr(inner, "jinja_pass_arg", None) is None
    )

    @functools.wraps(func)  # keeps Jinja's pass_context / pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        costs.step()
        for argument in (*args, *kwargs.values()):
            costs.bounded(argument)
        if check is not None:
            bound = signature.bind(*args[extra:], **kwargs)
            check(bound.arguments)
            args, kwargs = (*args[:extra], *bound.args), bound.kwargs
        return costs.bounded(func(*args, **kwargs))

    return guarded


def _range(*args: int) -> range:
    """Jinja's `range`, with at most costs.MAX_RANGE items."""
    found = range(*args)
    try:
        length = len(found)
    except OverflowError:
        length = costs.MAX_RANGE + 1
    if length > costs.MAX_RANGE:
        raise costs.TooExpensive(f"range() is limited to {costs.MAX_RANGE:,} items")
    return found


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """What a `{% for %}` loop walks: each turn is a step."""
    for item in iterable:
        costs.step()
        yield item


@pass_eval_context
def _concat(eval_ctx: EvalContext, *values: Any) -> str:
    """The `~` operator, its size checked before the strings are joined."""
    parts = [soft_str(costs.bounded(value)) for value in values]
    costs.limit(sum(len(part) for part in parts))
    return markup_join(parts) if eval_ctx.autoescape else str_join(parts)


@pass_context
def _printed(context: Context, value: Any) -> Any:
    """Every value a template prints (Jinja's `finalize`), counted towards costs.MAX_OUTPUT."""
    found = costs.current()
    if found is None:
        return value
    costs.check_clock()
    costs.bounded(value)
    text = value if isinstance(value, str) or hasattr(value, "__html__") else str(value)
    found.output += len(soft_str(text))
    if found.output > costs.MAX_OUTPUT:
        raise costs.TooExpensive(f"it prints more than {costs.MAX_OUTPUT:,} characters")
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
        if isinstance(obj, str | bytes) and attr in costs.REFUSED_ON_STRINGS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        costs.check_clock()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        costs.check_clock()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            costs.check_format(value.__self__)
        return wrapped

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        costs.step()
        costs.bounded(left)
        costs.bounded(right)
        if operator == "*":
            costs.check_repeat(left, right)
        elif operator == "**":
            costs.check_power(left, right)
        elif operator == "%" and isinstance(left, str | bytes):
            costs.check_printf(left)
        return costs.bounded(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        costs.step()
        if obj not in _HOOKS:  # the hooks check what they need themselves
            for argument in (*args, *kwargs.values()):
                costs.bounded(argument)
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str | bytes):
            method = getattr(obj, "__name__", "")
            if method in costs.STRING_CHECKS:
                costs.STRING_CHECKS[method](owner, args)
            elif method == "join" and args:
                items, total = costs.joined(args[0], owner)
                costs.limit(total)
                args = (items, *args[1:])
        found = costs.current()
        if found is not None:
            found.depth += 1
        try:
            if found is not None and found.depth > costs.MAX_DEPTH:
                raise costs.TooExpensive(f"it calls macros more than {costs.MAX_DEPTH} deep")
            return costs.bounded(super().call(context, obj, *args, **kwargs))
        finally:
            if found is not None:
                found.depth -= 1
