"""The worker posts due deliveries to a real receiver, signed per Standard Webhooks, retries
with exponential back-off, disables an endpoint failing for a day (the managers emailed), and
refuses private addresses in production."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from booking.webhooks import delivery as worker
from booking.webhooks import events, services, signing, transport
from booking.webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def queue_one(location=None, at=None) -> int:
    return events.queue(
        Event.APPOINTMENT_CONFIRMED,
        reference="Appointment/42",
        location_id=location.pk if location else None,
        at=at or timezone.now(),
    )


def test_a_delivery_is_posted_and_its_signature_verifies(receiver, an_endpoint):
    endpoint = an_endpoint(url=receiver.url)
    queue_one()
    outcome = worker.send_due(worker="w1")
    assert (outcome.claimed, outcome.delivered) == (1, 1)
    (request,) = receiver.received
    assert request.path == "/hooks/clinic"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "appointment.confirmed"
    assert payload["data"]["reference"] == "Appointment/42"
    delivery = Delivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.last_response_status == 200


def test_a_wrong_secret_or_a_changed_body_does_not_verify(receiver, an_endpoint):
    an_endpoint(url=receiver.url)
    queue_one()
    worker.send_due(worker="w1")
    (request,) = receiver.received
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(signing.new_secret()).verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(an_endpoint().secret).verify(request.body + b" ", request.headers)


def test_after_a_rotation_both_secrets_sign_for_a_day(receiver, an_endpoint):
    endpoint = an_endpoint(url=receiver.url)
    old_secret = endpoint.secret
    endpoint = services.rotate_secret(endpoint, now=timezone.now()).endpoint
    queue_one()
    worker.send_due(worker="w1")
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    assert endpoint.signing_secrets(timezone.now() + dt.timedelta(hours=25)) == [endpoint.secret]


def test_a_failed_delivery_is_retried_with_back_off_until_it_gets_through(receiver, an_endpoint):
    receiver.answers = [500, 500, 200]
    endpoint = an_endpoint(url=receiver.url)
    queue_one()
    now = timezone.now()
    assert worker.send_due(worker="w1", now=now).retrying == 1
    delivery = Delivery.objects.get()
    assert delivery.last_response_status == 500
    assert delivery.next_attempt_at == now + worker.retry_base()
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now

    # Not due yet: nothing is posted before the back-off has passed.
    assert worker.send_due(worker="w1", now=now + dt.timedelta(seconds=10)).claimed == 0
    second = delivery.next_attempt_at
    assert worker.send_due(worker="w1", now=second).retrying == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == second + 2 * worker.retry_base()  # doubled
    assert worker.send_due(worker="w1", now=delivery.next_attempt_at).delivered == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 3)
    assert len(receiver.received) == 3
    # The same message each time: the receiver can tell a retry from a new event.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_back_off_doubles_up_to_six_hours(settings):
    settings.WEBHOOKS_RETRY_SECONDS = 30
    delays = [worker.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 12, 20)]
    assert delays == [30, 60, 120, 240, 6 * 3600, 6 * 3600]


def test_a_delivery_is_given_up_after_the_last_attempt(receiver, an_endpoint, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.answers = [503]
    an_endpoint(url=receiver.url)
    queue_one()
    now = timezone.now()
    worker.send_due(worker="w1", now=now)
    assert worker.send_due(worker="w1", now=now + dt.timedelta(hours=1)).failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("Gave up after 2 attempts.")


@pytest.mark.time_machine(dt.datetime(2027, 6, 9, 14, 0, tzinfo=dt.UTC), tick=False)
def test_an_endpoint_failing_for_a_day_is_disabled_and_the_managers_emailed(
    receiver, an_endpoint, manager, time_machine
):
    receiver.answers = [500]
    endpoint = an_endpoint(url=receiver.url)
    start = timezone.now()
    for hours in (0, 6, 12, 23):
        time_machine.move_to(start + dt.timedelta(hours=hours), tick=False)
        queue_one()
        worker.send_due(worker="w1")
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.failing_since == start
    assert mail.outbox == []

    time_machine.move_to(start + dt.timedelta(hours=24), tick=False)
    queue_one()
    worker.send_due(worker="w1")
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled
    assert endpoint.disabled_at == timezone.now()
    assert "failed since" in endpoint.disabled_reason
    (email,) = mail.outbox
    assert email.to == [manager.email]
    assert endpoint.name in email.subject
    assert f"/manager/webhooks/{endpoint.pk}/" in email.body

    # Disabled: nothing more is posted, the waiting deliveries stay in its log; the managers
    # are told once.
    posted = len(receiver.received)
    time_machine.move_to(start + dt.timedelta(days=3), tick=False)
    queue_one()
    assert worker.send_due(worker="w1").claimed == 0
    assert len(receiver.received) == posted and len(mail.outbox) == 1
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).exists()


def test_a_success_within_the_day_keeps_the_endpoint(receiver, an_endpoint, time_machine):
    receiver.answers = [500, 200, 500]
    endpoint = an_endpoint(url=receiver.url)
    start = timezone.now()
    for hours in (0, 12, 25):
        time_machine.move_to(start + dt.timedelta(hours=hours))
        queue_one()
        worker.send_due(worker="w1")
    # At 12 h the first delivery got through (the one queued then failed): failing since 12 h,
    # not 0 h, so 25 h after the first failure the endpoint is still enabled.
    endpoint.refresh_from_db()
    assert endpoint.is_enabled
    assert endpoint.failing_since >= start + dt.timedelta(hours=12)


def test_an_error_quoting_the_address_does_not_log_its_query_string(an_endpoint, monkeypatch):
    """A token a receiver takes in its address stays out of the delivery's error (and the
    server's log), even when http.client quotes the address it refused."""
    import http.client

    an_endpoint(url="https://hooks.example.org/in?token=s3cret-t0ken")

    def refuse(url, **_):
        raise http.client.InvalidURL(f"URL can't contain control characters. {url!r}")

    monkeypatch.setattr(transport, "post", refuse)
    queue_one()
    assert worker.send_due(worker="w1").retrying == 1
    error = Delivery.objects.get().last_error
    assert "InvalidURL" in error and "hooks.example.org/in?…" in error
    assert "s3cret" not in error


