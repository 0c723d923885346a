"""The import assistant's widgets on the Données page (the logic is in analytics/assistant.py and analytics/mapping.py).

A file that is not in the extract's shape: the saved profile made for files like it is proposed (one click), else
the assistant proposes which sheet holds which table, the column-to-column mapping and a canonical label for each
unknown label; it previews the first mapped rows and shows the complete validation report before anything is
written; then the page imports (all or nothing) and saves the profile under its name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import polars as pl
import streamlit as st

from analytics import assistant as A
from analytics import fmt
from analytics import schema as S
from analytics.extract import ExtractError, problems_frame
from analytics.mapping import Profile, load_mapped, read_book
from ui.components import data_table

NONE_SHEET = "(aucune feuille)"
IGNORE_LABEL, DROP_LABEL = "— ignorer —", "— écarter (supprimer) —"
TABLE_TITLES = {"participants": "Personnes (participants)", "rendez_vous": "Rendez-vous (émargement)",
                "immersions": "Immersions (PMSMP)"}


def _column_label(name: str, table: S.Table) -> str:
    if name == IGNORE_LABEL or name == DROP_LABEL:
        return name
    c = table.col(name)
    return f"{c.label} ({name})" + (" *" if c.required else "")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.iterdir()) if path.is_dir() else [path]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@st.cache_data(max_entries=4, show_spinner="Lecture du fichier…")
def _book(digest: str, _path: Path) -> dict:
    """The file's sheets, read once per content (every choice in the assistant reruns the page)."""
    return read_book(_path)


@st.cache_data(max_entries=16, show_spinner="Vérification complète du fichier…")
def _check(digest: str, profile_json: str, _path: Path) -> tuple[list | None, dict, tuple[int, int]]:
    """The complete validation through the profile, once per content and profile: (problems or None, counts,
    (empty lines, total lines))."""
    try:
        extract, info = load_mapped(_path, Profile.from_json(profile_json))
    except ExtractError as exc:
        return exc.problems, {}, (0, 0)
    return None, extract.counts, (info.skipped_empty, info.skipped_total)


