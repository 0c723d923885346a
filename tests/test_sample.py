"""The reference extract reproduces the 2023 report; synthetic extracts keep the contract; CSVs are French-office CSVs.

The 2023 figures are computed here directly from the SPEC-indicators definitions with small polars
expressions, independently of the indicator engine.
"""

from __future__ import annotations

import calendar
from datetime import date

import polars as pl
import pytest

from analytics import schema
from analytics.sample import REFERENCE_SNAPSHOT, reference_extract, synthetic_extract, write_extract

# reference/bilan-2023.json (the figures of the real 2023 report)
EXPECTED_2023 = {
    "positioned": 134,
    "participants": 117,
    "not_entered": {"Non adhésion": 16, "En attente": 1},
    "prescriber": {"Conseil départemental": 81, "APFE et autres organismes": 52, "Pôle emploi": 1},
    "status": {"RSA": 112, "ASE": 1, "RQTH": 2, "Autre": 2},
    "age_band": {"Moins de 25 ans": 10, "25-40 ans": 68, "40-55 ans": 36, "Plus de 55 ans": 3},
    "sex": {"Femme": 81, "Homme": 36},
    "education_level": {"1": 6, "2": 36, "3": 42, "4": 28, "5": 3, "6": 2},
    "primary_barrier": {"Mobilité": 51, "Garde d'enfants": 12, "Compétences professionnelles": 15,
                        "Chômage longue durée": 24, "Autonomie": 5, "Santé": 5, "Handicap": 1, "Aucun": 4},
    "household": {"Seul(e) sans enfant": 39, "Seul(e) avec enfant(s)": 49, "Couple sans enfant": 4,
                  "Couple avec enfant(s)": 25},
    "exits": 76,
    "exit_reason": {"Fin de suivi": 18, "Déménagement": 2, "Santé": 6, "Abandon": 17, "Décès": 1, "Formation": 10,
                    "Emploi": 22},
    "exit_detail": {
        "Fin de suivi": {"Création d'entreprise": 3, "S'engager vers l'emploi": 6, "Coaching social": 4, "Santé": 1,
                         "Action vers ma route": 2, "Contrats aidés": 2},
        "Emploi": {"CDI": 1, "CDD de moins de 6 mois": 10, "Intérim": 3, "Alternance": 1, "Autre contrat": 7},
        "Formation": {"SIEG": 4, "Certifiante": 1, "Qualifiante": 5},
    },
    "positive_exits": 32,
    "positive_exit_rate": 0.4211,
    "active_at_end": 41,
    "monthly_caseload": [31, 37, 36, 32, 35, 35, 40, 33, 32, 42, 46, 47],
    "average_caseload": 37.17,
    "exits_with_immersion": 35,
    "exits_with_two_or_more_immersions": 6,
}
COMMUNES = ["Poix-de-Picardie", "Flixecourt", "Doullens", "Airaines", "Picquigny", "Saint-Ouen", "Ailly-sur-Somme",
            "Oisemont", "Villers-Bocage", "Molliens-Dreuil", "Liomer"]
FIRST_EXPORT = date(2024, 1, 15)  # the 2022–2023 part is the extract as exported that day
SNAPSHOT = REFERENCE_SNAPSHOT  # the data date of the reference (autumn 2026)


@pytest.fixture(scope="module")
def ref():
    return reference_extract()


@pytest.fixture(scope="module")
def syn():
    return synthetic_extract(2000, seed=1)


# ---------------------------------------------------------------------------------------------
# SPEC-indicators, written out with polars
# ---------------------------------------------------------------------------------------------


def counts(df: pl.DataFrame, col: str) -> dict:
    return {(str(k) if isinstance(k, int) else k): v for k, v in df.group_by(col).len().iter_rows()}


