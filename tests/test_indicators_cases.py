"""Hand-built extracts with hand-computed expectations for every definition of SPEC-indicators.

Each scenario is written as CSV, read with `load_extract`, imported into a DuckDB file with
`import_extract` and queried with `compute_indicators` on a read-only connection. Every expected
value below is derived by hand from the SPEC definitions (the comments give the reasoning).
"""

from __future__ import annotations

from datetime import date

import pytest

from analytics.indicators import FIGURES, Filters, Period
from coaching_test_helpers import person as P  # alias of tests/conftest.py

Y2023 = Period(date(2023, 1, 1), date(2023, 12, 31))


def nz(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}


# ------------------------------------------------------------------ populations and boundaries

# Period 2023-01-01..2023-12-31.
POPULATION_ROWS = [
    # A: entered 2022, still in → participant, active at end
    P("A", "2022-06-01", prescripteur="Conseil départemental"),
    # B: left on 2022-12-31, the day before P → not a participant
    P("B", "2022-03-01", "2022-12-31", "Emploi", "CDI", prescripteur="APFE et autres organismes"),
    # C: left on P's first day → participant, exit, positive, NOT active at end
    P("C", "2022-03-01", "2023-01-01", "Emploi", "CDI", prescripteur="Conseil départemental"),
    # D: entered on P's last day → participant, entry, active at end
    P("D", "2023-12-31", prescripteur="Conseil départemental", presc="2023-12-01"),
    # E: entered the day after P → nothing (not a non-entrant either: it has an entry date)
    P("E", "2024-01-01", prescripteur="APFE et autres organismes", presc="2023-12-15"),
    # F: entered and left the same day in P → participant, entry, exit (Abandon), not active
    P("F", "2023-05-10", "2023-05-10", "Abandon", prescripteur="Pôle emploi", presc="2023-05-01"),
    # G: entry in P, exit on P's last day (Formation) → participant, entry, exit, positive, not active
    P("G", "2023-02-01", "2023-12-31", "Formation", "Qualifiante", prescripteur="Pôle emploi", presc="2023-01-20"),
    # H: entry in P, exit after P → participant, entry, active at end, not an exit
    P("H", "2023-03-01", "2024-01-15", "Emploi", "Intérim", prescripteur="Pôle emploi", presc="2023-02-15"),
    # M: entry and exit in P (Fin de suivi) → participant, entry, exit, not positive
    P("M", "2023-06-01", "2023-09-30", "Fin de suivi", "S'engager vers l'emploi", prescripteur="Pôle emploi", presc="2023-05-15"),
    # I, J, L: non-entrants prescribed in P (J on the last day, L on the first day)
    P("I", motif_non_entree="Non adhésion", presc="2023-04-01", prescripteur="Conseil départemental"),
    P("J", motif_non_entree="En attente", presc="2023-12-31", prescripteur="Pôle emploi"),
    P("L", motif_non_entree="En attente", presc="2023-01-01", prescripteur="Pôle emploi"),
    # K: non-entrant prescribed before P → not positioned
    P("K", motif_non_entree="Non adhésion", presc="2022-12-31", prescripteur="APFE et autres organismes"),
]


@pytest.fixture(scope="module")
def population_db(tmp_path_factory, kit):
    return kit.store(tmp_path_factory.mktemp("pop"), POPULATION_ROWS)


@pytest.fixture(scope="module")
def population_figures(population_db, kit):
    return kit.figures(population_db, Y2023)


def test_population_counts(population_figures):
    f = population_figures
    assert f["participants"] == 7  # A C D F G H M
    assert f["entries"] == 5  # D F G H M
    assert f["exits"] == 4  # C F G M
    assert f["active_at_end"] == 3  # A D H
    assert f["positive_exits"] == 2  # C (Emploi) G (Formation)
    assert f["positioned"] == 10  # 7 participants + I J L
    assert nz(f["not_entered"]) == {"Non adhésion": 1, "En attente": 2}


