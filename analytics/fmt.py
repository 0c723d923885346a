"""French formatting of numbers, rates and dates (`1 234,5`, `42,1 %`, `JJ/MM/AAAA`).

The thousands separator is a no-break space (U+00A0), as French office software writes it.
"""

from __future__ import annotations

from datetime import date, datetime

NBSP = "\u00a0"
MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
MONTHS_LONG = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
MISSING = "–"
NOT_COLLECTED = "non collecté"
MASKED_RATE = "masqué"  # a rate hidden by the diffusion mode (analytics.diffusion)


def number(value: float | int | None, decimals: int = 0) -> str:
    """`1234.5` → `1 234,5`; None → `–`; a masked value (analytics.diffusion) as it reads, `< 11`."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return str(value)
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", NBSP)


def percent(share: float | None, decimals: int = 1) -> str:
    """`0.4211` → `42,1 %` (no-break space before the sign)."""
    if isinstance(share, str):  # masked (analytics.diffusion)
        return MASKED_RATE
    return MISSING if share is None else f"{number(share * 100, decimals)}{NBSP}%"


def day(value: date | datetime | str | None) -> str:
    """A date as JJ/MM/AAAA."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def month_label(key: str, long: bool = False) -> str:
    """`2023-01` → `janv. 2023` (or `janvier 2023`)."""
    y, m = key.split("-")
    if m.startswith("T"):  # a quarter (`2023-T1`), when months are grouped (analytics.diffusion.coarsen_monthly)
        return f"{m} {y}"
    return f"{(MONTHS_LONG if long else MONTHS)[int(m) - 1]} {y}"


def signed(value: float | None, decimals: int = 0, suffix: str = "") -> str | None:
    """A change, with its sign: `+3`, `−2,5 pts`; None when unknown or masked."""
    if value is None or isinstance(value, str):
        return None
    text = number(abs(value), decimals)
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{text}{suffix}"


def period_label(start: date, end: date, requested_end: date | None = None) -> str:
    """`année 2023`, `du 15/01/2023 au 10/03/2023`; a period clipped at the data date (`requested_end`: the end asked
    for, `end` the data date) says so: `année 2024 en cours, données au 23/01/2024`."""
    if requested_end is not None and requested_end != end:
        asked = period_label(start, requested_end)
        if asked.startswith("année"):
            return f"{asked} en cours, données au {day(end)}"
        return f"du {day(start)} au {day(end)} (période en cours jusqu'au {day(requested_end)}, données au {day(end)})"
    if start.month == 1 and start.day == 1 and end.month == 12 and end.day == 31 and start.year == end.year:
        return f"année {start.year}"
    return f"du {day(start)} au {day(end)}"


def period_text(period) -> str:
    """`period_label` of an `analytics.indicators.Period` (clipped or not)."""
    return period_label(period.start, period.end, getattr(period, "requested_end", None))


def data_date_label(value: date | None) -> str:
    """« Données au 23/01/2024 » (the data date of the store), « Aucune donnée importée » without one."""
    return "Aucune donnée importée" if value is None else f"Données au {day(value)}"


def count_noun(n, singular: str, plural: str, feminine: bool = True) -> str:
    """`1 immersion`, `2 immersions`, `aucune immersion`: French agreement instead of « immersion(s) ». A masked count
    (analytics.diffusion) reads as it is, with the plural."""
    if isinstance(n, str):
        return f"{n} {plural}"
    if n == 0:
        return f"{'aucune' if feminine else 'aucun'} {singular}"
    return f"{number(n)} {singular if n == 1 else plural}"


def verb(n, singular: str, plural: str) -> str:
    """The verb agreeing with a count: `a débouché` for 0 or 1 (« aucune immersion n'a… » is written by the caller),
    `ont débouché` otherwise (a masked count too)."""
    return singular if not isinstance(n, str) and n in (0, 1) else plural
