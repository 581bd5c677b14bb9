"""The finance reports: which mart of the published snapshot each one is, and who reads them.

The API serves them (`GET /finance/exports/{report}`), the pipelines write them as files under
the exports directory, and the dashboards offer them for download; all from this one list.
Amounts are integer minor units with their currency beside them, as in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    name: str  # in URLs and file names
    mart: str  # the table of the published snapshot
    date_column: str  # what a date range filters on
    title: str  # for people
    description: str

    @property
    def monthly(self) -> bool:
        """Rows are months, dated the first of their month."""
        return self.date_column == "month"


# Roles that read every report whole, every organizer's rows included (finance, then admins).
READERS = ("finance", "admin")

REPORTS = {
    report.name: report
    for report in (
        Report(
            "revenue-by-day",
            "revenue_daily",
            "revenue_date",
            "Revenue by day",
            "Gross, tax, fees, refunds, net, platform take and organizer payout per day, event, "
            "organizer, category and currency.",
        ),
        Report(
            "payouts",
            "organizer_payouts",
            "month",
            "Payouts per organizer",
            "The payout statement per organizer, month and currency.",
        ),
        Report(
            "tax",
            "tax_report",
            "month",
            "Tax report",
            "Tax per month, event country, currency, tax and rate.",
        ),
        Report(
            "invoices",
            "invoice_register",
            "issue_date",
            "Invoice register",
            "Every invoice and credit note, by number.",
        ),
    )
}