def test_prescriber_counts_the_positioned(population_figures):
    # positioned: A C D I (Conseil départemental), F G H M J L (Pôle emploi); B E K are not positioned
    assert nz(population_figures["prescriber"]) == {"Conseil départemental": 4, "Pôle emploi": 6}


def test_exit_reason_and_detail(population_figures):
    f = population_figures
    assert nz(f["exit_reason"]) == {"Emploi": 1, "Abandon": 1, "Formation": 1, "Fin de suivi": 1}
    assert {m: nz(d) for m, d in f["exit_detail"].items()} == {
        "Emploi": {"CDI": 1},  # C (B's CDI is outside P, H's Intérim is after P)
        "Formation": {"Qualifiante": 1},
        "Fin de suivi": {"S'engager vers l'emploi": 1},
    }
    assert f["positive_exit_rate"] == 0.5  # 2 / 4


def test_monthly_caseload_calendar_year(population_figures):
    # persons entered by the month's last day and not left before its first day
    expected = {
        "2023-01": 2,  # A, C (left on 01-01)
        "2023-02": 2,  # A, G
        "2023-03": 3, "2023-04": 3,  # A, G, H
        "2023-05": 4,  # + F (in and out on 05-10)
        "2023-06": 4, "2023-07": 4, "2023-08": 4, "2023-09": 4,  # A, G, H, M (M left 09-30)
        "2023-10": 3, "2023-11": 3,  # A, G, H
        "2023-12": 4,  # A, G, H, D (D entered 12-31)
    }
    assert population_figures["monthly_caseload"] == expected
    assert population_figures["average_caseload"] == 3.33  # 40 / 12 = 3.333…
    assert population_figures["caseload_target"] == 40  # data/conventions.toml: 5 vallées / Coaching emploi


def test_single_day_periods(population_db, kit):
    # P = the single day 2023-01-01: C leaves on it → participant and exit, not active at end;
    # A is active; L was prescribed that day → non-entrant of P.
    f = kit.figures(population_db, Period(date(2023, 1, 1), date(2023, 1, 1)))
    assert (f["participants"], f["exits"], f["active_at_end"], f["entries"]) == (2, 1, 1, 0)
    assert f["positioned"] == 3
    assert f["monthly_caseload"] == {"2023-01": 2}
    # P = the single day 2023-12-31: D enters and G leaves on it
    f = kit.figures(population_db, Period(date(2023, 12, 31), date(2023, 12, 31)))
    assert (f["participants"], f["entries"], f["exits"], f["active_at_end"]) == (4, 1, 1, 3)  # A D G H / D / G / A D H
    assert nz(f["not_entered"]) == {"En attente": 1}  # J
    # P = 2023-05-10: F enters and leaves on that day
    f = kit.figures(population_db, Period(date(2023, 5, 10), date(2023, 5, 10)))
    assert (f["entries"], f["exits"]) == (1, 1)
    assert nz(f["exit_reason"]) == {"Abandon": 1}
    assert f["participants"] == 4  # A F G H
    assert f["active_at_end"] == 3  # A G H


def test_period_not_aligned_on_months(tmp_path, kit):
    rows = [
        P("X1", "2023-01-20"),  # in every month of P
        P("X2", "2023-01-01", "2023-01-14", "Abandon"),  # left the day before P: counted by no month of P
        P("X3", "2023-03-11"),  # enters the day after P: not in March∩P
        P("X4", "2023-02-10", "2023-02-20", "Santé"),  # February only
        P("X5", "2022-12-01", "2023-01-15", "Emploi", "CDI"),  # leaves on P's first day: January
    ]
    db = kit.store(tmp_path, rows)
    f = kit.figures(db, Period(date(2023, 1, 15), date(2023, 3, 10)))
    assert f["monthly_caseload"] == {"2023-01": 2, "2023-02": 2, "2023-03": 1}
    assert f["average_caseload"] == 1.67  # 5 / 3
    assert f["participants"] == 3  # X1 X4 X5
    assert f["exits"] == 2  # X4 X5
    assert f["entries"] == 2  # X1 X4
    assert f["active_at_end"] == 1  # X1


