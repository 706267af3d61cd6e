"""Mahalle's benchmark harness: a synthetic city, a bounded load generator, peers measured side by side.

Run it with ``python -m bench`` (or ``make bench``); ``--scale 20000`` makes a quick run. Speed targets live
here, never in the test suite.
"""
