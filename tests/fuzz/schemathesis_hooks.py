"""Schemathesis hooks for `make fuzz`: every case is signed in as the run's account.

The token is fetched again whenever the API answers 401 (a generated logout or password change
ends the sessions it had), so the rest of the run is not spent on refusals.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis


@schemathesis.auth(refresh_interval=120)
class TesseraLogin:
    def get(self, case: Any, context: Any) -> str:
        response = httpx.post(
            f"{os.environ['TESSERA_FUZZ_BASE_URL']}/auth/login",
            json={
                "email": os.environ["TESSERA_FUZZ_EMAIL"],
                "password": os.environ["TESSERA_FUZZ_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
