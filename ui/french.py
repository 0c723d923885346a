"""French wherever a user looks, the toolkit's own texts included, and the page's look (WCAG 2.1 AA contrast).

Streamlit and Plotly write some texts of their own in English and offer no setting for them (the uploader's
« Drag and drop files here » / « 200MB per file » / « Upload », the multiselect's « Select all », the tables'
and charts' toolbars, the chart mode bar, the assistive labels « Skip to main content », « Collapse sidebar »…).
`install()`, called once per run by the entry point before the login gate, puts on the page:

- a small script that replaces those texts, in the page and in the attributes read by screen readers and
  tooltips (`aria-label`, `title`, `data-title`, `placeholder`), by their French equivalent as soon as they
  appear (a MutationObserver): `TEXTS` (exact) and `PATTERNS` (with a number or a list inside);
- the accessible name of every chart of `ui.components.chart` (role « figure », named by its one-line summary);
- a style sheet: captions dark enough for a 4.5:1 contrast on white (Streamlit's faded grey reads 4.2:1).

The browser tests (tests/browser/test_french_a11y.py) check that none of the English strings of `TEXTS` is left
on any page. Whatever is not in the table stays as Streamlit wrote it: add a line when a new widget brings one.
"""

from __future__ import annotations

import json

import streamlit as st

# English text of the toolkit → French. Exact match on a whole text node or attribute value (trimmed).
TEXTS = {
    # file uploader
    "Drag and drop files here": "Glissez-déposez les fichiers ici",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Upload": "Parcourir",
    "Browse files": "Parcourir",
    "Add files": "Ajouter des fichiers",
    "Remove file": "Retirer le fichier",
    # multiselect / selectbox
    "Select all": "Tout sélectionner",
    "Deselect all": "Tout désélectionner",
    "Clear all": "Tout effacer",
    "No results": "Aucun résultat",
    "Choose an option": "Choisissez une option",
    "Choose options": "Choisissez des options",
    "Selected values": "Valeurs choisies",
    "Open": "Ouvrir",
    # tables (toolbar and column menu)
    "Download as CSV": "Télécharger (CSV)",
    "Search": "Rechercher",
    "Close Search": "Fermer la recherche",
    "Next Result": "Résultat suivant",
    "Previous Result": "Résultat précédent",
    "Show/hide columns": "Afficher / masquer des colonnes",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Sort ascending": "Tri croissant",
    "Sort descending": "Tri décroissant",
    "Hide column": "Masquer la colonne",
    "Pin column": "Épingler la colonne",
    "Unpin column": "Désépingler la colonne",
    "Autosize": "Largeur automatique",
    "Format": "Format",
    "Dataframe column menu": "Menu de la colonne",
    "Copy column name": "Copier le nom de la colonne",
    "Clear selection": "Effacer la sélection",
    "No data": "Aucune donnée",
    "Empty": "Vide",
    # Plotly mode bar (tooltips: data-title)
    "Download plot as a png": "Télécharger le graphique (PNG)",
    "Download plot as a PNG": "Télécharger le graphique (PNG)",
    "Download plot": "Télécharger le graphique",
    "Zoom": "Zoom",
    "Pan": "Déplacer",
    "Box Select": "Sélection rectangulaire",
    "Lasso Select": "Sélection au lasso",
    "Zoom in": "Zoom avant",
    "Zoom out": "Zoom arrière",
    "Autoscale": "Échelle automatique",
    "Reset axes": "Réinitialiser les axes",
    "Reset view": "Réinitialiser la vue",
    "Reset": "Réinitialiser",
    "Toggle Spike Lines": "Lignes de repère",
    "Show closest data on hover": "Valeur la plus proche au survol",
    "Compare data on hover": "Comparer au survol",
    "Produced with Plotly.js": "Réalisé avec Plotly.js",
    "Double-click to zoom back out": "Double-cliquez pour revenir au zoom initial",
    # the app frame
    "Skip to main content": "Aller au contenu principal",
    "Link to heading": "Lien vers ce titre",
    "Collapse sidebar": "Replier la barre latérale",
    "Expand sidebar": "Déplier la barre latérale",
    "Main menu": "Menu principal",
    "App pages": "Pages de l'application",
    "Sidebar": "Barre latérale",
    "Running...": "Calcul en cours…",
    "Notifications": "Notifications",
    "Close": "Fermer",
    "Stop": "Arrêter",
    "Rerun": "Relancer",
    "Copy to clipboard": "Copier",
    "View more": "Voir plus",
    "View less": "Voir moins",
    # (not « … le mot de passe »: the field's own label « Mot de passe » must stay the only one naming it)
    "Show password": "Afficher la saisie",
    "Hide password": "Masquer la saisie",
    "Show password text": "Afficher la saisie",
    "Hide password text": "Masquer la saisie",
    "Select a date.": "Choisissez une date.",
    # the hint under a focused text field
    "Press Enter to submit form": "Entrée pour valider",
    "Press Enter to apply": "Entrée pour appliquer",
    "Press ⌘+Enter to submit form": "⌘+Entrée pour valider",
    "Press Ctrl+Enter to submit form": "Ctrl+Entrée pour valider",
    "Press ⌘+Enter to apply": "⌘+Entrée pour appliquer",
    "Press Ctrl+Enter to apply": "Ctrl+Entrée pour appliquer",
}

