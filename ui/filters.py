"""The global filters in the sidebar, bound to the URL.

URL keys: `annee`, or `debut` and `fin` (ISO dates) for a date range; `commune`, `prescripteur`,
`territoire`, `action`, `epci`, `type` (the typology's type numbers), repeated for several values. Bound widgets live in the entry point, so the
filters survive page changes and a copied URL reopens the same view.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import fmt
from ui import diffusion, state


def _initial_mode() -> str:
    qp = st.query_params
    return "Dates" if ("debut" in qp or "fin" in qp) and "annee" not in qp else "Année"


def sidebar() -> None:
    opts = state.options()
    sb = st.sidebar
    sb.markdown("### Filtres")
    if "mode_periode" not in st.session_state:
        st.session_state["mode_periode"] = _initial_mode()
    mode = sb.segmented_control("Période", ["Année", "Dates"], key="mode_periode",
                                help="Une année civile, ou une période libre (bornes incluses).")
    if mode == "Dates":
        default_year = state.default_year(opts)
        last = state.data_date(opts)  # no date after the data date is offered
        bounds = dict(min_value=date(2000, 1, 1), max_value=last or date(date.today().year + 1, 12, 31), format="DD/MM/YYYY")
        c1, c2 = sb.columns(2)
        c1.date_input("Du", value=date(default_year, 1, 1), key="debut", bind="query-params", **bounds)
        c2.date_input("Au", value=min(date(default_year, 12, 31), last or date.max), key="fin", bind="query-params", **bounds)
        if st.session_state.get("debut") and st.session_state.get("fin") and st.session_state["fin"] < st.session_state["debut"]:
            sb.error("La date de fin précède la date de début : l'année par défaut est affichée.")
    else:
        years = state.year_options(opts)
        default = str(state.default_year(opts))
        sb.selectbox("Année", years, index=years.index(default) if default in years else 0, key="annee", bind="query-params")
    sb.multiselect("Territoire", opts["territoire"], key="territoire", bind="query-params", placeholder="Tous")
    sb.multiselect("Action", opts["action"], key="action", bind="query-params", placeholder="Toutes")
    sb.multiselect("EPCI", opts["epci"], key="epci", bind="query-params", placeholder="Toutes",
                   help="Intercommunalité (EPCI à fiscalité propre) de la commune de résidence, d'après le référentiel INSEE.")
    sb.multiselect("Commune", opts["commune"], key="commune", bind="query-params", placeholder="Toutes")
    sb.multiselect("Prescripteur", opts["prescripteur"], key="prescripteur", bind="query-params", placeholder="Tous")
    _type_filter(sb, opts)
    sel = state.selection()
    if not sel.filters.is_empty():
        sb.button("Effacer les filtres", on_click=clear_filters, width="stretch")
    sb.caption(f"Période affichée : {fmt.period_text(sel.period)}. "
               "L'adresse de la page reprend les filtres : copiez-la pour partager cette vue.")
    copy_link_button(sb)
    diffusion.toggle(sb)
    imports_picker(sb)


def imports_picker(sb) -> None:
    """Which import the figures are computed on (URL key `import`): the latest by default, or an earlier one, to
    get back exactly the figures shown at the time (SPEC-indicators « Store history »)."""
    found = state.imports()
    if not found:
        return
    # the URL holds the option itself (`?import=3`), so the options are the numbers; the date and file are said below
    sb.selectbox("Import affiché (numéro)", [state.LATEST] + [str(i["import_id"]) for i in found[1:]], key="import",
                 bind="query-params",
                 help="Les chiffres tels qu'ils étaient juste après cet import, quels que soient les imports suivants "
                      "(le même calcul que « coaching indicators --as-of N ») ; la liste des imports est sur la page Données.")
    shown = state.shown_import()
    text = f"import n° {shown['import_id']} du {fmt.day(shown['imported_at'].date())} ({shown['file_name']})"
    if shown["import_id"] != found[0]["import_id"]:
        sb.warning(f"Chiffres de l'{text} : des imports plus récents existent.")
    else:
        sb.caption(f"Chiffres du dernier {text}.")


TYPE_IGNORED = "type_ignored"  # session key: the type numbers asked for (URL, earlier import) that the store lacks


def unknown_types_message(ignored: list[str], known: list[str]) -> str:
    """The one French line saying that type numbers of the address are not in the store's typology."""
    numbers = ", ".join(sorted(ignored, key=lambda v: (len(v), v)))
    several = len(ignored) > 1
    what = f"Type{'s' if several else ''} {numbers} de l'adresse"
    if not known:
        return f"{what} ignoré{'s' if several else ''} : cette base n'a pas de typologie des publics."
    return (f"{what} inconnu{'s' if several else ''} dans la typologie de cette base (types {', '.join(known)}, "
            f"recalculés à chaque import) : filtre ignoré, toutes les personnes sont affichées.")


