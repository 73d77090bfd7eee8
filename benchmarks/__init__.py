"""Benchmarks: every figure is a ratio to a plain reference measured in the same run."""