def test_an_address_with_letters_beyond_ascii_is_posted_to_percent_encoded(receiver, an_endpoint):
    """The form takes an address as typed (`…/réception`); HTTP carries only ASCII, so the
    path is sent percent-encoded. Sent as typed, it failed the worker's whole round (and the
    emails due after it) at every attempt."""
    an_endpoint(url=receiver.url + "/réception?clé=1")
    queue_one()
    assert worker.send_due(worker="w1").delivered == 1
    assert receiver.received[0].path == "/hooks/clinic/r%C3%A9ception?cl%C3%A9=1"


def test_a_post_failing_in_a_way_not_foreseen_is_a_failed_attempt(an_endpoint, monkeypatch):
    an_endpoint()

    def fail(url, **_):
        raise ValueError("something no one thought of")

    monkeypatch.setattr(transport, "post", fail)
    queue_one()
    assert worker.send_due(worker="w1").retrying == 1
    delivery = Delivery.objects.get()
    assert "ValueError: something no one thought of" in delivery.last_error
    assert delivery.claimed_until is None


def test_a_redirect_is_a_failed_attempt_and_never_followed(receiver, an_endpoint):
    """A receiver answering 302 (to a private address, say) gets the worker nowhere: the
    address checked is the only one posted to."""
    receiver.answers = [302]
    an_endpoint(url=receiver.url)
    queue_one()
    assert worker.send_due(worker="w1").retrying == 1
    assert len(receiver.received) == 1
    assert "answered 302" in Delivery.objects.get().last_error


def test_an_unreachable_receiver_is_a_failed_attempt(an_endpoint):
    an_endpoint(url="http://127.0.0.1:9/nothing-listens-here")
    queue_one()
    assert worker.send_due(worker="w1").retrying == 1
    assert "Error" in Delivery.objects.get().last_error


