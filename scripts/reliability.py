"""Hold RELIABILITY.md to the test run that just ended: every row confirmed by a test.

The full test command sets STORAGES_RELIABILITY_LOG for its pytest runs; each reliability
test appends the row it confirmed (see storages_base.testing.reliability). A row nobody
confirmed fails the run. A provider lacking one of the five checks is reported, and fails
the run once every provider has them all (--complete).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storages_base.testing.reliability import DOCUMENT, unconfirmed

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("log", type=Path, help="the file the tests appended their confirmations to")
    parser.add_argument("--complete", action="store_true", help="a missing check fails the run")
    args = parser.parse_args()
    problems = unconfirmed(ROOT / DOCUMENT, args.log)
    missing = [p for p in problems if "no row for" in p]
    drift = [p for p in problems if p not in missing]
    for problem in drift:
        print(f"{DOCUMENT}: {problem}")
    for problem in missing:
        print(f"{DOCUMENT}: {'' if args.complete else 'not yet: '}{problem}")
    if drift or (args.complete and missing):
        return 1
    print(f"{DOCUMENT}: every row it has was confirmed by a test of this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