def figures(frames: dict[str, pl.DataFrame], start: date, end: date) -> dict:
    p = frames["participants"]
    entered, left = pl.col("date_entree"), pl.col("date_sortie")
    participants = p.filter((entered <= end) & (left.is_null() | (left >= start)))
    non_entrants = p.filter(entered.is_null() & pl.col("date_prescription").is_between(start, end))
    positioned = pl.concat([participants, non_entrants])
    exits = p.filter(left.is_between(start, end))
    age_band = (pl.when(pl.col("age") < 25).then(pl.lit("Moins de 25 ans"))
                .when(pl.col("age") < 40).then(pl.lit("25-40 ans"))
                .when(pl.col("age") < 55).then(pl.lit("40-55 ans"))
                .otherwise(pl.lit("Plus de 55 ans")))
    caseload = []
    for month in range(1, 13):
        first = date(start.year, month, 1)
        last = date(start.year, month, calendar.monthrange(start.year, month)[1])
        caseload.append(p.filter((entered <= last) & (left.is_null() | (left >= first))).height)
    imm = frames["immersions"].join(exits.select("id_participant", "date_sortie"), on="id_participant")
    per_exit = imm.filter(pl.col("date_debut") <= pl.col("date_sortie")).group_by("id_participant").len()
    positive = exits.filter(pl.col("motif_sortie").is_in(schema.POSITIVE_EXIT_REASONS)).height
    return {
        "positioned": positioned.height,
        "participants": participants.height,
        "not_entered": counts(non_entrants, "motif_non_entree"),
        "prescriber": counts(positioned, "prescripteur"),
        "status": counts(participants, "statut"),
        "age_band": counts(participants.with_columns(age_band.alias("band")), "band"),
        "sex": counts(participants, "sexe"),
        "education_level": counts(participants, "niveau_formation"),
        "primary_barrier": counts(participants, "frein_principal"),
        "household": counts(participants, "situation_familiale"),
        "exits": exits.height,
        "exit_reason": counts(exits, "motif_sortie"),
        "exit_detail": {
            reason: counts(exits.filter(pl.col("motif_sortie") == reason)
                           .with_columns(pl.col("detail_sortie").fill_null("Non renseigné")), "detail_sortie")
            for reason in schema.EXIT_DETAILS
            if exits.filter(pl.col("motif_sortie") == reason).height
        },
        "positive_exits": positive,
        "positive_exit_rate": round(positive / exits.height, 4) if exits.height else None,
        "active_at_end": participants.filter(left.is_null() | (left > end)).height,
        "monthly_caseload": caseload,
        "average_caseload": round(sum(caseload) / len(caseload), 2),
        "exits_with_immersion": per_exit.height,
        "exits_with_two_or_more_immersions": per_exit.filter(pl.col("len") >= 2).height,
    }


# ---------------------------------------------------------------------------------------------
# SPEC-extract consistency rules
# ---------------------------------------------------------------------------------------------


