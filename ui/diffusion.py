"""Diffusion mode of the dashboard (statistical confidentiality, `analytics.diffusion`).

A sidebar toggle « Mode diffusion » (URL key `diffusion`), forced on for the `partenaire` role. While it
is on, `ui.state.figures()` returns the suppressed figures (every KPI, table and figure-fed chart shows
« < k »), `ui.components.chart` masks every chart it draws, and the pages align the frames they draw
from the dataset on the suppressed figures (`analytics.diffusion.align_*`). The exports of the Rapports
page apply the same suppression by default (they leave the association).
"""

from __future__ import annotations

import streamlit as st

from analytics.diffusion import all_masked_labels, mask_figure
from ui import access, state

KEY = access.DIFFUSION_KEY
forced = access.diffusion_forced  # True for a role that may only see published figures (`partenaire`)
enabled = access.diffusion_enabled
k = access.diffusion_k


def toggle(sidebar) -> None:
    """The sidebar toggle (bound to the URL); locked on when the role forces it."""
    locked = forced()
    if locked:
        st.session_state[KEY] = True
    sidebar.toggle("Mode diffusion", key=KEY, bind="query-params", disabled=locked,
                   help=f"Secret statistique : les effectifs de moins de {k()} personnes sont masqués (« < {k()} »), "
                        "avec le secret secondaire (une case masquée ne se retrouve pas par différence avec un total), "
                        "et les taux calculés sur moins de " + str(k()) + " personnes aussi. "
                        + ("Imposé pour votre profil." if locked else "À activer pour projeter ou diffuser hors de l'association."))
    if enabled():
        sidebar.caption(f"🔒 Mode diffusion : effectifs inférieurs à {k()} masqués.")


def figure(fig, masked_totals=()):
    """The figure as drawn: masked when the diffusion mode is on. The totals masked in the selection's figures
    (`all_masked_labels`) count as masked totals of the chart, with `masked_totals`."""
    if not enabled():
        return fig
    return mask_figure(fig, k(), set(masked_totals) | all_masked_labels(state.figures()))


__all__ = ["KEY", "enabled", "figure", "forced", "k", "toggle"]
