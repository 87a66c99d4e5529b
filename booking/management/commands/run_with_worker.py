"""`python manage.py run_with_worker`: `make run`'s development server, the email worker beside it.

Both run as child processes (the server in the foreground) and stop together; see `help`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands.runserver import naiveip_re

DEFAULT_ADDRPORT = "127.0.0.1:8000"
# runserver listens on every address for these; a link has to name one it can be reached at.
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "0": "127.0.0.1", "[::]": "[::1]"}
STOP_SECONDS = 10


def served_at(addrport: str) -> str:
    """The address runserver serves `addrport` at, e.g. "8001" -> http://127.0.0.1:8001."""
    found = re.match(naiveip_re, addrport)
    if found is None:
        raise CommandError(f'"{addrport}" is not a valid port number or address:port pair.')
    host = found["addr"] or "127.0.0.1"
    return f"http://{ANY_ADDRESS.get(host, host)}:{found['port']}"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Command(BaseCommand):
    help = (
        "Serve the app with runserver and run the email worker (send_notifications --loop) "
        "beside it, so emails leave the outbox while developing (to the console with DEBUG "
        "on). Ctrl-C stops both; the worker is stopped whenever the server stops. With DEBUG "
        "on and SITE_URL unset, links in emails use the address served, e.g. "
        "http://127.0.0.1:8000. The worker does not reload on code changes: restart to pick "
        "them up."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport",
            nargs="?",
            default=DEFAULT_ADDRPORT,
            help=f"Port, or address:port, as for runserver (default {DEFAULT_ADDRPORT}).",
        )

    def handle(self, *args, addrport: str, **options):
        environ = dict(os.environ)
        if settings.DEBUG and not settings.SITE_URL:
            # Both processes build links (the worker in emails, the server in pages).
            environ["SITE_URL"] = served_at(addrport)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # A SIGTERM (a process manager, a closed terminal) stops both children as Ctrl-C does.
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        worker = subprocess.Popen([*manage, "send_notifications", "--loop"], env=environ)
        server = None
        try:
            server = subprocess.Popen([*manage, "runserver", addrport], env=environ)
            try:
                status = server.wait()
            except KeyboardInterrupt:
                # Ctrl-C reaches the whole terminal's process group: the server stops on its own.
                status = server.wait()
        finally:
            if server is not None:
                _stop(server)
            _stop(worker)
            signal.signal(signal.SIGTERM, previous)
        if status not in (0, -signal.SIGINT):
            raise CommandError(f"The server stopped with exit status {status}.")
