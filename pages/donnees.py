"""Données: import an extract (same code as `coaching import`), its validation report, the import history,
the data dictionary and the completeness of the stored data."""

import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.charts.data import completeness as completeness_chart
from analytics.extract import ExtractError, problems_frame
from analytics.assistant import save_profile
from analytics.importer import run_import
from analytics.mapping import Profile, shape_problems
from analytics.quality import completeness, data_dictionary, import_journal, report_csv, stage_upload
from analytics.store import refused_imports
from analytics.template import template_bytes
from ui import auth
from ui import components as ui
from ui import mapping_assistant
from ui import state

RESULT, REPORT, UPLOADER = "donnees_result", "donnees_report", "donnees_uploader"


def import_uploaded(files: list, drop_identifying_columns: bool, mapping: Profile | None = None) -> None:
    """Stage the uploaded files, then `run_import` exactly as the command line does (a refusal is journaled).

    All-or-nothing: a refused extract raises before anything is written, and the store swaps its file
    only once the whole snapshot is applied. On success the caches are cleared; in every case the
    uploader is emptied and the app reruns (the summary or the report is kept in the session).
    `mapping`: the assistant's profile; saved under data/mappings only once the import succeeded.
    """
    st.session_state.pop(REPORT, None)
    if not auth.may_import():  # checked on the server: only an administrator (or the single local user) imports
        st.error("L'import d'extraits est réservé aux administrateurs.", icon=":material/block:")
        return
    names = [f.name for f in files]
    with st.status("Import en cours…", expanded=True) as status:
        bar = st.progress(0, text="Préparation des fichiers déposés…")
        try:
            with tempfile.TemporaryDirectory(prefix="coaching-upload-") as tmp:
                path = stage_upload([(f.name, f.getvalue()) for f in files], Path(tmp))
                result = run_import(path, state.current_db(), drop_identifying_columns=drop_identifying_columns,
                                    progress=lambda share, text: bar.progress(int(share * 100), text=text), mapping=mapping)
            if mapping is not None:
                save_profile(mapping)
                result.notes.append(f"  Profil de correspondance « {mapping.name} » enregistré : il sera proposé pour les "
                                    "prochains fichiers aux mêmes en-têtes.")
        except ExtractError as exc:
            status.update(label=f"Extrait refusé : {len(exc.problems)} problème(s). Rien n'a été importé.", state="error")
            st.session_state[REPORT] = {"source": exc.source, "problems": problems_frame(exc.problems)}
            auth.record("import", files=names, status="refusé")
        except Exception as exc:  # the store is left as it was (copy-on-write); say so, without a traceback
            status.update(label="Import interrompu. Rien n'a été importé.", state="error")
            st.session_state[REPORT] = {"source": ", ".join(f.name for f in files), "error": f"{type(exc).__name__} : {exc}"}
        else:
            status.update(label="Import terminé.", state="complete")
            st.session_state[RESULT] = (result.status, result.summary())
            auth.record("import", files=names, status=result.status, rows=result.counts)
            state.clear_caches()
    _reset_uploader()
    st.rerun()  # every page, and this one, redrawn from the new store (or with the report and an empty uploader)


def _reset_uploader() -> None:
    """Empty the uploader on the next run (a new widget key): the corrected files are deposited afresh."""
    st.session_state[UPLOADER] = st.session_state.get(UPLOADER, 0) + 1


def assistant_for(files: list, drop: bool) -> None:
    """The import assistant when the deposited file is not in the extract's shape (ui/mapping_assistant.py)."""
    with tempfile.TemporaryDirectory(prefix="coaching-assistant-") as tmp:
        try:
            path = stage_upload([(f.name, f.getvalue()) for f in files], Path(tmp))
        except ExtractError:
            return  # the import button reports it
        if not shape_problems(path):
            return  # the extract's own shape: the plain import applies
        mapping_assistant.render(path, str(st.session_state.get(UPLOADER, 0)),
                                 lambda profile: import_uploaded(files, drop, profile), auth.may_import())


def show_report(report: dict) -> None:
    if "error" in report:
        st.error(f"L'import de « {report['source']} » a échoué : {report['error']}. La base n'a pas été modifiée.", icon=":material/error:")
        return
    problems: pl.DataFrame = report["problems"]
    st.error(f"Extrait « {report['source']} » refusé : {fmt.number(problems.height)} problème(s). Rien n'a été importé, "
             "la base est restée telle quelle. Corrigez le fichier puis déposez-le de nouveau.", icon=":material/error:")
    shown = problems.rename({c: c.capitalize() for c in problems.columns})
    # the whole message and value of each problem, wrapped (a grid cuts long texts); an empty value reads « — »
    ui.data_table(shown, static=shown.height <= 500)
    st.download_button("Télécharger le rapport de validation (CSV)", report_csv(problems), file_name="rapport-validation.csv",
                       mime="text/csv", icon=":material/download:")


