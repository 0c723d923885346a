"""The typology of the publics (analytics/typology): test values checked by hand, recovery of planted profiles
(adjusted Rand index), determinism, and the tables written by each import."""

from __future__ import annotations

import math
import random

import numpy as np
import polars as pl
import pytest
from scipy.stats import hypergeom

from analytics import schema as S
from analytics.typology import model

# Four planted profiles: (sexe, age, niveau_formation, statut, situation_familiale, frein_principal, freins_secondaires)
PLANTED = [
    ("Femme", 32, 3, "RSA", "Seul(e) avec enfant(s)", "Garde d'enfants", "Mobilité"),
    ("Homme", 21, 1, "ASE", "Seul(e) sans enfant", "Mobilité", ""),
    ("Homme", 58, 4, "RQTH", "Couple sans enfant", "Santé", "Handicap|Numérique|Logement"),
    ("Femme", 45, 6, "Autre", "Couple avec enfant(s)", "Aucun", ""),
]
AGES = [19, 30, 47, 60]
SECONDARY = ["", "Mobilité", "Handicap|Numérique|Logement", "Santé|Logement"]


def planted(n_per_profile: int, keep: float, seed: int) -> tuple[pl.DataFrame, list[int]]:
    """Persons drawn from the planted profiles: each attribute is the profile's with probability `keep`, else
    drawn uniformly from the variable's values."""
    rng = random.Random(seed)
    choices = [S.SEX, AGES, list(range(1, 9)), S.STATUS, S.HOUSEHOLD, S.BARRIERS, SECONDARY]
    rows, truth = [], []
    for p, prof in enumerate(PLANTED):
        for _ in range(n_per_profile):
            rows.append(tuple(v if rng.random() < keep else rng.choice(choices[j]) for j, v in enumerate(prof)))
            truth.append(p)
    order = list(range(len(rows)))
    rng.shuffle(order)
    names = ["sexe", "age", "niveau_formation", "statut", "situation_familiale", "frein_principal", "freins_secondaires"]
    frame = pl.DataFrame([rows[i] for i in order], schema=names, orient="row")
    return frame, [truth[i] for i in order]


def test_test_values_by_hand():
    # 6 persons, 2 types of 3; « Femme » is held by 4 persons, all 3 of type 1 and 1 of type 2
    prof = pl.DataFrame({v: ["x"] * 6 for v in model.VARIABLES}).with_columns(
        pl.Series("sexe", ["Femme", "Femme", "Femme", "Femme", "Homme", "Homme"]))
    tv = model.test_values(prof, np.array([1, 1, 1, 2, 2, 2]))
    row = tv.filter((pl.col("type") == 1) & (pl.col("modality") == "Femme")).row(0, named=True)
    # by hand: expected 3·4/6 = 2, variance 3·(6−3)/(6−1)·(4/6)·(2/6) = 0.4, v = (3 − 2)/√0.4
    assert row["test_value"] == pytest.approx(1 / math.sqrt(0.4))
    assert row["test_value"] == pytest.approx(1.5811, abs=1e-4)
    # the same from the hypergeometric law itself (scipy): M = 6 persons, 4 « Femme », 3 drawn
    law = hypergeom(6, 4, 3)
    assert row["test_value"] == pytest.approx((3 - law.mean()) / math.sqrt(law.var()))
    homme2 = tv.filter((pl.col("type") == 2) & (pl.col("modality") == "Homme")).row(0, named=True)
    assert homme2["n_both"] == 2 and homme2["share_in_type"] == pytest.approx(2 / 3)
    assert homme2["test_value"] == pytest.approx((2 - hypergeom(6, 2, 3).mean()) / math.sqrt(hypergeom(6, 2, 3).var()))
    # a modality everybody holds has no variance: test value 0
    assert tv.filter(pl.col("variable") == "statut")["test_value"].to_list() == [0.0, 0.0]


def test_profile_variables():
    frame = pl.DataFrame({"sexe": ["Femme", None], "age": [24, 55], "niveau_formation": [2, 7], "statut": ["RSA", "RQTH"],
                          "situation_familiale": ["Couple sans enfant", None], "frein_principal": ["Aucun", "Santé"],
                          "freins_secondaires": [None, "Handicap|Santé|Logement"]})
    prof = model.profile(frame)
    assert prof.row(0) == ("Femme", "Moins de 25 ans", "Niveau 1-2 (infra CAP)", "RSA", "Couple sans enfant", "Aucun",
                           "Aucun frein")
    assert prof.row(1) == ("Non renseigné", "Plus de 55 ans", model.EDUCATION_HIGH, "RQTH", "Non renseigné", "Santé",
                           "Trois freins ou plus")  # Santé, Handicap, Logement: Santé counted once