def test_positive_exit_rate_rounds_to_4_decimals(tmp_path, kit):
    rows = [
        P("R1", "2023-01-01", "2023-02-01", "Emploi", "CDI"),
        P("R2", "2023-01-01", "2023-03-01", "Formation"),
        P("R3", "2023-01-01", "2023-04-01", "Déménagement"),
    ]
    f = kit.figures(kit.store(tmp_path, rows), Y2023)
    assert f["positive_exit_rate"] == 0.6667  # 2/3
    assert f["exit_detail"]["Formation"] == {"Non renseigné": 1}


# ------------------------------------------------------------------ profile of the participants

PROFILE_ROWS = [
    P("P1", "2023-02-01", sexe="Femme", age=24, niveau_formation=1, statut="RSA", situation_familiale="Seul(e) sans enfant",
      frein_principal="Mobilité", freins_secondaires="Mobilité|Santé", commune="Poix-de-Picardie"),
    P("P2", "2023-02-01", sexe="Homme", age=25, niveau_formation=3, statut="ASE", situation_familiale="Couple avec enfant(s)",
      frein_principal="Santé", freins_secondaires="Numérique", commune="Conty"),
    P("P3", "2022-05-01", sexe="Femme", age=39, niveau_formation=3, statut="RQTH", situation_familiale="Seul(e) avec enfant(s)",
      frein_principal="Garde d'enfants", commune="Poix-de-Picardie"),
    P("P4", "2022-05-01", "2023-06-01", "Abandon", sexe="Femme", age=40, niveau_formation=8, statut="Autre",
      situation_familiale="Couple sans enfant", frein_principal="Mobilité", freins_secondaires="Garde d'enfants|Santé", commune="Hornoy-le-Bourg"),
    P("P5", "2023-09-01", sexe="Homme", age=54, niveau_formation=4, statut="RSA", situation_familiale="Seul(e) sans enfant",
      frein_principal="Aucun", commune="Poix-de-Picardie"),
    P("P6", "2023-09-01", sexe="Homme", age=55, niveau_formation=5, statut="RSA", situation_familiale="Seul(e) sans enfant",
      frein_principal="Numérique", freins_secondaires="Mobilité", commune="Poix-de-Picardie"),
    # not participants of 2023: they must not appear in any breakdown
    P("N1", "2022-01-10", "2022-11-30", "Abandon", sexe="Homme", age=60, niveau_formation=7, statut="Autre",
      situation_familiale="Couple sans enfant", frein_principal="Logement", freins_secondaires="Santé", commune="Airaines"),
    P("N2", motif_non_entree="Non adhésion", presc="2023-03-01", sexe="Femme", age=20, niveau_formation=2, statut="ASE",
      situation_familiale="Couple sans enfant", frein_principal="Logement", commune="Airaines", prescripteur="Conseil départemental"),
]


@pytest.fixture(scope="module")
def profile_figures(tmp_path_factory, kit):
    return kit.figures(kit.store(tmp_path_factory.mktemp("profile"), PROFILE_ROWS), Y2023)


def test_profile_breakdowns(profile_figures):
    f = profile_figures
    assert f["participants"] == 6
    assert nz(f["sex"]) == {"Femme": 3, "Homme": 3}
    assert nz(f["education_level"]) == {"1": 1, "3": 2, "8": 1, "4": 1, "5": 1}
    assert nz(f["status"]) == {"RSA": 3, "ASE": 1, "RQTH": 1, "Autre": 1}
    assert nz(f["household"]) == {"Seul(e) sans enfant": 3, "Couple avec enfant(s)": 1, "Seul(e) avec enfant(s)": 1,
                                  "Couple sans enfant": 1}
    assert nz(f["primary_barrier"]) == {"Mobilité": 2, "Santé": 1, "Garde d'enfants": 1, "Aucun": 1, "Numérique": 1}
    assert nz(f["commune"]) == {"Poix-de-Picardie": 4, "Conty": 1, "Hornoy-le-Bourg": 1}
    # prescriber is over the positioned: 6 participants (Pôle emploi) + N2 (Conseil départemental)
    assert nz(f["prescriber"]) == {"Pôle emploi": 6, "Conseil départemental": 1}


