"""The typology stored with the store: fitted at the end of each import (`refit`, called by `analytics.store` in the
import's transaction) over every person who entered the action, read by every page, filter, report and command
(`load`), so that a person keeps their type whatever the period or the filters.

Tables (all rewritten by each import):
- `typology_persons` (person_key, type): each entered person's type;
- `typology_types` (type, label, n, modalities): modalities is a JSON list of the over-represented modalities,
  strongest first;
- `typology_description` (type, variable, modality, n_type, n_modality, n_both, share_in_type, share_overall,
  test_value): every modality's test value in every type;
- `typology_map_modalities` (variable, modality, n, axis1, axis2) and `typology_map_persons` (person_key, type,
  axis1, axis2; a deterministic sample of at most `MAP_PERSONS` persons): the factor map;
- `typology_meta` (key, value): JSON facts of the fit (axes' inertia, k and its criterion, sample, notes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analytics.typology import model

MAP_PERSONS = 1500
TABLES = ["typology_persons", "typology_types", "typology_description", "typology_map_modalities",
          "typology_map_persons", "typology_meta"]


def _run(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()


def _entered(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    # on `con` itself: inside the import's transaction, a cursor would not see the rows being imported
    return pl.from_arrow(con.sql("""
            SELECT person_key, action || '\x1f' || territoire || '\x1f' || id_participant AS k, sexe, age, niveau_formation,
                   statut, situation_familiale, frein_principal, freins_secondaires
            FROM participants WHERE date_entree IS NOT NULL ORDER BY k""").to_arrow_table())


def refit(con: duckdb.DuckDBPyConnection) -> model.Fit | None:
    """Fit the typology on the store's entered persons and (re)write its tables, on `con` (the import's
    connection, inside its transaction)."""
    started = time.perf_counter()
    persons = _entered(con)
    keys = persons["k"].to_list()
    result = model.fit(keys, persons) if persons.height else None
    for t in TABLES:
        _run(con, f"DROP TABLE IF EXISTS {t}")
    _run(con, "CREATE TABLE typology_meta (key VARCHAR, value VARCHAR)")
    _run(con, "CREATE TABLE typology_persons (person_key BIGINT, type UTINYINT)")
    _run(con, "CREATE TABLE typology_types (type UTINYINT, label VARCHAR, n BIGINT, modalities VARCHAR)")
    if result is None:
        _run(con, "INSERT INTO typology_meta VALUES ('status', ?)", [json.dumps(
            f"Typologie non calculée : moins de {model.MIN_PERSONS} personnes entrées dans l'action, ou des profils "
            "sans diversité.", ensure_ascii=False)])
        return None
    assign = pl.DataFrame({"person_key": persons["person_key"], "type": pl.Series(result.types, dtype=pl.UInt8)})
    con.register("typology_assign", assign.to_arrow())
    _run(con, "INSERT INTO typology_persons SELECT person_key, type FROM typology_assign ORDER BY person_key")
    con.unregister("typology_assign")
    sizes = assign.group_by("type").len("n")
    types = pl.DataFrame({
        "type": list(result.labels), "label": [result.labels[t] for t in result.labels],
        "modalities": [json.dumps([m for _, m, _ in result.modalities[t]], ensure_ascii=False) for t in result.labels],
    }, schema={"type": pl.UInt8, "label": pl.String, "modalities": pl.String}).join(sizes, on="type").select(
        "type", "label", "n", "modalities").sort("type")
    con.register("typology_types_new", types.to_arrow())
    _run(con, "INSERT INTO typology_types SELECT type, label, n::BIGINT, modalities FROM typology_types_new")
    con.unregister("typology_types_new")
    for name, frame in (("typology_description", result.description), ("typology_map_modalities", result.column_coords)):
        con.register(f"{name}_new", frame.to_arrow())
        _run(con, f"CREATE TABLE {name} AS SELECT * FROM {name}_new")
        con.unregister(f"{name}_new")
    order = (result.order if result.order is not None else model.stable_order(keys))[:MAP_PERSONS]
    order = np.sort(order)
    sample = pl.DataFrame({"person_key": persons["person_key"].gather(order),
                           "type": pl.Series(result.types[order], dtype=pl.UInt8),
                           "axis1": result.row_coords[order, 0], "axis2": result.row_coords[order, 1]})
    con.register("typology_map_new", sample.to_arrow())
    _run(con, "CREATE TABLE typology_map_persons AS SELECT * FROM typology_map_new")
    con.unregister("typology_map_new")
    meta = {"status": "ok", "k": result.k, "n": persons.height, "n_fit": result.n_fit, "sampled": result.sampled,
            "n_axes": result.n_axes, "eigenvalues": result.eigenvalues, "inertia_share": result.inertia_share,
            "criterion": {str(k): v for k, v in result.criterion.items()}, "notes": result.notes,
            "method": "ACM (prince) + CAH de Ward (scipy), consolidation au centre le plus proche",
            "seconds": round(time.perf_counter() - started, 2)}  # the fit's time, for bench/RESULTS.md
    for key, value in meta.items():
        _run(con, "INSERT INTO typology_meta VALUES (?, ?)", [key, json.dumps(value, ensure_ascii=False)])
    return result


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Typology:
    """The stored typology, as every reader sees it."""

    types: pl.DataFrame  # type, label, n (over the whole store), modalities (list of strings)
    description: pl.DataFrame
    map_modalities: pl.DataFrame
    map_persons: pl.DataFrame
    meta: dict

    @property
    def available(self) -> bool:
        return not self.types.is_empty()

    @property
    def message(self) -> str:
        status = self.meta.get("status")
        if status and status != "ok":
            return status
        return ("La typologie n'a pas encore été calculée pour cette base : elle l'est à chaque import. "
                "Réimportez le dernier extrait (page Données) pour la calculer.")


def _q(con, sql: str, params: list | None = None) -> pl.DataFrame:
    from analytics.store import query

    return query(con, sql, params)


def stored(con: duckdb.DuckDBPyConnection) -> bool:
    found = _q(con, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('typology_persons', 'typology_types')")
    return bool(found["n"][0] == 2)


def load(con: duckdb.DuckDBPyConnection) -> Typology:
    """The stored typology (an empty one, with a message, for a store written before it existed)."""
    empty = pl.DataFrame(schema={"type": pl.Int64, "label": pl.String, "n": pl.Int64, "modalities": pl.List(pl.String)})
    if not stored(con):
        return Typology(empty, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), {})
    meta = {k: json.loads(v) for k, v in _q(con, "SELECT key, value FROM typology_meta").iter_rows()}
    types = _q(con, "SELECT type::BIGINT AS type, label, n, modalities FROM typology_types ORDER BY type")
    if types.is_empty():
        return Typology(empty, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), meta)
    types = types.with_columns(pl.col("modalities").str.json_decode(pl.List(pl.String)))
    description = _q(con, "SELECT * REPLACE (type::BIGINT AS type) FROM typology_description ORDER BY type, test_value DESC, variable, modality")
    mods = _q(con, "SELECT * FROM typology_map_modalities ORDER BY variable, modality")
    persons = _q(con, "SELECT person_key, type::BIGINT AS type, axis1, axis2 FROM typology_map_persons ORDER BY person_key")
    return Typology(types, description, mods, persons, meta)


def assignments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """pid, type: every entered person's type (empty without a stored typology)."""
    if not stored(con):
        return pl.DataFrame(schema={"pid": pl.Int64, "type": pl.Int64})
    return _q(con, "SELECT person_key AS pid, type::BIGINT AS type FROM typology_persons")