@pytest.fixture
def trickling_receiver():
    """A receiver that starts its answer at once, then sends one byte of a header every tenth
    of a second for four seconds: each read gets something well within the timeout, the
    whole answer does not."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(40):
                if stop.wait(0.1):
                    return
                connection.sendall(b"a")
            connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
    stop.set()
    thread.join(5)
    server.close()


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(trickling_receiver, settings):
    """The timeout bounds the whole post, not each read: otherwise a receiver sending a byte
    at a time holds the worker (and the emails it also sends) for as long as it likes."""
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="within 0.5 seconds"):
        transport.post(trickling_receiver, data=b"{}", headers={})
    assert time.monotonic() - started < 2


def test_a_name_server_that_does_not_answer_is_given_up_at_the_timeout(settings, an_endpoint):
    """The lookup counts in the post's time: the C library would wait tens of seconds for a
    name server that never answers, holding the worker and its emails."""
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    released = threading.Event()

    def never_answers(*args, **kwargs):
        released.wait(10)
        raise transport.socket.gaierror("released")

    an_endpoint(url="https://hooks.example.org/in")
    queue_one()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(transport.socket, "getaddrinfo", never_answers)
            started = time.monotonic()
            with pytest.raises(TimeoutError, match="not resolved within 0.3 seconds"):
                transport.post("https://hooks.example.org/in", data=b"{}", headers={})
            assert time.monotonic() - started < 2
            assert worker.send_due(worker="w1").retrying == 1
    finally:
        released.set()
    assert "hooks.example.org was not resolved within 0.3 seconds" in (
        Delivery.objects.get().last_error
    )


def test_private_and_plain_http_addresses_are_refused_in_production(settings, an_endpoint):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for url in (
        "http://hooks.example.org/",
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://localhost/",
        "https://user:pw@hooks.example.org/",
    ):
        with pytest.raises(transport.RefusedAddress):
            transport.parse(url)
    # A public name that resolves to a private address is refused when posting.
    target = transport.parse("https://localtest.me/")
    resolved = [(None, None, None, "", ("127.0.0.1", 443))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport.socket, "getaddrinfo", lambda *a, **k: resolved)
        with pytest.raises(transport.RefusedAddress, match="private or local"):
            transport.public_address(target)
        an_endpoint(url="https://localtest.me/")
        queue_one()
        assert worker.send_due(worker="w1").retrying == 1
    assert "private or local" in Delivery.objects.get().last_error


# IPv6 addresses that carry an IPv4 one, which Python counts as global whatever it carries: a
# NAT64 gateway (64:ff9b::/96, and 64:ff9b:1::/48 for local use), 6to4 or the old
# IPv4-compatible form reaches the IPv4 address inside, here 10.0.0.5 or 169.254.169.254.
IPV4_INSIDE_IPV6 = (
    "64:ff9b::a00:5",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a00:5",
    "2002:a00:5::1",
    "::a00:5",
)


@pytest.mark.parametrize("address", IPV4_INSIDE_IPV6)
def test_an_ipv6_address_carrying_a_private_ipv4_one_is_refused_in_production(settings, address):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(transport.RefusedAddress, match="public internet"):
        transport.parse(f"https://[{address}]/")
    target = transport.parse("https://hooks.example.org/")
    resolved = [(None, None, None, "", (address, 443, 0, 0))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport.socket, "getaddrinfo", lambda *a, **k: resolved)
        with pytest.raises(transport.RefusedAddress, match="private or local"):
            transport.public_address(target)


def test_an_ipv6_address_carrying_a_public_ipv4_one_is_accepted(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    assert transport.parse("https://[64:ff9b::808:808]/").host == "64:ff9b::808:808"


def test_two_workers_never_claim_the_same_delivery(an_endpoint):
    an_endpoint()
    for _ in range(3):
        queue_one()
    now = timezone.now()
    first, _ = worker.claim_due(worker="w1", limit=2, now=now)
    second, _ = worker.claim_due(worker="w2", limit=10, now=now)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)


def test_a_claim_whose_lease_ran_out_is_claimed_again(an_endpoint):
    """A worker killed mid-post leaves its claim; another takes it once the lease is over."""
    an_endpoint()
    queue_one()
    now = timezone.now()
    claimed, until = worker.claim_due(worker="w1", limit=5, now=now)
    assert worker.claim_due(worker="w2", limit=5, now=until - dt.timedelta(seconds=1))[0] == []
    assert worker.claim_due(worker="w2", limit=5, now=until)[0] == claimed


def test_deliveries_left_when_the_lease_runs_short_are_released(receiver, an_endpoint):
    an_endpoint(url=receiver.url)
    queue_one()
    queue_one()
    start = timezone.now()
    times = iter([start, start, start + worker.lease()])
    outcome = worker.send_due(worker="w1", now=None, clock=lambda: next(times, start))
    assert (outcome.delivered, outcome.released) == (1, 1)
    released = Delivery.objects.get(status=Delivery.Status.PENDING)
    assert (released.attempts, released.claimed_until) == (0, None)


def test_a_delivery_claimed_before_its_endpoint_was_disabled_is_not_posted(
    receiver, an_endpoint, manager
):
    """A manager disables the endpoint while the worker is part-way through its batch: what is
    left of the batch waits in the log, its attempt uncounted, as if claimed after."""
    endpoint = an_endpoint(url=receiver.url)
    queue_one()
    now = timezone.now()
    (claimed,), _ = worker.claim_due(worker="w1", limit=5, now=now)
    services.disable_endpoint(endpoint, by=manager, now=now)
    assert worker.deliver(claimed, worker="w1", now=now) == "skipped"
    assert receiver.received == []
    waiting = Delivery.objects.get()
    assert waiting.status == Delivery.Status.PENDING
    assert (waiting.attempts, waiting.claimed_until) == (0, None)


def test_the_rest_of_a_batch_is_not_posted_once_the_worker_disables_the_endpoint(
    receiver, an_endpoint, time_machine
):
    receiver.answers = [500]
    endpoint = an_endpoint(url=receiver.url)
    queue_one()
    worker.send_due(worker="w1")  # the first failure
    time_machine.shift(dt.timedelta(hours=24))
    queue_one()
    queue_one()
    posted = len(receiver.received)
    outcome = worker.send_due(worker="w1")
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled
    # The attempt that disabled it was posted; nothing after it.
    assert len(receiver.received) == posted + 1
    assert outcome.skipped == 2


def test_what_a_delivery_says_cannot_be_rewritten(an_endpoint):
    an_endpoint()
    queue_one()
    with pytest.raises(DatabaseError, match="webhook_delivery_is_immutable|not rewritten"):
        with transaction.atomic():
            Delivery.objects.update(payload={"type": "appointment.confirmed", "data": {}})
    Delivery.objects.update(attempts=1)  # the outcome is recorded on the row


def test_the_worker_command_posts_deliveries(receiver, an_endpoint):
    an_endpoint(url=receiver.url)
    queue_one()
    call_command("send_notifications")
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_the_readmes_plain_hmac_check_accepts_a_delivery(receiver, an_endpoint):
    """The plain-HMAC recipe of the README ("Verifying a signature"), as written there; the
    receiver's clock is passed in, the suite's pinned instant."""
    import base64
    import hashlib
    import hmac

    now = timezone.now().timestamp()

    def verify(secret: str, raw_body: bytes, headers: dict[str, str], now: float) -> bool:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
        if abs(now - int(timestamp)) > 5 * 60:
            return False  # too old or too new: a replay
        signed = f"{msg_id}.{timestamp}.".encode() + raw_body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(
            hmac.compare_digest(expected, candidate.removeprefix("v1,"))
            for candidate in headers["webhook-signature"].split(" ")
        )

    endpoint = an_endpoint(url=receiver.url)
    queue_one()
    worker.send_due(worker="w1")
    (request,) = receiver.received
    assert verify(endpoint.secret, request.body, request.headers, now)
    assert not verify(signing.new_secret(), request.body, request.headers, now)
    # A delivery replayed ten minutes later is refused.
    assert not verify(endpoint.secret, request.body, request.headers, now + 600)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"events": []}, "webhook_endpoint_listens_to_something"),
        ({"events": ["appointment.teleported"]}, "webhook_endpoint_events_are_known"),
        ({"secret": "plain-password"}, "webhook_endpoint_secret_is_whsec"),
        ({"is_enabled": False}, "webhook_endpoint_disabled_has_a_time"),
        ({"tell_managers": True}, "webhook_endpoint_managers_told_of_a_disabling"),
    ],
)
def test_the_database_refuses_an_endpoint_that_breaks_a_rule(an_endpoint, fields, constraint):
    endpoint = an_endpoint()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(**fields)
