"""Writes tests/corpus/bad/<case>/ from a tiny valid extract, each with expected.txt (message fragments)."""
import csv, io, shutil
from pathlib import Path

OUT = Path(__file__).resolve().parent / "bad"
shutil.rmtree(OUT, ignore_errors=True)
HEAD = "id_participant;date_prescription;prescripteur;commune;sexe;age;niveau_formation;statut;situation_familiale;frein_principal;freins_secondaires;date_premier_rdv;date_entree;motif_non_entree;date_sortie;motif_sortie;detail_sortie;situation_post_sortie".split(";")
ROWS = [
    ["P1", "02/01/2023", "Conseil départemental", "Doullens", "Femme", "30", "3", "RSA", "Seul(e) avec enfant(s)", "Mobilité", "Garde d'enfants", "05/01/2023", "05/01/2023", "", "31/03/2023", "Emploi", "CDI", "En CDI"],
    ["P2", "10/02/2023", "APFE et autres organismes", "Liomer", "Homme", "45", "2", "RSA", "Seul(e) sans enfant", "Santé", "", "14/02/2023", "14/02/2023", "", "", "", "", ""],
    ["P3", "15/06/2023", "Conseil départemental", "Airaines", "Femme", "24", "1", "ASE", "Couple avec enfant(s)", "Aucun", "", "", "", "Non adhésion", "", "", "", ""],
]
RDV = [["id_participant", "date", "modalite", "presence"], ["P1", "05/01/2023", "Physique", "Présent"], ["P2", "21/02/2023", "Téléphone", "Absent excusé"]]
IMM = [["id_participant", "date_debut", "date_fin", "secteur", "debouche_contrat"], ["P1", "01/03/2023", "10/03/2023", "Commerce", "oui"]]


def write(case, expected, head=HEAD, rows=ROWS, rdv=RDV, imm=IMM, raw=None):
    d = OUT / case
    d.mkdir(parents=True)
    if raw is not None:
        (d / "participants.csv").write_bytes(raw)
    else:
        buf = io.StringIO(); w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(head); w.writerows(rows)
        (d / "participants.csv").write_text(buf.getvalue(), encoding="utf-8")
    for name, table in (("rendez_vous", rdv), ("immersions", imm)):
        if table is not None:
            buf = io.StringIO(); w = csv.writer(buf, delimiter=";", lineterminator="\r\n"); w.writerows(table)
            (d / f"{name}.csv").write_text(buf.getvalue(), encoding="utf-8")
    (d / "expected.txt").write_text("\n".join(expected) + "\n", encoding="utf-8")


def with_cell(row_index, column, value, rows=ROWS):
    out = [list(r) for r in rows]
    out[row_index][HEAD.index(column)] = value
    return out


def drop_column(column):
    i = HEAD.index(column)
    return [h for j, h in enumerate(HEAD) if j != i], [[v for j, v in enumerate(r) if j != i] for r in ROWS]


h, r = drop_column("sexe")
write("missing_required_column", ["colonne « sexe »", "colonne obligatoire absente"], head=h, rows=r)
write("empty_file", ["participants.csv", "fichier vide"], raw=b"")
write("binary_file", ["participants.csv", "illisible"], raw=bytes(range(256)) * 4)
buf = ";".join(HEAD) + "\r\n" + ";".join(ROWS[0]) + "\r\n" + ";".join(ROWS[1][:6]) + "\r\n" + ";".join(ROWS[2]) + "\r\n"
write("truncated_row", ["ligne 3", "ligne tronquée"], raw=buf.encode())
write("impossible_date", ["ligne 2", "colonne « date_entree »", "date inexistante", "31/02/2023"], rows=with_cell(0, "date_entree", "31/02/2023"))
write("date_out_of_range", ["ligne 3", "date_prescription", "date hors de la plage"], rows=with_cell(1, "date_prescription", "15/03/1999"))
write("exit_before_entry", ["ligne 2", "date_sortie", "antérieure à la date d'entrée"], rows=with_cell(0, "date_sortie", "01/01/2023"))
rows = with_cell(2, "date_sortie", "30/06/2023", with_cell(2, "motif_sortie", "Abandon"))
write("exit_without_entry", ["ligne 4", "date_sortie", "sortie sans date d'entrée"], rows=rows)
write("first_appointment_before_prescription", ["ligne 3", "date_premier_rdv", "antérieure à la date de prescription"], rows=with_cell(1, "date_premier_rdv", "01/02/2023"))
write("unknown_category", ["ligne 3", "colonne « statut »", "valeur inconnue", "Chômeur", "RSA, ASE, RQTH, Autre"], rows=with_cell(1, "statut", "Chômeur"))
write("detail_not_in_reason", ["ligne 2", "detail_sortie", "incompatible avec le motif « Emploi »", "SIEG"], rows=with_cell(0, "detail_sortie", "SIEG"))
write("duplicate_id", ["ligne 3", "id_participant", "en double"], rows=with_cell(1, "id_participant", "P1"))
write("appointment_unknown_person", ["rendez_vous.csv", "ligne 3", "personne inconnue", "P9"], rdv=RDV[:2] + [["P9", "21/02/2023", "Physique", "Présent"]])
write("immersion_unknown_person", ["immersions.csv", "ligne 2", "personne inconnue", "P7"], imm=[IMM[0], ["P7", "01/03/2023", "10/03/2023", "Commerce", "non"]])
write("age_not_a_number", ["ligne 2", "colonne « age »", "nombre entier attendu", "trente"], rows=with_cell(0, "age", "trente"))
write("age_out_of_range", ["ligne 4", "colonne « age »", "hors de la plage 16–99"], rows=with_cell(2, "age", "12"))
write("identifying_column", ["colonne « Nom »", "identification directe"], head=HEAD + ["Nom"], rows=[r + ["Durand"] for r in ROWS])
write("email_in_cell", ["ligne 2", "situation_post_sortie", "adresse e-mail"], rows=with_cell(0, "situation_post_sortie", "écrire à marie.durand@example.fr"))
write("phone_in_cell", ["ligne 2", "situation_post_sortie", "numéro de téléphone"], rows=with_cell(0, "situation_post_sortie", "rappeler au 06 12 34 56 78"))
write("nir_in_cell", ["ligne 2", "situation_post_sortie", "NIR"], rows=with_cell(0, "situation_post_sortie", "2 85 07 80 253 012 47"))
write("immersion_end_before_start", ["immersions.csv", "ligne 2", "date_fin", "antérieure à la date de début"], imm=[IMM[0], ["P1", "10/03/2023", "01/03/2023", "Commerce", "oui"]])
write("unknown_secondary_barrier", ["ligne 2", "freins_secondaires", "frein inconnu", "Permis"], rows=with_cell(0, "freins_secondaires", "Garde d'enfants|Permis"))
write("missing_non_entry_reason", ["ligne 4", "motif_non_entree", "obligatoire"], rows=with_cell(2, "motif_non_entree", ""))
write("unknown_presence", ["rendez_vous.csv", "ligne 2", "presence", "Excusé?"], rdv=[RDV[0], ["P1", "05/01/2023", "Physique", "Excusé?"], RDV[2]])
write("bad_boolean", ["immersions.csv", "ligne 2", "debouche_contrat", "peut-être"], imm=[IMM[0], ["P1", "01/03/2023", "10/03/2023", "Commerce", "peut-être"]])
write("header_only", ["participants.csv", "aucune personne dans l'extrait"], rows=[], rdv=None, imm=None)
print(len(list(OUT.iterdir())), "cases")
