"""The behaviour every search backend must show: relevance with field boosts, typo tolerance,
prefixes, filters, sorting, facets, highlights, pages, suggestions, and index maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from search.backend import (
    GeoFilter,
    SearchBackend,
    SearchFilters,
    SearchQuery,
    SortOrder,
    SuggestionKind,
)
from tests.search.conftest import NOW, doc

CATALOGUE = {
    "jazz": doc(
        id="jazz",
        slug="harbour-jazz-night",
        title="Harbour Jazz Night",
        description="Live jazz quartets by the water, with cocktails.",
        category="Music",
        tags=("jazz", "live"),
        venue="Elbphilharmonie",
        city="Hamburg",
        lat=53.5413,
        lon=9.9841,
        starts_at=NOW + timedelta(days=3),
        price_min_cents=3500,
        price_max_cents=9000,
        popularity=40.0,
    ),
    "techno": doc(
        id="techno",
        title="Techno Marathon",
        description="Twelve hours of techno in a former power plant.",
        category="Nightlife",
        tags=("techno", "club"),
        venue="Kraftwerk",
        city="Berlin",
        starts_at=NOW + timedelta(days=20),
        price_min_cents=1800,
        price_max_cents=1800,
        popularity=90.0,
    ),
    "brunch": doc(
        id="brunch",
        title="Sunday Brunch Concert",
        description="Classical concert with brunch; a jazz encore for the brave.",
        category="Music",
        tags=("classical",),
        venue="Konzerthaus",
        city="Berlin",
        starts_at=NOW + timedelta(days=5),
        price_min_cents=0,
        price_max_cents=2500,
        popularity=15.0,
    ),
    "python": doc(
        id="python",
        title="Python Data Conference",
        description="Talks on data engineering, analytics and machine learning.",
        category="Technology",
        tags=("python", "data"),
        venue="Station",
        city="Berlin",
        starts_at=NOW + timedelta(days=60),
        price_min_cents=19900,
        price_max_cents=49900,
        popularity=60.0,
    ),
    "webinar": doc(
        id="webinar",
        title="Remote Work Webinar",
        description="How distributed teams write things down.",
        category="Business",
        tags=("remote",),
        venue="",
        city="",
        country="",
        online=True,
        lat=None,
        lon=None,
        starts_at=NOW + timedelta(days=1),
        price_min_cents=0,
        price_max_cents=0,
        popularity=5.0,
    ),
    "paris": doc(
        id="paris",
        title="Nuit du Jazz à Paris",
        description="Le meilleur du jazz manouche.",
        category="Music",
        tags=("jazz",),
        venue="Le Caveau",
        city="Paris",
        country="FR",
        lat=48.8566,
        lon=2.3522,
        currency="EUR",
        starts_at=NOW + timedelta(days=40),
        price_min_cents=4000,
        price_max_cents=4000,
        popularity=25.0,
    ),
    "potsdam": doc(
        id="potsdam",
        title="Palace Garden Tour",
        description="A guided walk through the gardens, then coffee at the café.",
        category="Tours",
        tags=("outdoors",),
        venue="Jazz Garden",
        city="Potsdam",
        lat=52.3906,
        lon=13.0645,
        starts_at=NOW + timedelta(days=8),
        price_min_cents=1200,
        price_max_cents=1200,
        popularity=3.0,
    ),
    "london": doc(
        id="london",
        title="Comedy Store Late Show",
        description="Stand-up <b>comedy</b> until late.",
        category="Comedy",
        tags=("stand-up",),
        venue="Comedy Store",
        organizer_id="comedy-club",
        city="London",
        country="GB",
        currency="GBP",
        lat=51.5101,
        lon=-0.1340,
        starts_at=NOW + timedelta(days=12),
        price_min_cents=2200,
        price_max_cents=2200,
        popularity=30.0,
    ),
}


@pytest.fixture
def catalogue(backend: SearchBackend) -> SearchBackend:
    assert backend.index(CATALOGUE.values()) == len(CATALOGUE)
    return backend


def ids(backend: SearchBackend, text: str = "", **kwargs: object) -> list[str]:
    filters = kwargs.pop("filters", SearchFilters())
    query = SearchQuery(text=text, filters=filters, **kwargs)  # type: ignore[arg-type]
    return [hit.document.id for hit in backend.search(query).hits]


def test_documents_round_trip_and_replace_by_id(catalogue: SearchBackend) -> None:
    assert catalogue.count() == len(CATALOGUE)
    assert catalogue.get("jazz") == CATALOGUE["jazz"]
    assert catalogue.get("missing") is None
    changed = doc(id="jazz", title="Fjord")
    catalogue.index([changed])
    assert catalogue.count() == len(CATALOGUE)
    assert catalogue.get("jazz") == changed
    assert ids(catalogue, "harbour") == []


def test_delete_removes_and_ignores_unknown_ids(catalogue: SearchBackend) -> None:
    catalogue.delete(["techno", "never-indexed"])
    assert catalogue.get("techno") is None
    assert catalogue.count() == len(CATALOGUE) - 1
    assert ids(catalogue, "marathon") == []


def test_rebuild_replaces_the_whole_index(catalogue: SearchBackend) -> None:
    fresh = [doc(id="one", title="Opera Gala"), doc(id="two", title="Opera Matinee")]
    assert catalogue.rebuild(fresh) == 2
    assert catalogue.count() == 2
    assert sorted(ids(catalogue, "opera")) == ["one", "two"]
    assert catalogue.get("jazz") is None


def test_title_outranks_tags_description_and_venue(catalogue: SearchBackend) -> None:
    found = ids(catalogue, "jazz")
    # In the title (and tags) first, then in the description, then only in the venue.
    assert set(found[:2]) == {"jazz", "paris"}
    assert found.index("brunch") < found.index("potsdam")  # description over venue
    assert set(found) == {"jazz", "paris", "brunch", "potsdam"}


def test_tags_outrank_the_description(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(id="in-description", title="Evening", description="Some salsa dancing"),
            doc(id="in-tags", title="Night", tags=("salsa",)),
        ]
    )
    assert ids(backend, "salsa") == ["in-tags", "in-description"]


def test_events_with_every_word_come_before_those_with_some(catalogue: SearchBackend) -> None:
    by_relevance = ids(catalogue, "jazz hamburg")  # the city counts as text
    assert by_relevance[0] == "jazz"
    assert set(by_relevance) == {"jazz", "paris", "brunch", "potsdam"}
    # In another order only events with every word, or, when none has them all, any word.
    assert ids(catalogue, "jazz hamburg", sort=SortOrder.STARTS_AT) == ["jazz"]
    assert ids(catalogue, "marathon opera", sort=SortOrder.STARTS_AT) == ["techno"]
    assert ids(catalogue, "marathon opera") == ["techno"]


def test_typos_are_tolerated(catalogue: SearchBackend) -> None:
    assert ids(catalogue, "tehcno")[:1] == ["techno"]  # transposition
    assert ids(catalogue, "conferense")[:1] == ["python"]  # one wrong letter
    assert ids(catalogue, "harbor jaz nigth")[:1] == ["jazz"]
    assert ids(catalogue, "comdey")[:1] == ["london"]


def test_short_words_need_no_typo_but_match_as_prefixes(catalogue: SearchBackend) -> None:
    assert ids(catalogue, "pyth") == ["python"]
    assert ids(catalogue, "conf")[:1] == ["python"]
    assert "techno" in ids(catalogue, "tech")


def test_accents_and_case_do_not_matter(catalogue: SearchBackend) -> None:
    assert ids(catalogue, "NUIT A PARIS")[:1] == ["paris"]
    assert ids(catalogue, "café")[:1] == ["potsdam"]


def test_text_filters_compare_exactly_and_ignore_case(catalogue: SearchBackend) -> None:
    music = SearchFilters(categories=("music",))
    assert set(ids(catalogue, filters=music)) == {"jazz", "brunch", "paris"}
    two = SearchFilters(categories=("Music", "Comedy"))
    assert set(ids(catalogue, filters=two)) == {"jazz", "brunch", "paris", "london"}
    assert set(ids(catalogue, filters=SearchFilters(city="berlin"))) == {
        "techno",
        "brunch",
        "python",
    }
    assert ids(catalogue, filters=SearchFilters(country="fr")) == ["paris"]
    assert ids(catalogue, filters=SearchFilters(tags=("Jazz", "live"))) == ["jazz"]
    assert ids(catalogue, filters=SearchFilters(currency="gbp")) == ["london"]
    assert ids(catalogue, filters=SearchFilters(organizer_id="comedy-club")) == ["london"]
    assert ids(catalogue, "jazz", filters=SearchFilters(city="Paris")) == ["paris"]


def test_dates_prices_free_and_online(catalogue: SearchBackend) -> None:
    window = SearchFilters(
        starts_after=NOW + timedelta(days=4), starts_before=NOW + timedelta(days=12)
    )
    assert set(ids(catalogue, filters=window)) == {"brunch", "potsdam", "london"}
    ages = SearchFilters(
        starts_after=datetime(1, 1, 1, tzinfo=UTC), starts_before=datetime.max.replace(tzinfo=UTC)
    )
    assert len(ids(catalogue, filters=ages, page_size=50)) == len(CATALOGUE)
    cheap = SearchFilters(price_min_cents=1000, price_max_cents=2200)
    assert set(ids(catalogue, filters=cheap)) == {"techno", "potsdam", "london"}
    assert set(ids(catalogue, filters=SearchFilters(free=True))) == {"brunch", "webinar"}
    not_free = set(ids(catalogue, filters=SearchFilters(free=False), page_size=50))
    assert not_free == set(CATALOGUE) - {"brunch", "webinar"}
    assert ids(catalogue, filters=SearchFilters(online=True)) == ["webinar"]
    assert "webinar" not in ids(catalogue, filters=SearchFilters(online=False), page_size=50)


def test_geo_radius_uses_the_real_distance(catalogue: SearchBackend) -> None:
    berlin = GeoFilter(lat=52.52, lon=13.405, radius_km=30)
    assert set(ids(catalogue, filters=SearchFilters(near=berlin))) == {
        "techno",
        "brunch",
        "python",
        "potsdam",  # 27 km away
    }
    tight = GeoFilter(lat=52.52, lon=13.405, radius_km=20)
    assert "potsdam" not in ids(catalogue, filters=SearchFilters(near=tight))
    wide = SearchFilters(near=GeoFilter(lat=52.52, lon=13.405, radius_km=300))
    assert "jazz" in ids(catalogue, "jazz", filters=wide)  # Hamburg, 255 km
    assert ids(catalogue, filters=SearchFilters(near=GeoFilter(lat=0, lon=0, radius_km=50))) == []


def test_excluded_ids_never_come_back(catalogue: SearchBackend) -> None:
    assert ids(catalogue, "jazz", filters=SearchFilters(exclude_ids=("jazz", "paris"))) == [
        "brunch",
        "potsdam",
    ]


def test_sorting(catalogue: SearchBackend) -> None:
    everything = {"page_size": 50}
    by_date = ids(catalogue, sort=SortOrder.STARTS_AT, **everything)
    assert by_date == sorted(CATALOGUE, key=lambda k: CATALOGUE[k].starts_at)
    assert ids(catalogue, **everything) == by_date  # no text: soonest first
    cheapest = ids(catalogue, sort=SortOrder.PRICE_ASC, **everything)
    prices = [CATALOGUE[k].price_min_cents for k in cheapest]
    assert prices == sorted(prices)
    dearest = ids(catalogue, sort=SortOrder.PRICE_DESC, **everything)
    assert dearest[0] == "python"
    popular = ids(catalogue, sort=SortOrder.POPULARITY, **everything)
    assert popular[:3] == ["techno", "python", "jazz"]
    assert ids(catalogue, "jazz", sort=SortOrder.STARTS_AT) == [
        "jazz",
        "brunch",
        "potsdam",
        "paris",
    ]


def test_pages_split_the_result_without_overlap(catalogue: SearchBackend) -> None:
    pages = [
        catalogue.search(SearchQuery(sort=SortOrder.STARTS_AT, page=page, page_size=3))
        for page in (1, 2, 3, 4)
    ]
    assert [p.total for p in pages] == [len(CATALOGUE)] * 4
    seen = [hit.document.id for page in pages for hit in page.hits]
    assert [len(p.hits) for p in pages] == [3, 3, 2, 0]
    assert sorted(seen) == sorted(CATALOGUE)


def test_facets_count_the_whole_result(catalogue: SearchBackend) -> None:
    result = catalogue.search(SearchQuery(text="jazz", page_size=1))
    assert result.total == 4
    assert dict(result.facets["category"]) == {"Music": 3, "Tours": 1}
    assert dict(result.facets["city"]) == {"Hamburg": 1, "Berlin": 1, "Paris": 1, "Potsdam": 1}
    assert dict(result.facets["price"]) == {"free": 1, "under_20": 1, "20_to_50": 2}
    everything = catalogue.search(SearchQuery(filters=SearchFilters(city="Berlin")))
    assert dict(everything.facets["price"]) == {"under_20": 1, "100_and_more": 1, "free": 1}


def test_highlights_mark_the_matched_words_and_escape_the_rest(
    catalogue: SearchBackend,
) -> None:
    [hit] = catalogue.search(SearchQuery(text="harbour jazz")).hits[:1]
    assert hit.document.id == "jazz"
    assert "<mark>Jazz</mark>" in hit.highlights["title"]
    assert "<mark>Harbour</mark>" in hit.highlights["title"]
    [comedy] = catalogue.search(SearchQuery(text="comedy late")).hits[:1]
    description = comedy.highlights["description"]
    assert "&lt;b&gt;" in description
    assert "<b>" not in description
    assert catalogue.search(SearchQuery(text="comedy", highlight=False)).hits[0].highlights == {}


def test_suggestions_complete_titles_categories_and_cities(catalogue: SearchBackend) -> None:
    titles = catalogue.suggest("harb")
    assert [(s.text, s.kind, s.event_id) for s in titles] == [
        ("Harbour Jazz Night", SuggestionKind.TITLE, "jazz")
    ]
    berlin = catalogue.suggest("berl")
    assert ("Berlin", SuggestionKind.CITY) in [(s.text, s.kind) for s in berlin]
    music = catalogue.suggest("mus")
    assert ("Music", SuggestionKind.CATEGORY) in [(s.text, s.kind) for s in music]
    two_words = catalogue.suggest("python data con")
    assert [s.text for s in two_words] == ["Python Data Conference"]
    popular_first = [s.text for s in catalogue.suggest("t") if s.kind == SuggestionKind.TITLE]
    assert popular_first[0] == "Techno Marathon"
    assert len(catalogue.suggest("t", limit=2)) == 2
    assert catalogue.suggest("") == []
    assert catalogue.suggest("zzzz") == []