ui.header("Données", "Importer l'extrait mensuel du tableau de suivi, lire son rapport de validation, "
          "et connaître les données en base : historique des imports, dictionnaire, complétude.")
tab_import, tab_history, tab_dictionary, tab_completeness = st.tabs(
    ["Importer un extrait", "Historique des imports", "Dictionnaire des données", "Complétude"])

with tab_import:
    done = st.session_state.pop(RESULT, None)
    if done and done[0] == "inchangé":
        st.info(done[1], icon=":material/info:")
    elif done:
        st.success(done[1].replace("\n", "  \n"), icon=":material/check_circle:")
        st.caption("Toutes les pages affichent désormais les données importées.")
    st.markdown("Déposez **les fichiers CSV** de l'extrait (`participants.csv` et, s'ils existent, `rendez_vous.csv`, "
                "`immersions.csv`) **ou un classeur .xlsx** (feuilles `participants`, `rendez_vous`, `immersions`). "
                "L'import est tout ou rien : au moindre problème, rien n'est importé et le rapport liste chaque problème. "
                "Votre propre tableau de suivi (autres feuilles, colonnes ou libellés) : déposez-le, l'assistant propose "
                "la correspondance.")
    st.download_button("Télécharger le modèle de tableau de suivi (.xlsx)", data=template_bytes, file_name="modele-suivi-coaching.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                       icon=":material/table_view:", key="donnees_template",
                       help="Un classeur prêt à remplir chaque mois : listes déroulantes (libellés, communes, oui/non), "
                            "dates contrôlées, mode d'emploi. Rempli sans renommer feuilles ni colonnes, il s'importe tel quel.")
    files = st.file_uploader("Extrait à importer", type=["csv", "xlsx"], accept_multiple_files=True,
                             key=f"donnees_upload_{st.session_state.get(UPLOADER, 0)}",
                             help="Même contrôle et même import que la commande « coaching import ». "
                                  "Un extrait déjà importé (même contenu) ne change rien.")
    drop = st.checkbox("Supprimer les colonnes identifiantes", key="donnees_drop",
                       help="Un extrait anonymisé ne doit contenir aucun nom, téléphone, courriel, adresse, NIR… "
                            "Coché : ces colonnes sont supprimées avant l'import (et listées) au lieu de faire refuser l'extrait.")
    if not auth.may_import():
        st.info("L'import d'extraits est réservé aux administrateurs.", icon=":material/lock:")
    if st.button("Importer", type="primary", disabled=not files or not auth.may_import(), key="donnees_import"):
        import_uploaded(files, drop)
    report = st.session_state.get(REPORT)
    if report:
        show_report(report)
    if files and auth.may_import():
        assistant_for(files, drop)
    with st.expander("Profils de correspondance enregistrés"):
        mapping_assistant.manage_profiles()

con = state.connection()

with tab_history:
    st.markdown(f"**{ui.label('import_history')}**", help=ui.help_text("import_history"))
    journal = import_journal(con, refused_imports(state.current_db())) if con is not None else None
    if journal is None or journal.is_empty():
        st.info("Aucun import pour l'instant : déposez un extrait dans l'onglet « Importer un extrait ».", icon=":material/search:")
    else:
        ui.data_table(journal)

with tab_dictionary:
    st.markdown(f"**{ui.label('data_dictionary')}**", help=ui.help_text("data_dictionary"))
    dictionary = data_dictionary()
    ui.data_table(dictionary.rename({c: c.capitalize() for c in dictionary.columns}))

with tab_completeness:
    frame = completeness(con) if con is not None else None
    if frame is None or not frame["total"][0]:
        st.info("La base ne contient encore aucune personne : importez un extrait.", icon=":material/search:")
    else:
        ui.chart(completeness_chart(frame), "donnees_completeness", definition="completeness")
        rows = [{"Colonne": col, "Libellé": lab, "Obligatoire": "oui" if req else "non",
                 "Renseignées": f"{fmt.number(n)} / {fmt.number(t)}",
                 "Complétude": fmt.percent(s) if coll or n else fmt.NOT_COLLECTED}
                for col, lab, req, coll, n, t, s in frame.select("column", "label", "required", "collected", "filled", "total",
                                                                  "share").iter_rows()]
        ui.data_table(pl.DataFrame(rows))
