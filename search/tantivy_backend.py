"""The embedded search backend: a tantivy index on disk, no server needed.

Text fields are indexed twice: stemmed (`en`: "concerts" finds "concert", scored by BM25 with
the field boosts) and folded without stemming (`fold`: lower case, accents removed), where typo
tolerance and prefix matching run as fuzzy term queries. A typed word matches a field exactly,
by prefix or within its edit distance. By relevance, events with every word come first and
those with only some follow; in another order only events with every word are listed, or, when
none has them all, those with any. Geo radius is a bounding box in the index refined by the
exact distance.

One process writes (the pipelines), any number read: readers reload when a commit lands.

The queries are built in `search.tantivy_queries`; the schema, the analyzers and the documents'
indexed and stored forms are in `search.tantivy_schema`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from search.backend import (
    FULL_MATCH_BONUS,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortOrder,
    Suggestion,
    SuggestionKind,
)
from search.documents import EventDocument
from search.tantivy_queries import (
    Clauses,
    facet_aggregations,
    facets_from,
    filter_clauses,
    matched_terms,
    near_query,
    order_by,
    prefix_of_all,
    search_query,
)
from search.tantivy_schema import FOLDED, STEMMED, document, from_source, schema

SCHEMA_VERSION = "v2"
WRITER_HEAP = 64_000_000
_MARK = re.compile(r"<(/?)b>")


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

    def index(self, docs: Iterable[EventDocument]) -> int:
        written = 0
        with self._writer() as writer:
            for doc in docs:
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(document(doc))
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
                writer.add_document(document(doc))
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

    def _filters(self, query: SearchQuery) -> Clauses:
        f = query.filters
        near = None if f.near is None else near_query(self.schema, self._searcher(), f.near)
        return filter_clauses(self.schema, f, near=near)

    def search(self, query: SearchQuery) -> SearchResult:
        searcher = self._searcher()
        filters = self._filters(query)
        built, has_text = search_query(self.schema, query, filters, every_word=True)
        if has_text and query.sort == SortOrder.RELEVANCE:
            # Events with every word first, then those with some of them.
            some, _ = search_query(self.schema, query, filters, every_word=False)
            bonus = tantivy.Query.const_score_query(built, FULL_MATCH_BONUS)
            built = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, some), (tantivy.Occur.Should, bonus)]
            )
        elif has_text and _count(searcher.search(built, 1)) == 0:
            # Another order, and no event has every word: those with any of them.
            built, _ = search_query(self.schema, query, filters, every_word=False)
        sort = query.sort if has_text or query.sort != SortOrder.RELEVANCE else None
        offset = (query.page - 1) * query.page_size
        kwargs: dict[str, Any] = {"offset": offset, "count": True} | order_by(sort)
        found = searcher.search(built, query.page_size, **kwargs)
        generators: dict[str, tantivy.SnippetGenerator] = {}
        if query.highlight and has_text:
            for name in ("title", "description"):
                marked = matched_terms(self.schema, searcher, name, query.text)
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
        facets: dict[str, dict[str, int]] = {}
        if query.facets:
            facets = facets_from(searcher.aggregate(built, facet_aggregations()))
        return SearchResult(total=_count(found), hits=tuple(hits), facets=facets)

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
            matching = prefix_of_all(self.schema, field, words)
            found = searcher.aggregate(
                matching, {"v": {"terms": {"field": value_field, "size": 3}}}
            )
            for bucket in found["v"]["buckets"]:
                if bucket["key"]:
                    suggestions.append(Suggestion(text=str(bucket["key"]), kind=kind))
        titles = searcher.search(
            prefix_of_all(self.schema, "title_f", words, typos=True),
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
