"""Who may open each intake page: every URL of the `intake` namespace is in the table below,
with the roles allowed; each gets its allowed, wrong-method and wrong-person case, and every
page that shows answers leaves a row in the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from booking.models import Status
from clinic.models import AccessLog, Role
from intake.clinical.models import CheckIn, CheckInChannel, CheckInKind
from tests.booking.factories import a_clinic, a_course
from tests.factories import certified_practitioner
from tests.intake.factories import (
    IntakeFactory,
    signed_assessment,
    submitted_intake,
    treatment_note,
)

pytestmark = pytest.mark.django_db

STAFF = frozenset({Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER})
PATIENT = frozenset({Role.PATIENT})
PRACTITIONER = frozenset({Role.PRACTITIONER})
CLINICAL = frozenset({Role.PRACTITIONER, Role.MANAGER})
# Who reads a questionnaire's answers (the front desk sees only its state: minimum necessary).
ANSWER_READERS = PATIENT | CLINICAL
GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")

# name: (roles allowed, arguments (from the `records` fixture), methods)
PAGES = {
    "intake:my_intake": (PATIENT, {}, GET),
    "intake:start": (PATIENT, {}, POST),
    "intake:step": (PATIENT, {"step": "pain"}, BOTH),
    "intake:review": (PATIENT, {}, BOTH),
    "intake:consent": (PATIENT, {}, BOTH),
    "intake:intake_detail": (ANSWER_READERS, {"pk": "intake"}, GET),
    "intake:intake_list": (STAFF, {}, BOTH),
    "intake:patient_chart": (STAFF, {"patient_pk": "patient"}, GET),
    "intake:staff_start": (STAFF, {"patient_pk": "patient"}, POST),
    "intake:staff_step": (STAFF, {"patient_pk": "patient", "step": "pain"}, BOTH),
    "intake:staff_review": (STAFF, {"patient_pk": "patient"}, BOTH),
    "intake:counter_consent": (STAFF, {"patient_pk": "patient"}, BOTH),
    "intake:assessment_start": (PRACTITIONER, {"patient_pk": "patient"}, BOTH),
    "intake:assessment_detail": (CLINICAL, {"pk": "assessment"}, GET),
    "intake:assessment_edit": (PRACTITIONER, {"pk": "assessment"}, BOTH),
    "intake:assessment_sign": (PRACTITIONER, {"pk": "assessment"}, BOTH),
    "intake:assessment_amend": (PRACTITIONER, {"pk": "assessment"}, BOTH),
    "intake:assessment_discard": (PRACTITIONER, {"pk": "assessment"}, POST),
    "intake:session_note_start": (PRACTITIONER, {"patient_pk": "patient"}, BOTH),
    "intake:session_note_detail": (CLINICAL, {"pk": "session"}, GET),
    "intake:session_note_edit": (PRACTITIONER, {"pk": "session"}, BOTH),
    "intake:session_note_sign": (PRACTITIONER, {"pk": "session"}, BOTH),
    "intake:session_note_amend": (PRACTITIONER, {"pk": "session"}, BOTH),
    "intake:session_note_discard": (PRACTITIONER, {"pk": "session"}, POST),
    "intake:my_checkins": (PATIENT, {}, GET),
    "intake:my_checkin": (
        PATIENT,
        {"kind": "before_session", "appointment_id": "next_session"},
        BOTH,
    ),
    "intake:counter_checkin": (STAFF, {"appointment_id": "next_session"}, BOTH),
    "intake:aftercare_respond": (CLINICAL, {"pk": "worry"}, POST),
}

# Where a role allowed in is sent on (page name, its arguments), for the pages that do not
# answer 200 themselves: a signed record is shown rather than edited again, a new questionnaire
# opens on its first step, an answered after-care question goes back home.
REDIRECTS = {
    **{
        ("intake:aftercare_respond", role): ("clinic:home", {})
        for role in (Role.PRACTITIONER, Role.MANAGER)
    },
    **{
        (name, Role.PRACTITIONER): ("intake:assessment_detail", {"pk": "assessment"})
        for name in (
            "intake:assessment_discard",
            "intake:assessment_edit",
            "intake:assessment_sign",
        )
    },
    ("intake:session_note_amend", Role.PRACTITIONER): (
        "intake:session_note_detail",
        {"pk": "session"},
    ),
    ("intake:session_note_discard", Role.PRACTITIONER): (
        "intake:patient_chart",
        {"patient_pk": "patient"},
    ),
    **{
        ("intake:staff_start", role): (
            "intake:staff_step",
            {"patient_pk": "patient", "step": "contact"},
        )
        for role in STAFF
    },
    ("intake:start", Role.PATIENT): ("intake:step", {"step": "contact"}),
}
PERSONAS = {
    Role.PATIENT: "patient",
    Role.FRONT_DESK: "front_desk",
    Role.PRACTITIONER: "practitioner",
    Role.MANAGER: "manager",
}
# For a record of `patient` (at `location`): someone of the same role who must not see it.
STRANGERS = {
    Role.PATIENT: "other_patient",
    Role.FRONT_DESK: "front_desk_elsewhere",
    Role.PRACTITIONER: "practitioner_elsewhere",
}


def _intake_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace == "intake":
                names.add(f"intake:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


@pytest.fixture
def records(patient, practitioner, location):
    """The `patient` persona with a submitted questionnaire, a correction in progress, a signed
    assessment by the `practitioner` persona and a draft note of the first session; a course
    booked at `location` whose second session starts in an hour, with a worrying after-care
    answer about the first."""
    intake = submitted_intake(patient)
    IntakeFactory(patient=patient)
    assessment = signed_assessment(patient, practitioner)
    session = treatment_note(assessment)
    course = a_course(
        a_clinic(location=location, practitioner=practitioner),
        patient,
        statuses=[Status.COMPLETED, Status.CONFIRMED, Status.CONFIRMED, Status.CONFIRMED],
        first_start=timezone.now() - dt.timedelta(days=7) + dt.timedelta(hours=1),
        assessment=assessment,
    )
    first, second = course.appointments.order_by("session_number")[:2]
    worry = CheckIn.objects.create(
        patient=patient,
        kind=CheckInKind.AFTER_CARE,
        channel=CheckInChannel.HOME,
        appointment_id=first.pk,
        course_id=course.pk,
        session_number=1,
        location=location,
        practitioner=practitioner,
        soreness="moderate",
        bruising=True,
        worrying=True,
        worrying_details="Very swollen",
    )
    return {
        "intake": intake.pk,
        "patient": patient.pk,
        "assessment": assessment.pk,
        "session": session.pk,
        "next_session": second.pk,
        "worry": worry.pk,
    }


@pytest.fixture
def practitioner_elsewhere(other_location):
    return certified_practitioner(locations=[other_location])


def _url(name: str, arguments: dict | None = None, *, records: dict) -> str:
    if arguments is None:
        arguments = PAGES[name][1]
    kwargs = {
        key: records[value] if value in records else value for key, value in arguments.items()
    }
    return reverse(name, kwargs=kwargs)


def _user(request, key):
    person = request.getfixturevalue(key)
    return getattr(person, "user", person)


def test_every_intake_url_is_in_the_access_table():
    assert _intake_url_names() == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client, records, name):
    response = client.get(_url(name, records=records))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("role", list(PERSONAS))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_is_allowed_or_refused(client, request, records, role, name):
    allowed, _, methods = PAGES[name]
    client.force_login(_user(request, PERSONAS[role]))
    method = methods[0].lower()
    response = getattr(client, method)(_url(name, records=records))
    if (name, role) in REDIRECTS:
        assert response.status_code == 302
        assert response.url == _url(*REDIRECTS[name, role], records=records)
    elif role in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_wrong_method_is_refused(client, request, records, name):
    allowed, _, methods = PAGES[name]
    role = sorted(allowed)[0]
    client.force_login(_user(request, PERSONAS[role]))
    wrong = "post" if methods == GET else "get" if methods == POST else "put"
    assert getattr(client, wrong)(_url(name, records=records)).status_code == 405


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (role, name)
        for name, (allowed, arguments, _) in sorted(PAGES.items())
        for role in STRANGERS
        if role in allowed and arguments.keys() - {"step"}  # pages about one record
    ],
)
def test_someone_of_another_patient_or_location_gets_404(client, request, records, role, name):
    client.force_login(_user(request, STRANGERS[role]))
    response = getattr(client, PAGES[name][2][0].lower())(_url(name, records=records))
    assert response.status_code == 404


def test_a_patient_never_sees_another_patients_draft_through_their_own_pages(
    login, patient, other_patient
):
    IntakeFactory(patient=patient, goals="Jordan's private goal", steps_done=["contact"])
    client = login(other_patient.user)
    for url in (reverse("intake:step", args=["pain"]), reverse("intake:review")):
        response = client.get(url, follow=True)
        assert "Jordan's private goal" not in response.content.decode()
    assert "Not started" in client.get(reverse("intake:my_intake")).content.decode()


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("patient", "intake:intake_detail"),
        ("patient", "intake:step"),
        ("patient", "intake:review"),
        ("manager", "intake:intake_detail"),
        ("front_desk", "intake:patient_chart"),
        ("front_desk", "intake:staff_step"),
        ("practitioner", "intake:intake_detail"),
        ("manager", "intake:patient_chart"),
        ("practitioner", "intake:assessment_detail"),
        ("practitioner", "intake:assessment_amend"),
        ("practitioner", "intake:session_note_edit"),
        ("practitioner", "intake:session_note_sign"),
        ("manager", "intake:session_note_detail"),
    ],
)
def test_viewing_answers_is_recorded_in_the_access_log(
    client, request, records, patient, persona, name
):
    user = _user(request, persona)
    client.force_login(user)
    assert client.get(_url(name, records=records)).status_code == 200
    row = AccessLog.objects.get(actor=user)
    assert row.patient == patient
    assert row.action == AccessLog.Action.VIEW
    assert row.actor_role == user.role
