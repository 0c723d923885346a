"""Presentation mode on projector sizes, in Chromium: every slide fits the screen (no scrolling, nothing outside
the viewport, no label cut), each slide has its own reading, the map is in the deck, the keyboard drives it
(issue 16, point 4), nothing on a slide overlaps. Screenshots: test-output/screenshots/presentation-<width>x<height>-<slide>.png."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SIZES = [(1024, 768), (1280, 720), (1280, 800), (1920, 1080)]

# What does not fit: the main area scrolls, an element lies outside the viewport, a text is cut (ellipsis or clipped)
_FIT_JS = """() => {
  const vw = window.innerWidth, vh = window.innerHeight, out = [];
  const main = document.querySelector('[data-testid=stMain]');
  for (const el of [main, document.querySelector('[data-testid=stAppScrollToBottomContainer]'), document.scrollingElement]) {
    if (el && el.scrollHeight > el.clientHeight + 1) out.push(`scrolls: ${el.getAttribute('data-testid') || el.tagName} ${el.scrollHeight} > ${el.clientHeight}`);
  }
  for (const el of main.querySelectorAll('[data-testid=stElementContainer], [data-testid=stMetric], button, .slide-reading, .slide-title')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.bottom > vh + 1 || r.right > vw + 1 || r.left < -1 || r.top < -1)
      out.push(`outside the ${vw}×${vh} screen: «${(el.innerText || el.className).slice(0, 50)}» [${Math.round(r.left)}, ${Math.round(r.top)}, ${Math.round(r.right)}, ${Math.round(r.bottom)}]`);
  }
  // a text is cut when its box is narrower than its content (ellipsis, clipping), or clearly shorter (a hidden line)
  for (const el of main.querySelectorAll('button p, [data-testid=stMetricLabel] p, [data-testid=stMetricLabel] label, [data-testid=stMetricValue] div, .slide-title, .slide-reading, .slide-meta')) {
    if (!el.offsetParent) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 8)
      out.push(`cut: «${el.innerText.slice(0, 50)}» ${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}`);
  }
  return out;
}"""


# What overlaps: two boxes of the slide (title, reading, line of meta, key figures, chart) on one another, or, inside a
# chart, two of its texts (subplot titles, axis titles, tick labels, legend entries) — e.g. rotated year labels running
# into the titles of the next row of small charts
_OVERLAP_JS = """() => {
  const main = document.querySelector('[data-testid=stMain]'), out = [];
  const box = (el) => { const r = el.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom, w: r.width, h: r.height}; };
  const meet = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > 1 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 1;
  const name = (el) => (el.textContent || el.getAttribute('data-testid') || el.className.baseVal || el.className || '').toString().trim().slice(0, 40);
  const check = (els, what) => {
    const items = els.map((el) => [el, box(el)]).filter(([, b]) => b.w > 0 && b.h > 0);
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
      const [a, ba] = items[i], [b, bb] = items[j];
      if (a.contains(b) || b.contains(a)) continue;
      // the tick labels of one axis: Plotly spaces or rotates them itself, and the boxes of rotated labels overlap
      // where their letters do not
      const axis = (el) => el.closest('.xaxislayer-above, .yaxislayer-above');
      if (axis(a) && axis(a) === axis(b)) continue;
      if (meet(ba, bb)) out.push(`${what}: «${name(a)}» [${Math.round(ba.l)}, ${Math.round(ba.t)}, ${Math.round(ba.r)}, ${Math.round(ba.b)}] overlaps «${name(b)}» [${Math.round(bb.l)}, ${Math.round(bb.t)}, ${Math.round(bb.r)}, ${Math.round(bb.b)}]`);
    }
  };
  check([...main.querySelectorAll('.slide-title, .slide-reading, .slide-meta, [data-testid=stMetric], [data-testid=stPlotlyChart], .st-key-slide_nav')], 'boxes');
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    check([...plot.querySelectorAll('.infolayer .annotation-text-g, .gtitle, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .legendtext')], 'chart texts');
  }
  return out;
}"""


def _slide(dash) -> dict:
    return dash.page.evaluate("""() => ({
      title: document.querySelector('.slide-title')?.innerText || '',
      reading: document.querySelector('.slide-reading')?.innerText || '',
      meta: document.querySelector('.slide-meta')?.innerText || '',
      charts: document.querySelectorAll('[data-testid=stMain] .js-plotly-plot').length,
      maps: document.querySelectorAll('[data-testid=stMain] .js-plotly-plot .choroplethlayer, [data-testid=stMain] .js-plotly-plot .mapboxgl-canvas, [data-testid=stMain] .js-plotly-plot .maplibregl-canvas, [data-testid=stMain] .js-plotly-plot .geo').length,
    })""")


def _walk(dash, name: str) -> list[dict]:
    """Every slide, moved through with the → key; returns what each showed and checks it fits."""
    seen, problems = [], []
    while True:
        slide = _slide(dash)
        total = int(slide["meta"].split("/")[1].split("·")[0])
        index = int(slide["meta"].split("/")[0])
        dash.page.screenshot(path=str(dash.screenshot_dir / f"presentation-{name}-{index:02d}.png"))
        problems += [f"slide {index} « {slide['title']} »: {p}" for p in dash.page.evaluate(_FIT_JS)]
        problems += [f"slide {index} « {slide['title']} »: {p}" for p in dash.page.evaluate(_OVERLAP_JS)]
        seen.append(slide)
        if index == total:
            break
        with dash.rerun(timeout_ms=60_000):
            dash.page.keyboard.press("ArrowRight")
    assert problems == [], "\n".join(problems)
    return seen


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_presentation_fits_the_screen(dash, size):
    width, height = size
    dash.page.set_viewport_size({"width": width, "height": height})
    dash.open("", presentation="true")
    from coaching_browser_helpers import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dash.screenshot_dir = SCREENSHOTS
    slides = _walk(dash, f"{width}x{height}")
    assert dash.problems() == []
    readings = [s["reading"] for s in slides]
    assert all(readings), "a slide without a reading"
    assert len(set(readings)) == len(readings), f"two slides say the same: {readings}"
    assert any(s["maps"] for s in slides), "the territory map is not in the deck"
    assert all(s["charts"] == 1 for s in slides[1:]), [s["charts"] for s in slides]
    violations = [f"{v['id']}: {v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:160]}"
                  for v in Axe().run(dash.page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == []


def _wait_slide(dash, number: int) -> None:
    dash.page.wait_for_function(f"() => (document.querySelector('.slide-meta')?.innerText || '').startsWith('{number} /')",
                                timeout=120_000, polling=100)


def test_presentation_with_the_keyboard_alone(dash):
    dash.page.set_viewport_size({"width": 1280, "height": 720})
    dash.open("", presentation="true")
    _wait_slide(dash, 1)
    dash.page.keyboard.press("ArrowRight")
    _wait_slide(dash, 2)
    dash.page.keyboard.press("ArrowLeft")
    _wait_slide(dash, 1)
    # Tab reaches the buttons, Enter presses the focused one
    on_next = "() => document.activeElement?.tagName === 'BUTTON' && document.activeElement.innerText.includes('Suivant')"
    for _ in range(10):
        dash.page.keyboard.press("Tab")
        if dash.page.evaluate(on_next):
            break
    assert dash.page.evaluate(on_next), dash.page.evaluate("() => document.activeElement?.outerHTML?.slice(0, 200)")
    dash.page.keyboard.press("Enter")
    _wait_slide(dash, 2)
    dash.page.keyboard.press("Escape")  # back to the dashboard
    dash.page.wait_for_selector(".slide-title", state="detached", timeout=120_000)
    dash.page.wait_for_selector("[data-testid=stSidebar]", state="visible", timeout=60_000)
