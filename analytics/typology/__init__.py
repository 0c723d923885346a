"""The typology of the publics (SPEC-indicators v2, « Typology of the publics»): `model` fits it (ACM + CAH),
`storage` keeps it with the store (one fit per import), `outcomes` compares what happens to each type.

Importing this package is cheap: prince, scikit-learn and scipy load only when a fit runs."""

from analytics.typology.storage import Typology, assignments, load, refit, stored

__all__ = ["Typology", "assignments", "load", "refit", "stored"]
