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
from analytics.reports.sections import SECTIONS, kpi_rows
from ui import diffusion, state
from ui.components import PLOTLY_CONFIG

KEY = "presentation"
SLIDE = "presentation_slide"

CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container { padding-top: 1rem !important; max-width: 100% !important; }
[data-testid="stMarkdownContainer"] p { font-size: 1.35rem; }
.slide-title { font-size: 2.3rem; font-weight: 700; color: #1f5fa8; line-height: 1.15; margin: 0; }
.slide-reading { font-size: 1.7rem; font-weight: 600; margin-top: .4rem; }
.slide-meta { font-size: 1.05rem; color: #5b6472; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3.2rem !important; line-height: 1.2 !important; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { font-size: 1.3rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.2rem !important; }
[data-testid="stBaseButton-primary"] p, [data-testid="stBaseButton-secondary"] p { font-size: 1.15rem; }
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
                        territories, actions, state.dataset(previous, sel.filters), state.figures(previous, sel.filters))
    from analytics.typology.outcomes import report_view

    found = state.typology()
    ctx.typology = report_view(found[0] if found else None, found[1] if found else None, ctx.ds,
                               diffusion.k() if diffusion.enabled() else None)
    return ctx


def enlarge(fig: go.Figure) -> go.Figure:
    """The dashboard's figure, for a screen seen from across a meeting room."""
    height = max(620, min(780, int((fig.layout.height or 380) * 1.3)))
    fig.update_layout(height=height, font=dict(size=20), legend=dict(font=dict(size=18)),
                      margin=dict(l=20, r=20, t=40, b=20))
    fig.update_xaxes(tickfont=dict(size=17), title_font=dict(size=18))
    fig.update_yaxes(tickfont=dict(size=17), title_font=dict(size=18))
    for trace in fig.data:
        if "textfont" in trace:
            trace.textfont.size = 18
    return fig


def _go(step: int, n: int) -> None:
    st.session_state[SLIDE] = max(0, min(n - 1, st.session_state.get(SLIDE, 0) + step))


def _quit() -> None:
    st.session_state[KEY] = False


def run() -> None:
    """Draw the current slide of the deck."""
    st.html(CSS)
    ctx = _context()
    slides = ["kpi"] + SECTIONS
    n = len(slides)
    i = max(0, min(n - 1, st.session_state.get(SLIDE, 0)))
    st.session_state[SLIDE] = i
    heading = "Chiffres clés" if i == 0 else slides[i].heading

    top = st.columns([1.7, 6, 1.6, 1.3, 1.1], vertical_alignment="center")
    top[0].button("◀ Précédent", on_click=_go, args=(-1, n), disabled=i == 0, shortcut="Left", width="stretch",
                  key="presentation_prev")
    top[1].html(f'<p class="slide-title">{escape(heading)}</p>'
                f'<span class="slide-meta">{i + 1} / {n} · {escape(ctx.period_text)} · Filtres : {escape(ctx.filters_text)}</span>')
    top[2].button("Suivant ▶", on_click=_go, args=(1, n), disabled=i == n - 1, shortcut="Right", width="stretch",
                  type="primary", key="presentation_next")
    top[3].button("Quitter", on_click=_quit, shortcut="Esc", width="stretch", key="presentation_quit",
                  help="Revenir au tableau de bord (touche Échap)")
    top[4].html(f'<span class="slide-meta">Données au {fmt.MISSING if ctx.data_date is None else fmt.day(ctx.data_date)}</span>')

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
        st.html(f'<p class="slide-reading">{escape(SECTIONS[0].reading(ctx))}</p>')
        return
    section = slides[i]
    # diffusion mode: the figures of ctx are the suppressed ones and the chart is masked like the pages' charts
    st.plotly_chart(enlarge(diffusion.figure(section.figure(ctx))), config=PLOTLY_CONFIG, width="stretch",
                    key=f"presentation_chart_{section.key}")
    st.html(f'<p class="slide-reading">{escape(section.reading(ctx))}</p>')
