"""nbgrader configuration: the repository root is the course directory.

solutions/<assignment>/*.ipynb  nbgrader's source (full solutions, visible and hidden tests)
assignments/<assignment>/       nbgrader's release (generated, committed for students)
submitted/, autograded/, feedback/, gradebook.db: per-course state, ignored by git.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# What a student sees in place of a solution: the region between ### BEGIN SOLUTION and
# ### END SOLUTION becomes this stub, inside the ### START/END CODE HERE ### markers.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
