"""The API document shows an example of every JSON request body and of the main responses, and
every example is one the API itself accepts: each is validated against its own model, as JSON,
the way a request body is read.

Form bodies (the image upload, the OAuth form callback) are FastAPI's own `Body_...` schemas,
built from the route's parameters, and carry no example of their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import api
from api.main import create_app
from tests.api.conftest import make_settings

JSON_MEDIA = "application/json"

# The main resources' responses, which a reader of the document looks for first.
MAIN_RESPONSES = {
    "Accepted",
    "BookingOut",
    "BookingPage",
    "CategoryOut",
    "CheckInOut",
    "EventOut",
    "EventPage",
    "FeeTermsOut",
    "MediaOut",
    "PaymentOut",
    "Problem",
    "RefundOut",
    "TemplateOut",
    "TicketOut",
    "TicketTypeOut",
    "TokenPair",
    "UserProfile",
    "WaitlistEntryOut",
    "WaitlistPage",
}


@cache
def _document() -> dict[str, Any]:
    return create_app(make_settings("sqlite+aiosqlite://", Path("unused"))).openapi()


def _models() -> dict[str, list[type[BaseModel]]]:
    """Every model of the domains' `schemas` modules and of `api.errors`, by class name."""
    modules = [importlib.import_module("api.errors")]
    for info in pkgutil.iter_modules(api.__path__):
        if info.ispkg and importlib.util.find_spec(f"api.{info.name}.schemas") is not None:
            modules.append(importlib.import_module(f"api.{info.name}.schemas"))
    found: dict[str, list[type[BaseModel]]] = {}
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found.setdefault(value.__name__, []).append(value)
    return found


def _component(ref: dict[str, Any]) -> str | None:
    """The component a body's schema names, directly or as the non-null choice of an optional
    body."""
    for schema in [ref, *ref.get("anyOf", [])]:
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def _request_components() -> set[str]:
    names = set()
    for item in _document()["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {})
            if JSON_MEDIA in content and (name := _component(content[JSON_MEDIA]["schema"])):
                names.add(name)
    return names


def _with_examples() -> list[tuple[str, int, Any]]:
    schemas = _document()["components"]["schemas"]
    return [
        (name, index, example)
        for name, schema in sorted(schemas.items())
        for index, example in enumerate(schema.get("examples", []))
    ]


def test_every_json_request_body_has_an_example() -> None:
    schemas = _document()["components"]["schemas"]
    requests = _request_components()
    assert len(requests) > 30, sorted(requests)
    missing = sorted(name for name in requests if not schemas[name].get("examples"))
    assert not missing, f"request bodies without an example: {missing}"


def test_the_main_responses_have_an_example() -> None:
    schemas = _document()["components"]["schemas"]
    missing = sorted(name for name in MAIN_RESPONSES if not schemas[name].get("examples"))
    assert not missing, f"responses without an example: {missing}"


def test_each_schema_shows_one_example() -> None:
    schemas = _document()["components"]["schemas"]
    several = sorted(name for name, s in schemas.items() if len(s.get("examples", [])) > 1)
    assert not several, several


def _without_nulls(value: Any) -> Any:
    """What FastAPI makes of a value in the document: it leaves out every null member."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _model(name: str) -> type[BaseModel]:
    models = _models().get(name.removesuffix("-Input").removesuffix("-Output"), [])
    assert len(models) == 1, f"{name}: expected one model of that name, found {models}"
    return models[0]


@pytest.mark.parametrize(
    ("name", "index", "example"), [pytest.param(*e, id=f"{e[0]}-{e[1]}") for e in _with_examples()]
)
def test_example_is_valid_for_its_model(name: str, index: int, example: Any) -> None:
    """The model's own example is valid, read as JSON the way the API reads a body (strict
    integers, ISO 8601 times), and is the one the document shows. FastAPI leaves null members
    out of the whole document, so a response's fields that are null in the example (a booking
    not cancelled) are missing from the document's copy."""
    model = _model(name)
    declared = model.model_json_schema()["examples"][index]
    assert example in (declared, _without_nulls(declared))
    model.model_validate_json(json.dumps(declared))


@pytest.mark.parametrize("name", sorted(_request_components()))
def test_request_example_is_valid_as_the_document_shows_it(name: str) -> None:
    """Clients and test tools send a request body's example as the document shows it."""
    for example in _document()["components"]["schemas"][name].get("examples", []):
        _model(name).model_validate_json(json.dumps(example))


def test_examples_were_found() -> None:
    assert len(_with_examples()) >= len(_request_components()) + len(MAIN_RESPONSES)
