"""Consent: versioned texts a manager publishes, signatures by typed name that must match the
name on file, and signing again when the text changes (online or at the counter)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLog
from intake.questionnaire.models import ConsentSignature, ConsentVersion, Intake, signature_matches
from intake.questionnaire.selectors import consent_is_current
from intake.questionnaire.services import IntakeError, publish_consent_version
from tests.booking.factories import a_clinic, an_appointment
from tests.intake.factories import (
    ConsentVersionFactory,
    draft_with_answers,
    sign,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def _consent_data(patient, versions, **overrides):
    data = {
        "consent_versions": ",".join(str(v.pk) for v in versions),
        "signed_name": patient.full_name,
        **{f"agree_{v.document.kind}": "on" for v in versions},
    }
    return data | overrides


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("Jordan Miles", True),
        ("jordan miles", True),
        ("  JORDAN   Miles ", True),
        ("Jordan\tMiles", True),
        ("Jordan", False),
        ("Jordan Mills", False),
        ("", False),
        ("   ", False),
    ],
)
def test_a_signature_matches_the_name_on_file_forgiving_case_and_spacing(patient, typed, matches):
    assert signature_matches(typed, patient) is matches


@pytest.mark.parametrize(
    ("first_name", "last_name", "typed", "matches"),
    [
        ("Sam", "Okonkwo-Tremblay", "Sam Okonkwo Tremblay", True),
        ("Sam", "Okonkwo-Tremblay", "sam okonkwotremblay", True),
        ("Sam", "Okonkwo Tremblay", "Sam Okonkwo-Tremblay", True),
        ("Sam", "Okonkwo-Tremblay", "Sam Okonkwo‑Tremblay", True),  # a non-breaking hyphen
        ("Siobhan", "O'Brien", "Siobhan OBrien", True),
        ("Siobhan", "O'Brien", "siobhan o’brien", True),  # the apostrophe a phone types
        ("Siobhan", "OBrien", "Siobhan O'Brien", True),
        ("Robert", "Côté", "robert cote", True),
        ("Hélène", "Lefèvre", "HELENE LEFEVRE", True),
        ("Jordan", "Côté", "jordan cote", True),
        # Still refused: a different name, part of the name, or only the forgiven signs.
        ("Sam", "Okonkwo-Tremblay", "Sam Okonkwo", False),
        ("Sam", "Okonkwo-Tremblay", "Sam Okonkwo-Tremblai", False),
        ("Siobhan", "O'Brien", "Siobhan O'Brian", False),
        ("Siobhan", "O'Brien", "- ' -", False),
    ],
)
def test_a_signature_forgives_accents_hyphens_and_apostrophes(
    patient, first_name, last_name, typed, matches
):
    patient.first_name, patient.last_name = first_name, last_name
    assert signature_matches(typed, patient) is matches


def test_the_hint_says_what_is_forgiven(login, patient, consents):
    page = login(patient.user).get(reverse("intake:consent")).content.decode()
    assert "Capitals, accents, spaces, hyphens and apostrophes do not matter." in page


def test_a_hyphenated_name_typed_with_a_space_signs_on_the_consent_page(login, patient, consents):
    patient.last_name = "Okonkwo-Tremblay"
    patient.save()
    login(patient.user).post(
        reverse("intake:consent"),
        _consent_data(patient, consents, signed_name="Jordan Okonkwo Tremblay"),
    )
    assert ConsentSignature.objects.filter(
        patient=patient, signed_name="Jordan Okonkwo Tremblay"
    ).count() == len(consents)


def test_the_current_version_is_the_highest_published_one(consents):
    dry_needling = consents[0].document
    v2 = ConsentVersionFactory(document=dry_needling, number=2)
    ConsentVersionFactory(document=dry_needling, number=3, published_at=None)  # a draft wording
    current = set(ConsentVersion.objects.current())
    assert v2 in current and consents[0] not in current
    assert len(current) == 2


def test_a_new_version_makes_earlier_signatures_out_of_date(patient, consents):
    sign(patient, consents)
    assert consent_is_current(patient)

    v2 = ConsentVersionFactory(document=consents[0].document, number=2, published_at=None)
    assert consent_is_current(patient)  # not in force until published
    publish_consent_version(version=v2, by=patient.user)
    assert not consent_is_current(patient)

    old = ConsentSignature.objects.get(patient=patient, version=consents[0])
    assert old.version.number == 1  # the signature keeps pointing at what was signed


def test_a_version_older_than_the_published_one_cannot_be_published(consents, manager):
    document = consents[0].document
    ConsentVersionFactory(document=document, number=3)
    v2 = ConsentVersionFactory(document=document, number=2, published_at=None)
    with pytest.raises(IntakeError, match="later version"):
        publish_consent_version(version=v2, by=manager)


@pytest.mark.parametrize(
    "sql",
    ["UPDATE intake_consentversion SET body = 'changed'", "DELETE FROM intake_consentversion"],
)
def test_the_database_refuses_to_change_a_published_text(consents, sql):
    with pytest.raises(DatabaseError, match="locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    ["UPDATE intake_consentsignature SET signed_name = 'x'", "DELETE FROM intake_consentsignature"],
)
def test_the_database_refuses_to_change_a_signature(patient, consents, sql):
    sign(patient, consents)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_a_consent_version_changed_while_filling_in_is_refused_and_nothing_is_lost(
    login, patient, consents
):
    draft = draft_with_answers(patient)
    client = login(patient.user)
    opened_with = list(consents)
    v2 = ConsentVersionFactory(document=consents[0].document, number=2)  # published meanwhile

    response = client.post(
        reverse("intake:review"),
        _consent_data(patient, opened_with) | {"revision": draft.revision},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "The consent text was updated while you were filling in the form" in html
    assert "(version 2" in html  # the new text is shown to read
    draft.refresh_from_db()
    assert draft.is_draft and draft.pain_first_steps == 7
    assert not ConsentSignature.objects.exists()

    client.post(
        reverse("intake:review"),
        _consent_data(patient, [v2, consents[1]]) | {"revision": draft.revision},
    )
    assert (
        ConsentSignature.objects.get(
            patient=patient, version__document__kind="dry_needling"
        ).version
        == v2
    )


def test_a_patient_signs_the_new_version_from_their_consent_page(login, patient, consents):
    submitted_intake(patient)
    sign(patient, consents)
    v2 = ConsentVersionFactory(document=consents[0].document, number=2)
    client = login(patient.user)

    home = client.get(reverse("clinic:patient_home")).content.decode()
    assert "Our consent text has changed since you signed it" in home
    page = client.get(reverse("intake:consent")).content.decode()
    assert "Out of date" in page and "version 2 is now in force" in page

    versions = list(ConsentVersion.objects.current())
    response = client.post(reverse("intake:consent"), _consent_data(patient, versions))
    assert response.status_code == 302
    assert consent_is_current(patient)
    signature = ConsentSignature.objects.get(patient=patient, version=v2)
    assert signature.method == ConsentSignature.Method.ONLINE
    assert (
        "You have signed the current version"
        in client.get(reverse("intake:consent")).content.decode()
    )


@pytest.mark.parametrize("page", ["consent", "counter_consent"])
def test_a_consent_sent_twice_is_signed_once(login, patient, front_desk, consents, page):
    """A double tap on the tablet, a form sent again from the back button: the versions
    already signed are not signed a second time."""
    at_counter = page == "counter_consent"
    client = login(front_desk if at_counter else patient.user)
    url = reverse(f"intake:{page}", args=[patient.pk] if at_counter else [])
    for _ in range(2):
        assert client.post(url, _consent_data(patient, consents)).status_code == 302
    assert ConsentSignature.objects.filter(patient=patient).count() == len(consents)
    assert consent_is_current(patient)
    created = AccessLog.objects.filter(patient=patient, action=AccessLog.Action.CREATE)
    assert created.count() == 1


def test_a_wrong_name_on_the_consent_page_is_refused(login, patient, consents):
    response = login(patient.user).post(
        reverse("intake:consent"), _consent_data(patient, consents, signed_name="Someone Else")
    )
    assert "This does not match the name on file" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_with_no_consent_published_the_consent_page_says_so_and_signs_nothing(login, patient):
    client = login(patient.user)
    page = client.get(reverse("intake:consent")).content.decode()
    assert "has not published its consent forms" in page
    assert "You have signed the current version" not in page
    response = client.post(
        reverse("intake:consent"), {"consent_versions": "", "signed_name": patient.full_name}
    )
    assert response.status_code == 409
    assert "has not published its consent forms" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_the_patient_signs_at_the_counter_on_the_front_desk_tablet(
    login, front_desk, patient, consents
):
    url = reverse("intake:counter_consent", args=[patient.pk])
    client = login(front_desk)
    page = client.get(url).content.decode()
    assert "Jordan, please read these texts" in page

    response = client.post(url, _consent_data(patient, consents), follow=True)

    assert "Please hand the tablet back" in response.content.decode()
    signatures = ConsentSignature.objects.filter(patient=patient)
    assert {s.collected_by for s in signatures} == {front_desk}
    assert {s.method for s in signatures} == {ConsentSignature.Method.COUNTER}
    assert consent_is_current(patient)
    assert AccessLog.objects.filter(
        patient=patient, actor=front_desk, action=AccessLog.Action.CREATE
    ).exists()


def test_the_counter_consent_opened_from_a_refused_check_in_returns_to_that_appointment(
    login, front_desk, patient, other_patient, location, consents
):
    clinic = a_clinic(location=location)
    appointment = an_appointment(clinic, patient, timezone.now() + dt.timedelta(hours=1))
    client = login(front_desk)
    appointment_page = reverse("booking:appointment_detail", args=[appointment.pk])
    counter = reverse("intake:counter_consent", args=[patient.pk])
    from_check_in = f"{counter}?appointment={appointment.pk}"
    assert from_check_in in client.get(appointment_page).content.decode()

    signed = client.post(from_check_in, _consent_data(patient, consents), follow=True)

    assert signed.redirect_chain[-1][0] == from_check_in
    html = signed.content.decode()
    assert f'href="{appointment_page}"' in html
    assert "Back to the appointment to check Jordan in" in html
    assert reverse("intake:patient_chart", args=[patient.pk]) not in html


@pytest.mark.parametrize("appointment", ["", "?appointment=abc", "?appointment=theirs"])
def test_the_counter_consent_otherwise_returns_to_the_chart(
    login, front_desk, patient, other_patient, location, consents, appointment
):
    theirs = an_appointment(
        a_clinic(location=location), other_patient, timezone.now() + dt.timedelta(hours=1)
    )
    sign(patient, consents)
    url = reverse("intake:counter_consent", args=[patient.pk]) + appointment.replace(
        "theirs", str(theirs.pk)
    )
    html = login(front_desk).get(url).content.decode()
    assert reverse("intake:patient_chart", args=[patient.pk]) in html
    assert reverse("booking:appointment_detail", args=[theirs.pk]) not in html


def test_a_manager_writes_and_publishes_a_new_version_in_the_admin(login, manager, consents):
    client = login(manager)
    document = consents[0].document
    response = client.post(
        reverse("admin:intake_consentversion_add"),
        {"document": document.pk, "body": "New wording.\n\nYou may stop at any time."},
    )
    assert response.status_code == 302
    new = ConsentVersion.objects.get(document=document, number=2)
    assert not new.is_published

    client.post(
        reverse("admin:intake_consentversion_changelist"),
        {"action": "publish", "_selected_action": [new.pk]},
    )
    new.refresh_from_db()
    assert new.is_published and new.published_by == manager
    assert new in ConsentVersion.objects.current()

    # A published version is read-only in the admin too.
    page = client.get(reverse("admin:intake_consentversion_change", args=[new.pk]))
    assert 'name="body"' not in page.content.decode()


def test_submissions_keep_pointing_at_the_version_they_signed(login, patient, consents):
    draft = draft_with_answers(patient)
    login(patient.user).post(
        reverse("intake:review"), _consent_data(patient, consents) | {"revision": draft.revision}
    )
    ConsentVersionFactory(document=consents[0].document, number=2, published_at=timezone.now())
    intake = Intake.objects.get(patient=patient)
    assert {s.version.number for s in intake.consent_signatures.all()} == {1}