def problems(frames: dict[str, pl.DataFrame], latest: date) -> list[str]:
    """Every broken rule of SPEC-extract (empty list = a valid extract)."""
    out = []
    for name, table in schema.TABLES.items():
        df = frames[name]
        if df.columns != table.names:
            out.append(f"{name}: columns {df.columns}")
        if dict(df.schema) != schema.typed_schema(table):
            out.append(f"{name}: dtypes {dict(df.schema)}")
        for col in table.columns:
            if col.required and df[col.name].null_count():
                out.append(f"{name}.{col.name}: {df[col.name].null_count()} empty required cells")
            if col.kind == "enum":
                bad = df.filter(pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(col.values))
                if bad.height:
                    out.append(f"{name}.{col.name}: unknown values {bad[col.name].unique().to_list()}")
            if col.kind == "date":
                bad = df.filter(~pl.col(col.name).is_between(date(2000, 1, 1), latest))
                if bad.height:
                    out.append(f"{name}.{col.name}: {bad.height} dates outside 2000-01-01..{latest}")
    p = frames["participants"]
    if p["id_participant"].n_unique() != p.height:
        out.append("participants: duplicate ids")
    rules = {
        "age 16-99": pl.col("age").is_between(16, 99),
        "niveau_formation 1-8": pl.col("niveau_formation").is_between(1, 8),
        "code_insee 5 characters": pl.col("code_insee").is_null() | (pl.col("code_insee").str.len_chars() == 5),
        "date_premier_rdv >= date_prescription": pl.col("date_premier_rdv").is_null()
        | (pl.col("date_premier_rdv") >= pl.col("date_prescription")),
        "date_entree >= date_prescription": pl.col("date_entree").is_null()
        | (pl.col("date_entree") >= pl.col("date_prescription")),
        "date_sortie >= date_entree": pl.col("date_sortie").is_null() | (pl.col("date_sortie") >= pl.col("date_entree")),
        "date_sortie needs date_entree": pl.col("date_sortie").is_null() | pl.col("date_entree").is_not_null(),
        "motif_non_entree iff no date_entree": pl.col("motif_non_entree").is_null() == pl.col("date_entree").is_not_null(),
        "motif_sortie iff date_sortie": pl.col("motif_sortie").is_null() == pl.col("date_sortie").is_null(),
        "detail_sortie only with a motif_sortie": pl.col("detail_sortie").is_null() | pl.col("motif_sortie").is_not_null(),
    }
    for rule, expr in rules.items():
        bad = p.filter(~expr.fill_null(False))
        if bad.height:
            out.append(f"participants: {bad.height} rows break «{rule}», e.g. {bad['id_participant'][0]}")
    details = p.filter(pl.col("detail_sortie").is_not_null()).select("motif_sortie", "detail_sortie").unique()
    for reason, detail in details.iter_rows():
        if detail not in schema.EXIT_DETAILS.get(reason, []):
            out.append(f"participants: detail_sortie {detail!r} is not a detail of {reason!r}")
    second = (p.select("id_participant", "frein_principal", pl.col("freins_secondaires").str.split("|"))
              .explode("freins_secondaires").drop_nulls("freins_secondaires"))
    if second.filter(~pl.col("freins_secondaires").is_in(schema.BARRIERS)).height:
        out.append("participants: unknown secondary barrier")
    if second.filter(pl.col("freins_secondaires") == pl.col("frein_principal")).height:
        out.append("participants: a secondary barrier repeats the primary one")
    if second.group_by("id_participant", "freins_secondaires").len().filter(pl.col("len") > 1).height:
        out.append("participants: a secondary barrier listed twice")
    ids = p["id_participant"]
    for name in ("rendez_vous", "immersions"):
        orphans = frames[name].filter(~pl.col("id_participant").is_in(ids.implode()))
        if orphans.height:
            out.append(f"{name}: {orphans.height} rows of unknown persons")
    if frames["immersions"].filter(pl.col("date_fin") < pl.col("date_debut")).height:
        out.append("immersions: date_fin before date_debut")
    return out


# ---------------------------------------------------------------------------------------------
# Reference extract
# ---------------------------------------------------------------------------------------------


def test_reference_is_deterministic(ref):
    again = reference_extract()
    for name in schema.TABLES:
        assert again[name].equals(ref[name]), name


def test_reference_keeps_the_contract(ref):
    # planned ends (date_fin_prevue) run up to six months past the data date; the other dates stop at it (checked below)
    assert problems(ref, date(SNAPSHOT.year + 1, 12, 31)) == []


@pytest.mark.parametrize("key", sorted(EXPECTED_2023))
def test_reference_reproduces_the_2023_report(ref, key):
    assert figures(ref, date(2023, 1, 1), date(2023, 12, 31))[key] == EXPECTED_2023[key]


