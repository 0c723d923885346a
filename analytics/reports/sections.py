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
from analytics.charts import convention as convention_charts
from analytics.charts import survival as survival_charts
from analytics.charts import typology as typology_charts
from analytics.charts.base import ACCENT, bar_h
from analytics.definitions import DEFINITIONS
from analytics.diffusion import (Masked, align_flows, coarsen_caseload, align_grid, align_pathways, align_positive_rate, align_series, grid_long,
                                 is_masked, rows_of, sum_or_masked)
from analytics.indicators import activity, exits, profile, survival
from analytics.indicators.caseload import caseload_frame, monthly_flows
from analytics.indicators.series import CONVENTION_COLUMNS, trend
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


def _caseload_coarsened(ctx):
    return coarsen_caseload(caseload_frame(ctx.ds).select("month", "caseload"), ctx.fig)


def _caseload_table(ctx):
    # diffusion mode: grouped by quarter as soon as a month would be masked (analytics.diffusion.coarsen_monthly)
    done = _caseload_coarsened(ctx)
    if done.quarterly:
        rows = [["Trimestre", "File active moyenne"]]
        rows += [[fmt.month_label(q), fmt.number(n, 2)] for q, n in rows_of(done.frame, ctx.fig)]
    else:
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
    note = _caseload_coarsened(ctx).note  # the table grouped by quarter says so
    masked = masked_reading({"file active moyenne": avg})
    if masked:
        return masked + (f" {note}" if note else "")
    text = f"La file active moyenne est de {fmt.number(avg, 2)}"
    if objective.target is not None:
        text += f" pour un objectif de {fmt.number(objective.target)}."
    else:
        text += ". " + objective.note
    return text + (f" {note}" if note else "")


def _flows_frame(ctx):
    """Entries and exits by month; in a suppressed report grouped by quarter as soon as a month would be masked."""
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


def _positive_rate_reading(ctx):
    """The month with the highest rate of positive exits (its own sentence: the Sankey slide already gives the total)."""
    frame = align_positive_rate(exits.positive_rate_by_month(ctx.ds), ctx.fig)
    months = [(m, e, p, r) for m, e, p, r in rows_of(frame.select("month", "exits", "positive_exits", "rate"), ctx.fig)
              if isinstance(r, float) and isinstance(e, int) and e > 0]
    if not months:
        return "Aucune sortie mois par mois à comparer sur la période."
    best = max(months, key=lambda row: (row[3], row[1]))
    return (f"Meilleur mois : {fmt.month_label(best[0], long=True)}, {fmt.percent(best[3], 0)} de sorties positives "
            f"({fmt.number(best[2])} sur {fmt.number(best[1])}) ; sur la période, {fmt.percent(ctx.fig['positive_exit_rate'])}.")


def kpi_reading(ctx: ReportContext) -> str:
    """The sentence of the key-figures slide: who came in and how they left."""
    f = ctx.fig
    return (f"{fmt.number(f['positioned'])} personnes positionnées, {fmt.number(f['participants'])} accompagnées ; "
            f"{fmt.number(f['exits'])} sorties dont {fmt.percent(f['positive_exit_rate'])} positives.")


def map_figure(ctx: ReportContext) -> go.Figure:
    """The territory map of the Territoire page (participants per commune), as the diffusion mode may publish it."""
    from analytics import geo
    from analytics.charts import territory as territory_charts
    from analytics.diffusion import align_map, align_territory
    from analytics.indicators import territory

    ref = geo.communes_ref()
    communes, epcis = territory.commune_table(ctx.ds, ref), territory.epci_table(ctx.ds, ref)
    shown, _ = align_territory(communes, epcis, ctx.fig)
    frame = align_map(territory.map_frame(ctx.ds, ref), shown, ctx.fig)
    return territory_charts.choropleth(frame, geo.geojson(), "participants", territory.meeting_places(ref))


def map_reading(ctx: ReportContext) -> str:
    from analytics import geo
    from analytics.indicators import territory

    ref = geo.communes_ref()
    communes, epcis = territory.commune_table(ctx.ds, ref), territory.epci_table(ctx.ds, ref)
    summary = territory.territory_summary(communes, epcis)
    top = _top(ctx.fig["commune"])
    text = f"Les participants habitent {fmt.number(summary['communes'])} communes de {fmt.number(summary['epcis'])} EPCI"
    if top:
        text += f" ; la plus représentée : {top[0]} ({fmt.number(top[1])} participants)"
    return text + "."


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


