"""The `tessera` command (`cli`) and the demo data it loads (`seed`, `catalogue`, `activity`,
`campaign`). Only `cli` imports `bench`; the demo-data modules never import `cli` or `bench`,
so the benchmarks can use them."""
