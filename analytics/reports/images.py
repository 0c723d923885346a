"""Plotly figure → PNG with kaleido 1.x and the system Chromium.

One kaleido sync server per process (`kaleido.start_sync_server`), started on first use: Chromium's
start costs a few seconds, each image afterwards a fraction of a second. It renders with the plotly.js
bundled with plotly.py and without MathJax (no network needed). The image is asked of kaleido directly
(`kaleido.calc_fig_sync`, what `fig.to_image` calls, minus its per-image options that a shared server
ignores with a warning). The server is not safe for concurrent callers, so renders are serialised by a
lock; each render has a timeout, so that a Chromium that never started gives a French error instead of
a hung report.
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go

from analytics.reports.common import ReportError

_LOCK = threading.Lock()
FIRST_TIMEOUT, TIMEOUT = 120.0, 60.0
CHROMIUM_HINT = "installer Chromium (apt-get install -y chromium) pour exporter les graphiques"


def _server():
    import kaleido

    return kaleido._global_server  # noqa: SLF001 — to know whether start_sync_server already ran


def _start() -> bool:
    """Start the shared server if needed; True when this call started it."""
    import kaleido

    if _server().is_running():
        return False
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    return True


def _reset() -> None:
    """Forget a server that did not answer (closing it may block: do it off the caller's thread)."""
    threading.Thread(target=lambda: _server().close(silence_warnings=True), daemon=True).start()


def fig_png(fig: go.Figure, width: int = 900, height: int | None = None, scale: int = 2) -> bytes:
    """The figure as a PNG of width × height CSS pixels (height: the figure's own), at `scale`."""
    height = int(height or fig.layout.height or 380)
    with _LOCK:
        started = _start()
        result: dict = {}

        def work() -> None:
            import kaleido

            try:
                result["png"] = kaleido.calc_fig_sync(fig.to_dict(), opts=dict(format="png", width=width, height=height,
                                                                               scale=scale))
            except BaseException as exc:  # noqa: BLE001 — handed to the caller's thread
                result["error"] = exc

        worker = threading.Thread(target=work, daemon=True, name="kaleido-render")
        worker.start()
        worker.join(FIRST_TIMEOUT if started else TIMEOUT)
        if worker.is_alive():
            _reset()
            raise ReportError(f"export des graphiques impossible : Chromium ne répond pas ({CHROMIUM_HINT})")
    if "error" in result:
        exc = result["error"]
        if type(exc).__name__ == "ChromeNotFoundError":
            _reset()
            raise ReportError(f"export des graphiques impossible : Chromium introuvable ({CHROMIUM_HINT})") from None
        raise ReportError(f"export d'un graphique impossible : {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    return result["png"]
