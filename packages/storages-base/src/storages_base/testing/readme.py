"""Keep a package README's settings table equal to its options table.

The table lives between two markers, one block per storage class::

    <!-- settings:MemoryStorage -->
    | option | Django setting | default | what it does |
    ...
    <!-- /settings -->

A package's test calls :func:`check_settings_table`; with ``STORAGES_UPDATE_README=1``
in the environment the block is rewritten instead, so the table is generated, never
copied by hand.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from ..options import Options

__all__ = ["check_settings_table", "render_block", "settings_block"]

UPDATE_VARIABLE = "STORAGES_UPDATE_README"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- settings:{re.escape(name)} -->\n)(.*?)(<!-- /settings -->)", re.DOTALL
    )


def render_block(name: str, options: Options) -> str:
    """Return the whole marked block for ``name`` (what to paste into a README first)."""
    return f"<!-- settings:{name} -->\n{options.markdown()}<!-- /settings -->"


def settings_block(text: str, name: str) -> str | None:
    """Return the table between the markers of ``name`` in ``text``, or None."""
    match = _pattern(name).search(text)
    return match.group(2) if match else None


def check_settings_table(readme_path: str | Path, options: Options, name: str) -> None:
    """Assert the README's block for ``name`` is ``options.markdown()``.

    Raise AssertionError with a diff when it differs, or when the block is missing
    (the message then holds the block to add). With ``STORAGES_UPDATE_README=1`` the
    block is rewritten in place instead.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8")
    expected = options.markdown()
    found = settings_block(text, name)
    if found is None:
        raise AssertionError(
            f"{path} has no settings block for {name}; add:\n\n{render_block(name, options)}"
        )
    if found == expected:
        return
    if os.environ.get(UPDATE_VARIABLE) == "1":
        updated = _pattern(name).sub(lambda m: m.group(1) + expected + m.group(3), text)
        path.write_text(updated, encoding="utf-8")
        return
    diff = "".join(
        difflib.unified_diff(
            found.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            "README",
            "options.markdown()",
        )
    )
    raise AssertionError(
        f"The settings table of {name} in {path} is out of date "
        f"(run the test with {UPDATE_VARIABLE}=1 to rewrite it):\n{diff}"
    )
