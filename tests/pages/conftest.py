"""Pages run in the same application as the API: the API's fixtures serve them too."""

from __future__ import annotations

from tests.api.conftest import api, app, client, served

__all__ = ["api", "app", "client", "served"]
