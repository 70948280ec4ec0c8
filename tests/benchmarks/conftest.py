"""Benchmarks run only through ``nox -s bench``; each prints one ``bench:`` line.

The timing helpers live in :mod:`carebook.testing.bench`.
"""
