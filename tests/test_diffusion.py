"""Statistical confidentiality (analytics.diffusion): property tests of the primary and secondary suppression
on random 1-D and 2-D tables, hand cases, the figures of the contract, `coaching indicators --suppress`,
masked frames and Plotly figures."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import diffusion as D
from analytics import fmt
from analytics.diffusion import Masked, exposed, mask_figure, mask_frame, solve, suppress_counts, suppress_rate, suppress_table

K = 11
# counts skewed towards small values, where the suppression happens; zeros included
COUNT = st.one_of(st.integers(0, 12), st.integers(0, 60))


# ---------------------------------------------------------------- 1-D: {label: count} with its total


@st.composite
def one_dim(draw):
    n = draw(st.integers(1, 8))
    mapping = {f"c{i}": draw(COUNT) for i in range(n)}
    residual = draw(st.one_of(st.just(0), COUNT))  # an undisplayed « others » cell
    return mapping, sum(mapping.values()) + residual


def _unknowns(mapping: dict, total: int, result: D.Counts) -> int:
    residual = total - sum(mapping.values())
    return len(result.masked) + (1 if residual > 0 else 0)


@settings(max_examples=400, deadline=None)
@given(one_dim(), st.sampled_from([3, 5, 11]))
def test_1d_no_masked_cell_can_be_derived(case, k):
    mapping, total = case
    result = suppress_counts(mapping, k, total=total)
    shown = {label: v for label, v in result.values.items() if v is not None}
    if result.masked and not result.total_masked:
        # the attacker's difference: total − shown cells covers every masked cell plus the residual
        difference = total - sum(shown.values())
        assert _unknowns(mapping, total, result) >= 2, (mapping, total, result)
        # it is never exactly one masked cell's value alone
        assert not (len(result.masked) == 1 and total == sum(mapping.values())
                    and difference == mapping[next(iter(result.masked))])
    # every small count is masked (primary), zeros are shown
    for label, v in mapping.items():
        if 0 < v < k:
            assert result.masked.get(label) == D.PRIMARY
        if v == 0 and not result.total_masked:
            assert label not in result.masked or all(x == 0 or x in result.masked for x in mapping)


@settings(max_examples=400, deadline=None)
@given(one_dim(), st.sampled_from([3, 5, 11]))
def test_1d_nothing_above_k_masked_without_a_reason(case, k):
    mapping, total = case
    result = suppress_counts(mapping, k, total=total)
    residual = total - sum(mapping.values())
    primaries = [label for label, v in mapping.items() if 0 < v < k] + (["reste"] if 0 < residual < k else [])
    secondaries = [label for label, reason in result.masked.items() if reason == D.SECONDARY]
    if not primaries:
        assert not result.masked and not result.total_masked
    if len(primaries) >= 2 or residual >= k:  # already two unknowns, or the free undisplayed residual takes the role
        assert not secondaries
    assert len(secondaries) <= 1
    if secondaries:
        # the next smallest: no shown non-zero cell is smaller than the one chosen
        chosen = mapping[secondaries[0]]
        assert all(v >= chosen for label, v in mapping.items() if label not in result.masked and v > 0)
    for label in result.masked:
        if mapping[label] >= k:
            assert result.masked[label] == D.SECONDARY


@settings(max_examples=200, deadline=None)
@given(one_dim())
def test_1d_is_deterministic(case):
    mapping, total = case
    assert suppress_counts(mapping, K, total=total) == suppress_counts(dict(mapping), K, total=total)


# ---------------------------------------------------------------- 2-D tables with margins


@st.composite
def two_dim(draw):
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    data = {"label": [f"r{i}" for i in range(rows)]}
    for j in range(cols):
        data[f"k{j}"] = [draw(COUNT) for _ in range(rows)]
    return pl.DataFrame(data)


@settings(max_examples=300, deadline=None)
@given(two_dim(), st.sampled_from([3, 11]))
def test_2d_no_row_or_column_gives_a_masked_cell_back(frame, k):
    result = suppress_table(frame, k)
    columns = frame.columns[1:]
    values, constraints = D.table_system(frame, "label", columns)
    masked = {("cell", r, c) for r, c in result.masked} | {key for key, v in result.totals.items() if v is None}
    # solve each row / column constraint: none holds exactly one unknown
    assert exposed(values, constraints, masked) == []
    for r in frame["label"]:
        in_row = [c for c in columns if (r, c) in result.masked]
        assert not in_row or len(in_row) >= 2 or result.totals[("row", r)] is None
    for c in columns:
        in_col = [r for r in frame["label"] if (r, c) in result.masked]
        assert not in_col or len(in_col) >= 2 or result.totals[("col", c)] is None
    # the published frame: masked cells are null, the others untouched
    for r, row_in, row_out in zip(frame["label"], frame.iter_rows(), result.frame.iter_rows()):
        for c, a, b in zip(frame.columns, row_in, row_out):
            assert b == (None if (r, c) in result.masked else a)


@settings(max_examples=300, deadline=None)
@given(two_dim(), st.sampled_from([3, 11]))
def test_2d_every_mask_above_k_was_needed(frame, k):
    columns = frame.columns[1:]
    values, constraints = D.table_system(frame, "label", columns)
    result = solve(values, constraints, k)
    order = {cell: i for i, cell in enumerate(result.masked)}  # the order in which the cells were masked
    if not any(0 < v < k for v in values.values()):
        assert not result.masked
    for cell, reason in result.masked.items():
        if reason == D.PRIMARY:
            assert 0 < values[cell] < k
            continue
        # a secondary mask answers a row / column that had exactly one masked member just before it
        i = result.reasons[cell]
        total, parts = constraints[i]
        earlier = [m for m in (total, *parts) if m in order and order[m] < order[cell]]
        assert len(earlier) == 1, (cell, constraints[i])
    # and by induction every chain of secondary masks starts at a primary one
    assert not result.masked or any(r == D.PRIMARY for r in result.masked.values())


@settings(max_examples=200, deadline=None)
@given(two_dim(), st.data())
def test_2d_frozen_margins_are_never_chosen(frame, data):
    values, _ = D.table_system(frame, "label", frame.columns[1:])
    margins = [key for key in values if key[0] != "cell"]
    frozen = data.draw(st.lists(st.sampled_from(margins), unique=True))
    result = suppress_table(frame, K, frozen=frozen)
    for key in frozen:
        assert result.totals[key] is not None or 0 < values[key] < K


@settings(max_examples=150, deadline=None)
@given(two_dim())
def test_2d_is_deterministic(frame):
    a, b = suppress_table(frame, K), suppress_table(frame.clone(), K)
    assert a.masked == b.masked and a.totals == b.totals and a.frame.equals(b.frame)


# ---------------------------------------------------------------- hand cases


def test_1d_hand_cases():
    r = suppress_counts({"a": 5, "b": 0, "c": 40, "d": 12}, K)
    assert r.values == {"a": None, "b": 0, "c": 40, "d": None}
    assert r.masked == {"a": D.PRIMARY, "d": D.SECONDARY} and r.total == 57
    # two small cells protect each other
    assert suppress_counts({"a": 5, "b": 3, "c": 40}, K).masked == {"a": D.PRIMARY, "b": D.PRIMARY}
    # an undisplayed residual (80 − 65 = 15 « others ») is the free second unknown
    r = suppress_counts({"a": 5, "b": 20, "c": 40}, K, total=80)
    assert r.masked == {"a": D.PRIMARY} and r.total == 80
    # a small residual is itself protected
    r = suppress_counts({"a": 30, "b": 20}, K, total=53)
    assert r.masked == {"b": D.SECONDARY}
    # a total below k is masked with every non-zero cell
    r = suppress_counts({"a": 6, "b": 0, "c": 3}, K)
    assert r.total_masked and r.values == {"a": None, "b": 0, "c": None}
    # only zeros left: the total goes
    r = suppress_counts({"a": 4, "b": 0}, K, total=4)
    assert r.total_masked
    # no total published: primary only
    assert suppress_counts({"a": 4, "b": 30}, K, total_shown=False).masked == {"a": D.PRIMARY}
    assert suppress_counts({"a": 11, "b": 30}, K).masked == {}
    assert r.shown() == {"a": Masked(K), "b": 0}


def test_2d_hand_case():
    frame = pl.DataFrame({"r": ["x", "y", "z"], "A": [1, 20, 30], "B": [15, 14, 0], "C": [12, 40, 3]})
    t = suppress_table(frame, K)
    assert t.masked == {("x", "A"): D.PRIMARY, ("z", "C"): D.PRIMARY, ("x", "C"): D.SECONDARY, ("z", "A"): D.SECONDARY}
    assert t.frame["A"].to_list() == [None, 20, None] and t.frame["C"].to_list() == [None, 40, None]
    assert t.totals[("row", "x")] == 28 and t.totals[("all",)] == 135
    # margins displayed elsewhere (frozen) are never chosen: the cells take the secondary masks
    small = pl.DataFrame({"r": ["x", "y"], "A": [3, 30], "B": [12, 40]})
    margins = [("row", "x"), ("row", "y"), ("col", "A"), ("col", "B"), ("all",)]
    t = suppress_table(small, K, frozen=margins)
    assert set(t.masked) == {("x", "A"), ("x", "B"), ("y", "A"), ("y", "B")} and None not in t.totals.values()
    # without that constraint the cheaper way is to mask the row total of x with its two cells
    t = suppress_table(small, K)
    assert set(t.masked) == {("x", "A"), ("x", "B"), ("y", "A"), ("y", "B")} or t.totals[("row", "x")] is None
    # a margin already masked where it is displayed counts as a masked member
    t = suppress_table(pl.DataFrame({"r": ["x", "y"], "A": [30, 30], "B": [12, 40]}), K, premasked=[("row", "x")])
    assert ("x", "A") in t.masked or ("x", "B") in t.masked


def test_rates():
    assert suppress_rate(32, 76, K) == 0.4211
    assert suppress_rate(5, 76, K) == Masked(K)       # numerator below k
    assert suppress_rate(70, 76, K) == Masked(K)      # complement (6) below k
    assert suppress_rate(8, 10, K) == Masked(K)       # denominator below k
    assert suppress_rate(0, 40, K) == 0.0              # a zero is published
    assert suppress_rate(40, 40, K) == 1.0
    assert suppress_rate(0, 0, K) is None


def test_masked_value_behaves():
    m = Masked(K)
    assert str(m) == "< 11" and json.dumps({"n": m}) == '{"n": "< 11"}'
    assert m / 3 is m and 3 - m is m and round(m, 2) is m and abs(m) is m and m % 1 is m and 0 + m is m
    assert m + " pts" == "< 11 pts" and "n " + m == "n < 11"
    assert max([3, m, 40]) == 40 and sorted([40, m, 3])[0] == m
    assert m != 0 and bool(m)
    assert fmt.number(m) == "< 11" and fmt.percent(m / 4) == fmt.MASKED_RATE and fmt.signed(m - 3) is None
    import pickle
    assert pickle.loads(pickle.dumps(m)) == m and isinstance(pickle.loads(pickle.dumps(m)), Masked)


def test_threshold(monkeypatch):
    assert D.threshold() == 11
    monkeypatch.setenv(D.ENV_K, "5")
    assert D.threshold() == 5 and D.threshold(7) == 7
    with pytest.raises(ValueError):
        D.threshold(0)


# ---------------------------------------------------------------- the figures of the contract


@pytest.fixture(scope="module")
def figures_2023(sample_db):
    from analytics.indicators import Filters, Period, compute_indicators, dataset
    from analytics.store import connect_readonly

    con = connect_readonly(sample_db)
    try:
        p = Period.year(2023)
        return compute_indicators(con, p), D.denominators(dataset(con, p, Filters()))
    finally:
        con.close()


def _numbers(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


RATES = {("positive_exit_rate",), ("post_exit_follow_up_rate",), ("average_caseload",), ("caseload_target",),
         ("appointments", "attendance_rate"), ("first_appointment_delay_days", "within_7_days_rate"),
         ("first_appointment_delay_days", "median"), ("time_to_exit", "median_days"),
         *[("time_to_exit", "survival", t) for t in ("30", "91", "182", "365")]}


def test_every_figure_of_the_contract_has_a_rule():
    from analytics.indicators import FIGURES

    assert set(FIGURES) <= D.KNOWN_KEYS, "a new figure of the contract needs a suppression rule in analytics.diffusion"


def test_suppress_figures_on_the_sample(figures_2023):
    fig, den = figures_2023
    out = D.suppress_figures(fig, K, denominators=den)
    # no count below k is left, every masked value reads « < 11 »
    for path, value in _numbers(out):
        if path[0] in ("period", "filters", "diffusion") or path in RATES:
            continue
        assert not (0 < value < K), path
    assert out["status"]["ASE"] == "< 11" and out["commune"]["Doullens"] == 19
    assert out["participants"] == 117 and out["caseload_target"] == 40
    # the constraint system has no equation with a single unknown
    system = D._build_system(fig, K, den)
    masked = {tuple(p.split(".")) for p in out["diffusion"]["masked"]}
    masked = {path for path in system.values if tuple(str(x) for x in path) in masked}
    masked |= {c for c in system.values if D.RESIDUAL in c and c in solve(system.values, system.constraints, K,
                                                                           hidden=system.hidden, costly=D.HEADLINE).masked}
    assert exposed(system.values, system.constraints, masked) == []
    # positive exits = Emploi + Formation: Formation (10) masked, so Emploi (22) too, rather than the headline
    # positive exits (32); Emploi is not small: it reads « masqué », not « < 11 » (issue 16)
    assert out["exit_reason"]["Formation"] == "< 11" and out["exit_reason"]["Emploi"] == "masqué"
    assert out["positive_exits"] == 32
    # the post-exit follow-up rate: 68 followed of 76, the complement (8) is below k
    assert out["post_exit_follow_up_rate"] == "< 11"
    assert out["positive_exit_rate"] == 0.4211 and out["appointments"]["attendance_rate"] == 0.8284
    assert out["first_appointment_delay_days"] == fig["first_appointment_delay_days"]
    # without the hidden denominator the median cannot be checked: masked
    assert D.suppress_figures(fig, K)["first_appointment_delay_days"]["median"] == "< 11"
    # deterministic, and the input is left as it was
    assert D.suppress_figures(fig, K, denominators=den) == out and fig["status"]["ASE"] == 1


def test_a_selection_below_k_shows_no_count():
    fig = {"positioned": 7, "participants": 6, "entries": 2, "exits": 0, "active_at_end": 6, "positive_exits": 0,
           "sex": {"Femme": 6}, "positive_exit_rate": None, "caseload_target": 40,
           "appointments": {"planned": 40, "attended": 35, "attendance_rate": 0.875, "by_modality": {"Visio": 40}}}
    out = D.suppress_figures(fig, K)
    assert out["positioned"] == out["participants"] == out["sex"]["Femme"] == "< 11"
    assert out["appointments"]["planned"] == out["appointments"]["attendance_rate"] == "< 11"
    assert out["exits"] == 0 and out["caseload_target"] == 40


def test_time_to_exit_and_exit_categories_are_suppressed():
    fig = {"positioned": 60, "participants": 50, "entries": 8, "exits": 30, "active_at_end": 20, "positive_exits": 15,
           "exit_reason": {"Emploi": 12, "Formation": 3, "Abandon": 15},
           "exit_category": {"Emploi durable": 7, "Emploi de transition": 4, "Emploi non précisé": 1, "Sortie positive": 3,
                             "Autre sortie": 15},
           "time_to_exit": {"cohort": 8, "events": 3, "median_days": 120, "survival": {"30": 0.875, "91": 0.75, "182": 0.5,
                                                                                        "365": None}}}
    out = D.suppress_figures(fig, K)
    # a cohort of fewer than k persons: no median, no share
    assert out["time_to_exit"]["cohort"] == out["time_to_exit"]["median_days"] == "< 11"
    assert out["time_to_exit"]["survival"] == {"30": "< 11", "91": "< 11", "182": "< 11", "365": None}
    # the job categories add up to Emploi (12): none of them can be given back by difference
    assert out["exit_category"]["Emploi non précisé"] == "< 11" and out["exit_category"]["Sortie positive"] == "< 11"
    assert sum(isinstance(v, str) for k, v in out["exit_category"].items() if k.startswith("Emploi")) >= 2
    big = {**fig, "entries": 40, "time_to_exit": {**fig["time_to_exit"], "cohort": 40, "events": 25}}
    assert D.suppress_figures(big, K)["time_to_exit"]["survival"]["91"] == 0.75


def test_cli_indicators_suppress(sample_db, capsys):
    from analytics.cli import main

    assert main(["indicators", "--db", str(sample_db), "--year", "2023", "--json", "--suppress", "11"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"]["ASE"] == "< 11" and out["diffusion"]["k"] == 11
    assert out["period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    assert main(["indicators", "--db", str(sample_db), "--year", "2023", "--json", "--suppress", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"]["ASE"] == "< 3" and out["commune"]["Liomer"] == 4
    assert main(["indicators", "--db", str(sample_db), "--year", "2023", "--json", "--suppress", "zéro"]) == 2
    assert "nombre invalide" in capsys.readouterr().err


# ---------------------------------------------------------------- frames and figures


def test_mask_frame():
    frame = pl.DataFrame({"month": ["01", "02", "03", "04"], "entries": [12, 3, 20, 15], "exits": [0, 14, 2, 30]})
    out = mask_frame(frame, ["entries", "exits"], K, flags=True)
    assert out["entries"].to_list() == [None, None, 20, 15]   # 3 primary, then the smallest other (12)
    assert out["exits"].to_list() == [0, None, None, 30]        # 2 primary, then 14
    assert out["entries__masque"].to_list() == [True, True, False, False]
    # within groups (the communes of each EPCI, whose totals are shown)
    communes = pl.DataFrame({"epci": ["A", "A", "A", "B", "B"], "n": [5, 30, 20, 40, 12]})
    assert mask_frame(communes, ["n"], K, by="epci")["n"].to_list() == [None, 30, None, 40, 12]


def test_mask_figure_bars_pie_sankey():
    fig = go.Figure(go.Bar(x=[30, 4, 25, 12], y=["a", "b", "c", "d"], orientation="h", text=["30", "4", "25", "12"]))
    mask_figure(fig, K)
    assert list(fig.data[0].x) == [30, None, 25, None] and list(fig.data[0].text) == ["30", "< 11", "25", "< 11"]
    pie = go.Figure(go.Pie(labels=["F", "H"], values=[40, 3], text=["F 40", "H 3"]))
    mask_figure(pie, K)
    assert list(pie.data[0].values) == [None, None]
    # stacked bars: 2-D with margins
    st_fig = go.Figure([go.Bar(x=["m1", "m2"], y=[20, 2], name="a"), go.Bar(x=["m1", "m2"], y=[15, 30], name="b")])
    mask_figure(st_fig, K)
    assert None in st_fig.data[0].y and st_fig.data[0].y[1] is None
    js = json.loads(st_fig.to_json())
    assert all(not (isinstance(v, int) and 0 < v < K) for t in js["data"] for v in t["y"] if v is not None)
    sankey = go.Figure(go.Sankey(node=dict(label=["P (50)", "A (45)", "B (5)"]), link=dict(source=[0, 0], target=[1, 2], value=[45, 5])))
    mask_figure(sankey, K)
    assert list(sankey.data[0].link.value) == [0, 0] and sankey.data[0].node.label[2] == "B (< 11)"


def test_mask_figure_rate_over_bars():
    months = ["janv.", "févr.", "mars"]
    fig = go.Figure([go.Scatter(x=months, y=[50.0, 80.0, 54.5], name="Taux de sorties positives", text=["50 %", "80 %", "55 %"]),
                     go.Bar(x=months, y=[12, 16, 30], name="Sorties positives"),
                     go.Bar(x=months, y=[12, 4, 25], name="Autres sorties")])
    mask_figure(fig, K)
    # février: 4 other exits (primary), then 16 in its month, then janvier in both columns (secondary)
    assert list(fig.data[1].y) == [None, None, 30] and list(fig.data[2].y) == [None, None, 25]
    assert list(fig.data[0].y) == [None, None, 54.5] and list(fig.data[0].text) == ["", "", "55 %"]
    # without bars to check it against, a rate is masked altogether
    alone = go.Figure(go.Scatter(x=months, y=[0.5, 0.6, 0.7], name="Taux de présence"))
    assert list(mask_figure(alone, K).data[0].y) == [None, None, None]


# ---------------------------------------------------------------- reports (XLSX, PDF, CSV) with `suppress`


def _small_cells_xlsx(path) -> list:
    import openpyxl

    bad = []
    for ws in openpyxl.load_workbook(path):
        for row in ws.iter_rows(min_row=6):
            label = str(row[0].value or "")
            for cell in row[1:]:
                v = cell.value
                if (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < K and float(v).is_integer()
                        and "%" not in cell.number_format and "médian" not in label):
                    bad.append((ws.title, cell.coordinate, label, v))
    return bad


def test_reports_with_suppress(sample_db, tmp_path):
    from pypdf import PdfReader

    from analytics.cli import main

    raw, secret = tmp_path / "raw.xlsx", tmp_path / "secret.xlsx"
    assert main(["report", "--db", str(sample_db), "--year", "2023", "--out", str(raw)]) == 0
    assert main(["report", "--db", str(sample_db), "--year", "2023", "--suppress", "11", "--out", str(secret)]) == 0
    assert _small_cells_xlsx(raw)            # the sample has small counts…
    assert _small_cells_xlsx(secret) == []   # …none of which is left in the suppressed workbook
    csv_path = tmp_path / "suivi.csv"
    assert main(["report", "--db", str(sample_db), "--year", "2023", "--suppress", "11", "--out", str(csv_path)]) == 0
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    cells = [c for line in lines[1:] for c in line.split(";")[1:]]
    assert "< 11" in cells and not [c for c in cells if c.isdigit() and 0 < int(c) < K]
    pdf = tmp_path / "copil.pdf"
    assert main(["report", "--db", str(sample_db), "--year", "2023", "--suppress", "11", "--out", str(pdf)]) == 0
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "secret statistique" in text and "< 11" in text and "134" in text
