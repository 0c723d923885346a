"""Who is using the dashboard (filled in by the login step); without any configuration, nobody in particular."""

from __future__ import annotations


def current_user():
    return None


def diffusion_forced() -> bool:
    user = current_user()
    return bool(user and user.role == "partenaire")
