"""Disclosure control that publishes as much as it safely can (issue 16, point 3): secondary suppressions read
« masqué » (never « < 11 » for 22 exits) and spare the headline figures; months coarsened to quarters before
suppressing; never an empty chart or a reading with « < 11 » where a number was expected; nothing left out of the
PDF; file names carry « -diffusion »; the Rapports page chooses by audience."""

from __future__ import annotations

import io
import json
from contextlib import closing

import plotly.graph_objects as go
import polars as pl
import pytest
from pypdf import PdfReader

from analytics import fmt
from analytics.charts.caseload import flows
from analytics.diffusion import (HEADLINE, SECONDARY_TEXT, align_flows, denominators, has_data, is_masked, mask_figure,
                                 suppress_figures)
from analytics.indicators import Filters, Period, compute, dataset
from analytics.reports.common import build_context
from analytics.reports.pdf import build_pdf_from_context
from analytics.reports.sections import SECTIONS
from analytics.store import connect_readonly

K = 11
Y2023 = Period.year(2023)


def _leaves(raw, shown, path=()):
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(shown, dict) and key in shown:
                yield from _leaves(value, shown[key], (*path, key))
    else:
        yield path, raw, shown


def _suppressed(sample_db, filters=Filters()):
    with closing(connect_readonly(sample_db)) as con:
        ds = dataset(con, Y2023, filters)
        raw = compute(ds)
        return raw, suppress_figures(raw, K, denominators=denominators(ds))


@pytest.mark.parametrize("filters", [Filters(), Filters(commune=("Doullens",)), Filters(prescriber=("Conseil départemental",))])
def test_a_masked_count_never_reads_below_k_when_it_is_not(sample_db, filters):
    raw, out = _suppressed(sample_db, filters)
    tiny = 0 < raw["positioned"] < K
    rates = {"positive_exit_rate", "attendance_rate", "post_exit_follow_up_rate", "median", "within_7_days_rate"}
    seen = 0
    for path, value, shown in _leaves(raw, out):
        if not is_masked(shown) or path[-1] in rates or not isinstance(value, int):
            continue
        seen += 1
        if value >= K or (value == 0 and not tiny):
            assert shown == SECONDARY_TEXT, (path, value, shown)  # « < 11 » would be false
        else:
            assert shown == f"< {K}", (path, value, shown)
    assert seen


def test_headline_figures_are_kept_first(sample_db):
    raw, out = _suppressed(sample_db)
    for (key,) in HEADLINE:
        if isinstance(raw[key], int) and raw[key] >= K:
            assert out[key] == raw[key], key
    # positive exits = Emploi + Formation with Formation small: Emploi is masked (« masqué »), the headline stays
    if 0 < raw["exit_reason"]["Formation"] < K:
        assert out["positive_exits"] == raw["positive_exits"] and out["exit_reason"]["Emploi"] == SECONDARY_TEXT


def test_months_are_grouped_by_quarter_before_suppressing():
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    frame = pl.DataFrame({"month": months, "entries": [4, 5, 3, 6, 4, 5, 3, 4, 6, 5, 4, 3], "exits": [0] * 12})
    fig = {"entries": 52, "exits": 0, "diffusion": {"k": K, "masked": []}}
    shown, note = align_flows(frame, ["entries", "exits"], fig, {"entries": 52, "exits": 0})
    assert shown["month"].to_list() == ["2023-T1", "2023-T2", "2023-T3", "2023-T4"]
    assert shown["entries"].to_list() == [12, 15, 13, 12] and "trimestre" in note
    assert fmt.month_label("2023-T1") == "T1 2023" and fmt.month_label("2023-T3") == "T3 2023"
    # months that are fine stay months, and raw figures are never touched
    big = frame.with_columns(pl.col("entries") * 10)
    assert align_flows(big, ["entries", "exits"], fig, {"entries": 520, "exits": 0})[1] is None
    assert align_flows(frame, ["entries", "exits"], {"entries": 52})[0].equals(frame)


def test_a_chart_left_without_values_says_why():
    fig = go.Figure([go.Bar(x=["a", "b", "c"], y=[3, 4, 2], name="Entrées")])
    out = mask_figure(fig, K)
    assert not has_data(out) and list(out.data[0].y) == [None, None, None]
    assert "masqué" in out.layout.annotations[0].text and f"moins de {K}" in out.layout.annotations[0].text
    # a frame already aligned (every value null) gets the same message instead of « Aucune donnée »
    aligned = pl.DataFrame({"month": ["2023-T1", "2023-T2"], "entries": [None, None], "exits": [None, None]},
                           schema={"month": pl.String, "entries": pl.Int64, "exits": pl.Int64})
    drawn = mask_figure(flows(aligned), K)
    assert "masqué" in drawn.layout.annotations[0].text


def test_readings_never_print_a_mask_where_a_number_was_expected(sample_db):
    with closing(connect_readonly(sample_db)) as con:
        for filters in (Filters(), Filters(commune=("Doullens",))):
            ctx = build_context(con, Y2023, filters, previous=True, suppress=K)
            for section in SECTIONS:
                reading = section.reading(ctx)
                assert f"< {K} participants" not in reading and f"< {K} sorties" not in reading, (section.key, reading)
                assert not reading.startswith(f"< {K}"), (section.key, reading)
                assert "immersion(s)" not in reading


