"""The instructor's tools: never part of the student hand-out.

- :mod:`ccdlab.course.markers`: how solution notebooks declare exercises, points and solutions;
- :mod:`ccdlab.classroom.authoring`: the student notebooks, generated from the solutions;
- :mod:`ccdlab.classroom.release`: the hand-out folder and zip;
- :mod:`ccdlab.classroom.grading`: grading what comes back.
"""