def test_label_reads_french():
    assert model.label([("frein_principal", "Garde d'enfants"), ("sexe", "Femme"), ("situation_familiale", "Seul(e) avec enfant(s)"),
                        ("education", "Niveau 3 (CAP/BEP)")]) == "Femmes seules avec enfant(s), niveau CAP/BEP, frein garde d'enfants"
    assert model.label([("sexe", "Homme"), ("age_band", "Moins de 25 ans"), ("situation_familiale", "Seul(e) sans enfant")]) == \
        "Hommes seuls sans enfant, de moins de 25 ans"
    assert model.label([]) == "Profils variés"


@pytest.mark.parametrize("keep", [0.85, 0.7])
def test_planted_profiles_are_recovered(keep):
    from sklearn.metrics import adjusted_rand_score

    frame, truth = planted(150, keep, seed=7)
    keys = [f"P{i}" for i in range(frame.height)]
    fit = model.fit(keys, frame)
    ari = adjusted_rand_score(truth, fit.types)
    assert model.adjusted_rand_index(truth, fit.types) == pytest.approx(ari)
    print(f"keep={keep}: k={fit.k}, ARI={ari:.3f}")
    assert fit.k == 4 if keep == 0.85 else 3 <= fit.k <= 6
    assert ari >= (0.9 if keep == 0.85 else 0.75)
    # each planted profile's strongest modalities describe the type that holds most of it
    if keep == 0.85:
        for p, prof in enumerate(PLANTED):
            t = np.bincount(fit.types[np.array(truth) == p]).argmax()
            assert prof[4] in [m for _, m, _ in fit.modalities[t]]


def test_fit_on_a_sample_beyond_the_limit_still_recovers():
    from sklearn.metrics import adjusted_rand_score

    frame, truth = planted(300, 0.85, seed=3)
    fit = model.fit([f"P{i}" for i in range(frame.height)], frame, fit_sample=400)
    assert fit.sampled and fit.n_fit == 400 and len(fit.types) == frame.height
    ari = adjusted_rand_score(truth, fit.types)
    print(f"sampled fit (400 of {frame.height}): ARI={ari:.3f}")
    assert ari >= 0.9


def test_deterministic_whatever_the_row_order():
    frame, _ = planted(100, 0.8, seed=11)
    keys = [f"P{i:04d}" for i in range(frame.height)]
    a = model.fit(keys, frame)
    perm = np.random.default_rng(5).permutation(frame.height)
    b = model.fit([keys[i] for i in perm], frame[perm])
    assert dict(zip(keys, a.types.tolist())) == dict(zip([keys[i] for i in perm], b.types.tolist()))
    assert a.labels == b.labels
    # sizes add up, numbered by decreasing size
    sizes = np.bincount(a.types)[1:]
    assert sizes.sum() == frame.height and list(sizes) == sorted(sizes, reverse=True)


def test_too_few_persons_gives_no_typology():
    frame, _ = planted(5, 0.9, seed=1)
    assert model.fit([f"P{i}" for i in range(frame.height)], frame) is None


def planted_rows(kit, n_per_profile: int = 40, keep: float = 0.85, seed: int = 2) -> tuple[list[dict], dict[str, int]]:
    frame, truth = planted(n_per_profile, keep, seed)
    rows, planted_of = [], {}
    for i, r in enumerate(frame.iter_rows(named=True)):
        pid = f"T{i:04d}"
        year = 2022 + i % 3  # entries spread over three years
        rows.append(kit.person(pid, entree=f"{year}-0{1 + i % 9}-10", presc=f"{year}-01-02",
                               **{k: ("" if v is None else v) for k, v in r.items()}))
        planted_of[pid] = truth[i]
    rows.append(kit.person("NE1"))  # a non-entrant: no type
    return rows, planted_of


