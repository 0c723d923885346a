"""Property tests: invariants that follow from the SPEC-indicators definitions, on random valid extracts.

The figures are computed on an in-memory `Dataset` holding every generated person (fast), and a
few examples also go the whole way through CSV → load_extract → import_extract → DuckDB →
compute_indicators, to check that the SQL pushdown of the period and filters gives the same figures.
"""

from __future__ import annotations

import contextlib

import tempfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import schema as S
from analytics.config import caseload_target_for
from analytics.extract import load_extract
from analytics.indicators import FIGURES, Filters, Period, compute, compute_indicators
from analytics.indicators.base import Dataset
from analytics.store import connect_readonly, import_extract
from coaching_test_helpers import write_extract

BASE = date(2022, 1, 1)
COMMUNES = ["Poix-de-Picardie", "Conty", "Hornoy-le-Bourg", "Airaines", "Oisemont"]
PRESCRIBERS = ["Conseil départemental", "APFE et autres organismes", "Pôle emploi"]
TERRITORIES = ["5 vallées", "Santerre"]
IMM_SCHEMA = {"action": pl.String, "territoire": pl.String, "id_participant": pl.String,
              "date_debut": pl.Date, "date_fin": pl.Date, "secteur": pl.String, "debouche_contrat": pl.Boolean}
APP_SCHEMA = {"month": pl.String, "modalite": pl.String, "presence": pl.String, "n": pl.Int64}
BREAKDOWNS = ["sex", "age_band", "education_level", "status", "household", "primary_barrier", "commune"]


def days(n: int) -> timedelta:
    return timedelta(days=n)


@st.composite
def persons_strategy(draw, communes: list[str]) -> dict:
    presc = BASE + days(draw(st.integers(0, 900)))
    row = {
        "prescripteur": draw(st.sampled_from(PRESCRIBERS)),
        "territoire": draw(st.sampled_from(TERRITORIES)),
        "action": S.DEFAULT_ACTION,
        "commune": draw(st.sampled_from(communes)),
        "code_insee": None,
        "sexe": draw(st.sampled_from(S.SEX)),
        "age": draw(st.integers(16, 99)),
        "niveau_formation": draw(st.integers(1, 8)),
        "statut": draw(st.sampled_from(S.STATUS)),
        "situation_familiale": draw(st.sampled_from(S.HOUSEHOLD)),
        "frein_principal": draw(st.sampled_from(S.BARRIERS)),
        "freins_secondaires": "|".join(draw(st.lists(st.sampled_from(S.BARRIERS), max_size=3, unique=True))) or None,
        "date_prescription": presc,
        "date_premier_rdv": draw(st.none() | st.integers(0, 40).map(lambda n: presc + days(n))),
        "date_entree": None, "motif_non_entree": None, "date_fin_prevue": None, "date_sortie": None,
        "motif_sortie": None, "detail_sortie": None,
        "situation_emploi_entree": draw(st.none() | st.sampled_from(S.EMPLOYMENT_AT_ENTRY)),
        "rqth": draw(st.none() | st.booleans()),
        "qualification_obtenue": None, "date_suivi_post_sortie": None, "situation_post_sortie": None,
        "situation_6_mois": None,
    }
    if draw(st.integers(0, 3)):  # three in four enter the action
        entree = presc + days(draw(st.integers(0, 60)))
        row["date_entree"] = entree
        if draw(st.booleans()):
            sortie = entree + days(draw(st.integers(0, 400)))
            motif = draw(st.sampled_from(S.EXIT_REASONS))
            row.update(date_sortie=sortie, motif_sortie=motif,
                       detail_sortie=draw(st.sampled_from([None] + S.EXIT_DETAILS.get(motif, []))),
                       qualification_obtenue=draw(st.none() | st.booleans()),
                       situation_6_mois=draw(st.none() | st.sampled_from(S.SITUATION_6_MONTHS)),
                       date_suivi_post_sortie=draw(st.none() | st.integers(20, 40).map(lambda n: sortie + days(n))))
    else:
        row["motif_non_entree"] = draw(st.sampled_from(S.NOT_ENTERED_REASONS))
    return row


@st.composite
def extracts(draw) -> dict:
    communes = draw(st.lists(st.sampled_from(COMMUNES), min_size=2, max_size=4, unique=True))
    people = draw(st.lists(persons_strategy(communes), min_size=1, max_size=25))
    immersions, rdv = [], []
    for i, row in enumerate(people):
        row["id_participant"] = f"P{i:03d}"
        for _ in range(draw(st.integers(0, 2))):
            start = row["date_prescription"] + days(draw(st.integers(0, 500)))
            immersions.append({"action": row["action"], "territoire": row["territoire"], "id_participant": row["id_participant"],
                               "date_debut": start, "date_fin": start + days(draw(st.integers(0, 20))),
                               "secteur": draw(st.none() | st.sampled_from(["Maraîchage", "Aide à domicile", "N1101"])),
                               "debouche_contrat": draw(st.none() | st.booleans())})
        for _ in range(draw(st.integers(0, 3))):
            rdv.append({"id_participant": row["id_participant"],
                        "date": row["date_prescription"] + days(draw(st.integers(0, 500))),
                        "modalite": draw(st.sampled_from(S.MODALITIES)), "presence": draw(st.sampled_from(S.PRESENCE))})
    return {"communes": communes, "persons": people, "immersions": immersions, "rendez_vous": rdv}


