"""The OpenID Connect providers configured in `.streamlit/secrets.toml` (no Streamlit).

Two forms are accepted (both Streamlit's):

    [auth]                                   [auth]
    redirect_uri = "https://…/oauth2callback" redirect_uri = "https://…/oauth2callback"
    cookie_secret = "…"                      cookie_secret = "…"
    client_id = "…"                          [auth.proconnect]
    client_secret = "…"                      label = "ProConnect"        # optional: the button's name
    server_metadata_url = "https://…"        client_id = "…"
                                             client_secret = "…"
                                             server_metadata_url = "https://…/.well-known/openid-configuration"
                                             [auth.entra]
                                             …

The flat form is one provider (« Se connecter »); every `[auth.<name>]` section is a provider with its own button
(« Se connecter avec ProConnect »). Streamlit hands the section back as an `AttrDict` (a Mapping, not a dict):
`plain` turns it into dicts first. What is missing or wrong is listed in French (`Config.problems`), so that the
login screen and the log say it instead of a traceback; a provider with a problem gets no button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

REQUIRED = ("client_id", "client_secret", "server_metadata_url")
FLAT_KEYS = set(REQUIRED) | {"client_kwargs", "label"}
KNOWN_LABELS = {"proconnect": "ProConnect", "agentconnect": "ProConnect", "entra": "Microsoft Entra",
                "microsoft": "Microsoft Entra", "azure": "Microsoft Entra", "google": "Google", "keycloak": "Keycloak",
                "okta": "Okta", "auth0": "Auth0"}
SECRETS = "« .streamlit/secrets.toml »"


@dataclass(frozen=True)
class Provider:
    name: str  # the `[auth.<name>]` section; "default" for the flat form
    label: str  # shown on the button; "" for the flat form without a label

    @property
    def button(self) -> str:
        return f"Se connecter avec {self.label}" if self.label else "Se connecter"


@dataclass(frozen=True)
class Config:
    providers: tuple[Provider, ...]
    problems: tuple[str, ...]  # French, one sentence each

    def provider(self, name: str | None) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)

    def label(self, name: str | None) -> str:
        """The provider's name for a message (« ProConnect », or « le fournisseur d'identité »)."""
        p = self.provider(name)
        return p.label if p and p.label else "le fournisseur d'identité"


def plain(value):
    """Mappings (Streamlit's `AttrDict` included) as dicts, recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _url_problem(value, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{what} est vide"
    parts = urlparse(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{what} n'est pas une adresse http(s) : « {value[:120]} »"
    return None


def _provider_problems(name: str, section: dict, where: str) -> list[str]:
    problems = []
    missing = [k for k in REQUIRED if not section.get(k)]
    if missing:
        problems.append(f"{where} : {', '.join(f'« {k} »' for k in missing)} manquant{'s' if len(missing) > 1 else ''}.")
    if section.get("server_metadata_url"):
        bad = _url_problem(section["server_metadata_url"], "« server_metadata_url »")
        if bad:
            problems.append(f"{where} : {bad}.")
    if "_" in name:
        problems.append(f"{where} : le nom « {name} » ne doit pas contenir de « _ » (Streamlit le refuse) ; "
                        f"renommez la section, par exemple [auth.{name.replace('_', '')}].")
    if "client_kwargs" in section and not isinstance(section["client_kwargs"], dict):
        problems.append(f"{where} : « client_kwargs » doit être une table TOML.")
    return problems


def parse(section) -> Config:
    """The providers of an `[auth]` section (a dict or Streamlit's AttrDict) and what is wrong with it."""
    auth = plain(section) if section is not None else None
    if not isinstance(auth, dict):
        return Config((), (f"Aucune section [auth] dans {SECRETS} : la connexion OpenID Connect n'est pas configurée.",))
    problems: list[str] = []
    for key, what in (("redirect_uri", "l'adresse de retour"), ("cookie_secret", "le secret des cookies")):
        if not auth.get(key):
            problems.append(f"La section [auth] de {SECRETS} n'a pas de « {key} » ({what}).")
    if auth.get("redirect_uri"):
        bad = _url_problem(auth["redirect_uri"], "« redirect_uri »")
        if bad:
            problems.append(f"Section [auth] : {bad}.")
        elif not urlparse(auth["redirect_uri"]).path.endswith("/oauth2callback"):
            problems.append("Section [auth] : « redirect_uri » doit se terminer par « /oauth2callback » "
                            f"(par exemple https://tableau.exemple.fr/oauth2callback), pas « {auth['redirect_uri'][:120]} ».")
    global_ok = not problems
    providers: list[Provider] = []
    if any(k in auth for k in REQUIRED):  # the flat form: one provider
        own = _provider_problems("default", auth, "Section [auth]")
        problems += own
        if not own:
            providers.append(Provider("default", str(auth.get("label") or "")))
    for name, value in auth.items():
        if not isinstance(value, dict) or name in FLAT_KEYS:
            continue
        where = f"Section [auth.{name}]"
        own = _provider_problems(name, value, where)
        problems += own
        if not own:
            providers.append(Provider(name, str(value.get("label") or KNOWN_LABELS.get(name.lower(), name))))
    if not providers and not any(k in auth for k in REQUIRED) and not any(isinstance(v, dict) for k, v in auth.items()
                                                                       if k not in FLAT_KEYS):
        problems.append(f"La section [auth] de {SECRETS} ne déclare aucun fournisseur d'identité : ajoutez une section "
                        "[auth.proconnect] (ou client_id, client_secret et server_metadata_url dans [auth]).")
    return Config(tuple(providers) if global_ok else (), tuple(problems))


__all__ = ["Config", "Provider", "parse", "plain"]
