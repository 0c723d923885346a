"""Benchmarks of the Coaching Emploi analytics (`make bench`, not part of `make test`).

- `bench.run`: the benchmark command — import against DuckDB's bare `read_csv` load, every indicator family
  with and without filters, the command line end to end, the pandas peer, the dashboard's server time and
  peak memory — at the sample's size, 100 000 and 1 000 000 persons; writes bench/RESULTS.md.
- `bench.pandas_peer`: the same indicators in plain pandas (the analyst's peer), checked against the engine.
- `bench.workers`: the measurements that run in child processes (peak RSS per process).

See `python -m bench.run --help`, bench/RESULTS.md and docs/scaling.md.
"""
