"""Rules every request input follows, enforced once for every route.

- Text the databases can store: PostgreSQL refuses NUL in text and JSON and neither database
  stores a lone UTF-16 surrogate, so such characters are refused as 422 naming the field, in
  query parameters, path segments, cookies, JSON bodies and forms alike (`refuse_unstorable`,
  an application-wide dependency).
- Updates that say what they mean (`Patch`): a field left out is kept, `null` is accepted only
  where the value may be empty, and no list holds the same entry twice (`Input`).

Also the example a body (request or response) shows in the API document (`example`).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Unpack

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError, core_schema
from starlette.datastructures import UploadFile

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A JSON body can only carry those characters as escapes; most bodies are skipped at this test.
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
UNSTORABLE_MESSAGE = "contains a character that cannot be stored (NUL or a lone surrogate)"


def same_text(a: str, b: str) -> bool:
    """Whether two texts are equal, in a time that does not tell where they differ: for
    signatures and tokens a client sends, which may hold any character (`hmac.compare_digest`
    refuses text beyond ASCII with an error)."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def may_carry_unstorable(body: bytes) -> bool:
    """Whether a JSON body may hold a string no database can store (it says so by an escape)."""
    return _ESCAPED_UNSTORABLE.search(body) is not None


def _unstorable_strings(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[Any, ...]]:
    """Paths of the strings (and object keys) in a parsed JSON value that cannot be stored."""
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if UNSTORABLE.search(key):
                yield (*path, UNSTORABLE.sub("\ufffd", key))
            else:
                yield from _unstorable_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_strings(item, (*path, index))


def _error(loc: tuple[Any, ...]) -> dict[str, Any]:
    return {"loc": loc, "msg": UNSTORABLE_MESSAGE, "type": "unstorable_character"}


async def _body_errors(request: Request) -> list[dict[str, Any]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()  # parsed once: FastAPI and the route get the same form
        return [
            _error(("body", name))
            for name, value in form.multi_items()
            if not isinstance(value, UploadFile) and UNSTORABLE.search(value)
        ]
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") and not content_type:
        return []
    body = await request.body()  # read once: later readers get the same bytes
    if not _ESCAPED_UNSTORABLE.search(body):
        return []
    try:
        parsed = json.loads(body)
    except ValueError:  # not JSON (or not valid): the route's own parsing answers for it
        return []
    return [_error(("body", *path)) for path in _unstorable_strings(parsed, ())]


async def refuse_unstorable(request: Request) -> None:
    """Refuse text no database can store, wherever the request carries it, before any route
    code (or anything it leaves to run after the response) sees it."""
    errors = [
        _error(("query", name))
        for name, value in request.query_params.multi_items()
        if UNSTORABLE.search(name) or UNSTORABLE.search(value)
    ]
    errors += [
        _error(("path", name))
        for name, value in request.path_params.items()
        if isinstance(value, str) and UNSTORABLE.search(value)
    ]
    errors += [
        _error(("cookie", name))
        for name, value in request.cookies.items()
        if UNSTORABLE.search(name) or UNSTORABLE.search(value)
    ]
    errors += await _body_errors(request)
    if errors:
        raise RequestValidationError(errors)


def example(value: dict[str, Any], **config: Unpack[ConfigDict]) -> ConfigDict:
    """The `model_config` of a body that the API document shows with this example, with any
    other settings it needs (`from_attributes=True`)."""
    return ConfigDict(json_schema_extra={"examples": [value]}, **config)


def _entry_key(entry: Any) -> Any:
    if isinstance(entry, Input) and entry.identity:
        return tuple(getattr(entry, name) for name in entry.identity)
    if isinstance(entry, BaseModel):
        return entry.model_dump_json()
    return entry


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: Any) -> Any:
    """Dates and times are ISO 8601 text, as the document says, never Unix timestamps."""
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip())
    ):
        raise PydanticCustomError(
            "datetime_format", "expected an ISO 8601 date and time, such as 2026-12-24T19:30:00Z"
        )
    return value


# A query parameter holding a moment: ISO 8601 with its offset.
Instant = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]


def _strict_scalars(schema: Any) -> None:
    """Integers and booleans take only JSON integers and booleans (not `false` for 0, `0` for
    false, "1" or 1.0), and dates and times only ISO 8601 text, as the document says; other
    types keep their usual parsing."""
    if isinstance(schema, dict):
        function = schema.get("function")
        if isinstance(function, dict) and function.get("function") is _not_a_number:
            return  # wrapped already: a schema can be handed here again when it is reused
        if schema.get("type") in ("int", "bool"):
            schema["strict"] = True
        if schema.get("type") == "datetime":
            inner = dict(schema)
            schema.clear()
            schema.update(core_schema.no_info_before_validator_function(_not_a_number, inner))
            return
        for value in schema.values():
            _strict_scalars(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict_scalars(value)


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused, integers and booleans are what they
    say, and no list repeats an entry.

    Entries are the same when their `identity` fields are equal (all of them by default); a list
    whose entries may repeat on purpose (two attendees of the same name) is named in
    `repeatable`."""

    model_config = ConfigDict(extra="forbid")
    identity: ClassVar[tuple[str, ...]] = ()
    repeatable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_repeated_entries(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, list) and info.field_name not in cls.repeatable:
            seen: dict[Any, int] = {}
            for index, entry in enumerate(value):
                key = _entry_key(entry)
                if key in seen:
                    raise PydanticCustomError(
                        "repeated_entry",
                        "entry {index} repeats entry {first}; give each one once",
                        {"index": index, "first": seen[key]},
                    )
                seen[key] = index
        return value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        schema = handler(source)
        _strict_scalars(schema)
        return schema

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.repeatable:
                continue
            for variant in [prop, *prop.get("anyOf", [])]:
                if variant.get("type") == "array":
                    variant["uniqueItems"] = True
        return schema


class Patch(Input):
    """Base of partial updates: a field left out keeps its value; `null` is refused except
    for the fields named in `clearable`, whose value may be empty (null clears them)."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise PydanticCustomError(
                "null_not_allowed", "may be left out, but cannot be set to null"
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = super().__get_pydantic_json_schema__(core_schema, handler)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.clearable or "anyOf" not in prop:
                continue
            variants = [v for v in prop["anyOf"] if v.get("type") != "null"]
            if prop.get("default", "absent") is None:
                del prop["default"]
            if len(variants) == 1:
                del prop["anyOf"]
                prop.update(variants[0])
            else:
                prop["anyOf"] = variants
        return schema
