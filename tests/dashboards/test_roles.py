"""What each role sees, read from every page it can open: admins and finance everything;
analysts every organizer's figures but no one's personal data; an organizer only their own
events, with none of another organizer's names or numbers anywhere (tables and charts too)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.support import PAGES, Shown, labelled, metrics, shown, signed_in, visit
from tests.dashboards.world import World

A_EVENT, B_EVENTS = "Harbour Jazz Night", ("Brass Bonanza", "Taiko Evening")
A_NAME, B_NAME = "Aurora Live", "Borealis Concerts"
# Organizer B's money as shown (EUR and JPY, English and German), and as tables and charts
# carry it (cents and units); the platform's totals include it.
B_AMOUNTS_SHOWN = ("74.00", "74,00", "9,000", "9.000", "214.00", "214,00")
B_NUMBERS = (74.0, 7400.0, 9000.0, 4500.0, 3700.0, 214.0, 21400.0)
ORGANIZER_PAGES = ("overview", "revenue", "events", "audience", "finance")


def _every_page(app: AppTest, pages: tuple[str, ...]) -> dict[str, Shown]:
    """What each page shows, and on the events page each event's drill-down too."""
    seen = {}
    for page in pages:
        visit(app, page)
        seen[page] = shown(app)
        if page == "events":
            drill_down = labelled(app.selectbox, "Drill down into")
            for event in drill_down.options[1:]:
                drill_down.select(event).run()
                seen[f"events: {event}"] = shown(app)
    return seen


def _downloads(app: AppTest) -> list[str]:
    return [button.proto.label for button in app.get("download_button")]


def test_an_organizer_sees_only_their_own_events_on_every_page(dashboards: World) -> None:
    app = signed_in(dashboards.account("organizer_a"))

    assert labelled(app.sidebar.multiselect, "Organizers").options == [A_NAME]
    seen = _every_page(app, ORGANIZER_PAGES)

    assert set(seen) == set(ORGANIZER_PAGES)  # one event of theirs to drill into
    b_id = dashboards.account("organizer_b").user_id
    for page, view in seen.items():
        for secret in (B_NAME, *B_EVENTS, *dashboards.b_event_ids, b_id, *B_AMOUNTS_SHOWN):
            assert secret not in view.text, (page, secret)
        for number in B_NUMBERS:
            assert not view.has_number(number), (page, number)
    for page in ("search", "notifications"):  # platform-wide figures: not offered
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            visit(app, page)
    # Their own figures, in their language (German) and their event's time zone.
    assert A_EVENT in seen["overview"].text
    assert "140,00\xa0€" in seen["overview"].text
    assert "shown to analysts, finance and admins" in seen["audience"].text
    visit(app, "events")
    table = app.dataframe[0].value
    assert list(table["Event"]) == [A_EVENT]
    assert list(table["Organizer"]) == [A_NAME]
    assert list(table["Starts (event's time)"]) == ["01.07.2030, 20:00 CEST"]
    assert list(table["Net revenue"]) == ["140,00\xa0€"]
    assert "Pace vs category" not in table.columns  # measured against others' events
    visit(app, "finance")
    assert len(_downloads(app)) == 9  # revenue, payouts and their invoices; not the tax report


def test_an_analyst_sees_every_organizer_but_no_personal_data(dashboards: World) -> None:
    app = signed_in(dashboards.account("analyst"))

    seen = _every_page(app, tuple(PAGES))

    everything = "\n".join(view.text for view in seen.values())
    for person in (*dashboards.buyer_emails, *dashboards.buyer_ids, "Buyer0 Person"):
        assert person not in everything, person
    assert A_EVENT in seen["overview"].text
    assert B_EVENTS[0] in seen["overview"].text
    visit(app, "finance")
    assert len(_downloads(app)) == 9  # three reports in three formats; not the invoices
    [refused] = app.warning
    assert "analysts do not download it" in refused.value


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_admin_and_finance_see_everything(dashboards: World, role: str) -> None:
    app = signed_in(dashboards.account(role))

    assert metrics(app) == {
        "Net revenue": "€214.00",  # A: 3 x 50.00 - 10.00; B: 74.00
        "Tickets sold": "8",
        "Events": "2",
        "Paying customers": "4",
        "Refund rate": "4.5%",  # 10.00 of 224.00
    }
    top = app.dataframe[0].value
    assert list(top["Event"]) == [A_EVENT, B_EVENTS[0]]
    assert list(top["Net revenue"]) == ["€140.00", "€74.00"]
    assert labelled(app.sidebar.multiselect, "Organizers").options == [A_NAME, B_NAME]
    seen = _every_page(app, tuple(PAGES))
    charts = {page: view.charts for page, view in seen.items() if ":" not in page}
    assert charts == {
        "overview": 1,  # net revenue per day
        "revenue": 3,  # over time, by category, by organizer
        "events": 1,  # the drill-down's sales curve
        "audience": 3,  # funnel, cohorts, segments
        "search": 0,  # nobody searched
        "notifications": 0,  # nothing sent
        "finance": 0,
    }
    assert "Search analytics appear here" in seen["search"].text
    visit(app, "finance")
    assert len(_downloads(app)) == 12  # four reports in three formats
    assert not app.warning
    rows = [c.value for c in app.caption if c.value.endswith(("row", "rows"))]
    assert len(rows) == 4
    assert "0 rows" not in rows  # monthly reports count within the days chosen


def test_money_and_times_follow_each_event_and_its_currency(dashboards: World) -> None:
    app = visit(signed_in(dashboards.account("admin")), "events")

    labelled(app.sidebar.selectbox, "Currency").select("JPY").run()

    table = app.dataframe[0].value.set_index("Event")
    assert list(table.index) == [B_EVENTS[1]]
    assert table.loc[B_EVENTS[1], "Net revenue"] == "¥9,000"
    assert table.loc[B_EVENTS[1], "Organizer"] == B_NAME
    assert table.loc[B_EVENTS[1], "Starts (event's time)"].endswith(" JST")


def test_the_back_office_link_opens_an_events_figures(dashboards: World) -> None:
    """The organizer's "My events" page links each event as `events?event=<id>`."""
    app = signed_in(dashboards.account("admin"))
    wanted = dashboards.b_event_ids[0]  # Brass Bonanza, second in the list
    visit(app, "events")
    app.query_params["event"] = wanted  # as if the page were opened at events?event=<id>
    app.run()
    assert str(labelled(app.selectbox, "Drill down into").value) == wanted
