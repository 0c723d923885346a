"""Activity: first-appointment delay, appointments held, work immersions (PMSMP)."""

from __future__ import annotations

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, counts, rate

c = pl.col


def first_appointment_delays(ds: Dataset) -> pl.Series:
    """Days from prescription to first appointment, for first appointments dated in P."""
    p = ds.period
    df = ds.persons.filter(c("date_premier_rdv").is_between(p.start, p.end))
    return (df["date_premier_rdv"] - df["date_prescription"]).dt.total_days()


def first_appointment_delay_days(ds: Dataset) -> dict:
    d = first_appointment_delays(ds)
    if d.len() == 0:
        return {"median": None, "within_7_days_rate": None}
    median = float(d.median())
    return {"median": int(median) if median.is_integer() else median,
            "within_7_days_rate": rate(int((d <= 7).sum()), d.len())}


def appointments(ds: Dataset) -> dict:
    a = ds.appointments
    planned = int(a["n"].sum()) if a.height else 0
    attended = int(a.filter(c("presence") == "Présent")["n"].sum()) if a.height else 0
    by_mod = a.group_by("modalite").agg(c("n").sum())
    found = dict(zip(by_mod["modalite"].to_list(), by_mod["n"].to_list()))
    by_modality = {m: int(found[m]) for m in S.MODALITIES if found.get(m)}
    return {"planned": planned, "attended": attended, "attendance_rate": rate(attended, planned), "by_modality": by_modality}


def immersions_in_period(ds: Dataset) -> pl.DataFrame:
    p = ds.period
    return ds.immersions.filter(c("date_debut").is_between(p.start, p.end))


def immersions(ds: Dataset) -> dict:
    df = immersions_in_period(ds)
    return {"count": df.height, "led_to_contract": int(df["debouche_contrat"].fill_null(False).sum())}


__all__ = ["appointments", "first_appointment_delay_days", "immersions", "counts"]