def test_each_import_stores_the_same_typology(kit, tmp_path):
    import duckdb
    from sklearn.metrics import adjusted_rand_score

    rows, truth = planted_rows(kit)
    a = kit.store(tmp_path, rows, name="a")
    b = kit.store(tmp_path, list(reversed(rows)), name="b")
    types = {}
    for db in (a, b):
        con = duckdb.connect(str(db), read_only=True)
        types[db] = dict(con.execute("""SELECT p.id_participant, t.type FROM typology_persons t
                                        JOIN participants p USING (person_key)""").fetchall())
        stored = con.execute("SELECT type, label, n FROM typology_types ORDER BY type").fetchall()
        # sizes add up to the persons who entered; the non-entrant has no type
        assert sum(n for _, _, n in stored) == len(truth) and "NE1" not in types[db]
        assert [n for _, _, n in stored] == sorted((n for _, _, n in stored), reverse=True)
        con.close()
    assert types[a] == types[b]
    ids = sorted(truth)
    assert adjusted_rand_score([truth[i] for i in ids], [types[a][i] for i in ids]) >= 0.9


def test_store_without_enough_persons_says_why(kit, tmp_path):
    from analytics import typology
    from analytics.store import connect_readonly

    db = kit.store(tmp_path, [kit.person(f"P{i}", entree="2023-02-01") for i in range(5)])
    t = typology.load(connect_readonly(db))
    assert not t.available and "moins de 30 personnes" in t.message


# ---------------------------------------------------------------- outcomes, command line, filter


def outcome_rows(kit):
    """The planted persons, with exits in 2023 (positive for profile 0 mostly) and appointments."""
    rows, truth = planted_rows(kit)
    out, rdv = [], []
    for i, r in enumerate(rows):
        if r["id_participant"].startswith("T") and i % 2 == 0:
            prof = truth[r["id_participant"]]
            r = dict(r, date_prescription="2022-01-02", date_entree="2022-06-01", date_sortie="2023-0%d-15" % (1 + i % 9),
                     motif_sortie="Emploi" if (prof == 0 or i % 4 == 0) else "Abandon",
                     detail_sortie="CDI" if (prof == 0 or i % 4 == 0) else None)
            rdv.append({"id_participant": r["id_participant"], "date": "2023-01-05", "modalite": "Physique",
                        "presence": "Présent" if prof == 0 else "Absent non excusé"})
        out.append(r)
    return out, rdv, truth


@pytest.fixture(scope="module")
def outcome_db(tmp_path_factory):
    import coaching_test_helpers as kit

    rows, rdv, truth = outcome_rows(kit)
    return kit.store(tmp_path_factory.mktemp("typ"), rows, rendez_vous=rdv), truth


def _cli(*args) -> tuple[int, dict | str]:
    import contextlib
    import io
    import json

    from analytics.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, (json.loads(out.getvalue()) if code == 0 else err.getvalue())


def test_cli_contract_sizes_add_up_and_types_do_not_depend_on_the_period(outcome_db):
    db, truth = outcome_db
    seen = {}
    for year in (2022, 2023, 2024):
        code, out = _cli("typology", "--db", str(db), "--year", str(year), "--persons", "--json")
        assert code == 0
        _, ind = _cli("indicators", "--db", str(db), "--year", str(year), "--json")
        assert sum(t["n"] for t in out["types"]) == ind["participants"] == len(out["persons"])
        for pid, t in out["persons"].items():
            assert seen.setdefault(pid, t) == t  # a person keeps their type whatever the period
        for t in out["types"]:
            assert set(t) == {"type", "label", "modalities", "n", "positive_exit_rate", "interval"}
            if t["interval"]:
                assert t["interval"][0] <= t["positive_exit_rate"] <= t["interval"][1]
    # a filter selects persons but does not change anybody's type
    code, one = _cli("typology", "--db", str(db), "--year", "2023", "--commune", "Poix-de-Picardie", "--persons", "--json")
    assert all(seen[p] == t for p, t in one["persons"].items())


def test_type_filter_reaches_every_figure(outcome_db):
    db, truth = outcome_db
    _, typ = _cli("typology", "--db", str(db), "--year", "2023", "--persons", "--json")
    for t in typ["types"]:
        code, ind = _cli("indicators", "--db", str(db), "--year", "2023", "--type", str(t["type"]), "--json")
        assert code == 0 and ind["participants"] == t["n"] and ind["filters"]["type"] == [t["type"]]
        members = [p for p, tt in typ["persons"].items() if tt == t["type"]]
        # appointments follow their person: one appointment per planted person who left, in January 2023
        assert ind["appointments"]["planned"] == sum(1 for p in members if int(p[1:]) % 2 == 0)
        if ind["exits"]:
            assert ind["positive_exit_rate"] == t["positive_exit_rate"]
    code, err = _cli("indicators", "--db", str(db), "--year", "2023", "--type", "9", "--json")
    assert code == 2 and "type inconnu" in err