def _forget_ignored_types() -> None:
    st.session_state.pop(TYPE_IGNORED, None)


def _type_filter(sb, opts: dict) -> None:
    """The typology's type filter, bound to the URL key `type` by hand (`?type=2`): a bound widget would write its
    labels (« 2. Femmes seules… ») in the URL, not the type numbers. A number the store does not have (a link made
    before a re-import, a typo) is dropped and said so in one line, until the type filter is changed."""
    ss = st.session_state
    known = opts.get("type") or []
    if "type" not in ss:
        asked = st.query_params.get_all("type")
        ss["type"] = [v for v in asked if v in known]
        if [v for v in asked if v not in known]:
            ss[TYPE_IGNORED] = list(dict.fromkeys(v for v in asked if v not in known))
    stale = [v for v in ss["type"] if v not in known]  # chosen before an import that changed the types
    if stale:
        ss[TYPE_IGNORED] = list(dict.fromkeys((ss.get(TYPE_IGNORED) or []) + stale))
        ss["type"] = [v for v in ss["type"] if v in known]
    if known:
        labels = opts.get("type_labels", {})
        sb.multiselect("Type de public", known, key="type", placeholder="Tous",
                       format_func=lambda t: labels.get(t, f"Type {t}"), on_change=_forget_ignored_types,
                       help="Types de la typologie des publics (page Typologie), calculée à chaque import sur toutes les "
                            "personnes entrées : une personne garde son type quels que soient la période et les filtres.")
    if ss.get(TYPE_IGNORED):
        st.warning(unknown_types_message(ss[TYPE_IGNORED], known), icon="⚠️")
    if ss.get("type"):
        st.query_params["type"] = list(ss["type"])
    elif "type" in st.query_params:
        del st.query_params["type"]


def clear_filters() -> None:
    for key in state.FILTER_KEYS:
        st.session_state[key] = []
    _forget_ignored_types()


def set_filter(key: str, values: list[str]) -> None:
    """Used by chart clicks (called from a widget callback, before the widgets are drawn)."""
    st.session_state[key] = values
    if key == "type":
        _forget_ignored_types()


COPY_LINK = """
<button type="button" class="coaching-copy-link" aria-describedby="coaching-copy-status">Copier le lien de cette vue</button>
<span id="coaching-copy-status" role="status" aria-live="polite" class="coaching-copy-status"></span>
<style>
.coaching-copy-link { width: 100%; padding: .4rem .75rem; border: 1px solid #b8c0cc; border-radius: .5rem; background: #ffffff;
  color: #1c2430; font: inherit; cursor: pointer; }
.coaching-copy-link:hover { border-color: #1f5fa8; color: #1f5fa8; }
.coaching-copy-link:focus-visible { outline: 2px solid #1f5fa8; outline-offset: 2px; }
.coaching-copy-status { display: block; font-size: .85rem; color: #1e6b3a; min-height: 1.1em; }
</style>
<script>
(() => {
  const button = document.querySelector(".coaching-copy-link:not([data-bound])");
  if (!button) return;
  button.setAttribute("data-bound", "1");
  const status = button.parentElement.querySelector(".coaching-copy-status");
  button.addEventListener("click", async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = "Lien copié : collez-le dans un courriel pour partager cette vue.";
    } catch (e) {  // no clipboard (page not served over HTTPS): let the user copy it by hand
      window.prompt("Copiez ce lien (Ctrl+C) :", url);
      status.textContent = "";
    }
  });
})();
</script>
"""


def copy_link_button(container) -> None:
    """« Copier le lien »: the page's address, with its filters, to the clipboard (Streamlit has no such widget)."""
    container.html(COPY_LINK, unsafe_allow_javascript=True)
