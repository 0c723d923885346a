"""Statistical confidentiality (« secret statistique ») of the figures that leave the association.

One module, no Streamlit: the dashboard's diffusion mode, the reports and `coaching indicators --suppress K`
all mask through the functions below.

Threshold. A count of persons strictly between 0 and k is masked (primary suppression), k = 11 by default
(`DEFAULT_K`, overridden by `$COACHING_DIFFUSION_K` or by the caller). Why 11: it is the rule INSEE applies
to the diffusion of tables built from individual data (no cell of fewer than 11 persons — « règle des
11 » of the secret statistique, loi n° 51-711 du 7 juin 1951), the threshold the CNIL and the health data
platforms (SNDS, « effectifs inférieurs à 11 ») use for aggregates of pseudonymised personal data. The
extracts here are pseudonymised data about RSA recipients, with health and disability barriers: a
commune filter on a village of a few hundred inhabitants must not single anyone out.

What is shown for a masked cell: `None` plus a flag in the low-level results (`Counts`, `Table`,
`mask_frame(..., flags=True)`), the string « < k » (`Masked`) in the figures of `suppress_figures`, the
JSON of `coaching indicators --suppress K`, the pages and the exports.

Secondary suppression. A masked cell must not be recoverable from the totals shown beside it. Every
published table is a set of additive constraints « total = part₁ + … + partₙ » (a 1-D table and its
total; each row and each column of a 2-D table with its margin; across the figures of the contract, e.g.
positive exits = Emploi + Formation, participants = présents en fin de période + sorties, the ESF+
indicators against the exits by reason…). `solve` iterates until no constraint has **exactly one**
masked member (a single unknown in a linear equation is recovered by difference); when a constraint has
one, it masks one more of its members: first an undisplayed residual (the « others » of a table whose
parts do not add up to its total: masking it costs nothing on screen), then the smallest non-zero
count, the total last (it is the largest); zeros only if nothing else is left. The same figures and
constraints always give the same masks (ties broken by the order of the cells): deterministic. Every
masked cell ≥ k is so masked because a constraint needed it (`Suppression.reasons`).

The difference between two filtered views shown on the same page is the same problem: the views that a
page shows together are published together and their relations are constraints (the period and the
previous period are two populations, not nested ones; the communes and their EPCI are nested: the
commune table is suppressed within each EPCI whose total is shown). Across pages and across separate
queries (« commune A » then « communes A et B ») the differencing attack remains possible in principle,
as for any interactive query system: the mitigations are the threshold applied to the whole selection
(a selection of fewer than k persons shows no count at all), the territory lock of the roles, and the
audit log of who asked for what.

Zeros. A 0 is published: it is not a small count of persons (no one to single out), masking every zero
would mask the structural zeros that everyone knows (nobody under 18 on an RSA action), and a masked 0
that an outsider knows to be structural protects nothing. Hence zeros are never primary-suppressed, and
are chosen for secondary suppression only when no non-zero cell is left. The known limit is « group
disclosure »: a row whose only non-zero cell holds everybody tells that all of them share the attribute;
the tables here are about an action's participants as a whole, where this is accepted (as at INSEE).

Rates. A rate is masked when its numerator, its denominator or its complement (denominator − numerator)
is strictly between 0 and k, or when its numerator or denominator is masked by the constraints (the rate
and its denominator give the numerator back). A median is masked when its population is below k.

Appointments and immersions are counts of events, not of persons. Decision: the same threshold applies
to them (a small number of appointments concerns at most that many persons, so it is at least as
revealing), and, as everywhere, nothing at all of a selection of fewer than k participants is shown.
The monthly caseload is a count of persons (months below k are masked) and the average caseload is
their total divided by the number of months: a constraint with the months.

Layout of the package (split along its seams; the public API is this module's):
`core` (threshold, `Masked`, the solver `solve`, 1-D / 2-D tables, frames, rates), `figures` (the figures of the
contract: `suppress_figures`), `align` (frames aligned on suppressed figures, for pages and reports), `coarsen`
(monthly tables grouped by quarter before suppressing: `coarsen_monthly`), `charts`
(Plotly figures: `mask_figure`).
"""

from __future__ import annotations

from analytics.diffusion.align import (align_counts, coarsen_caseload, coarsen_tracking, align_flows, align_grid, align_map, align_monthly,
                                       align_pathways, align_positive_rate, align_series, align_territory,
                                       all_masked_labels, communes_coarsened, FIGURE_NAMES, grid_long, mask_if,
                                       masked_names, masked_share, MONTHLY_APPOINTMENTS, rows_of,
                                       sum_or_masked, suppressed_k, TERRITORY_COUNTS)
from analytics.diffusion.coarsen import Coarsened, coarsen_monthly, grouped_note, quarter_key, to_quarters
from analytics.diffusion.charts import explain_masked, has_data, mask_figure, masked_message
from analytics.diffusion.core import (Constraint, Counts, DEFAULT_K, ENV_K, exposed, is_masked, is_small, legend,
                                      mask_frame, Masked, PRIMARY, rate_masked, RESIDUAL, SECONDARY, SECONDARY_TEXT,
                                      solve, suppress_counts, suppress_rate, suppress_table, Suppression, Table,
                                      table_system, threshold, TOTAL)
from analytics.diffusion.figures import (denominators, ESF_JOB_SEARCH, FIRST_APPOINTMENT, HEADLINE, KNOWN_KEYS,
                                         PARTICIPANT_MAPS, PASS_THROUGH, suppress_figures, _build_system, _System)

# the public API (the private `_build_system` / `_System` are re-exported for the audit tests)
__all__ = ["align_counts", "align_flows", "align_grid", "align_map", "align_monthly", "align_pathways",
           "align_positive_rate", "align_series", "align_territory", "all_masked_labels", "Coarsened", "coarsen_caseload", "coarsen_monthly", "coarsen_tracking",
           "communes_coarsened",
           "Constraint", "Counts", "DEFAULT_K", "denominators", "ENV_K", "ESF_JOB_SEARCH", "explain_masked",
           "exposed", "FIGURE_NAMES", "FIRST_APPOINTMENT", "grouped_note", "grid_long", "has_data", "HEADLINE", "is_masked",
           "is_small", "KNOWN_KEYS", "legend", "mask_figure", "mask_frame", "mask_if", "Masked", "masked_message",
           "masked_names", "masked_share", "MONTHLY_APPOINTMENTS", "PARTICIPANT_MAPS", "PASS_THROUGH", "PRIMARY",
           "quarter_key", "rate_masked", "RESIDUAL", "rows_of", "SECONDARY", "SECONDARY_TEXT", "solve",
           "sum_or_masked", "suppress_counts", "suppress_figures", "suppress_rate", "suppress_table", "suppressed_k",
           "Suppression", "Table", "table_system", "TERRITORY_COUNTS", "threshold", "to_quarters", "TOTAL", "_build_system",
           "_System"]