def test_wilson_interval_and_chance_sentence():
    from analytics.typology.outcomes import chance, wilson

    # Wilson 95 % for 8/20, by hand: (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)
    z, n, p = 1.959963984540054, 20, 0.4
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson(8, 20)
    assert low == pytest.approx((centre - half) / (1 + z * z / n), abs=1e-4)
    assert high == pytest.approx((centre + half) / (1 + z * z / n), abs=1e-4)
    assert wilson(0, 0) is None
    same = pl.DataFrame({"exits": [50, 50], "positive_exits": [20, 22]})
    assert chance(same)["within_chance"] and "hasard" in chance(same)["sentence"]
    apart = pl.DataFrame({"exits": [50, 50], "positive_exits": [5, 40]})
    assert not chance(apart)["within_chance"] and chance(apart)["p_value"] < 0.001


def test_outcomes_by_type_match_a_hand_count(outcome_db):
    from analytics import typology
    from analytics.indicators import Filters, Period, dataset
    from analytics.store import connect_readonly
    from analytics.indicators import compute_indicators
    from analytics.typology.outcomes import attendance, outcomes

    db, truth = outcome_db
    con = connect_readonly(db)
    t = typology.load(con)
    assign = typology.assignments(con)
    frame = outcomes(dataset(con, Period.year(2023), Filters()), assign, t.types)
    persons = con.execute("""SELECT p.id_participant, t.type, p.motif_sortie, p.date_sortie - p.date_entree
                             FROM participants p JOIN typology_persons t USING (person_key)
                             WHERE year(p.date_sortie) = 2023""").fetchall()
    for r in frame.iter_rows(named=True):
        mine = [x for x in persons if x[1] == r["type"]]
        assert r["exits"] == len(mine)
        assert r["positive_exits"] == sum(1 for x in mine if x[2] == "Emploi")
        # the Kaplan–Meier median of the type's entries of the period: the engine's `time_to_exit` on its persons
        km = compute_indicators(con, Period.year(2023), Filters(typology=(r["type"],)))["time_to_exit"]
        assert (r["cohort"], r["events"], r["median_days"]) == (km["cohort"], km["events"], km["median_days"])
    att = attendance(con, Period.year(2023), Filters())
    assert att["planned"].sum() == len(persons)
    assert att["attended"].sum() == sum(1 for x in persons if truth[x[0]] == 0)


# ---------------------------------------------------------------- diffusion, reports, presentation


def test_suppress_merges_small_types_and_masks_their_outcomes():
    from analytics.typology.outcomes import suppress

    frame = pl.DataFrame({"type": [1, 2, 3, 4], "label": ["A", "B", "C", "D"], "n": [40, 30, 6, 3], "share": [0.5, 0.38, 0.08, 0.04],
                          "exits": [20, 12, 4, 2], "positive_exits": [9, 6, 1, 2], "positive_exit_rate": [0.45, 0.5, 0.25, 1.0],
                          "low": [0.2] * 4, "high": [0.7] * 4, "cohort": [30, 10, 5, 2], "events": [20, 8, 4, 2],
                          "median_days": [100, 120, 90, 80]})
    out = suppress(frame, 11)
    assert out["type"].to_list() == [1, 2, 0]  # types 3 and 4 (fewer than 11 persons) merged
    merged = out.row(2, named=True)
    assert merged["label"].startswith("Autres types") and merged["n"] is None  # 9 < 11: masked
    # type 1: 9 positive exits of 20 → masked count and rate; type 2: 6 of 12 → masked too (both parts small)
    assert out.row(0, named=True)["positive_exit_rate"] is None and out.row(0, named=True)["low"] is None
    # secondary suppression: with the total shown, the merged 9 would be recovered from 79 − 40 − 30: 30 is masked too
    assert out["n"].to_list() == [40, None, None]
    # the Kaplan–Meier median is shown only on a cohort of at least k entries; cohort and events are not published
    assert out["median_days"].to_list() == [100, None, None]
    assert out["cohort"].null_count() == out["events"].null_count() == 3
    big = suppress(frame.with_columns(pl.Series("positive_exits", [12, 6, 1, 2])).with_columns(
        pl.Series("exits", [30, 12, 4, 2])), 11)
    assert big.row(0, named=True)["positive_exit_rate"] == 0.45  # 12 of 30: nothing small, the rate stays