def axis_sentences(typology: Typology, n_modalities: int = 3) -> list[str]:
    """One line per axis of the factor map: the modalities that pull it most to each side (by coordinate ×
    weight, i.e. their contribution's sign and size), with the share of the inertia it carries."""
    mods = typology.map_modalities
    if mods.is_empty():
        return []
    shares = typology.meta.get("inertia_share") or [None, None]
    out = []
    for i, axis in enumerate(("axis1", "axis2")):
        weighted = mods.with_columns((pl.col(axis) ** 2 * pl.col("n")).alias("w"))
        neg = weighted.filter(pl.col(axis) < 0).sort("w", descending=True).head(n_modalities)["modality"].to_list()
        pos = weighted.filter(pl.col(axis) > 0).sort("w", descending=True).head(n_modalities)["modality"].to_list()
        share = shares[i] if i < len(shares) else None
        carried = "" if share is None else f" ({share * 100:.1f} % de l'inertie)".replace(".", ",")
        side = ("à gauche", "à droite") if i == 0 else ("en bas", "en haut")
        out.append(f"Axe {i + 1}{carried} : oppose {', '.join(f'« {m} »' for m in neg)} ({side[0]}) "
                   f"à {', '.join(f'« {m} »' for m in pos)} ({side[1]}).")
    return out


def strongest(typology: Typology, t: int, n: int = 5) -> pl.DataFrame:
    """The `n` over-represented modalities of type `t`, strongest first: variable (French name), modality,
    test_value, share_in_type, share_overall."""
    desc = typology.description
    if desc.is_empty():
        return pl.DataFrame()
    return (desc.filter((pl.col("type") == t) & (pl.col("test_value") >= model.TEST_VALUE_THRESHOLD)).head(n)
            .with_columns(pl.col("variable").replace_strict(model.VARIABLES, default=pl.col("variable")))
            .select("variable", "modality", "test_value", "share_in_type", "share_overall"))
