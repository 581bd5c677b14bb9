"""Errors of search, suggestions and recommendations."""

from api.errors import NotFound, ServiceUnavailable, Unprocessable


class SearchUnavailable(ServiceUnavailable):
    code = "search.unavailable"


class SearchNotFound(NotFound):
    code = "search.not_found"


class InvalidSearchCursor(Unprocessable):
    code = "search.invalid_cursor"


class IncompleteGeoFilter(Unprocessable):
    code = "search.incomplete_geo_filter"
