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


# ---------------------------------------------------------------- the association's own workbook

SHEETS = {"participants": "Suivi", "rendez_vous": "Emargement", "immersions": "PMSMP"}
HEADERS = {
    "participants": {"id_participant": "N° dossier", "date_prescription": "Date d'orientation", "prescripteur": "Orienté par",
                     "commune": "Commune", "sexe": "Genre", "age": "Âge", "niveau_formation": "Niveau", "statut": "Public",
                     "situation_familiale": "Situation familiale", "frein_principal": "Frein n°1",
                     "date_entree": "Entrée", "motif_non_entree": "Si pas d'entrée", "date_sortie": "Sortie",
                     "motif_sortie": "Type de sortie", "detail_sortie": "Précision", "rqth": "RQTH ?",
                     "date_premier_rdv": "1er RDV", "freins_secondaires": "Autres freins"},
    "rendez_vous": {"id_participant": "Dossier", "date": "Date RDV", "modalite": "Type", "presence": "Présence"},
    "immersions": {"id_participant": "Dossier", "date_debut": "Du", "date_fin": "Au", "secteur": "Métier",
                   "debouche_contrat": "Embauche"},
}
LABELS = {
    "sexe": {"Femme": "Mme", "Homme": "M."},
    "frein_principal": {"Mobilité": "Transport", "Garde d'enfants": "Garde", "Chômage longue durée": "CLD"},
    "freins_secondaires": {"Mobilité": "Transport", "Numérique": "Informatique"},
    "motif_sortie": {"Emploi": "Sortie emploi", "Formation": "Sortie formation", "Fin de suivi": "Fin d'accompagnement"},
    "presence": {"Présent": "P", "Absent excusé": "AE", "Absent non excusé": "ANE"},
    "modalite": {"Physique": "Présentiel", "Téléphone": "Tél"},
    "debouche_contrat": {"oui": "Embauché", "non": "Pas d'embauche"},
}


def _user_value(column: str, value, labels: dict, serial: bool):
    if value is None:
        return None
    if isinstance(value, date):
        return (value - date(1899, 12, 30)).days if serial else value  # a serial number, or a real date cell
    if column == "freins_secondaires":
        return "|".join(labels.get(column, {}).get(v, v) for v in value.split("|"))
    if isinstance(value, str):
        return labels.get(column, {}).get(value, value)
    return value


def write_own_workbook(path, headers=HEADERS, labels=LABELS, sheets=SHEETS, title_lines=2, total=True, email=True,
                       people=None, rdv=None, immersions=None):
    """The persons above as an association keeps them: title lines, its own sheet and column names and labels,
    dates as Excel date cells (every other one as a serial number), an empty line, a total line, and a referent's
    e-mail column. Returns the path."""
    import openpyxl

    data = {"participants": people or PEOPLE, "rendez_vous": rdv or RDV, "immersions": immersions or IMMERSIONS}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table, rows in data.items():
        ws = book.create_sheet(sheets[table])
        for i in range(title_lines):
            ws.append([f"Tableau de suivi « Coaching Emploi » — {table}" if i == 0 else None])
        cols = [c for c in headers[table] if any(c in r for r in rows)]
        ws.append([headers[table][c] for c in cols] + (["Mail référent"] if email and table == "participants" else []))
        for n, row in enumerate(rows):
            values = [_user_value(c, row.get(c), labels, serial=n % 2 == 1) for c in cols]
            ws.append(values + (["referente@association.fr"] if email and table == "participants" else []))
            if n == 2:
                ws.append([])  # an empty line inside the table
        if total:
            ws.append(["Total", len(rows)])
    book.save(path)
    return path


def own_profile(headers=HEADERS, labels=LABELS, sheets=SHEETS, email=True, name="Tableau de suivi de l'association"):
    from analytics.mapping import Profile

    tables = {}
    for table, cols in headers.items():
        columns = {h: c for c, h in cols.items()}
        if email and table == "participants":
            columns["Mail référent"] = None
        known = {c for c in cols}
        values = {c: {v: k for k, v in m.items()} for c, m in labels.items() if c in known}
        tables[table] = {"sheet": sheets[table], "columns": columns, "values": values}
    return Profile.from_dict({"name": name, "tables": tables})
