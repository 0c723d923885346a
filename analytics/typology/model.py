"""The typology of the publics: a multiple correspondence analysis (ACM, `prince.MCA`) of the profile at entry,
a Ward hierarchical clustering (CAH, `scipy.cluster.hierarchy`) of its factor coordinates, and the description of
each type by its over-represented modalities (test values).

Everything here works on plain frames (no store): `analytics.typology.storage` feeds it the persons who entered the
action and stores what it returns. The method, step by step (also in `docs/typology.md`):

1. Profile: seven categorical variables (`VARIABLES`), a missing value being its own modality « Non renseigné »;
   age in the contract's bands, education in four levels, barriers counted (primary and secondary, « Aucun » not
   counted). A modality held by fewer than `RARE_SHARE` of the persons is merged into « Autre » of its variable
   (rare modalities would otherwise make the first axes and tiny types on their own).
2. ACM on the persons, or on a deterministic sample of `FIT_SAMPLE` of them beyond that (chosen by a hash of the
   person's identifiers, so the same store gives the same sample whatever the order of its rows).
3. CAH (Ward) on the coordinates of the axes whose eigenvalue exceeds 1/p (p = number of variables: the average
   eigenvalue, Benzécri's rule), at most `MAX_AXES`.
4. Number of types: between 3 and 6, the k whose split brings the largest relative gain of within-types inertia,
   1 − W(k)/W(k−1) (W(k): the within-types inertia of Ward's partition in k types) — the « gain relatif d'inertie »
   criterion of FactoMineR's HCPC.
5. Consolidation: every person (sample or not) takes the type of the nearest type centre in the factor space, one
   rule for all.
6. Types numbered by decreasing size (then by label); each described by its modalities of test value ≥ 1.96.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analytics import schema as S

c = pl.col

VARIABLES = {  # column of the profile → French name of the variable
    "sexe": "Sexe",
    "age_band": "Âge",
    "education": "Niveau de formation",
    "statut": "Statut",
    "situation_familiale": "Situation familiale",
    "frein_principal": "Frein principal",
    "n_barriers": "Nombre de freins",
}
MISSING = "Non renseigné"
OTHER = "Autre"
RARE_SHARE = 0.02
FIT_SAMPLE = 5000
MAX_AXES = 10
MIN_PERSONS = 30
K_RANGE = (3, 6)
TEST_VALUE_THRESHOLD = 1.96
SEED = 0

EDUCATION_BANDS = {1: "Niveau 1-2 (infra CAP)", 2: "Niveau 1-2 (infra CAP)", 3: "Niveau 3 (CAP/BEP)",
                   4: "Niveau 4 (Bac)"}
EDUCATION_HIGH = "Niveau 5 et plus (Bac+2 et plus)"
BARRIER_COUNTS = ["Aucun frein", "Un frein", "Deux freins", "Trois freins ou plus"]  # in words: not read as counts


def profile(persons: pl.DataFrame) -> pl.DataFrame:
    """The seven profile variables (strings) of `persons` (extract columns: sexe, age, niveau_formation, statut,
    situation_familiale, frein_principal, freins_secondaires), in the order of `VARIABLES`."""
    primary = c("frein_principal").cast(pl.String)
    secondary = c("freins_secondaires").cast(pl.String).str.split("|").fill_null([])
    counted = (pl.concat_list(primary, secondary).list.eval(pl.element().str.strip_chars())
               .list.eval(pl.element().filter(pl.element().is_not_null() & (pl.element() != "") & (pl.element() != "Aucun")))
               .list.unique().list.len().alias("_n"))
    # counted once per distinct (primary, secondary) pair: a few hundred pairs at a million persons
    pairs = persons.select(primary, c("freins_secondaires").cast(pl.String)).unique().with_columns(counted)
    persons = persons.with_columns(primary, c("freins_secondaires").cast(pl.String)).join(
        pairs, on=["frein_principal", "freins_secondaires"], how="left", nulls_equal=True, maintain_order="left")
    barriers = c("_n")
    age = c("age")
    level = c("niveau_formation").cast(pl.Int64)
    out = persons.select(
        c("sexe").cast(pl.String).alias("sexe"),
        pl.when(age.is_null()).then(None).when(age < 25).then(pl.lit(S.AGE_BANDS[0])).when(age < 40)
        .then(pl.lit(S.AGE_BANDS[1])).when(age < 55).then(pl.lit(S.AGE_BANDS[2])).otherwise(pl.lit(S.AGE_BANDS[3]))
        .alias("age_band"),
        pl.when(level.is_null()).then(None).when(level >= 5).then(pl.lit(EDUCATION_HIGH))
        .otherwise(level.replace_strict(EDUCATION_BANDS, default=None, return_dtype=pl.String)).alias("education"),
        c("statut").cast(pl.String).alias("statut"),
        c("situation_familiale").cast(pl.String).alias("situation_familiale"),
        primary.alias("frein_principal"),
        pl.when(barriers >= 3).then(pl.lit(BARRIER_COUNTS[3])).otherwise(
            barriers.cast(pl.Int64).replace_strict({0: BARRIER_COUNTS[0], 1: BARRIER_COUNTS[1], 2: BARRIER_COUNTS[2]},
                                                   default=BARRIER_COUNTS[3], return_dtype=pl.String)).alias("n_barriers"),
    )
    return out.with_columns(pl.col(v).fill_null(MISSING) for v in VARIABLES)


def other(variable: str) -> str:
    """The modality the rare modalities of `variable` are merged into: « Autre (frein principal) »."""
    return f"{OTHER} ({VARIABLES[variable].lower()})"


def merge_rare(prof: pl.DataFrame, share: float = RARE_SHARE) -> pl.DataFrame:
    """Modalities held by fewer than `share` of the rows become « Autre (variable) »."""
    n = prof.height
    exprs = []
    for v in VARIABLES:
        counts = prof[v].value_counts()
        rare = counts.filter(c("count") < share * n)[v].to_list()
        exprs.append(pl.when(c(v).is_in(rare)).then(pl.lit(other(v))).otherwise(c(v)).alias(v) if rare else c(v))
    return prof.with_columns(exprs)


def stable_order(keys: list[str]) -> np.ndarray:
    """A permutation of `keys` depending only on their values (a hash of each, ties by the key), for the
    deterministic sample."""
    digests = np.fromiter((int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big") for k in keys),
                          dtype=np.uint64, count=len(keys))
    # the keys' stable sort order, by Polars (UTF-8 byte order = Python's code-point order; numpy on an object array
    # of a million strings took a second)
    by_key = pl.DataFrame({"k": keys}, schema={"k": pl.String}).with_row_index().sort(
        "k", maintain_order=True)["index"].to_numpy().astype(np.int64)
    return by_key[np.argsort(digests[by_key], kind="stable")].astype(np.int64)


def test_values(prof: pl.DataFrame, types: np.ndarray | pl.Series) -> pl.DataFrame:
    """type, variable, modality, n_type, n_modality, n_both, share_in_type, share_overall, test_value: for every
    type and modality, the test value (« valeur-test », Lebart–Morineau–Piron) of the modality in the type:

        v = (n_km − n_k·n_m/n) / sqrt(n_k · (n − n_k)/(n − 1) · n_m/n · (1 − n_m/n))

    the number of persons of the type having the modality, centred and reduced under the hypergeometric law of
    drawing n_k persons at random among n (v ≥ 1.96: over-represented at the 5 % level)."""
    n = prof.height
    frame = prof.with_columns(pl.Series("type", np.asarray(types)).cast(pl.Int64))
    n_type = frame.group_by("type").len("n_type")
    rows = []
    for v in VARIABLES:
        both = frame.group_by("type", c(v).alias("modality")).len("n_both")
        marg = frame.group_by(c(v).alias("modality")).len("n_modality")
        grid = n_type.join(marg, how="cross").join(both, on=["type", "modality"], how="left").with_columns(
            c("n_both").fill_null(0), pl.lit(v).alias("variable"))
        rows.append(grid)
    out = pl.concat(rows).with_columns(c("n_type", "n_modality", "n_both").cast(pl.Int64))
    nk, nm, nkm = c("n_type").cast(pl.Float64), c("n_modality").cast(pl.Float64), c("n_both").cast(pl.Float64)
    expected = nk * nm / n
    var = nk * (n - nk) / max(n - 1, 1) * (nm / n) * (1 - nm / n)
    return (out.with_columns((nkm / nk).alias("share_in_type"), (nm / n).alias("share_overall"),
                             pl.when(var > 0).then((nkm - expected) / var.sqrt()).otherwise(0.0).alias("test_value"))
            .select("type", "variable", "modality", "n_type", "n_modality", "n_both", "share_in_type", "share_overall",
                    "test_value")
            .sort("type", "test_value", "variable", "modality", descending=[False, True, False, False]))


# ---------------------------------------------------------------- labels

_HOUSEHOLD = {"Seul(e) sans enfant": "seules sans enfant", "Seul(e) avec enfant(s)": "seules avec enfant(s)",
              "Couple sans enfant": "en couple sans enfant", "Couple avec enfant(s)": "en couple avec enfant(s)"}
_STATUS = {"RSA": "au RSA", "ASE": "suivies par l'ASE", "RQTH": "reconnues travailleurs handicapés (RQTH)"}
_EDU = {"Niveau 1-2 (infra CAP)": "niveau infra CAP", "Niveau 3 (CAP/BEP)": "niveau CAP/BEP",
        "Niveau 4 (Bac)": "niveau Bac", EDUCATION_HIGH: "niveau Bac+2 et plus"}
_AGE = {S.AGE_BANDS[0]: "moins de 25 ans", S.AGE_BANDS[1]: "25 à 39 ans", S.AGE_BANDS[2]: "40 à 54 ans",
        S.AGE_BANDS[3]: "55 ans et plus"}
_COUNT = {BARRIER_COUNTS[0]: "sans frein déclaré", BARRIER_COUNTS[1]: "un seul frein", BARRIER_COUNTS[2]: "deux freins",
          BARRIER_COUNTS[3]: "trois freins ou plus"}


def _piece(variable: str, modality: str, sex: str | None) -> str | None:
    """The words a modality brings to a label (None: says nothing worth a label)."""
    if modality == MISSING or modality.startswith(OTHER):
        return None
    if variable == "situation_familiale":
        words = _HOUSEHOLD.get(modality, modality.lower())
        return words.replace("seules", "seuls") if sex == "Homme" else words
    if variable == "statut":
        words = _STATUS.get(modality)
        return None if words is None else (words.replace("suivies", "suivis").replace("reconnues", "reconnus")
                                           if sex == "Homme" else words)
    if variable == "education":
        return _EDU.get(modality)
    if variable == "age_band":
        return None if modality not in _AGE else "de " + _AGE[modality]
    if variable == "n_barriers":
        return _COUNT.get(modality)
    if variable == "frein_principal":
        return "sans frein principal" if modality == "Aucun" else f"frein {modality[0].lower()}{modality[1:]}"
    return None


_GRAMMAR = ["situation_familiale", "age_band", "statut", "education", "frein_principal", "n_barriers"]


def label(modalities: list[tuple[str, str]], max_pieces: int = 3) -> str:
    """A French name from the over-represented (variable, modality) pairs, strongest first: the sex (if
    over-represented) heads it (« Personnes » otherwise); then the `max_pieces` strongest modalities of the other
    variables, one per variable, in a fixed reading order (household, age, status, education, barrier, number of
    barriers): « Femmes seules avec enfant(s), niveau CAP/BEP, frein garde d'enfants »."""
    sex = next((m for v, m in modalities if v == "sexe" and m in S.SEX), None)
    head = {"Femme": "Femmes", "Homme": "Hommes"}.get(sex, "Personnes")
    chosen: dict[str, str] = {}
    for v, m in modalities:
        if v == "sexe" or v in chosen:
            continue
        words = _piece(v, m, sex)
        if words:
            chosen[v] = words
        if len(chosen) == max_pieces:
            break
    if not chosen:
        return "Profils variés" if sex is None else head
    pieces = [chosen[v] for v in _GRAMMAR if v in chosen]
    first = pieces[0]
    if first.startswith("niveau"):
        first = "de " + first
    elif first.startswith(("frein", "un seul", "deux", "trois")):
        first = "avec " + first
    return f"{head} {first}" + ("" if len(pieces) == 1 else ", " + ", ".join(pieces[1:]))


