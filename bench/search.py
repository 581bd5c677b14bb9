"""The embedded search engine at scale: indexing throughput and query latency over 100k
synthetic events (demo-catalogue vocabulary plus random words), against SQLite FTS5 over the
same documents and queries in the same run.

Queries are what people type: one or two words, some with a typo, some cut short as they are
typed, some with a city filter. Each is run the way the API runs it (top 20 with facets and
highlights) and engine-only (top 10, no facets or highlights). Correctness beside speed: every
query that names a title word finds an event with that word.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.catalogue import CATEGORIES, CITIES, describe
from search.backend import SearchFilters, SearchQuery
from search.documents import EventDocument
from search.tantivy_backend import TantivyBackend

START = datetime(2027, 1, 1, tzinfo=UTC)
WORDS = [
    "acoustic",
    "afterparty",
    "harbour",
    "summer",
    "winter",
    "rooftop",
    "midnight",
    "sunset",
    "garden",
    "riverside",
    "vintage",
    "electric",
    "gallery",
    "festival",
    "session",
    "live",
    "unplugged",
    "orchestra",
    "cinema",
    "poetry",
    "tasting",
    "brewery",
    "market",
    "craft",
    "design",
    "startup",
    "founders",
    "analytics",
    "cloud",
    "robotics",
    "climate",
    "history",
    "science",
    "family",
    "kids",
    "outdoor",
    "running",
    "cycling",
    "chess",
    "salsa",
    "tango",
    "karaoke",
    "quiz",
    "lecture",
    "masterclass",
    "retreat",
    "meditation",
    "ceramics",
    "painting",
    "sketching",
]


def corpus(count: int, rng: random.Random) -> list[EventDocument]:
    kinds = [(category, kind) for category, kinds in CATEGORIES.items() for kind in kinds]
    docs = []
    for n in range(count):
        category, kind = rng.choice(kinds)
        city = rng.choice(CITIES)
        title, description, tags = describe(category, kind, city)
        extra = rng.sample(WORDS, 3)
        docs.append(
            EventDocument(
                id=f"event-{n}",
                slug=f"event-{n}",
                title=f"{title} {extra[0].title()}",
                description=f"{description} {' '.join(rng.sample(WORDS, 12))}",
                category=category,
                tags=(*tags, extra[1]),
                venue=rng.choice(city.venues),
                city=city.name,
                country=city.country,
                starts_at=START + timedelta(hours=rng.randint(0, 24 * 365)),
                price_min_cents=rng.choice([0, 1500, 2500, 4900, 9900]),
                price_max_cents=9900,
                currency=city.currency,
                online=rng.random() < 0.1,
                popularity=rng.random() * 100,
                lat=city.latitude,
                lon=city.longitude,
            )
        )
    return docs


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two neighbours


def queries(count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(text, city filter or None): plain words, two words, typos, prefixes, with a city."""
    vocabulary = [w.lower() for kinds in CATEGORIES.values() for k in kinds for w in k.split()]
    vocabulary = [w for w in vocabulary if len(w) >= 4] + WORDS
    made: list[tuple[str, str | None]] = []
    for n in range(count):
        word, other = rng.choice(vocabulary), rng.choice(vocabulary)
        shape = n % 5
        text = {
            0: word,
            1: f"{word} {other}",
            2: _typo(word, rng) if len(word) >= 5 else word,
            3: word[: max(3, len(word) // 2)],
            4: word,
        }[shape]
        made.append((text, rng.choice(CITIES).name if shape == 4 else None))
    return made


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    return {"p50_ms": round(at(50), 2), "p95_ms": round(at(95), 2), "p99_ms": round(at(99), 2)}


def _fts5(docs: list[EventDocument], path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute(
        "create virtual table events using fts5(id unindexed, title, tags, description, venue, "
        "city, tokenize = 'unicode61 remove_diacritics 2')"
    )
    connection.executemany(
        "insert into events values (?, ?, ?, ?, ?, ?)",
        [(d.id, d.title, " ".join(d.tags), d.description, d.venue, d.city) for d in docs],
    )
    connection.commit()
    return connection


def _fts5_query(text: str) -> str:
    return " ".join(f'"{word}"*' for word in text.split())


def run(
    *, db: str, runs: int, seconds: int, concurrency: int, events: int = 100_000
) -> dict[str, Any]:
    del db, seconds, concurrency  # the engine alone, in this process
    rng = random.Random(2026)  # noqa: S311 - synthetic data, not secrets
    docs = corpus(events, rng)
    asked = queries(500, rng)
    indexing: list[float] = []
    api_like: list[dict[str, float]] = []
    engine_only: list[dict[str, float]] = []
    fts: list[dict[str, float]] = []
    found_word = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            backend = TantivyBackend(Path(tmp) / "index")
            started = time.perf_counter()
            backend.rebuild(docs)
            indexing.append(time.perf_counter() - started)
            timings_api, timings_engine = [], []
            found_word = 0
            for text, city in asked:
                query = SearchQuery(text=text, filters=SearchFilters(city=city), page_size=20)
                started = time.perf_counter()
                result = backend.search(query)
                timings_api.append((time.perf_counter() - started) * 1000)
                plain = SearchQuery(text=text, page_size=10, facets=False, highlight=False)
                started = time.perf_counter()
                backend.search(plain)
                timings_engine.append((time.perf_counter() - started) * 1000)
                found_word += result.total > 0
            api_like.append(_percentiles(timings_api))
            engine_only.append(_percentiles(timings_engine))
            connection = _fts5(docs, Path(tmp) / "fts.db")
            timings_fts = []
            for text, _city in asked:
                started = time.perf_counter()
                connection.execute(
                    "select id from events where events match ? order by bm25(events) limit 10",
                    [_fts5_query(text)],
                ).fetchall()
                timings_fts.append((time.perf_counter() - started) * 1000)
            connection.close()
            fts.append(_percentiles(timings_fts))

    def median(rows: list[dict[str, float]], key: str) -> dict[str, float]:
        values = [row[key] for row in rows]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "bench": "search",
        "events": events,
        "queries": len(asked),
        "runs": runs,
        "index_s": median([{"s": x} for x in indexing], "s"),
        "index_docs_per_s": round(events / statistics.median(indexing)),
        "api_like_p50_ms": median(api_like, "p50_ms"),
        "api_like_p95_ms": median(api_like, "p95_ms"),
        "engine_only_p50_ms": median(engine_only, "p50_ms"),
        "engine_only_p95_ms": median(engine_only, "p95_ms"),
        "fts5_p50_ms": median(fts, "p50_ms"),
        "fts5_p95_ms": median(fts, "p95_ms"),
        "queries_with_results": found_word,
        "goal_p95_ms": 10,
    }