def test_french_agreement():
    assert fmt.count_noun(1, "immersion", "immersions") == "1 immersion"
    assert fmt.count_noun(2, "immersion", "immersions") == "2 immersions"
    assert fmt.count_noun(0, "immersion", "immersions") == "aucune immersion"
    assert fmt.verb(1, "a débouché", "ont débouché") == "a débouché" and fmt.verb(3, "a", "ont") == "ont"
    from analytics.charts.activity import OUTCOMES

    assert OUTCOMES[0][1] == "À débouché sur un contrat"


def test_suppressed_pdf_keeps_the_map_and_says_what_is_masked(sample_db):
    with closing(connect_readonly(sample_db)) as con:
        ctx = build_context(con, Y2023, Filters(commune=("Doullens",)), previous=True, suppress=K)
    buf = io.BytesIO()
    build_pdf_from_context(ctx, buf)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(buf.getvalue())).pages)
    assert "Territoire : participants par commune" in text  # never silently left out
    assert "secret secondaire" in text  # the legend of the marks


# ---------------------------------------------------------------- pages


def test_rapports_page_chooses_by_audience(app):
    at = app("pages/rapports.py")
    assert not at.exception
    audience = at.radio(key="rapports_audience")
    assert audience.value == "diffusion" and not audience.disabled
    assert "Pour le Département (chiffres complets)" in audience.options
    names = next(c.value for c in at.caption if c.value.startswith("Nom des fichiers"))
    assert "pack-copil-2023-diffusion.pdf" in names and "bilan-quantitatif-2023-diffusion.xlsx" in names
    at.radio(key="rapports_audience").set_value("departement").run()
    names = next(c.value for c in at.caption if c.value.startswith("Nom des fichiers"))
    assert "pack-copil-2023.pdf" in names and "diffusion" not in names


def test_exported_file_names_differ_by_audience():
    from analytics.reports.common import report_file_name

    assert report_file_name("pack-copil", Y2023, Filters(), None, ".pdf") == "pack-copil-2023.pdf"
    assert report_file_name("pack-copil", Y2023, Filters(), K, ".pdf") == "pack-copil-2023-diffusion.pdf"
    assert report_file_name("suivi-mensuel", Y2023, Filters(commune=("Doullens",)), K, ".csv") == "suivi-mensuel-2023-filtre-diffusion.csv"


def test_file_active_flows_never_empty_in_diffusion_mode(app):
    at = app("pages/file_active.py", diffusion="true", commune="Doullens")
    assert not at.exception
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("file_active_flows"))
    texts = [a.get("text", "") for a in spec["layout"].get("annotations", [])]
    assert not any("Aucune donnée" in t for t in texts)
    values = [v for t in spec["data"] for v in (t.get("y") or []) if v is not None]
    assert values or any("masqué" in t for t in texts)
    assert any("trimestre" in c.value for c in at.caption)
    assert any("secret" in c.value for c in at.caption)


def test_profile_tables_explain_their_marks(app):
    at = app("pages/profils.py", diffusion="true")
    assert not at.exception
    cells = {v for f in at.dataframe for col in f.value.columns for v in f.value[col].astype(str)}
    assert SECONDARY_TEXT in cells or f"< {K}" in cells
    assert any("secret statistique" in c.value for c in at.caption)


def test_territory_rate_uses_the_chosen_commune(app, sample_db):
    at = app("pages/territoire.py", commune="Doullens")
    assert not at.exception
    metric = next(m for m in at.metric if m.label.startswith("Pour 1 000 hab."))
    assert metric.label == "Pour 1 000 hab. (commune choisie)"
    communes = next(f.value for f in at.dataframe if "Code INSEE" in f.value.columns)
    row = communes[communes["Commune"] == "Doullens"]
    per_1000_col = next(c for c in communes.columns if c.startswith("Pour 1 000"))
    assert metric.value == str(row[per_1000_col].iloc[0])


def test_commune_table_coarsened_to_epci_when_mostly_masked(app, sample_db):
    from analytics import geo
    from analytics.diffusion import TERRITORY_COUNTS, align_territory, communes_coarsened, masked_share
    from analytics.indicators import territory

    raw, fig = _suppressed(sample_db)
    with closing(connect_readonly(sample_db)) as con:
        ds = dataset(con, Y2023)
    ref = geo.communes_ref()
    communes, epcis = territory.commune_table(ds, ref), territory.epci_table(ds, ref)
    shown, _ = align_territory(communes, epcis, fig)
    mostly = masked_share(communes, shown, TERRITORY_COUNTS) > 0.5
    assert (communes_coarsened(communes, shown, fig) is not None) == mostly
    assert communes_coarsened(communes, communes, raw) is None  # raw figures: never
    at = app("pages/territoire.py", diffusion="true")
    assert not at.exception
    has_commune_table = any("Code INSEE" in f.value.columns for f in at.dataframe)
    assert has_commune_table != mostly
    if mostly:
        assert any("regroupé par EPCI" in i.value for i in at.info)
    assert any("Code INSEE" in f.value.columns for f in app("pages/territoire.py").dataframe)