# ---------------------------------------------------------------- fit


@dataclass
class Fit:
    """What a fit gives: each person's type (aligned on the input rows), the types' description and the factor map."""

    types: np.ndarray  # type number (1..k) of each input row
    k: int
    labels: dict[int, str]
    modalities: dict[int, list[tuple[str, str, float]]]  # type → [(variable, modality, test value)], strongest first
    description: pl.DataFrame  # test_values()
    eigenvalues: list[float]
    inertia_share: list[float]  # share of the inertia of each axis kept for the map (axes 1 and 2 first)
    n_axes: int
    criterion: dict[int, float]  # k → 1 − W(k)/W(k−1)
    column_coords: pl.DataFrame  # variable, modality, n, axis1, axis2
    row_coords: np.ndarray  # (n, 2): axes 1 and 2 of each input row
    n_fit: int
    sampled: bool
    notes: list[str] = field(default_factory=list)
    order: np.ndarray | None = None  # stable_order(keys), for the map's deterministic sample (computed once)


def _one_hot(prof: pl.DataFrame, columns: list[tuple[str, str]]) -> np.ndarray:
    index = {vm: j for j, vm in enumerate(columns)}
    out = np.zeros((prof.height, len(columns)), dtype=np.float64)
    for v in VARIABLES:
        js = np.array([index.get((v, m), -1) for m in prof[v].to_list()])
        rows = np.nonzero(js >= 0)[0]
        out[rows, js[rows]] = 1.0
    return out


