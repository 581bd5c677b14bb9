"""A judged relevance set over the demo catalogue: what a person typing each query would
expect to see first, graded, and NDCG@10 of every backend against it.

The catalogue is every event the demo loader can make (each kind of event in each city, with
the loader's own titles, descriptions and tags), online and in person, at staggered dates.
Grades: 3 exactly what was asked for, 2 the thing asked for elsewhere or in another form,
1 related (same category, same place). Typo and prefix queries are judged like the words
they stand for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import pytest

from demo.catalogue import CATEGORIES, CITIES, describe
from search.backend import SearchBackend, SearchQuery
from search.documents import EventDocument
from tests.search.conftest import NOW

Grade = Callable[[EventDocument], int]
MIN_MEAN_NDCG = 0.9
MIN_QUERY_NDCG = 0.6


def demo_catalogue() -> list[EventDocument]:
    docs = []
    for c_index, (category, kinds) in enumerate(CATEGORIES.items()):
        for k_index, kind in enumerate(kinds):
            for city_index, city in enumerate(CITIES):
                title, description, tags = describe(category, kind, city)
                n = len(docs)
                docs.append(
                    EventDocument(
                        id=f"{kind}-{city.name}".lower().replace(" ", "-"),
                        slug=title.lower().replace(" ", "-"),
                        title=title,
                        description=description,
                        category=category,
                        tags=tuple(tags),
                        venue=city.venues[(k_index + city_index) % 2],
                        city=city.name,
                        country=city.country,
                        starts_at=NOW + timedelta(days=1 + (n * 7) % 180),
                        price_min_cents=[0, 1500, 2500, 4900, 9900][(n + c_index) % 5],
                        price_max_cents=9900,
                        currency=city.currency,
                        online=False,
                        popularity=float((n * 37) % 100),
                        lat=city.latitude,
                        lon=city.longitude,
                    )
                )
    return docs


def kind(*names: str, city: str | None = None) -> Callable[[EventDocument], bool]:
    """The event is one of these kinds (title endings), optionally in a city."""
    return lambda d: any(d.title.endswith(n) for n in names) and city in (None, d.city)


def graded(*rules: tuple[Callable[[EventDocument], bool], int]) -> Grade:
    """The highest grade of the rules a document meets (0 when none)."""
    return lambda d: max([grade for rule, grade in rules if rule(d)], default=0)


def in_category(name: str, city: str | None = None) -> Callable[[EventDocument], bool]:
    return lambda d: d.category == name and city in (None, d.city)


def in_city(name: str) -> Callable[[EventDocument], bool]:
    return lambda d: d.city == name


JUDGED: list[tuple[str, Grade]] = [
    # One kind of event, anywhere.
    ("jazz", graded((kind("Jazz Night"), 3))),
    ("jazz night", graded((kind("Jazz Night"), 3), (kind("Improv Night"), 1))),
    ("wine tasting", graded((kind("Wine Tasting"), 3))),
    ("python", graded((kind("Intro to Python"), 3))),
    ("marathon", graded((kind("City Half Marathon"), 3))),
    ("yoga", graded((kind("Sunrise Yoga"), 3))),
    ("street food", graded((kind("Street Food Market"), 3))),
    ("pottery", graded((kind("Pottery for Beginners"), 3))),
    ("shakespeare", graded((kind("Shakespeare in the Park"), 3))),
    ("ramen", graded((kind("Ramen Workshop"), 3))),
    ("open source", graded((kind("Open Source Forum"), 3))),
    (
        "security conference",
        graded((kind("Security Conference"), 3), (in_category("Conferences"), 1)),
    ),
    # A kind in a city: that one first, then the kind elsewhere or the city's related events.
    (
        "jazz berlin",
        graded(
            (kind("Jazz Night", city="Berlin"), 3),
            (kind("Jazz Night"), 1),
            (in_category("Music", city="Berlin"), 1),
        ),
    ),
    (
        "techno amsterdam",
        graded(
            (kind("Techno Warehouse", city="Amsterdam"), 3),
            (kind("Techno Warehouse"), 1),
            (in_category("Music", city="Amsterdam"), 1),
        ),
    ),
    (
        "paris wine",
        graded(
            (kind("Wine Tasting", city="Paris"), 3),
            (kind("Wine Tasting"), 1),
            (in_category("Food & Drink", city="Paris"), 1),
        ),
    ),
    (
        "tokyo data summit",
        graded(
            (kind("Data Summit", city="Tokyo"), 3),
            (kind("Data Summit"), 1),
            (in_category("Conferences", city="Tokyo"), 1),
        ),
    ),
    (
        "comedy london",
        graded((in_category("Comedy", city="London"), 3), (in_category("Comedy"), 1)),
    ),
    # A whole category or a place.
    ("comedy", graded((in_category("Comedy"), 3))),
    ("theatre", graded((in_category("Theatre"), 3))),
    ("workshops", graded((in_category("Workshops"), 3), (kind("Ramen Workshop"), 3))),
    ("sydney", graded((in_city("Sydney"), 3))),
    ("san francisco", graded((in_city("San Francisco"), 3))),
    ("elbphilharmonie", graded((lambda d: d.venue == "Elbphilharmonie", 3))),
    # Typos.
    ("jaz nigth", graded((kind("Jazz Night"), 3), (kind("Improv Night"), 1))),
    ("symphonie", graded((kind("Symphony Evening"), 3))),
    ("bouldring", graded((kind("Bouldering Jam"), 3))),
    ("marathn", graded((kind("City Half Marathon"), 3))),
    ("shakespear", graded((kind("Shakespeare in the Park"), 3))),
    (
        "amsterdma techno",
        graded(
            (kind("Techno Warehouse", city="Amsterdam"), 3),
            (kind("Techno Warehouse"), 1),
            (in_category("Music", city="Amsterdam"), 1),
        ),
    ),
    ("photograhpy", graded((kind("Film Photography Walk"), 3))),
    # Prefixes, as typed so far.
    ("symph", graded((kind("Symphony Evening"), 3))),
    ("pyth", graded((kind("Intro to Python"), 3))),
    ("bould", graded((kind("Bouldering Jam"), 3))),
    (
        "berlin tech",
        graded(
            (kind("Techno Warehouse", city="Berlin"), 3),
            (kind("Techno Warehouse"), 1),
            (in_category("Music", city="Berlin"), 1),
        ),
    ),
    ("stand-up open", graded((kind("Stand-up Open Mic"), 3))),
    ("coffee cup", graded((kind("Coffee Cupping"), 3))),
]


def ndcg_at_10(ranked: list[EventDocument], grade: Grade, catalogue: list[EventDocument]) -> float:
    def dcg(grades: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:10]))

    ideal = dcg(sorted((grade(d) for d in catalogue), reverse=True))
    return dcg([grade(d) for d in ranked]) / ideal if ideal else 0.0


def test_the_judged_set_is_big_enough_and_every_query_has_answers() -> None:
    catalogue = demo_catalogue()
    assert len(JUDGED) >= 30
    for query, grade in JUDGED:
        assert any(grade(d) for d in catalogue), query


def test_ndcg_at_10_over_the_judged_set(
    backend: SearchBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = demo_catalogue()
    backend.index(catalogue)
    scores = {}
    for query, grade in JUDGED:
        hits = backend.search(SearchQuery(text=query, page_size=10, facets=False, highlight=False))
        scores[query] = ndcg_at_10([hit.document for hit in hits.hits], grade, catalogue)
    mean = sum(scores.values()) / len(scores)
    with capsys.disabled():
        print(f"\n{backend.name}: mean NDCG@10 {mean:.3f} over {len(scores)} judged queries")
        for query, score in sorted(scores.items(), key=lambda item: item[1])[:5]:
            print(f"  lowest: {query!r} {score:.3f}")
    assert mean >= MIN_MEAN_NDCG, scores
    assert min(scores.values()) >= MIN_QUERY_NDCG, scores