def test_age_band_boundaries(profile_figures):
    # 24 | 25 39 | 40 54 | 55
    assert nz(profile_figures["age_band"]) == {"Moins de 25 ans": 1, "25-40 ans": 2, "40-55 ans": 2, "Plus de 55 ans": 1}


def test_barrier_any_counts_a_person_once_per_barrier(profile_figures):
    # P1 has Mobilité as primary AND secondary: counted once for Mobilité.
    assert nz(profile_figures["barrier_any"]) == {
        "Mobilité": 3,  # P1 P4 P6
        "Santé": 3,  # P1 P2 P4
        "Garde d'enfants": 2,  # P3 P4
        "Numérique": 2,  # P2 P6
        "Aucun": 1,  # P5
    }


# ------------------------------------------------------------------ immersions, delays, appointments, follow-up

ACTIVITY_ROWS = [
    P("E1", "2023-01-05", "2023-06-30", "Emploi", "CDI", date_suivi_post_sortie="2023-07-28"),
    P("E2", "2023-01-05", "2023-06-30", "Emploi", "CDD de 6 mois et plus", date_suivi_post_sortie="2023-08-02"),
    P("E3", "2023-01-05", "2023-06-30", "Abandon"),
    P("E4", "2023-01-05", "2023-06-30", "Santé"),
    P("E5", "2022-09-01", "2023-06-30", "Formation", "SIEG"),
    P("A1", "2023-01-05", date_suivi_post_sortie="2023-05-01"),  # not an exit: its follow-up date does not count
    # first appointments: delays 1 2 7 8 13 20 inside P; R6 and R7 are outside P
    P("R1", presc="2023-01-01", date_premier_rdv="2023-01-03", motif_non_entree="En attente"),  # 2
    P("R2", presc="2023-02-01", date_premier_rdv="2023-02-08", motif_non_entree="En attente"),  # 7 (within 7 days)
    P("R3", presc="2023-03-01", date_premier_rdv="2023-03-09", motif_non_entree="En attente"),  # 8
    P("R4", presc="2023-03-20", date_premier_rdv="2023-04-09", motif_non_entree="Non adhésion"),  # 20
    P("R5", presc="2022-12-20", date_premier_rdv="2023-01-02", motif_non_entree="Non adhésion"),  # 13 (prescribed before P)
    P("R6", presc="2022-12-01", date_premier_rdv="2022-12-30", motif_non_entree="Non adhésion"),  # outside P
    P("R7", presc="2023-12-20", date_premier_rdv="2024-01-05", motif_non_entree="En attente"),  # outside P
    P("R8", presc="2023-05-01", date_premier_rdv="2023-05-02", motif_non_entree="En attente"),  # 1
]
ACTIVITY_IMMERSIONS = [
    {"id_participant": "E1", "date_debut": "2023-06-30", "date_fin": "2023-07-04", "debouche_contrat": "oui"},  # same day as exit
    {"id_participant": "E2", "date_debut": "2023-03-01", "date_fin": "2023-03-10", "debouche_contrat": "1"},
    {"id_participant": "E2", "date_debut": "2023-05-01", "date_fin": "2023-05-05", "debouche_contrat": "non"},
    {"id_participant": "E3", "date_debut": "2023-07-01", "date_fin": "2023-07-05", "debouche_contrat": "non"},  # after exit
    {"id_participant": "E5", "date_debut": "2022-11-01", "date_fin": "2022-11-10", "debouche_contrat": "oui"},  # before P
    {"id_participant": "E5", "date_debut": "2023-08-01", "date_fin": "2023-08-03", "debouche_contrat": ""},  # after exit
    {"id_participant": "A1", "date_debut": "2023-04-01", "date_fin": "2023-04-02", "debouche_contrat": "true"},
    {"id_participant": "A1", "date_debut": "2024-01-05", "date_fin": "2024-01-06", "debouche_contrat": "oui"},  # after P
]
ACTIVITY_RDV = [
    {"id_participant": "E1", "date": "2023-01-10", "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "E1", "date": "2023-02-10", "modalite": "Téléphone", "presence": "Absent excusé"},
    {"id_participant": "E1", "date": "2023-03-10", "modalite": "Visio", "presence": "Présent"},
    {"id_participant": "E2", "date": "2023-12-31", "modalite": "Collectif", "presence": "Absent non excusé"},
    {"id_participant": "E2", "date": "2023-01-01", "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "E2", "date": "2022-12-31", "modalite": "Physique", "presence": "Présent"},  # before P
    {"id_participant": "A1", "date": "2024-01-01", "modalite": "Visio", "presence": "Présent"},  # after P
    {"id_participant": "A1", "date": "2023-06-01", "modalite": "Physique", "presence": "Absent non excusé"},
    {"id_participant": "R6", "date": "2023-06-02", "modalite": "Physique", "presence": "Absent excusé"},  # R6: rows follow the date, not the person
]


@pytest.fixture(scope="module")
def activity_figures(tmp_path_factory, kit):
    db = kit.store(tmp_path_factory.mktemp("activity"), ACTIVITY_ROWS, ACTIVITY_RDV, ACTIVITY_IMMERSIONS)
    return kit.figures(db, Y2023)


def test_exits_with_immersion(activity_figures):
    f = activity_figures
    assert f["exits"] == 5
    # E1 (immersion starting on the exit day), E2 (two), E5 (one before exit; the one after does not count)
    assert f["exits_with_immersion"] == 3
    assert f["exits_with_two_or_more_immersions"] == 1  # E2 only


def test_immersions_started_in_period(activity_figures):
    # date_debut in 2023: E1 06-30, E2 03-01 and 05-01, E3 07-01, E5 08-01, A1 04-01 → 6
    # led to a contract: E1 (oui), E2 03-01 (1), A1 (true) → 3; E5's 2022 and A1's 2024 "oui" are outside P
    assert activity_figures["immersions"] == {"count": 6, "led_to_contract": 3}


def test_first_appointment_delay(activity_figures):
    # delays in P: 1 2 7 8 13 20 → median (7 + 8) / 2; within 7 days: 1 2 7 → 3 / 6
    assert activity_figures["first_appointment_delay_days"] == {"median": 7.5, "within_7_days_rate": 0.5}


def test_first_appointment_delay_rounding(tmp_path, kit):
    rows = [
        P("D1", presc="2023-03-01", date_premier_rdv="2023-03-01"),  # 0
        P("D2", presc="2023-03-01", date_premier_rdv="2023-03-08"),  # 7
        P("D3", presc="2023-03-01", date_premier_rdv="2023-03-31"),  # 30
    ]
    f = kit.figures(kit.store(tmp_path, rows), Y2023)
    assert f["first_appointment_delay_days"] == {"median": 7, "within_7_days_rate": 0.6667}


def test_appointments(activity_figures):
    # 7 rows dated in 2023; Présent: E1 01-10, E1 03-10, E2 01-01 → 3 / 7
    assert activity_figures["appointments"]["planned"] == 7
    assert activity_figures["appointments"]["attended"] == 3
    assert activity_figures["appointments"]["attendance_rate"] == 0.4286
    assert nz(activity_figures["appointments"]["by_modality"]) == {"Physique": 4, "Téléphone": 1, "Visio": 1, "Collectif": 1}


def test_post_exit_follow_up_rate(activity_figures):
    # exits E1..E5; with a follow-up date: E1 E2 → 2 / 5 (A1 is not an exit)
    assert activity_figures["post_exit_follow_up_rate"] == 0.4


def test_post_exit_follow_up_rate_rounding(tmp_path, kit):
    rows = [
        P("S1", "2023-01-05", "2023-03-01", "Abandon", date_suivi_post_sortie="2023-04-01"),
        P("S2", "2023-01-05", "2023-03-01", "Abandon", date_suivi_post_sortie="2023-04-01"),
        P("S3", "2023-01-05", "2023-03-01", "Abandon"),
    ]
    assert kit.figures(kit.store(tmp_path, rows), Y2023)["post_exit_follow_up_rate"] == 0.6667


# ------------------------------------------------------------------ filters

FILTER_ROWS = [
    P("F1", "2023-02-01", "2023-08-01", "Emploi", "CDI", commune="Poix-de-Picardie", prescripteur="Pôle emploi"),
    P("F2", "2023-02-01", commune="Conty", prescripteur="Conseil départemental"),
    P("F3", "2023-02-01", commune="Poix-de-Picardie", prescripteur="Conseil départemental", territoire="Santerre",
      action="Coaching emploi"),
    P("F4", "2023-02-01", "2023-05-01", "Formation", "Certifiante", commune="Hornoy-le-Bourg",
      prescripteur="APFE et autres organismes", territoire="5 vallées", action="Coaching social"),
    P("F5", motif_non_entree="Non adhésion", presc="2023-04-01", commune="Poix-de-Picardie", prescripteur="Pôle emploi"),
]
FILTER_RDV = [
    {"id_participant": "F1", "date": "2023-03-01", "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "F1", "date": "2023-04-01", "modalite": "Physique", "presence": "Absent excusé"},
    {"id_participant": "F2", "date": "2023-03-01", "modalite": "Visio", "presence": "Présent"},
    {"id_participant": "F4", "date": "2023-03-01", "modalite": "Collectif", "presence": "Présent"},
]
FILTER_IMMERSIONS = [
    {"id_participant": "F1", "date_debut": "2023-03-01", "date_fin": "2023-03-05", "debouche_contrat": "oui"},
    {"id_participant": "F4", "date_debut": "2023-03-01", "date_fin": "2023-03-05", "debouche_contrat": "non"},
]


@pytest.fixture(scope="module")
def filter_db(tmp_path_factory, kit):
    return kit.store(tmp_path_factory.mktemp("filters"), FILTER_ROWS, FILTER_RDV, FILTER_IMMERSIONS)


@pytest.mark.parametrize("filters, participants, positioned, exits, planned, immersions", [
    (Filters(), 4, 5, 2, 4, 2),
    (Filters(commune=("Poix-de-Picardie",)), 2, 3, 1, 2, 1),  # F1 F3 (+F5)
    (Filters(commune=("Poix-de-Picardie", "Conty")), 3, 4, 1, 3, 1),  # F1 F2 F3 (+F5)
    (Filters(prescriber=("Conseil départemental",)), 2, 2, 0, 1, 0),  # F2 F3
    (Filters(territory=("Santerre",)), 1, 1, 0, 0, 0),  # F3
    (Filters(action=("Coaching social",)), 1, 1, 1, 1, 1),  # F4
    (Filters(commune=("Poix-de-Picardie",), prescriber=("Pôle emploi",)), 1, 2, 1, 2, 1),  # F1 (+F5)
    (Filters(territory=("5 vallées",), action=("Coaching emploi",)), 2, 3, 1, 3, 1),  # F1 F2 (+F5)
])
def test_filters(filter_db, kit, filters, participants, positioned, exits, planned, immersions):
    f = kit.figures(filter_db, Y2023, filters)
    assert f["participants"] == participants
    assert f["positioned"] == positioned
    assert f["exits"] == exits
    assert f["appointments"]["planned"] == planned
    assert f["immersions"]["count"] == immersions
    assert sum(f["commune"].values()) == participants


def test_filters_follow_the_person_for_appointments_and_immersions(filter_db, kit):
    f = kit.figures(filter_db, Y2023, Filters(action=("Coaching social",)))
    assert f["appointments"] == {"planned": 1, "attended": 1, "attendance_rate": 1.0, "by_modality": {"Collectif": 1}}
    assert f["immersions"] == {"count": 1, "led_to_contract": 0}
    assert f["exits_with_immersion"] == 1
    assert f["positive_exit_rate"] == 1.0
    assert f["filters"] == {"commune": [], "prescripteur": [], "territoire": [], "action": ["Coaching social"]}


def test_empty_selection(population_db, kit):
    f = kit.figures(population_db, Y2023, Filters(commune=("Commune sans personne",)))
    for key in ("positioned", "participants", "entries", "exits", "active_at_end", "positive_exits",
                "exits_with_immersion", "exits_with_two_or_more_immersions"):
        assert f[key] == 0, key
    for key in ("not_entered", "prescriber", "sex", "age_band", "education_level", "status", "household",
                "primary_barrier", "barrier_any", "commune", "exit_reason"):
        assert nz(f[key]) == {}, key
    assert all(nz(d) == {} for d in f["exit_detail"].values())
    assert f["positive_exit_rate"] is None
    assert set(f["monthly_caseload"]) == {f"2023-{m:02d}" for m in range(1, 13)}
    assert set(f["monthly_caseload"].values()) == {0}
    assert f["average_caseload"] == 0
    assert f["immersions"] == {"count": 0, "led_to_contract": 0}
    assert f["first_appointment_delay_days"] == {"median": None, "within_7_days_rate": None}
    assert f["appointments"]["planned"] == 0 and f["appointments"]["attended"] == 0
    assert f["appointments"]["attendance_rate"] is None
    assert nz(f["appointments"]["by_modality"]) == {}
    assert f["post_exit_follow_up_rate"] is None
    assert f["esf"]["EECO01"] == {"total": 0, "Femme": 0, "Homme": 0}
    assert set(FIGURES) <= set(f)


# ------------------------------------------------------------------ ESF+ common indicators

ESF_ROWS = [
    # entries of 2023 (output indicators)
    P("S1", "2023-02-01", sexe="Femme", age=17, niveau_formation=2, statut="RSA", situation_emploi_entree="Demandeur d'emploi", rqth="non"),
    P("S2", "2023-03-01", sexe="Homme", age=18, niveau_formation=3, statut="RQTH",
      situation_emploi_entree="Demandeur d'emploi de longue durée", rqth=""),
    P("S3", "2023-04-01", sexe="Femme", age=29, niveau_formation=4, statut="Autre", situation_emploi_entree="Inactif", rqth="oui"),
    P("S4", "2023-05-01", sexe="Homme", age=30, niveau_formation=5, statut="ASE", situation_emploi_entree="En emploi", rqth="non"),
    P("S5", "2023-06-01", sexe="Femme", age=55, niveau_formation=3, statut="RSA", situation_emploi_entree="", rqth="1"),
    # entered in 2022: a participant of 2023 but not an entry → in no output indicator
    P("S6", "2022-06-01", sexe="Homme", age=17, niveau_formation=1, statut="RQTH", situation_emploi_entree="Demandeur d'emploi", rqth="oui"),
    # exits of 2023 (result indicators); all entered in 2022
    P("X1", "2022-01-10", "2023-03-01", "Fin de suivi", "S'engager vers l'emploi", sexe="Femme", qualification_obtenue="oui", situation_6_mois="En emploi"),
    P("X2", "2022-01-10", "2023-03-01", "Fin de suivi", "Action vers ma route", sexe="Homme"),
    P("X3", "2022-01-10", "2023-03-01", "Fin de suivi", "Contrats aidés", sexe="Femme"),
    P("X4", "2022-01-10", "2023-03-01", "Fin de suivi", "Création d'entreprise", sexe="Homme", situation_6_mois="Inconnue"),
    P("X5", "2022-01-10", "2023-03-01", "Fin de suivi", "Coaching social", sexe="Femme"),
    P("X6", "2022-01-10", "2023-03-01", "Fin de suivi", sexe="Femme"),
    P("X7", "2022-01-10", "2023-03-01", "Formation", "Certifiante", sexe="Homme", qualification_obtenue="oui"),
    P("X8", "2022-01-10", "2023-03-01", "Formation", sexe="Femme", qualification_obtenue="non", situation_6_mois="En formation"),
    P("X9", "2022-01-10", "2023-03-01", "Emploi", "CDI", sexe="Femme", situation_6_mois="En emploi"),
    P("X10", "2022-01-10", "2023-03-01", "Emploi", "Création d'entreprise", sexe="Homme", situation_6_mois="En emploi"),
    P("X11", "2022-01-10", "2023-03-01", "Abandon", sexe="Homme", situation_6_mois="Inconnue", qualification_obtenue="0"),
    # exit of 2022: in no result indicator of 2023
    P("X12", "2022-01-10", "2022-12-30", "Fin de suivi", "S'engager vers l'emploi", sexe="Femme", qualification_obtenue="oui",
      situation_6_mois="En emploi"),
]


def _esf(total, femme, homme):
    return {"total": total, "Femme": femme, "Homme": homme}


@pytest.fixture(scope="module")
def esf_figures(tmp_path_factory, kit):
    return kit.figures(kit.store(tmp_path_factory.mktemp("esf"), ESF_ROWS), Y2023)["esf"]


def test_esf_output_indicators(esf_figures):
    e = esf_figures
    assert e["EECO01"] == _esf(5, 3, 2)  # S1..S5
    assert e["EECO02"] == _esf(2, 1, 1)  # S1 (DE), S2 (DELD)
    assert e["EECO03"] == _esf(1, 0, 1)  # S2
    assert e["EECO04"] == _esf(1, 1, 0)  # S3
    assert e["EECO05"] == _esf(1, 0, 1)  # S4
    assert e["EECO06"] == _esf(1, 1, 0)  # 17: S1 (S6 is not an entry)
    assert e["EECO07"] == _esf(2, 1, 1)  # 18 (S2), 29 (S3); 30 is out
    assert e["EECO08"] == _esf(1, 1, 0)  # 55: S5
    assert e["EECO09"] == _esf(1, 1, 0)  # level 2: S1
    assert e["EECO10"] == _esf(3, 2, 1)  # levels 3/4: S2 S3 S5
    assert e["EECO11"] == _esf(1, 0, 1)  # level 5: S4
    assert e["EECO12"] == _esf(3, 2, 1)  # S2 (statut RQTH, rqth empty), S3 (oui), S5 (1)


def test_esf_result_indicators(esf_figures):
    e = esf_figures
    assert e["EECR01"] == _esf(4, 2, 2)  # X1 X2 X3 X4 (X5 Coaching social, X6 no detail, X10 is Emploi)
    assert e["EECR02"] == _esf(2, 1, 1)  # X7 X8
    assert e["EECR03"] == _esf(2, 1, 1)  # X1 X7
    assert e["EECR04"] == _esf(2, 1, 1)  # X9 X10
    assert e["EECR05"] == _esf(3, 2, 1)  # X1 X9 X10


def test_esf_missing_optional_column_is_not_collected(tmp_path, kit):
    # no situation_emploi_entree, qualification_obtenue or situation_6_mois column; rqth is present
    rows = [
        P("S1", "2023-02-01", sexe="Femme", age=20, statut="RQTH", rqth="non"),
        P("S2", "2023-02-01", sexe="Homme", age=40, rqth="oui"),
        P("X1", "2022-02-01", "2023-05-01", "Emploi", "CDI", sexe="Homme", rqth="non"),
    ]
    e = kit.figures(kit.store(tmp_path, rows), Y2023)["esf"]
    assert e["EECO01"] == _esf(2, 1, 1)
    for code in ("EECO02", "EECO03", "EECO04", "EECO05", "EECR03", "EECR05"):
        assert e[code] is None, code
    assert e["EECO07"] == _esf(1, 1, 0)
    assert e["EECO12"] == _esf(2, 1, 1)
    assert e["EECR04"] == _esf(1, 0, 1)
    assert e["EECR01"] == _esf(0, 0, 0)  # computed from motif/detail, always collected
