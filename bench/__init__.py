"""Benchmarks of SPEC §8: `python -m bench.run` prints every figure with its target and baseline."""
