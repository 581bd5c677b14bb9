"""Benchmarks run by `tessera bench NAME`; never part of `make test`."""