def fit(keys: list[str], persons: pl.DataFrame, fit_sample: int = FIT_SAMPLE, k_range: tuple[int, int] = K_RANGE) -> Fit | None:
    """Fit the typology on `persons` (extract columns, see `profile`), identified by `keys` (strings, for the
    deterministic sample). None with fewer than `MIN_PERSONS` persons."""
    import pandas as pd
    import prince
    from scipy.cluster.hierarchy import linkage

    n = persons.height
    if n < MIN_PERSONS:
        return None
    prof = merge_rare(profile(persons))
    order = stable_order(keys)
    sampled = n > fit_sample
    fit_rows = np.sort(order[:fit_sample]) if sampled else order
    train = prof[fit_rows]
    # drop variables with one modality only (nothing to separate on)
    variables = [v for v in VARIABLES if train[v].n_unique() > 1]
    if len(variables) < 2:
        return None
    mca = prince.MCA(n_components=min(MAX_AXES, max(2, sum(train[v].n_unique() - 1 for v in variables))),
                     random_state=SEED, engine="sklearn")
    frame = pd.DataFrame({v: train[v].to_list() for v in variables})
    mca = mca.fit(frame)
    eig = np.asarray(mca.eigenvalues_, dtype=float)
    p = len(variables)
    n_axes = int(min(MAX_AXES, max(2, int((eig > 1.0 / p).sum()))))
    n_axes = min(n_axes, len(eig))
    cc = mca.column_coordinates(frame).iloc[:, :n_axes]
    # prince names one-hot columns "variable__modality"
    columns = []
    for name in cc.index:
        v, m = str(name).split("__", 1)
        columns.append((v, m))
    G = cc.to_numpy(dtype=float)
    sv = np.sqrt(eig[:n_axes])

    def project(fr: pl.DataFrame) -> np.ndarray:
        # a row's principal coordinates: the mean of its modalities' principal coordinates, divided by sqrt(eigen)
        return _one_hot(fr, columns) @ G / p / sv

    X_train = project(train)
    Z = linkage(X_train, method="ward")
    # Ward's merge heights h give the within-types inertia lost at each merge (h²/2); W(k), the within-types
    # inertia with k types, is the sum over the merges that leave at least k types
    delta = Z[:, 2] ** 2 / 2  # merge i takes n−i types to n−i−1
    n_train = len(X_train)

    def within(k: int) -> float:
        return float(delta[: n_train - k].sum())

    lo, hi = k_range
    hi = min(hi, n_train - 1)
    criterion = {}
    for k in range(lo, hi + 1):
        w_prev = within(k - 1)
        criterion[k] = float(1 - within(k) / w_prev) if w_prev > 0 else 0.0  # relative inertia gain of the k-th type
    k = max(criterion, key=lambda kk: (criterion[kk], -kk))
    from scipy.cluster.hierarchy import fcluster

    ward = fcluster(Z, t=k, criterion="maxclust")
    centres = np.vstack([X_train[ward == t].mean(axis=0) for t in sorted(set(ward))])
    # every person projected through their distinct profile (a few thousand at a million persons)
    ids = prof.select(pl.struct(list(VARIABLES)).rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    distinct = prof.with_columns(pl.Series("_id", ids)).unique("_id").sort("_id").drop("_id")
    X_distinct = project(distinct)
    X_all = X_distinct[ids]
    # nearest centre of each distinct profile, then of each person (the persons × types × axes array of distances
    # took 0.8 GB at a million persons)
    raw = ((X_distinct[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)[ids]
    # a centre nobody is nearest to (possible after consolidation) is dropped
    desc = test_values(prof, raw)
    # number by decreasing size, then by label
    sizes = {int(t): int((raw == t).sum()) for t in set(raw.tolist())}
    prelim = {}
    for t in sizes:
        over = desc.filter((c("type") == t) & (c("test_value") >= TEST_VALUE_THRESHOLD))
        prelim[t] = [(v, m, float(tv)) for v, m, tv in over.select("variable", "modality", "test_value").iter_rows()]
    labels0 = {t: label([(v, m) for v, m, _ in prelim[t]]) for t in sizes}
    ranking = sorted(sizes, key=lambda t: (-sizes[t], labels0[t]))
    renumber = {t: i + 1 for i, t in enumerate(ranking)}
    types = np.array([renumber[int(t)] for t in raw], dtype=np.int64)
    description = desc.with_columns(c("type").replace_strict(renumber, return_dtype=pl.Int64)).sort(
        "type", "test_value", "variable", "modality", descending=[False, True, False, False])
    labels = {renumber[t]: labels0[t] for t in sizes}
    # two types of the same name: the second names one more modality, then its number
    seen: dict[str, int] = {}
    for t in sorted(labels):
        if labels[t] in seen:
            longer = label([(v, m) for v, m, _ in prelim[ranking[t - 1]]], max_pieces=5)
            labels[t] = longer if longer not in labels.values() else f"{labels[t]} (type {t})"
        seen[labels[t]] = t
    modalities = {renumber[t]: prelim[t] for t in sizes}
    counts = (prof.unpivot(on=variables, variable_name="variable", value_name="modality")
              .group_by("variable", "modality").len("n"))
    coords = pl.DataFrame({"variable": [v for v, _ in columns], "modality": [m for _, m in columns],
                           "axis1": G[:, 0] / 1.0, "axis2": G[:, 1] if G.shape[1] > 1 else np.zeros(len(columns))})
    coords = coords.join(counts, on=["variable", "modality"], how="left").with_columns(c("n").fill_null(0).cast(pl.Int64))
    total = float(eig.sum()) if len(eig) else 1.0
    try:
        shares = [float(s) / 100 for s in np.asarray(mca.percentage_of_variance_)[:n_axes]]
    except Exception:  # noqa: BLE001 — older prince: computed from the eigenvalues kept
        shares = [float(e / total) for e in eig[:n_axes]]
    notes = []
    if sampled:
        notes.append(f"Analyse ajustée sur un échantillon déterministe de {fit_sample:,} personnes sur {n:,} ; "
                     "chaque personne reçoit le type du centre le plus proche.".replace(",", "\u202f"))
    return Fit(types=types, k=len(sizes), labels=labels, modalities=modalities, description=description,
               eigenvalues=[float(e) for e in eig], inertia_share=shares, n_axes=n_axes, criterion=criterion,
               column_coords=coords, row_coords=X_all[:, :2], n_fit=int(len(fit_rows)), sampled=sampled, notes=notes,
               order=order)


def adjusted_rand_index(a, b) -> float:
    """Agreement of two partitions corrected for chance (Hubert & Arabie), from their contingency table."""
    from scipy.special import comb

    a, b = np.asarray(a), np.asarray(b)
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), dtype=np.int64)
    np.add.at(table, (ai, bi), 1)
    sum_comb = comb(table, 2).sum()
    sa, sb = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    expected = sa * sb / comb(len(a), 2)
    top = (sa + sb) / 2
    return float((sum_comb - expected) / (top - expected)) if top != expected else 1.0


__all__ = ["Fit", "VARIABLES", "adjusted_rand_index", "fit", "label", "profile", "test_values"]