def _category_table(ctx):
    return counts_table(ctx.fig["exit_category"], "Catégorie de sortie", ctx.fig["exits"], unit="Sorties")


def _category_reading(ctx):
    f = ctx.fig
    cat = f["exit_category"]
    durable = cat.get("Emploi durable", 0)
    if not f["exits"]:
        return "Aucune sortie sur la période."
    return (f"Sur {fmt.number(f['exits'])} sorties, {fmt.number(durable)} vers un emploi durable "
            f"({_share(durable, f['exits'])}) et {fmt.number(cat.get('Emploi de transition', 0))} vers un emploi de transition.")


def _survival_fig(ctx):
    from analytics.diffusion import suppressed_k

    return survival_charts.survival_curves(survival.survival_curves(ctx.ds, survival.default_grouping(ctx.period),
                                                                    k=suppressed_k(ctx.fig)))


def _survival_table(ctx):
    t = ctx.fig["time_to_exit"]
    median = t["median_days"]
    rows = [["Durée dans l'action", "Valeur"], ["Personnes entrées (cohorte)", fmt.number(t["cohort"])],
            ["dont sorties avant la fin de la période", fmt.number(t["events"])],
            ["Durée médiane", fmt.MISSING if median is None else median if isinstance(median, str) else f"{fmt.number(median)} jours"]]
    rows += [[f"Encore dans l'action à {days} jours", fmt.percent(share)] for days, share in t["survival"].items()]
    return rows


def _survival_reading(ctx):
    t = ctx.fig["time_to_exit"]
    if not t["cohort"] or isinstance(t["cohort"], str):
        return "Trop peu d'entrées sur la période pour estimer la durée dans l'action."
    median = t["median_days"]
    half = ("la moitié des personnes entrées est encore dans l'action à la fin de la période" if median is None
            else f"la moitié des personnes entrées est sortie au bout de {fmt.number(median)} jours")
    return f"{fmt.number(t['cohort'])} entrées : {half} ; {fmt.percent(t['survival']['182'])} encore présentes 6 mois après l'entrée."


def _typology_fig(ctx):
    view = ctx.typology or {}
    if not view.get("available"):
        from analytics.charts.base import empty

        return empty(None, view.get("message") or "Typologie non calculée pour cette base")
    rate = ctx.fig["positive_exit_rate"]
    return typology_charts.outcome_comparison(view["frame"], overall=None if isinstance(rate, str) else rate)


def _typology_table(ctx):
    view = ctx.typology or {}
    rows = [["Type de public", "Personnes", "Sorties", "Sorties positives", "Intervalle à 95 %"]]
    if not view.get("available"):
        return rows + [[view.get("message") or "Typologie non calculée", "", "", "", ""]]
    for r in view["frame"].iter_rows(named=True):
        name = f"{r['type']}. {r['label']}" if r["type"] else r["label"]
        masked = f"< {ctx.suppress}" if ctx.suppress else fmt.MISSING
        rows.append([name, fmt.number(r["n"]) if r["n"] is not None else masked,
                     fmt.number(r["exits"]) if r["exits"] is not None else masked,
                     fmt.percent(r["positive_exit_rate"]) if r["positive_exit_rate"] is not None else fmt.MISSING,
                     fmt.MISSING if r["low"] is None else f"{fmt.percent(r['low'], 0)} – {fmt.percent(r['high'], 0)}"])
    return rows


def _typology_reading(ctx):
    view = ctx.typology or {}
    return view.get("sentence") or view.get("message") or ""


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
            _positive_rate_table, _positive_rate_reading, wide=True),
    Section("exits_by_immersion", lambda ctx: pathway_charts.exits_by_immersion(immersion_frame(ctx)),
            _immersion_table, _immersion_reading, title="Immersions (PMSMP) et sorties"),
    Section("exit_category", lambda ctx: bar_h(list(ctx.fig["exit_category"]), [None if isinstance(v, str) else v for v in
                                                                             ctx.fig["exit_category"].values()], name="Sorties"),
            _category_table, _category_reading),
    Section("survival_by_cohort", _survival_fig, _survival_table, _survival_reading),
    Section("appointments_by_month",
            lambda ctx: activity_charts.appointments_by_month(activity.appointments_by_month(ctx.ds), _months(ctx)),
            _appointments_table, _appointments_reading),
    Section("typology_outcomes", _typology_fig, _typology_table, _typology_reading, title="Typologie des publics : sorties par type"),
]


