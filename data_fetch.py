#!/usr/bin/env python3
"""Get the course data: ``python data_fetch.py`` (the synthetic night) or ``--url URL`` (real data).

Examples::

    python data_fetch.py                      # workshop-size synthetic night into data/ (or Drive on Colab)
    python data_fetch.py --size tiny --dest /tmp/night
    python data_fetch.py --url https://example.org/night.zip --sha256 HEX

This is a thin front of ``ccdlab.fetch`` (the same options as ``ccdlab fetch``); run it with
``--help`` for every option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Parse the options, fetch or verify the data, and return the exit code."""
    try:
        from ccdlab import fetch
    except ImportError:  # a fresh checkout without `pip install -e .`: use the source tree
        sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
        from ccdlab import fetch

    parser = argparse.ArgumentParser(
        prog="data_fetch.py",
        description="Create the course's synthetic night (offline, seeded, verified by checksums), "
        "or download real data safely and sort it into bias/, flats/ and science/.",
    )
    fetch.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return fetch.run(args)
    except KeyboardInterrupt:
        print("Interrupted; nothing half-written was left behind. Run the command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
