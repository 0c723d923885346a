"""What works for whom: the outcomes of each type of the publics over a period (SPEC-indicators v2, « Typology of
the publics »). Each figure here is computed once and read by the page, the reports and `coaching typology`.

Definitions (also in `analytics.definitions`):
- size: participants of the period of the type (their `n` add up to `participants`), share: of the participants;
- positive exit rate: positive exits / exits of the type in the period (4 decimals, None without exits), with its
  95 % Wilson score interval (`scipy.stats.binomtest(...).proportion_ci(method="wilson")`);
- exit categories: the exits of the type in P by the contract's five categories (SPEC v2 `exit_category`),
  counted by the engine's own `analytics.indicators.exits.exit_category` on the type's persons (`exit_categories`);
  they add up to the type's exits; the exits by `motif_sortie` (`exits_by_reason`) are the detail;
- median time in the programme: the Kaplan–Meier median of the contract (`time_to_exit.median_days`), computed by
  the engine's `analytics.indicators.survival.time_to_exit` on the type's entries of P (still in at the end of P:
  censored); `cohort` and `events` are that estimate's entries and exits, the median is None when fewer than half of
  them left (S never reaches 0.5);
- attendance rate: appointments `Présent` / appointments dated in P of the persons of the type;
- the differences between types are « within chance » when a chi-square test of independence between type and
  positive / other exit (exits of P) gives p ≥ 0.05, or when there are too few exits to test it.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, Filters, Period, person_key
from analytics.indicators.exits import EXIT_CATEGORIES, exit_category
from analytics.indicators.populations import exits, participants
from analytics.indicators.survival import time_to_exit

c = pl.col
ALPHA = 0.05


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a share (None when n = 0)."""
    if not n:
        return None
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return round(float(ci.low), 4), round(float(ci.high), 4)


def _typed(frame: pl.DataFrame, assign: pl.DataFrame) -> pl.DataFrame:
    """`frame` (persons of a Dataset) with each person's `type` (null for a person without one)."""
    key = person_key(frame)
    if key != ["pid"]:  # a hand-built Dataset: no store key, no type
        return frame.with_columns(pl.lit(None, pl.Int64).alias("type"))
    return frame.join(assign.select("pid", "type"), on="pid", how="left", maintain_order="left")


def exit_reasons(exits_typed: pl.DataFrame) -> pl.DataFrame:
    """type, motif_sortie, n: the exits of each type by reason (the detail of `exit_categories`)."""
    return (exits_typed.group_by("type", c("motif_sortie").cast(pl.String)).len("n")
            .sort("type", "n", descending=[False, True]))


def _of_type(ds: Dataset, typed: pl.DataFrame, t: int) -> Dataset:
    """`ds` restricted to the persons of type `t` (`typed`: `ds.persons` with their type), so that a person-level
    figure of the engine (`exit_category`, `time_to_exit`) is computed on the type by the engine's own function.
    Only for those figures: the appointments and immersions of the selection are not split by type here (empty)."""
    return Dataset(period=ds.period, filters=ds.filters, persons=typed.filter(c("type") == t).drop("type"),
                   immersions=ds.immersions.clear(), appointments=ds.appointments.clear(), collected=ds.collected)


def _per_type(ds: Dataset, assign: pl.DataFrame, types: pl.DataFrame) -> dict[int, Dataset]:
    """{type: `ds` restricted to the type} for every stored type."""
    typed = _typed(ds.persons, assign)
    return {int(t): _of_type(ds, typed, int(t)) for t in types["type"].to_list()}


def exit_categories(ds: Dataset, assign: pl.DataFrame, types: pl.DataFrame) -> pl.DataFrame:
    """type, category, n: the exits of P of each stored type by the contract's exit category (SPEC v2
    `exit_category`, the engine's `exit_category` on the type's persons), the five categories in the contract order,
    zeros included; a type's rows add up to its `exits` in `outcomes`."""
    rows = [(t, category, int(exit_category(sub).get(category, 0)))
            for t, sub in _per_type(ds, assign, types).items() for category in EXIT_CATEGORIES]
    return pl.DataFrame(rows, schema={"type": pl.Int64, "category": pl.String, "n": pl.Int64}, orient="row")


