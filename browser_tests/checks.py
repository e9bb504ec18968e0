"""What the browser suite asserts on a page, as functions that return the problems they find.

:func:`inspect_page` loads one page as a first-time reader would (empty local storage), at a
laptop's width and then at a phone's, and runs every check; each check gives a list of
human-readable problems, empty when the page passes. The same functions run on the real pages
(``test_pages.py``) and on the broken fixture pages (``test_checks_bite.py``), which is how we know
each check can fail.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from browser import DESKTOP, PHONE_WIDTH, set_viewport

CHECKS = (
    "console_errors",
    "images_loaded",
    "plotly_rendered",
    "plotly_rotates",
    "mathjax_errors",
    "raw_markup",
    "overflow_400px",
    "axe_serious",
    "figure_alt",
)

# ---------------------------------------------------------------------------------------------
# JavaScript run in the page

_WAIT_READY = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
function fontsAndMath() {
  const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
  fonts.then(() => {
    if (!document.querySelector('.math')) { done('no maths'); return; }
    const poll = () => {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        MathJax.startup.promise.then(() => done('typeset'), e => done('MathJax failed: ' + e));
      } else if (Date.now() - t0 > 15000) {
        done('MathJax never started');
      } else { setTimeout(poll, 50); }
    };
    poll();
  });
}
if (document.readyState === 'complete') fontsAndMath();
else window.addEventListener('load', fontsAndMath);
"""

_SETTLE = """
const done = arguments[arguments.length - 1];
setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))), 150);
"""

_IMAGES = """
return Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src'));
"""

# Figures: what is displayed and how large, for the alt-text check and the image test. An image
# in a folded solution has no size on screen: its width attribute, within the text column, is
# the size it opens at.
_FIGURES = """
const article = document.querySelector('article.bd-article, main, body');
const column = article ? article.clientWidth - parseFloat(getComputedStyle(article).paddingLeft)
                         - parseFloat(getComputedStyle(article).paddingRight) : 0;
// a caption's text with each typeset formula read back as the TeX it came from (MathJax keeps it)
let mathItems = [];
try { mathItems = Array.from(MathJax.startup.document.math); } catch (e) { mathItems = []; }
function readable(node) {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return '';
  if (node.tagName.toLowerCase() === 'mjx-container') {
    const item = mathItems.find(m => m.typesetRoot === node);
    return item ? ' ' + item.math + ' ' : node.textContent;
  }
  return Array.from(node.childNodes).map(readable).join('');
}
return Array.from(document.querySelectorAll('img')).map(img => {
  const fig = img.closest('figure');
  const cap = fig ? fig.querySelector('figcaption') : null;
  const r = img.getBoundingClientRect();
  return {src: img.getAttribute('src'), url: img.currentSrc || img.src,
          alt: img.getAttribute('alt'), caption: cap ? readable(cap) : null,
          natural_width: img.naturalWidth, natural_height: img.naturalHeight,
          displayed_width: r.width, displayed_height: r.height,
          attr_width: parseFloat(img.getAttribute('width')) || null, column_width: column,
          in_figure: !!fig};
});
"""

_PLOTLY = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(gd => {
  const fl = gd._fullLayout;
  const canvas = gd.querySelector('canvas');
  const r = gd.getBoundingClientRect();
  return {id: gd.id, svg: !!gd.querySelector('svg.main-svg'),
          canvas: !!(canvas && canvas.width > 0 && canvas.height > 0),
          scene: !!(fl && fl.scene && fl.scene._scene), width: r.width, height: r.height,
          plotly: typeof window.Plotly !== 'undefined'};
});
"""

_CAMERA = """
const gd = document.getElementById(arguments[0]);
const s = gd && gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
return s ? JSON.stringify(s.getCamera()) : null;
"""

_MATHJAX_ERRORS = """
return Array.from(document.querySelectorAll('mjx-merror, [data-mml-node="merror"]'))
  .map(e => (e.getAttribute('data-mjx-error') || e.textContent || 'MathJax error').slice(0, 120));
