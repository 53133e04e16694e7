"""What a student's notebook needs: the setup cell, the checks and their results.

- :mod:`ccdlab.course.setup`: the first cell of every notebook (:func:`~ccdlab.course.setup.start`);
- :mod:`ccdlab.course.exercises`: :func:`~ccdlab.course.exercises.check`, ``progress``, ``summary``;
- :mod:`ccdlab.course.checks`: the logic behind the checks, one module per lesson;
- :mod:`ccdlab.course.results`: what a check records for the grader.
"""