# ---------------------------------------------------------------- the convention's years (first slide after the key figures)

def _convention_fig(ctx):
    if ctx.convention is None:
        return convention_charts.empty()
    return convention_charts.convention_trends(ctx.convention)


def convention_table(frame) -> Table:
    """Figures in rows, years in columns (the year to date labelled « au JJ/MM »), then the change between the last two
    complete years."""
    heads = [convention_charts.year_label(y, p, t) for y, p, t in frame.select("year", "partial", "through").iter_rows()]
    rows = [["Indicateur", *heads, "Évolution"]]
    for column, (label, kind) in CONVENTION_COLUMNS.items():
        values = frame[column].to_list()
        change = trend(frame, column)
        cells = [convention_charts._text(v, kind) if kind != "pct" else fmt.percent(v) for v in values]
        delta = (fmt.MISSING if change is None else fmt.signed(change * 100, 1, " pt") if kind == "pct"
                 else fmt.signed(change, 1 if kind == "dec" else 0))
        rows.append([label, *cells, delta])
    return rows


def _convention_table(ctx):
    return convention_table(ctx.convention) if ctx.convention is not None else [["Indicateur"], ["Aucune donnée"]]


def _convention_reading(ctx):
    frame = ctx.convention
    if frame is None or frame.is_empty():
        return "Aucune année de données dans la base."
    last = frame.row(-1, named=True)
    label = convention_charts.year_label(last["year"], last["partial"], last["through"])
    text = f"{label} : file active moyenne {fmt.number(last['average_caseload'], 2)}"
    if last["caseload_target"] is not None:
        text += f" (objectif {last['caseload_target']})"
    text += f", taux de sorties positives {fmt.percent(last['positive_exit_rate'])}"
    full = frame.filter(~pl.col("partial"))
    if full.height:
        prev = full.row(-1, named=True)
        if prev["year"] != last["year"]:
            text += (f" ; {prev['year']} complet : file active {fmt.number(prev['average_caseload'], 2)}, "
                     f"sorties positives {fmt.percent(prev['positive_exit_rate'])}")
    return text + "."


def _forecast_fig(ctx):
    if ctx.forecast is None:
        return convention_charts.empty(message="Prévision non disponible pour cette sélection")
    return caseload_charts.caseload_forecast(ctx.forecast[1])


def forecast_rows(forecast: dict, past) -> list[list]:
    """Month, expected, 80 % interval, mean past error at that horizon, entries and prescriptions needed (raw values)."""
    from analytics.indicators.projection import backtest_summary

    errors = {r["horizon"]: r["mean_abs_error"] for r in backtest_summary(past).iter_rows(named=True)} if past.height else {}
    return [[m, f["expected"], f["low"], f["high"], errors.get(h), forecast["entries_needed"][m], forecast["prescriptions_needed"][m]]
            for h, (m, f) in enumerate(forecast["months"].items(), start=1)]


def _forecast_table(ctx):
    if ctx.forecast is None:
        return [["Prévision"], ["Non disponible"]]
    rows = [["Mois", "Prévue", "Intervalle à 80 %", "Erreur passée", "Entrées nécessaires", "Prescriptions nécessaires"]]
    for m, e, lo, hi, err, n, p in forecast_rows(ctx.forecast[0], ctx.forecast[2]):
        rows.append([fmt.month_label(m), fmt.number(e, 1), f"{fmt.number(lo)} à {fmt.number(hi)}",
                     fmt.MISSING if err is None else f"± {fmt.number(err, 1)}", fmt.number(n), fmt.number(p)])
    return rows