def outcomes(ds: Dataset, assign: pl.DataFrame, types: pl.DataFrame) -> pl.DataFrame:
    """One row per type (all the stored types, zeros included): type, label, n, share, exits, positive_exits,
    positive_exit_rate, low, high, cohort, events, median_days (Kaplan–Meier, `time_to_exit` of the type's entries)."""
    people = _typed(participants(ds), assign)
    out = _typed(exits(ds), assign).with_columns(
        c("motif_sortie").cast(pl.String).is_in(S.POSITIVE_EXIT_REASONS).alias("positive"))
    total = people.height
    sizes = people.group_by("type").len("n")
    by_exit = out.group_by("type").agg(pl.len().alias("exits"), c("positive").sum().alias("positive_exits"))
    frame = (types.select(c("type").cast(pl.Int64), "label")
             .join(sizes, on="type", how="left").join(by_exit, on="type", how="left")
             .with_columns(c("n", "exits", "positive_exits").fill_null(0).cast(pl.Int64)))
    stays = {t: time_to_exit(sub) for t, sub in _per_type(ds, assign, types).items()}
    rows = []
    for r in frame.iter_rows(named=True):
        ci = wilson(r["positive_exits"], r["exits"])
        stay = stays.get(r["type"]) or {}
        rows.append({**r, "share": round(r["n"] / total, 4) if total else None,
                     "positive_exit_rate": round(r["positive_exits"] / r["exits"], 4) if r["exits"] else None,
                     "low": ci[0] if ci else None, "high": ci[1] if ci else None,
                     "cohort": stay.get("cohort", 0), "events": stay.get("events", 0),
                     "median_days": stay.get("median_days")})
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA) if rows else pl.DataFrame(schema=OUTCOME_SCHEMA)


OUTCOME_SCHEMA = {"type": pl.Int64, "label": pl.String, "n": pl.Int64, "share": pl.Float64, "exits": pl.Int64,
                  "positive_exits": pl.Int64, "positive_exit_rate": pl.Float64, "low": pl.Float64, "high": pl.Float64,
                  "cohort": pl.Int64, "events": pl.Int64, "median_days": pl.Int64}


def exits_by_reason(ds: Dataset, assign: pl.DataFrame) -> pl.DataFrame:
    return exit_reasons(_typed(exits(ds), assign).drop_nulls("type"))


def attendance(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters) -> pl.DataFrame:
    """type, planned, attended, attendance_rate: the appointments dated in P of the selected persons, per type."""
    from analytics.store import query
    from analytics.typology.storage import stored

    schema = {"type": pl.Int64, "planned": pl.Int64, "attended": pl.Int64, "attendance_rate": pl.Float64}
    if not stored(con):
        return pl.DataFrame(schema=schema)
    where, params = filters.sql("p")
    found = query(con, f"""
        SELECT t.type::BIGINT AS type, count(*)::BIGINT AS planned,
               count(*) FILTER (WHERE r.presence = 'Présent')::BIGINT AS attended
        FROM rendez_vous r JOIN typology_persons t ON t.person_key = r.person_key
        JOIN participants p ON p.person_key = r.person_key
        WHERE r.date BETWEEN ? AND ? AND {where} GROUP BY ALL ORDER BY type""", [period.start, period.end] + params)
    return found.with_columns((c("attended") / c("planned")).round(4).alias("attendance_rate")).cast(schema)


def chance(frame: pl.DataFrame) -> dict:
    """Whether the positive exit rates of the types differ more than chance would: a chi-square test of
    independence (scipy) on the types having exits. {"p_value": p or None, "within_chance": bool, "sentence": …}."""
    from scipy.stats import chi2_contingency

    rows = frame.filter(c("exits") > 0)
    if rows.height < 2 or rows["exits"].sum() < 20:
        return {"p_value": None, "within_chance": True,
                "sentence": "Trop peu de sorties sur la période pour comparer les types : les écarts de taux de "
                            "sorties positives peuvent relever du hasard."}
    table = [[r["positive_exits"], r["exits"] - r["positive_exits"]] for r in rows.iter_rows(named=True)]
    if all(pos == 0 for pos, _ in table) or all(other == 0 for _, other in table):
        return {"p_value": 1.0, "within_chance": True,
                "sentence": "Tous les types ont le même taux de sorties positives sur la période."}
    p = float(chi2_contingency(table).pvalue)
    shown = f"{p:.3f}".replace(".", ",") if p >= 0.001 else "< 0,001"
    if p >= ALPHA:
        return {"p_value": round(p, 4), "within_chance": True,
                "sentence": f"Les écarts de taux de sorties positives entre types restent dans les limites du hasard "
                            f"(test du khi-deux, p = {shown} ≥ 0,05) : ne pas en conclure qu'un type réussit mieux."}
    return {"p_value": round(p, 4), "within_chance": False,
            "sentence": f"Les taux de sorties positives diffèrent entre types au-delà du hasard (test du khi-deux, "
                        f"p = {shown} < 0,05) ; les intervalles montrent lesquels s'écartent."}


def by_year(con: duckdb.DuckDBPyConnection, years: list[int], filters: Filters, assign: pl.DataFrame,
            types: pl.DataFrame) -> pl.DataFrame:
    """The outcomes of each type for each calendar year (the convention's years): `outcomes` per year, with `year`."""
    from analytics.indicators import dataset

    frames = [outcomes(dataset(con, Period.year(y), filters), assign, types).with_columns(pl.lit(y).alias("year"))
              for y in years]
    return pl.concat(frames) if frames else pl.DataFrame()


