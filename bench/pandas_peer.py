"""The analyst's peer: SPEC-indicators written in plain, idiomatic pandas.

This is what an analyst would write without the engine: pull the three tables of the DuckDB
store into pandas DataFrames (``con.sql("SELECT * FROM participants").df()`` …), then boolean
masks, ``value_counts`` and ``groupby`` per definition of ``../shared/SPEC-indicators.md``.
It shares no computation with ``analytics.indicators`` (only the caseload target, which is
configuration, not data, comes from ``analytics.config``), so that agreeing figures are a real
cross-check of both implementations. It is kept honest: no deliberately slow code (dates are
filtered before the appointments are joined to their persons; masks, not ``apply``).

    tables = read_tables(con)                       # the read: whole tables into pandas
    figures = indicators(tables, start, end, commune=["Doullens"])
    differences(engine_figures, figures)            # [] when every figure agrees
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pandas as pd

from analytics.config import caseload_target_for

KEY = ["action", "territoire", "id_participant"]
POSITIVE = ["Emploi", "Formation"]
DETAILED = ["Emploi", "Formation", "Fin de suivi"]
NOT_FILLED = "Non renseigné"
AGE_BINS = [float("-inf"), 25, 40, 55, float("inf")]
AGE_BANDS = ["Moins de 25 ans", "25-40 ans", "40-55 ans", "Plus de 55 ans"]
SEXES = ["Femme", "Homme"]
UNEMPLOYED = ["Demandeur d'emploi", "Demandeur d'emploi de longue durée"]
JOB_SEARCH_NEXT_STEPS = ["S'engager vers l'emploi", "Action vers ma route", "Contrats aidés", "Création d'entreprise"]
DURABLE_JOBS = ["CDI", "CDD de 6 mois et plus", "Alternance", "Création d'entreprise"]
TRANSITIONAL_JOBS = ["CDD de moins de 6 mois", "Intérim", "Autre contrat"]
HORIZONS = [30, 91, 182, 365]
FILTER_COLUMNS = {"commune": "commune", "prescriber": "prescripteur", "territory": "territoire", "action": "action",
                  "epci": "epci"}


@dataclass
class Tables:
    participants: pd.DataFrame
    rendez_vous: pd.DataFrame
    immersions: pd.DataFrame
    collected: dict[str, set[str]] = field(default_factory=dict)  # columns present in at least one import


def read_tables(con) -> Tables:
    """Pull the whole tables out of the store, as an analyst would."""
    participants = con.sql("SELECT * FROM participants").df()
    rendez_vous = con.sql("SELECT * FROM rendez_vous").df()
    immersions = con.sql("SELECT * FROM immersions").df()
    imports = con.sql("SELECT columns FROM imports WHERE status = 'importé'").df()
    collected: dict[str, set[str]] = {}
    for cols in imports["columns"].dropna():
        for table, names in json.loads(cols).items():
            collected.setdefault(table, set()).update(names)
    return Tables(participants, rendez_vous, immersions, collected)


# ---------------------------------------------------------------- small helpers

def counts(values: pd.Series) -> dict:
    """{label: count}, empty labels left out."""
    return {label: int(n) for label, n in values.value_counts().items()}


def rate(numerator, denominator) -> float | None:
    return None if not denominator else round(int(numerator) / int(denominator), 4)


def by_sex(df: pd.DataFrame, mask: pd.Series) -> dict:
    chosen = df.loc[mask.fillna(False).astype(bool), "sexe"]
    return {"total": int(len(chosen)), **{s: int((chosen == s).sum()) for s in SEXES}}


def _values(filters, attr: str) -> list:
    if filters is None:
        return []
    if isinstance(filters, dict):
        return list(filters.get(attr) or filters.get(FILTER_COLUMNS[attr]) or [])
    return list(getattr(filters, attr, ()) or ())


# ---------------------------------------------------------------- the figures

def indicators(t: Tables, start: date, end: date, filters=None) -> dict:
    """Every figure of SPEC-indicators for the period [start, end] and the person filters.

    `filters`: an `analytics.indicators.Filters`, or a dict such as {"commune": [...], "prescriber": [...]}."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    chosen = {attr: _values(filters, attr) for attr in FILTER_COLUMNS}

    # persons selected by the filters; appointments and immersions follow their person
    p = t.participants
    keep = pd.Series(True, index=p.index)
    for attr, column in FILTER_COLUMNS.items():
        if chosen[attr]:
            keep &= p[column].isin(chosen[attr])
    p = p[keep]

    # populations
    entree, sortie = p["date_entree"], p["date_sortie"]
    is_participant = (entree <= end) & (sortie.isna() | (sortie >= start))
    is_non_entrant = entree.isna() & p["date_prescription"].between(start, end)
    participants = p[is_participant]
    non_entrants = p[is_non_entrant]
    positioned = p[is_participant | is_non_entrant]
    entries = p[entree.between(start, end)]
    exits = p[sortie.between(start, end)]
    active_at_end = participants[participants["date_sortie"].isna() | (participants["date_sortie"] > end)]
    positive_exits = exits[exits["motif_sortie"].isin(POSITIVE)]

    out: dict = {
        "positioned": len(positioned),
        "participants": len(participants),
        "entries": len(entries),
        "exits": len(exits),
        "active_at_end": len(active_at_end),
        "positive_exits": len(positive_exits),
        "not_entered": counts(non_entrants["motif_non_entree"]),
        "prescriber": counts(positioned["prescripteur"]),
        "sex": counts(participants["sexe"]),
        "age_band": counts(pd.cut(participants["age"], AGE_BINS, right=False, labels=AGE_BANDS)),
        "education_level": counts(participants["niveau_formation"].dropna().astype(int).astype(str)),
        "status": counts(participants["statut"]),
        "household": counts(participants["situation_familiale"]),
        "primary_barrier": counts(participants["frein_principal"]),
    }

    # barriers held as primary or secondary, each barrier once per person
    primary = participants[KEY].assign(barrier=participants["frein_principal"])
    secondary = participants[KEY].assign(barrier=participants["freins_secondaires"].str.split("|")).explode("barrier")
    barriers = pd.concat([primary, secondary]).dropna(subset=["barrier"]).drop_duplicates()
    out["barrier_any"] = counts(barriers["barrier"])
    out["commune"] = counts(participants["commune"])
    out["epci"] = counts(participants["epci"])

    # exits
    out["exit_reason"] = counts(exits["motif_sortie"])
    details = exits["detail_sortie"].fillna(NOT_FILLED)
    out["exit_detail"] = {motif: counts(details[exits["motif_sortie"] == motif]) for motif in DETAILED}
    out["positive_exit_rate"] = rate(len(positive_exits), len(exits))

    # monthly caseload ("file active"): each calendar month meeting the period, clipped to it
    monthly = {}
    for month in pd.period_range(start, end, freq="M"):
        first, last = max(month.start_time, start), min(month.end_time.normalize(), end)
        monthly[str(month)] = int(((entree <= last) & (sortie.isna() | (sortie >= first))).sum())
    out["monthly_caseload"] = monthly
    out["average_caseload"] = round(sum(monthly.values()) / len(monthly), 2) if monthly else None
    out["caseload_target"] = caseload_target_for(SimpleNamespace(territory=tuple(chosen["territory"]),
                                                                 action=tuple(chosen["action"])))

    # immersions of the selected persons
    immersions = t.immersions.merge(p[KEY], on=KEY)
    before_exit = immersions.merge(exits[KEY + ["date_sortie"]], on=KEY)
    per_exit = before_exit[before_exit["date_debut"] <= before_exit["date_sortie"]].groupby(KEY).size()
    out["exits_with_immersion"] = int((per_exit >= 1).sum())
    out["exits_with_two_or_more_immersions"] = int((per_exit >= 2).sum())
    in_period = immersions[immersions["date_debut"].between(start, end)]
    out["immersions"] = {"count": len(in_period), "led_to_contract": int(in_period["debouche_contrat"].eq(True).sum())}

    # first appointment
    first = p[p["date_premier_rdv"].between(start, end)]
    delay = (first["date_premier_rdv"] - first["date_prescription"]).dt.days
    if delay.empty:
        out["first_appointment_delay_days"] = {"median": None, "within_7_days_rate": None}
    else:
        median = float(delay.median())
        out["first_appointment_delay_days"] = {"median": int(median) if median.is_integer() else median,
                                               "within_7_days_rate": rate((delay <= 7).sum(), len(delay))}

    # appointments dated in the period, of the selected persons
    # appointments carry their person's key (stores written before it existed: the three key columns)
    on = ["person_key"] if "person_key" in t.rendez_vous.columns and "person_key" in p.columns else KEY
    rdv = t.rendez_vous[t.rendez_vous["date"].between(start, end)].merge(p[on], on=on)
    planned, attended = len(rdv), int((rdv["presence"] == "Présent").sum())
    out["appointments"] = {"planned": planned, "attended": attended, "attendance_rate": rate(attended, planned),
                           "by_modality": counts(rdv["modalite"])}

    collected = t.collected.get("participants", set())
    out["post_exit_follow_up_rate"] = (rate(exits["date_suivi_post_sortie"].notna().sum(), len(exits))
                                       if "date_suivi_post_sortie" in collected else None)
    out["esf"] = esf(entries, exits, collected)

    # v2: "sorties dynamiques" categories
    motif, detail = exits["motif_sortie"], exits["detail_sortie"]
    category = pd.Series("Autre sortie", index=exits.index)
    category[motif == "Formation"] = "Sortie positive"
    category[motif == "Emploi"] = "Emploi non précisé"
    category[(motif == "Emploi") & detail.isin(TRANSITIONAL_JOBS)] = "Emploi de transition"
    category[(motif == "Emploi") & detail.isin(DURABLE_JOBS)] = "Emploi durable"
    out["exit_category"] = counts(category)
    out["time_to_exit"] = time_to_exit(entries, end)
    return out


