"""The tantivy index's schema, its documents and their stored form, its stemmed and folded
analyzers, and the edit distance that tells which of the index's words a typed word matched (for
highlighting)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import tantivy

from search.backend import BOOSTS, fuzziness
from search.documents import EventDocument


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


STEMMED = _analyzer(stem=True)
FOLDED = _analyzer(stem=False)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping neighbours costs one (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def similar(word: str, term: str) -> bool:
    """Would the search have matched `term` for the typed `word` (prefix or typo)?"""
    if term.startswith(word):
        return True
    allowed = fuzziness(word)
    if not allowed:
        return False
    heads = {term[: len(word) + delta] for delta in (-1, 0, 1)}
    return edit_distance(word, term) <= allowed or any(
        edit_distance(word, head) <= allowed for head in heads
    )


FOLDED_FIELDS = ("title_f", "category_f", "city_f")
ANYWHERE = "text_f"


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    for name in BOOSTS:
        builder.add_text_field(name, stored=name in ("title", "description"), tokenizer_name="en")
    # Folded copies for prefixes and typos: the title, the category and the city on their own
    # (suggestions complete them), and every text field together, so a typed word costs two
    # fuzzy lookups rather than one per field.
    for name in (*FOLDED_FIELDS, ANYWHERE):
        builder.add_text_field(name, tokenizer_name="fold")
    # Exact-match keys for filters (lower case) and display values for facets.
    for name in (
        "category_key",
        "city_key",
        "country_key",
        "tag_key",
        "currency_key",
        "organizer_key",
    ):
        builder.add_text_field(name, tokenizer_name="raw")
    builder.add_text_field("category_value", tokenizer_name="raw", fast=True)
    builder.add_text_field("city_value", tokenizer_name="raw", fast=True)
    builder.add_integer_field("price_min_cents", indexed=True, fast=True)
    builder.add_date_field("starts_at", indexed=True, fast=True)
    builder.add_float_field("popularity", indexed=True, fast=True)
    builder.add_float_field("lat", indexed=True, fast=True)
    builder.add_float_field("lon", indexed=True, fast=True)
    builder.add_boolean_field("online", indexed=True)
    builder.add_bytes_field("source", stored=True)
    return builder.build()


def to_source(doc: EventDocument) -> bytes:
    data = {field: getattr(doc, field) for field in EventDocument.__dataclass_fields__}
    data["starts_at"] = doc.starts_at.astimezone(UTC).isoformat()
    data["tags"] = list(doc.tags)
    return json.dumps(data).encode()


def from_source(raw: bytes) -> EventDocument:
    data = json.loads(raw)
    data["starts_at"] = datetime.fromisoformat(data["starts_at"])
    data["tags"] = tuple(data["tags"])
    return EventDocument(**data)


def document(doc: EventDocument) -> tantivy.Document:
    """The event as the index holds it: its text fields, filter keys, facet values and source."""
    values: dict[str, Any] = {
        "id": doc.id,
        "title": doc.title,
        "description": doc.description,
        "tags": " ".join(doc.tags),
        "category": doc.category,
        "city": doc.city,
        "venue": doc.venue,
        "category_key": doc.category.lower(),
        "city_key": doc.city.lower(),
        "country_key": doc.country.upper(),
        "currency_key": doc.currency.upper(),
        "organizer_key": doc.organizer_id,
        "category_value": doc.category,
        "city_value": doc.city,
        "price_min_cents": doc.price_min_cents,
        "starts_at": doc.starts_at.astimezone(UTC),
        "popularity": float(doc.popularity),
        "online": doc.online,
        "source": to_source(doc),
    }
    for name in FOLDED_FIELDS:
        values[name] = values[name.removesuffix("_f")]
    values[ANYWHERE] = " ".join(str(values[name]) for name in BOOSTS)
    indexed = tantivy.Document(**values)
    for tag in doc.tags:
        indexed.add_text("tag_key", tag.lower())
    if doc.lat is not None and doc.lon is not None:
        indexed.add_float("lat", doc.lat)
        indexed.add_float("lon", doc.lon)
    return indexed