# ---------------------------------------------------------------- diffusion


def suppress(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """The outcome frame for diffusion outside the association (`analytics.diffusion`): the types of fewer than k
    participants are merged into one row « Autres types » (type 0), then the counts are masked like every table
    (primary and secondary suppression, null where masked), and a rate or interval whose counts are masked or small
    is masked too (null). The Kaplan–Meier `cohort` and `events` are not published (null); the median is shown only
    when the type's cohort of entries has at least k persons (the engine's rule for `time_to_exit`)."""
    from analytics.diffusion import mask_frame, rate_masked

    small = frame.filter((c("n") > 0) & (c("n") < k))
    kept = frame.filter(~((c("n") > 0) & (c("n") < k)))
    if small.height:
        merged = pl.DataFrame([{
            "type": 0, "label": f"Autres types (moins de {k} personnes chacun)", "n": int(small["n"].sum()),
            "share": None, "exits": int(small["exits"].sum()), "positive_exits": int(small["positive_exits"].sum()),
            "positive_exit_rate": None, "low": None, "high": None, "cohort": None, "events": None,
            "median_days": None}], schema=frame.schema)
        kept = pl.concat([kept, merged])
    masked = mask_frame(kept, ["n", "exits", "positive_exits"], k, flags=True)
    rows = []
    for r, raw in zip(masked.iter_rows(named=True), kept.iter_rows(named=True)):
        hide_rate = r["exits__masque"] or r["positive_exits__masque"] or rate_masked(raw["positive_exits"], raw["exits"], k)
        rows.append({**{key: r[key] for key in frame.columns},
                     "share": None if r["n__masque"] or r["type"] == 0 else r["share"],
                     **({"positive_exit_rate": None, "low": None, "high": None} if hide_rate else {}),
                     "cohort": None, "events": None,
                     "median_days": None if (raw["cohort"] or 0) < k else r["median_days"]})
    return pl.DataFrame(rows, schema=frame.schema)


# ---------------------------------------------------------------- the command line contract


def contract(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, persons: bool = False,
             suppress_k: int | None = None) -> dict:
    """The `coaching typology --json` object (SPEC-indicators v2): the types of the participants of P with their
    positive exit rate and interval, and with `persons` each participant's type."""
    from analytics.indicators import dataset
    from analytics.store import query
    from analytics.typology.storage import assignments, load

    typology = load(con)
    if not typology.available:
        raise ValueError(typology.message)
    ds = dataset(con, period, filters)
    assign = assignments(con)
    frame = outcomes(ds, assign, typology.types)
    if suppress_k:
        frame = suppress(frame, suppress_k)
    mods = dict(zip(typology.types["type"].to_list(), typology.types["modalities"].to_list()))
    out = {"period": period.as_json(), "filters": filters.as_json(),
           "types": [{"type": r["type"], "label": r["label"], "modalities": mods.get(r["type"], []), "n": r["n"],
                      "positive_exit_rate": r["positive_exit_rate"],
                      "interval": None if r["low"] is None else [r["low"], r["high"]]}
                     for r in frame.iter_rows(named=True)],
           "chance": chance(frame if not suppress_k else outcomes(ds, assign, typology.types))["sentence"]}
    if suppress_k:
        out["diffusion"] = {"k": suppress_k}
    if persons:
        if suppress_k:
            raise ValueError("--persons donne une ligne par personne : impossible avec --suppress (secret statistique)")
        pids = participants(ds)["pid"].to_list()
        found = query(con, """SELECT p.id_participant, t.type::BIGINT AS type
                              FROM (SELECT unnest(?::BIGINT[]) AS pid) q
                              JOIN typology_persons t ON t.person_key = q.pid
                              JOIN participants p ON p.person_key = q.pid ORDER BY p.id_participant""", [pids])
        out["persons"] = dict(zip(found["id_participant"].to_list(), found["type"].to_list()))
    return out


def suppress_years(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """`by_year`'s frame for diffusion: `suppress` applied to each year."""
    parts = [suppress(frame.filter(c("year") == y).drop("year"), k).with_columns(pl.lit(y).alias("year"))
             for y in frame["year"].unique().sort().to_list()]
    return pl.concat(parts) if parts else frame


def report_view(typology, assign: pl.DataFrame, ds: Dataset, suppress_k: int | None = None) -> dict:
    """What the COPIL slide and the PDF pack show of the typology: {"available", "message", "frame" (suppressed
    when `suppress_k`), "sentence"}."""
    if typology is None or not typology.available:
        return {"available": False, "message": typology.message if typology is not None else "Aucune base.",
                "frame": None, "sentence": ""}
    raw = outcomes(ds, assign, typology.types)
    return {"available": True, "message": "", "frame": suppress(raw, suppress_k) if suppress_k else raw,
            "sentence": chance(raw)["sentence"]}