def test_reference_covers_the_convention_up_to_its_data_date(ref):
    p = ref["participants"]
    assert set(p["territoire"]) == {schema.DEFAULT_TERRITORY}
    assert set(p["action"]) == {schema.DEFAULT_ACTION}
    assert sorted(p["commune"].unique()) == sorted(COMMUNES)
    assert p["code_insee"].null_count() == p.height
    assert p["id_participant"].str.contains(r"^CE-\d{4}$").all()
    dates = [c.name for c in schema.PARTICIPANTS.columns if c.kind == "date" and c.name != "date_fin_prevue"]
    assert p.filter(pl.any_horizontal(pl.col(c) > SNAPSHOT for c in dates)).is_empty()
    assert ref["rendez_vous"]["date"].max() <= SNAPSHOT and ref["immersions"]["date_fin"].max() <= SNAPSHOT
    # every year of the convention has entries and exits, up to the data date
    years = range(2022, SNAPSHOT.year + 1)
    assert set(p["date_entree"].dt.year().drop_nulls()) == set(years)
    assert set(p["date_sortie"].dt.year().drop_nulls()) == set(years)
    assert ref["rendez_vous"]["date"].max() >= date(SNAPSHOT.year, SNAPSHOT.month, 1)
    planned = p.filter(pl.col("date_entree").is_not_null())
    assert planned["date_fin_prevue"].equals(planned["date_entree"].dt.offset_by("6mo"), check_names=False)
    # 2022 history: persons who entered and left in 2022, and carry-overs
    assert p.filter(pl.col("date_sortie") < date(2023, 1, 1)).height >= 20
    assert p.filter((pl.col("date_entree") < date(2023, 1, 1)) & (pl.col("date_sortie") >= date(2023, 1, 1))).height >= 15
    # of the 41 still active on 2023-12-31: 2 leave for a job and 3 for training in early January 2024, the others after
    # the first export day (15/01/2024) or not yet
    left = p.filter(pl.col("date_sortie").is_between(date(2024, 1, 1), FIRST_EXPORT))
    assert left["date_sortie"].is_between(date(2024, 1, 2), date(2024, 1, 12)).all()
    assert sorted(left["motif_sortie"].to_list()) == ["Emploi", "Emploi", "Formation", "Formation", "Formation"]
    # the person waiting since December 2023 is still counted « En attente » (the 2023 report counts them so)
    waiting = p.filter(pl.col("date_prescription") == date(2023, 12, 20))
    assert waiting["motif_non_entree"].to_list() == ["En attente"] and waiting["date_entree"].is_null().all()


def test_reference_details_are_plausible(ref):
    p, rdv, imm = ref["participants"], ref["rendez_vous"], ref["immersions"]
    # first appointment within 7 days of the prescription for most
    delay = p.select((pl.col("date_premier_rdv") - pl.col("date_prescription")).dt.total_days()).drop_nulls().to_series()
    assert (delay <= 7).mean() > 0.6
    # weekly appointments: about one a week for participants, mostly in person and attended
    entrants = p.filter(pl.col("date_entree").is_not_null())
    per_person = rdv.group_by("id_participant").len()
    assert per_person.join(entrants.select("id_participant"), on="id_participant").height == entrants.height
    assert counts(rdv, "modalite")["Physique"] > rdv.height / 2
    assert counts(rdv, "presence")["Présent"] > rdv.height * 0.7
    # immersions of 1 to 3 weeks, during the stay in the action
    days = imm.select((pl.col("date_fin") - pl.col("date_debut")).dt.total_days()).to_series()
    assert days.min() >= 4 and days.max() <= 18
    within = imm.join(p, on="id_participant").filter(
        (pl.col("date_debut") >= pl.col("date_entree"))
        & (pl.col("date_sortie").is_null() | (pl.col("date_fin") <= pl.col("date_sortie"))))
    assert within.height == imm.height
    # exactly two immersions begun in 2023 led to a contract
    assert imm.filter(pl.col("date_debut").dt.year() == 2023)["debouche_contrat"].sum() == 2
    # ESF+: RQTH for the two RQTH-status persons and the person whose main barrier is a disability
    participants_2023 = p.filter((pl.col("date_entree") <= date(2023, 12, 31))
                                 & (pl.col("date_sortie").is_null() | (pl.col("date_sortie") >= date(2023, 1, 1))))
    assert participants_2023.filter(pl.col("rqth")).height == 3
    assert p.filter(pl.col("date_suivi_post_sortie").is_not_null())["date_suivi_post_sortie"].max() <= SNAPSHOT
    six = p.filter(pl.col("situation_6_mois").is_not_null())
    assert (six["date_sortie"] <= date(SNAPSHOT.year, SNAPSHOT.month - 6, SNAPSHOT.day)).all()
    # the 2023 leavers keep the six-month situation known on the first export day (the report's ESF+ EECR05)
    assert (six.filter(pl.col("date_sortie").dt.year() == 2023)["date_sortie"] <= date(2023, 7, 15)).all()


def test_reference_does_not_disturb_2022_or_2024(ref):
    # persons of the 2022 history and of January 2024 are not 2023 participants
    f = figures(ref, date(2024, 1, 1), date(2024, 1, 15))
    assert f["exits"] == 5
    assert f["participants"] == 41 + 3


# ---------------------------------------------------------------------------------------------
# Synthetic extract
# ---------------------------------------------------------------------------------------------


