"""Synthetic tracking extracts (SPEC-extract v1) of any size, for tests and the benchmark.

`synthetic_extract(n, seed)` builds an extract of `n` persons with the reference's shape (`analytics.sample`),
spread over 2021–2025, fully vectorised. Its distributions (2023 report figures, communes, perimeters, texts)
come from `analytics.sample`, which also writes the files (`write_extract`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from analytics import schema
from analytics.sample import (
    _AGE_BANDS_2023, _AGE_RANGES, _BARRIER_2023, _EDUCATION_2023, _EPOCH, _EXIT_DETAIL_2023, _EXIT_REASON_2023,
    _GENERIC_POST_EXIT_TEXT, _HOLIDAYS, _OTHER_TERRITORIES, _POST_EXIT_TEXT, _PRESCRIBERS_2023, _SEX_HOUSEHOLD_2023,
    _SIX_MONTHS, _STATUS_2023, _SYNTHETIC_PERIMETERS, COMMUNES_5_VALLEES, SECTORS, SYNTHETIC_SNAPSHOT,
)

__all__ = ["synthetic_extract", "write_synthetic", "SYNTHETIC_SNAPSHOT"]


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _to_weekday_forward(days: np.ndarray) -> np.ndarray:
    dow = _weekday(days)
    return days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))


def _to_weekday_backward(days: np.ndarray) -> np.ndarray:
    dow = _weekday(days)
    return days - np.where(dow == 5, 1, np.where(dow == 6, 2, 0))


def _labels(labels: list, codes: np.ndarray, name: str) -> pl.Series:
    """Gather labels by code (code -1 or a None label → null)."""
    values = pl.Series(name, [*labels, None], dtype=pl.String)
    codes = np.where(codes < 0, len(labels), codes)
    return values.gather(codes).alias(name)


def _dates(days: np.ndarray, valid: np.ndarray | None, name: str) -> pl.Series:
    s = pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    if valid is not None and not valid.all():
        s = s.scatter(np.flatnonzero(~valid), None)
    return s


def _choice(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(p) - 1)


def _conditional_choice(rng: np.random.Generator, table: np.ndarray, cond: np.ndarray) -> np.ndarray:
    """One draw per row from the distribution `table[cond[row]]` (rows of weights; an all-zero row gives -1)."""
    table = np.asarray(table, dtype=float)
    totals = table.sum(axis=1, keepdims=True)
    cdf = np.cumsum(table / np.where(totals == 0, 1, totals), axis=1)
    u = rng.random(len(cond))
    out = np.zeros(len(cond), dtype=np.int64)
    for j in range(table.shape[1] - 1):  # loop over labels, not rows
        out += u >= cdf[cond, j]
    return np.where(totals[cond, 0] == 0, -1, out)


def _add_six_months(days: np.ndarray) -> np.ndarray:
    s = pl.Series(days.astype(np.int32)).cast(pl.Date).dt.offset_by("6mo")
    return s.cast(pl.Int32).to_numpy().astype(np.int64)


def synthetic_extract(n: int, seed: int = 0) -> dict[str, pl.DataFrame]:
    """A synthetic extract of `n` persons (2021–2025), same columns, dtypes and rules as the reference.

    Vectorised: no Python loop over persons or appointments. Held whole in memory (about 2.9 GB at 1 000 000
    persons): for large extracts, `write_synthetic` writes the same kind of extract chunk by chunk."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return _generate(n, np.random.default_rng(seed), 1, _id_width(n))


def _id_width(n: int) -> int:
    return max(7, len(str(n)))


