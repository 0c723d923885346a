"""Objectives where they apply (issue 16, point 2): the agreed caseload belongs to a convention (action × territory,
several allowed); under a filter that cuts across it (commune, EPCI, prescriber) it is neither drawn nor compared."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from analytics.config import conventions, objective_for
from analytics.indicators import Filters, Period, dataset
from analytics.indicators.caseload import caseload_frame, months_at_or_above_target
from analytics.reports.common import build_context
from analytics.reports.sections import _caseload_reading
from analytics.store import connect_readonly

Y2023 = Period.year(2023)


@pytest.fixture
def two_conventions(tmp_path, monkeypatch):
    path = tmp_path / "conventions.toml"
    path.write_text('[[convention]]\nterritoire = "5 vallées"\naction = "Coaching emploi"\nfile_active = 40\n\n'
                    '[[convention]]\nterritoire = "Vimeu"\naction = "Coaching emploi"\nfile_active = 25\n', encoding="utf-8")
    monkeypatch.setenv("COACHING_CONVENTIONS", str(path))


def test_each_territory_shows_its_own_objective(two_conventions):
    whole = objective_for(Filters())
    assert whole.target == 65 and "somme des conventions" in whole.note
    assert objective_for(Filters(territory=("Vimeu",))) == objective_for(Filters(territory=("Vimeu",), action=("Coaching emploi",)))
    assert objective_for(Filters(territory=("Vimeu",))).target == 25 and objective_for(Filters(territory=("Vimeu",))).note is None
    assert objective_for(Filters(territory=("5 vallées",))).target == 40
    none = objective_for(Filters(territory=("Ailleurs",)))
    assert none.target is None and "Aucune convention" in none.note


@pytest.mark.parametrize("filters,word", [(Filters(commune=("Doullens",)), "commune"),
                                          (Filters(prescriber=("Conseil départemental",)), "prescripteur"),
                                          (Filters(epci=("CC du Territoire Nord Picardie",)), "EPCI")])
def test_a_cross_cutting_filter_drops_the_objective(filters, word):
    objective = objective_for(filters)
    assert objective.target is None and objective.convention_target == sum(c["file_active"] for c in conventions())
    assert "non comparé" in objective.note and word in objective.note


def test_caseload_frame_and_months_at_target_follow(sample_db):
    target = sum(c["file_active"] for c in conventions())
    with closing(connect_readonly(sample_db)) as con:
        plain = dataset(con, Y2023)
        cut = dataset(con, Y2023, Filters(commune=("Doullens",)))
        ctx = build_context(con, Y2023, Filters(commune=("Doullens",)))
    assert set(caseload_frame(plain)["target"]) == {target}
    assert months_at_or_above_target(plain) == sum(1 for n in caseload_frame(plain)["caseload"] if n >= target)
    assert caseload_frame(cut)["target"].null_count() == cut.period.months().__len__()
    assert months_at_or_above_target(cut) is None
    reading = _caseload_reading(ctx)
    assert "pour un objectif de" not in reading and "non comparé" in reading


def test_file_active_page_under_a_cross_cutting_filter(app):
    at = app("pages/file_active.py", commune="Doullens", prescripteur="Conseil départemental")
    assert not at.exception
    metric = {m.label: m for m in at.metric}
    assert "/" not in metric["File active moyenne"].value and not metric["File active moyenne"].delta
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not any(str(t.get("name", "")).startswith("Objectif") for t in spec["data"])
    assert any("non comparé" in c.value and "commune" in c.value for c in at.caption)
    assert "Écart à l'objectif" not in at.dataframe[0].value.columns


def test_file_active_page_without_filter_draws_the_objective(app):
    target = sum(c["file_active"] for c in conventions())
    at = app("pages/file_active.py")
    metric = {m.label: m for m in at.metric}
    assert metric["File active moyenne"].value.endswith(f"/ {target}")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    line = next(t for t in spec["data"] if str(t.get("name", "")).startswith("Objectif"))
    assert set(line["y"]) == {target}
    overview = app(commune="Doullens")
    assert "/" not in {m.label: m for m in overview.metric}["File active moyenne"].value