def test_synthetic_shape(syn):
    p = syn["participants"]
    assert p.height == 2000
    assert p["id_participant"].n_unique() == 2000
    for name, table in schema.TABLES.items():
        assert syn[name].columns == table.names
        assert dict(syn[name].schema) == schema.typed_schema(table)


def test_synthetic_keeps_the_contract(syn):
    assert problems(syn, date(2026, 6, 30)) == []


def test_synthetic_looks_like_the_action(syn):
    p, rdv, imm = syn["participants"], syn["rendez_vous"], syn["immersions"]
    entrants = p.filter(pl.col("date_entree").is_not_null())
    per_participant = rdv.join(entrants.select("id_participant"), on="id_participant").height / entrants.height
    assert 12 <= per_participant <= 28
    leavers = p.filter(pl.col("date_sortie").is_not_null())
    with_imm = leavers.join(imm.select("id_participant").unique(), on="id_participant").height / leavers.height
    assert 0.3 <= with_imm <= 0.5
    assert 0.8 <= (p["territoire"] == schema.DEFAULT_TERRITORY).mean()
    for year in range(2021, 2026):
        f = figures(syn, date(year, 1, 1), date(year, 12, 31))
        assert f["participants"] > 0 and f["exits"] > 0, year
    assert p.filter(pl.col("motif_non_entree") == "Non adhésion").height > 0
    # immersions during the stay, one at a time; appointments from the first one to the exit
    stay = p.select("id_participant", "date_premier_rdv", "date_entree", "date_sortie")
    imm_stay = imm.join(stay, on="id_participant")
    assert imm_stay.filter((pl.col("date_debut") < pl.col("date_entree"))
                           | (pl.col("date_fin") > pl.col("date_sortie"))).height == 0
    overlap = imm.sort("id_participant", "date_debut").filter(
        (pl.col("date_debut") <= pl.col("date_fin").shift(1)) & (pl.col("id_participant") == pl.col("id_participant").shift(1)))
    assert overlap.height == 0
    assert imm.select((pl.col("date_fin") - pl.col("date_debut")).dt.total_days().is_between(4, 18).all()).item()
    rdv_stay = rdv.join(stay, on="id_participant")
    assert rdv_stay.filter((pl.col("date") < pl.col("date_premier_rdv")) | (pl.col("date") > pl.col("date_sortie"))).height == 0


def test_synthetic_is_reproducible(syn):
    again = synthetic_extract(2000, seed=1)
    for name in schema.TABLES:
        assert again[name].equals(syn[name]), name
    assert not synthetic_extract(2000, seed=2)["participants"].equals(syn["participants"])


def test_synthetic_small_sizes():
    for n in (1, 7):
        frames = synthetic_extract(n, seed=3)
        assert frames["participants"].height == n
        assert problems(frames, date(2026, 6, 30)) == []


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def test_write_extract_as_french_office_software(ref, tmp_path):
    out = tmp_path / "sample"
    write_extract(ref, out)
    for name in schema.TABLES:
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        header = raw[3:].split(b"\n", 1)[0].decode()
        assert header == ";".join(schema.TABLES[name].names)
    text = (out / "participants.csv").read_text(encoding="utf-8-sig")
    first = text.splitlines()[1].split(";")
    assert first[0] == "CE-0001"
    assert first[1].count("/") == 2 and len(first[1]) == 10  # JJ/MM/AAAA
    assert first[schema.PARTICIPANTS.names.index("rqth")] in ("oui", "non")
    assert first[schema.PARTICIPANTS.names.index("code_insee")] == ""
    # read back: the same data
    for name, table in schema.TABLES.items():
        back = pl.read_csv(out / f"{name}.csv", separator=";", infer_schema=False, encoding="utf8")
        typed = back.with_columns(
            [pl.col(c.name).str.to_date("%d/%m/%Y") for c in table.columns if c.kind == "date"]
            + [pl.col(c.name).cast(pl.Int64) for c in table.columns if c.kind == "int"]
            + [pl.col(c.name).replace_strict({"oui": True, "non": False}, return_dtype=pl.Boolean)
               for c in table.columns if c.kind == "bool"]
        )
        assert typed.equals(ref[name]), name