# Texts with a variable part: [regular expression, French replacement ($1… = the groups)].
PATTERNS = [
    [r"^Limit (\d+)\s*MB per file(.*)$", "Limite de $1 Mo par fichier$2"],
    [r"^(\d+)\s*MB per file(.*)$", "$1 Mo par fichier$2"],
    [r"^Remove (.+)$", "Retirer $1"],
    [r"^Shortcut (.+)$", "Raccourci $1"],
    [r"^Select (\d+) matches$", "Sélectionner les $1 résultats"],
    [r"^Add: (.+)$", "Ajouter : $1"],
]

CSS = """
<style>
/* the container of the French script (install) takes no room */
.st-key-coaching_french { display: none !important; }
/* WCAG 2.1 AA: 4.5:1 for small text — Streamlit draws captions in the text colour at 60 % opacity (#777c83 on
   white, 4.2:1): opaque, in a grey of 6.3:1 instead */
[data-testid="stCaptionContainer"] { color: #535b68 !important; opacity: 1 !important; }
/* a button's keyboard shortcut hint (« Esc », « ← »), same faded grey */
button [aria-label^="Shortcut"], button [aria-label^="Raccourci"] { color: #535b68 !important; opacity: 1 !important; }
[data-testid="stBaseButton-primary"] [aria-label^="Shortcut"], [data-testid="stBaseButton-primary"] [aria-label^="Raccourci"] {
  color: #ffffff !important; }
</style>
"""

SCRIPT = """
<script>
(() => {
  if (window.__coachingFrench) return;
  window.__coachingFrench = true;
  const TEXTS = %(texts)s;
  const PATTERNS = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const ATTRS = ["aria-label", "title", "data-title", "placeholder", "data-original-title"];
  const tr = (s) => {
    if (!s) return null;
    const t = s.trim();
    if (!t) return null;
    if (Object.prototype.hasOwnProperty.call(TEXTS, t)) return s.replace(t, TEXTS[t]);
    for (const [re, to] of PATTERNS) { if (re.test(t)) return s.replace(t, t.replace(re, to)); }
    return null;
  };
  const fix = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const f = tr(n.nodeValue);
      if (f !== null && f !== n.nodeValue) n.nodeValue = f;
    }
    const els = root.querySelectorAll ? [root, ...root.querySelectorAll("[" + ATTRS.join("],[") + "]")] : [];
    for (const el of els) {
      if (!el.getAttribute) continue;
      for (const a of ATTRS) {
        const v = el.getAttribute(a);
        const f = tr(v);
        if (f !== null && f !== v) el.setAttribute(a, f);
      }
    }
  };
  // every chart drawn by ui.components.chart: its one-line summary (the caption under it) is its accessible name
  const nameCharts = () => {
    for (const box of document.querySelectorAll('[class*="st-key-chart_"]')) {
      const chart = box.querySelector('[data-testid="stPlotlyChart"]');
      const caption = [...box.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .find((c) => c.innerText.startsWith("Résumé du graphique"));
      if (!chart || !caption) continue;
      const name = caption.innerText.replace(/^Résumé du graphique : /, "");
      if (chart.getAttribute("aria-label") !== name) { chart.setAttribute("role", "figure"); chart.setAttribute("aria-label", name); }
    }
  };
  let pending = false;
  const later = () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; nameCharts(); }); } };
  fix(document.body);
  nameCharts();
  new MutationObserver((records) => {
    later();
    for (const r of records) {
      if (r.type === "characterData") { const f = tr(r.target.nodeValue); if (f !== null && f !== r.target.nodeValue) r.target.nodeValue = f; }
      else if (r.type === "attributes") { const v = r.target.getAttribute(r.attributeName); const f = tr(v); if (f !== null && f !== v) r.target.setAttribute(r.attributeName, f); }
      else for (const n of r.addedNodes) { if (n.nodeType === 1) fix(n); else if (n.nodeType === 3) { const f = tr(n.nodeValue); if (f !== null && f !== n.nodeValue) n.nodeValue = f; } }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS});
  document.documentElement.lang = "fr";
})();
</script>
"""


KEY = "coaching_french"  # the container of the script, hidden (the script runs all the same, no room taken)


def install() -> None:
    """The contrast style sheet and the French script, once per run, before anything else is drawn: called by the
    entry point before the login gate, so that the login screen (password form, OpenID Connect buttons) is French
    too. The style sheet alone goes to Streamlit's event container; the script sits in a hidden container at the top
    of the main area (the sidebar would show up, empty, on the login screen)."""
    st.html(CSS)
    with st.container(key=KEY):
        st.html(SCRIPT % {"texts": json.dumps(TEXTS, ensure_ascii=False), "patterns": json.dumps(PATTERNS)},
                unsafe_allow_javascript=True)
