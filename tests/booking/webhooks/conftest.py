"""Webhook fixtures: an endpoint registered by the manager, and a real receiver served by the
test run (`http.server` on 127.0.0.1, in a thread) that answers with the statuses it is told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from booking.webhooks import services
from booking.webhooks.models import Event


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`answers`: the statuses to answer, in order (the last one again once they run out)."""

    url: str
    answers: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = state.answers.pop(0) if len(state.answers) > 1 else state.answers[0]
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/clinic"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def an_endpoint(manager):
    """`an_endpoint(url=..., events=[...], locations=[...])`, registered by the manager: every
    event and every location unless told."""

    def _endpoint(url="https://hooks.example.org/clinic", events=None, locations=(), name="Portal"):
        return services.register_endpoint(
            name=name,
            url=url,
            events=list(events or Event.values),
            locations=locations,
            by=manager,
            now=timezone.now(),
        )

    return _endpoint
