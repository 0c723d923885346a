"""Activity: first-appointment delay, appointments held, work immersions (PMSMP)."""

from __future__ import annotations

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, counts, rate

c = pl.col


def _delays(ds: Dataset) -> pl.LazyFrame:
    """delay: days from prescription to first appointment, for the first appointments dated in P."""
    p = ds.period
    return (ds.persons.lazy().filter(c("date_premier_rdv").is_between(p.start, p.end))
            .select((c("date_premier_rdv") - c("date_prescription")).dt.total_days().alias("delay")))


def first_appointment_delays(ds: Dataset) -> pl.Series:
    """Days from prescription to first appointment, for first appointments dated in P."""
    return _delays(ds).collect()["delay"]


def first_appointment_delay_days(ds: Dataset) -> dict:
    """The median delay and the share within 7 days (aggregated in the query, no delay is materialised)."""
    d = c("delay")
    n, median, within = _delays(ds).select(pl.len(), d.median().alias("median"), (d <= 7).sum().alias("within")).collect().row(0)
    if n == 0:
        return {"median": None, "within_7_days_rate": None}
    median = float(median)
    return {"median": int(median) if median.is_integer() else median, "within_7_days_rate": rate(int(within), n)}


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


# ---------------------------------------------------------------- series drawn by the Activité page

DELAY_BUCKETS = ["7 jours ou moins", "8 à 15 jours", "16 à 30 jours", "Plus de 30 jours"]
NOT_FILLED = "Non renseigné"


def appointments_by_month(ds: Dataset) -> pl.DataFrame:
    """month, modalite, n, planned, attended, attendance_rate: appointments of each month of P by modality.

    `n` counts the appointments of the (month, modality); `planned`, `attended` and `attendance_rate`
    (attended / planned, as in `appointments`) are the month's, repeated on each of its rows.
    Only the (month, modality) pairs holding appointments are present.
    """
    a = ds.appointments
    month = a.group_by("month").agg(c("n").sum().alias("planned"),
                                    c("n").filter(c("presence") == "Présent").sum().alias("attended"))
    month = month.with_columns(pl.Series("attendance_rate", [rate(int(x), int(y)) for x, y in
                                                             zip(month["attended"], month["planned"])], pl.Float64))
    order = {m: i for i, m in enumerate(S.MODALITIES)}
    return (a.group_by("month", "modalite").agg(c("n").sum())
            .join(month, on="month", how="left")
            .with_columns(c("n", "planned", "attended").cast(pl.Int64))
            .sort("month", c("modalite").replace_strict(order, default=len(order), return_dtype=pl.Int64), "modalite")
            .select("month", "modalite", "n", "planned", "attended", "attendance_rate"))


def first_appointment_delay_buckets(ds: Dataset) -> pl.DataFrame:
    """bucket, n, share: first appointments of P by delay since prescription (≤ 7, 8–15, 16–30, > 30 days).

    The four buckets are always present (zero counts included); `share` is None when there is no
    first appointment in P.
    """
    d = first_appointment_delays(ds)
    n = [int((d <= 7).sum()), int(d.is_between(8, 15).sum()), int(d.is_between(16, 30).sum()), int((d > 30).sum())]
    return pl.DataFrame({"bucket": DELAY_BUCKETS, "n": n, "share": [rate(k, d.len()) for k in n]},
                        schema={"bucket": pl.String, "n": pl.Int64, "share": pl.Float64})


def immersion_outcomes(ds: Dataset) -> pl.DataFrame:
    """secteur, debouche_contrat, n: immersions started in P by sector and whether they led to a contract.

    An empty sector is `Non renseigné`; `debouche_contrat` stays null when it was not filled (the
    `immersions` figure counts those as not led to a contract). Sectors by decreasing count.
    """
    df = immersions_in_period(ds).with_columns(c("secteur").fill_null(NOT_FILLED))
    out = df.group_by("secteur", "debouche_contrat").len("n").with_columns(c("n").cast(pl.Int64))
    total = out.group_by("secteur").agg(c("n").sum().alias("total"))
    return (out.join(total, on="secteur").sort(c("total"), c("secteur"), c("debouche_contrat"), descending=[True, False, True],
                                               nulls_last=True)
            .select("secteur", "debouche_contrat", "n"))


__all__ = ["DELAY_BUCKETS", "appointments", "appointments_by_month", "first_appointment_delay_buckets",
           "first_appointment_delay_days", "first_appointment_delays", "immersion_outcomes", "immersions",
           "immersions_in_period", "counts"]


def appointments_by_month_presence(ds: Dataset) -> pl.DataFrame:
    """month, held, missed, excused, unexcused: appointments of every month of P by presence (zeros included).

    `held` counts « Présent » (the `attended` of `appointments`), `missed` the absences, split into
    « Absent excusé » (`excused`) and « Absent non excusé » (`unexcused`): the monthly tracking table's columns.
    """
    months = pl.DataFrame({"month": [m for m, _, _ in ds.period.months()]}, schema={"month": pl.String})
    present, excused, unexcused = S.PRESENCE
    by_month = ds.appointments.group_by("month").agg(
        c("n").filter(c("presence") == present).sum().alias("held"),
        c("n").filter(c("presence").is_in([excused, unexcused])).sum().alias("missed"),
        c("n").filter(c("presence") == excused).sum().alias("excused"),
        c("n").filter(c("presence") == unexcused).sum().alias("unexcused"))
    return (months.join(by_month, on="month", how="left", maintain_order="left")
            .with_columns(pl.exclude("month").fill_null(0).cast(pl.Int64)))
