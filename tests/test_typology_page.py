"""The Typologie page through AppTest on the reference sample: cards, charts and numbers from the engine, the type
filter bound to the URL and reaching other pages, diffusion mode, and the page on a store without a typology."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analytics.indicators import Filters, Period, compute_indicators
from analytics.store import connect_readonly
from analytics.typology.outcomes import contract


@pytest.fixture(scope="module")
def year(sample_db) -> int:
    """The sample's last complete year (derived from the data, as the dashboard does)."""
    con = connect_readonly(sample_db)
    try:
        first, last = con.execute("SELECT min(date_prescription), max(greatest(date_prescription, coalesce(date_sortie, date_prescription))) FROM participants").fetchone()
    finally:
        con.close()
    return last.year - 1 if last.year > first.year else last.year


@pytest.fixture(scope="module")
def expected(sample_db, year):
    con = connect_readonly(sample_db)
    try:
        return contract(con, Period.year(year), Filters())
    finally:
        con.close()


def _charts(at) -> dict[str, dict]:
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def test_typologie_page(app, year, expected):
    at = app("pages/typologie.py", annee=str(year))
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    for t in expected["types"]:
        assert f"Type {t['type']} — {t['label']}" in text
        assert f"{t['n']} participants" in text
    specs = _charts(at)
    assert {"typologie_outcomes", "typologie_map"} <= set(specs)
    # the comparison chart draws the engine's rates and intervals
    trace = specs["typologie_outcomes"]["data"][0]
    rates = dict(zip(trace["y"], trace["x"]))
    for t in expected["types"]:
        assert rates[f"Type {t['type']}"] == t["positive_exit_rate"]
    # the map: a trace per type of persons, and the modalities; axes explained in one line each
    names = [d.get("name", "") for d in specs["typologie_map"]["data"]]
    assert sum(n.startswith("Type ") for n in names) == len(expected["types"])
    assert any(c.value.startswith("Axe 1") for c in at.caption) and any(c.value.startswith("Axe 2") for c in at.caption)
    assert any(("hasard" in i.value) for i in at.info)
    # every section has a definition
    assert sum(1 for m in at.markdown if m.proto.help) >= 1 and all(s.proto.help for s in at.subheader)


def test_typologie_page_shows_exit_categories_and_kaplan_meier_medians(app, sample_db, year):
    from analytics import fmt, typology
    from analytics.indicators import dataset
    from analytics.indicators.exits import EXIT_CATEGORIES
    from analytics.typology.outcomes import exit_categories, outcomes

    con = connect_readonly(sample_db)
    try:
        typ, assign = typology.load(con), typology.assignments(con)
        ds = dataset(con, Period.year(year), Filters())
        frame, cats = outcomes(ds, assign, typ.types), exit_categories(ds, assign, typ.types)
    finally:
        con.close()
    at = app("pages/typologie.py", annee=str(year))
    assert not at.exception, [e.value for e in at.exception]
    # the exit categories table: the engine's counts, the contract's five columns, adding up to each type's exits
    table = next(d.value for d in at.dataframe if "Emploi durable" in d.value.columns)
    assert list(table.columns) == ["Type"] + EXIT_CATEGORIES + ["Sorties"]
    for r in frame.iter_rows(named=True):
        row = table[table["Type"] == f"Type {r['type']}"].iloc[0]
        assert [int(row[k]) for k in EXIT_CATEGORIES] == cats.filter(pl.col("type") == r["type"])["n"].to_list()
        assert int(row["Sorties"]) == r["exits"]
    # each card says its Kaplan–Meier median (or that it is not reached) with the definition
    captions = [c for c in at.caption if "durée médiane de parcours" in c.value.lower()]
    for r in frame.iter_rows(named=True):
        if r["median_days"] is not None:
            assert any(f"{fmt.number(r['median_days'])} jours (Kaplan-Meier, sur {fmt.number(r['cohort'])} entrées" in c.value
                       for c in captions)
        elif r["cohort"]:
            assert any(f"moins de la moitié des {fmt.number(r['cohort'])} entrées" in c.value for c in captions)
    assert captions and all("Kaplan-Meier" in c.proto.help for c in captions)


def test_clicking_a_type_filters_the_whole_dashboard(app, sample_db, year, expected):
    at = app("pages/typologie.py", annee=str(year))
    target = expected["types"][1]
    button = next(b for b in at.button if b.key == f"typo_on_{target['type']}")
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["type"] == [str(target["type"])]
    # the other pages read the filtered engine
    con = connect_readonly(sample_db)
    try:
        filtered = compute_indicators(con, Period.year(year), Filters(typology=(target["type"],)))
    finally:
        con.close()
    assert filtered["participants"] == target["n"]
    at.switch_page("pages/profils.py")
    at.run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Participants"] == str(target["n"])


def test_url_type_opens_the_filtered_view(app, year, expected):
    target = expected["types"][0]
    at = app("pages/vue_ensemble.py", annee=str(year), type=[str(target["type"])])
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["type"] == [str(target["type"])]
    assert any(f"types de public : {target['type']}" in c.value for c in at.caption)


def test_url_type_the_store_does_not_have_is_said_in_one_line(app, year, expected):
    # the line comes from the entry point (sidebar filters), so it shows on whichever page the link opens
    known = [str(t["type"]) for t in expected["types"]]
    missing = str(max(map(int, known)) + 3)
    at = app(annee=str(year), type=[known[0], missing])
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["type"] == [known[0]]  # the known type still filters
    lines = [w.value for w in at.warning if "de l'adresse" in w.value]
    assert lines == [f"Type {missing} de l'adresse inconnu dans la typologie de cette base (types {', '.join(known)}, "
                     "recalculés à chaque import) : filtre ignoré, toutes les personnes sont affichées."]
    # changing the type filter settles it: the line goes away
    at.multiselect(key="type").set_value(known[:2]).run()
    assert not at.exception and at.session_state["type"] == known[:2]
    assert not [w for w in at.warning if "de l'adresse" in w.value]
    # only unknown numbers: nothing is filtered
    at = app(annee=str(year), type=[missing, str(int(missing) + 1)])
    assert at.session_state["type"] == []
    assert [w.value for w in at.warning if "de l'adresse" in w.value][0].startswith(
        f"Types {missing}, {int(missing) + 1} de l'adresse inconnus")


def test_url_type_on_a_store_without_typology_is_said(kit, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = kit.store(tmp_path, [kit.person(f"P{i}", entree="2023-02-01") for i in range(4)])
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60)
    at.query_params["type"] = ["2", "3"]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning if "de l'adresse" in w.value] == [
        "Types 2, 3 de l'adresse ignorés : cette base n'a pas de typologie des publics."]


def test_diffusion_mode_merges_small_types_and_hides_persons(app, year, expected):
    at = app("pages/typologie.py", annee=str(year), diffusion="true")
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    small = [t for t in expected["types"] if 0 < t["n"] < 11]
    for t in small:
        assert f"Type {t['type']} — " not in text
    if small:
        assert "Autres types (moins de 11 personnes chacun)" in text
    names = [d.get("name", "") for d in _charts(at)["typologie_map"]["data"]]
    assert not any(n.startswith("Type ") for n in names)  # no person drawn


def test_page_on_a_store_without_typology(kit, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = kit.store(tmp_path, [kit.person(f"P{i}", entree="2023-02-01") for i in range(4)])
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/typologie.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("moins de 30 personnes" in i.value for i in at.info)
