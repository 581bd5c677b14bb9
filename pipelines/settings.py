"""What Dagster needs while it builds the definitions, before any resource exists: how often
the sensors look, when the nightly schedules run, how stale the snapshot may get.

Everything a run or a sensor tick reads (paths, the database, the retention window) is a
resource instead (`pipelines/resources.py`), filled from `EnvVar`. These few values cannot be:
a sensor's interval, a schedule's cron string and a freshness policy are part of the definitions
themselves. They are read here, once per process, when the code location is loaded (the first
definitions module to need one calls `definition_settings()`), and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from functools import cache


@dataclass(frozen=True)
class DefinitionSettings:
    outbox_sensor_seconds: int = 15  # TESSERA_PIPELINE_SENSOR_SECONDS
    search_sensor_seconds: int = 5  # TESSERA_SEARCH_SENSOR_SECONDS
    nightly_cron: str = "0 3 * * *"  # TESSERA_NIGHTLY_CRON (UTC)
    search_nightly_cron: str = "30 3 * * *"  # TESSERA_SEARCH_NIGHTLY_CRON (UTC)
    freshness_minutes: float = 5  # TESSERA_FRESHNESS_MINUTES

    @property
    def freshness(self) -> timedelta:
        """The snapshot is stale when no build has been published for this long."""
        return timedelta(minutes=self.freshness_minutes)


@cache
def definition_settings() -> DefinitionSettings:
    """The settings from TESSERA_ environment variables, defaults for those unset."""
    env = os.environ
    default = DefinitionSettings()
    return DefinitionSettings(
        outbox_sensor_seconds=int(
            env.get("TESSERA_PIPELINE_SENSOR_SECONDS", default.outbox_sensor_seconds)
        ),
        search_sensor_seconds=int(
            env.get("TESSERA_SEARCH_SENSOR_SECONDS", default.search_sensor_seconds)
        ),
        nightly_cron=env.get("TESSERA_NIGHTLY_CRON", default.nightly_cron),
        search_nightly_cron=env.get("TESSERA_SEARCH_NIGHTLY_CRON", default.search_nightly_cron),
        freshness_minutes=float(env.get("TESSERA_FRESHNESS_MINUTES", default.freshness_minutes)),
    )
