"""Start the dashboard: `python -m ui.launch [streamlit run options]`.

Streamlit treats an app with a `pages/` folder as a legacy (v1) multipage app until the entry
point has called `st.navigation` once in the server's life: on a freshly started server, a deep
link such as `/freins?commune=Doullens` would run the page file alone, without the router, the
sidebar filters or the theme (streamlit/streamlit#9624). The project keeps its pages in `pages/`
as file-based `st.Page`s, so the launcher switches that legacy mode off before the server starts.

With no authentication configured (no `[auth]` in the secrets, no users file: `analytics.auth.mode()` is
`none`), the dashboard is single-user and local: the launcher forces `--server.address 127.0.0.1`, whatever
address was asked for, so that the data are never served to the network without a login.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ENTRY = Path(__file__).resolve().parent.parent / "dashboard.py"


LOOPBACK = "127.0.0.1"


def local_only(args: list[str], auth_mode: str | None = None) -> list[str]:
    """The streamlit options, with the server bound to 127.0.0.1 when no authentication is configured."""
    from analytics import auth

    if (auth_mode or auth.mode(secrets_files=_secrets_files(args))) != "none":
        return list(args)
    out, skip, asked = [], False, None
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--server.address":
            asked, skip = (args[i + 1] if i + 1 < len(args) else None), True
            continue
        if arg.startswith("--server.address="):
            asked = arg.split("=", 1)[1]
            continue
        out.append(arg)
    if asked and asked not in (LOOPBACK, "localhost"):
        print(f"Aucune authentification configurée : le tableau de bord reste en local ({LOOPBACK}) au lieu de « {asked} ». "
              "Créez des comptes (« coaching user add ») ou configurez OpenID Connect pour le partager.", file=sys.stderr)
    return out + ["--server.address", LOOPBACK]


def _secrets_files(args: list[str]) -> list[Path] | None:
    """The secrets files named by `--secrets.files` (Streamlit then reads only those), else None (the defaults)."""
    for i, arg in enumerate(args):
        value = args[i + 1] if arg == "--secrets.files" and i + 1 < len(args) else (
            arg.split("=", 1)[1] if arg.startswith("--secrets.files=") else None)
        if value:
            return [Path(v.strip()) for v in value.strip("[]").replace('"', "").split(",") if v.strip()]
    return None


def main(argv: list[str] | None = None) -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ENTRY), *local_only(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
