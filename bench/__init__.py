"""Benchmarks, run on demand (`make bench`); each prints its figures and its reference ratios."""
