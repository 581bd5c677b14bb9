"""The search index: built in full by the refresh and nightly jobs, kept current by a sensor."""
