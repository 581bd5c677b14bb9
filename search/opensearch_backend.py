"""The server search backend: an OpenSearch index behind an alias, with opensearch-py.

An index template (`<alias>-*`) carries the analyzers, settings and mappings; readers and
writers only ever name the alias. `index` and `delete` write through it and refresh,
so a change is searchable at once. `rebuild` loads a new physical index (the alias name plus a
timestamp), then moves the alias to it in one atomic `_aliases` call and deletes the old one, so
searches never see an empty or partial index. The first use creates an index behind the alias.

Text is analysed as tantivy does: words are runs of letters and digits, words of 40 characters
and more are dropped, then lower case and ASCII folding; the stemmed analyzer adds Snowball's
English stemmer (Porter2, which is tantivy's "english"). Every text field is stemmed and scored,
with sub-fields `f` (folded words, for prefix and fuzzy terms) and `p` (every prefix of those
words, so that a fuzzy query matches a word's beginning). Filter keys are keywords lower-cased
by a normalizer; `value` sub-fields keep the category and the city as typed, for facets.

The request bodies live in `search.opensearch_queries`. Typed text is split into words by the
index's own folding analyzer (`_analyze`, cached), since each word gets its own clauses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError
from opensearchpy.helpers import bulk

from search.backend import SearchQuery, SearchResult, SearchUnavailable, SortOrder, Suggestion
from search.documents import EventDocument
from search.opensearch_queries import (
    Json,
    document_from,
    document_source,
    result_from,
    search_body,
    suggest_body,
    suggestions_from,
    total_of,
)

WORDS_CACHED = 1024  # typed texts whose words are remembered
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
MAX_WORD_CHARS = 39  # tantivy drops words of 40 bytes and more
MAX_RESULT_WINDOW = 1_000_000  # tantivy pages as deep as asked; OpenSearch stops at from+size
NOT_A_WORD = r"[^\p{IsAlphabetic}\p{N}]+"  # a Java regex: what separates two words
STEMMED = "tessera_en"
FOLDED = "tessera_fold"
PREFIXES = "tessera_prefixes"
KEY = "tessera_key"


# -- the index ---------------------------------------------------------------------------------


def _analysis() -> Json:
    folding = ["tessera_length", "lowercase", "asciifolding"]
    return {
        # tantivy's simple tokenizer: a word is a run of letters and digits (Unicode).
        "tokenizer": {"tessera_words": {"type": "pattern", "pattern": NOT_A_WORD}},
        "filter": {
            "tessera_length": {"type": "length", "max": MAX_WORD_CHARS},
            "tessera_stemmer": {"type": "stemmer", "language": "porter2"},  # Snowball English
            "tessera_edges": {"type": "edge_ngram", "min_gram": 1, "max_gram": MAX_WORD_CHARS},
        },
        "analyzer": {
            STEMMED: {
                "type": "custom",
                "tokenizer": "tessera_words",
                "filter": [*folding, "tessera_stemmer"],
            },
            FOLDED: {"type": "custom", "tokenizer": "tessera_words", "filter": folding},
            PREFIXES: {
                "type": "custom",
                "tokenizer": "tessera_words",
                "filter": [*folding, "tessera_edges"],
            },
        },
        "normalizer": {KEY: {"type": "custom", "filter": ["lowercase"]}},
    }


_MATCH_ONLY: Json = {"index_options": "docs", "norms": False}  # for constant-score clauses


def _text(*, key: bool = False, value: bool = False) -> Json:
    """A stemmed, scored text field; its sub-fields `f` (folded words) and `p` (their prefixes)
    only match; `key` and `value` are a filter key and a facet's display value."""
    fields: Json = {
        "f": {"type": "text", "analyzer": FOLDED, **_MATCH_ONLY},
        "p": {"type": "text", "analyzer": PREFIXES, "search_analyzer": FOLDED, **_MATCH_ONLY},
    }
    if key:
        fields["key"] = {"type": "keyword", "normalizer": KEY}
    if value:
        fields["value"] = {"type": "keyword"}
    return {"type": "text", "analyzer": STEMMED, "fields": fields}


def index_body() -> Json:
    """Settings and mappings of every physical index (the index template's). One shard keeps
    BM25 statistics and facet counts exact; fields not mapped here (slug, prices, lat/lon,
    ...) live in _source only."""
    body: Json = {
        "settings": {
            "index": {
                "number_of_shards": 1,
                "auto_expand_replicas": "0-1",
                "max_ngram_diff": MAX_WORD_CHARS,
                "max_result_window": MAX_RESULT_WINDOW,
            },
            "analysis": _analysis(),
        },
        "mappings": {
            "dynamic": False,
            "properties": {
                "id": {"type": "keyword"},
                "title": _text(),
                "description": _text(),
                "tags": _text(key=True),
                "category": _text(key=True, value=True),
                "city": _text(key=True, value=True),
                "venue": _text(),
                "country": {"type": "keyword", "normalizer": KEY},
                "currency": {"type": "keyword", "normalizer": KEY},
                "organizer_id": {"type": "keyword"},
                "starts_at": {"type": "date"},
                "price_min_cents": {"type": "long"},
                "popularity": {"type": "double"},  # tantivy sorts on f64: no float32 ties
                "online": {"type": "boolean"},
                "location": {"type": "geo_point"},
            },
        },
    }
    return body


