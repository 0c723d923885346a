"""Presentation mode for COPIL meetings.

A sidebar toggle « Mode présentation » (bound to the URL as `?presentation=true`, so a prepared link opens
the deck) replaces the current page by a deck: the sidebar, the header and the filters are hidden (CSS),
fonts and charts are enlarged, and the key charts are shown one per screen — the KPI summary first, then
the sections of the COPIL pack (`analytics.reports.sections`, the same figures and readings as the PDF) —
with « Précédent » / « Suivant » buttons (keyboard: ← / →) and « Quitter » (Échap). The deck uses the
selection (period and filters) set before entering the mode.
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go
import streamlit as st

from analytics import fmt
from analytics.reports.common import ReportContext, data_date, scope
from analytics.reports.sections import CONVENTION_SLIDES, SECTIONS, Section, kpi_reading, kpi_rows, map_figure, map_reading
from ui import diffusion, state
from ui.components import PLOTLY_CONFIG

KEY = "presentation"
SLIDE = "presentation_slide"

CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
/* one slide = one screen, from 1024×768 to 1920×1080: sizes follow the viewport, labels wrap instead of being cut */
[data-testid="stMainBlockContainer"], .block-container { padding: .6rem 1.2rem .4rem !important; max-width: 100% !important; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: .45rem !important; }
.slide-title { font-size: clamp(1.5rem, 2.6vw, 2.4rem); font-weight: 700; color: #1f5fa8; line-height: 1.15; margin: 0; }
.slide-reading { font-size: clamp(1.05rem, min(1.9vw, 3.2vh), 1.75rem); font-weight: 600; line-height: 1.3; margin: 0; }
.slide-meta { font-size: clamp(.85rem, 1.1vw, 1.05rem); color: #4b5361; margin: 0; }
.st-key-slide_chart { height: calc(100vh - 11rem - 2 * clamp(1.05rem, min(1.9vw, 3.2vh), 1.75rem) * 1.3) !important; min-height: 240px; flex: 0 0 auto !important; }
.st-key-slide_chart [data-testid="stPlotlyChart"], .st-key-slide_chart [data-testid="stElementContainer"],
.st-key-slide_chart [data-testid="stFullScreenFrame"] { height: 100% !important; }
[data-testid="stMetric"] { padding: .5rem .8rem !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: clamp(2rem, min(3.6vw, 6vh), 3.2rem) !important; line-height: 1.15 !important; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { font-size: clamp(.95rem, 1.35vw, 1.3rem) !important;
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; line-height: 1.2 !important; }
[data-testid="stMetricLabel"] { height: auto !important; min-height: 2.4em; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: clamp(.9rem, 1.2vw, 1.2rem) !important; }
.st-key-slide_nav button p { font-size: clamp(.95rem, 1.2vw, 1.15rem); white-space: nowrap; }
</style>
"""

def sidebar() -> bool:
    """Draw the toggle in the sidebar; True while presenting."""
    st.sidebar.divider()
    st.sidebar.toggle("Mode présentation", key=KEY, bind="query-params",
                      help="Pour les comités de pilotage : masque les contrôles, agrandit les graphiques et les fait "
                           "défiler un par écran (flèches ← → du clavier). La période et les filtres restent ceux choisis.")
    return bool(st.session_state.get(KEY))


def _context() -> ReportContext:
    sel = state.selection()
    previous = sel.period.previous()
    con = state.connection()
    territories, actions = scope(con, sel.filters) if con is not None else ([], [])
    ctx = ReportContext(sel.period, sel.filters, state.dataset(), state.figures(), data_date(con) if con is not None else None,
                        territories, actions, state.dataset(previous, sel.filters), state.figures(previous, sel.filters),
                        convention=state.convention(sel.filters), forecast=_forecast(con, sel))
    from analytics.typology.outcomes import report_view

    found = state.typology()
    ctx.typology = report_view(found[0] if found else None, found[1] if found else None, ctx.ds,
                               diffusion.k() if diffusion.enabled() else None)
    return ctx


def _forecast(con, sel) -> tuple | None:
    """The caseload projection made at the end of the period (or the data date), as the reports make it."""
    from analytics.indicators.projection import basis_too_small

    latest = data_date(con) if con is not None else None
    found = state.projection(min(sel.period.end, latest), 6) if latest is not None else None
    if found is None or basis_too_small(found[0], diffusion.k() if diffusion.enabled() else None):
        return None
    return found