"""

# Text a reader sees outside code: prose, headings, captions, tables and every navigation list
# (the page's table of contents and the book's, which may be folded away at this width). Code and
# the output of code cells are shown as they are (a regular expression such as `cvar\(ses` in a
# table of results is not TeX), so they are left out.
_TEXT_NODES = """
const skip = 'pre, code, script, style, textarea, kbd, samp, svg, mjx-container, .MathJax, ' +
             '.highlight, [aria-hidden="true"], .cell_output';
const navs = 'nav, .bd-toc, .bd-sidebar-primary, .bd-sidebar-secondary, .toctree-wrapper';
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let n;
while ((n = walker.nextNode())) {
  const el = n.parentElement;
  const t = n.nodeValue;
  if (!el || !t.trim() || el.closest(skip)) continue;
  const inNav = !!el.closest(navs);
  if (!inNav && el.getClientRects().length === 0) continue;   // not rendered
  out.push([inNav ? 'toc' : 'body', t]);
}
out.push(['title', document.title]);
return out;
"""

_OVERFLOW = """
const vw = document.documentElement.clientWidth;
const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
if (width <= vw + 1) return {viewport: vw, width: width, culprits: []};
const clips = el => {
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return true;
  }
  return false;
};
const culprits = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= vw + 1 || clips(el)) continue;
  const s = getComputedStyle(el);
  if (s.visibility === 'hidden' || s.position === 'fixed') continue;
  if (culprits.some(c => c.el.contains(el))) continue;
  culprits.push({el: el, right: r.right});
}
return {viewport: vw, width: width, culprits: culprits.slice(0, 8).map(c => {
  const e = c.el;
  const cls = (e.className && e.className.baseVal === undefined) ? e.className : '';
  return `${e.tagName.toLowerCase()}${cls ? '.' + cls.trim().split(/\\s+/).join('.') : ''}` +
         ` reaches ${Math.round(c.right)} px` +
         (e.id ? ` (#${e.id})` : '') + `: "${(e.innerText || '').trim().slice(0, 60)}"`;
})};
"""

# axe-core, in two runs. Every rule but colour contrast runs on the whole document. Colour contrast
# costs some milliseconds per element with text (a long page has ten thousand, mostly the
# highlighted tokens of code blocks and the cells of wide tables, each style repeated hundreds of
# times), so it runs on one element of each kind: the same tag and classes, text style (colour,
# size, weight, style, opacity, shadow, stroke), visibility, and the same chain of ancestors with
# their classes, backgrounds, opacities, positions, blend modes and filters. Two elements of one
# kind have the same colours on the same backgrounds, so they pass or fail together.
_AXE = r"""
const done = arguments[arguments.length - 1];
const keyOf = el => {
  const s = getComputedStyle(el);
  const parts = [s.color, s.fontSize, s.fontWeight, s.fontStyle, s.opacity, s.textShadow,
                 s.webkitTextStrokeWidth, el.checkVisibility ? el.checkVisibility() : ''];
  for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
    const st = a === el ? s : getComputedStyle(a);
    parts.push(a.tagName + '.' + (typeof a.className === 'string' ? a.className : ''),
               st.backgroundColor, st.backgroundImage, st.opacity, st.position, st.mixBlendMode,
               st.filter);
  }
  return parts.join('|');
};
const kinds = new Set();
for (const el of document.body.querySelectorAll('*')) {
  if (!Array.from(el.childNodes).some(c => c.nodeType === 3 && c.nodeValue.trim())) continue;
  const k = keyOf(el);
  if (!kinds.has(k)) { kinds.add(k); el.setAttribute('data-axe-contrast-sample', ''); }
}
const brief = r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ?
         ' -- ' + n.failureSummary.split('\n').slice(1, 2).join(' ').trim() : ''))}));
