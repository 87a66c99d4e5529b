"""Filling in the questionnaire step by step: each step's checks, saving as you go, resuming,
and questions that apply only to some answers (with JavaScript off)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import Patient
from intake.questionnaire.forms import incomplete_steps, stored_answers_form
from intake.questionnaire.models import Intake, TreatmentOutcome, Units
from intake.questionnaire.questions import QUESTION_STEPS, SCREENING
from tests.intake.factories import draft_with_answers, step_data

pytestmark = pytest.mark.django_db


def _post(client, patient, slug, draft, **overrides):
    draft.refresh_from_db()
    data = step_data(patient, slug, revision=draft.revision, **overrides)
    return client.post(reverse("intake:step", args=[slug]), data)


def _errors(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("slug", [step.slug for step in QUESTION_STEPS])
def test_each_step_saves_complete_answers_and_moves_on(login, patient, draft, slug):
    response = _post(login(patient.user), patient, slug, draft)

    index = [s.slug for s in QUESTION_STEPS].index(slug)
    following = (
        reverse("intake:step", args=[QUESTION_STEPS[index + 1].slug])
        if index + 1 < len(QUESTION_STEPS)
        else reverse("intake:review")
    )
    assert response.status_code == 302
    assert response.url == following
    draft.refresh_from_db()
    assert draft.steps_done == [slug]
    assert draft.revision == 1


@pytest.mark.parametrize("slug", [step.slug for step in QUESTION_STEPS])
def test_each_step_refuses_to_go_on_with_questions_unanswered(login, patient, draft, slug):
    client = login(patient.user)
    blank = {name: None for name in next(s for s in QUESTION_STEPS if s.slug == slug).fields}
    blank.pop("email", None)  # the login email is shown, not asked
    response = _post(client, patient, slug, draft, **blank)

    assert response.status_code == 200
    html = _errors(response)
    assert "Please correct the" in html  # the error summary at the top
    draft.refresh_from_db()
    assert slug not in draft.steps_done


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pain_first_steps", "11", "Choose a number from 0 to 10"),
        ("pain_average", "-1", "Choose a number from 0 to 10"),
        ("pain_worst", "ten", "Choose a number from 0 to 10"),
        ("activity_1_score", "12", "Choose a number from 0 to 10"),
        ("walking_minutes", "2000", "Enter at most 600 minutes"),
    ],
)
def test_pain_and_function_outside_their_range_are_refused_on_the_field(
    login, patient, draft, field, value, message
):
    response = _post(login(patient.user), patient, "pain", draft, **{field: value})

    assert response.status_code == 200
    assert message in _errors(response)
    draft.refresh_from_db()
    assert draft.pain_first_steps is None  # nothing of the step was saved


@pytest.mark.parametrize(
    ("value", "message"),
    [("25", "There are only 24 hours in a day"), ("-1", "Enter 0 or more hours")],
)
def test_standing_hours_outside_a_day_are_refused_on_the_risk_step(
    login, patient, draft, value, message
):
    response = _post(login(patient.user), patient, "risk", draft, standing_hours=value)
    assert message in _errors(response)
    draft.refresh_from_db()
    assert draft.standing_hours is None


def test_standing_time_is_asked_once_with_the_risk_factors(login, patient, draft):
    """It was asked twice: hours a day on the pain step, and yes/no on the risk step."""
    asked = [step.slug for step in QUESTION_STEPS if "standing_hours" in step.fields]
    assert asked == ["risk"]
    assert not [step for step in QUESTION_STEPS if "long_hours_standing" in step.fields]
    client = login(patient.user)
    pain = client.get(reverse("intake:step", args=["pain"])).content.decode()
    risk = client.get(reverse("intake:step", args=["risk"])).content.decode()
    assert "standing" not in pain.replace("standing at work", "")  # the activity example
    assert risk.count("How many hours a day do you spend standing?") == 1
    assert "Do you stand for long hours" not in risk

    _post(client, patient, "risk", draft, standing_hours="7.5")
    draft.refresh_from_db()
    assert draft.standing_hours == Decimal("7.5")
    assert "risk" in draft.steps_done


@pytest.mark.parametrize("earlier_answer", [None, True])
def test_the_summary_shows_standing_hours_and_an_earlier_yes_no_answer_only_if_given(
    login, patient, earlier_answer
):
    intake = draft_with_answers(patient, long_hours_standing=earlier_answer)
    html = login(patient.user).get(reverse("intake:review")).content.decode()
    risk = html[html.index('id="risk-heading"') : html.index('id="treatments-heading"')]
    assert "Standing per day" in risk and f"{intake.standing_hours} h" in risk
    assert ("Long hours standing" in risk) is (earlier_answer is not None)
    assert "stands 6.5 h a day" in intake.subjective_summary()


def test_the_pain_scales_name_their_ends_for_the_eye_and_the_screen_reader(login, patient, draft):
    html = login(patient.user).get(reverse("intake:step", args=["pain"])).content.decode()
    for name in ("pain_first_steps", "pain_average", "pain_worst"):
        ends_id = f"id_{name}_ends"
        assert re.search(rf'<fieldset aria-describedby="{ends_id}[ "]', html), name
        ends = re.search(rf'<p id="{ends_id}"[^>]*>(.*?)</p>', html).group(1)
        assert "0: no pain" in ends and "10: worst imaginable" in ends
        scale = html[html.index(f'id="div_id_{name}"') : html.index(f'id="{ends_id}"')]
        assert 'class="score-options"' in scale and scale.count('type="radio"') == 11


def test_a_pain_scale_error_is_described_to_the_group_too(login, patient, draft):
    response = _post(login(patient.user), patient, "pain", draft, pain_worst="3", pain_average="6")
    html = _errors(response)
    assert re.search(r'<fieldset aria-describedby="id_pain_worst_ends [^"]*error', html)


def test_worst_pain_below_average_is_refused(login, patient, draft):
    response = _post(login(patient.user), patient, "pain", draft, pain_worst="3", pain_average="6")
    assert "Your worst pain cannot be lower than your average pain" in _errors(response)


def test_an_activity_needs_a_rating_and_a_rating_needs_an_activity(login, patient, draft):
    client = login(patient.user)
    response = _post(client, patient, "pain", draft, activity_2="Tennis")
    assert "Rate how well you can do it now." in _errors(response)
    response = _post(client, patient, "pain", draft, activity_3_score="5")
    assert "Name the activity you rated." in _errors(response)


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"height_cm": "40"}, "Enter a height between 90 and 250 cm."),
        ({"height_cm": "300"}, "Enter a height between 90 and 250 cm."),
        ({"weight_kg": "10"}, "Enter a weight between 25 and 350 kg."),
        ({"weight_kg": "500"}, "Enter a weight between 25 and 350 kg."),
        (
            {
                "measurement_units": "us",
                "height_feet": "9",
                "height_inches": "0",
                "weight_lb": "150",
            },
            "Enter a height between 3 ft and 8 ft 2 in.",
        ),
        (
            {
                "measurement_units": "us",
                "height_feet": "5",
                "height_inches": "8",
                "weight_lb": "20",
            },
            "Enter a weight between 55 and 770 pounds.",
        ),
        # Numbers with more digits than a Decimal keeps cannot be rounded: refused, not a 500.
        (
            {
                "measurement_units": "us",
                "height_feet": "1" + "0" * 30,
                "height_inches": "0",
                "weight_lb": "150",
            },
            "Enter a height between 3 ft and 8 ft 2 in.",
        ),
        (
            {
                "measurement_units": "us",
                "height_feet": "5",
                "height_inches": "8",
                "weight_lb": "1e40",
            },
            "Enter a weight between 55 and 770 pounds.",
        ),
    ],
)
def test_height_and_weight_outside_human_ranges_are_refused(
    login, patient, draft, overrides, field_error
):
    response = _post(login(patient.user), patient, "risk", draft, **overrides)
    assert response.status_code == 200
    assert field_error in _errors(response)
    draft.refresh_from_db()
    assert draft.height_cm is None


def test_bmi_is_computed_from_height_and_weight_never_typed(login, patient, draft):
    client = login(patient.user)
    _post(client, patient, "risk", draft, height_cm="170", weight_kg="80", bmi="99")
    draft.refresh_from_db()
    assert draft.bmi == Decimal("27.7")  # 80 / 1.7²
    assert "bmi" not in [f.name for f in Intake._meta.fields]


@pytest.mark.parametrize("preferred", [True, False], ids=["their location", "the clinic's"])
def test_the_age_shown_is_on_the_patients_clock(
    login, patient, draft, location, time_machine, preferred
):
    # 21:00 in Toronto on the eve of their 48th birthday: the server's UTC date is already
    # the birthday (summer and winter). A patient with no location is on the clinic's clock
    # (CLINIC_TIME_ZONE, Toronto), not the server's.
    evening = dt.datetime.combine(location.today(), dt.time(21), tzinfo=location.zone)
    time_machine.move_to(evening, tick=True)
    birthday = evening.date() + dt.timedelta(days=1)
    patient.date_of_birth = birthday.replace(year=birthday.year - 48)  # 48: leap days line up
    patient.preferred_location = location if preferred else None
    patient.save()
    assert draft.age == 47
    page = login(patient.user).get(reverse("intake:step", args=["risk"])).content.decode()
    assert "Your age: 47." in page


def _risk_in_us_units(client, patient, draft, *, inches: str):
    """The risk step answered in feet, inches and pounds: 5 ft `inches` in, 180 lb."""
    return _post(
        client,
        patient,
        "risk",
        draft,
        measurement_units="us",
        height_cm=None,
        weight_kg=None,
        height_feet="5",
        height_inches=inches,
        weight_lb="180",
    )


def test_height_and_weight_in_feet_inches_and_pounds_are_stored_in_metric(login, patient, draft):
    client = login(patient.user)
    response = _risk_in_us_units(client, patient, draft, inches="9.5")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.height_cm == Decimal("176.53")
    assert draft.weight_kg == Decimal("81.65")
    assert draft.bmi == Decimal("26.2")
    # Shown again in the patient's own units.
    html = client.get(reverse("intake:step", args=["risk"])).content.decode()
    assert 'name="height_feet" value="5"' in html and 'value="9.5"' in html
    assert 'name="weight_lb" value="180"' in html


@pytest.mark.parametrize("inches", ["11.95", "11.96", "11.97", "11.98", "11.99"])
def test_a_height_just_under_the_next_foot_reads_back_as_typed_and_stays_valid(
    login, patient, draft, inches
):
    """Shown back rounded to a tenth, 5 ft 11.98 in became 5 ft 12 in, which the inches
    field refuses: the saved answers then failed again at submission."""
    client = login(patient.user)
    response = _risk_in_us_units(client, patient, draft, inches=inches)
    assert response.status_code == 302
    draft.refresh_from_db()
    html = client.get(reverse("intake:step", args=["risk"])).content.decode()
    assert 'name="height_feet" value="5"' in html and f'value="{inches}"' in html
    assert "risk" not in incomplete_steps(draft)


def test_every_stored_height_near_a_whole_foot_reads_back_as_valid_feet_and_inches(patient):
    """Every height in centimetres from 5 ft 11.9 in to 6 ft 0.1 in, including those that
    round up to a whole foot (182.87 cm is 71.996 in: 6 ft 0 in, never 5 ft 12 in)."""
    intake = draft_with_answers(patient, measurement_units=Units.US, weight_kg=Decimal("81.65"))
    for hundredths in range(18262, 18314):
        height = intake.height_cm = Decimal(hundredths) / 100
        form = stored_answers_form("risk", intake)
        assert form.is_valid(), (height, form.errors)
        assert form.cleaned_data["height_inches"] < 12
        assert abs(form.cleaned_data["height_cm"] - height) <= Decimal("0.02"), height


def test_a_future_injection_date_is_refused(login, patient, draft, location, time_machine):
    # 21:00 in Toronto, when the server's UTC date is already tomorrow (summer and winter):
    # tomorrow is still in the future.
    evening = dt.datetime.combine(location.today(), dt.time(21), tzinfo=location.zone)
    time_machine.move_to(evening, tick=True)
    tomorrow = evening.date() + dt.timedelta(days=1)
    response = _post(
        login(patient.user),
        patient,
        "treatments",
        draft,
        tried_injection=TreatmentOutcome.HELPED,
        last_injection_on=tomorrow.isoformat(),
    )
    assert "This date is in the future." in _errors(response)


def test_the_injection_date_is_asked_only_when_an_injection_was_tried(login, patient, draft):
    client = login(patient.user)
    response = _post(client, patient, "treatments", draft, tried_injection=TreatmentOutcome.HELPED)
    assert "Give the date of your last injection." in _errors(response)

    # Not tried: a date typed earlier is not kept.
    response = _post(
        client,
        patient,
        "treatments",
        draft,
        tried_injection=TreatmentOutcome.NOT_TRIED,
        last_injection_on="2025-01-10",
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.last_injection_on is None


@pytest.mark.parametrize("question", SCREENING, ids=lambda q: q.field)
def test_a_screening_yes_needs_details(login, patient, draft, question):
    response = _post(login(patient.user), patient, "screening", draft, **{question.field: "True"})
    assert response.status_code == 200
    assert "You answered yes: please tell us more." in _errors(response)


def test_details_typed_before_changing_to_no_are_not_kept(login, patient, draft):
    response = _post(
        login(patient.user),
        patient,
        "screening",
        draft,
        screen_pregnancy="False",
        screen_pregnancy_details="typed, then changed my mind",
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.screen_pregnancy is False
    assert draft.screen_pregnancy_details == ""


def test_conditional_questions_are_in_the_page_without_javascript(login, patient, draft):
    """Every details field is rendered (labelled) next to its question; the script in
    static/js/intake.js only hides it until it applies."""
    client = login(patient.user)
    html = client.get(reverse("intake:step", args=["screening"])).content.decode()
    for question in SCREENING:
        assert f'name="{question.field}_details"' in html
        assert f'data-reveal-for="{question.field}"' in html
    assert 'for="id_screen_anticoagulants_details"' in html  # a label for every details field
    assert "<legend" in html  # yes/no groups are fieldsets with a legend
    assert '<script src="/static/js/intake.js" defer></script>' in html
    assert "<script>" not in html  # no inline script

    html = client.get(reverse("intake:step", args=["treatments"])).content.decode()
    assert 'name="last_injection_on"' in html
    assert 'data-reveal-for="tried_injection"' in html


def test_saving_for_later_keeps_what_is_answered_and_resumes_there(client, login, patient, draft):
    response = _post(
        login(patient.user),
        patient,
        "complaint",
        draft,
        action="save",
        onset=None,
        had_before=None,
    )
    assert response.status_code == 302
    assert response.url == reverse("intake:my_intake")
    draft.refresh_from_db()
    assert draft.affected_foot == "right" and draft.weeks_of_pain == 12
    assert draft.onset == ""
    assert "complaint" not in draft.steps_done

    # Another day, another device: the answers are there, and the patient resumes at step 1
    # (the first step not done).
    client.logout()
    other_device = login(patient.user)
    html = other_device.get(reverse("intake:step", args=["complaint"])).content.decode()
    assert 'name="weeks_of_pain" value="12"' in html
    html = other_device.get(reverse("intake:my_intake")).content.decode()
    assert "You are at step 1 of 8" in html


def test_going_on_with_some_questions_unanswered_saves_the_answered_ones(login, patient, draft):
    response = _post(login(patient.user), patient, "complaint", draft, onset=None)

    assert response.status_code == 200
    html = _errors(response)
    assert "Your answers so far are saved" in html
    assert "Please answer this question." in html
    draft.refresh_from_db()
    assert draft.weeks_of_pain == 12
    assert "complaint" not in draft.steps_done
    # The page carries the new revision, so saving again is not taken for a stale tab.
    assert f'name="revision" value="{draft.revision}"' in html


def test_a_value_out_of_range_is_not_saved_even_for_later(login, patient, draft):
    response = _post(login(patient.user), patient, "pain", draft, action="save", pain_worst="15")
    assert response.status_code == 200
    assert "Choose a number from 0 to 10" in _errors(response)
    draft.refresh_from_db()
    assert draft.pain_worst is None and draft.revision == 0


def test_going_back_saves_the_page_first(login, patient, draft):
    response = _post(login(patient.user), patient, "symptoms", draft, action="back")
    assert response.url == reverse("intake:step", args=["complaint"])
    draft.refresh_from_db()
    assert draft.symptom_first_steps is True


def test_the_progress_indicator_shows_the_step_and_what_is_done(login, patient, draft):
    draft.steps_done = ["contact", "complaint"]
    draft.save()
    html = login(patient.user).get(reverse("intake:step", args=["symptoms"])).content.decode()
    assert "Step 3 of 8" in html
    # Two copies of the list, one displayed at a time (phone / wide screen).
    assert html.count('aria-current="step"') == 2
    assert html.count(">Done</span>") == 4


def _step_list(html: str) -> str:
    start = html.index('<nav aria-label="Questionnaire steps"')
    return html[start : html.index("</nav>", start)]


@pytest.mark.parametrize(
    "url", [reverse("intake:step", args=["symptoms"]), reverse("intake:review")]
)
def test_on_a_phone_the_step_list_folds_into_the_step_number(login, patient, draft, url):
    """The list took about 350 px above every step on a phone: there it is a <details> whose
    summary says where the patient is (it opens without JavaScript); on a wide screen a copy
    stays in view. Bootstrap's display classes show one or the other."""
    nav = _step_list(login(patient.user).get(url).content.decode())
    folded = nav[nav.index("<details") : nav.index("</details>")]
    assert 'class="intake-steps-folded d-lg-none"' in folded
    assert "<details open" not in nav  # closed until the patient asks
    number = "3" if "symptoms" in url else "8"
    assert re.search(rf"<summary>Step {number} of 8\b", folded)
    assert folded.count("<li") == 8
    wide = nav[nav.index("</details>") :]
    assert '<div class="d-none d-lg-block">' in wide
    assert wide.count("<li") == 8