def _generate(n: int, rng: np.random.Generator, first_id: int, width: int) -> dict[str, pl.DataFrame]:
    """`n` persons numbered from `first_id` (identifiers zero-padded to `width` digits), drawn from `rng`.
    Every draw is per person (or per appointment of a person), so a chunk of persons is an extract on its own."""
    snap = _days(SYNTHETIC_SNAPSHOT)
    idx = np.arange(n)

    # ---- perimeter and commune
    perim = _choice(rng, [w for *_x, w in _SYNTHETIC_PERIMETERS], n)
    territories = [t for t, _a, _w in _SYNTHETIC_PERIMETERS]
    communes_of = {schema.DEFAULT_TERRITORY: COMMUNES_5_VALLEES, **_OTHER_TERRITORIES}
    commune_labels, commune_code = [], np.zeros(n, dtype=np.int64)
    for k, territory in enumerate(territories):
        table = communes_of[territory]
        mask = perim == k
        commune_code[mask] = len(commune_labels) + _choice(rng, list(table.values()), int(mask.sum()))
        commune_labels += list(table)

    # ---- dates: prescription, first appointment, entry (growing activity over the years)
    d0, d1 = _days(date(2021, 1, 4)), _days(date(2025, 12, 19))
    presc = _to_weekday_forward(d0 + ((d1 - d0) * rng.random(n) ** 0.85).astype(np.int64))
    entrant = rng.random(n) < 0.87
    quick = rng.random(n) < 0.8
    delay = np.where(quick, rng.integers(1, 8, n), rng.integers(8, 31, n))
    has_rdv = entrant | (rng.random(n) < 0.7)
    first_rdv = _to_weekday_forward(presc + delay)
    entry = np.where(rng.random(n) < 0.6, first_rdv, _to_weekday_forward(first_rdv + rng.integers(1, 9, n)))
    entry = np.where((entry > snap) & (first_rdv <= snap), first_rdv, entry)
    entrant &= entry <= snap
    waiting = ~entrant & ((has_rdv & (first_rdv > snap)) | (~has_rdv & (presc > snap - 21)))
    not_entered = np.where(entrant, -1, np.where(waiting, 1, 0))  # 0 Non adhésion, 1 En attente

    # ---- planned end, exit, reason, detail
    planned_end = _add_six_months(entry)
    full = planned_end - entry
    reason = _choice(rng, [_EXIT_REASON_2023[r] for r in schema.EXIT_REASONS], n)
    r = {name: i for i, name in enumerate(schema.EXIT_REASONS)}
    low = np.select([reason == r["Abandon"], reason == r["Emploi"], reason == r["Formation"]], [14, 21, 30], 14)
    high = np.where(reason == r["Abandon"], 150, full)
    shape = np.where(reason == r["Abandon"], 1.0, 0.5)  # sqrt: most stay a good part of the six months
    tenure = low + (rng.random(n) ** shape * (high - low + 1)).astype(np.int64)
    tenure = np.where(reason == r["Fin de suivi"], full - rng.integers(0, 11, n), tenure)
    exit_ = _to_weekday_backward(entry + np.minimum(tenure, full))
    exited = entrant & (exit_ <= snap)
    detail_labels = schema.ALL_EXIT_DETAILS
    detail_table = np.zeros((len(schema.EXIT_REASONS), len(detail_labels)))
    extra = {"Emploi": {"CDD de 6 mois et plus": 2, "Création d'entreprise": 1},
             "Formation": {"Autre formation": 1}, "Fin de suivi": {"Autre orientation": 1}}
    for reason_name, table in _EXIT_DETAIL_2023.items():
        for label, count in {**table, **extra[reason_name]}.items():
            detail_table[r[reason_name], detail_labels.index(label)] = count
    detail = _conditional_choice(rng, detail_table, reason)
    detail = np.where(exited & (rng.random(n) > 0.03), detail, -1)  # a few details left blank

    # ---- demographics (2023 distributions)
    sex_household = _choice(rng, list(_SEX_HOUSEHOLD_2023.values()), n)
    pairs = list(_SEX_HOUSEHOLD_2023)
    sex = np.array([schema.SEX.index(s) for s, _h in pairs])[sex_household]
    household = np.array([schema.HOUSEHOLD.index(h) for _s, h in pairs])[sex_household]
    with_children = np.isin(household, [1, 3])
    band = _choice(rng, list(_AGE_BANDS_2023.values()), n)
    lo = np.array([a for a, _b in _AGE_RANGES.values()])[band]
    hi = np.array([b for _a, b in _AGE_RANGES.values()])[band]
    age = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    status = _choice(rng, list(_STATUS_2023.values()), n)
    age = np.where(status == schema.STATUS.index("ASE"), rng.integers(18, 22, n), age)
    levels = list(_EDUCATION_2023)
    education = np.array(levels)[_choice(rng, [_EDUCATION_2023[k] for k in levels], n)]
    education = np.where(rng.random(n) < 0.005, rng.integers(7, 9, n), education)  # a handful of Master/Doctorat
    barrier_weights = [_BARRIER_2023.get(b, 0) for b in schema.BARRIERS]
    for b, w in (("Logement", 2), ("Maîtrise du français", 2), ("Numérique", 3)):
        barrier_weights[schema.BARRIERS.index(b)] = w
    barrier = _choice(rng, barrier_weights, n)
    garde, mobility, none_ = (schema.BARRIERS.index(b) for b in ("Garde d'enfants", "Mobilité", "Aucun"))
    barrier = np.where((barrier == garde) & ~with_children, mobility, barrier)
    prescriber_labels = list(_PRESCRIBERS_2023)
    prescriber = _choice(rng, list(_PRESCRIBERS_2023.values()), n)

    # secondary barriers: 0–2 others, never the primary, never "Aucun", childcare only with children
    second_w = np.array([8, 4, 3, 3, 2, 2, 0, 2, 1, 5, 0], dtype=float)  # schema.BARRIERS order
    n_second = np.where(barrier == none_, 0, _choice(rng, [35, 40, 25], n))
    rqth = (status == schema.STATUS.index("RQTH")) | (barrier == schema.BARRIERS.index("Handicap")) | (rng.random(n) < 0.02)
    picks = []
    for _k in range(2):
        b = _choice(rng, second_w, n)
        def conflicts(b):
            bad = (b == barrier) | ((b == garde) & ~with_children)
            for x in picks:
                bad |= b == x
            return bad

        bad = conflicts(b)
        while bad.any():  # resample only the conflicting rows (a few passes)
            b[bad] = _choice(rng, second_w, int(bad.sum()))
            bad = conflicts(b)
        picks.append(b)
    first_b, second_b = np.minimum(*picks), np.maximum(*picks)
    first_b = np.where(n_second >= 1, np.where(n_second == 2, first_b, picks[0]), -1)
    second_b = np.where(n_second == 2, second_b, -1)
    secondary = pl.concat_str(
        [_labels(schema.BARRIERS, first_b, "a"), _labels(schema.BARRIERS, second_b, "b")], separator="|", ignore_nulls=True,
    )
    secondary = pl.select(pl.when(secondary.str.len_chars() > 0).then(secondary)).to_series()

    # ---- ESF+ columns
    situation = _choice(rng, [3, 15, 52, 30], n)  # schema.EMPLOYMENT_AT_ENTRY order
    situation = np.where(barrier == schema.BARRIERS.index("Chômage longue durée"), 2, situation)
    qualifying = np.isin(detail, [detail_labels.index("Qualifiante"), detail_labels.index("Certifiante")])
    qualification = exited & (reason == r["Formation"]) & qualifying & (rng.random(n) < 0.4)
    follow_day = _to_weekday_forward(exit_ + rng.integers(27, 36, n))
    followed = exited & (reason != r["Décès"]) & (rng.random(n) < 0.85) & (follow_day <= snap)
    six_table = np.array([_SIX_MONTHS[name] for name in schema.EXIT_REASONS])
    six = np.where(exited & (exit_ <= snap - 183), _conditional_choice(rng, six_table, reason), -1)
    # follow-up text matching the exit reason and detail: pool of texts per (reason, detail or none)
    n_keys = len(detail_labels) + 1
    texts: list[str] = []
    text_offset = np.zeros(len(schema.EXIT_REASONS) * n_keys, dtype=np.int64)
    text_count = np.zeros_like(text_offset)
    for (reason_name, detail_name), pool in {**_GENERIC_POST_EXIT_TEXT, **_POST_EXIT_TEXT}.items():
        key = r[reason_name] * n_keys + (detail_labels.index(detail_name) + 1 if detail_name else 0)
        text_offset[key], text_count[key] = len(texts), len(pool)
        texts += pool
    text_key = reason * n_keys + detail + 1  # detail -1 (blank) → the reason's generic texts
    text_code = text_offset[text_key] + (rng.random(n) * np.maximum(text_count[text_key], 1)).astype(np.int64)
    text_code = np.where(followed & (text_count[text_key] > 0), text_code, -1)

    ids = pl.Series("id_participant", np.arange(first_id, first_id + n)).cast(pl.String).str.zfill(width)
    ids = ("CE-" + ids).alias("id_participant")
    participants = pl.DataFrame([
        ids,
        _dates(presc, None, "date_prescription"),
        _labels(prescriber_labels, prescriber, "prescripteur"),
        _labels(territories, perim, "territoire"),
        _labels([a for _t, a, _w in _SYNTHETIC_PERIMETERS], perim, "action"),
        _labels(commune_labels, commune_code, "commune"),
        pl.Series("code_insee", [None] * n, dtype=pl.String),
        _labels(schema.SEX, sex, "sexe"),
        pl.Series("age", age, dtype=pl.Int64),
        pl.Series("niveau_formation", education, dtype=pl.Int64),
        _labels(schema.STATUS, status, "statut"),
        _labels(schema.HOUSEHOLD, household, "situation_familiale"),
        _labels(schema.BARRIERS, barrier, "frein_principal"),
        secondary.alias("freins_secondaires"),
        _dates(first_rdv, has_rdv, "date_premier_rdv"),
        _dates(entry, entrant, "date_entree"),
        _labels(schema.NOT_ENTERED_REASONS, not_entered, "motif_non_entree"),
        _dates(planned_end, entrant, "date_fin_prevue"),
        _dates(exit_, exited, "date_sortie"),
        _labels(schema.EXIT_REASONS, np.where(exited, reason, -1), "motif_sortie"),
        _labels(detail_labels, detail, "detail_sortie"),
        _labels(schema.EMPLOYMENT_AT_ENTRY, situation, "situation_emploi_entree"),
        pl.Series("rqth", rqth, dtype=pl.Boolean),
        pl.Series("qualification_obtenue", qualification, dtype=pl.Boolean).scatter(np.flatnonzero(~exited), None),
        _dates(follow_day, followed, "date_suivi_post_sortie"),
        _labels(texts, text_code, "situation_post_sortie"),
        _labels(schema.SITUATION_6_MONTHS, six, "situation_6_mois"),
    ])

    # ---- appointments: a diagnostic, then one a week from entry to exit (or the snapshot)
    end = np.where(exited, exit_, snap)
    weekly = np.where(entrant, (end - entry) // 7 + 1, 0)
    diag = (entrant & (first_rdv < entry)) | (~entrant & has_rdv & (first_rdv <= snap))
    person = np.concatenate([np.repeat(idx, weekly), idx[diag]])
    starts = np.cumsum(weekly) - weekly
    week = np.arange(int(weekly.sum())) - np.repeat(starts, weekly)
    rdv_day = np.concatenate([np.repeat(entry, weekly) + 7 * week, first_rdv[diag]])
    total = len(person)
    modality = _choice(rng, [72, 22, 6, 0], total)
    modality = np.where((rdv_day >= _days(date(2024, 1, 1))) & (rng.random(total) < 0.05), 3, modality)  # collective workshops from 2024
    presence = _choice(rng, [84, 10, 6], total)
    is_weekly = np.arange(total) < len(week)
    week_all = np.concatenate([week, np.full(int(diag.sum()), -1)])
    first_row = is_weekly & (week_all == 0)
    last_rows = is_weekly & (week_all >= weekly[person] - 2) & (week_all > 0)
    presence = np.where(first_row, 0, presence)
    modality = np.where(first_row, 0, modality)
    presence = np.where(last_rows & exited[person] & (reason[person] == r["Abandon"]), 2, presence)
    absent_first = ~is_weekly & ~entrant[person]
    presence = np.where(absent_first, np.where(rng.random(total) < 0.6, 2, 0), presence)
    modality = np.where(~is_weekly, 0, modality)
    holidays = np.array([_days(d) for d in _HOLIDAYS])
    keep = ~np.isin(rdv_day, holidays) | ~is_weekly | first_row
    order = np.lexsort((rdv_day[keep], person[keep]))
    person_k = person[keep][order]
    rendez_vous = pl.DataFrame([
        ids.gather(person_k),
        _dates(rdv_day[keep][order], None, "date"),
        _labels(schema.MODALITIES, modality[keep][order], "modalite"),
        _labels(schema.PRESENCE, presence[keep][order], "presence"),
    ])
    del person, rdv_day, modality, presence, week, week_all, keep, order, person_k

    # ---- immersions (PMSMP) for ~40 % of leavers, some for persons still in the action
    span_end = end
    room = span_end - (entry + 21)
    p_imm = np.where(exited, 0.47, 0.3)
    k_imm = np.where(entrant & (room >= 28) & (rng.random(n) < p_imm), 1, 0)
    k_imm = np.where((k_imm == 1) & (room >= 84) & (rng.random(n) < 0.18), 2, k_imm)
    who = np.repeat(idx, k_imm)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(k_imm) - k_imm, k_imm)
    weeks = _choice(rng, [35, 45, 20], len(who)) + 1
    dur = 7 * weeks - 3
    w_lo = entry[who] + 21
    w_len = room[who] // k_imm[who]  # each immersion in its own slice of the window
    dur = np.maximum(np.minimum(dur, w_len - 7), 4)  # w_len >= 28, so this never cuts a 3-week immersion short
    s_lo = w_lo + nth * w_len
    start = s_lo + (rng.random(len(who)) * np.maximum(w_len - dur - 6, 1)).astype(np.int64)
    start = start + (7 - _weekday(start)) % 7  # forward to a Monday, still inside its slice
    fin = np.minimum(start + dur, span_end[who])
    led = rng.random(len(who)) < np.where(exited[who] & (reason[who] == r["Emploi"]) & (nth == k_imm[who] - 1), 0.2, 0.02)
    immersions = pl.DataFrame([
        ids.gather(who),
        _dates(start, None, "date_debut"),
        _dates(fin, None, "date_fin"),
        _labels(SECTORS, _choice(rng, [1] * len(SECTORS), len(who)), "secteur"),
        pl.Series("debouche_contrat", led, dtype=pl.Boolean),
    ])
    return {
        "participants": participants.select(schema.PARTICIPANTS.names).cast(schema.typed_schema(schema.PARTICIPANTS)),
        "rendez_vous": rendez_vous.cast(schema.typed_schema(schema.RENDEZ_VOUS)),
        "immersions": immersions.cast(schema.typed_schema(schema.IMMERSIONS)),
    }


