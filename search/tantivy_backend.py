"""The embedded search backend: a tantivy index on disk, no server needed.

Text fields are indexed twice: stemmed (`en`: "concerts" finds "concert", scored by BM25 with
the field boosts) and folded without stemming (`fold`: lower case, accents removed), where typo
tolerance and prefix matching run as fuzzy term queries. A typed word matches a field exactly,
by prefix or within its edit distance. By relevance, events with every word come first and
those with only some follow; in another order only events with every word are listed, or, when
none has them all, those with any. Geo radius is a bounding box in the index refined by the
exact distance.

One process writes (the pipelines), any number read: readers reload when a commit lands.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from search.backend import (
    BOOSTS,
    FULL_MATCH_BONUS,
    FUZZY_WEIGHT,
    PHRASE_BOOST,
    PREFIX_WEIGHT,
    PRICE_BUCKETS,
    GeoFilter,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortOrder,
    Suggestion,
    SuggestionKind,
    distance_km,
    fuzziness,
)
from search.documents import EventDocument
from search.tantivy_schema import (
    ANYWHERE,
    FOLDED,
    FOLDED_FIELDS,
    STEMMED,
    from_source,
    schema,
    similar,
    to_source,
)

SCHEMA_VERSION = "v2"
WRITER_HEAP = 64_000_000
MAX_FACET_VALUES = 30
_MARK = re.compile(r"<(/?)b>")


def _clamp(moment: datetime) -> datetime:
    """A bound inside the dates tantivy can hold (about 1678 to 2262)."""
    return min(max(moment.astimezone(UTC), tantivy.MIN_DATETIME), tantivy.MAX_DATETIME)


def _count(found: tantivy.SearchResult) -> int:
    """The match count a search was asked to make (the type stubs do not declare it)."""
    return int(getattr(found, "count", 0) or 0)


class TantivyBackend:
    """Search over an index directory; created on first use."""

    name = "tantivy"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) / SCHEMA_VERSION
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = schema()
        self._index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self._index.register_tokenizer("en", STEMMED)
        self._index.register_tokenizer("fold", FOLDED)
        self._write_lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        with self._write_lock:
            writer = self._index.writer(WRITER_HEAP, 1)
            try:
                yield writer
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
        self._index.reload()

    def _document(self, doc: EventDocument) -> tantivy.Document:
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
        document = tantivy.Document(**values)
        for tag in doc.tags:
            document.add_text("tag_key", tag.lower())
        if doc.lat is not None and doc.lon is not None:
            document.add_float("lat", doc.lat)
            document.add_float("lon", doc.lon)
        return document

    def index(self, docs: Iterable[EventDocument]) -> int:
        written = 0
        with self._writer() as writer:
            for doc in docs:
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(self._document(doc))
                written += 1
        return written

    def delete(self, ids: Iterable[str]) -> None:
        with self._writer() as writer:
            for event_id in ids:
                writer.delete_documents_by_term("id", event_id)

    def rebuild(self, docs: Iterable[EventDocument]) -> int:
        written = 0
        with self._writer() as writer:  # one commit: readers see the old index until it lands
            writer.delete_all_documents()
            for doc in docs:
                writer.add_document(self._document(doc))
                written += 1
        return written

    def close(self) -> None:
        """Nothing to release: the index holds no writer between calls."""

    # -- reading ---------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        self._index.reload()
        return self._index.searcher()

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def get(self, event_id: str) -> EventDocument | None:
        searcher = self._searcher()
        found = searcher.search(tantivy.Query.term_query(self.schema, "id", event_id), 1)
        if not found.hits:
            return None
        return from_source(searcher.doc(found.hits[0][1])["source"][0])

    def _word(self, word: str, *, prefix: bool) -> tantivy.Query:
        """One typed word against every text field: exact (stemmed, BM25) or fuzzy/prefix."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        stems = STEMMED.analyze(word)
        for name, boost in BOOSTS.items():
            for stem in stems:
                exact = tantivy.Query.term_query(self.schema, name, stem)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(exact, boost)))
        # Prefixes and typos: in the title, weighed as the title, or anywhere else, weighed as
        # the description.
        distance = fuzziness(word)
        for field, boost in (("title_f", BOOSTS["title"]), (ANYWHERE, BOOSTS["description"])):
            if prefix:
                begins = tantivy.Query.fuzzy_term_query(self.schema, field, word, 0, True, True)
                weighted = tantivy.Query.boost_query(begins, boost * PREFIX_WEIGHT)
                clauses.append((tantivy.Occur.Should, weighted))
            if distance:
                fuzzy = tantivy.Query.fuzzy_term_query(
                    self.schema, field, word, distance, True, prefix
                )
                weighted = tantivy.Query.boost_query(fuzzy, boost * FUZZY_WEIGHT)
                clauses.append((tantivy.Occur.Should, weighted))
        return tantivy.Query.boolean_query(clauses)

    def _text(self, text: str, *, every_word: bool) -> tantivy.Query | None:
        words = FOLDED.analyze(text)
        if not words:
            return None
        occur = tantivy.Occur.Must if every_word else tantivy.Occur.Should
        clauses = [
            # Prefix matching for the word being typed and for longer words (not "a", "of").
            (occur, self._word(word, prefix=i == len(words) - 1 or len(word) >= 3))
            for i, word in enumerate(words)
        ]
        if len(words) > 1:  # the words side by side in the title weigh most
            terms: list[str | tuple[int, str]] = list(STEMMED.analyze(text))
            phrase = tantivy.Query.phrase_query(self.schema, "title", terms)
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(phrase, PHRASE_BOOST)))
        return tantivy.Query.boolean_query(clauses)

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def _range(self, field: str, kind: Any, low: Any, high: Any) -> tantivy.Query:
        return tantivy.Query.range_query(self.schema, field, kind, low, high)

    def _filters(self, query: SearchQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        f = query.filters
        must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if f.categories:
            keys = [c.lower() for c in f.categories]
            clauses.append((must, tantivy.Query.term_set_query(self.schema, "category_key", keys)))
        for tag in f.tags:
            clauses.append((must, self._term("tag_key", tag.lower())))
        if f.city:
            clauses.append((must, self._term("city_key", f.city.lower())))
        if f.country:
            clauses.append((must, self._term("country_key", f.country.upper())))
        if f.currency:
            clauses.append((must, self._term("currency_key", f.currency.upper())))
        if f.organizer_id:
            clauses.append((must, self._term("organizer_key", f.organizer_id)))
        if f.starts_after or f.starts_before:
            low = _clamp(f.starts_after) if f.starts_after else None
            high = _clamp(f.starts_before) if f.starts_before else None
            clauses.append((must, self._range("starts_at", tantivy.FieldType.Date, low, high)))
        low_price = 1 if f.free is False else f.price_min_cents
        high_price = 0 if f.free else f.price_max_cents
        if f.free is False and f.price_min_cents is not None:
            low_price = max(1, f.price_min_cents)
        if low_price is not None or high_price is not None:
            price = self._range("price_min_cents", tantivy.FieldType.Integer, low_price, high_price)
            clauses.append((must, price))
        if f.online is not None:
            online = tantivy.Query.term_query(self.schema, "online", f.online)
            clauses.append((must, online))
        if f.near is not None:
            clauses.append((must, self._near(f.near)))
        if f.exclude_ids:
            excluded = tantivy.Query.term_set_query(self.schema, "id", list(f.exclude_ids))
            clauses.append((must_not, excluded))
        return clauses

    def _near(self, near: GeoFilter) -> tantivy.Query:
        """The events within the radius: a bounding box in the index, then the exact distance."""
        dlat = near.radius_km / 110.574
        cos = max(0.01, abs(math.cos(math.radians(near.lat))))
        dlon = min(180.0, near.radius_km / (111.320 * cos))
        box = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    self._range("lat", tantivy.FieldType.Float, near.lat - dlat, near.lat + dlat),
                ),
                (
                    tantivy.Occur.Must,
                    self._range("lon", tantivy.FieldType.Float, near.lon - dlon, near.lon + dlon),
                ),
            ]
        )
        searcher = self._searcher()
        candidates = searcher.search(box, max(1, searcher.num_docs), count=False).hits
        inside: list[str] = []
        for _, address in candidates:
            doc = from_source(searcher.doc(address)["source"][0])
            if doc.lat is None or doc.lon is None:
                continue
            if distance_km(near.lat, near.lon, doc.lat, doc.lon) <= near.radius_km:
                inside.append(doc.id)
        if not inside:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_set_query(self.schema, "id", inside)

    def _query(
        self,
        query: SearchQuery,
        filters: list[tuple[tantivy.Occur, tantivy.Query]],
        *,
        every_word: bool,
    ) -> tuple[tantivy.Query, bool]:
        text = self._text(query.text, every_word=every_word)
        clauses = list(filters)
        if text is not None:
            clauses.append((tantivy.Occur.Must, text))
        if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses), text is not None

    def search(self, query: SearchQuery) -> SearchResult:
        searcher = self._searcher()
        filters = self._filters(query)
        built, has_text = self._query(query, filters, every_word=True)
        if has_text and query.sort == SortOrder.RELEVANCE:
            # Events with every word first, then those with some of them.
            some, _ = self._query(query, filters, every_word=False)
            bonus = tantivy.Query.const_score_query(built, FULL_MATCH_BONUS)
            built = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, some), (tantivy.Occur.Should, bonus)]
            )
        elif has_text and _count(searcher.search(built, 1)) == 0:
            built, _ = self._query(query, filters, every_word=False)  # in another order
        sort = query.sort if has_text or query.sort != SortOrder.RELEVANCE else None
        offset = (query.page - 1) * query.page_size
        kwargs: dict[str, Any] = {"offset": offset, "count": True}
        if sort == SortOrder.STARTS_AT or sort is None:
            kwargs |= {"order_by_field": "starts_at", "order": tantivy.Order.Asc}
        elif sort == SortOrder.PRICE_ASC:
            kwargs |= {"order_by_field": "price_min_cents", "order": tantivy.Order.Asc}
        elif sort == SortOrder.PRICE_DESC:
            kwargs |= {"order_by_field": "price_min_cents", "order": tantivy.Order.Desc}
        elif sort == SortOrder.POPULARITY:
            kwargs |= {"order_by_field": "popularity", "order": tantivy.Order.Desc}
        found = searcher.search(built, query.page_size, **kwargs)
        generators: dict[str, tantivy.SnippetGenerator] = {}
        if query.highlight and has_text:
            for name in ("title", "description"):
                marked = self._matched_terms(searcher, name, query.text)
                generator = tantivy.SnippetGenerator.create(searcher, marked, self.schema, name)
                generator.set_max_num_chars(160)
                generators[name] = generator
        hits = []
        for key, address in found.hits:
            stored = searcher.doc(address)
            highlights = {}
            for name, generator in generators.items():
                snippet = generator.snippet_from_doc(stored)
                if snippet.highlighted():
                    highlights[name] = _MARK.sub(r"<\1mark>", snippet.to_html())
            score = float(key) if sort == SortOrder.RELEVANCE else 0.0
            hits.append(
                SearchHit(
                    document=from_source(stored["source"][0]),
                    score=score,
                    highlights=highlights,
                )
            )
        facets = self._facets(searcher, built) if query.facets else {}
        return SearchResult(total=_count(found), hits=tuple(hits), facets=facets)

    def _matched_terms(self, searcher: tantivy.Searcher, field: str, text: str) -> tantivy.Query:
        """The field's own terms the typed words matched (exactly, as a prefix or with a typo),
        for the snippet generator, which marks only terms it is given."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for word in FOLDED.analyze(text):
            stems = set(STEMMED.analyze(word))
            for stem in stems:
                clauses.append((tantivy.Occur.Should, self._term(field, stem)))
            if len(word) < 2:
                continue
            # Candidates share the first two letters (a typo there goes unmarked, not unfound).
            for term, _ in searcher.terms_with_prefix(field, word[:2]):
                if term not in stems and similar(word, term):
                    clauses.append((tantivy.Occur.Should, self._term(field, term)))
        return tantivy.Query.boolean_query(clauses)

    def _facets(
        self, searcher: tantivy.Searcher, built: tantivy.Query
    ) -> dict[str, dict[str, int]]:
        ranges = []
        for key, low, high in PRICE_BUCKETS:
            bucket: dict[str, Any] = {"key": key, "from": low}
            if high is not None:
                bucket["to"] = high
            ranges.append(bucket)
        spec = {
            "category": {"terms": {"field": "category_value", "size": MAX_FACET_VALUES}},
            "city": {"terms": {"field": "city_value", "size": MAX_FACET_VALUES}},
            "price": {"range": {"field": "price_min_cents", "ranges": ranges}},
        }
        found = searcher.aggregate(built, spec)
        facets: dict[str, dict[str, int]] = {}
        for name in ("category", "city"):
            facets[name] = {
                str(b["key"]): int(b["doc_count"])
                for b in found[name]["buckets"]
                if b["key"] and b["doc_count"]
            }
        facets["price"] = {
            str(b["key"]): int(b["doc_count"]) for b in found["price"]["buckets"] if b["doc_count"]
        }
        return facets

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        words = FOLDED.analyze(prefix)
        if not words or limit < 1:
            return []
        searcher = self._searcher()
        suggestions: list[Suggestion] = []
        for kind, field, value_field in (
            (SuggestionKind.CATEGORY, "category_f", "category_value"),
            (SuggestionKind.CITY, "city_f", "city_value"),
        ):
            matching = self._prefix_of_all(field, words)
            found = searcher.aggregate(
                matching, {"v": {"terms": {"field": value_field, "size": 3}}}
            )
            for bucket in found["v"]["buckets"]:
                if bucket["key"]:
                    suggestions.append(Suggestion(text=str(bucket["key"]), kind=kind))
        titles = searcher.search(
            self._prefix_of_all("title_f", words, typos=True),
            limit,
            order_by_field="popularity",
            order=tantivy.Order.Desc,
        )
        seen: set[str] = set()
        for _, address in titles.hits:
            doc = from_source(searcher.doc(address)["source"][0])
            if doc.title.lower() not in seen:
                seen.add(doc.title.lower())
                suggestions.append(
                    Suggestion(text=doc.title, kind=SuggestionKind.TITLE, event_id=doc.id)
                )
        places = [s for s in suggestions if s.kind != SuggestionKind.TITLE]
        titles_found = [s for s in suggestions if s.kind == SuggestionKind.TITLE]
        return (titles_found[: max(0, limit - len(places))] + places)[:limit]

    def _prefix_of_all(self, field: str, words: list[str], *, typos: bool = False) -> tantivy.Query:
        """Every word typed so far, the last one as a prefix; earlier words may carry a typo."""
        clauses = []
        for i, word in enumerate(words):
            last = i == len(words) - 1
            distance = 0 if last or not typos else fuzziness(word)
            query = tantivy.Query.fuzzy_term_query(self.schema, field, word, distance, True, last)
            clauses.append((tantivy.Occur.Must, query))
        return tantivy.Query.boolean_query(clauses)
