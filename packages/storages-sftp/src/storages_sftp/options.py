"""The options of :class:`~storages_sftp.SFTPStorage`, declared once.

The names, Django settings and defaults are django-storages' own, so settings copied
from a project that used it keep working. Three options are new: ``file_overwrite``,
``host_key_policy`` and ``max_idle``.
"""

from __future__ import annotations

from django.conf import settings

from storages_base.options import AT_FIRST_USE, Option
from storages_base.storage import BASE_OPTIONS

__all__ = ["HOST_KEY_POLICIES", "OPTIONS"]

#: The values ``host_key_policy`` accepts (a paramiko MissingHostKeyPolicy works too).
HOST_KEY_POLICIES = ("reject", "auto_add", "warning")

OPTIONS = BASE_OPTIONS.extend(
    Option("location", None, "", "Sub-folder of `root_path` that every name is stored under."),
    Option(
        "host",
        "SFTP_STORAGE_HOST",
        None,
        "Host name of the SFTP server (required: checked at first use and by the system "
        "check, as django-storages does, so a model module imports without it).",
        required=AT_FIRST_USE,
    ),
    Option(
        "root_path",
        "SFTP_STORAGE_ROOT",
        "",
        "Folder on the server that holds every file (absolute, or relative to the "
        "login's home folder); names can never leave it.",
        doc_default='`""` (the home folder)',
    ),
    Option(
        "params",
        "SFTP_STORAGE_PARAMS",
        None,
        "Keyword arguments of paramiko's `SSHClient.connect()` (`port`, `username`, "
        "`password`, `pkey`, `key_filename`, `timeout`, ...), without the host name.",
        secret=True,
        doc_default="`{}`",
    ),
    Option(
        "interactive",
        "SFTP_STORAGE_INTERACTIVE",
        False,
        "Ask for a password on the terminal when key authentication fails and `params` "
        "has none (for `manage.py collectstatic`; never for a web process).",
    ),
    Option("file_mode", "SFTP_STORAGE_FILE_MODE", None, "Mode (e.g. `0o640`) of saved files."),
    Option("dir_mode", "SFTP_STORAGE_DIR_MODE", None, "Mode (e.g. `0o750`) of created folders."),
    Option("uid", "SFTP_STORAGE_UID", None, "Owner set on saved files and created folders."),
    Option("gid", "SFTP_STORAGE_GID", None, "Group set on saved files and created folders."),
    Option(
        "known_host_file",
        "SFTP_KNOWN_HOST_FILE",
        None,
        "known_hosts file with the server's host key (default: `~/.ssh/known_hosts`).",
    ),
    Option(
        "host_key_policy",
        "SFTP_STORAGE_HOST_KEY_POLICY",
        "reject",
        "What to do with a host key that is not known: `reject` (refuse to connect), "
        "`auto_add` (trust it on first use, and add it to `known_host_file` if one is "
        "set), `warning` (log and connect), or a paramiko `MissingHostKeyPolicy`.",
    ),
    Option(
        "file_overwrite",
        "SFTP_STORAGE_FILE_OVERWRITE",
        False,
        "Replace an existing file of the same name (atomically). False, the default, "
        "saves under a free name as django-storages always did; the name is claimed "
        "atomically, so two concurrent saves never replace each other.",
    ),
    Option(
        "max_idle",
        "SFTP_STORAGE_MAX_IDLE",
        4,
        "SSH connections kept open for reuse; threads that need more open them "
        "on demand and close them afterwards.",
    ),
    Option(
        "base_url",
        "SFTP_BASE_URL",
        lambda: settings.MEDIA_URL,
        "URL prefix of `url()` (the files are served by another web server).",
        doc_default="`MEDIA_URL`",
    ),
)
