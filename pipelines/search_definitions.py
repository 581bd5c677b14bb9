"""The search code location: the event index, its sync sensor and its nightly rebuild.

It is its own location so that a sync run starts fast: a run's process imports only this (no
dbt), which is what keeps "published" to "searchable" within seconds.
"""

import dagster as dg

from pipelines.defs.search import definitions as search_definitions
from pipelines.resources import shared_resources

defs = dg.Definitions.merge(
    dg.Definitions(resources=shared_resources()),
    search_definitions.defs,
)
