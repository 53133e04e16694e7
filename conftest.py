"""pytest set-up shared by the unit tests and the notebook runs (nbval).

The solution and student notebooks run on a tiny synthetic night made once into ``.cache/`` (a
second run only verifies its checksums). The folder is exported as ``CCDLAB_DATA`` before any
notebook kernel starts, so every notebook finds it the way a student's would. Set
``CCDLAB_NOTEBOOK_SIZE=workshop`` to run the notebooks on the workshop-size night instead.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DATA_ENV = "CCDLAB_NOTEBOOK_DATA"


def notebook_dataset() -> Path:
    """Create (once) and return the dataset the notebooks run on."""
    from ccdlab.fetch import fetch_default

    size = os.environ.get("CCDLAB_NOTEBOOK_SIZE", "tiny")
    dest = ROOT / ".cache" / f"data-{size}"
    fetch_default(dest=dest, size=size, progress=False)
    return dest


def pytest_sessionstart(session):
    dest = notebook_dataset()
    os.environ[NOTEBOOK_DATA_ENV] = str(dest)
    os.environ["CCDLAB_DATA"] = str(dest)
    os.environ.setdefault("MPLBACKEND", "Agg")
