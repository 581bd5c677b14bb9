"""Pipeline tests make their OLTP data through the API, on SQLite and PostgreSQL."""

from tests.api.conftest import api, app, client  # noqa: F401 - fixtures for this package
from tests.pipelines.support import pipeline  # noqa: F401
