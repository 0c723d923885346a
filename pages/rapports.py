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
from analytics.indicators import compute
from analytics.diffusion import denominators, suppress_figures, suppressed_k
from analytics.schema import norm_key
from analytics.reports.common import ReportError, data_date_text, filters_text, report_file_name
from analytics.reports.csv import TABLES, indicator_table_csv, monthly_tracking_csv, source_line
from analytics.reports.pdf import build_pdf
from analytics.reports.xlsx import SHEETS, build_xlsx
from ui import auth
from ui import components as ui
from ui import state

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTHLY = "monthly_tracking"

sel = ui.header("Rapports", "Le bilan annuel, le pack du comité de pilotage et les tableaux d'indicateurs, produits par le même "
                "moteur que le tableau de bord, pour la période et les filtres choisis.")
db = state.current_db()
version = state.current_version()
p = sel.period


who = auth.current_user()  # read here: the download callables run on another thread


def _built(build, kind: str = "") -> bytes:
    """Run a report builder on a connection of its own (the download callable runs on another thread); the export
    goes to the audit log (who, format, period, filters, diffusion threshold)."""
    with closing(state.open_connection(str(db), version)) as con:  # the import shown (latest or `?import=N`)
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

# ---------------------------------------------------------------- audience: complete figures or statistical confidentiality
forced = ui.diffusion.forced()
AUDIENCES = {"departement": "Pour le Département (chiffres complets)", "diffusion": "Pour diffusion (secret statistique)"}
if forced:  # the partner role only ever receives published figures
    st.session_state["rapports_audience"] = "diffusion"
audience = st.radio("Destinataire des fichiers", list(AUDIENCES), format_func=AUDIENCES.get, index=1, key="rapports_audience",
                    disabled=forced, horizontal=True,
                    help="Le Département finance l'action et reçoit le tableau de suivi mensuel : ses rapports impriment "
                         f"tous les effectifs. Pour toute autre diffusion, les effectifs de moins de {ui.diffusion.k()} "
                         f"personnes sont masqués (« < {ui.diffusion.k()} »), avec le secret secondaire (« masqué » : "
                         "protège une petite case voisine), comme en mode diffusion ; les fichiers portent « -diffusion » "
                         "dans leur nom." + (" Imposé pour votre profil." if forced else ""))
suppress = ui.diffusion.k() if audience == "diffusion" or forced else None
if suppress:
    st.caption(f"Secret statistique : effectifs de moins de {suppress} personnes masqués, avec le secret secondaire.")
else:
    st.caption("Chiffres complets : à réserver au Département (données personnelles pseudonymisées, ne pas diffuser).")
if suppress and not suppressed_k(fig):
    fig = suppress_figures(fig, suppress, denominators=denominators(state.dataset()))
elif not suppress and suppressed_k(fig):  # the sidebar's diffusion mode is on: the Département's files are complete
    fig = compute(state.dataset())
st.caption("Nom des fichiers : " + ", ".join(report_file_name(stem, p, sel.filters, suppress, ext) for stem, ext in
                                            (("bilan-quantitatif", ".xlsx"), ("pack-copil", ".pdf"))) + "…")

# ---------------------------------------------------------------- XLSX
st.subheader("Bilan quantitatif (Excel)")
st.markdown("Un onglet par tableau du bilan annuel — " + ", ".join(list(SHEETS.values())[1:-2]).lower()
            + " — plus le **suivi mensuel** transmis au Département et les **indicateurs FSE+** par sexe. "
            "Nombres et pourcentages restent des nombres dans Excel ; chaque onglet rappelle la période, les filtres "
            "et la date des données.")
st.download_button("Télécharger le bilan quantitatif (.xlsx)",
                   data=lambda: _built(lambda con, buf: build_xlsx(con, p, sel.filters, buf, suppress=suppress), "xlsx"),
                   file_name=report_file_name("bilan-quantitatif", p, sel.filters, suppress, ".xlsx"), mime=XLSX_MIME, on_click="ignore", type="primary",
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
                       file_name=report_file_name("pack-copil", p, sel.filters, suppress, ".pdf"), mime="application/pdf", on_click="ignore", type="primary",
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
    # the last line states the data date and the import the table was computed on, as the PDF, the XLSX and
    # `coaching report` do
    content += source_line(data_date_text(state.data_date(), state.shown_import()))
    return _built(lambda con, buf: buf.write(content), "csv")


stem = "suivi-mensuel" if choice == MONTHLY else re.sub(r"[^a-z0-9]+", "-", norm_key(TABLES[choice])).strip("-")
st.download_button("Télécharger le tableau (.csv)", data=data, file_name=report_file_name(stem, p, sel.filters, suppress, ".csv"),
                   mime="text/csv", on_click="ignore", icon=":material/csv:", key="rapports_csv")
st.caption("Séparateur point-virgule, UTF-8 avec BOM et virgule décimale : le fichier s'ouvre directement dans Excel.")

# ---------------------------------------------------------------- presentation mode
st.subheader("Mode présentation")
st.markdown("Pour un comité de pilotage : activez **Mode présentation** en bas de la barre latérale. Les contrôles "
            "disparaissent, les graphiques clés défilent un par écran, en grand (boutons « Précédent » / « Suivant » "
            "ou flèches ← → du clavier ; Échap pour quitter).")
st.caption(f"Sélection : {fmt.period_text(p)} ; filtres : {filters_text(sel.filters)}.")
