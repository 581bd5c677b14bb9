"""What the rules said, in the visitor's language.

A refusal reaches a page as the service's English sentence with the stable code the JSON API
answers with (`Problem`). The page is rendered in the visitor's language, and there the
sentence is said by its code from `locales/problems.LANG.toml`, or as it came where a code has
no entry.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from api.errors import AppError

HERE = Path(__file__).parent


class Problem(str):
    """A message, and the code it was said under."""

    code: str

    def __new__(cls, text: str, code: str) -> Problem:
        problem = super().__new__(cls, text)
        problem.code = code
        return problem

    @classmethod
    def of(cls, error: AppError) -> Problem:
        return cls(error.detail, error.code)


def _catalogue(locale: str) -> dict[str, str]:
    path = HERE / "locales" / f"problems.{locale}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as source:
        codes: dict[str, str] = tomllib.load(source)["codes"]
    return codes


CATALOGUES = {"de": _catalogue("de")}


def said(text: Any, locale: str) -> Any:
    """`text` in `locale` when it is a `Problem` with an entry there, else as it is."""
    if isinstance(text, Problem):
        return CATALOGUES.get(locale, {}).get(text.code, str(text))
    return text


def in_language(context: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A page's context with its problems (the `errors` by field, an error page's `detail`)
    said in `locale`."""
    found = dict(context)
    errors = found.get("errors")
    if isinstance(errors, Mapping):
        found["errors"] = {field: said(text, locale) for field, text in errors.items()}
    if "detail" in found:
        found["detail"] = said(found["detail"], locale)
    return found


class Unreadable(AppError):
    """A form field a page could not read into the API's body (an amount, a number, a date,
    a missing file): 422 beside its field, with a `validation.*` code the pages translate."""

    status, code, title = 422, "validation.value_error", "Unprocessable Entity"
