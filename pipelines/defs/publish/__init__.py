"""The published snapshot of the marts, its reconciliation check, and the jobs that build it."""