def test_cli_suppress_and_persons_refused_together(sample_db):
    code, out = _cli("typology", "--db", str(sample_db), "--year", "2023", "--suppress", "11", "--json")
    assert code == 0 and out["diffusion"] == {"k": 11}
    assert all(t["n"] is None or t["n"] >= 11 for t in out["types"])
    code, err = _cli("typology", "--db", str(sample_db), "--year", "2023", "--suppress", "11", "--persons", "--json")
    assert code == 1 and "secret statistique" in err


def test_pdf_pack_has_the_typology_slide(sample_db, tmp_path, monkeypatch):
    import io

    from PIL import Image
    from pypdf import PdfReader

    from analytics.indicators import Filters, Period
    from analytics.reports.pdf import build_pdf
    from analytics.store import connect_readonly

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buf, format="PNG")
    monkeypatch.setattr("analytics.reports.pdf.fig_png", lambda fig, width=900, height=None, scale=2: buf.getvalue())
    con = connect_readonly(sample_db)
    expected = _cli("typology", "--db", str(sample_db), "--year", "2023", "--json")[1]
    for suppress_k in (None, 11):
        out = tmp_path / f"pack-{suppress_k}.pdf"
        build_pdf(con, Period.year(2023), Filters(), out, suppress=suppress_k)
        text = " ".join(p.extract_text() for p in PdfReader(out).pages).replace("\n", " ")
        assert "Typologie des publics : sorties par type" in text
        for t in expected["types"]:
            shown = f"{t['type']}. {t['label'][:20]}" in text
            assert shown == (suppress_k is None or t["n"] >= 11), t
    con.close()


# ---------------------------------------------------------------- exit categories and Kaplan–Meier median, per type

# Three exact profiles (each recovered as one type), 12 persons each; outcomes in 2023 chosen to be counted by hand.
EXACT = {
    "A": dict(sexe="Femme", age=32, niveau_formation=3, statut="RSA", situation_familiale="Seul(e) avec enfant(s)",
              frein_principal="Garde d'enfants", freins_secondaires="Mobilité"),
    "B": dict(sexe="Homme", age=21, niveau_formation=1, statut="ASE", situation_familiale="Seul(e) sans enfant",
              frein_principal="Mobilité", freins_secondaires=""),
    "C": dict(sexe="Homme", age=58, niveau_formation=4, statut="RQTH", situation_familiale="Couple sans enfant",
              frein_principal="Santé", freins_secondaires="Handicap|Numérique|Logement"),
}


def exact_rows(kit) -> list[dict]:
    def one(pid, entree, sortie=None, motif=None, detail=None):
        return kit.person(pid, entree=entree, sortie=sortie, motif=motif, detail=detail, presc="2021-12-01", **EXACT[pid[0]])

    rows = [
        # A: A00 entered in 2022 (an exit of 2023, not an entry); A01–A10 entered on 01/01/2023, exits after
        # 30, 60, 60, 90, 120 and 200 days, four still in on 31/12/2023 (censored at 364 days); A11 entered in 2022, still in
        one("A00", "2022-06-01", "2023-03-01", "Emploi", "CDI"),
        one("A01", "2023-01-01", "2023-01-31", "Emploi", "CDI"),
        one("A02", "2023-01-01", "2023-03-02", "Emploi", "Intérim"),
        one("A03", "2023-01-01", "2023-03-02", "Emploi"),
        one("A04", "2023-01-01", "2023-04-01", "Formation", "Qualifiante"),
        one("A05", "2023-01-01", "2023-05-01", "Abandon"),
        one("A06", "2023-01-01", "2023-07-20", "Emploi", "CDD de 6 mois et plus"),
        *[one(f"A{i:02d}", "2023-01-01") for i in range(7, 11)],
        one("A11", "2022-03-01"),
        # B: twelve entries of 2023, nobody left
        *[one(f"B{i:02d}", "2023-02-01") for i in range(12)],
        # C: C00–C05 entered on 01/06/2023: an exit the same day, two after 30 days, three still in (213 days);
        # C06–C11 entered in 2022: C06 left in 2023, C07 in 2022 (not a participant of 2023)
        one("C00", "2023-06-01", "2023-06-01", "Emploi", "CDD de moins de 6 mois"),
        one("C01", "2023-06-01", "2023-07-01", "Abandon"),
        one("C02", "2023-06-01", "2023-07-01", "Emploi", "Création d'entreprise"),
        *[one(f"C{i:02d}", "2023-06-01") for i in range(3, 6)],
        one("C06", "2022-01-01", "2023-02-01", "Formation"),
        one("C07", "2022-01-01", "2022-06-01", "Déménagement"),
        *[one(f"C{i:02d}", "2022-01-01") for i in range(8, 12)],
    ]
    return rows


