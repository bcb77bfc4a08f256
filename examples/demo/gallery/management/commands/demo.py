"""``manage.py demo``: migrate, start the site on 127.0.0.1 and print its address.

``--check`` (or ``DEMO_SMOKE=1``) starts it the same way, walks through it as a
visitor would (see :mod:`gallery.smoke`) and exits 0 when everything worked.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import socketserver
import threading
from typing import Any

from demo.backends import configure_cors
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import (
    WSGIRequestHandler,
    WSGIServer,
    get_internal_wsgi_application,
)

from gallery import smoke


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Command(BaseCommand):
    help = "Start the demo site (and its embedded storage server); --check tests it and exits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("DEMO_PORT", "8000")),
            help="port to listen on (8000; a free one when taken; 0 picks one)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            default=os.environ.get("DEMO_SMOKE", "") not in ("", "0"),
            help="upload, fetch, direct-upload and delete through the site, then exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        password = self._admin()
        server = self._serve(options["host"], options["port"], quiet=options["check"])
        host, port = str(server.server_address[0]), int(server.server_address[1])
        url = f"http://{host}:{port}/"
        configure_cors(url.rstrip("/"))
        self._banner(url, password)
        # A terminated demo stops like an interrupted one, so its servers stop too
        # (a private sshd would otherwise outlive it).
        signal.signal(signal.SIGTERM, _stop)
        try:
            if options["check"]:
                if not smoke.run(url, self.stdout.write):
                    raise CommandError("The demo check failed.", returncode=1)
                self.stdout.write(self.style.SUCCESS("Demo check passed."))
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.shutdown()
            server.server_close()

    def _admin(self) -> str | None:
        """Create the admin user with a new password; None when it already exists."""
        users = get_user_model()
        if users.objects.filter(username="admin").exists():
            return None
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "admin@example.invalid", password)
        return password

    def _serve(self, host: str, port: int, quiet: bool) -> ThreadingServer:
        handler = QuietHandler if quiet else WSGIRequestHandler
        try:
            server = ThreadingServer((host, port), handler)
        except OSError as exc:
            if port == 0:
                raise
            self.stderr.write(f"Port {port} is taken ({exc.strerror}); picking a free one.")
            server = ThreadingServer((host, 0), handler)
        server.set_app(StaticFilesHandler(get_internal_wsgi_application()))
        threading.Thread(target=server.serve_forever, daemon=True, name="demo-http").start()
        socket.create_connection(
            (str(server.server_address[0]), server.server_address[1]), 5
        ).close()
        return server

    def _banner(self, url: str, password: str | None) -> None:
        backend = settings.DEMO_BACKEND
        self.stdout.write(self.style.SUCCESS(f"Demo running at {url}"))
        self.stdout.write(f"  storage: {backend.description}")
        if password:
            self.stdout.write(f"  admin:   {url}admin/  user admin, password {password}")
        else:
            self.stdout.write(f"  admin:   {url}admin/  (user admin already exists)")
        self.stdout.write(
            "  DEMO_STORAGE=s3|gcs|azure|dropbox|ftp|sftp|memory|real picks the storage; "
            "Ctrl-C stops."
        )
        self.stdout.flush()
