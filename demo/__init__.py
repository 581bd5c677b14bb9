"""The demo data `tessera seed` and `tessera up` load (`seed`, over `catalogue`, `activity` and
`campaign`) and the benchmarks reuse. It goes through the `api` services, so it obeys the same
rules as real data, and imports nothing of the command line (`tessera`) or of `bench`."""
