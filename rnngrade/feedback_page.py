"""The students' feedback page: nbgrader's, made readable (instructor side).

``nbgrader generate_feedback`` renders each autograded notebook to HTML with nbconvert and
nbgrader's ``feedback`` template. ``rnngrade.pipeline.feedback`` runs it with the options of
``nbgrader_options()``: the nbconvert template ``rnngrade/templates/rnngrade_feedback/``, whose
``feedback.html.j2`` extends nbgrader's page and whose ``conf.json`` adds
``FeedbackPreprocessor`` to fill in what it needs. Three things change on the page:

- The summary at the top names each graded part by the heading it is under in the notebook
  ("Part 2: the vanilla RNN step"), where nbgrader writes "Test cell" for every part.
- The grader's verdicts (and the code) wrap. nbgrader's page keeps each line on one line, in
  a box that scrolls sideways, so that a verdict was cut at about 120 characters.
- The equations render without a network. nbconvert loads MathJax 2 from a CDN; the page
  inlines MathJax 3 instead, from the package ``django-static-mathjax`` that the book uses
  (``book/_ext/book_html.py``). Inlined, because nbgrader's exchange hands the student the HTML
  file alone (``release_feedback`` and ``fetch_feedback`` copy ``<notebook>.html`` and nothing
  beside it). Its SVG output needs no font files, so the page is whole by itself (about 2 MB).
  The template leaves a mark where MathJax goes, and ``inline_mathjax`` puts it there once
  nbgrader has written the page: nbconvert parses every page it renders with BeautifulSoup,
  which takes 0.7 s of CPU for the 2 MB of MathJax, page after page.
"""

import functools
import html
import re
from pathlib import Path

from markupsafe import Markup
from nbconvert.preprocessors import Preprocessor

TEMPLATES = Path(__file__).parent / "templates"

CSS = """
/* no text in a box that scrolls sideways (the grader's verdicts, the code): it wraps, at
   spaces where it can, so that all of it shows on the screen and on paper */
div#notebook pre {
  white-space: pre-wrap;
  word-break: normal;
  overflow-wrap: anywhere;
}
"""

# MathJax 3 reads $...$ as inline maths (its default is \\(...\\) only), as Jupyter does
MATHJAX_CONFIG = """window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, tags: 'ams'},
  svg: {fontCache: 'global'}
};"""


MATHJAX_MARK = "<!-- rnngrade: MathJax goes here (rnngrade.feedback_page.inline_mathjax) -->"


@functools.cache
def mathjax_script():
    """The HTML that typesets the page's maths offline: MathJax 3's configuration and its
    ``tex-svg.js`` bundle, inline."""
    import mathjax  # the django-static-mathjax package

    bundle = (Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5" / "tex-svg.js").read_text(encoding="utf-8")
    if "</script" in bundle.lower():
        raise RuntimeError("tex-svg.js contains '</script' and cannot be inlined as it is")
    return Markup(f"<script>\n{MATHJAX_CONFIG}\n</script>\n<script>\n{bundle}\n</script>")


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)
_POINTS = re.compile(r"\s*\(\d+(\.\d+)? points?\)$")


def part_names(nb):
    """``{grade_id: name}`` of the graded cells of ``nb``: each part named by the last markdown
    heading above it, without its "(N points)", as HTML (inline code kept). A graded cell with
    no heading above it is named by its grade id."""
    names, heading = {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            headings = _HEADING.findall(cell.source)
            heading = headings[-1] if headings else heading
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("task"):
            text = html.escape(_POINTS.sub("", heading) if heading else meta["grade_id"])
            names[meta["grade_id"]] = Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", text))
    return names


class FeedbackPreprocessor(Preprocessor):
    """Puts the parts' names and the mark for MathJax in ``resources["rnngrade"]`` for the
    template, and the page's extra CSS in ``resources["inlining"]["css"]``, which nbgrader's page
    inlines (``conf.json`` runs this after nbconvert's ``CSSHTMLHeaderPreprocessor``, which
    resets it)."""

    def preprocess(self, nb, resources):
        resources["rnngrade"] = {"parts": part_names(nb), "mathjax": Markup(MATHJAX_MARK)}
        resources.setdefault("inlining", {}).setdefault("css", []).append(CSS)
        return nb, resources


def nbgrader_options():
    """Command-line options for ``nbgrader generate_feedback`` that render with this template.

    Its own template directories go with it: nbgrader adds them only when none are configured.
    """
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    return ["--HTMLExporter.template_name=rnngrade_feedback", "--HTMLExporter.template_file=feedback.html.j2",
            *(f"--HTMLExporter.extra_template_basedirs={d}" for d in (TEMPLATES, nbgrader_templates))]


def inline_mathjax(page):
    """Put MathJax (``mathjax_script``) into the feedback page at path ``page``, in place of the
    template's mark; a page without the mark (MathJax put in already) is left as it is."""
    text = page.read_text(encoding="utf-8")
    if MATHJAX_MARK in text:
        page.write_text(text.replace(MATHJAX_MARK, mathjax_script(), 1), encoding="utf-8")
