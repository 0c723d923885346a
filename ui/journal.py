"""The audit log from the dashboard (`analytics.audit`), beside the store in use: login events and the current
user's imports and exports. A log that cannot be written is said in a toast, never a traceback."""

from __future__ import annotations

import streamlit as st

from analytics import audit
from analytics.auth import User
from ui import state
from ui.access import current_user


def login_event(event: str, user: User | None, **detail) -> None:
    """A login event (`login`, `login_failed`, `login_refused`, `lockout`, `logout`) of `user`, or of `name=` when
    there is no user."""
    name = user.name if user else (detail.pop("name", None) or "inconnu")
    try:
        audit.record(event, name, user.role if user else None, db=state.current_db(), detail=detail)
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon=":material/warning:")


def record(event: str, period=None, filters=None, **detail) -> None:
    """An import or an export of the current user in the audit log (period, filters, scalars of `detail`)."""
    user = current_user()
    try:
        audit.record(event, user.name if user else None, user.role if user else None, period=period, filters=filters,
                     detail=detail, db=state.current_db())
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon=":material/warning:")


__all__ = ["login_event", "record"]
