"""The main Dagster code location: every domain's `defs` merged, plus the shared resources.
(The search index has a location of its own: `pipelines/search_definitions.py`.)"""

import dagster as dg

from pipelines.defs.dbt import definitions as dbt_definitions
from pipelines.defs.ingest import definitions as ingest_definitions
from pipelines.defs.publish import definitions as publish_definitions
from pipelines.resources import shared_resources

defs = dg.Definitions.merge(
    dg.Definitions(resources=shared_resources()),
    dbt_definitions.defs,
    ingest_definitions.defs,
    publish_definitions.defs,
)
