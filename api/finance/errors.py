"""Errors of finance exports."""

from api.errors import NotFound, ServiceUnavailable, Unprocessable


class UnknownReport(NotFound):
    code = "export.unknown_report"


class InvalidRange(Unprocessable):
    code = "export.invalid_range"


class SnapshotUnavailable(ServiceUnavailable):
    code = "export.snapshot_unavailable"