def enlarge(fig: go.Figure) -> go.Figure:
    """The dashboard's figure, for a screen seen from across a meeting room."""
    # no fixed height: the chart fills the room left on the screen by the title and the reading (CSS, `slide_chart`)
    fig.update_layout(height=None, autosize=True, font=dict(size=18), legend=dict(font=dict(size=16)),
                      margin=dict(l=20, r=20, t=40, b=20))
    fig.update_xaxes(tickfont=dict(size=15), title_font=dict(size=16))
    fig.update_yaxes(tickfont=dict(size=15), title_font=dict(size=16))
    fig.update_annotations(font_size=17)  # the titles of small multiples, a masked chart's message
    for trace in fig.data:
        if "textfont" in trace:
            trace.textfont.size = 16
    return fig


def _go(step: int, n: int) -> None:
    st.session_state[SLIDE] = max(0, min(n - 1, st.session_state.get(SLIDE, 0) + step))


def _quit() -> None:
    st.session_state[KEY] = False


def _slides() -> list:
    """The deck: the key figures, the convention's years (three slides of three charts), the sections of the COPIL
    pack, then the territory map."""
    return ["kpi", *CONVENTION_SLIDES, *SECTIONS, MAP]


MAP = Section("map", map_figure, lambda ctx: [], map_reading, title="Où vivent les participants")


def run() -> None:
    """Draw the current slide of the deck. Keyboard: ← / → change slide, Échap quits; the buttons are reachable
    with Tab and the focus is visible."""
    st.html(CSS)
    ctx = _context()
    slides = _slides()
    n = len(slides)
    i = max(0, min(n - 1, st.session_state.get(SLIDE, 0)))
    st.session_state[SLIDE] = i
    heading = "Chiffres clés" if i == 0 else slides[i].heading

    with st.container(horizontal=True, vertical_alignment="center", key="slide_nav", gap="small"):
        # never disabled: Streamlit does not register the keyboard shortcut of a button drawn disabled first (← would
        # stay dead after the first slide); at either end the step is a no-op
        st.button("Précédent", icon=":material/arrow_back:", on_click=_go, args=(-1, n), shortcut="Left",
                  key="presentation_prev", help="Diapositive précédente (touche ←)")
        st.button("Suivant", icon=":material/arrow_forward:", on_click=_go, args=(1, n),
                  shortcut="Right", type="primary", key="presentation_next", help="Diapositive suivante (touche →)")
        st.button("Quitter", icon=":material/close:", on_click=_quit, shortcut="Esc", key="presentation_quit",
                  help="Revenir au tableau de bord (touche Échap)")
        st.html(f'<p class="slide-meta">{i + 1} / {n} · {escape(ctx.period_text)} · Filtres : {escape(ctx.filters_text)} · '
                f'Données au {fmt.MISSING if ctx.data_date is None else fmt.day(ctx.data_date)}</p>', width="stretch")
    st.html(f'<h1 class="slide-title">{escape(heading)}</h1>')

    if ctx.fig["positioned"] == 0:
        st.info("Aucune personne ne correspond à cette sélection : quittez la présentation pour changer la période ou les filtres.")
        return
    if i == 0:
        rows = kpi_rows(ctx)[1:]
        for start in range(0, len(rows), 4):
            cols = st.columns(4)
            for col, (label, value, _, change) in zip(cols, rows[start:start + 4]):
                col.metric(label, value, delta=None if change == fmt.MISSING else change, delta_color="off", border=True,
                           delta_arrow="down" if change.startswith("−") else "up" if change.startswith("+") else "off")
        st.html(f'<p class="slide-reading">{escape(kpi_reading(ctx))}</p>')
        return
    section = slides[i]
    # diffusion mode: the figures of ctx are the suppressed ones and the chart is masked like the pages' charts
    fig = enlarge(diffusion.figure(section.figure(ctx)))
    reading = section.reading(ctx)
    with st.container(key="slide_chart"):
        st.plotly_chart(fig, config=PLOTLY_CONFIG, width="stretch", height="stretch", key=f"presentation_chart_{i}_{section.key}")
    st.html(f'<p class="slide-reading">{escape(reading)}</p>')
