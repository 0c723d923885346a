"""The key charts of the COPIL pack and of the presentation mode: each is one of the dashboard's own
figures (the pure chart functions of `analytics.charts`, fed by the same engine frames as the pages),
with a small table of its figures and a one-line reading in French.

`SECTIONS` is the ordered list; the PDF prints them two per page, the presentation mode shows one per screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.config import objective_for
from analytics.charts import activity as activity_charts
from analytics.charts import caseload as caseload_charts
from analytics.charts import pathways as pathway_charts
from analytics.charts import profile as profile_charts
from analytics.charts.base import ACCENT
from analytics.definitions import DEFINITIONS
from analytics.diffusion import (Masked, align_flows, align_grid, align_pathways, align_positive_rate, align_series, grid_long,
                                 is_masked, rows_of, sum_or_masked)
from analytics.indicators import activity, exits, profile
from analytics.indicators.caseload import caseload_frame, monthly_flows
from analytics.reports.common import ReportContext, education_label

Table = list[list[str]]  # first row = headers


@dataclass(frozen=True)
class Section:
    key: str  # a key of analytics.definitions (title and definition)
    figure: Callable[[ReportContext], go.Figure]
    table: Callable[[ReportContext], Table]
    reading: Callable[[ReportContext], str]
    title: str | None = None
    wide: bool = False  # a month-by-month table, printed on its side

    @property
    def heading(self) -> str:
        return self.title or DEFINITIONS[self.key].label

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key].text


def counts_frame(mapping: dict) -> pl.DataFrame:
    """A {label: count} figure as a frame; a masked count (« < k », analytics.diffusion) is null."""
    return pl.DataFrame({"label": [str(k) for k in mapping], "n": [None if isinstance(v, str) else v for v in mapping.values()]},
                        schema={"label": pl.String, "n": pl.Int64})


def household_frame(ctx: ReportContext) -> pl.DataFrame:
    """Sex × household, aligned on the suppressed figures when the report applies the statistical confidentiality."""
    frame = profile.sex_by_household(ctx.ds)
    f = ctx.fig
    table = align_grid(frame, "situation_familiale", "sexe", f, row_margins=f["household"], col_margins=f["sex"],
                       grand_total=f["participants"])
    return grid_long(table, frame, "situation_familiale", "sexe")


def immersion_frame(ctx: ReportContext) -> pl.DataFrame:
    """Exits by reason with / without an immersion, aligned on the suppressed figures (no-op for raw figures)."""
    frame, f = exits.exits_by_immersion(ctx.ds), ctx.fig
    table = align_grid(frame, "motif_sortie", "immersion", f, row_margins=f["exit_reason"], grand_total=f["exits"],
                       col_margins={exits.WITH_IMMERSION: f["exits_with_immersion"],
                                    exits.WITHOUT_IMMERSION: f["exits"] - f["exits_with_immersion"]})
    return grid_long(table, frame, "motif_sortie", "immersion")


def counts_table(mapping: dict, head: str, total: int | None, unit: str = "Personnes", labels=str,
                 with_total: bool = True) -> Table:
    """Label, count and share of `total` (the engine's population figure), with a total row."""
    rows = [[head, unit, "Part"]]
    rows += [[labels(k), fmt.number(v), fmt.percent(v / total if total else None)] for k, v in mapping.items()]
    if total is not None and with_total:
        rows.append(["Total", fmt.number(total), fmt.percent(1.0 if total else None)])
    return rows


def _share(n: int | None, total: int | None) -> str:
    return fmt.percent(n / total if n is not None and total else None)


def _top(mapping: dict) -> tuple[str, int] | None:
    return max(mapping.items(), key=lambda kv: kv[1]) if mapping else None


def masked_reading(named: dict) -> str | None:
    """The reading when a figure it needs is masked: what is masked and why, never « < 11 » where a number was
    expected; None when nothing is masked."""
    masked = [(name, v) for name, v in named.items() if is_masked(v)]
    if not masked:
        return None
    parts = [f"{name} : masqué — " + ("protège une petite case voisine (secret secondaire)" if getattr(v, "secondary", False)
                                      else f"moins de {v.k} personnes (secret statistique)") for name, v in masked]
    return "Lecture non publiable : " + " ; ".join(parts) + "."


def _months(ctx: ReportContext) -> list[str]:
    return [m for m, _, _ in ctx.period.months()]


def _month(ctx: ReportContext, key: str) -> str:
    """A month as a column head: `janv.` within one calendar year, `janv. 2023` otherwise."""
    return fmt.MONTHS[int(key[5:]) - 1] if ctx.period.start.year == ctx.period.end.year else fmt.month_label(key)


# ---------------------------------------------------------------- the sections

def _caseload_fig(ctx):
    previous = caseload_frame(ctx.previous_ds) if ctx.previous_ds is not None else None
    frame = align_series(caseload_frame(ctx.ds), "caseload", "month", ctx.fig["monthly_caseload"], ctx.fig)
    return caseload_charts.caseload_vs_target(frame, previous)


def _caseload_table(ctx):
    months = ctx.fig["monthly_caseload"]
    rows = [["Mois", "File active"]] + [[_month(ctx, m), fmt.number(n)] for m, n in months.items()]
    rows.append(["Moyenne", fmt.number(ctx.fig["average_caseload"], 2)])
    objective = objective_for(ctx.filters)
    if objective.target is not None:
        rows.append(["Objectif", fmt.number(objective.target)])
    return rows


def _caseload_reading(ctx):
    avg, objective = ctx.fig["average_caseload"], objective_for(ctx.filters)
    if avg is None:
        return "Pas de mois dans la période."
    masked = masked_reading({"file active moyenne": avg})
    if masked:
        return masked
    text = f"La file active moyenne est de {fmt.number(avg, 2)}"
    if objective.target is not None:
        return text + f" pour un objectif de {fmt.number(objective.target)}."
    return text + ". " + objective.note


def _flows_frame(ctx):
    """Entries and exits by month; in a suppressed report grouped by quarter when most months would be masked."""
    return align_flows(monthly_flows(ctx.ds), ["entries", "exits"], ctx.fig, {"entries": ctx.fig["entries"], "exits": ctx.fig["exits"]})


def _flows_fig(ctx):
    return caseload_charts.flows(_flows_frame(ctx)[0])


def _flows_table(ctx):
    f = ctx.fig
    return [["Flux de la période", "Personnes"], ["Entrées", fmt.number(f["entries"])], ["Sorties", fmt.number(f["exits"])],
            ["Présents en fin de période", fmt.number(f["active_at_end"])]]


def _flows_reading(ctx):
    f = ctx.fig
    masked = masked_reading({"entrées": f["entries"], "sorties": f["exits"], "présents en fin de période": f["active_at_end"]})
    grouped = _flows_frame(ctx)[1]
    if masked:
        return masked + (f" {grouped}" if grouped else "")
    return (f"{grouped} " if grouped else "") + (f"{fmt.number(f['entries'])} entrées et {fmt.number(f['exits'])} sorties sur la période ; "
            f"{fmt.number(f['active_at_end'])} personnes sont encore accompagnées à la fin de la période.")


def _prescriber_reading(ctx):
    f = ctx.fig
    top = _top(f["prescriber"])
    ne = f["positioned"] - f["participants"]  # the non-entrants: known by difference when both are published
    masked = masked_reading({"positionnés": f["positioned"], "participants": f["participants"]})
    if masked:
        return masked
    text = f"{fmt.number(f['positioned'])} personnes positionnées"
    if top and not is_masked(top[1]):
        text += f", dont {fmt.number(top[1])} orientées par « {top[0]} » ({_share(top[1], f['positioned'])})"
    return text + f" ; {fmt.number(f['participants'])} ont suivi l'action, {fmt.number(ne)} ne sont pas entrées."


def _profile_reading(key: str, what: str):
    def reading(ctx):
        top = _top(ctx.fig[key])
        if not top:
            return "Aucun participant sur la période."
        masked = masked_reading({"participants": ctx.fig["participants"], f"{what.lower()} le plus représenté": top[1]})
        if masked:
            return masked
        label = education_label(top[0]) if key == "education_level" else top[0]
        return (f"{what} le plus représenté : « {label} », {fmt.number(top[1])} participants sur "
                f"{fmt.number(ctx.fig['participants'])} ({_share(top[1], ctx.fig['participants'])}).")
    return reading


def _sex_reading(ctx):
    s, n = ctx.fig["sex"], ctx.fig["participants"]
    masked = masked_reading({"femmes": s.get("Femme", 0), "hommes": s.get("Homme", 0), "participants": n})
    if masked:
        return masked
    return (f"{fmt.number(s.get('Femme', 0))} femmes ({_share(s.get('Femme', 0), n)}) et {fmt.number(s.get('Homme', 0))} "
            f"hommes ({_share(s.get('Homme', 0), n)}) parmi les {fmt.number(n)} participants.")


def _household_reading(ctx):
    frame = household_frame(ctx)
    women_alone = frame.filter((pl.col("sexe") == "Femme") & (pl.col("situation_familiale") == "Seul(e) avec enfant(s)"))
    n = sum_or_masked(women_alone["n"], ctx.fig) if women_alone.height else 0
    if is_masked(n) and women_alone["n"].null_count():
        # the grid masks the cell: primary when it is small, else to protect a neighbour
        raw = profile.sex_by_household(ctx.ds).filter((pl.col("sexe") == "Femme") & (pl.col("situation_familiale") == "Seul(e) avec enfant(s)"))
        n = Masked(n.k, secondary=int(raw["n"].sum()) >= n.k)
    masked = masked_reading({"femmes seules avec enfant(s)": n, "participants": ctx.fig["participants"]})
    if masked:
        return masked
    return (f"{fmt.number(n)} participants sur {fmt.number(ctx.fig['participants'])} sont des femmes seules avec enfant(s) "
            f"({_share(n, ctx.fig['participants'])}).")


def _barrier_any_reading(ctx):
    real = {k: v for k, v in ctx.fig["barrier_any"].items() if k != "Aucun"}
    top = _top(real)
    if not top:
        return "Aucun frein renseigné."
    masked = masked_reading({f"frein « {top[0]} »": top[1], "participants": ctx.fig["participants"]})
    if masked:
        return masked
    return (f"Frein le plus répandu (principal ou secondaire) : « {top[0]} », {fmt.number(top[1])} participants "
            f"({_share(top[1], ctx.fig['participants'])}) ; une personne peut en avoir plusieurs.")


def _exit_table(ctx):
    f = ctx.fig
    rows = counts_table(f["exit_reason"], "Motif de sortie", f["exits"], "Sorties")
    rows.append(["dont sorties positives", fmt.number(f["positive_exits"]), fmt.percent(f["positive_exit_rate"])])
    return rows


def _exit_reading(ctx):
    f = ctx.fig
    masked = masked_reading({"sorties": f["exits"], "sorties positives": f["positive_exits"]})
    if masked:
        return masked
    return (f"{fmt.number(f['exits'])} sorties sur la période, dont {fmt.number(f['positive_exits'])} positives "
            f"(emploi ou formation) : un taux de sorties positives de {fmt.percent(f['positive_exit_rate'])}.")


def _positive_rate_table(ctx):
    frame = align_positive_rate(exits.positive_rate_by_month(ctx.ds), ctx.fig)
    rows = [["Mois", "Sorties", "Positives", "Taux"]]
    rows += [[_month(ctx, m), fmt.number(e), fmt.number(p), fmt.percent(r, 0)]
             for m, e, p, r in rows_of(frame.select("month", "exits", "positive_exits", "rate"), ctx.fig)]
    rows.append(["Période", fmt.number(ctx.fig["exits"]), fmt.number(ctx.fig["positive_exits"]),
                 fmt.percent(ctx.fig["positive_exit_rate"])])
    return rows


def _immersion_table(ctx):
    f = ctx.fig
    imm = f["immersions"]
    return [["Immersions (PMSMP)", "Nombre", "Part"],
            ["Sortants de la période", fmt.number(f["exits"]), ""],
            ["Sortants avec au moins une immersion", fmt.number(f["exits_with_immersion"]), _share(f["exits_with_immersion"], f["exits"])],
            ["dont deux immersions ou plus", fmt.number(f["exits_with_two_or_more_immersions"]),
             _share(f["exits_with_two_or_more_immersions"], f["exits"])],
            ["Immersions commencées sur la période", fmt.number(imm["count"]), ""],
            ["ayant débouché sur un contrat", fmt.number(imm["led_to_contract"]), _share(imm["led_to_contract"], imm["count"])]]


def _immersion_reading(ctx):
    f = ctx.fig
    led = f["immersions"]["led_to_contract"]
    masked = masked_reading({"sortants": f["exits"], "sortants avec immersion": f["exits_with_immersion"]})
    if masked:
        return masked
    text = (f"{fmt.number(f['exits_with_immersion'])} sortants sur {fmt.number(f['exits'])} avaient réalisé au moins une "
            f"immersion")
    two = f["exits_with_two_or_more_immersions"]
    text += "" if is_masked(two) else f", dont {fmt.number(two)} deux ou plus"
    if is_masked(led):
        return text + " ; " + masked_reading({"immersions ayant débouché sur un contrat": led})[len("Lecture non publiable : "):]
    verb = "n'a débouché" if led == 0 else fmt.verb(led, "a débouché", "ont débouché")
    return text + f" ; {fmt.count_noun(led, 'immersion', 'immersions')} {verb} sur un contrat."


def _appointments_table(ctx):
    a = ctx.fig["appointments"]
    rows = [["Rendez-vous", "Nombre", "Part"], ["Planifiés", fmt.number(a["planned"]), ""],
            ["Honorés (présent)", fmt.number(a["attended"]), fmt.percent(a["attendance_rate"])]]
    rows += [[f"dont {m.lower()}", fmt.number(n), _share(n, a["planned"])] for m, n in a["by_modality"].items()]
    return rows


def _appointments_reading(ctx):
    a, d = ctx.fig["appointments"], ctx.fig["first_appointment_delay_days"]
    masked = masked_reading({"rendez-vous planifiés": a["planned"], "rendez-vous honorés": a["attended"]})
    if masked:
        return masked
    text = (f"{fmt.number(a['planned'])} rendez-vous planifiés, {fmt.number(a['attended'])} honorés : "
            f"un taux de présence de {fmt.percent(a['attendance_rate'])}")
    if d["median"] is not None and not is_masked(d["median"]):
        text += f" ; 1er rendez-vous en {fmt.number(d['median'], 1 if d['median'] % 1 else 0)} jours (médiane)"
    return text + "."


SECTIONS: list[Section] = [
    Section("monthly_caseload", _caseload_fig, _caseload_table, _caseload_reading, wide=True),
    Section("monthly_flows", _flows_fig, _flows_table, _flows_reading),
    Section("prescriber",
            lambda ctx: profile_charts.breakdown(counts_frame(ctx.fig["prescriber"]), total=ctx.fig["positioned"]),
            lambda ctx: counts_table(ctx.fig["prescriber"], "Prescripteur", ctx.fig["positioned"]), _prescriber_reading),
    Section("age_band",
            lambda ctx: profile_charts.ordered_columns(counts_frame(ctx.fig["age_band"]), total=ctx.fig["participants"]),
            lambda ctx: counts_table(ctx.fig["age_band"], "Tranche d'âge", ctx.fig["participants"]),
            _profile_reading("age_band", "Âge")),
    Section("sex", lambda ctx: profile_charts.sex(counts_frame(ctx.fig["sex"])),
            lambda ctx: counts_table(ctx.fig["sex"], "Sexe", ctx.fig["participants"]), _sex_reading),
    Section("education_level",
            lambda ctx: profile_charts.education_level(counts_frame(ctx.fig["education_level"]), total=ctx.fig["participants"]),
            lambda ctx: counts_table(ctx.fig["education_level"], "Niveau de formation", ctx.fig["participants"], labels=education_label),
            _profile_reading("education_level", "Niveau de formation")),
    Section("sex_by_household", lambda ctx: profile_charts.sex_by_household(household_frame(ctx)),
            lambda ctx: counts_table(ctx.fig["household"], "Situation familiale", ctx.fig["participants"]), _household_reading),
    Section("primary_barrier",
            lambda ctx: profile_charts.breakdown(counts_frame(ctx.fig["primary_barrier"]), total=ctx.fig["participants"]),
            lambda ctx: counts_table(ctx.fig["primary_barrier"], "Frein principal", ctx.fig["participants"]),
            _profile_reading("primary_barrier", "Frein principal")),
    Section("barrier_any",
            lambda ctx: profile_charts.breakdown(counts_frame(ctx.fig["barrier_any"]), total=ctx.fig["participants"], color=ACCENT),
            lambda ctx: counts_table(ctx.fig["barrier_any"], "Frein (principal ou secondaire)", ctx.fig["participants"],
                                     with_total=False) + [["Participants", fmt.number(ctx.fig["participants"]), ""]],
            _barrier_any_reading),
    Section("pathway_flows", lambda ctx: pathway_charts.sankey(align_pathways(exits.pathway_flows(ctx.ds), ctx.fig)),
            _exit_table, _exit_reading,
            title="Parcours et motifs de sortie"),
    Section("positive_rate_by_month",
            lambda ctx: pathway_charts.positive_rate(align_positive_rate(exits.positive_rate_by_month(ctx.ds), ctx.fig)),
            _positive_rate_table, _exit_reading, wide=True),
    Section("exits_by_immersion", lambda ctx: pathway_charts.exits_by_immersion(immersion_frame(ctx)),
            _immersion_table, _immersion_reading, title="Immersions (PMSMP) et sorties"),
    Section("appointments_by_month",
            lambda ctx: activity_charts.appointments_by_month(activity.appointments_by_month(ctx.ds), _months(ctx)),
            _appointments_table, _appointments_reading),
]


def kpi_rows(ctx: ReportContext) -> Table:
    """The KPI summary of the Vue d'ensemble page: the figure, the previous period's, and the change."""
    f, p = ctx.fig, ctx.previous_fig or {}

    def get(fig, key, sub=None):
        value = fig.get(key)
        return (value or {}).get(sub) if sub and isinstance(value, dict) else (None if sub else value)

    def days(v):  # a masked median is no « < 11 j » (it would read as a number of days)
        return fmt.MISSING if v is None else fmt.MASKED_RATE if is_masked(v) else f"{fmt.number(v, 1 if v % 1 else 0)} j"

    target = objective_for(ctx.filters).target
    spec = [  # label, key, sub, value formatter, change scale/decimals/suffix
        ("Positionnés", "positioned", None, fmt.number, (1, 0, "")),
        ("Participants (suivis)", "participants", None, fmt.number, (1, 0, "")),
        ("File active moyenne" + (f" (objectif {target})" if target is not None else ""), "average_caseload", None,
         lambda v: fmt.number(v, 2), (1, 2, "")),
        ("Sorties", "exits", None, fmt.number, (1, 0, "")),
        ("Taux de sorties positives", "positive_exit_rate", None, fmt.percent, (100, 1, " pts")),
        ("Délai médian jusqu'au 1er RDV", "first_appointment_delay_days", "median", days, (1, 1, " j")),
        ("Taux de présence aux rendez-vous", "appointments", "attendance_rate", fmt.percent, (100, 1, " pts")),
        ("Présents en fin de période", "active_at_end", None, fmt.number, (1, 0, "")),
    ]
    prev = ctx.period.previous()
    rows = [["Indicateur", "Période", f"Période précédente ({fmt.period_text(prev)})", "Évolution"]]
    for label, key, sub, show, (scale, decimals, suffix) in spec:
        now, before = get(f, key, sub), get(p, key, sub) if p else None
        change = fmt.signed((now - before) * scale, decimals, suffix) if now is not None and before is not None else None
        rows.append([label, show(now), show(before) if p else fmt.MISSING, change or fmt.MISSING])
    return rows
