"""rnngrade: the course's grader, which computes the verdict outside the student's kernel.

- ``specs``       what each graded part is tested on, with rnnlib's reference (instructor side):
                  a module per assignment
- ``secret``      the course secret from which the hidden cases' inputs derive
- ``harness``     runs a submission's cells in its own process and hands results out as data
- ``wire``        the plain-data encoding between the two
- ``judge``       compares the results with the reference, in the grader's process
- ``restricted``  the copy of rnnlib a submission sees while graded (reference removed)
- ``sandbox``     bubblewrap isolation and resource limits for the harness's process
- ``notebook``    reads a submitted notebook as untrusted data (malformed fields count as absent)
- ``runner``      grades one notebook: the above, with time limits, crashes and restarts
- ``pipeline``    the instructor's commands on nbgrader's course directory and gradebook
- ``late``        submission times and late penalties, as nbgrader's autograde records them
- ``incell``      the same checks run inside a notebook (the solutions' hidden test cells)
- ``mutate``      mutation testing: do the hidden cases catch mutants of the solutions?
"""
