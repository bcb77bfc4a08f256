"""File names: cleaning, joining under a location, validation and truncation.

Every backend turns a user's name into a key through these functions, so the
rules (and the refusals) are the same everywhere.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from pathlib import PurePath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name
from django.utils.crypto import get_random_string

__all__ = [
    "ResolvedName",
    "alternative_name",
    "clean_name",
    "join_location",
    "random_suffix_name",
    "refuse_control_characters",
    "refuse_long_parts",
    "resolve",
    "safe_join",
    "split_ext",
    "truncate_name",
    "validate_name",
]


class ResolvedName(str):
    """A name resolved once: the cleaned name (the string itself) and its ``key`` under
    ``location``, traversal and control characters refused.

    A ``str``, so it passes unchanged through Django's hooks (``_save(name, content)``
    and a project's override of it); the layers below read ``key`` instead of cleaning
    and joining the name again. Public methods return plain ``str``.
    """

    key: str
    location: str

    def __new__(cls, name: str, key: str = "", location: str = "") -> ResolvedName:
        resolved = super().__new__(cls, name)
        resolved.key, resolved.location = key, location
        return resolved


#: Names resolved lately: ``(name, location)`` -> the result. Every operation resolves
#: its name (a few microseconds: two normpaths, a regex), and a project asks about the
#: same names again and again; on a file server that was a tenth of a stat's CPU.
_RESOLVED: dict[tuple[str, str], ResolvedName] = {}
_RESOLVED_MAX = 4096


def resolve(name: str | PurePath, location: str) -> ResolvedName:
    """Clean ``name`` and join it under ``location``; refuse traversal and control characters."""
    if isinstance(name, ResolvedName) and name.location == location:
        return name
    plain = name if type(name) is str else None  # a str subclass may carry more than its text
    if plain is not None:
        cached = _RESOLVED.get((plain, location))
        if cached is not None:
            return cached
        prefix = _PREFIXES.get(location, _UNKNOWN)
        if prefix is _UNKNOWN:
            prefix = _location_prefix(location)
        if (
            prefix is not None
            and _already_clean(plain)
            and "//" not in plain
            and "/." not in plain
            and plain[0] != "."
            and plain[-1] != "/"
        ):
            # Nothing for clean_name() to change and nothing that climbs: safe_join()
            # would only put the location in front (a third of the cost of a signed URL).
            resolved = ResolvedName(plain, f"{prefix}{plain}", location)
            _remember(plain, location, resolved)
            return resolved
    refuse_control_characters(str(name))
    cleaned = clean_name(name)
    resolved = ResolvedName(cleaned, safe_join(location, cleaned), location)
    if plain is not None:
        _remember(plain, location, resolved)
    return resolved


def _remember(plain: str, location: str, resolved: ResolvedName) -> None:
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()  # a bounded cache; the names in use come back at once
    _RESOLVED[(plain, location)] = resolved


# Not absolute, no backslash, no control character or lone surrogate (resolve() also
# checks for empty, "." and ".." parts and a trailing slash).
_already_clean = re.compile(
    r"[^/\\\x00-\x1f\x7f-\x9f\ud800-\udfff][^\\\x00-\x1f\x7f-\x9f\ud800-\udfff]*"
).fullmatch
_UNKNOWN = object()
#: location -> the prefix of its keys ("media/", ""), or None when every name must go
#: through safe_join() (a location that climbs is refused there).
_PREFIXES: dict[str, object] = {}


def _location_prefix(location: str) -> str | None:
    try:
        probe = safe_join(location, "probe/name")
    except SuspiciousFileOperation:
        prefix = None
    else:
        prefix = probe[: -len("probe/name")] if probe.endswith("probe/name") else None
    if len(_PREFIXES) < 256:  # a storage setting: few of them
        _PREFIXES[location] = prefix
    return prefix


def clean_name(name: str | PurePath) -> str:
    """Return ``name`` with backslashes, ``./`` and duplicate slashes removed.

    A trailing slash is kept (it names a folder) and ``"."`` becomes ``""``. Leading
    ``..`` parts are kept: refusing them is :func:`safe_join`'s job.
    """
    text = str(name).replace("\\", "/")
    if not text:
        return ""
    cleaned = posixpath.normpath(text)
    if cleaned == ".":  # "./" and "a/../" too: the location itself
        return ""
    if text.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    if cleaned.startswith("//"):  # normpath keeps exactly two leading slashes (POSIX)
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def safe_join(base: str, *paths: str | PurePath) -> str:
    """Join ``paths`` under ``base`` and return the key, without a leading slash.

    Raise :class:`SuspiciousFileOperation` when the result would leave ``base``,
    also when ``base`` is empty (the bucket root is a boundary too) and for absolute
    paths. The result names a folder (ends with "/") when the last part that moved
    it does, or when nothing moved it from ``base``.
    """
    base = clean_name(base).strip("/") if base else ""
    final = base + "/" if base else ""
    for path in paths:
        part = str(path).replace("\\", "/")
        if part.startswith("/"):
            raise SuspiciousFileOperation(f"Absolute path {part!r} is not allowed.")
        # Normalised relative to the base, so ".." that climbs above it stays visible
        # instead of being clamped at "/" (the empty-location traversal bug).
        joined = posixpath.normpath(posixpath.join(final, part)) if final or part else ""
        joined = "" if joined == "." else joined
        if joined and (part.endswith("/") or joined + "/" == final):
            joined += "/"
        final = joined
    core = final.rstrip("/")
    if (
        core == ".."
        or core.startswith("../")
        or (base and core != base and not core.startswith(base + "/"))
    ):
        raise SuspiciousFileOperation(
            f"The joined path ({final!r}) is located outside of the base path component ({base!r})."
        )
    return final


def join_location(location: str, name: str) -> str:
    """Return the storage key for ``name`` under ``location`` (traversal refused)."""
    return safe_join(location, clean_name(name))


def validate_name(name: str) -> None:
    """Refuse names Django or the backends cannot store safely.

    Django's own rules (no ``..`` parts, no empty or ``.`` base name), plus NUL and
    other control characters, which most servers reject or truncate silently.
    """
    refuse_control_characters(name)
    validate_file_name(name, allow_relative_path=True)
    if any(part == ".." for part in name.replace("\\", "/").split("/")):
        raise SuspiciousFileOperation(f"Detected path traversal attempt in {name!r}")


# Unicode category Cc, exactly: C0 controls, DEL and C1 controls; and lone surrogates
# (category Cs), which no server encoding can write.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control_characters(name: str) -> None:
    """Refuse NUL and other control characters, which servers reject or cut silently, and
    lone surrogates, which cannot be encoded (a refusal, not a server error later)."""
    found = _CONTROL_CHARACTER.search(name)
    if found is not None:
        kind = "a lone surrogate" if found.group() >= "\ud800" else "a control character"
        raise SuspiciousFileOperation(
            f"File name {name!r} contains {kind} ({found.group()!r}), which is not allowed."
        )


def refuse_long_parts(name: str, limit: int | None) -> None:
    """Refuse a folder or file name longer than ``limit`` bytes (UTF-8): a file system's
    NAME_MAX (255) on FTP and SFTP servers, which would refuse it with an OS error."""
    if limit is None or len(name) * 4 <= limit:  # 4 bytes per character at most
        return
    for part in name.split("/"):
        if len(part.encode("utf-8")) > limit:
            raise SuspiciousFileOperation(
                f"File name {name!r} has a part of {len(part.encode('utf-8'))} bytes; "
                f"the server allows {limit} bytes per folder or file name."
            )


def truncate_name(name: str, max_length: int | None) -> str:
    """Return ``name`` shortened to ``max_length`` characters, keeping its extension.

    The file's root is cut; the folder and the extension stay. Raise
    :class:`SuspiciousFileOperation` when nothing of the root would be left.
    """
    if max_length is None or len(name) <= max_length:
        return name
    folder, filename = posixpath.split(name)
    root, ext = split_ext(filename)
    excess = len(name) - max_length
    if excess >= len(root):
        raise SuspiciousFileOperation(
            f"Storage cannot find an available filename for {name!r}: shorten the name "
            f"or the folder (the storage allows {max_length} characters)."
        )
    return posixpath.join(folder, root[:-excess] + ext)


def random_suffix_name(name: str, max_length: int | None = None) -> str:
    """Return ``name`` with a random suffix before the extension (Django's alternative)."""
    return alternative_name(name, max_length)


def _random_suffix(root: str, ext: str) -> str:
    return f"{root}_{get_random_string(7)}{ext}"


def alternative_name(
    name: str,
    max_length: int | None = None,
    alternative: Callable[[str, str], str] = _random_suffix,
) -> str:
    """Return an alternative to ``name``: ``alternative(root, ext)`` in the same folder.

    ``alternative`` is a storage's ``get_alternative_name`` (Django's hook); the root is
    shortened so that the result fits ``max_length``, as Django's loop does. Always
    derived from the name asked for, never from a previous alternative (no suffix
    after suffix).
    """
    folder, filename = posixpath.split(name)
    root, ext = split_ext(filename)
    candidate = posixpath.join(folder, alternative(root, ext))
    if max_length is not None and len(candidate) > max_length:
        root = root[: len(root) - (len(candidate) - max_length)]
        candidate = posixpath.join(folder, alternative(root, ext)) if root else ""
        if not root or len(candidate) > max_length:
            raise SuspiciousFileOperation(
                f"Storage cannot find an available filename for {name!r} within "
                f"{max_length} characters."
            )
    return candidate


def split_ext(filename: str) -> tuple[str, str]:
    """Split ``filename`` into root and extension; "archive.tar.gz" keeps ".tar.gz"."""
    root, ext = os.path.splitext(filename)
    if ext and root.endswith(".tar"):
        root, ext = root[:-4], ".tar" + ext
    return root, ext
