"""Outbox ingestion into the warehouse: the asset, its sensor and the retention job."""
