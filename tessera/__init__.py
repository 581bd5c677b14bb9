"""The `tessera` command (`cli`): composition only. The demo data it loads is the `demo`
package, which the benchmarks use too; only `cli` imports `bench`."""
