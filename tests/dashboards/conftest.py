"""Dashboard tests publish a snapshot of OLTP data made through the API."""

from tests.api.conftest import api, app, client  # noqa: F401 - fixtures for this package
from tests.pipelines.support import pipeline  # noqa: F401