(async () => {
  const rest = await axe.run(document, {resultTypes: ['violations'],
                                        rules: {'color-contrast': {enabled: false}}});
  const contrast = kinds.size ? await axe.run({include: [['[data-axe-contrast-sample]']]},
      {resultTypes: ['violations'], runOnly: {type: 'rule', values: ['color-contrast']}})
      : {violations: []};
  done(brief(rest).concat(brief(contrast)));
})().catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""

# ---------------------------------------------------------------------------------------------
# Raw markup: what must never reach a reader's eyes

RAW_PATTERNS = [
    ("TeX command", re.compile(r"\\[A-Za-z]{2,}")),
    ("TeX delimiter", re.compile(r"\\[()\[\]]")),
    ("dollar maths", re.compile(r"\$[^$\s][^$]{0,200}?\$")),
    ("TeX sub/superscript", re.compile(r"[_^]\{")),
    ("MyST role", re.compile(r"\{[a-z][\w:.-]*\}`")),
    ("MyST directive", re.compile(r"(?:```|:::)\s*\{[a-z]")),
    ("MyST glue", re.compile(r"\{glue")),
]


def raw_markup(texts: list[list[str]]) -> list[str]:
    """Raw TeX or MyST in a page's visible text (``texts`` as returned by ``_TEXT_NODES``)."""
    problems = []
    for where, text in texts:
        for what, pattern in RAW_PATTERNS:
            m = pattern.search(text)
            if m:
                lo, hi = max(0, m.start() - 30), min(len(text), m.end() + 30)
                problems.append(
                    f"{what} in the {'table of contents' if where == 'toc' else where}: "
                    f"...{text[lo:hi].strip()}..."
                )
                break
    return sorted(set(problems))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def figure_alt(figures: list[dict[str, Any]]) -> list[str]:
    """Every image in a numbered figure has alt text, and that text comes from the caption."""
    problems = []
    for f in figures:
        if not f["in_figure"]:
            continue
        alt = (f["alt"] or "").strip()
        caption = f["caption"] or ""
        # the caption without its number ("Fig. 3.1", "Figure 12")
        caption = re.sub(r"^\s*(fig\.?|figure)\s*[\d.]+\s*", "", caption, flags=re.IGNORECASE)
        words, cap_words = _words(alt), set(_words(caption))
        if not words:
            problems.append(f"{f['src']}: no alt text")
        elif re.fullmatch(r"[\w./-]+\.(png|jpe?g|svg|gif)", alt) or len(words) < 3:
            problems.append(f"{f['src']}: alt text {alt!r} does not describe the figure")
        elif cap_words and sum(w in cap_words for w in words) < 0.8 * len(words):
            problems.append(
                f"{f['src']}: alt text {alt[:60]!r} is not taken from the caption {caption[:60]!r}"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Driving the page


@dataclass
class PageReport:
    """Everything found on one page: ``problems[check]`` lists what failed; ``figures`` are the
    images with their natural and displayed sizes at the laptop width (for the image test)."""

    url: str
    problems: dict[str, list[str]] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _console_errors(driver: Any) -> list[str]:
    return [e["message"][:300] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _load(driver: Any, url: str) -> str:
    """Open ``url`` as a first visit (no stored theme or scroll position) and wait for MathJax."""
    driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
    driver.get(url)
    return driver.execute_async_script(_WAIT_READY)


def _rotate(driver: Any, gd_id: str) -> str | None:
    """Drag across a 3D scene; returns a problem, or None when the camera moved."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    before = driver.execute_script(_CAMERA, gd_id)
    if before is None:
        return f"#{gd_id}: no 3D scene to rotate"
    el = driver.find_element(By.ID, gd_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    chain = ActionChains(driver, duration=20)
    chain.move_to_element(el).click_and_hold()  # the middle of the view, inside the scene
    for _ in range(6):
        chain.move_by_offset(20, 8)
    chain.release().perform()
    for _ in range(20):  # the camera follows the drag within a few frames
        after = driver.execute_script(_CAMERA, gd_id)
        if after != before:
            return None
        time.sleep(0.05)
    return f"#{gd_id}: dragging across the 3D view did not move the camera"


def inspect_page(driver: Any, url: str, axe_js: str | None, only: set[str] | None = None) -> PageReport:
    """Run the checks (all, or those named in ``only``) on the page at ``url``.

    A check that cannot run (a script error, a timeout) reports that as its problem; the other
    checks of the page still run.
    """
    want = set(CHECKS) if only is None else set(only)
    t0 = time.perf_counter()
    report = PageReport(url)
    p = report.problems

    def guarded(names: tuple[str, ...], step: Any) -> None:
        if not want & set(names):
            return
        try:
            step()
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            for n in names:
                p.setdefault(n, []).append(f"the check could not run: {type(exc).__name__}: {first}")

    set_viewport(driver, *DESKTOP)
    driver.get_log("browser")  # drop what earlier pages logged
    state = _load(driver, url)

    def images() -> None:
        p["images_loaded"] = [f"{src}: not loaded" for src in driver.execute_script(_IMAGES)]

    def figures() -> None:
        report.figures = driver.execute_script(_FIGURES)
        p["figure_alt"] = figure_alt(report.figures)

    def mathjax() -> None:
        p["mathjax_errors"] = [f"MathJax: {e}" for e in driver.execute_script(_MATHJAX_ERRORS)]
        if state not in ("typeset", "no maths"):
            p["mathjax_errors"].append(state)

    def markup() -> None:
        p["raw_markup"] = raw_markup(driver.execute_script(_TEXT_NODES))

    def plotly() -> None:
        views = driver.execute_script(_PLOTLY)
        p["plotly_rendered"] = [
            f"#{v['id']}: empty plotly view ({v['width']:.0f} x {v['height']:.0f} px"
            f"{', Plotly is not loaded' if not v['plotly'] else ''})"
            for v in views
            if not (v["svg"] and (v["canvas"] or not v["scene"]))
        ]
        p["plotly_rotates"] = [
            m for v in views if v["scene"] and v["canvas"] for m in [_rotate(driver, v["id"])] if m
        ]

    def axe() -> None:
        if axe_js is None:
            raise RuntimeError("axe-core is not installed (make browser-test installs it)")
        driver.execute_script(axe_js)
        p["axe_serious"] = [
            f"{v['impact']}: {v['id']} ({v['help']}) at {len(v['nodes'])} place(s), e.g. "
            + "; ".join(v["nodes"][:3])
            for v in driver.execute_async_script(_AXE)
            if v["impact"] in ("serious", "critical")
        ]

    def overflow() -> None:
        set_viewport(driver, PHONE_WIDTH)  # the theme's layout follows media queries and resizes
        driver.execute_async_script(_SETTLE)
        o = driver.execute_script(_OVERFLOW)
        p["overflow_400px"] = (
            ([f"the page is {o['width']} px wide in a {o['viewport']} px viewport"] + o["culprits"])
            if o["width"] > o["viewport"] + 1
            else []
        )

    guarded(("images_loaded",), images)
    guarded(("figure_alt",), figures)
    guarded(("mathjax_errors",), mathjax)
    guarded(("raw_markup",), markup)
    guarded(("plotly_rendered", "plotly_rotates"), plotly)
    # what the page itself logged; axe-core's own stylesheet fetches come after and are dropped
    # (it resolves a stylesheet's @import against the page's address, and logs a 404)
    errors = _console_errors(driver)
    guarded(("axe_serious",), axe)
    driver.get_log("browser")
    guarded(("overflow_400px",), overflow)
    errors += _console_errors(driver)
    set_viewport(driver, *DESKTOP)
    if "console_errors" in want:
        p["console_errors"] = errors
    report.seconds = time.perf_counter() - t0
    return report