periods = st.one_of(
    st.integers(2022, 2024).map(Period.year),
    st.tuples(st.integers(0, 1000), st.integers(0, 500)).map(lambda t: Period(BASE + days(t[0]), BASE + days(t[0] + t[1]))),
)


def dataset(ex: dict, period: Period, filters: Filters = Filters(), persons_filter=None) -> Dataset:
    """The in-memory Dataset of every generated person (optionally only those `persons_filter` keeps)."""
    people = [p for p in ex["persons"] if persons_filter is None or persons_filter(p)]
    ids = {p["id_participant"] for p in people}
    persons = pl.DataFrame(people, schema=S.typed_schema(S.PARTICIPANTS)).select(S.PARTICIPANTS.names)
    imm = pl.DataFrame([i for i in ex["immersions"] if i["id_participant"] in ids], schema=IMM_SCHEMA)
    rdv = [r for r in ex["rendez_vous"] if r["id_participant"] in ids and period.start <= r["date"] <= period.end]
    app = (pl.DataFrame(rdv, schema={"id_participant": pl.String, "date": pl.Date, "modalite": pl.String, "presence": pl.String})
           .group_by(pl.col("date").dt.strftime("%Y-%m").alias("month"), "modalite", "presence").len("n")
           .cast({"n": pl.Int64}).select(list(APP_SCHEMA)))
    collected = {name: set(t.names) for name, t in S.TABLES.items()}
    return Dataset(period, filters, persons, imm, app, collected, caseload_target_for(filters))


def check_invariants(f: dict) -> None:
    n = f["participants"]
    for key in BREAKDOWNS:
        assert sum(f[key].values()) == n, key
    assert sum(f["prescriber"].values()) == f["positioned"]
    assert sum(f["not_entered"].values()) == f["positioned"] - f["participants"]
    assert sum(f["exit_reason"].values()) == f["exits"]
    for motif, details in f["exit_detail"].items():
        assert sum(details.values()) == f["exit_reason"].get(motif, 0), motif
    months = list(f["monthly_caseload"].values())
    assert months[-1] >= f["active_at_end"]
    assert max(months) <= n
    assert f["positive_exits"] <= f["exits"]
    assert f["entries"] <= n and f["active_at_end"] <= n
    assert f["exits_with_two_or_more_immersions"] <= f["exits_with_immersion"] <= f["exits"]
    for barrier, count in f["primary_barrier"].items():
        assert f["barrier_any"][barrier] >= count
    assert all(count <= n for count in f["barrier_any"].values())
    assert f["esf"]["EECO01"]["total"] == f["entries"]
    assert f["appointments"]["attended"] <= f["appointments"]["planned"]
    assert sum(f["appointments"]["by_modality"].values()) == f["appointments"]["planned"]
    assert f["immersions"]["led_to_contract"] <= f["immersions"]["count"]
    # v2: the exit categories add up to the exits, the four first to the positive exits; the survival cohort is the entries
    assert sum(f["exit_category"].values()) == f["exits"]
    assert sum(v for k, v in f["exit_category"].items() if k != "Autre sortie") == f["positive_exits"]
    t = f["time_to_exit"]
    assert t["cohort"] == f["entries"] and t["events"] <= t["cohort"]
    shares = [s for s in t["survival"].values() if s is not None]
    assert shares == sorted(shares, reverse=True) and all(0 <= s <= 1 for s in shares)


@settings(max_examples=40, deadline=None)
@given(extracts(), periods)
def test_breakdowns_add_up(ex, period):
    check_invariants(compute(dataset(ex, period)))


@settings(max_examples=40, deadline=None)
@given(extracts(), periods)
def test_single_commune_figures_add_up_to_the_whole(ex, period):
    whole = compute(dataset(ex, period), ["participants", "exits", "positioned", "entries", "active_at_end"])
    parts = [compute(dataset(ex, period, Filters(commune=(c,)), lambda p, c=c: p["commune"] == c),
                     ["participants", "exits", "positioned", "entries", "active_at_end"]) for c in ex["communes"]]
    for key, value in whole.items():
        assert sum(p[key] for p in parts) == value, key


