"""The territory: persons per commune and per EPCI, with rates per inhabitant (Territoire page, COPIL pack).

Every count reuses the populations of SPEC-indicators (`populations.participants`, `positioned`, `exits`,
`positive_exits`), grouped by the commune's INSEE code; the reference (`analytics.geo.communes_ref()`)
brings the official name, the EPCI and the population municipale. A person whose commune is outside the
reference (only possible for rows stored before communes were resolved at import) is left out of these tables.
"""

from __future__ import annotations

import polars as pl

from analytics import geo
from analytics.definitions import DEFINITIONS as _DEF
from analytics.indicators.base import Dataset, rate, tally
from analytics.indicators.populations import exits, participants, positioned, positive_exits

c = pl.col
COUNTS = ["positioned", "participants", "exits", "positive_exits"]
COLUMNS = ["code", "commune", "epci", "population", *COUNTS, "per_1000", "positive_exit_rate"]

# The page's labels and tooltips, from the one dictionary of definitions (keys `territory_*`).
DEFINITIONS = {key: (_DEF[f"territory_{key}"].label, _DEF[f"territory_{key}"].text)
               for key in ("map", "participants", "per_1000", "positioned", "positive_exit_rate", "epci",
                           "commune_table", "epci_table")}


def _per_code(df: pl.DataFrame, name: str) -> pl.DataFrame:
    combos = tally(df, "commune", "code_insee")
    return geo.with_code(combos).drop_nulls("code_insee").group_by("code_insee").agg(c("n").sum().cast(pl.Int64).alias(name))


def _rates(df: pl.DataFrame) -> pl.DataFrame:
    per_1000 = pl.when(c("population") > 0).then((c("participants") * 1000 / c("population")).round(2))
    positive = pl.struct("positive_exits", "exits").map_elements(lambda s: rate(s["positive_exits"], s["exits"]),
                                                                 return_dtype=pl.Float64)
    return df.with_columns(per_1000.alias("per_1000"), positive.alias("positive_exit_rate"))


def _counts(ds: Dataset) -> pl.DataFrame:
    """code_insee and the four head counts, for every commune with at least one positioned person."""
    frames = {"positioned": positioned(ds), "participants": participants(ds), "exits": exits(ds),
              "positive_exits": positive_exits(ds)}
    out = _per_code(frames["positioned"], "positioned")
    for name in COUNTS[1:]:
        out = out.join(_per_code(frames[name], name), on="code_insee", how="left")
    return out.with_columns(c(n).fill_null(0).cast(pl.Int64) for n in COUNTS)


def commune_table(ds: Dataset, communes_ref: pl.DataFrame) -> pl.DataFrame:
    """code, commune, epci, population, positioned, participants, exits, positive_exits, per_1000 (participants
    per 1 000 inhabitants), positive_exit_rate — one row per commune with at least one positioned person,
    most participants first."""
    ref = communes_ref.select(c("code_insee"), c("nom").alias("commune"), c("epci_nom").alias("epci"), "population")
    out = _counts(ds).join(ref, on="code_insee", how="inner").rename({"code_insee": "code"})
    return _rates(out).select(COLUMNS).sort(["participants", "positioned", "commune"], descending=[True, True, False])


def epci_table(ds: Dataset, communes_ref: pl.DataFrame) -> pl.DataFrame:
    """epci, communes (with at least one positioned person), population (of all the EPCI's communes), the four head
    counts, per_1000 and positive_exit_rate — one row per EPCI with at least one positioned person."""
    table = commune_table(ds, communes_ref)
    population = communes_ref.group_by(c("epci_nom").alias("epci")).agg(c("population").sum())
    out = (table.group_by("epci").agg(pl.len().alias("communes"), *[c(n).sum() for n in COUNTS])
           .join(population, on="epci", how="left"))
    return _rates(out).select("epci", "communes", "population", *COUNTS, "per_1000", "positive_exit_rate").sort(
        ["participants", "epci"], descending=[True, False])


def map_frame(ds: Dataset, communes_ref: pl.DataFrame) -> pl.DataFrame:
    """Every commune of the EPCIs where the selection has someone (zeros included, so that the map shows the whole
    territory), with the columns of `commune_table` and the centroid (longitude, latitude)."""
    table = commune_table(ds, communes_ref)
    epcis = table["epci"].unique()
    ref = communes_ref.filter(c("epci_nom").is_in(epcis.implode()))
    out = (ref.select(c("code_insee").alias("code"), c("nom").alias("commune"), c("epci_nom").alias("epci"), "population",
                      "longitude", "latitude")
           .join(table.select("code", *COUNTS), on="code", how="left")
           .with_columns(c(n).fill_null(0) for n in COUNTS))
    return _rates(out).select(*COLUMNS, "longitude", "latitude").sort("code")


def meeting_places(communes_ref: pl.DataFrame) -> pl.DataFrame:
    """code, commune, longitude, latitude of the action's meeting places (`geo.MEETING_PLACES`) found in the reference."""
    lk_codes = [geo.resolve(name).code for name in geo.MEETING_PLACES]
    order = {code: i for i, code in enumerate(lk_codes) if code}
    return (communes_ref.filter(c("code_insee").is_in(list(order)))
            .select(c("code_insee").alias("code"), c("nom").alias("commune"), "longitude", "latitude")
            .sort(c("code").replace_strict(order, return_dtype=pl.Int64)))


__all__ = ["COLUMNS", "DEFINITIONS", "commune_table", "epci_table", "map_frame", "meeting_places", "territory_summary"]


def territory_summary(communes: pl.DataFrame, epcis: pl.DataFrame, filters=None) -> dict:
    """The Territoire page's headline: communes and EPCIs with at least one participant, and participants per
    1 000 inhabitants (None without population) of the area the selection covers: the communes chosen by a commune
    filter (one commune: the rate its map tooltip shows), else every commune of the EPCIs concerned. `per_1000_of`
    names that area (« communes choisies » / « EPCI »)."""
    chosen = tuple(getattr(filters, "commune", ()) or ())
    area = communes.filter(c("commune").is_in(list(chosen))) if chosen else epcis
    population = int(area["population"].sum() or 0) if area.height else 0
    participants = int(area["participants"].sum() or 0) if area.height else 0
    return {
        "communes": communes.filter(c("participants") > 0).height,
        "epcis": epcis.filter(c("participants") > 0).height,
        "per_1000": round(participants * 1000 / population, 2) if population else None,
        "per_1000_of": ("commune choisie" if len(chosen) == 1 else "communes choisies") if chosen else "EPCI",
    }
