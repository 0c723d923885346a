"""Reference and synthetic tracking extracts (SPEC-extract v1).

* `reference_extract()` builds the anonymised extract of the "Coaching emploi" action,
  territory "5 vallées", over the whole convention: 2022 to the data date `REFERENCE_SNAPSHOT`
  (30/10/2026). Its 2023 figures, computed with the SPEC-indicators definitions, are exactly those
  of the real 2023 report (`reference/bilan-2023.json`): the 2022–2023 part is built as it was
  exported on 2024-01-15, then carried on month by month without changing anything up to that day.
* `synthetic_extract(n, seed)` builds an extract of `n` persons with the same shape,
  spread over 2021–2025, fully vectorised (1 000 000 persons in well under a minute).
* `write_extract(frames, out_dir)` writes the three CSV files the way French office
  software does (UTF-8 with BOM, `;`, `JJ/MM/AAAA`, `oui`/`non`).

The reference is built person by person with Python's `random.Random` and a fixed seed:
it depends neither on today's date nor on numpy's generators, so it is the same everywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from analytics import schema

__all__ = ["reference_extract", "synthetic_extract", "write_extract", "REFERENCE_SNAPSHOT", "SYNTHETIC_SNAPSHOT"]

REFERENCE_SNAPSHOT = date(2026, 10, 30)  # the data date of the reference extract (the last day it records)
_FIRST_SNAPSHOT = date(2024, 1, 15)  # the 2022–2023 part is built as it was exported on that day, then extended
_EXTENSION_SEED = 5_2026
SYNTHETIC_SNAPSHOT = date(2025, 12, 31)  # last day with recorded events in a synthetic extract
_REFERENCE_SEED = 5_2023

# Exact 2023 figures of the report (reference/bilan-2023.json) the reference must reproduce.
_EXITS_2023 = [5, 6, 8, 6, 6, 5, 9, 7, 5, 6, 7, 6]  # exits per month (sum 76)
_ENTRIES_2023 = [11, 11, 5, 4, 9, 6, 10, 2, 6, 15, 10, 8]  # entries per month (sum 97)
_CARRY_OVERS = 20  # entered in 2022, still in the action on 2023-01-01
_ENTRIES_2022 = [8, 6, 5, 4, 5, 4, 5, 2, 6, 5, 4, 4]  # 2022 history (sum 58 = 38 left in 2022 + 20 carried over)
_NON_ENTRANTS_2022 = 7
_NOT_ENTERED_2023 = {"Non adhésion": 16, "En attente": 1}
_PRESCRIBERS_2023 = {"Conseil départemental": 81, "APFE et autres organismes": 52, "Pôle emploi": 1}
_STATUS_2023 = {"RSA": 112, "ASE": 1, "RQTH": 2, "Autre": 2}
_AGE_BANDS_2023 = {"Moins de 25 ans": 10, "25-40 ans": 68, "40-55 ans": 36, "Plus de 55 ans": 3}
_AGE_RANGES = {"Moins de 25 ans": (19, 24), "25-40 ans": (25, 39), "40-55 ans": (40, 54), "Plus de 55 ans": (55, 61)}
_EDUCATION_2023 = {1: 6, 2: 36, 3: 42, 4: 28, 5: 3, 6: 2}
_BARRIER_2023 = {"Mobilité": 51, "Garde d'enfants": 12, "Compétences professionnelles": 15, "Chômage longue durée": 24,
                 "Autonomie": 5, "Santé": 5, "Handicap": 1, "Aucun": 4}
# (sex, household) joint counts: 81 women / 36 men, 39 / 49 / 4 / 25 households.
_SEX_HOUSEHOLD_2023 = {
    ("Femme", "Seul(e) sans enfant"): 18, ("Homme", "Seul(e) sans enfant"): 21,
    ("Femme", "Seul(e) avec enfant(s)"): 45, ("Homme", "Seul(e) avec enfant(s)"): 4,
    ("Femme", "Couple sans enfant"): 3, ("Homme", "Couple sans enfant"): 1,
    ("Femme", "Couple avec enfant(s)"): 15, ("Homme", "Couple avec enfant(s)"): 10,
}
_EXIT_REASON_2023 = {"Fin de suivi": 18, "Abandon": 17, "Décès": 1, "Déménagement": 2, "Santé": 6, "Emploi": 22, "Formation": 10}
_EXIT_DETAIL_2023 = {
    "Fin de suivi": {"Création d'entreprise": 3, "S'engager vers l'emploi": 6, "Coaching social": 4, "Santé": 1,
                     "Action vers ma route": 2, "Contrats aidés": 2},
    "Emploi": {"CDI": 1, "CDD de moins de 6 mois": 10, "Intérim": 3, "Alternance": 1, "Autre contrat": 7},
    "Formation": {"SIEG": 4, "Certifiante": 1, "Qualifiante": 5},
}
_IMMERSED_POSITIVE_EXITS = 17  # 35 leavers with an immersion = 18 "Fin de suivi" + 17 of the 32 Emploi/Formation
_TWO_IMMERSIONS = 6

# The eleven communes the report names (canonical spellings) and their relative weight.
COMMUNES_5_VALLEES = {
    "Doullens": 20, "Flixecourt": 16, "Poix-de-Picardie": 14, "Ailly-sur-Somme": 12, "Airaines": 10, "Picquigny": 9,
    "Saint-Ouen": 8, "Villers-Bocage": 8, "Oisemont": 7, "Molliens-Dreuil": 5, "Liomer": 3,
}
_OTHER_TERRITORIES = {
    "Vimeu": {"Friville-Escarbotin": 5, "Gamaches": 4, "Feuquières-en-Vimeu": 3, "Fressenneville": 2, "Woincourt": 1},
    "Haute Somme": {"Péronne": 5, "Ham": 4, "Roisel": 2, "Combles": 1, "Nesle": 2},
}
# (territoire, action, share) of a synthetic extract.
_SYNTHETIC_PERIMETERS = [
    (schema.DEFAULT_TERRITORY, schema.DEFAULT_ACTION, 0.90),
    ("Vimeu", schema.DEFAULT_ACTION, 0.04),
    ("Haute Somme", schema.DEFAULT_ACTION, 0.03),
    (schema.DEFAULT_TERRITORY, "Coaching social", 0.03),
]

SECTORS = [
    "Aide à domicile", "Agent d'entretien", "Grande distribution – mise en rayon", "Caisse", "Vente en boulangerie",
    "Restauration collective", "Commis de cuisine", "Logistique – préparation de commandes", "Industrie agroalimentaire",
    "Maraîchage", "Espaces verts", "Petite enfance", "Accueil en EHPAD", "Agent de production", "Bâtiment – second œuvre",
    "Hôtellerie", "Secrétariat", "Conduite de ligne",
]

_POST_EXIT_TEXT = {
    ("Emploi", "CDI"): ["En CDI, agent de production", "En CDI en libre-service"],
    ("Emploi", "CDD de 6 mois et plus"): ["En CDD de 8 mois, agent d'entretien", "En CDD de 6 mois dans l'entreprise du stage"],
    ("Emploi", "CDD de moins de 6 mois"): ["En CDD de 3 mois, saisonnier agricole", "En CDD de 2 mois en grande surface",
                                          "En CDD de remplacement, aide à domicile", "En CDD de 4 mois en logistique"],
    ("Emploi", "Intérim"): ["Missions d'intérim en logistique", "Missions d'intérim en agroalimentaire"],
    ("Emploi", "Alternance"): ["En apprentissage, CAP petite enfance"],
    ("Emploi", "Création d'entreprise"): ["Micro-entreprise créée"],
    ("Emploi", "Autre contrat"): ["En contrat PEC en mairie", "En CDDI en atelier chantier d'insertion",
                                  "En contrat PEC en EHPAD", "En CDDI en entreprise d'insertion"],
    ("Formation", "Qualifiante"): ["En formation qualifiante aide-soignant", "En titre professionnel agent de propreté",
                                   "En formation qualifiante CACES"],
    ("Formation", "Certifiante"): ["En formation certifiante CléA"],
    ("Formation", "SIEG"): ["En formation SIEG (Région)"],
    ("Formation", "Autre formation"): ["En formation S'engager vers l'emploi (Région)"],
    ("Fin de suivi", "Création d'entreprise"): ["Accompagnement à la création d'entreprise (BGE)"],
    ("Fin de suivi", "S'engager vers l'emploi"): ["Inscription à S'engager vers l'emploi"],
    ("Fin de suivi", "Coaching social"): ["Suivi en Coaching social"],
    ("Fin de suivi", "Santé"): ["Démarches de soins en cours"],
    ("Fin de suivi", "Action vers ma route"): ["Inscription à Action vers ma route (permis)"],
    ("Fin de suivi", "Contrats aidés"): ["Recherche d'un contrat aidé avec le référent"],
    ("Fin de suivi", "Autre orientation"): ["Suivie par le référent RSA"],
    ("Abandon", None): ["Injoignable", "Ne souhaite plus d'accompagnement", "Sans nouvelles malgré relances"],
    ("Santé", None): ["Arrêt maladie de longue durée", "Soins en cours, reprise à envisager"],
    ("Déménagement", None): ["A déménagé hors du territoire"],
}
# ... when the exit detail was left blank
_GENERIC_POST_EXIT_TEXT = {("Emploi", None): ["En emploi"], ("Formation", None): ["En formation"],
                           ("Fin de suivi", None): ["Orientation en cours avec le référent"]}
# Situation six months after exit, by exit reason (weights in schema.SITUATION_6_MONTHS order:
# En emploi, En formation, En recherche d'emploi, Inactif, Inconnue).
_SIX_MONTHS = {
    "Emploi": [70, 2, 18, 2, 8], "Formation": [25, 45, 20, 2, 8], "Fin de suivi": [15, 15, 45, 10, 15],
    "Abandon": [5, 2, 15, 28, 50], "Santé": [0, 0, 10, 70, 20], "Déménagement": [5, 0, 5, 0, 90], "Décès": [0, 0, 0, 0, 0],
}

# Association closed (no appointment, no entry): summer and Christmas weeks.
_CLOSURES = [(date(2022, 8, 8), date(2022, 8, 19)), (date(2022, 12, 26), date(2022, 12, 30)),
             (date(2023, 8, 7), date(2023, 8, 18)), (date(2023, 12, 26), date(2023, 12, 29)),
             (date(2024, 8, 5), date(2024, 8, 16)), (date(2024, 12, 23), date(2024, 12, 31)),
             (date(2025, 8, 4), date(2025, 8, 15)), (date(2025, 12, 22), date(2025, 12, 31)),
             (date(2026, 8, 3), date(2026, 8, 14))]


def _easter(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _french_holidays(years) -> set[date]:
    out: set[date] = set()
    for y in years:
        e = _easter(y)
        out |= {date(y, 1, 1), date(y, 5, 1), date(y, 5, 8), date(y, 7, 14), date(y, 8, 15), date(y, 11, 1),
                date(y, 11, 11), date(y, 12, 25), e + timedelta(days=1), e + timedelta(days=39), e + timedelta(days=50)}
    return out


_HOLIDAYS = _french_holidays(range(2020, 2028))
_D = timedelta(days=1)


def _is_open(d: date) -> bool:
    return d.weekday() < 5 and d not in _HOLIDAYS and not any(a <= d <= b for a, b in _CLOSURES)


def _open_days(lo: date, hi: date) -> list[date]:
    out, d = [], lo
    while d <= hi:
        if _is_open(d):
            out.append(d)
        d += _D
    return out


def _prev_open(d: date) -> date:
    while not _is_open(d):
        d -= _D
    return d


def _next_open(d: date) -> date:
    while not _is_open(d):
        d += _D
    return d


def _add_months(d: date, k: int) -> date:
    """Calendar month offset, clipping the day (same rule as polars `offset_by("6mo")`)."""
    y, m = divmod(d.month - 1 + k, 12)
    y, m = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError


def _month(y: int, m: int) -> tuple[date, date]:
    first = date(y, m, 1)
    return first, _add_months(first, 1) - _D


# --------------------------------------------------------------------------------------------
# Reference extract
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Person:
    group: str  # h22 (entered and left in 2022), co (carried over into 2023), e23, ne22, ne23, e24, ne24
    prescription: date | None = None
    first_rdv: date | None = None
    entry: date | None = None
    exit: date | None = None
    not_entered: str | None = None
    reason: str | None = None
    detail: str | None = None
    n_immersions: int = 0
    pec: bool = False  # its last immersion led to the contract it left for
    # demographics
    sex: str | None = None
    household: str | None = None
    age_band: str | None = None
    age: int | None = None
    status: str | None = None
    education: int | None = None
    barrier: str | None = None
    prescriber: str | None = None
    commune: str | None = None

    @property
    def planned_end(self) -> date | None:
        return _add_months(self.entry, 6) if self.entry else None

    @property
    def deadline(self) -> date:
        """Last open day of the planned six months."""
        return _prev_open(self.planned_end)

    @property
    def participant_2023(self) -> bool:
        return self.group in ("co", "e23")


def _choose_weighted(rng: random.Random, items: list, weights: list[float]):
    if sum(weights) <= 0:
        weights = [1.0] * len(items)
    return rng.choices(range(len(items)), weights=weights)[0]


def _assign_exact(rng: random.Random, people: list[_Person], attr: str, counts: dict, weight) -> None:
    """Give `counts[label]` persons each label, rare labels first, preferring persons `weight` favours."""
    free = list(people)
    for label, count in sorted(counts.items(), key=lambda kv: kv[1]):
        for _ in range(count):
            k = _choose_weighted(rng, free, [weight(p, label) for p in free])
            setattr(free.pop(k), attr, label)
    assert not free


def _entry_dates(rng: random.Random, year: int, counts: list[int], earliest: date | None = None) -> list[date]:
    out = []
    for m, c in enumerate(counts, start=1):
        first, last = _month(year, m)
        days = _open_days(max(first, earliest or first), last)
        out += sorted(rng.choice(days) for _ in range(c))
    return out


def _plan_2023_exits(rng: random.Random, pool: list[_Person]) -> bool:
    """Give exactly `_EXITS_2023[m]` exit dates in each month of 2023, nobody beyond their planned end.

    Returns False when this draw paints itself into a corner (the caller draws again)."""
    for p in pool:
        p.exit = None
    active = list(pool)
    for m, x in enumerate(_EXITS_2023, start=1):
        first, last = _month(2023, m)
        mid = first + timedelta(days=14)
        cands = []
        for p in active:
            if p.entry > last:
                continue
            days = _open_days(max(first, p.entry + timedelta(days=7)), min(last, p.deadline))
            if p.deadline < first or (p.deadline <= last and not days):
                return False
            if days:
                cands.append((p, days))
        forced = [c for c in cands if c[0].deadline <= last]
        others = [c for c in cands if c[0].deadline > last]
        if len(forced) > x or len(cands) < x:
            return False
        chosen = list(forced)
        for _ in range(x - len(forced)):
            weights = []
            for p, _days in others:
                t = (mid - p.entry).days
                weights.append(0.2 if t < 30 else 0.4 if t < 60 else 0.5 if t < 90 else 0.7 if t < 120 else 1.3 if t < 150 else 3.0)
            chosen.append(others.pop(_choose_weighted(rng, others, weights)))
        for p, days in chosen:
            at_term = p.deadline <= last and rng.random() < 0.8
            p.exit = p.deadline if at_term else rng.choice(days)
            active.remove(p)
    # Nobody still active may have passed their planned end at the snapshot, except the five
    # January 2024 leavers; and they all entered in the second half of 2023.
    late = [p for p in active if p.deadline < date(2024, 1, 13)]
    return len(active) == 41 and len(late) <= 5 and all(p.entry >= date(2023, 7, 1) for p in active)


def _assign_2023_reasons(rng: random.Random, leavers: list[_Person]) -> bool:
    tenure = {id(p): (p.exit - p.entry).days for p in leavers}
    rest = sorted(leavers, key=lambda p: (p.entry, p.exit))
    at_term = [p for p in rest if (p.deadline - p.exit).days <= 7]
    if len(at_term) < _EXIT_REASON_2023["Fin de suivi"]:
        return False

    def take(candidates, k, weight=None):
        picked = []
        for _ in range(k):
            pool = [p for p in candidates if p in rest]
            i = _choose_weighted(rng, pool, [weight(p) for p in pool] if weight else [1.0] * len(pool))
            picked.append(pool[i])
            rest.remove(pool[i])
        return picked

    for p in take(at_term, 18):
        p.reason = "Fin de suivi"
    for p in take(rest, 17, lambda p: 1.0 / max(1, tenure[id(p)] / 7) ** 2):
        p.reason = "Abandon"
    for reason in ("Décès", "Déménagement", "Santé"):
        for p in take(rest, _EXIT_REASON_2023[reason]):
            p.reason = reason
    positive = list(rest)
    if len([p for p in positive if tenure[id(p)] >= 35]) < _IMMERSED_POSITIVE_EXITS + 2:
        return False
    for p in take(positive, 10):
        p.reason = "Formation"
    for p in rest:
        p.reason = "Emploi"
    # Details: exact tables of the report.
    for reason, table in _EXIT_DETAIL_2023.items():
        group = [p for p in leavers if p.reason == reason]
        labels = [d for d, c in table.items() for _ in range(c)]
        rng.shuffle(labels)
        for p, d in zip(group, labels, strict=True):
            p.detail = d
    # Immersions: every "Fin de suivi" leaver, and 17 of the 32 Emploi/Formation leavers — the longest stays;
    # the other 15 left before their immersion. Six did two.
    eligible = [p for p in leavers if p.reason in ("Emploi", "Formation") and tenure[id(p)] >= 35]
    immersed = [p for p in leavers if p.reason == "Fin de suivi"]
    # The PEC obtained through an immersion: an "Emploi / Autre contrat" leaver with an immersion.
    pec = [p for p in eligible if p.detail == "Autre contrat" and tenure[id(p)] >= 49]
    if not pec:
        return False
    pec_person = max(pec, key=lambda p: (tenure[id(p)], p.entry))
    immersed.append(pec_person)
    eligible.remove(pec_person)
    for _ in range(_IMMERSED_POSITIVE_EXITS - 1):
        i = _choose_weighted(rng, eligible, [tenure[id(p)] ** 2 for p in eligible])
        immersed.append(eligible.pop(i))
    for p in immersed:
        p.n_immersions = 1
    twice = [p for p in immersed if tenure[id(p)] >= 100 and p is not pec_person]
    if len(twice) < _TWO_IMMERSIONS:
        return False
    for p in rng.sample(twice, _TWO_IMMERSIONS):
        p.n_immersions = 2
    pec_person.pec = True
    return True


def _draw(rng: random.Random, counts: dict):
    labels = list(counts)
    return labels[_choose_weighted(rng, labels, [counts[k] for k in labels])]


def _draw_2022_exit(rng: random.Random, p: _Person, latest: date) -> None:
    """Exit of a person who entered and left in 2022 (not a 2023 participant)."""
    hi = min(p.deadline, latest)
    if hi == p.deadline and rng.random() < 0.4:
        p.exit, p.reason = p.deadline, "Fin de suivi"
    else:
        p.reason = _draw(rng, {"Abandon": 30, "Emploi": 35, "Formation": 14, "Santé": 10, "Déménagement": 5, "Fin de suivi": 6})
        lo = p.entry + timedelta(days=7 if p.reason == "Abandon" else 21)
        if p.reason == "Abandon":
            hi = min(hi, p.entry + timedelta(days=80))
        days = _open_days(lo, hi) or _open_days(p.entry + timedelta(days=7), min(p.deadline, latest))
        p.exit = rng.choice(days)
    if p.reason in schema.EXIT_DETAILS:
        weights = {"Emploi": {"CDI": 2, "CDD de 6 mois et plus": 2, "CDD de moins de 6 mois": 8, "Intérim": 4,
                              "Alternance": 1, "Autre contrat": 5},
                   "Formation": {"Qualifiante": 4, "Certifiante": 1, "SIEG": 3, "Autre formation": 1},
                   "Fin de suivi": {"Création d'entreprise": 1, "S'engager vers l'emploi": 4, "Coaching social": 3,
                                    "Santé": 1, "Action vers ma route": 2, "Contrats aidés": 2, "Autre orientation": 1}}
        p.detail = _draw(rng, weights[p.reason])
    tenure = (p.exit - p.entry).days
    if p.reason == "Fin de suivi" or (p.reason in ("Emploi", "Formation") and tenure >= 42 and rng.random() < 0.55):
        p.n_immersions = 2 if tenure >= 110 and rng.random() < 0.2 else 1


def _assign_demographics(rng: random.Random, participants: list[_Person], others: list[_Person]) -> None:
    # -- the 117 participants of 2023: exact tables, with plausible links between them
    pairs = [k for k, c in _SEX_HOUSEHOLD_2023.items() for _ in range(c)]
    rng.shuffle(pairs)
    for p, (sex, household) in zip(participants, pairs, strict=True):
        p.sex, p.household = sex, household

    def w_age(p, band):
        if band == "Moins de 25 ans":
            return {"Seul(e) sans enfant": 3, "Seul(e) avec enfant(s)": 1.5, "Couple sans enfant": 1}.get(p.household, 0.5)
        if band == "Plus de 55 ans":
            return 3 if "sans enfant" in p.household else 0.2
        return 1

    _assign_exact(rng, participants, "age_band", _AGE_BANDS_2023, w_age)

    def w_status(p, status):
        if status == "ASE":
            return 1 if p.age_band == "Moins de 25 ans" and p.household.startswith("Seul") else 0
        if status == "RQTH":
            return 1 if p.age_band in ("25-40 ans", "40-55 ans") else 0
        if status == "Autre":
            return 2 if p.household.startswith("Couple") else 1
        return 1

    _assign_exact(rng, participants, "status", _STATUS_2023, w_status)

    def w_edu(p, level):
        if p.status == "ASE":
            return 1 if level in (2, 3) else 0
        if level in (5, 6):
            return 0 if p.age_band == "Moins de 25 ans" else 1
        return 1

    _assign_exact(rng, participants, "education", _EDUCATION_2023, w_edu)

    def w_barrier(p, barrier):
        if barrier == "Garde d'enfants":
            return (4 if p.sex == "Femme" else 1) if "avec enfant" in p.household else 0
        if barrier == "Handicap":
            return 1 if p.status == "RSA" and p.age_band in ("25-40 ans", "40-55 ans") else 0
        if barrier == "Santé":
            return (5 if p.reason == "Santé" or p.detail == "Santé" else 1) * (2 if p.age_band != "Moins de 25 ans" else 0.3)
        if barrier == "Aucun":
            return 2 if p.education >= 3 else 0.3
        if barrier == "Autonomie":
            return 3 if p.age_band == "Moins de 25 ans" else 1
        if barrier == "Compétences professionnelles":
            return 3 if p.education <= 2 else 1
        if barrier == "Chômage longue durée":
            return 3 if p.age_band in ("40-55 ans", "Plus de 55 ans") else 1
        return 1

    _assign_exact(rng, participants, "barrier", _BARRIER_2023, w_barrier)
    for p in participants:
        lo, hi = (18, 21) if p.status == "ASE" else _AGE_RANGES[p.age_band]
        p.age = rng.randint(lo, hi)

    # -- everybody else: drawn from the same distributions
    for p in others:
        p.sex, p.household = _draw(rng, {k: c for k, c in _SEX_HOUSEHOLD_2023.items()})
        p.age_band = _draw(rng, _AGE_BANDS_2023)
        p.age = rng.randint(*_AGE_RANGES[p.age_band])
        p.status = _draw(rng, {"RSA": 95, "RQTH": 2, "Autre": 3})
        p.education = _draw(rng, _EDUCATION_2023)
        p.barrier = _draw(rng, _BARRIER_2023)
        if p.barrier == "Garde d'enfants" and "avec enfant" not in p.household:
            p.barrier = "Mobilité"

    # -- prescribers: exact over the 134 persons positioned in 2023
    positioned = participants + [p for p in others if p.group == "ne23"]
    rest = []
    for p in positioned:
        if p.status in ("ASE", "RQTH") and p.participant_2023:
            p.prescriber = "APFE et autres organismes"
        else:
            rest.append(p)
    autre = [p for p in rest if p.status == "Autre" and p.participant_2023]
    autre[0].prescriber = "Pôle emploi"
    autre[1].prescriber = "APFE et autres organismes"
    rest = [p for p in rest if p.prescriber is None]
    fixed = {k: sum(p.prescriber == k for p in positioned) for k in _PRESCRIBERS_2023}
    labels = [k for k, c in _PRESCRIBERS_2023.items() for _ in range(c - fixed[k])]
    rng.shuffle(labels)
    for p, label in zip(rest, labels, strict=True):
        p.prescriber = label
    for p in others:
        if p.prescriber is None:
            p.prescriber = _draw(rng, {"Conseil départemental": 60, "APFE et autres organismes": 39, "Pôle emploi": 1})

    # -- communes: the eleven of the report, all present among the 2023 participants
    for p in participants + others:
        p.commune = _draw(rng, COMMUNES_5_VALLEES)
    present = {p.commune for p in participants}
    for commune in COMMUNES_5_VALLEES:
        if commune not in present:
            doullens = [p for p in participants if p.commune == "Doullens"]
            doullens[rng.randrange(len(doullens))].commune = commune


def _secondary_barriers(rng: random.Random, p: _Person, rqth: bool) -> str | None:
    if p.barrier == "Aucun":
        return None
    k = _draw(rng, {0: 35, 1: 40, 2: 25})
    weights = {"Mobilité": 8, "Numérique": 5, "Compétences professionnelles": 3, "Chômage longue durée": 3,
               "Logement": 2, "Santé": 2, "Autonomie": 2, "Maîtrise du français": 1,
               "Garde d'enfants": 4 if "avec enfant" in p.household else 0, "Handicap": 3 if rqth else 0}
    weights.pop(p.barrier, None)
    chosen: list[str] = []
    for _ in range(k):
        options = {b: w for b, w in weights.items() if w > 0 and b not in chosen}
        chosen.append(_draw(rng, options))
    return "|".join(b for b in schema.BARRIERS if b in chosen) or None


def _place_immersions(rng: random.Random, lo: date, hi: date, k: int) -> list[tuple[date, date]]:
    """k non-overlapping immersions of 1–3 weeks (Monday to Friday) within [lo, hi]."""
    for _attempt in range(200):
        periods = []
        start_from = lo
        for i in range(k):
            weeks = _draw(rng, {1: 35, 2: 45, 3: 20}) if _attempt < 100 else 1
            span = timedelta(days=7 * weeks - 3)
            room_end = hi - span if i == k - 1 else lo + (hi - lo) / k * (i + 1) - span
            mondays = [d for d in _open_days(start_from, room_end) if d.weekday() == 0
                       and not any(a <= d + span and d <= b for a, b in _CLOSURES)]
            if not mondays:
                break
            start = rng.choice(mondays)
            periods.append((start, start + span))
            start_from = start + span + timedelta(days=10)
        if len(periods) == k:
            return periods
    raise AssertionError(f"no room for {k} immersion(s) in {lo}..{hi}")


def _build_reference(rng: random.Random) -> dict[str, pl.DataFrame]:
    snapshot = _FIRST_SNAPSHOT
    # ---- entries
    h22 = [_Person("h22", entry=d) for d in _entry_dates(rng, 2022, _ENTRIES_2022, earliest=date(2022, 1, 10))]
    second_half = [p for p in h22 if p.entry >= date(2022, 7, 1)]
    early_leavers = []
    for _ in range(len(second_half) - _CARRY_OVERS):
        i = _choose_weighted(rng, second_half, [3 if p.entry < date(2022, 10, 1) else 1 if p.entry < date(2022, 11, 21) else 0
                                                for p in second_half])
        early_leavers.append(second_half.pop(i))
    for p in second_half:
        p.group = "co"
    e23 = [_Person("e23", entry=d) for d in _entry_dates(rng, 2023, _ENTRIES_2023)]

    # ---- 2023 exits and reasons (drawn again until every constraint holds; deterministic)
    pool = second_half + e23
    for _attempt in range(5000):
        if _plan_2023_exits(rng, pool):
            leavers = [p for p in pool if p.exit is not None]
            for p in pool:
                p.reason = p.detail = None
                p.n_immersions, p.pec = 0, False
            if _assign_2023_reasons(rng, leavers):
                break
    else:  # pragma: no cover - the seed is fixed
        raise AssertionError("could not plan the 2023 exits")

    # ---- the 41 still active on 2023-12-31: 2 Emploi and 3 Formation leave between 2 and 12 January 2024
    active = sorted((p for p in pool if p.exit is None), key=lambda p: p.entry)
    jan = [p for p in active if p.deadline < date(2024, 1, 13)]
    jan += [p for p in active if p not in jan][: 5 - len(jan)]
    jan_plan = [("Emploi", "CDD de 6 mois et plus"), ("Emploi", "CDD de moins de 6 mois"),
                ("Formation", "Autre formation"), ("Formation", "Autre formation"), ("Formation", "Qualifiante")]
    # the CDD of six months or more follows an immersion in December: give it to the one who entered first
    for p, (reason, detail) in zip(jan, jan_plan, strict=True):
        p.reason, p.detail = reason, detail
        p.exit = rng.choice(_open_days(date(2024, 1, 2), min(p.deadline, date(2024, 1, 12))))
    cdd6 = jan[0]
    still_active = [p for p in active if p.exit is None]

    # ---- 2022 leavers
    for p in h22:
        if p.group == "h22":
            _draw_2022_exit(rng, p, date(2022, 12, 23))

    # ---- non-entrants and 2024 newcomers
    ne22 = [_Person("ne22", not_entered="Non adhésion",
                    prescription=rng.choice(_open_days(date(2022, 1, 3), date(2022, 12, 9)))) for _ in range(_NON_ENTRANTS_2022)]
    ne23 = [_Person("ne23", not_entered="Non adhésion",
                    prescription=rng.choice(_open_days(date(2023, 1, 2), date(2023, 12, 8))))
            for _ in range(_NOT_ENTERED_2023["Non adhésion"])]
    waiting = _Person("ne23", not_entered="En attente", prescription=date(2023, 12, 20), first_rdv=date(2024, 1, 23))
    ne23.append(waiting)
    e24 = [_Person("e24", prescription=pr, entry=en, first_rdv=en) for pr, en in
           ((date(2024, 1, 3), date(2024, 1, 9)), (date(2024, 1, 4), date(2024, 1, 10)), (date(2024, 1, 8), date(2024, 1, 12)))]
    ne24 = [_Person("ne24", not_entered="En attente", prescription=d) for d in (date(2024, 1, 10), date(2024, 1, 11))]

    everyone = h22 + e23 + ne22 + ne23 + e24 + ne24
    participants = [p for p in everyone if p.participant_2023]
    assert len(participants) == 117

    # ---- prescription and first appointment of entrants
    for p in h22 + e23:
        p.first_rdv = p.entry if rng.random() < 0.6 else _prev_open(p.entry - timedelta(days=rng.randint(2, 8)))
        delay = rng.randint(1, 7) if rng.random() < 0.8 else rng.randint(8, 30)
        p.prescription = p.first_rdv - timedelta(days=delay)
        while p.prescription.weekday() >= 5 or p.prescription in _HOLIDAYS:
            p.prescription -= _D
    absent_first = set()
    for p in ne22 + ne23:
        if p.not_entered == "Non adhésion" and rng.random() < 0.7:
            delay = rng.randint(1, 7) if rng.random() < 0.8 else rng.randint(8, 20)
            p.first_rdv = _next_open(p.prescription + timedelta(days=delay))
            if rng.random() < 0.6:
                absent_first.add(id(p))

    _assign_demographics(rng, participants, [p for p in everyone if not p.participant_2023])

    # ---- immersions
    immersions = []
    for p in everyone:
        if p.n_immersions:
            pec = p.pec
            if pec:  # a two-week immersion ending the Friday before the exit, leading to the PEC
                end = p.exit
                while end.weekday() != 4 or end >= p.exit:
                    end -= _D
                periods = [(end - timedelta(days=11), end)]
            else:
                periods = _place_immersions(rng, p.entry + timedelta(days=14), p.exit, p.n_immersions)
            for i, (a, b) in enumerate(periods):
                immersions.append((p, a, b, pec and i == len(periods) - 1))
    # immersions of persons still in the action (or leaving in January 2024)
    immersions.append((cdd6, date(2023, 12, 4), date(2023, 12, 15), True))
    for p in [q for q in active if q is not cdd6 and q.entry <= date(2023, 11, 6)][::2]:
        periods = _place_immersions(rng, p.entry + timedelta(days=21), min(p.exit or snapshot, date(2024, 1, 12)), 1)
        immersions.append((p, *periods[0], False))
    # one 2022 immersion that led to a job
    h22_jobs = [p for p in h22 if p.group == "h22" and p.reason == "Emploi" and p.n_immersions]
    lucky = h22_jobs[0] if h22_jobs else None

    # ---- appointments
    rdv = []

    def modality():
        return _draw(rng, {"Physique": 72, "Téléphone": 22, "Visio": 6})

    def presence():
        return _draw(rng, {"Présent": 84, "Absent excusé": 10, "Absent non excusé": 6})

    imm_by_person: dict[int, list[tuple[date, date]]] = {}
    for p, a, b, _ in immersions:
        imm_by_person.setdefault(id(p), []).append((a, b))
    for p in everyone:
        if p.entry is None:
            if p.first_rdv and p.first_rdv <= snapshot:
                rdv.append((p, p.first_rdv, "Physique", "Absent non excusé" if id(p) in absent_first else "Présent"))
            continue
        if p.first_rdv < p.entry:
            rdv.append((p, p.first_rdv, "Physique", "Présent"))
        end = min(p.exit or snapshot, snapshot)
        weekly = []
        d = p.entry
        while d <= end:
            if _is_open(d):
                weekly.append(d)
            d += timedelta(days=7)
        rows = []
        for i, d in enumerate(weekly):
            if i == 0:
                rows.append([d, "Physique", "Présent"])
            elif any(a <= d <= b for a, b in imm_by_person.get(id(p), [])):
                rows.append([d, "Téléphone", "Présent"])
            else:
                rows.append([d, modality(), presence()])
        if p.reason == "Abandon":
            for r in rows[-3:][1:] if len(rows) > 2 else rows[1:]:
                r[2] = "Absent non excusé"
        elif p.reason in ("Santé", "Décès"):
            for r in rows[-2:][1:]:
                r[2] = "Absent excusé"
        if p.exit and p.reason in ("Fin de suivi", "Emploi", "Formation") and (not weekly or weekly[-1] != p.exit):
            rows.append([p.exit, "Physique" if p.reason == "Fin de suivi" else "Téléphone", "Présent"])
        rdv += [(p, *r) for r in rows]
    # a first collective workshop (CV) in January 2024, as the report planned
    for p in [q for q in still_active if q.entry <= date(2023, 12, 15)][:7]:
        rdv.append((p, date(2024, 1, 11), "Collectif", "Présent" if rng.random() < 0.85 else "Absent excusé"))

    # ---- ids in prescription order, then rows
    everyone.sort(key=lambda p: (p.prescription, p.entry or date.max))
    ids = {id(p): f"CE-{i:04d}" for i, p in enumerate(everyone, start=1)}
    rows = []
    for p in everyone:
        rqth = p.status == "RQTH" or p.barrier == "Handicap"
        situation = _draw(rng, {"Demandeur d'emploi de longue durée": 52, "Inactif": 30, "Demandeur d'emploi": 15,
                                "En emploi": 3})
        if p.barrier == "Chômage longue durée":
            situation = "Demandeur d'emploi de longue durée"
        elif p.status == "ASE":
            situation = "Inactif"
        follow_up = post_text = six = None
        qualification = None
        if p.exit:
            qualification = False
            if p.reason == "Formation" and p.detail in ("Certifiante", "Qualifiante"):
                qualification = p.detail == "Certifiante" or rng.random() < 0.25
            if p.reason not in ("Décès",) and (p.reason != "Déménagement" or rng.random() < 0.5) and rng.random() < 0.9:
                d = _next_open(p.exit + timedelta(days=rng.randint(27, 35)))
                if d <= snapshot:
                    follow_up = d
                    post_text = rng.choice(_POST_EXIT_TEXT[(p.reason, p.detail if p.reason in schema.EXIT_DETAILS else None)])
            if p.exit <= _add_months(snapshot, -6) and p.reason != "Décès":
                weights = _SIX_MONTHS[p.reason]
                six = _draw(rng, dict(zip(schema.SITUATION_6_MONTHS, weights, strict=True)))
        rows.append({
            "id_participant": ids[id(p)],
            "date_prescription": p.prescription,
            "prescripteur": p.prescriber,
            "territoire": schema.DEFAULT_TERRITORY,
            "action": schema.DEFAULT_ACTION,
            "commune": p.commune,
            "code_insee": None,
            "sexe": p.sex,
            "age": p.age,
            "niveau_formation": p.education,
            "statut": p.status,
            "situation_familiale": p.household,
            "frein_principal": p.barrier,
            "freins_secondaires": _secondary_barriers(rng, p, rqth),
            "date_premier_rdv": p.first_rdv,
            "date_entree": p.entry,
            "motif_non_entree": p.not_entered,
            "date_fin_prevue": p.planned_end,
            "date_sortie": p.exit,
            "motif_sortie": p.reason if p.exit else None,
            "detail_sortie": p.detail if p.exit else None,
            "situation_emploi_entree": situation,
            "rqth": rqth,
            "qualification_obtenue": qualification,
            "date_suivi_post_sortie": follow_up,
            "situation_post_sortie": post_text,
            "situation_6_mois": six,
        })
    participants_df = pl.DataFrame(rows, schema=schema.typed_schema(schema.PARTICIPANTS), orient="row")
    rdv_df = pl.DataFrame(
        [{"id_participant": ids[id(p)], "date": d, "modalite": m, "presence": pr} for p, d, m, pr in rdv],
        schema=schema.typed_schema(schema.RENDEZ_VOUS), orient="row",
    ).sort("id_participant", "date", "modalite")
    imm_rows = [{"id_participant": ids[id(p)], "date_debut": a, "date_fin": b, "secteur": rng.choice(SECTORS),
                 "debouche_contrat": bool(led) or (p is lucky and b == max(x[1] for x in imm_by_person[id(p)]))}
                for p, a, b, led in immersions]
    imm_df = pl.DataFrame(imm_rows, schema=schema.typed_schema(schema.IMMERSIONS), orient="row").sort("id_participant", "date_debut")
    return {"participants": participants_df, "rendez_vous": rdv_df, "immersions": imm_df}


# Prescriptions a month after the first export (2023: ~9.5 a month), by month of the year and by year: fewer in summer
# and at Christmas, more at the « rentrée » and in January; 2025 a little busier, 2026 a little quieter.
_PRESCRIPTION_RATE = 9.0
_SEASON = {1: 1.2, 2: 1.0, 3: 1.05, 4: 0.95, 5: 0.9, 6: 0.95, 7: 0.8, 8: 0.4, 9: 1.35, 10: 1.3, 11: 1.05, 12: 0.65}
_YEAR = {2024: 1.0, 2025: 1.08, 2026: 0.95}
_PROFILE_COLUMNS = ["prescripteur", "commune", "code_insee", "sexe", "age", "niveau_formation", "statut", "situation_familiale",
                    "frein_principal", "freins_secondaires", "situation_emploi_entree", "rqth"]


def _extend_reference(frames: dict[str, pl.DataFrame], rng: random.Random, data_date: date) -> dict[str, pl.DataFrame]:
    """Carry the extract exported on `_FIRST_SNAPSHOT` on to `data_date` without changing anything it held up to that
    day (so every 2022 and 2023 figure stays as it was): the persons still in the action leave (or not) after it, new
    persons are prescribed, enter and leave each month, with their appointments and immersions.

    Durations of stay, exit reasons with their detail and profiles are drawn from the 2022–2023 persons themselves; a
    profile is a 2023 participant's (age moved by up to two years). The person « En attente » of December 2023 stays so:
    the 2023 report counts them as such.
    """
    people = frames["participants"]
    done = people.filter(pl.col("date_sortie").is_not_null())
    stays = sorted((e - b).days for b, e in zip(done["date_entree"], done["date_sortie"]))
    outcomes = list(zip(done.filter(pl.col("date_sortie").dt.year() == 2023)["motif_sortie"],
                        done.filter(pl.col("date_sortie").dt.year() == 2023)["detail_sortie"]))
    profiles = people.filter(pl.col("date_entree").dt.year() == 2023).select(_PROFILE_COLUMNS).rows(named=True)
    later = _FIRST_SNAPSHOT + _D

    def stay_beyond(spent: int) -> int:
        longer = [d for d in stays if d > spent]
        return rng.choice(longer) if longer else spent + rng.randint(7, 90)

    def exit_fields(entry: date, spent: int = 0) -> dict:
        exit_ = _prev_open(entry + timedelta(days=stay_beyond(spent)))
        if exit_ <= max(entry, later - _D) or exit_ > data_date:
            return {}
        reason, detail = rng.choice(outcomes)
        out = {"date_sortie": exit_, "motif_sortie": reason, "detail_sortie": detail, "qualification_obtenue": False}
        if reason == "Formation" and detail in ("Certifiante", "Qualifiante"):
            out["qualification_obtenue"] = detail == "Certifiante" or rng.random() < 0.25
        if reason != "Décès" and rng.random() < 0.85:
            d = _next_open(exit_ + timedelta(days=rng.randint(27, 35)))
            if d <= data_date:
                out["date_suivi_post_sortie"] = d
                out["situation_post_sortie"] = rng.choice(_POST_EXIT_TEXT.get((reason, detail))
                                                          or _GENERIC_POST_EXIT_TEXT.get((reason, None)) or ["Sans nouvelles"])
        if exit_ <= _add_months(data_date, -6) and reason != "Décès":
            out["situation_6_mois"] = _draw(rng, dict(zip(schema.SITUATION_6_MONTHS, _SIX_MONTHS[reason], strict=True)))
        return out

    # ---- those still in the action on the first export day, and the two prescribed in January 2024 still waiting
    updated = []
    for row in people.rows(named=True):
        if row["date_entree"] is not None and row["date_sortie"] is None:
            row.update(exit_fields(row["date_entree"], (_FIRST_SNAPSHOT - row["date_entree"]).days))
        elif row["date_entree"] is None and row["date_prescription"] >= date(2024, 1, 1):
            row["motif_non_entree"] = "Non adhésion"
        updated.append(row)
    # ---- newcomers, month by month
    newcomers = []
    month = date(2024, 1, 1)
    while month <= data_date:
        last = min(_month(month.year, month.month)[1], data_date)
        days = [d for d in _open_days(max(month, later), last)]
        n = _poisson(rng, _PRESCRIPTION_RATE * _SEASON[month.month] * _YEAR.get(month.year, 1.0) * len(days) / 21) if days else 0
        for prescription in sorted(rng.choice(days) for _ in range(n)):
            profile = dict(rng.choice(profiles))
            profile["age"] = min(max(int(profile["age"]) + rng.randint(-2, 2), 18), 64)
            row = {**{c: None for c in people.columns}, **profile, "date_prescription": prescription,
                   "territoire": schema.DEFAULT_TERRITORY, "action": schema.DEFAULT_ACTION}
            delay = rng.randint(1, 7) if rng.random() < 0.8 else rng.randint(8, 30)
            first_rdv = _next_open(prescription + timedelta(days=delay))
            if rng.random() < 0.85:
                entry = first_rdv if rng.random() < 0.6 else _next_open(first_rdv + timedelta(days=rng.randint(2, 8)))
                if entry <= data_date:
                    row.update(date_premier_rdv=first_rdv, date_entree=entry, date_fin_prevue=_add_months(entry, 6))
                    row.update(exit_fields(entry))
                else:
                    row.update(date_premier_rdv=first_rdv if first_rdv <= data_date else None, motif_non_entree="En attente")
            else:
                row["motif_non_entree"] = "Non adhésion"
                if rng.random() < 0.7 and first_rdv <= data_date:
                    row["date_premier_rdv"] = first_rdv
            newcomers.append(row)
        month = _add_months(month, 1)
    start = people.height + 1
    for i, row in enumerate(newcomers):
        row["id_participant"] = f"CE-{start + i:04d}"
    participants = pl.DataFrame(updated + newcomers, schema=people.schema, orient="row")

    # ---- appointments and immersions after the first export day
    rdv, imm = [], []
    for row in updated + newcomers:
        pid, entry, exit_ = row["id_participant"], row["date_entree"], row["date_sortie"]
        new = row["date_prescription"] >= later
        if entry is None:
            if new and row["date_premier_rdv"] is not None:
                rdv.append((pid, row["date_premier_rdv"], "Physique",
                            "Présent" if row["motif_non_entree"] == "En attente" or rng.random() < 0.4 else "Absent non excusé"))
            continue
        end = min(exit_ or data_date, data_date)
        if end < later:
            continue
        if new and row["date_premier_rdv"] < entry:
            rdv.append((pid, row["date_premier_rdv"], "Physique", "Présent"))
        d = entry
        while d < later:
            d += timedelta(days=7)
        periods = []
        if exit_ is not None and rng.random() < 0.45:
            lo = max(entry + timedelta(days=14), later)
            if (exit_ - lo).days > 20:
                try:
                    periods = _place_immersions(rng, lo, exit_, 2 if rng.random() < 0.25 else 1)
                except AssertionError:  # no room for it before the exit
                    periods = []
                for j, (a, b) in enumerate(periods):
                    led = row["motif_sortie"] == "Emploi" and j == len(periods) - 1 and rng.random() < 0.35
                    imm.append((pid, a, b, rng.choice(SECTORS), led))
        first = True
        while d <= end:
            if _is_open(d):
                if first and d == entry:
                    rdv.append((pid, d, "Physique", "Présent"))
                elif any(a <= d <= b for a, b in periods):
                    rdv.append((pid, d, "Téléphone", "Présent"))
                else:
                    rdv.append((pid, d, _draw(rng, {"Physique": 70, "Téléphone": 22, "Visio": 6, "Collectif": 2}),
                                _draw(rng, {"Présent": 84, "Absent excusé": 10, "Absent non excusé": 6})))
            first = False
            d += timedelta(days=7)
        if exit_ is not None and row["motif_sortie"] in ("Fin de suivi", "Emploi", "Formation") and (exit_ - entry).days % 7:
            rdv.append((pid, exit_, "Physique" if row["motif_sortie"] == "Fin de suivi" else "Téléphone", "Présent"))
    rdv_df = pl.concat([frames["rendez_vous"], pl.DataFrame(rdv, schema=frames["rendez_vous"].schema, orient="row")])
    imm_df = pl.concat([frames["immersions"], pl.DataFrame(imm, schema=frames["immersions"].schema, orient="row")])
    return {"participants": participants, "rendez_vous": rdv_df.sort("id_participant", "date", "modalite", maintain_order=True),
            "immersions": imm_df.sort("id_participant", "date_debut")}


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw with Python's generator (Knuth's method: the means here are small)."""
    limit, k, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def reference_extract() -> dict[str, pl.DataFrame]:
    """The reference extract: 2022 to `REFERENCE_SNAPSHOT` (autumn 2026), whose 2023 figures are those of the 2023 report
    (the 2022–2023 part as exported on `_FIRST_SNAPSHOT`, then carried on by `_extend_reference`)."""
    return _extend_reference(_build_reference(random.Random(_REFERENCE_SEED)), random.Random(_EXTENSION_SEED),
                             REFERENCE_SNAPSHOT)


# --------------------------------------------------------------------------------------------
# Synthetic extract (vectorised)
# --------------------------------------------------------------------------------------------

_EPOCH = date(1970, 1, 1)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_extract(frames: dict[str, pl.DataFrame], out_dir) -> None:
    """Write `participants.csv`, `rendez_vous.csv`, `immersions.csv` as French office software does:
    UTF-8 with BOM, `;` separator, dates JJ/MM/AAAA, booleans oui/non, nulls as empty cells."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("participants", "rendez_vous", "immersions"):
        if name not in frames:
            continue
        df = frames[name]
        bools = [c for c, t in df.schema.items() if t == pl.Boolean]
        if bools:
            df = df.with_columns(pl.when(pl.col(c)).then(pl.lit("oui")).when(pl.col(c).not_()).then(pl.lit("non")).alias(c)
                                 for c in bools)
        df.write_csv(out / f"{name}.csv", include_bom=True, separator=";", date_format="%d/%m/%Y", null_value="")


def __getattr__(name: str):
    """`synthetic_extract` moved to `analytics.synthetic`; still reachable here for older callers."""
    if name == "synthetic_extract":
        from analytics.synthetic import synthetic_extract

        return synthetic_extract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
