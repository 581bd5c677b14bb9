"""Benchmarks run by `tessera bench NAME`; never part of `make test`.

The command line composes the benchmarks, so they never import `tessera`: they take their demo
data from the `demo` package (`demo.seed`, `demo.catalogue`), which imports `api` and nothing
of the command line or of `bench`. `tessera.cli` imports a benchmark only when it is run.
"""
