"""Benchmarks and their harness, in one place outside the domain apps: the `bench_*` commands,
the generated populations, the SMTP sinks, the worker subprocesses, the fault injectors and the
database-wide personal-data scan. The shop imports nothing from here (tests/bench/
test_import_rules.py); every benchmark runs in a database and on a broker queue of its own
(apps/bench/isolation.py)."""
