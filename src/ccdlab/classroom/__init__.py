"""The instructor's tools: not part of the student hand-out (a GitHub Classroom hand-out carries
the grader, :mod:`ccdlab.classroom.grading`, to grade itself; never the rest).

- :mod:`ccdlab.course.markers`: how solution notebooks declare exercises, points and solutions;
- :mod:`ccdlab.classroom.authoring`: the student notebooks, generated from the solutions;
- :mod:`ccdlab.classroom.release`: the hand-out folder and zip;
- :mod:`ccdlab.classroom.github_classroom`: the hand-out as a GitHub Classroom template that grades each push;
- :mod:`ccdlab.classroom.grading`: grading what comes back.
"""

import sys as _sys

# nbformat validates notebooks with jsonschema, whose format checkers import ``rfc3987_syntax`` when
# it is installed (JupyterLab's dependencies install it): that import compiles 39 IRI grammars,
# 1.6 s of every grader process's start (python-jsonschema/jsonschema#1428), and no notebook schema
# uses the ``iri`` format. The instructor's processes leave it out; a process that imported
# jsonschema before ccdlab.classroom keeps what it has.
if "jsonschema" not in _sys.modules:
    _sys.modules.setdefault("rfc3987_syntax", None)
