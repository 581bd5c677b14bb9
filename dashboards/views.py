"""The dashboard pages. Each reads the published snapshot through the signed-in viewer's reader,
within the sidebar's filters, and shows amounts, counts and times formatted for the viewer.
The pages live by subject (sales_view, audience_view, finance_view, search_view,
notifications_view); this module names them for the page scripts."""

from __future__ import annotations

from dashboards import notifications_view, search_view
from dashboards.audience_view import audience
from dashboards.finance_view import finance
from dashboards.page import start
from dashboards.sales_view import events, overview, revenue

__all__ = ["audience", "events", "finance", "notifications", "overview", "revenue", "search"]


def search() -> None:
    page = start("Search analytics")
    if page is None:
        return
    search_view.render(page.reader, page.filters, page.fmt)


def notifications() -> None:
    page = start("Notifications")
    if page is None:
        return
    notifications_view.render(page.reader, page.filters, page.fmt)
