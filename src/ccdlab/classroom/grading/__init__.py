"""Grading a class's returned notebooks (``ccdlab grade``), split along its seams.

- :mod:`.identify`: find the returned notebooks, tell each one's lesson and student;
- :mod:`.solutions`: the solution notebooks' exercises, points and check lines;
- :mod:`.sandbox`, :mod:`.confine`: the bubblewrap sandbox and its limits;
- :mod:`.run`: run one notebook with its kernel in the sandbox, judging its answers outside it;
- :mod:`.functions`: call a submitted function in a sandbox of its own;
- :mod:`.score`: from a run to one grade row per exercise (and per written answer);
- :mod:`.cascade`: each error of a run traced to its root cause;
- :mod:`.batch`: the whole class, several notebooks at a time, with its safety checks;
- :mod:`.report`: the grades CSV and the summaries (markdown and HTML);
- :mod:`.written`, :mod:`.manual`: written answers (markers with points, finding them in a returned
  notebook) and the instructor's points for them (the written-answers sheet, ``--manual``);
- :mod:`.feedback_pages`: a page for each student, safe to e-mail (``--feedback``);
- :mod:`.roster`, :mod:`.lms`: the class roster and the import files for Canvas, Gradescope, Moodle.
- :mod:`.process`, :mod:`.cluster`: where each notebook's job runs (a worker process here, or a
  Dask cluster's worker);
- :mod:`.points`, :mod:`.autograde`: grading a student's repository on each push (GitHub
  Classroom), its points from the hand-out's points manifest.

Examples
--------
>>> from ccdlab.classroom.grading import grade, write_reports
>>> book = grade(["returned/"], "solutions/", "data/")  # doctest: +SKIP
>>> write_reports(book, "grades.csv")  # doctest: +SKIP
"""

from ccdlab.classroom.grading.batch import (
    SANDBOX_MODES,
    GradeBook,
    Submission,
    fingerprint,
    grade,
)
from ccdlab.classroom.grading.identify import (
    find_submissions,
    identify_lesson,
    identify_student,
    read_submission,
)
from ccdlab.classroom.grading.feedback_pages import write_feedback
from ccdlab.classroom.grading.lms import LMS_FORMATS, write_lms
from ccdlab.classroom.grading.manual import apply_manual, write_sheet
from ccdlab.classroom.grading.report import write_reports
from ccdlab.classroom.grading.roster import read_roster
from ccdlab.classroom.grading.score import GRADE_STATUSES, GradeRow, grade_record
from ccdlab.classroom.grading.solutions import (
    Lesson,
    default_solutions_dir,
    load_solutions,
)
from ccdlab.course.markers import check_answers
from ccdlab.errors import GradingError

__all__ = [
    "GRADE_STATUSES", "SANDBOX_MODES", "GradingError", "Lesson", "GradeRow", "Submission", "GradeBook",
    "check_answers", "load_solutions", "default_solutions_dir", "find_submissions", "read_submission",
    "identify_lesson", "identify_student", "grade_record", "grade", "fingerprint", "write_reports",
    "write_sheet", "apply_manual", "write_feedback", "read_roster", "write_lms", "LMS_FORMATS",
]