def _where(url: str) -> str:
    """The URL without its credentials, for messages."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    netloc = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    return f"{parts.scheme}://{netloc}{parts.path}"


class OpenSearchBackend:
    """Search over the index behind `alias` on the server at `url`
    (http or https, optionally with user:password@)."""

    name = "opensearch"

    def __init__(self, url: str, *, alias: str = "tessera-events", timeout: float = 10.0) -> None:
        self.alias = alias
        self.client = OpenSearch(hosts=[url], timeout=timeout)
        self._where = _where(url)
        self._ready = False  # the alias is known to exist
        self._templated = False  # the index template is put
        self._words_cache: dict[str, tuple[str, ...]] = {}

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Turn "the server cannot answer" into SearchUnavailable; other errors pass."""
        try:
            yield
        except OpenSearchConnectionError as exc:
            raise SearchUnavailable(f"OpenSearch at {self._where} cannot be reached") from exc
        except TransportError as exc:
            if exc.status_code in _UNAVAILABLE_STATUSES:
                raise SearchUnavailable(f"OpenSearch at {self._where} is unavailable") from exc
            if exc.error == "index_not_found_exception":
                self._ready = False
                raise SearchUnavailable(f"no index behind the alias {self.alias!r}") from exc
            raise

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def _template(self) -> None:
        """The index template every physical index behind the alias takes its analyzers,
        settings and mappings from (`<alias>-*`); put on each start, so a new release's
        mapping applies to the next rebuild."""
        if self._templated:
            return
        body = index_body()
        self.client.indices.put_index_template(
            name=f"{self.alias}-template",
            body={"index_patterns": [f"{self.alias}-*"], "priority": 100, "template": body},
        )
        self._templated = True

    def _ensure(self) -> None:
        """Create an index behind the alias if there is none yet."""
        if self._ready:
            return
        self._template()
        if not self.client.indices.exists_alias(name=self.alias):
            # The alias comes with the index, as its write index: should another process
            # create one at the same moment, the second is refused rather than added.
            aliases = {self.alias: {"is_write_index": True}}
            try:
                self.client.indices.create(index=self._new_index_name(), body={"aliases": aliases})
            except TransportError:
                if not self.client.indices.exists_alias(name=self.alias):
                    raise  # not a lost race: a real failure
        self._ready = True

    def _behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def _words(self, text: str) -> tuple[str, ...]:
        """The folded words of `text`, as the index's folding analyzer splits them."""
        if not text.strip():
            return ()
        words = self._words_cache.get(text)
        if words is None:
            self._ensure()
            found = self.client.indices.analyze(
                index=self.alias, body={"analyzer": FOLDED, "text": text}
            )
            words = tuple(str(token["token"]) for token in found["tokens"])
            if len(self._words_cache) >= WORDS_CACHED:
                self._words_cache.clear()
            self._words_cache[text] = words
        return words

    # -- writing -------------------------------------------------------------------------------

    def _actions(self, docs: Iterable[EventDocument], index: str) -> Iterator[dict[str, Any]]:
        for doc in docs:
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": doc.id,
                "_source": document_source(doc),
            }

    def index(self, docs: Iterable[EventDocument]) -> int:
        with self._answering():
            self._ensure()
            written, _ = bulk(
                self.client, self._actions(docs, self.alias), refresh=True, require_alias=True
            )
        return int(written)

    def delete(self, ids: Iterable[str]) -> None:
        actions = [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids if i]
        if not actions:
            return
        with self._answering():
            self._ensure()
            bulk(self.client, actions, refresh=True, ignore_status=(404,))  # unknown ids

    def rebuild(self, docs: Iterable[EventDocument]) -> int:
        new = self._new_index_name()
        with self._answering():
            self._template()
            self.client.indices.create(index=new)
            try:
                written, _ = bulk(self.client, self._actions(docs, new))
                self.client.indices.refresh(index=new)
                old = self._behind_alias()
                actions: list[dict[str, Any]] = [
                    {"remove": {"index": name, "alias": self.alias}} for name in old
                ]
                actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
                self.client.indices.update_aliases(body={"actions": actions})
            except BaseException:
                self._delete_index(new)
                raise
            self._ready = True
            for name in old:
                self._delete_index(name)
        return int(written)

    def _delete_index(self, name: str) -> None:
        # An orphan index costs disk, not correctness; the caller's error matters more.
        with suppress(NotFoundError, OpenSearchConnectionError):
            self.client.indices.delete(index=name)

    def drop(self) -> None:
        """Delete every index behind the alias (tests, and tearing an installation down)."""
        with self._answering():
            for name in self._behind_alias():
                self._delete_index(name)
            with suppress(NotFoundError):
                self.client.indices.delete_index_template(name=f"{self.alias}-template")
        self._ready = self._templated = False

    def close(self) -> None:
        self.client.close()

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        with self._answering():
            self._ensure()
            return int(self.client.count(index=self.alias)["count"])

    def get(self, event_id: str) -> EventDocument | None:
        if not event_id:  # no document has an empty id (and the client refuses one)
            return None
        with self._answering():
            self._ensure()
            try:
                found = self.client.get(index=self.alias, id=event_id)
            except NotFoundError as exc:
                if exc.error == "index_not_found_exception":
                    raise
                return None
        return document_from(found["_source"])

    def search(self, query: SearchQuery) -> SearchResult:
        with self._answering():
            self._ensure()
            words = self._words(query.text)
            body = search_body(query, words, every_word=True)
            found = self.client.search(index=self.alias, body=body)
            # In an order other than relevance, no event with every word: any word will do.
            if words and query.sort != SortOrder.RELEVANCE and total_of(found) == 0:
                body = search_body(query, words, every_word=False)
                found = self.client.search(index=self.alias, body=body)
        return result_from(found, query, has_text=bool(words))

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        if limit < 1 or not prefix.strip():
            return []
        with self._answering():
            words = self._words(prefix)
            if not words:
                return []
            found = self.client.search(index=self.alias, body=suggest_body(words, limit))
        return suggestions_from(found, limit)
