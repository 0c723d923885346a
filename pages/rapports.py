"""Rapports: the annual report (XLSX), the COPIL pack (PDF) and the indicator tables (CSV) of the current
selection, built only when asked for.

The XLSX and the CSV are built by the download button itself (a callable `data=`, run when clicked; the
button's icon spins meanwhile). The PDF exports a dozen charts with Chromium, which takes several seconds:
« Préparer » builds it under a progress bar, then its download button appears.
"""

import io
import re
from contextlib import closing
from datetime import datetime

import streamlit as st

from analytics import audit, fmt
from analytics.diffusion import denominators, suppress_figures, suppressed_k
from analytics.schema import norm_key
from analytics.reports.common import ReportError, filters_text, selection_slug
from analytics.reports.csv import TABLES, indicator_table_csv, monthly_tracking_csv
from analytics.reports.pdf import build_pdf
from analytics.reports.xlsx import SHEETS, build_xlsx
from analytics.store import connect_readonly
from ui import auth
from ui import components as ui
from ui import state

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTHLY = "monthly_tracking"

sel = ui.header("Rapports", "Le bilan annuel, le pack du comité de pilotage et les tableaux d'indicateurs, produits par le même "
                "moteur que le tableau de bord, pour la période et les filtres choisis.")
db = state.current_db()
p = sel.period
slug = selection_slug(p, sel.filters)


who = auth.current_user()  # read here: the download callables run on another thread


def _built(build, kind: str = "") -> bytes:
    """Run a report builder on a connection of its own (the download callable runs on another thread); the export
    goes to the audit log (who, format, period, filters, diffusion threshold)."""
    with closing(connect_readonly(db)) as con:
        buf = io.BytesIO()
        build(con, buf)
    try:
        audit.record("export", who.name if who else None, who.role if who else None, period=p, filters=sel.filters,
                     detail={"format": kind, "diffusion": suppress}, db=db)
    except OSError:
        pass
    return buf.getvalue()


if state.connection() is None:
    ui.empty_state("La base est vide : aucun rapport à produire.")
    st.stop()

fig = state.figures()
if fig["positioned"] == 0:
    st.warning("Aucune personne ne correspond à cette sélection : les rapports seraient vides.", icon=":material/warning:")

# ---------------------------------------------------------------- statistical confidentiality (analytics.diffusion)
forced = ui.diffusion.forced()
secret = st.toggle("Secret statistique (rapports diffusés hors de l'association)", value=True, key="rapports_secret",
                   disabled=forced, help=f"Activé par défaut : dans les fichiers produits, les effectifs de moins de "
                   f"{ui.diffusion.k()} personnes sont masqués (« < {ui.diffusion.k()} »), avec le secret secondaire, comme "
                   "en mode diffusion. Désactivez-le seulement pour un usage interne." + (" Imposé pour votre profil." if forced else ""))
suppress = ui.diffusion.k() if secret or forced else None
if suppress and not suppressed_k(fig):
    fig = suppress_figures(fig, suppress, denominators=denominators(state.dataset()))

# ---------------------------------------------------------------- XLSX
st.subheader("Bilan quantitatif (Excel)")
st.markdown("Un onglet par tableau du bilan annuel — " + ", ".join(list(SHEETS.values())[1:-2]).lower()
            + " — plus le **suivi mensuel** transmis au Département et les **indicateurs FSE+** par sexe. "
            "Nombres et pourcentages restent des nombres dans Excel ; chaque onglet rappelle la période, les filtres "
            "et la date des données.")
st.download_button("Télécharger le bilan quantitatif (.xlsx)",
                   data=lambda: _built(lambda con, buf: build_xlsx(con, p, sel.filters, buf, suppress=suppress), "xlsx"),
                   file_name=f"bilan-quantitatif-{slug}.xlsx", mime=XLSX_MIME, on_click="ignore", type="primary",
                   icon=":material/table_view:", key="rapports_xlsx")
st.caption("Le classeur est construit au clic (une ou deux secondes) : l'icône du bouton tourne pendant la préparation.")

# ---------------------------------------------------------------- PDF
st.subheader("Pack COPIL (PDF)")
st.markdown("Page de garde (action, territoire, période, filtres, date des données), chiffres clés comparés à la période "
            "précédente et indicateurs FSE+, puis les graphiques du tableau de bord, chacun avec son tableau et sa lecture.")
pdf_key = (p, sel.filters, suppress)
ready = st.session_state.get("rapports_pdf")
if st.button("Préparer le pack COPIL (PDF)", icon=":material/picture_as_pdf:", key="rapports_pdf_prepare"):
    bar = st.progress(0.0, text="Préparation du pack COPIL…")
    pages = {}

    def _pdf(con, buf) -> None:
        pages["n"] = build_pdf(con, p, sel.filters, buf,
                               progress=lambda share, message: bar.progress(min(max(share, 0.0), 1.0), text=message),
                               suppress=suppress)

    try:
        data = _built(_pdf, "pdf")
        ready = st.session_state["rapports_pdf"] = {"key": pdf_key, "data": data, "pages": pages["n"], "at": datetime.now()}
    except ReportError as exc:
        st.error(f"Le pack n'a pas pu être produit : {exc}.", icon=":material/block:")
    bar.empty()
if ready and ready["key"] == pdf_key:
    st.download_button(f"Télécharger le pack COPIL (.pdf, {ready['pages']} pages)", data=ready["data"],
                       file_name=f"pack-copil-{slug}.pdf", mime="application/pdf", on_click="ignore", type="primary",
                       icon=":material/download:", key="rapports_pdf_download")
    st.caption(f"Préparé à {ready['at']:%H:%M} pour la sélection affichée.")
else:
    st.caption("La préparation exporte une douzaine de graphiques (quelques secondes, plus la première fois).")

# ---------------------------------------------------------------- CSV
st.subheader("Tableaux d'indicateurs (CSV)")
options = {MONTHLY: "Suivi mensuel (file active, entrées, sorties par motif, rendez-vous)", **TABLES}
choice = st.selectbox("Tableau", list(options), format_func=options.get, key="rapports_csv_table")
if choice == MONTHLY:
    ds = state.dataset()
    data = lambda: audited_csv(monthly_tracking_csv(ds, fig if suppress else None))  # noqa: E731
else:
    value = fig[choice]
    data = lambda: audited_csv(indicator_table_csv(choice, value))  # noqa: E731


def audited_csv(content: bytes) -> bytes:
    return _built(lambda con, buf: buf.write(content), "csv")


stem = "suivi-mensuel" if choice == MONTHLY else re.sub(r"[^a-z0-9]+", "-", norm_key(TABLES[choice])).strip("-")
st.download_button("Télécharger le tableau (.csv)", data=data, file_name=f"{stem}-{slug}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/csv:", key="rapports_csv")
st.caption("Séparateur point-virgule, UTF-8 avec BOM et virgule décimale : le fichier s'ouvre directement dans Excel.")

# ---------------------------------------------------------------- presentation mode
st.subheader("Mode présentation")
st.markdown("Pour un comité de pilotage : activez **Mode présentation** en bas de la barre latérale. Les contrôles "
            "disparaissent, les graphiques clés défilent un par écran, en grand (boutons « Précédent » / « Suivant » "
            "ou flèches ← → du clavier ; Échap pour quitter).")
st.caption(f"Sélection : {fmt.period_label(p.start, p.end)} ; filtres : {filters_text(sel.filters)}.")
