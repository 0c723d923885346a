"""Why the embedded store keeps its history as per-import files and not as a local DuckLake (docs/scaling.md,
« Store history »): the same extract imported into a DuckLake whose catalog is a local DuckDB file and into the
embedded DuckDB file, then a year's `compute_indicators` on each (median of 7 warm calls).

    .venv/bin/python -m bench.local_lake [EXTRACT] [YEAR]      # default: data/sample, 2023
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

import duckdb

from analytics import store
from analytics.extract import load_extract
from analytics.indicators import Period, compute_indicators
from analytics.lake import load_extensions


def main(argv: list[str]) -> int:
    src = argv[0] if argv else "data/sample"
    year = int(argv[1]) if len(argv) > 1 else 2023
    folder = tempfile.mkdtemp(prefix="coaching-local-lake-")
    extract = load_extract(src)
    con = duckdb.connect()
    load_extensions(con)
    con.execute(f"ATTACH 'ducklake:{folder}/catalog.ducklake' AS store (DATA_PATH '{folder}/files')")
    con.execute("USE store")
    t = time.perf_counter()
    store._apply(con, extract, shared=True)
    print(f"import, local DuckLake: {time.perf_counter() - t:.2f} s")
    con.close()
    t = time.perf_counter()
    store.import_extract(extract, f"{folder}/store.duckdb")
    print(f"import, DuckDB file:    {time.perf_counter() - t:.2f} s")
    lake = duckdb.connect()
    load_extensions(lake)
    lake.execute(f"ATTACH 'ducklake:{folder}/catalog.ducklake' AS store (READ_ONLY)")
    lake.execute("USE store")
    for name, c in (("local DuckLake", lake), ("DuckDB file", store.connect_readonly(f"{folder}/store.duckdb"))):
        compute_indicators(c, Period.year(year))
        walls = []
        for _ in range(7):
            t = time.perf_counter()
            compute_indicators(c, Period.year(year))
            walls.append(time.perf_counter() - t)
        print(f"a year's indicators ({year}), {name}: {statistics.median(walls) * 1000:.0f} ms (median of 7)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
