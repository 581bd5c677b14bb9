"""One subpackage per pipeline domain, each exposing its own `defs`."""
