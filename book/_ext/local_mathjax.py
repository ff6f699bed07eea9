"""Serve MathJax 3 from the built book itself instead of a CDN.

The book must render its equations offline (on a student's laptop, in CI's browser test).
MathJax comes from the PyPI package ``django-static-mathjax`` (a plain copy of MathJax 3.2.2;
Django itself is not needed). We copy the one bundle we use, ``tex-chtml.js``, and its web
fonts into ``_static/mathjax/``; ``_config.yml`` points Sphinx's ``mathjax_path`` at it.
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


def setup(app):
    _mathjax_es5()  # fail early, with an ImportError that names the package, if it is missing
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
