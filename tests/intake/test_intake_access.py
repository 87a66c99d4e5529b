"""Who may open each intake page: every URL of the `intake` namespace is in the table below,
with the roles allowed; each gets its allowed, wrong-method and wrong-person case, and every
page that shows answers leaves a row in the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Status
from clinic.models import AccessLog, Role
from intake.questionnaire.models import Intake
from tests import access_matrix as matrix
from tests.access_matrix import (
    ANONYMOUS,
    BOTH,
    CLINICAL,
    GET,
    PATIENT,
    POST,
    PRACTITIONER,
    ROLES,
    STAFF,
    Page,
)
from tests.booking.factories import a_clinic, a_course
from tests.factories import certified_practitioner
from tests.intake.factories import (
    IntakeFactory,
    a_survey_answer,
    session_note,
    signed_assessment,
    submitted_intake,
)
from tests.worlds import built_once

pytestmark = pytest.mark.django_db

# The personas of this module are a world written once for it, and so are their records.
globals().update(matrix.world_fixtures())

# Who reads a questionnaire's answers (the front desk sees only its state: minimum necessary).
ANSWER_READERS = PATIENT | CLINICAL

MATRIX = matrix.Matrix(
    # name: roles allowed, methods, arguments (values naming one of the `records`)
    pages={
        "intake:my_intake": Page(PATIENT, GET),
        "intake:start": Page(PATIENT, POST),
        "intake:step": Page(PATIENT, BOTH, {"step": "pain"}),
        "intake:review": Page(PATIENT, BOTH),
        "intake:consent": Page(PATIENT, BOTH),
        "intake:intake_detail": Page(ANSWER_READERS, GET, {"pk": "intake"}),
        "intake:intake_list": Page(STAFF, BOTH),
        "intake:patient_chart": Page(STAFF, GET, {"patient_pk": "patient"}),
        "intake:staff_start": Page(STAFF, POST, {"patient_pk": "patient"}),
        "intake:staff_step": Page(STAFF, BOTH, {"patient_pk": "patient", "step": "pain"}),
        "intake:staff_review": Page(STAFF, BOTH, {"patient_pk": "patient"}),
        "intake:counter_consent": Page(STAFF, BOTH, {"patient_pk": "patient"}),
        "intake:assessment_start": Page(PRACTITIONER, BOTH, {"patient_pk": "patient"}),
        "intake:assessment_detail": Page(CLINICAL, GET, {"pk": "assessment"}),
        "intake:assessment_edit": Page(PRACTITIONER, BOTH, {"pk": "assessment"}),
        "intake:assessment_sign": Page(PRACTITIONER, BOTH, {"pk": "assessment"}),
        "intake:assessment_amend": Page(PRACTITIONER, BOTH, {"pk": "assessment"}),
        "intake:assessment_discard": Page(PRACTITIONER, POST, {"pk": "assessment"}),
        "intake:session_note_start": Page(PRACTITIONER, BOTH, {"patient_pk": "patient"}),
        "intake:session_note_detail": Page(CLINICAL, GET, {"pk": "session"}),
        "intake:session_note_edit": Page(PRACTITIONER, BOTH, {"pk": "session"}),
        "intake:session_note_sign": Page(PRACTITIONER, BOTH, {"pk": "session"}),
        "intake:session_note_amend": Page(PRACTITIONER, BOTH, {"pk": "session"}),
        "intake:session_note_discard": Page(PRACTITIONER, POST, {"pk": "session"}),
        "intake:my_outcome_surveys": Page(PATIENT, GET),
        "intake:my_outcome_survey": Page(
            PATIENT, BOTH, {"kind": "before_session", "appointment_id": "next_session"}
        ),
        "intake:counter_outcome_survey": Page(STAFF, BOTH, {"appointment_id": "next_session"}),
        "intake:aftercare_respond": Page(CLINICAL, POST, {"pk": "worry"}),
    },
    # Where a role allowed in is sent on, for the pages that do not answer 200 themselves: a
    # signed record is shown rather than edited again, a new questionnaire opens on its first
    # step, an answered after-care question goes back home.
    redirects={
        **{
            ("intake:aftercare_respond", role): ("clinic:home", {})
            for role in (Role.PRACTITIONER, Role.MANAGER)
        },
        **{
            (name, Role.PRACTITIONER): "intake:assessment_detail"
            for name in (
                "intake:assessment_discard",
                "intake:assessment_edit",
                "intake:assessment_sign",
            )
        },
        ("intake:session_note_amend", Role.PRACTITIONER): "intake:session_note_detail",
        ("intake:session_note_discard", Role.PRACTITIONER): "intake:patient_chart",
        **{
            ("intake:staff_start", role): (
                "intake:staff_step",
                {"patient_pk": "patient", "step": "contact"},
            )
            for role in STAFF
        },
        ("intake:start", Role.PATIENT): ("intake:step", {"step": "contact"}),
    },
)
PAGES = MATRIX.pages
# For a record of `patient` (at `location`): someone of the same role who must not see it.
STRANGERS = {
    Role.PATIENT: "other_patient",
    Role.FRONT_DESK: "front_desk_elsewhere",
    Role.PRACTITIONER: "practitioner_elsewhere",
}


def build_records(patient, practitioner, location) -> dict:
    """The `patient` persona with a submitted questionnaire, a correction in progress, a signed
    assessment by the `practitioner` persona and a draft note of the first session; a course
    booked at `location` whose second session starts in an hour, with a worrying after-care
    answer about the first."""
    intake = submitted_intake(patient)
    IntakeFactory(patient=patient)
    assessment = signed_assessment(patient, practitioner)
    course = a_course(
        a_clinic(location=location, practitioner=practitioner),
        patient,
        statuses=[Status.COMPLETED, Status.CONFIRMED, Status.CONFIRMED, Status.CONFIRMED],
        first_start=timezone.now() - dt.timedelta(days=7) + dt.timedelta(hours=1),
        assessment=assessment,
    )
    first, second = course.appointments.order_by("session_number")[:2]
    session = session_note(assessment, appointment_id=first.pk)
    worry = a_survey_answer(
        first,
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


@pytest.fixture(scope="module")
def records(world, django_db_blocker):
    """The records of `build_records`, written once for the module."""
    with built_once(django_db_blocker):
        yield build_records(world.patient, world.practitioner, world.location)


@pytest.fixture
def address(records):
    """`address(target)`: a page's address (or a (name, arguments) one's) with the records."""
    return lambda target: MATRIX.url(target, records)


@pytest.fixture
def practitioner_elsewhere(other_location):
    return certified_practitioner(locations=[other_location])


def test_every_intake_url_is_in_the_access_table():
    assert MATRIX.url_names() == set(PAGES)


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_each_role_is_allowed_or_refused(client, request, address, name, visitor, answer):
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_wrong_method_is_refused(client, request, address, name):
    methods = PAGES[name].methods
    wrong = "POST" if methods == GET else "GET" if methods == POST else "PUT"
    matrix.check_wrong_method(MATRIX, client, request, address, name, wrong)


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (role, name)
        for name, page in sorted(PAGES.items())
        for role in STRANGERS
        if role in page.allowed and page.arguments.keys() - {"step"}  # pages about one record
    ],
)
def test_someone_of_another_patient_or_location_gets_404(client, request, address, role, name):
    stranger = matrix.user_of(request, STRANGERS[role])
    response = matrix.open_as(client, stranger, PAGES[name], address(name))
    assert response.status_code == 404


def test_a_patient_never_sees_another_patients_draft_through_their_own_pages(
    login, records, patient, other_patient
):
    # The patient's correction in progress (one of the `records`).
    drafts = Intake.objects.filter(patient=patient, status=Intake.Status.DRAFT)
    assert drafts.update(goals="Jordan's private goal", steps_done=["contact"]) == 1
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
    client, request, address, patient, persona, name
):
    user = matrix.user_of(request, persona)
    client.force_login(user)
    assert client.get(address(name)).status_code == 200
    row = AccessLog.objects.get(actor=user)
    assert row.patient == patient
    assert row.action == AccessLog.Action.VIEW
    assert row.actor_role == user.role
