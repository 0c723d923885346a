"""The convention's years in the COPIL deck: three slides of three charts, each with its own reading (issue 16)."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.charts.convention import TREND_COLUMNS, convention_trends
from analytics.reports.sections import CONVENTION_GROUPS, CONVENTION_SLIDES, convention_group_reading


def _frame() -> pl.DataFrame:
    """Two years by hand: 2025 complete, 2026 to 30/10."""
    return pl.DataFrame({
        "year": ["2025", "2026"], "partial": [False, True], "through": [date(2025, 12, 31), date(2026, 10, 30)],
        "positioned": [134, 1], "participants": [117, 90], "entries": [80, 0], "exits": [57, 40],
        "positive_exit_rate": [0.4211, 0.5], "average_caseload": [38.5, 41.25], "caseload_target": [40, 40],
        "first_appointment_median_days": [12.0, 9.5], "attendance_rate": [0.8284, None], "esf_participants": [117, 90],
    })


def test_the_nine_charts_are_split_three_a_slide_without_repeating_one():
    columns = [c for _, group in CONVENTION_GROUPS for c in group]
    assert sorted(columns) == sorted(TREND_COLUMNS) and len(columns) == len(set(columns)) == 9
    assert all(len(group) == 3 for _, group in CONVENTION_GROUPS)
    assert len({s.heading for s in CONVENTION_SLIDES}) == len(CONVENTION_SLIDES) == 3


def test_each_slide_reads_its_own_figures():
    frame = _frame()
    volumes, flows, delays = (convention_group_reading(frame, group) for _, group in CONVENTION_GROUPS)
    assert volumes == ("2026 (au 30/10) : 1 positionné, 90 participants, aucune entrée ; "
                       "2025 complet : 134 positionnés, 117 participants, 80 entrées.")
    assert flows == ("2026 (au 30/10) : 40 sorties, taux de sorties positives 50,0\u00a0%, file active moyenne 41,25 "
                     "(objectif 40) ; 2025 complet : 57 sorties, taux de sorties positives 42,1\u00a0%, file active "
                     "moyenne 38,50 (objectif 40).")
    assert delays.startswith("2026 (au 30/10) : délai médian du 1er rendez-vous 9,5 j, présence aux rendez-vous non "
                             "disponible, participants FSE+ (EECO01) 90 ; 2025 complet : délai médian du 1er rendez-vous 12 j")
    assert convention_group_reading(frame.head(1), CONVENTION_GROUPS[0][1]).startswith("2025 : 134 positionnés")


def test_a_slide_chart_has_three_charts_with_horizontal_year_labels():
    fig = convention_trends(_frame(), CONVENTION_GROUPS[0][1])
    assert [a.text for a in fig.layout.annotations] == ["Positionnés", "Participants", "Entrées"]
    for axis in ("xaxis", "xaxis2", "xaxis3"):
        layout = fig.layout[axis]
        assert layout.tickangle == 0
        assert list(layout.ticktext) == ["2025", "2026<br>au 30/10"] and list(layout.tickvals) == ["2025", "2026 (au 30/10)"]
    assert [t.y for t in fig.data if t.type == "bar"][0] == (134, 1)