def time_to_exit(entries: pd.DataFrame, end: pd.Timestamp) -> dict:
    """Kaplan–Meier of the entries of the period, censored at its end, with a pandas group-by."""
    if entries.empty:
        return {"cohort": 0, "events": 0, "median_days": None, "survival": {str(t): None for t in HORIZONS}}
    event = entries["date_sortie"].notna() & (entries["date_sortie"] <= end)
    stop = entries["date_sortie"].where(event, end)
    frame = pd.DataFrame({"days": (stop - entries["date_entree"]).dt.days, "event": event.astype(int)})
    table = frame.groupby("days")["event"].agg(["sum", "size"]).sort_index()
    table["at_risk"] = table["size"][::-1].cumsum()[::-1]
    table = table[table["sum"] > 0]
    table["s"] = (1 - table["sum"] / table["at_risk"]).cumprod()

    def s_at(t: int) -> float:
        before = table[table.index <= t]
        return 1.0 if before.empty else float(before["s"].iloc[-1])

    reached = table[table["s"] <= 0.5 + 1e-9]  # S of exactly one half despite float rounding (as the engine)
    return {"cohort": len(frame), "events": int(frame["event"].sum()),
            "median_days": int(reached.index[0]) if len(reached) else None,
            "survival": {str(t): round(s_at(t), 4) for t in HORIZONS}}