def test_exit_categories_and_kaplan_meier_median_by_type(kit, tmp_path):
    from analytics import typology
    from analytics.indicators import Filters, Period, compute, dataset
    from analytics.indicators.exits import EXIT_CATEGORIES
    from analytics.store import connect_readonly
    from analytics.typology.outcomes import exit_categories, outcomes

    db = kit.store(tmp_path, exact_rows(kit))
    con = connect_readonly(db)
    typ = typology.load(con)
    assign = typology.assignments(con)
    assert typ.available and len(typ.types) == 3
    type_of = dict(con.execute("""SELECT p.id_participant, t.type FROM typology_persons t
                                  JOIN participants p USING (person_key)""").fetchall())
    profile_type = {prof: type_of[f"{prof}00"] for prof in EXACT}
    assert all(type_of[pid] == profile_type[pid[0]] for pid in type_of)  # each exact profile is one type

    ds = dataset(con, Period.year(2023), Filters())
    frame = {r["type"]: r for r in outcomes(ds, assign, typ.types).iter_rows(named=True)}
    cats = exit_categories(ds, assign, typ.types)
    by_type = {t: dict(zip(g["category"], g["n"])) for (t,), g in cats.group_by("type")}
    assert cats["category"].to_list() == EXIT_CATEGORIES * 3  # the contract's five, in its order, zeros included

    # by hand, exits of 2023 by category
    hand = {"A": [3, 1, 1, 1, 1],  # CDI ×2 and CDD ≥ 6 mois; Intérim; Emploi without detail; Formation; Abandon
            "B": [0, 0, 0, 0, 0],
            "C": [1, 1, 0, 1, 1]}  # Création d'entreprise; CDD < 6 mois; Formation; Abandon (C07 left in 2022)
    for prof, counts in hand.items():
        t = profile_type[prof]
        assert [by_type[t][k] for k in EXIT_CATEGORIES] == counts
        assert sum(by_type[t].values()) == frame[t]["exits"]  # the categories add up to the type's exits
        assert sum(by_type[t][k] for k in EXIT_CATEGORIES[:4]) == frame[t]["positive_exits"]

    # Kaplan–Meier by hand on the entries of 2023 (A11, A00, C06–C11 entered earlier: not in the cohort)
    # A: 10 entries; S(30) = 9/10, S(60) = 0.9·7/9 = 0.7, S(90) = 0.7·6/7 = 0.6, S(120) = 0.6·5/6 = 0.5 → 120 days
    #    (the plain median of the 7 exits of 2023, 273 days for A00 included, would be 90)
    # B: 12 entries, no exit → S never reaches 0.5: no median
    # C: 6 entries; S(0) = 5/6, S(30) = 5/6·3/5 = 0.5 → 30 days
    assert (frame[profile_type["A"]]["cohort"], frame[profile_type["A"]]["events"], frame[profile_type["A"]]["median_days"]) == (10, 6, 120)
    assert (frame[profile_type["B"]]["cohort"], frame[profile_type["B"]]["events"], frame[profile_type["B"]]["median_days"]) == (12, 0, None)
    assert (frame[profile_type["C"]]["cohort"], frame[profile_type["C"]]["events"], frame[profile_type["C"]]["median_days"]) == (6, 3, 30)
    # the same persons through the engine's own figures (the type filter): one definition, one function
    for t, r in frame.items():
        fig = compute(dataset(con, Period.year(2023), Filters(typology=(t,))))
        assert r["median_days"] == fig["time_to_exit"]["median_days"]
        assert (r["cohort"], r["events"]) == (fig["time_to_exit"]["cohort"], fig["time_to_exit"]["events"])
        assert kit.nz(by_type[t]) == kit.nz(fig["exit_category"])
    con.close()