def _csv_rows(ex: dict) -> tuple[list[dict], list[dict], list[dict]]:
    def cell(v):
        if isinstance(v, bool):
            return "oui" if v else "non"
        if isinstance(v, date):
            return v.isoformat()
        return v

    people = [{c: cell(p[c]) for c in S.PARTICIPANTS.names} for p in ex["persons"]]
    imm = [{c: cell(i.get(c)) for c in S.IMMERSIONS.names} for i in ex["immersions"]]
    rdv = [{c: cell(r[c]) for c in S.RENDEZ_VOUS.names} for r in ex["rendez_vous"]]
    return people, rdv, imm


@contextlib.contextmanager
def _imported(ex):
    """The extract written as CSV, imported into a fresh store, opened read-only."""
    people, rdv, imm = _csv_rows(ex)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_extract(Path(tmp) / "extract", people, rdv, imm)
        db = Path(tmp) / "store.duckdb"
        import_extract(load_extract(folder), db)
        con = connect_readonly(db)
        try:
            yield con
        finally:
            con.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts(), periods)
def test_duckdb_pushdown_matches_in_memory(ex, period):
    with _imported(ex) as con:
        got = compute_indicators(con, period)
        assert set(FIGURES) <= set(got)
        assert {k: got[k] for k in FIGURES} == compute(dataset(ex, period))
        commune = ex["communes"][0]
        got = compute_indicators(con, period, Filters(commune=(commune,)))
        assert {k: got[k] for k in FIGURES} == compute(dataset(ex, period, Filters(commune=(commune,)),
                                                               lambda p: p["commune"] == commune))
        territory = Filters(territory=("Santerre",), prescriber=("Pôle emploi", "Conseil départemental"))
        got = compute_indicators(con, period, territory)
        assert {k: got[k] for k in FIGURES} == compute(dataset(
            ex, period, territory, lambda p: p["territoire"] == "Santerre" and p["prescripteur"] in territory.prescriber))


def test_duckdb_pushdown_matches_in_memory_fixed_example():
    """A deterministic example of the same check, with persons outside the period that the pushdown drops."""
    def row(pid, commune, presc, entree=None, sortie=None, motif=None, detail=None, rdv1=None):
        return {c: None for c in S.PARTICIPANTS.names} | {
            "id_participant": pid, "prescripteur": "Pôle emploi", "territoire": "5 vallées", "action": S.DEFAULT_ACTION,
            "commune": commune, "sexe": "Femme", "age": 33, "niveau_formation": 4, "statut": "RSA",
            "situation_familiale": "Couple sans enfant", "frein_principal": "Santé", "date_prescription": presc,
            "date_premier_rdv": rdv1, "date_entree": entree, "motif_non_entree": None if entree else "Non adhésion",
            "date_sortie": sortie, "motif_sortie": motif, "detail_sortie": detail}

    d = date.fromisoformat
    ex = {
        "communes": ["Conty", "Poix-de-Picardie"],
        "persons": [
            row("A", "Conty", d("2022-01-01"), d("2022-02-01"), d("2022-12-31"), "Emploi", "CDI"),  # out of 2023
            row("B", "Conty", d("2022-01-01"), d("2022-02-01"), d("2023-01-01"), "Formation", None, d("2022-01-05")),
            row("C", "Poix-de-Picardie", d("2023-05-01"), rdv1=d("2023-05-03")),
            row("D", "Poix-de-Picardie", d("2022-12-25"), rdv1=d("2023-01-04")),  # concerned only through its first appointment
            row("E", "Poix-de-Picardie", d("2023-03-01"), d("2023-03-02"), None, rdv1=d("2023-03-02")),
        ],
        "immersions": [
            {"action": S.DEFAULT_ACTION, "territoire": "5 vallées", "id_participant": "A", "date_debut": d("2023-02-01"),
             "date_fin": d("2023-02-02"), "debouche_contrat": True},  # a non-participant's immersion started in P
            {"action": S.DEFAULT_ACTION, "territoire": "5 vallées", "id_participant": "B", "date_debut": d("2022-06-01"),
             "date_fin": d("2022-06-02"), "debouche_contrat": False},
        ],
        "rendez_vous": [
            {"id_participant": "A", "date": d("2023-01-15"), "modalite": "Visio", "presence": "Présent"},
            {"id_participant": "E", "date": d("2023-03-02"), "modalite": "Physique", "presence": "Absent excusé"},
        ],
    }
    expected = compute(dataset(ex, Period.year(2023)))
    # spot-check the in-memory figures by hand before comparing with DuckDB
    assert (expected["participants"], expected["positioned"], expected["exits"]) == (2, 3, 1)  # B E / + C / B
    assert expected["immersions"] == {"count": 1, "led_to_contract": 1}  # A's, started in 2023
    assert expected["exits_with_immersion"] == 1  # B
    assert expected["first_appointment_delay_days"] == {"median": 2, "within_7_days_rate": 0.6667}  # C 2, D 10, E 1
    assert expected["appointments"]["planned"] == 2
    with _imported(ex) as con:
        got = compute_indicators(con, Period.year(2023))
    assert {k: got[k] for k in FIGURES} == expected