def _forecast_reading(ctx):
    if ctx.forecast is None:
        return "Prévision non disponible (base vide, ou trop peu de personnes en mode diffusion)."
    forecast = ctx.forecast[0]
    last_month, last = list(forecast["months"].items())[-1]
    text = (f"Prévision au {fmt.day(forecast['at'])} : {fmt.number(last['expected'], 1)} personnes attendues en "
            f"{fmt.month_label(last_month)} (de {fmt.number(last['low'])} à {fmt.number(last['high'])})")
    if forecast["target"] is not None:
        entries = sum(n for n in forecast["entries_needed"].values() if n)
        prescriptions = sum(n for n in forecast["prescriptions_needed"].values() if n)
        text += (f" ; pour tenir l'objectif de {forecast['target']} : {fmt.number(entries)} entrées de plus, soit "
                 f"{fmt.number(prescriptions)} prescriptions, sur {len(forecast['months'])} mois" if entries else
                 f" ; l'objectif de {forecast['target']} serait tenu sans entrée supplémentaire")
    return text + "."


FORECAST = Section("projection", _forecast_fig, _forecast_table, _forecast_reading, wide=True)
SECTIONS[2:2] = [FORECAST]  # after the caseload and its flows: will the caseload reach the target?


CONVENTION = Section("convention_years", _convention_fig, _convention_table, _convention_reading, wide=True)


# The deck shows the convention's years on three slides of three charts each — nine small charts on one projector
# screen were unreadable at 1024×768 — each slide with its own reading, about its own three figures. The PDF keeps
# its one page (CONVENTION).
CONVENTION_GROUPS: list[tuple[str, list[str]]] = [
    ("volumes", ["positioned", "participants", "entries"]),
    ("sorties et file active", ["exits", "positive_exit_rate", "average_caseload"]),
    ("délais, présence et FSE+", ["first_appointment_median_days", "attendance_rate", "esf_participants"]),
]


def _phrase(column: str, row: dict) -> str:
    """One figure of one year, in words: « 117 participants », « taux de sorties positives 42,1 % »."""
    v = row[column]
    missing = "non disponible"
    if column == "positioned":
        return fmt.count_noun(v, "positionné", "positionnés", feminine=False) if v is not None else f"positionnés {missing}"
    if column == "participants":
        return fmt.count_noun(v, "participant", "participants", feminine=False) if v is not None else f"participants {missing}"
    if column == "entries":
        return fmt.count_noun(v, "entrée", "entrées") if v is not None else f"entrées {missing}"
    if column == "exits":
        return fmt.count_noun(v, "sortie", "sorties") if v is not None else f"sorties {missing}"
    if column == "positive_exit_rate":
        return f"taux de sorties positives {missing if v is None else fmt.percent(v)}"
    if column == "average_caseload":
        text = f"file active moyenne {missing if v is None else fmt.number(v, 2)}"
        return text + (f" (objectif {row['caseload_target']})" if row.get("caseload_target") is not None else "")
    if column == "first_appointment_median_days":
        return f"délai médian du 1er rendez-vous {missing if v is None else fmt.number(v, 1 if v % 1 else 0) + ' j'}"
    if column == "attendance_rate":
        return f"présence aux rendez-vous {missing if v is None else fmt.percent(v)}"
    if column == "esf_participants":
        return f"participants FSE+ (EECO01) {missing if v is None else fmt.number(v)}"
    label, kind = CONVENTION_COLUMNS[column]
    return f"{label.lower()} {convention_charts._text(v, kind)}"


def convention_group_reading(frame, columns: list[str]) -> str:
    """The last year (to date) and the last complete year, on the figures of one slide."""
    if frame is None or frame.is_empty():
        return "Aucune année de données dans la base."
    last = frame.row(-1, named=True)
    label = convention_charts.year_label(last["year"], last["partial"], last["through"])
    text = f"{label} : " + ", ".join(_phrase(c, last) for c in columns)
    full = frame.filter(~pl.col("partial"))
    if full.height:
        prev = full.row(-1, named=True)
        if prev["year"] != last["year"]:
            text += f" ; {prev['year']} complet : " + ", ".join(_phrase(c, prev) for c in columns)
    return text + "."


def _convention_group(name: str, columns: list[str]) -> Section:
    def figure(ctx):
        if ctx.convention is None:
            return convention_charts.empty()
        return convention_charts.convention_trends(ctx.convention, columns)

    return Section("convention_years", figure, _convention_table,
                   lambda ctx: convention_group_reading(ctx.convention, columns),
                   title=f"{DEFINITIONS['convention_years'].label} : {name}", wide=True)


CONVENTION_SLIDES = [_convention_group(name, columns) for name, columns in CONVENTION_GROUPS]


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
