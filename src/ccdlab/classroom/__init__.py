"""The instructor's tools: not part of the student hand-out (a GitHub Classroom hand-out carries
the grader, :mod:`ccdlab.classroom.grading`, to grade itself; never the rest).

- :mod:`ccdlab.course.markers`: how solution notebooks declare exercises, points and solutions;
- :mod:`ccdlab.classroom.authoring`: the student notebooks, generated from the solutions;
- :mod:`ccdlab.classroom.release`: the hand-out folder and zip;
- :mod:`ccdlab.classroom.github_classroom`: the hand-out as a GitHub Classroom template that grades each push;
- :mod:`ccdlab.classroom.grading`: grading what comes back.
"""
