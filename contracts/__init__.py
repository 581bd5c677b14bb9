"""The data contracts between the API, the pipelines and the dashboards, each defined once:
the outbox row and the rules for reading it past a cursor (`contracts.outbox`), and the
published snapshot of the marts with its manifest and reader (`contracts.snapshot`) and the
reports made of it (`contracts.reports`).

This package imports nothing of ours, so every side may depend on it."""
