"""Submission times and late penalties, recorded the way nbgrader's autograde records them.

nbgrader's exchange (``nbgrader collect``, ``nbgrader zip_collect``) leaves a ``timestamp.txt`` in
each submission folder. nbgrader's autograde parses it with ``nbgrader.utils.parse_utc`` and
stores it as the submission's ``timestamp`` in the gradebook, from which nbgrader knows how late
the submission was (``SubmittedAssignment.total_seconds_late``: after the assignment's due date
plus the student's extension, if any). Once the notebook's automatic grades are saved, its
``AssignLatePenalties`` preprocessor asks the late-submission plugin for a penalty and stores it
on the notebook; export and feedback subtract it from the score.

``rnngrade`` does the same with nbgrader's own parser and preprocessor, configured the way
nbgrader's commands are when run in the course directory (``nbgrader_config.py`` in the Jupyter
configuration directories, then the course's), so the plugin is the one nbgrader would use:
``LateSubmissionPlugin`` with ``c.LateSubmissionPlugin.penalty_method`` ('none' by default, or
'zero'), or your own ``c.AssignLatePenalties.plugin_class``, imported from the course directory as
nbgrader imports it from where it runs.
"""

import contextlib
import logging
import sys

import nbformat

log = logging.getLogger("rnngrade")


def read_timestamp(folder):
    """The time in ``folder/timestamp.txt`` as nbgrader stores it (UTC, without a time zone), or
    None when there is none; a file that is not a short, readable timestamp is logged and ignored."""
    path = folder / "timestamp.txt"
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file() or path.stat().st_size >= 200:
        log.warning("%s: timestamp.txt is not a small regular file; ignored", folder)
        return None
    from nbgrader.utils import parse_utc

    text = path.read_text(errors="replace").strip()
    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as exc:
        log.warning("%s: timestamp.txt %r is not a time nbgrader reads (%s); ignored", folder, text[:60], exc)
        return None


def course_config(root):
    """nbgrader's configuration of the course in ``root``, loaded as its commands load it there
    (an error in a configuration file raises)."""
    from nbgrader.apps.baseapp import NbGrader

    class CourseConfig(NbGrader):
        load_cwd_config = False  # the course's file is loaded from its root, wherever we run

        def init_syspath(self):
            pass  # Penalties imports the plugin from the course directory, without a lasting change

    quiet = logging.getLogger("rnngrade.nbgrader-config")
    quiet.setLevel(logging.ERROR)  # nbgrader warns of no config file before it reads the course's
    app = CourseConfig(log=quiet, raise_config_file_errors=True)
    app.initialize([], root=str(root))
    return app.config


@contextlib.contextmanager
def _importable(folder):
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


class LatePenaltyError(RuntimeError):
    """The course's configuration does not give a usable late-submission plugin."""


class Penalties:
    """nbgrader's ``AssignLatePenalties`` for the course in ``root``, configured as nbgrader's is.
    Build it before grading starts (it imports the plugin, with the course on ``sys.path``)."""

    def __init__(self, root):
        from nbgrader.preprocessors import AssignLatePenalties

        try:
            config = course_config(root)
        except Exception as exc:  # noqa: BLE001 (whatever a configuration file raises)
            raise LatePenaltyError(f"nbgrader's configuration of the course in {root} cannot be loaded "
                                   f"({type(exc).__name__}: {exc})") from exc
        try:
            with _importable(root):
                self.preprocessor = AssignLatePenalties(config=config, log=logging.getLogger("rnngrade.nbgrader"))
        except Exception as exc:  # noqa: BLE001 (a missing module, a class that is not a plugin)
            raise LatePenaltyError(
                f"the late-submission plugin c.AssignLatePenalties.plugin_class = "
                f"{config.AssignLatePenalties.get('plugin_class')!r} cannot be used: {exc}. Expected a "
                f"subclass of nbgrader.plugins.BasePlugin, importable from the course directory "
                f"(e.g. 'late.SubMarks' for a class SubMarks in {root}/late.py)") from exc

    def assign(self, db_url, assignment, notebook, student):
        """Set the late penalty of ``student``'s ``notebook`` of ``assignment``, whose grades are in
        the gradebook, as nbgrader's autograde does; return (seconds late, penalty or None)."""
        from nbgrader.api import Gradebook

        resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "student": student,
                                  "db_url": db_url}}
        self.preprocessor(nbformat.v4.new_notebook(), resources)  # a disabled one does nothing, as in nbgrader
        with Gradebook(db_url) as gb:
            late = gb.find_submission(assignment, student).total_seconds_late
            return late, gb.find_submission_notebook(notebook, assignment, student).late_submission_penalty
