"""Outcome surveys (the model is still `OutcomeSurvey`; "survey" also means arriving at the desk, so
these pages say survey): the patient answers from their own page (or from an email link, a page
of the booking app that uses `outcome_survey_page` below), or on the counter tablet at check-in;
practitioners respond to worrying after-care answers; patients see their own progress.

Which appointment a survey is about comes from the booking app as a `Visit`; a visit that is not
the patient's (or not at the staff member's locations) is a 404, never a hint."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from clinic import access
from clinic.audit import log_access, record_access
from clinic.models import AccessLog, Patient, Role, User
from intake.clinical import selectors, surveys
from intake.clinical.forms.outcome_surveys import survey_form
from intake.clinical.models import SURVEY_QUESTIONS, OutcomeSurvey, SurveyChannel, SurveyKind
from intake.clinical.pain_chart import chart_geometry, pain_trajectory
from intake.clinical.selectors import SurveySubject
from intake.view_helpers import GET_OR_POST
from intake.zones import patient_zone

THANKS = {
    SurveyKind.BEFORE_SESSION: "Thank you. Your practitioner will see your answers before your session.",
    SurveyKind.AFTER_CARE: "Thank you for letting us know how you are.",
    SurveyKind.END_OF_COURSE: "Thank you for telling us how your course went.",
    SurveyKind.FOLLOW_UP_4: "Thank you for your follow-up answers.",
    SurveyKind.FOLLOW_UP_12: "Thank you for your follow-up answers.",
}


def _initial(answer: OutcomeSurvey) -> dict:
    values = {}
    for name in SURVEY_QUESTIONS[answer.kind]:
        value = getattr(answer, name)
        values[name] = str(value) if isinstance(value, bool | int) else value
    return values


def _corrects(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("corrects", ""))
    except ValueError:
        return None


def outcome_survey_page(
    request: HttpRequest,
    *,
    subject: SurveySubject,
    patient: Patient,
    channel: str,
    by: User | None,
    collected_by: User | None = None,
    back_url: str = "",
    template: str = "intake/clinical/outcome_surveys/outcome_survey.html",
    show_answers: bool = True,
) -> HttpResponse:
    """Show and take one survey, whichever way the patient reached it. Once answered, the
    page shows what was sent and offers a correction, which is kept beside the first answer.
    `show_answers` False (the front desk's counter tablet) says only that answers arrived:
    the front desk sees no clinical content, and corrections are made elsewhere."""
    kind = subject.kind
    answer = selectors.current_answer(kind, subject.visit)
    is_open = subject.window.is_open(timezone.now())
    status = 200
    correcting = answer is not None and request.GET.get("correct") == "1"
    if request.method == "POST" and answer is not None and not show_answers:
        messages.info(request, "Answers were already received for this session.")
        return redirect(request.path)
    if request.method == "POST":
        form = survey_form(kind, request.POST)
        correcting = answer is not None
        if not is_open:
            messages.error(request, surveys.SurveyClosed.message)
            status = 409
        elif form.is_valid():
            try:
                saved = surveys.record_survey(
                    subject=subject,
                    answers=form.answers(),
                    channel=channel,
                    by=by,
                    collected_by=collected_by,
                    corrects=_corrects(request),
                )
            except surveys.AlreadyAnswered as refused:
                messages.warning(request, refused.message)
                answer = refused.answer
                form = survey_form(kind, initial=_initial(answer)) if answer else form
                correcting = True
                status = 409
            except surveys.SurveyError as refused:
                messages.error(request, refused.message)
                status = 409
            else:
                record_access(
                    actor=by or collected_by,
                    patient=patient,
                    record=saved,
                    action=AccessLog.Action.CHANGE
                    if saved.is_correction
                    else AccessLog.Action.CREATE,
                    request=request,
                )
                messages.success(
                    request,
                    THANKS[kind]
                    + (" Please hand the tablet back to the front desk." if collected_by else ""),
                )
                return redirect(request.path)
        else:
            status = 400
    else:
        form = survey_form(kind, initial=_initial(answer) if answer else None)
    if answer is not None and show_answers:
        record_access(actor=by or collected_by, patient=patient, record=answer, request=request)
    return render(
        request,
        template,
        {
            "subject": subject,
            "patient": patient,
            "answer": answer,
            "earlier": _earlier_answers(answer),
            "form": form,
            "is_open": is_open,
            "correcting": correcting,
            "channel": channel,
            "back_url": back_url,
            "show_answers": show_answers,
            "zone": patient_zone(patient, subject.visit.location),
        },
        status=status,
    )


def _earlier_answers(answer: OutcomeSurvey | None) -> list[OutcomeSurvey]:
    """The answers `answer` corrected, newest first (kept, and shown as such)."""
    earlier = []
    while answer is not None and answer.supersedes_id:
        answer = answer.supersedes
        earlier.append(answer)
    return earlier


def _kind(kind: str) -> str:
    if kind not in SurveyKind.values:
        raise Http404("No such survey.")
    return kind


def _subject_or_404(kind: str, appointment_id: int, patient: Patient) -> SurveySubject:
    """The survey of `kind` about the appointment, if it is `patient`'s and such a survey
    applies to it (a needling session of a course; a finished course for the questionnaires)."""
    patient_visits = selectors.visits(patient_ids=[patient.pk])
    visit = next((v for v in patient_visits if v.appointment_id == appointment_id), None)
    subject = selectors.survey_subject(_kind(kind), visit, patient_visits) if visit else None
    if subject is None:
        raise Http404("No such survey among yours.")
    return subject


# --- The patient's own pages ------------------------------------------------------------------


@access.patient_required
@require_safe
def my_outcome_surveys(request):
    """What we ask the patient across their course: open surveys first, then answered ones,
    with their pain chart."""
    patient = access.own_patient_record(request.user)
    subjects = selectors.surveys_of(patient)
    now = timezone.now()
    trajectory = pain_trajectory(patient)
    # "intake.progress" names this page in the access log; earlier rows carry it, so it stays.
    record_access(
        actor=request.user, patient=patient, record_type="intake.progress", request=request
    )
    return render(
        request,
        "intake/clinical/outcome_surveys/my_outcome_surveys.html",
        {
            "patient": patient,
            "open": [s for s in subjects if s.answer is None and s.window.is_open(now)],
            "answered": [s for s in reversed(subjects) if s.answer is not None],
            "coming": [s for s in subjects if s.answer is None and s.window.opens > now][:3],
            "trajectory": trajectory,
            "chart": chart_geometry(trajectory, patient=patient) if trajectory.has_data else None,
        },
    )


@access.patient_required
@GET_OR_POST
def my_outcome_survey(request, kind: str, appointment_id: int):
    patient = access.own_patient_record(request.user)
    subject = _subject_or_404(kind, appointment_id, patient)
    return outcome_survey_page(
        request,
        subject=subject,
        patient=patient,
        channel=SurveyChannel.HOME,
        by=request.user,
        back_url=reverse("intake:my_outcome_surveys"),
    )


# --- The counter tablet -------------------------------------------------------------------------


@access.staff_required
@GET_OR_POST
def counter_outcome_survey(request, appointment_id: int):
    """The front desk hands the tablet to a patient checking in for a needling session: the
    pre-session survey, recorded as collected by the staff member."""
    visit = selectors.find_visit(appointment_id)
    if (
        visit is None
        or not access.visible_locations(request.user).filter(pk=visit.location.pk).exists()
    ):
        raise Http404("No such appointment at your locations.")
    patient = access.get_visible_patient(request.user, visit.patient_id)
    subject = selectors.survey_subject(SurveyKind.BEFORE_SESSION, visit, [visit])
    if subject is None:
        raise Http404("This appointment has no pre-session survey.")
    return outcome_survey_page(
        request,
        subject=subject,
        patient=patient,
        channel=SurveyChannel.COUNTER,
        by=request.user,
        collected_by=request.user,
        back_url=reverse("intake:patient_chart", args=[patient.pk]),
        template="intake/clinical/outcome_surveys/counter.html",
        show_answers=request.user.role in (Role.PRACTITIONER, Role.MANAGER),
    )


# --- Practitioners: responding to a worrying after-care answer --------------------------------


@access.clinical_staff_required
@require_POST
def respond_to_worry_page(request, pk: int):
    answers = OutcomeSurvey.objects.select_related("patient").filter(
        patient__in=access.visible_patients(request.user)
    )
    checkin = access.get_or_404(answers, "No such answer among your patients'.", pk=pk)
    try:
        surveys.respond_to_worry(
            checkin=checkin, by=request.user, note=request.POST.get("note", "")
        )
    except surveys.SurveyError as refused:
        messages.error(request, refused.message)
    else:
        log_access(request, checkin, AccessLog.Action.CHANGE)
        messages.success(request, f"Recorded: you responded to {checkin.patient.full_name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("clinic:home")
    return redirect(target)
