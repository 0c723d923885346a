"""Time the typology's fit (analytics.typology) on an existing store, read-only: the same work as the import's hook
(`analytics.typology.refit`) minus writing its tables.

    .venv/bin/python -m bench.typology_fit /tmp/big18.duckdb

prints the number of entered persons, whether the fit ran on a sample, the number of types and the seconds spent
reading the persons and fitting (prince, scikit-learn and scipy imported before the clock starts)."""

from __future__ import annotations

import sys
import time

import duckdb


def main(path: str) -> None:
    import prince  # noqa: F401 — import time is not the fit's
    import scipy.cluster.hierarchy  # noqa: F401

    from analytics.typology import model, storage

    con = duckdb.connect(path, read_only=True)
    t0 = time.perf_counter()
    persons = storage._entered(con)
    t1 = time.perf_counter()
    fit = model.fit(persons["k"].to_list(), persons)
    t2 = time.perf_counter()
    print(f"{persons.height} personnes entrées ; échantillon d'ajustement : {fit.n_fit} ({'oui' if fit.sampled else 'non'}) ; "
          f"{fit.k} types ; lecture {t1 - t0:.1f} s ; ajustement et affectation {t2 - t1:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
