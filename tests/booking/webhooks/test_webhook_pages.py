"""The managers' webhook pages: who may open them, registering an endpoint (the secret shown
once), changing and rotating it, disabling and enabling it, and the delivery log with
redelivery."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.webhooks import events, services
from booking.webhooks.models import Delivery, Endpoint, Event
from tests import access_matrix as matrix
from tests.access_matrix import ANONYMOUS, BOTH, MANAGER, POST, ROLES, Page
from tests.worlds import built_once

pytestmark = pytest.mark.django_db

globals().update(matrix.world_fixtures())

MATRIX = matrix.Matrix(
    pages={
        "webhooks:endpoint_list": Page(MANAGER),
        "webhooks:endpoint_new": Page(MANAGER, BOTH),
        "webhooks:endpoint_detail": Page(MANAGER),
        "webhooks:endpoint_edit": Page(MANAGER, BOTH),
        "webhooks:endpoint_rotate": Page(MANAGER, POST),
        "webhooks:endpoint_disable": Page(MANAGER, POST),
        "webhooks:endpoint_enable": Page(MANAGER, POST),
        "webhooks:redeliver": Page(MANAGER, POST),
    },
    visit="GET",
)
PAGES = MATRIX.pages


def test_every_webhook_page_is_in_the_access_table():
    assert MATRIX.url_names() == set(PAGES)


def _register(manager, **fields) -> Endpoint:
    return services.register_endpoint(
        name=fields.get("name", "Referral portal"),
        url=fields.get("url", "https://hooks.example.org/clinic"),
        events=fields.get("events", [Event.APPOINTMENT_CONFIRMED]),
        locations=fields.get("locations", []),
        by=manager,
        now=timezone.now(),
    )


def _queue(at=None) -> None:
    events.queue(
        Event.APPOINTMENT_CONFIRMED,
        reference="Appointment/7",
        location_id=None,
        at=at or timezone.now(),
    )


@pytest.fixture(scope="module")
def urls(world, django_db_blocker):
    with built_once(django_db_blocker):
        endpoint = _register(world.manager)
        _queue()
        delivery = endpoint.deliveries.get()
        yield {
            "webhooks:endpoint_list": reverse("webhooks:endpoint_list"),
            "webhooks:endpoint_new": reverse("webhooks:endpoint_new"),
            **{
                f"webhooks:endpoint_{page}": reverse(
                    f"webhooks:endpoint_{page}", args=[endpoint.pk]
                )
                for page in ("detail", "edit", "rotate", "disable", "enable")
            },
            "webhooks:redeliver": reverse("webhooks:redeliver", args=[endpoint.pk, delivery.pk]),
        }


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_only_managers_may_open_the_webhook_pages(client, request, address, name, visitor, answer):
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


@pytest.mark.parametrize("name", sorted(n for n, page in PAGES.items() if page.methods == POST))
def test_front_desk_cannot_act_on_an_endpoint(client, urls, front_desk, name):
    client.force_login(front_desk)
    assert client.post(urls[name]).status_code == 403


def test_registering_shows_the_secret_once(client, manager, location):
    client.force_login(manager)
    response = client.post(
        reverse("webhooks:endpoint_new"),
        {
            "name": "Reminder tool",
            "url": "https://reminders.example.org/in",
            "events": [Event.APPOINTMENT_CONFIRMED, Event.APPOINTMENT_CANCELLED],
            "locations": [location.pk],
        },
    )
    endpoint = Endpoint.objects.get(name="Reminder tool")
    assert response.url == reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["appointment.confirmed", "appointment.cancelled"]
    assert list(endpoint.locations.all()) == [location]
    assert endpoint.created_by == manager
    first = client.get(response.url).content.decode()
    assert endpoint.secret in first
    again = client.get(response.url).content.decode()
    assert endpoint.secret not in again


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://reminders.example.org/in", "must start with https://"),
        ("https://10.0.0.5/in", "public internet"),
        ("not a url", "Enter a valid URL"),
    ],
)
def test_an_address_the_worker_may_not_post_to_is_refused_on_the_field(
    client, manager, settings, url, message
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    client.force_login(manager)
    response = client.post(
        reverse("webhooks:endpoint_new"),
        {"name": "Tool", "url": url, "events": [Event.APPOINTMENT_CONFIRMED]},
    )
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["url"])
    assert not Endpoint.objects.filter(name="Tool").exists()


def test_no_event_chosen_is_refused_on_the_field(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("webhooks:endpoint_new"), {"name": "Tool", "url": "https://x.example.org/"}
    )
    assert "Choose at least one event." in str(response.context["form"].errors["events"])


def test_changing_events_and_locations(client, manager, location, other_location):
    endpoint = _register(manager)
    client.force_login(manager)
    response = client.post(
        reverse("webhooks:endpoint_edit", args=[endpoint.pk]),
        {
            "name": "Referral portal",
            "url": "https://hooks.example.org/v2",
            "events": [Event.QUESTIONNAIRE_SUBMITTED],
            "locations": [other_location.pk],
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/v2"
    assert endpoint.events == ["questionnaire.submitted"]
    assert list(endpoint.locations.all()) == [other_location]


def test_rotating_the_secret_shows_the_new_one_once(client, manager):
    endpoint = _register(manager)
    old = endpoint.secret
    client.force_login(manager)
    response = client.post(reverse("webhooks:endpoint_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    page = client.get(response.url).content.decode()
    assert endpoint.secret in page and old not in page


def test_rotating_twice_within_a_day_says_the_secret_before_stops_signing(client, manager):
    endpoint = _register(manager)
    client.force_login(manager)
    url = reverse("webhooks:endpoint_rotate", args=[endpoint.pk])
    first = client.post(url, follow=True).content.decode()
    assert "The old one also signs deliveries for the next 24 hours." in first
    assert "no longer signs" not in first
    second = client.post(url, follow=True).content.decode()
    assert "The secret before it, replaced less than 24 hours ago, no longer signs" in second


def test_disabling_and_enabling(client, manager):
    endpoint = _register(manager)
    client.force_login(manager)
    client.post(reverse("webhooks:endpoint_disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled and endpoint.disabled_at is not None
    _queue()
    assert not endpoint.deliveries.exists()  # a disabled endpoint is not queued for
    for page in ("webhooks:endpoint_list", "webhooks:endpoint_detail"):
        args = [endpoint.pk] if page.endswith("detail") else []
        assert "Disabled" in client.get(reverse(page, args=args)).content.decode()
    client.post(reverse("webhooks:endpoint_enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.failing_since is None


def test_the_delivery_log_and_redelivery(client, manager):
    endpoint = _register(manager)
    _queue()
    delivery = endpoint.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, attempts=12, last_error="Gave up after 12 attempts."
    )
    client.force_login(manager)
    page = client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).content.decode()
    assert delivery.message_id in page and "Gave up after 12 attempts." in page
    client.post(reverse("webhooks:redeliver", args=[endpoint.pk, delivery.pk]))
    again = endpoint.deliveries.exclude(pk=delivery.pk).get()
    assert again.message_id == delivery.message_id and again.payload == delivery.payload
    assert again.status == Delivery.Status.PENDING and again.redelivery_of_id == delivery.pk


def test_a_delivery_of_another_endpoint_is_not_found(client, manager):
    endpoint = _register(manager)
    other = _register(manager, name="Other")
    _queue()
    delivery = other.deliveries.get()
    client.force_login(manager)
    response = client.post(reverse("webhooks:redeliver", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 404


def test_a_disabled_endpoint_is_not_redelivered_to(client, manager):
    endpoint = _register(manager)
    _queue()
    services.disable_endpoint(endpoint, by=manager, now=timezone.now())
    client.force_login(manager)
    response = client.post(
        reverse("webhooks:redeliver", args=[endpoint.pk, endpoint.deliveries.get().pk]),
        follow=True,
    )
    assert "Enable the endpoint first" in response.content.decode()
    assert endpoint.deliveries.count() == 1


def test_the_list_takes_the_same_queries_however_many_endpoints(
    client, manager, location, django_assert_max_num_queries
):
    for n in range(5):
        _register(manager, name=f"Tool {n}", locations=[location])
    _queue()
    client.force_login(manager)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("webhooks:endpoint_list"))
    for n in range(5, 15):
        _register(manager, name=f"Tool {n}", locations=[location])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("webhooks:endpoint_list"))
    page = response.content.decode()
    assert "Tool 14" in page and page.count(location.name) >= 15
