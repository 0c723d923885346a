"""A small tracking table in typed form (Python dates and integers), shared by the template and mapping tests:
the same persons written in contract shape (CSV) and in the association's own shapes must give the same figures."""

from __future__ import annotations

from datetime import date

D = date


def _p(pid, presc, sexe, age, commune, frein, entree=None, sortie=None, motif=None, detail=None, **extra):
    row = {"id_participant": pid, "date_prescription": presc, "prescripteur": "Conseil départemental",
           "commune": commune, "sexe": sexe, "age": age, "niveau_formation": 3, "statut": "RSA",
           "situation_familiale": "Seul(e) avec enfant(s)", "frein_principal": frein, "date_entree": entree,
           "motif_non_entree": None if entree else "Non adhésion", "date_sortie": sortie, "motif_sortie": motif,
           "detail_sortie": detail}
    row.update(extra)
    return row


PEOPLE = [
    _p("A001", D(2023, 1, 9), "Femme", 34, "Poix-de-Picardie", "Mobilité", D(2023, 1, 20), D(2023, 6, 30), "Emploi", "CDI",
       rqth="non", date_premier_rdv=D(2023, 1, 16)),
    _p("A002", D(2023, 2, 1), "Homme", 52, "Doullens", "Santé", D(2023, 2, 15), rqth="oui", freins_secondaires="Mobilité|Numérique"),
    _p("A003", D(2023, 3, 6), "Femme", 27, "Flixecourt", "Garde d'enfants"),
    _p("A004", D(2022, 11, 14), "Femme", 45, "Airaines", "Numérique", D(2022, 12, 1), D(2023, 4, 12), "Formation", "Qualifiante"),
    _p("A005", D(2023, 5, 2), "Homme", 23, "Picquigny", "Mobilité", D(2023, 5, 22), D(2023, 11, 3), "Fin de suivi", "Coaching social"),
    _p("A006", D(2023, 6, 19), "Femme", 38, "Ailly-sur-Somme", "Logement", D(2023, 7, 3), D(2023, 10, 2), "Abandon"),
    _p("A007", D(2023, 9, 4), "Homme", 61, "Poix-de-Picardie", "Chômage longue durée", D(2023, 9, 18)),
    _p("A008", D(2023, 10, 9), "Femme", 30, "Doullens", "Mobilité", motif_non_entree="En attente"),
]
RDV = [
    {"id_participant": "A001", "date": D(2023, 1, 16), "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "A001", "date": D(2023, 2, 6), "modalite": "Téléphone", "presence": "Absent excusé"},
    {"id_participant": "A002", "date": D(2023, 2, 20), "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "A002", "date": D(2023, 3, 20), "modalite": "Visio", "presence": "Absent non excusé"},
    {"id_participant": "A005", "date": D(2023, 6, 5), "modalite": "Collectif", "presence": "Présent"},
    {"id_participant": "A007", "date": D(2023, 10, 2), "modalite": "Physique", "presence": "Présent"},
]
IMMERSIONS = [
    {"id_participant": "A001", "date_debut": D(2023, 4, 3), "date_fin": D(2023, 4, 14), "secteur": "Vente", "debouche_contrat": "oui"},
    {"id_participant": "A005", "date_debut": D(2023, 8, 21), "date_fin": D(2023, 8, 25), "secteur": "N1103", "debouche_contrat": "non"},
]


def as_text(rows: list[dict]) -> list[dict]:
    """The rows as a contract CSV holds them (ISO dates)."""
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()} for row in rows]