def test_an_unknown_step_is_404(login, patient, draft):
    assert login(patient.user).get("/intake/me/steps/nonsense/").status_code == 404


def test_a_step_without_a_draft_sends_the_patient_to_start(login, patient):
    response = login(patient.user).get(reverse("intake:step", args=["contact"]))
    assert response.status_code == 302
    assert response.url == reverse("intake:my_intake")


def test_the_contact_step_shows_the_login_email_and_does_not_change_it(login, patient, draft):
    client = login(patient.user)
    _post(client, patient, "contact", draft, email="someone-else@example.org")
    draft.refresh_from_db()
    assert draft.email == patient.user.email


def test_pain_for_longer_than_the_patient_has_been_alive_is_refused(login, patient, draft):
    """A pain that began before the patient was born (a slip of the keyboard: 1092 weeks for
    12) is said on the field; the 40-year bound alone let it through for anyone under 40."""
    born = timezone.localdate(timezone=patient.zone) - dt.timedelta(days=20 * 365)
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=born)
    patient.refresh_from_db()
    client = login(patient.user)

    response = _post(client, patient, "complaint", draft, weeks_of_pain=str(21 * 52))
    assert response.status_code == 200
    assert "That is longer than you have been alive" in _errors(response)
    draft.refresh_from_db()
    assert "complaint" not in draft.steps_done

    response = _post(client, patient, "complaint", draft, weeks_of_pain=str(19 * 52))
    assert response.status_code == 302
