"""Progress of a long import: phases and rows read, from analytics (`run_import(progress=…)`), shown by the command
line on stderr and by the Données page's progress bar (pages/donnees.py passes its bar to the same callback)."""

from __future__ import annotations

import itertools
import re
import types

import analytics.extract as extract_module
from analytics.cli import _progress_printer
from analytics.importer import run_import
from analytics.synthetic import write_synthetic


def test_import_reports_phases_and_rows(tmp_path, monkeypatch):
    write_synthetic(900, tmp_path / "x", seed=2)
    monkeypatch.setattr(extract_module, "BATCH_ROWS", 250)
    clock = itertools.count(100, 10)  # every report is at least 0.5 s after the previous one: none is throttled
    monkeypatch.setattr(extract_module, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    seen: list[tuple[float, str]] = []
    result = run_import(tmp_path / "x", tmp_path / "store.duckdb", progress=lambda share, text: seen.append((share, text)))
    shares = [s for s, _ in seen]
    assert shares == sorted(shares) and shares[0] > 0 and shares[-1] == 1.0 and all(0 <= s <= 1 for s in shares)
    texts = [t for _, t in seen]
    rows = {}
    for text in texts:
        m = re.fullmatch(r"Contrôle de (\w+)\.csv : ([\d\u00a0]+) lignes lues", text)
        if m:
            rows.setdefault(m.group(1), []).append(int(m.group(2).replace("\u00a0", "")))
    # participants in batches of 250 rows: 250, 500, 750, 900; then every appointment and immersion row
    assert rows["participants"] == [250, 500, 750, 900]
    assert rows["rendez_vous"][-1] == result.counts["rendez_vous"] and rows["immersions"][-1] == result.counts["immersions"]
    assert any(t.startswith("Enregistrement dans la base") and "900 personnes" in t for t in texts)
    assert texts[-1] == "Import terminé."


def test_command_line_prints_progress_only_for_long_imports(capsys):
    quick = _progress_printer(after=3600)
    quick(0.3, "Contrôle de participants.csv : 500 lignes lues")
    assert capsys.readouterr().err == ""
    slow = _progress_printer(after=0, every=3600)
    slow(0.3, "Contrôle de participants.csv : 500 lignes lues")
    slow(0.31, "Contrôle de participants.csv : 1\u00a0000 lignes lues")  # same phase, too soon: not repeated
    slow(0.5, "Contrôle de rendez_vous.csv : 200 lignes lues")  # a new phase
    slow(1.0, "Import terminé.")
    assert capsys.readouterr().err.splitlines() == [
        "[ 30 %] Contrôle de participants.csv : 500 lignes lues",
        "[ 50 %] Contrôle de rendez_vous.csv : 200 lignes lues",
        "[100 %] Import terminé.",
    ]
