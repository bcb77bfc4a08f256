"""Add up the JUnit reports of every pytest run and print one closing line."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(report: Path) -> tuple[int, int, int]:
    """Return (passed, failed, skipped) of one JUnit XML report."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main() -> int:
    folder, seconds = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0
    total = [0, 0, 0]
    print("\n==> summary")
    for report in sorted(folder.glob("*.xml")):
        passed, failed, skipped = counts(report)
        print(f"{report.stem:40} {passed:5} passed {failed:4} failed {skipped:4} skipped")
        total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    print(f"full test command took {seconds // 60} min {seconds % 60} s")
    print(f"tests: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 0 if total[1] == 0 and total[0] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
