"""Two fixes to the HTML pages of the book.

1. Serve MathJax 3 from the built book itself instead of a CDN.

The book must render its equations offline (on a student's laptop, in CI's browser test).
MathJax comes from the PyPI package ``django-static-mathjax`` (a plain copy of MathJax 3.2.2;
Django itself is not needed). We copy the one bundle we use, ``tex-chtml.js``, and its web
fonts into ``_static/mathjax/``; ``_config.yml`` points Sphinx's ``mathjax_path`` at it.

2. Drop duplicate inline scripts. sphinx-thebe registers its configuration script
(``const THEBE_JS_URL = ...``) after the builder exists, and Sphinx then writes it twice on
every page (see ``_dedupe_scripts``); the second copy redeclares a ``const`` and every page
logs "Uncaught SyntaxError: Identifier 'THEBE_JS_URL' has already been declared" (found by
the browser test in tests/book/test_book.py).
"""

import shutil
from pathlib import Path


def _mathjax_es5():
    import mathjax  # the django-static-mathjax package

    return Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5"


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_es5()
    dst = Path(app.outdir) / "_static" / "mathjax"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "tex-chtml.js", dst / "tex-chtml.js")
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(src / fonts, dst / fonts, dirs_exist_ok=True)


def _dedupe_scripts(app, env, docnames):
    """Remove the builder's copy of inline scripts that the registry also holds.

    An extension that calls ``app.add_js_file(None, body=...)`` once the builder exists puts
    the script in both the registry and the builder's list; before writing, Sphinx copies the
    registry into the builder's list again, with filename ``''`` instead of ``None``, so
    Sphinx's own de-duplication misses it and the script appears twice on every page.
    """
    registered = {attrs.get("body") for filename, attrs in app.registry.js_files if not filename}
    builder_files = getattr(app.builder, "_js_files", None)
    if builder_files is not None:
        builder_files[:] = [js for js in builder_files
                            if js.filename is not None or js.attributes.get("body") not in registered]


def setup(app):
    _mathjax_es5()  # fail early, with an ImportError that names the package, if it is missing
    app.connect("build-finished", _copy)
    app.connect("env-before-read-docs", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
