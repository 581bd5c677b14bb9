"""One place that turns configuration into a backend, for the API and the pipelines alike."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from search.backend import SearchBackend

BackendKind = Literal["tantivy", "opensearch"]


def make_backend(
    kind: BackendKind,
    *,
    index_dir: Path | str = "var/search",
    opensearch_url: str | None = None,
    alias: str = "tessera-events",
) -> SearchBackend:
    """The tantivy index under `index_dir/tantivy`, or OpenSearch at `opensearch_url`."""
    if kind == "tantivy":
        from search.tantivy_backend import TantivyBackend

        return TantivyBackend(Path(index_dir) / "tantivy")
    if not opensearch_url:
        raise ValueError("the opensearch backend needs TESSERA_OPENSEARCH_URL")
    from search.opensearch_backend import OpenSearchBackend

    return OpenSearchBackend(opensearch_url, alias=alias)
