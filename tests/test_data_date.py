"""The data date: periods never run past the latest date known in the store (issue 16, point 1).

Never the sample's own data date hard-coded: it is read from the store (another engineer extends the sample).
"""

from __future__ import annotations

import json
from contextlib import closing
from datetime import date, timedelta

import pytest

from analytics import fmt
from analytics.cli import main
from analytics.indicators import Filters, Period, PeriodAfterData, compute, compute_indicators, data_date, dataset
from analytics.reports.common import build_context, selection_slug
from analytics.store import connect_readonly
from tests.conftest import PAGES


@pytest.fixture
def small(tmp_path, kit):
    """Two persons; the last event is an appointment on 20/06/2023; a planned end date in 2024 is no data."""
    people = [kit.person("A", entree="2023-01-10", sortie="2023-05-02", motif="Emploi", detail="CDI"),
              kit.person("B", entree="2023-02-01", date_fin_prevue="2024-03-01")]
    rdv = [{"id_participant": "B", "date": "2023-06-20", "modalite": "Physique", "presence": "Présent"}]
    return kit.store(tmp_path, people, rdv)


def test_data_date_is_the_latest_event_not_a_plan(small):
    with closing(connect_readonly(small)) as con:
        assert data_date(con) == date(2023, 6, 20)


def test_clip_and_previous_period_compare_the_same_span():
    d = date(2024, 1, 23)
    p = Period.year(2024).clip(d)
    assert (p.start, p.end, p.requested_end, p.clipped) == (date(2024, 1, 1), d, date(2024, 12, 31), True)
    assert p.previous() == Period(date(2023, 1, 1), date(2023, 1, 23))
    assert [m for m, _, _ in p.months()] == ["2024-01"]
    assert Period.year(2023).clip(d) == Period.year(2023)  # ends before: unchanged
    free = Period(date(2023, 12, 1), date(2024, 1, 31)).clip(d)  # 62 days asked, 54 covered
    assert free.previous() == Period(date(2023, 9, 30), date(2023, 9, 30) + timedelta(days=53))
    with pytest.raises(PeriodAfterData):
        Period.year(2025).clip(d)
    assert fmt.period_text(p) == "année 2024 en cours, données au 23/01/2024"
    assert fmt.period_text(Period.year(2023)) == "année 2023"


def test_no_month_after_the_data_date_is_counted(small):
    with closing(connect_readonly(small)) as con:
        ds = dataset(con, Period.year(2023))
        fig = compute(ds)
        raw = compute_indicators(con, Period.year(2023))  # the v1 contract: the period as asked
    assert ds.period.end == date(2023, 6, 20)
    # B has no exit: before the fix she was counted present from July to December, months nobody has seen
    assert list(fig["monthly_caseload"]) == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
    assert fig["monthly_caseload"] == {"2023-01": 1, "2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 2, "2023-06": 1}
    assert fig["average_caseload"] == round(10 / 6, 2)
    assert len(raw["monthly_caseload"]) == 12 and raw["data_date"] == "2023-06-20"


def test_cli_states_the_data_date_and_clips_on_request(small, capsys):
    assert main(["indicators", "--db", str(small), "--year", "2023", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == {"from": "2023-01-01", "to": "2023-12-31"} and out["data_date"] == "2023-06-20"
    assert "requested_period" not in out
    assert main(["indicators", "--db", str(small), "--year", "2023", "--clip", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == {"from": "2023-01-01", "to": "2023-06-20"}
    assert out["requested_period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    assert len(out["monthly_caseload"]) == 6
    assert main(["indicators", "--db", str(small), "--year", "2024", "--clip", "--json"]) == 2
    assert "date des données" in capsys.readouterr().err


def test_report_after_the_data_date_is_one_french_line(small, tmp_path, capsys):
    out = tmp_path / "bilan.xlsx"
    assert main(["report", "--db", str(small), "--year", "2024", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "date des données (20/06/2023)" in err and "Traceback" not in err and not out.exists()


def test_reports_are_clipped_and_say_so(small, tmp_path):
    with closing(connect_readonly(small)) as con:
        ctx = build_context(con, Period.year(2023), previous=True)
    assert ctx.period.end == date(2023, 6, 20) and ctx.previous_ds.period == Period(date(2022, 1, 1), date(2022, 6, 20))
    assert "année 2023 en cours, données au 20/06/2023" in ctx.period_text.lower()
    assert any(line.startswith("Données au 20/06/2023") for line in ctx.header_lines())
    assert selection_slug(ctx.period, Filters()) == "2023-au-2023-06-20"


def _sample_data_date(sample_db) -> date:
    with closing(connect_readonly(sample_db)) as con:
        return data_date(con)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_states_the_data_date(app, sample_db, page):
    at = app(page)
    assert not at.exception
    expected = f"Données au {fmt.day(_sample_data_date(sample_db))}"
    assert any(expected in c.value for c in at.caption), [c.value for c in at.caption]


def test_no_year_after_the_data_date_is_offered(app, sample_db):
    latest = _sample_data_date(sample_db)
    at = app()
    years = [int(y) for y in at.selectbox(key="annee").options]
    assert max(years) == latest.year


def test_current_year_is_clipped_on_the_pages(app, sample_db):
    latest = _sample_data_date(sample_db)
    if (latest.month, latest.day) == (12, 31):
        pytest.skip("the data end on a 31 December: no year in progress")
    at = app("pages/file_active.py", annee=str(latest.year))
    assert not at.exception
    label = fmt.period_text(Period.year(latest.year).clip(latest))
    assert any(label.capitalize() in c.value for c in at.caption)
    # the month table: one row per month up to the data date, then the total row
    table = at.dataframe[0].value
    assert table.shape[0] == latest.month + 1
    with closing(connect_readonly(sample_db)) as con:
        fig = compute(dataset(con, Period.year(latest.year)))
    assert {m.label: m.value for m in at.metric}["Mois à l'objectif"].endswith(f"/ {latest.month}")
    overview = app(annee=str(latest.year))
    previous = compute(dataset(connect_readonly(sample_db), Period.year(latest.year).clip(latest).previous()))
    m = {x.label: x for x in overview.metric}
    assert m["Positionnés"].value == fmt.number(fig["positioned"])
    assert m["Positionnés"].delta == fmt.signed(fig["positioned"] - previous["positioned"])