# --------------------------------------------------------------------------------------------
# Writing in bounded memory
# --------------------------------------------------------------------------------------------

CHUNK_PERSONS = 250_000  # persons generated and written at a time: ~0.6 GB of frames at most


def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    """Booleans as oui/non, as `analytics.sample.write_extract` writes them."""
    bools = [c for c, t in df.schema.items() if t == pl.Boolean]
    if not bools:
        return df
    return df.with_columns(pl.when(pl.col(c)).then(pl.lit("oui")).when(pl.col(c).not_()).then(pl.lit("non")).alias(c)
                           for c in bools)


def write_synthetic(n: int, out_dir, seed: int = 0, chunk: int = CHUNK_PERSONS,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Write a synthetic extract of `n` persons as `analytics.sample.write_extract` does (UTF-8 with BOM, `;`,
    JJ/MM/AAAA, oui/non), `chunk` persons at a time appended to the three files: memory stays that of one chunk
    whatever `n`. Returns the rows written per table; `progress(persons_written, n)` after each chunk.

    Up to `chunk` persons the files are byte for byte those of `write_extract(synthetic_extract(n, seed))`.
    Beyond, chunk k > 0 draws from `numpy.random.default_rng([seed, k])`: the extract has the same distributions
    but not the same rows as the whole-array generator gave for that seed (which needed ~2.9 GB per million)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    width = _id_width(n)
    counts = {name: 0 for name in ("participants", "rendez_vous", "immersions")}
    handles = {name: open(out / f"{name}.csv", "wb") for name in counts}
    try:
        for k, first in enumerate(range(0, n, chunk)):
            size = min(chunk, n - first)
            rng = np.random.default_rng(seed if k == 0 else [seed, k])
            frames = _generate(size, rng, first + 1, width)
            for name, df in frames.items():
                _csv_ready(df).write_csv(handles[name], include_bom=k == 0, include_header=k == 0, separator=";",
                                         date_format="%d/%m/%Y", null_value="")
                counts[name] += df.height
            del frames
            if progress:
                progress(first + size, n)
    finally:
        for fh in handles.values():
            fh.close()
    return counts