def render(path: Path, upload_key: str, do_import: Callable[[Profile], None], may_import: bool) -> None:
    """The assistant for the staged file at `path`; `do_import(profile)` imports it through the profile."""
    digest = _digest(path)
    try:
        book = _book(digest, path)
    except ValueError as exc:
        st.error(f"Fichier illisible : {exc}", icon=":material/error:")
        return
    k = f"asst_{upload_key}"
    recognised = A.recognise(book)
    st.markdown("#### Assistant d'import : un fichier à votre format")
    if recognised is not None:
        st.success(f"Fichier reconnu : ses en-têtes sont ceux du profil « {recognised.name} ». "
                   "Un clic suffit pour l'importer avec la même correspondance.", icon=":material/replay:")
        if st.button(f"Importer avec le profil « {recognised.name} »", type="primary", key=f"{k}_oneclick",
                     disabled=not may_import):
            do_import(recognised)
            return
    else:
        st.info("Ce fichier n'a pas les feuilles et colonnes de l'extrait. L'assistant propose une correspondance : "
                "vérifiez-la, choisissez les libellés inconnus, puis importez ; la correspondance est enregistrée sous "
                "un nom et proposée de nouveau le mois prochain.", icon=":material/explore:")
    if recognised is not None:
        start, labels0 = A.choices_from_profile(book, recognised)
    else:
        start, labels0 = A.suggest(book), {}

    with st.expander("Correspondance des feuilles et des colonnes", expanded=recognised is None):
        sheets = list(book)
        choices: dict[str, A.Suggestion] = {}
        for name, table in S.TABLES.items():
            suggestion = start[name]
            options = sheets + [NONE_SHEET]
            index = options.index(suggestion.sheet) if suggestion.sheet in options else len(options) - 1
            chosen = st.selectbox(f"Feuille : {TABLE_TITLES[name]}", options, index=index, key=f"{k}_sheet_{name}",
                                  help="La feuille du fichier qui tient cette table. « (aucune feuille) » : la table est absente "
                                       "(seules les personnes sont obligatoires).")
            if chosen == NONE_SHEET:
                choices[name] = A.Suggestion(None, None, [], {}, 0.0)
                continue
            s = suggestion if chosen == suggestion.sheet else A.suggest_for(book, chosen, name)
            if not s.columns:
                st.warning(f"Aucune ligne d'en-tête trouvée dans la feuille « {chosen} ».", icon=":material/warning:")
                choices[name] = A.Suggestion(None, None, [], {}, 0.0)
                continue
            st.caption(f"En-tête lu ligne {s.header_row} de « {chosen} » ; * = colonne obligatoire.")
            options = [IGNORE_LABEL, DROP_LABEL] + table.names
            mapping = {}
            grid = st.columns(3)
            for i, col in enumerate(s.columns):
                target = s.mapping.get(col.header)
                current = DROP_LABEL if target == A.DROP else (target or IGNORE_LABEL)
                example = ", ".join(dict.fromkeys(col.values[:3]))
                picked = grid[i % 3].selectbox(
                    f"« {col.header} »", options, index=options.index(current), key=f"{k}_col_{name}_{chosen}_{i}",
                    format_func=lambda v, t=table: _column_label(v, t),
                    help=f"Exemples : {example}" if example else "Colonne vide")
                mapping[col.header] = A.DROP if picked == DROP_LABEL else (None if picked == IGNORE_LABEL else picked)
            choices[name] = A.Suggestion(chosen, s.header_row, s.columns, mapping, 0.0)

    draft = A.profile_from(recognised.name if recognised else "", choices, labels0)
    unknown = A.unknown_labels(book, draft)
    labels = {c: dict(m) for c, m in labels0.items()}
    missing = 0
    if unknown:
        with st.expander(f"Libellés à faire correspondre ({fmt.number(len(unknown))})", expanded=True):
            st.caption("Chaque libellé de votre fichier qui n'est pas un libellé du contrat : la suggestion vient de la "
                       "ressemblance des mots ; choisissez quand aucune suggestion n'est proposée.")
            grid = st.columns(3)
            for i, u in enumerate(unknown):
                col = S.TABLES[u.table].col(u.column)
                options = list(col.values) if col.values else ["oui", "non"]
                picked = grid[i % 3].selectbox(
                    f"{col.label} : « {u.label} » ({fmt.number(u.count)} ligne(s))", options,
                    index=options.index(u.suggestion) if u.suggestion in options else None,
                    placeholder="— choisir —", key=f"{k}_label_{u.column}_{i}_{u.label}")
                if picked is None:
                    missing += 1
                else:
                    labels.setdefault(u.column, {})[u.label] = picked

    default_name = recognised.name if recognised else f"Tableau de suivi — {next((s.sheet for s in choices.values() if s.sheet), '')}"
    name = st.text_input("Nom du profil de correspondance", value=default_name, key=f"{k}_name",
                         help="Le profil est enregistré sous ce nom (dossier data/mappings) et proposé de nouveau "
                              "quand un fichier aux mêmes en-têtes revient.").strip()
    profile = A.profile_from(name or default_name, choices, labels, book)

    if "participants" not in profile.tables:
        st.warning("Choisissez la feuille des personnes (participants) : elle est obligatoire.", icon=":material/warning:")
        return
    st.markdown("**Aperçu des premières lignes, dans la forme de l'extrait**")
    for table, frame in A.preview(path, profile, 5).items():
        st.caption(TABLE_TITLES[table])
        data_table(frame)

    if missing:
        st.warning(f"{fmt.number(missing)} libellé(s) restent à choisir avant la vérification complète.", icon=":material/warning:")
        return
    found, counts, (empty, total) = _check(digest, profile.to_json(), path)
    if found is not None:
        problems: pl.DataFrame = problems_frame(found)
        st.error(f"Rapport de validation : {fmt.number(problems.height)} problème(s). Rien ne sera importé tant qu'ils "
                 "demeurent : corrigez la correspondance ci-dessus ou le fichier.", icon=":material/error:")
        data_table(problems.rename({c: c.capitalize() for c in problems.columns}))
        return
    skipped = f" ; lignes ignorées : {empty} vide(s), {total} de total" if empty or total else ""
    st.success(f"Rapport de validation : aucun problème. {fmt.number(counts.get('participants', 0))} personnes, "
               f"{fmt.number(counts.get('rendez_vous', 0))} rendez-vous, {fmt.number(counts.get('immersions', 0))} "
               f"immersions prêts à être importés{skipped}.", icon=":material/check_circle:")
    left, right = st.columns(2)
    if left.button("Importer et enregistrer le profil", type="primary", key=f"{k}_import", disabled=not may_import or not name):
        do_import(profile)
    right.download_button("Télécharger le profil (JSON)", A.profile_json(profile), file_name="profil-correspondance.json",
                          mime="application/json", on_click="ignore", key=f"{k}_json",
                          help="Pour la ligne de commande : « coaching import FICHIER --mapping profil.json ».")


def manage_profiles() -> None:
    """The saved profiles: listed, renamed, deleted."""
    profiles = A.list_profiles()
    if not profiles:
        st.caption("Aucun profil de correspondance enregistré : l'assistant en crée un au premier import d'un fichier "
                   "à votre format.")
        return
    data_table(pl.DataFrame({"Profil": [n for n, _ in profiles], "Fichier": [p.name for _, p in profiles]}))
    names = [n for n, _ in profiles]
    chosen = st.selectbox("Profil", names, key="profiles_choice")
    new = st.text_input("Nouveau nom", value=chosen, key=f"profiles_new_{chosen}")
    left, right = st.columns(2)
    if left.button("Renommer", key="profiles_rename", disabled=not new.strip() or new.strip() == chosen):
        try:
            A.rename_profile(chosen, new)
        except ValueError as exc:
            st.error(str(exc).capitalize(), icon=":material/error:")
        else:
            st.rerun()
    if right.button("Supprimer", key="profiles_delete"):
        A.delete_profile(chosen)
        st.rerun()
