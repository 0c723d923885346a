"""Text alternatives of the charts (analytics.charts.alt) and their place on the pages (AppTest) — issue 16."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics import fmt
from analytics.charts import alt
from analytics.charts.base import bar_h


def test_table_and_summary_of_hand_made_bars():
    fig = bar_h(["Doullens", "Airaines", "Liomer"], [19, 11, None], title="Participants par commune")
    table = alt.data_table(fig)
    assert table.columns == ["Catégorie", "Valeur"]
    assert table.rows() == [("Doullens", "19"), ("Airaines", "11"), ("Liomer", "—")]  # empty = « — », never « None »
    assert alt.summary(fig) == "Participants par commune — Personnes : 2 valeurs, maximum 19 (Doullens)."


def test_several_series_pies_and_sankey():
    fig = go.Figure([go.Bar(x=["janv.", "févr."], y=[3, 1234], name="Entrées"), go.Bar(x=["janv.", "févr."], y=[2.5, 0], name="Sorties")])
    table = alt.data_table(fig)
    assert table.rows() == [("Entrées", "janv.", "3"), ("Entrées", "févr.", fmt.number(1234)), ("Sorties", "janv.", "2,50"),
                            ("Sorties", "févr.", "0")]
    assert f"Entrées : 2 valeurs, maximum {fmt.number(1234)} (févr.)" in alt.summary(fig, "Flux")
    pie = go.Figure(go.Pie(labels=["Femme", "Homme"], values=[70, 47]))
    assert alt.data_table(pie).rows() == [("Femme", "70"), ("Homme", "47")]
    sankey = go.Figure(go.Sankey(node=dict(label=["Entrée", "Emploi"]), link=dict(source=[0], target=[1], value=[8])))
    assert alt.data_table(sankey).rows() == [("Entrée → Emploi", "8")]


def test_empty_chart_says_so():
    from analytics.charts.base import empty

    assert alt.data_table(empty("Sorties")).is_empty()
    assert alt.summary(empty("Sorties")) == "Sorties : Aucune donnée pour cette sélection."


def test_every_chart_of_a_page_has_its_data_behind_an_expander(app):
    at = app("pages/profils.py")
    assert not at.exception
    charts = at.get("plotly_chart")
    expanders = [e for e in at.expander if e.label == "Voir les données"]
    summaries = [c.value for c in at.caption if c.value.startswith("Résumé du graphique : ")]
    assert len(charts) >= 7 and len(expanders) == len(charts) == len(summaries)
    # the table holds the chart's numbers: the sex pie's counts
    assert any({"Femme", "Homme"} <= set(t.value["Catégorie"]) for t in at.table if "Catégorie" in t.value.columns)


def test_a_masked_chart_summary_is_one_line_of_plain_text():
    from analytics.diffusion import mask_figure

    fig = mask_figure(go.Figure([go.Bar(x=["T1 2023", "T2 2023"], y=[3, 4], name="Entrées")]), 11)
    text = alt.summary(fig, "Entrées et sorties")
    assert "<br>" not in text and "  " not in text and not text.endswith("..")
    assert text.startswith("Entrées et sorties : Graphique masqué (secret statistique) : chacune de ses valeurs")
