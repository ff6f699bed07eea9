"""Submission times and late penalties read the way nbgrader's autograde reads them.

``timestamp.txt`` is parsed with nbgrader's parser (a file that is not a short timestamp is
ignored with a warning: grading goes on); the late-submission plugin comes from the course's
nbgrader configuration, and a plugin that cannot be used stops the grading with a message naming
the setting. The round trip (a due date, submissions on time and late, the penalty in the
gradebook, the export and the feedback) is in ``test_grading.py``.
"""

import datetime
import sys

import pytest

from rnngrade import late

TIMESTAMPS = {  # timestamp.txt content: what the grader records (UTC), None when it is ignored
    "2025-03-01 10:20:00.000000 America/New_York\n": datetime.datetime(2025, 3, 1, 15, 20),
    "2025-03-01 15:20:00 UTC": datetime.datetime(2025, 3, 1, 15, 20),
    "": None, " \n": None, "yesterday evening": None, "9" * 150: None, "2025-03-01 12:00 " + "x" * 300: None,
}


@pytest.mark.parametrize("content", sorted(TIMESTAMPS))
def test_timestamp_files_are_read_with_nbgrader_parser_and_bad_ones_ignored(tmp_path, caplog, content):
    (tmp_path / "timestamp.txt").write_text(content)
    assert late.read_timestamp(tmp_path) == TIMESTAMPS[content]
    assert bool(caplog.records) == (TIMESTAMPS[content] is None)


def test_a_timestamp_that_is_not_a_regular_file_is_ignored(tmp_path, caplog):
    assert late.read_timestamp(tmp_path) is None and not caplog.records  # none at all: nothing to say
    (tmp_path / "elsewhere").write_text("2025-03-01 15:20:00 UTC")
    (tmp_path / "timestamp.txt").symlink_to(tmp_path / "elsewhere")
    assert late.read_timestamp(tmp_path) is None
    assert "timestamp.txt is not a small regular file; ignored" in caplog.text


def test_the_plugin_is_the_one_the_course_configures(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.LateSubmissionPlugin.penalty_method = 'zero'\n")
    pre = late.Penalties(tmp_path).preprocessor
    assert pre.plugin_class(parent=pre).penalty_method == "zero"
    (tmp_path / "mine.py").write_text("from nbgrader.plugins import BasePlugin\n\nclass Half(BasePlugin):\n"
                                      "    def late_submission_penalty(self, student_id, score, seconds):\n"
                                      "        return score / 2\n")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.AssignLatePenalties.plugin_class = 'mine.Half'\n")
    assert late.Penalties(tmp_path).preprocessor.plugin_class.__name__ == "Half"
    assert str(tmp_path) not in sys.path  # imported from the course, which is not left on the path


def test_an_unusable_plugin_or_configuration_is_named(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.AssignLatePenalties.plugin_class = 'nowhere.Plugin'\n")
    with pytest.raises(late.LatePenaltyError, match=r"c\.AssignLatePenalties\.plugin_class = 'nowhere\.Plugin' cannot be "
                                                    r"used: .* Expected a subclass of nbgrader\.plugins\.BasePlugin"):
        late.Penalties(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config(\n")
    with pytest.raises(late.LatePenaltyError, match=r"configuration of the course in .* cannot be loaded \(SyntaxError"):
        late.Penalties(tmp_path)
