"""Headless Chromium for the tests: Playwright's Python package driving Debian's ``chromium``.

Playwright launches the system's browser (``executable_path``): nothing is downloaded (no
``playwright install``) and nothing needs the network. Every request a page makes off the
machine (see ``is_local``: files, inline data, a server on 127.0.0.1 or localhost) is refused
and counted as a problem, so a page that needs a CDN fails here as it would offline.

    with chromium() as browser:                  # in a test, the fixture ``chromium_browser``
        with chromium_page(browser) as (page, problems):
            load(page, path.as_uri())            # waits for the page's images and MathJax
            ...                                  # anything Playwright's Page can do
        assert problems == []
        assert render(browser, path.as_uri())["problems"] == []   # the same, in one call

``unavailable()`` says why the browser cannot run here (None when it can); the fixture in
``conftest.py`` skips then, or fails under ``RNN_COURSE_STRICT=1`` (CI).
"""

import contextlib
import os
import shutil
import urllib.parse

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def is_local(url):
    """Whether a request for ``url`` stays on this machine (a file, inline data, a local server)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost", "::1")


def find_chromium():
    """The path of the system's Chromium, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def unavailable():
    """Why no browser test can run here (a sentence), or None if they can."""
    if os.environ.get("RNN_COURSE_NO_BROWSER") == "1":
        return "RNN_COURSE_NO_BROWSER=1"
    if find_chromium() is None:
        return "chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[course]')"
    return None


@contextlib.contextmanager
def chromium():
    """A headless Chromium: Playwright's ``Browser``, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(browser, width=1200, height=900):
    """A fresh page (in its own browser context, ``width`` x ``height`` CSS pixels) and the list
    of what went wrong on it so far, filled as it happens: uncaught JavaScript errors, requests
    that failed or were refused for leaving the machine, HTTP error responses."""
    context = browser.new_context(viewport={"width": width, "height": height})
    problems, refused = [], set()

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            refused.add(r.request.url)
            problems.append(f"network request refused (the page must work offline): {r.request.url}")
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"javascript error: {exc}"))
    page.on("requestfailed", lambda r: r.url not in refused and problems.append(
        f"failed to load: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    try:
        yield page, problems
    finally:
        context.close()


WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
}"""


def load(page, url, timeout=30):
    """Open ``url`` and wait until the page has loaded (scripts and images) and MathJax, if it
    has MathJax, has typeset it (``timeout`` seconds for each)."""
    page.goto(url, wait_until="load", timeout=timeout * 1000)
    page.evaluate(WAIT_FOR_MATHJAX)


PAGE_REPORT = """() => {
  const images = Array.from(document.images);
  const maths = Array.from(document.querySelectorAll('.math'));
  const longest = el => el.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80);
  const scrolls = el => el.scrollWidth > el.clientWidth + 1;
  const sideways = Array.from(document.querySelectorAll('pre')).filter(scrolls);
  // MathJax 3 (CHTML) typesets a display equation into <mjx-container display="true">: one wider
  // than the column scrolls inside it, or is cut at its edge, or pushes out its parent.
  const tex = new Map((window.MathJax && MathJax.startup && MathJax.startup.document
    ? Array.from(MathJax.startup.document.math) : []).map(item => [item.typesetRoot, item.math]));
  const wideMath = Array.from(document.querySelectorAll('mjx-container[display="true"]'))
    .filter(m => scrolls(m) || (m.parentElement && scrolls(m.parentElement)));
  const source = m => 'display math: ' + (tex.get(m) || m.textContent).trim().replace(/\\s+/g, ' ').slice(0, 80);
  return {
    broken_images: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    math: maths.length,
    unrendered_math: maths.filter(m => !m.querySelector('mjx-container')).length,
    overflow: sideways.map(longest).concat(wideMath.map(source),
      document.documentElement.scrollWidth > window.innerWidth ? ['the page itself scrolls sideways'] : []),
  };
}"""


def page_report(page):
    """What a reader would see of the loaded page: ``broken_images`` (their ``src``), ``math``
    (Sphinx's ``.math`` elements), ``unrendered_math`` (those that MathJax did not typeset) and
    ``overflow``: the longest line of each code or output block (``pre``) that scrolls sideways,
    each display equation wider than its column (``"display math: "`` and the start of its
    TeX), and whether the page itself does."""
    return page.evaluate(PAGE_REPORT)


def render(browser, url, **size):
    """Open ``url`` in a fresh page (``size``: ``width``, ``height``) and return its
    ``page_report`` with ``problems``: everything a reader would see go wrong (as
    ``chromium_page`` records it, a page that does not load, images that do not load, maths
    that MathJax did not typeset); only ``problems`` if the page did not load."""
    from playwright.sync_api import Error

    with chromium_page(browser, **size) as (page, problems):
        try:
            load(page, url)
        except Error as exc:
            return {"problems": problems + [f"page did not load: {str(exc).splitlines()[0]}"]}
        report = page_report(page)
    problems += [f"image did not load: {src}" for src in report["broken_images"]]
    if report["unrendered_math"]:
        problems.append(f"{report['unrendered_math']} of {report['math']} math elements not typeset by MathJax")
    return dict(report, problems=problems)
