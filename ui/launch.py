"""Start the dashboard: `python -m ui.launch [streamlit run options]`.

Streamlit treats an app with a `pages/` folder as a legacy (v1) multipage app until the entry
point has called `st.navigation` once in the server's life: on a freshly started server, a deep
link such as `/freins?commune=Doullens` would run the page file alone, without the router, the
sidebar filters or the theme (streamlit/streamlit#9624). The project keeps its pages in `pages/`
as file-based `st.Page`s, so the launcher switches that legacy mode off before the server starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ENTRY = Path(__file__).resolve().parent.parent / "dashboard.py"


def main(argv: list[str] | None = None) -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ENTRY), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