def esf(entries: pd.DataFrame, exits: pd.DataFrame, collected: set[str]) -> dict:
    """ESF+ common indicators by sex; None when the column an indicator needs was never collected."""
    e, x = entries, exits
    situation = e["situation_emploi_entree"]
    table = {
        "EECO01": (e, None, e["id_participant"].notna()),
        "EECO02": (e, "situation_emploi_entree", situation.isin(UNEMPLOYED)),
        "EECO03": (e, "situation_emploi_entree", situation == "Demandeur d'emploi de longue durée"),
        "EECO04": (e, "situation_emploi_entree", situation == "Inactif"),
        "EECO05": (e, "situation_emploi_entree", situation == "En emploi"),
        "EECO06": (e, None, e["age"] < 18),
        "EECO07": (e, None, e["age"].between(18, 29)),
        "EECO08": (e, None, e["age"] >= 55),
        "EECO09": (e, None, e["niveau_formation"].between(1, 2)),
        "EECO10": (e, None, e["niveau_formation"].between(3, 4)),
        "EECO11": (e, None, e["niveau_formation"].between(5, 8)),
        "EECO12": (e, "rqth", e["rqth"].eq(True) | (e["statut"] == "RQTH")),
        "EECR01": (x, None, (x["motif_sortie"] == "Fin de suivi") & x["detail_sortie"].isin(JOB_SEARCH_NEXT_STEPS)),
        "EECR02": (x, None, x["motif_sortie"] == "Formation"),
        "EECR03": (x, "qualification_obtenue", x["qualification_obtenue"].eq(True)),
        "EECR04": (x, None, x["motif_sortie"] == "Emploi"),
        "EECR05": (x, "situation_6_mois", x["situation_6_mois"] == "En emploi"),
    }
    return {code: (None if needed is not None and needed not in collected else by_sex(df, mask))
            for code, (df, needed, mask) in table.items()}


# ---------------------------------------------------------------- comparing with the engine

def _normalised(value):
    """Zero counts may be left out of a {label: count} map (SPEC-indicators); key order does not matter."""
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items() if not (isinstance(v, int) and not isinstance(v, bool) and v == 0)}
    return value


def differences(engine: dict, peer: dict, keys: Iterable[str] | None = None) -> list[str]:
    """One line per figure on which the engine and the peer disagree (or that one of them lacks)."""
    out = []
    for key in keys if keys is not None else peer:
        if key not in peer:
            out.append(f"{key}: not implemented by the pandas peer")
        elif key not in engine:
            out.append(f"{key}: absent from the engine's output")
        elif _normalised(engine[key]) != _normalised(peer[key]):
            out.append(f"{key}: engine {engine[key]!r} != pandas {peer[key]!r}")
    return out


__all__ = ["Tables", "differences", "indicators", "read_tables"]
