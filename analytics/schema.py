"""The extract contract (SPEC-extract v1): canonical columns, closed lists and key normalisation.

Everything that knows a column name or a canonical label lives here, so the reader, the
validator, the store, the sample generator and the indicators share one definition.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

DEFAULT_TERRITORY = "5 vallées"
DEFAULT_ACTION = "Coaching emploi"

SEX = ["Femme", "Homme"]
STATUS = ["RSA", "ASE", "RQTH", "Autre"]
HOUSEHOLD = [
    "Seul(e) sans enfant",
    "Seul(e) avec enfant(s)",
    "Couple sans enfant",
    "Couple avec enfant(s)",
]
BARRIERS = [
    "Mobilité",
    "Garde d'enfants",
    "Compétences professionnelles",
    "Chômage longue durée",
    "Autonomie",
    "Santé",
    "Handicap",
    "Logement",
    "Maîtrise du français",
    "Numérique",
    "Aucun",
]
NOT_ENTERED_REASONS = ["Non adhésion", "En attente"]
EXIT_REASONS = ["Emploi", "Formation", "Fin de suivi", "Abandon", "Santé", "Déménagement", "Décès"]
POSITIVE_EXIT_REASONS = ["Emploi", "Formation"]
EXIT_DETAILS: dict[str, list[str]] = {
    "Emploi": [
        "CDI",
        "CDD de 6 mois et plus",
        "CDD de moins de 6 mois",
        "Intérim",
        "Alternance",
        "Création d'entreprise",
        "Autre contrat",
    ],
    "Formation": ["Qualifiante", "Certifiante", "SIEG", "Autre formation"],
    "Fin de suivi": [
        "Création d'entreprise",
        "S'engager vers l'emploi",
        "Coaching social",
        "Santé",
        "Action vers ma route",
        "Contrats aidés",
        "Autre orientation",
    ],
}
ALL_EXIT_DETAILS = sorted({d for ds in EXIT_DETAILS.values() for d in ds})
EMPLOYMENT_AT_ENTRY = ["En emploi", "Demandeur d'emploi", "Demandeur d'emploi de longue durée", "Inactif"]
SITUATION_6_MONTHS = ["En emploi", "En formation", "En recherche d'emploi", "Inactif", "Inconnue"]
MODALITIES = ["Physique", "Téléphone", "Visio", "Collectif"]
PRESENCE = ["Présent", "Absent excusé", "Absent non excusé"]
EDUCATION_LEVELS = list(range(1, 9))
EDUCATION_LABELS = {
    1: "Niveau 1 – savoirs de base",
    2: "Niveau 2 – savoir-faire professionnels",
    3: "Niveau 3 – CAP/BEP",
    4: "Niveau 4 – Bac",
    5: "Niveau 5 – Bac+2",
    6: "Niveau 6 – Licence",
    7: "Niveau 7 – Master",
    8: "Niveau 8 – Doctorat",
}
AGE_BANDS = ["Moins de 25 ans", "25-40 ans", "40-55 ans", "Plus de 55 ans"]

# Accepted spellings beyond the canonical label itself (keys are compared after `norm_key`).
ALIASES: dict[str, dict[str, str]] = {
    "sexe": {"f": "Femme", "h": "Homme", "m": "Homme", "femme": "Femme", "homme": "Homme"},
    "frein_principal": {"aucune": "Aucun", "garde d enfant": "Garde d'enfants", "chomage de longue duree": "Chômage longue durée"},
    "motif_non_entree": {"non adhesion": "Non adhésion", "absent": "Non adhésion", "attente": "En attente"},
}
BOOL_VALUES = {"oui": True, "o": True, "1": True, "true": True, "vrai": True, "yes": True, "x": True,
               "non": False, "n": False, "0": False, "false": False, "faux": False, "no": False}


@dataclass(frozen=True)
class Col:
    """One column of an extract table."""

    name: str
    kind: str  # text | date | int | enum | bool | list
    required: bool = False
    values: list[str] | None = None  # closed list for enum / list
    label: str = ""  # French label shown in the data dictionary


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[Col] = field(default_factory=list)
    required_file: bool = False

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


PARTICIPANTS = Table(
    "participants",
    [
        Col("id_participant", "text", True, label="Identifiant pseudonyme"),
        Col("date_prescription", "date", True, label="Date de prescription"),
        Col("prescripteur", "text", True, label="Prescripteur"),
        Col("territoire", "text", label="Territoire"),
        Col("action", "text", label="Action"),
        Col("commune", "text", True, label="Commune de résidence"),
        Col("code_insee", "text", label="Code INSEE"),
        Col("sexe", "enum", True, SEX, "Sexe"),
        Col("age", "int", True, label="Âge à la prescription"),
        Col("niveau_formation", "int", True, label="Niveau de formation (1 à 8)"),
        Col("statut", "enum", True, STATUS, "Statut"),
        Col("situation_familiale", "enum", True, HOUSEHOLD, "Situation familiale"),
        Col("frein_principal", "enum", True, BARRIERS, "Frein principal"),
        Col("freins_secondaires", "list", False, BARRIERS, "Freins secondaires"),
        Col("date_premier_rdv", "date", label="Date du 1er rendez-vous"),
        Col("date_entree", "date", label="Date d'entrée"),
        Col("motif_non_entree", "enum", False, NOT_ENTERED_REASONS, "Motif de non-entrée"),
        Col("date_fin_prevue", "date", label="Date de fin prévue"),
        Col("date_sortie", "date", label="Date de sortie"),
        Col("motif_sortie", "enum", False, EXIT_REASONS, "Motif de sortie"),
        Col("detail_sortie", "enum", False, ALL_EXIT_DETAILS, "Détail de sortie"),
        Col("situation_emploi_entree", "enum", False, EMPLOYMENT_AT_ENTRY, "Situation à l'entrée (FSE+)"),
        Col("rqth", "bool", label="RQTH"),
        Col("qualification_obtenue", "bool", label="Qualification obtenue (FSE+)"),
        Col("date_suivi_post_sortie", "date", label="Date du suivi post-sortie"),
        Col("situation_post_sortie", "text", label="Situation post-sortie"),
        Col("situation_6_mois", "enum", False, SITUATION_6_MONTHS, "Situation à 6 mois (FSE+)"),
    ],
    required_file=True,
)
RENDEZ_VOUS = Table(
    "rendez_vous",
    [
        Col("id_participant", "text", True, label="Identifiant pseudonyme"),
        Col("date", "date", True, label="Date du rendez-vous"),
        Col("modalite", "enum", True, MODALITIES, "Modalité"),
        Col("presence", "enum", True, PRESENCE, "Présence"),
    ],
)
IMMERSIONS = Table(
    "immersions",
    [
        Col("id_participant", "text", True, label="Identifiant pseudonyme"),
        Col("date_debut", "date", True, label="Début de l'immersion"),
        Col("date_fin", "date", True, label="Fin de l'immersion"),
        Col("secteur", "text", label="Secteur ou code ROME"),
        Col("debouche_contrat", "bool", label="À débouché sur un contrat"),
    ],
)
TABLES = {t.name: t for t in (PARTICIPANTS, RENDEZ_VOUS, IMMERSIONS)}

# Polars dtypes of the normalised (typed) tables, as stored.
POLARS_TYPES = {"text": pl.String, "date": pl.Date, "int": pl.Int64, "enum": pl.String, "bool": pl.Boolean, "list": pl.String}


def typed_schema(table: Table) -> dict[str, pl.DataType]:
    return {c.name: POLARS_TYPES[c.kind] for c in table.columns}


_SEP = re.compile(r"[\s_\-’'`.]+")


def norm_key(value: str) -> str:
    """Case-, accent- and separator-insensitive key: `Date entrée` and `date_entree` → `date entree`."""
    s = unicodedata.normalize("NFKD", value)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("œ", "oe").replace("Œ", "oe")
    return _SEP.sub(" ", s.lower()).strip()


def norm_key_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised `norm_key` for a Polars string column (same rule, no Python loop)."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all("œ", "oe")
        .str.replace_all("Œ", "oe")
        .str.to_lowercase()
        .str.replace_all(r"[\s_\-’'`.]+", " ")
        .str.strip_chars()
    )


def value_lookup(column: str, values: list[str]) -> dict[str, str]:
    """norm_key → canonical label for a closed list, aliases included."""
    table = {norm_key(v): v for v in values}
    for k, v in ALIASES.get(column, {}).items():
        table.setdefault(norm_key(k), v)
    return table


def header_lookup(table: Table) -> dict[str, str]:
    return {norm_key(c.name): c.name for c in table.columns}
