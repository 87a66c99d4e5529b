"""Pages of the intake questionnaire and consent, for patients and for staff.

Patients fill in their own questionnaire under /intake/me/; staff fill one in on a patient's
behalf (for example on the phone) under /intake/patients/<id>/, through the same code. Every
page that shows answers records the access in the health-information access log.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from clinic import access
from clinic.audit import record_access, record_listing
from clinic.models import AccessLog, Patient
from clinic.params import positive_whole_number
from intake.access import answer_readers_required, get_visible_intake, sees_answers
from intake.questionnaire import selectors, services
from intake.questionnaire.consent_forms import ConsentForm, StaffSubmitForm
from intake.questionnaire.forms import STEP_FORMS, IntakeListFilterForm, incomplete_steps
from intake.questionnaire.models import ConsentVersion, Intake
from intake.questionnaire.questions import QUESTION_STEPS, STEPS, STEPS_BY_SLUG
from intake.view_helpers import GET_OR_POST, log_access, seen_revision
from intake.zones import patient_zone


@dataclass(frozen=True)
class Filling:
    """Whose questionnaire a page is about, and whether staff fill it in on their behalf
    (then the page's URLs carry the patient's id)."""

    patient: Patient
    on_behalf: bool

    def url(self, name: str, **kwargs) -> str:
        if self.on_behalf:
            kwargs["patient_pk"] = self.patient.pk
            return reverse(f"intake:staff_{name}", kwargs=kwargs)
        return reverse(f"intake:{name}", kwargs=kwargs)

    def step_url(self, slug: str) -> str:
        if slug == "review":
            return self.url("review")
        return self.url("step", step=slug)

    @property
    def home_url(self) -> str:
        if self.on_behalf:
            return reverse("intake:patient_chart", args=[self.patient.pk])
        return reverse("intake:my_intake")


def _own(request: HttpRequest) -> Filling:
    return Filling(access.own_patient_record(request.user), on_behalf=False)


def _on_behalf(request: HttpRequest, patient_pk: int) -> Filling:
    return Filling(access.get_visible_patient(request.user, patient_pk), on_behalf=True)


def _own_and_on_behalf(view: Callable[..., HttpResponse], allowed_methods: Callable):
    """A page of the questionnaire twice: the patient's own, and staff filling it in on a
    patient's behalf (its address carries `patient_pk`). `view` takes the `Filling` and the
    rest of the address's arguments."""

    @access.patient_required
    @allowed_methods
    def own(request, **kwargs):
        return view(request, _own(request), **kwargs)

    @access.staff_required
    @allowed_methods
    def on_behalf(request, patient_pk: int, **kwargs):
        return view(request, _on_behalf(request, patient_pk), **kwargs)

    return own, on_behalf


# --- What the front desk sees of a questionnaire they fill in by phone --------------------------

# The steps of each draft the front desk typed in this sitting (their login session), each
# with the revision their save gave it: {intake id: {step: revision}}.
SITTING_KEY = "intake_typed_this_sitting"
# Contact details are on the patient's record, which the front desk sees anyway.
CONTACT_FIELDS = ("phone", "email", "emergency_contact_name", "emergency_contact_phone")


def _typed_this_sitting(request: HttpRequest, intake: Intake) -> set[str]:
    """The steps whose answers are still the ones the desk typed: a step saved since (the
    patient, online) holds the patient's answers again."""
    typed = request.session.get(SITTING_KEY, {}).get(str(intake.pk), {})
    if not isinstance(typed, dict):  # a sitting begun before revisions were kept
        return set()
    return {slug for slug, at in typed.items() if intake.step_revisions.get(slug) == at}


def _remember_typed(request: HttpRequest, intake: Intake, slug: str) -> None:
    if sees_answers(request.user):
        return
    sitting = request.session.get(SITTING_KEY, {})
    typed = sitting.get(str(intake.pk))
    typed = typed if isinstance(typed, dict) else {}
    sitting[str(intake.pk)] = {**typed, slug: intake.step_revisions[slug]}
    request.session[SITTING_KEY] = sitting


def _as_seen(request: HttpRequest, intake: Intake) -> tuple[Intake, list]:
    """The draft as `request.user` may see it, and the answered steps hidden from them.

    The patient and clinicians see every answer. The front desk, filling the questionnaire
    in by phone, sees only the steps they typed in this sitting and nobody has saved since:
    answers the patient gave online, before or after, or those of the submission a correction
    starts from, are left out (minimum necessary). An unsaved copy is shown; the draft itself is never changed by this."""
    if sees_answers(request.user):
        return intake, []
    typed = _typed_this_sitting(request, intake)
    shown = copy.copy(intake)
    hidden = []
    for step in QUESTION_STEPS:
        if step.slug in typed:
            continue
        if step.slug in intake.steps_done or step.slug in intake.step_revisions:
            hidden.append(step)
        for name in step.fields:
            field = Intake._meta.get_field(name)
            if name in CONTACT_FIELDS:
                value = getattr(intake.patient, name)
            elif name == "preferred_location":
                value = intake.patient.preferred_location
            else:
                value = None if field.is_relation else field.get_default()
            setattr(shown, field.name, value)
    return shown, hidden


# --- The patient's own questionnaire ---------------------------------------------------------


@access.patient_required
@require_safe
def my_intake(request):
    patient = access.own_patient_record(request.user)
    intakes = list(patient.intakes.order_by("-created_at"))
    draft = next((i for i in intakes if i.is_draft), None)
    current = next((i for i in intakes if i.status == Intake.Status.SUBMITTED), None)
    if current:
        log_access(request, current)
    consents = selectors.consent_statuses(patient)
    return render(
        request,
        "intake/questionnaire/my_intake.html",
        {
            "patient": patient,
            "draft": draft,
            "resume": selectors.resume_step(draft) if draft else None,
            "current": current,
            "history": [i for i in intakes if i.status == Intake.Status.SUPERSEDED],
            "consents": consents,
            "consent_needed": any(not status.signed for status in consents),
            "steps": STEPS,
        },
    )


def _start(request: HttpRequest, filling: Filling) -> HttpResponse:
    intake = services.start_intake(patient=filling.patient, by=request.user)
    return redirect(filling.step_url(selectors.resume_step(intake).slug))


start, staff_start = _own_and_on_behalf(_start, require_POST)


def _no_draft(request: HttpRequest, filling: Filling) -> HttpResponse:
    """A page of the draft was asked for, but there is no draft (it was submitted in another
    tab, or none was started)."""
    current = Intake.objects.current_submissions().filter(patient=filling.patient).first()
    if current is not None:
        submitted = timezone.localtime(current.submitted_at, patient_zone(filling.patient))
        messages.info(
            request,
            f"This questionnaire was submitted on {submitted:%-d %B %Y}; submitted "
            "answers are not changed. To correct something, start a correction.",
        )
        if not sees_answers(request.user):
            return redirect(filling.home_url)
        return redirect("intake:intake_detail", pk=current.pk)
    messages.info(request, "Start the questionnaire first.")
    return redirect(filling.home_url)


def _step(request: HttpRequest, filling: Filling, step: str) -> HttpResponse:
    if step == "review":
        return redirect(filling.url("review"))
    form_class = STEP_FORMS.get(step)
    if form_class is None:
        raise Http404("No such step.")
    draft = Intake.objects.drafts().filter(patient=filling.patient).first()
    if draft is None:
        return _no_draft(request, filling)
    kwargs = {"patient": filling.patient}
    status = 200
    # The page carries the revision its answers come from; a page shown again with errors
    # keeps the one it was opened at, so it still cannot overwrite newer answers.
    revision = draft.revision
    if request.method == "POST":
        revision = seen_revision(request)
        action = request.POST.get("action", "next")
        complete = action == "next"
        form = form_class(request.POST, instance=draft, complete=complete, **kwargs)
        saved_partly = False
        if not form.is_valid() and complete:
            # Keep what is answered and valid, then ask for the rest.
            partial = form_class(request.POST, instance=draft, complete=False, **kwargs)
            if partial.is_valid():
                form, saved_partly = partial, True
                form.is_valid()
        if form.is_valid():
            try:
                draft = services.save_intake_step(
                    intake=draft,
                    step=form.step,
                    answers=form.answers(),
                    seen_revision=revision,
                    complete=complete and not saved_partly,
                )
            except services.AlreadySubmitted:
                return _no_draft(request, filling)
            except services.ChangedElsewhere as conflict:
                messages.warning(request, conflict.message)
                draft = conflict.intake
                revision = draft.revision
                form = form_class(instance=_as_seen(request, draft)[0], **kwargs)
                status = 409
            else:
                revision = draft.revision
                _remember_typed(request, draft, step)
                log_access(request, draft, AccessLog.Action.CHANGE)
                if saved_partly:
                    messages.warning(
                        request,
                        "Your answers so far are saved. Please answer the questions marked "
                        "below to go on.",
                    )
                    form = form_class(request.POST, instance=draft, complete=True, **kwargs)
                    form.is_valid()
                elif action == "save":
                    messages.success(
                        request,
                        "Your answers are saved. You can close this page: next time, you "
                        "pick up where you left off, on any device.",
                    )
                    return redirect(filling.home_url)
                else:
                    index = [s.slug for s in STEPS].index(step)
                    target = STEPS[index - 1] if action == "back" and index else STEPS[index + 1]
                    return redirect(filling.step_url(target.slug))
    else:
        form = form_class(instance=_as_seen(request, draft)[0], **kwargs)
    log_access(request, draft)
    hidden = _as_seen(request, draft)[1]
    return render(
        request,
        "intake/questionnaire/step.html",
        {
            "form": form,
            "intake": draft,
            "answered_earlier": form.step in hidden,
            "revision": revision,
            "patient": filling.patient,
            "patient_age": draft.age,
            "filling": filling,
            "step": form.step,
            "progress": _progress(filling, draft, form.step.slug),
        },
        status=status,
    )


step, staff_step = _own_and_on_behalf(_step, GET_OR_POST)


def _progress(filling: Filling, intake: Intake, current: str) -> list[dict]:
    return [
        {
            "step": s,
            "url": filling.step_url(s.slug),
            "done": s.slug in intake.steps_done,
            "current": s.slug == current,
        }
        for s in STEPS
    ]


def _review(request: HttpRequest, filling: Filling) -> HttpResponse:
    draft = (
        Intake.objects.drafts()
        .filter(patient=filling.patient)
        .select_related("patient", "preferred_location")
        .first()
    )
    if draft is None:
        return _no_draft(request, filling)
    versions = list(ConsentVersion.objects.current())
    data = request.POST if request.method == "POST" else None
    if filling.on_behalf:
        form = StaffSubmitForm(data)
    else:
        form = ConsentForm(data, patient=filling.patient, versions=versions)
    missing = [STEPS_BY_SLUG[slug] for slug in incomplete_steps(draft)]
    status = 200
    revision = draft.revision if request.method != "POST" else seen_revision(request)
    if request.method == "POST":
        if missing:
            messages.error(
                request, f"Please complete “{missing[0].title}” before you submit the form."
            )
            return redirect(filling.step_url(missing[0].slug))
        if form.is_valid():
            try:
                submitted = services.submit_intake(
                    intake=draft,
                    by=request.user,
                    seen_revision=revision,
                    consent_version_ids=form.cleaned_data.get("consent_versions", ()),
                    signed_name=form.cleaned_data.get("signed_name", ""),
                    read_back_to_patient=form.cleaned_data.get("read_back_to_patient", False),
                )
            except services.AlreadySubmitted:
                return _no_draft(request, filling)
            except services.ConsentChanged as problem:
                messages.warning(request, problem.message)
                form = ConsentForm(patient=filling.patient, versions=versions)
                status = 409
            except services.ChangedElsewhere as problem:
                messages.warning(request, problem.message)
                draft = problem.intake
                revision = draft.revision
                status = 409
            except services.IntakeError as problem:
                form.add_error(None, problem.message)
            else:
                log_access(request, submitted, AccessLog.Action.CREATE)
                messages.success(
                    request,
                    "Thank you: the questionnaire is submitted. Your practitioner will read it "
                    "before your assessment.",
                )
                if not sees_answers(request.user):
                    request.session.get(SITTING_KEY, {}).pop(str(submitted.pk), None)
                    request.session.modified = True
                    return redirect(filling.home_url)
                return redirect("intake:intake_detail", pk=submitted.pk)
    log_access(request, draft)
    shown, hidden = _as_seen(request, draft)
    return render(
        request,
        "intake/questionnaire/review.html",
        {
            "form": form,
            "intake": shown,
            "answered_earlier": hidden,
            "revision": revision,
            "patient": filling.patient,
            "filling": filling,
            "no_consent_published": services.ConsentNotPublished.message if not versions else "",
            "missing": missing,
            "versions": versions,
            "step": STEPS[-1],
            "progress": _progress(filling, draft, "review"),
        },
        status=status,
    )


review, staff_review = _own_and_on_behalf(_review, GET_OR_POST)


# --- Reading a questionnaire -----------------------------------------------------------------


@answer_readers_required
@require_safe
def intake_detail(request, pk: int):
    intake = get_visible_intake(request.user, pk)
    log_access(request, intake)
    others = (
        intake.patient.intakes.exclude(pk=intake.pk)
        .exclude(status=Intake.Status.DRAFT)
        .order_by("-submitted_at")
    )
    return render(
        request,
        "intake/questionnaire/intake_detail.html",
        {
            "intake": intake,
            "patient": intake.patient,
            "others": others,
            "signatures": intake.consent_signatures.select_related("version__document"),
            "is_staff_view": not request.user.is_patient,
        },
    )


# --- Consent ---------------------------------------------------------------------------------


@access.patient_required
@GET_OR_POST
def consent(request):
    patient = access.own_patient_record(request.user)
    return _consent(
        request, patient, collected_by=None, template="intake/questionnaire/consent.html"
    )


@access.staff_required
@GET_OR_POST
def counter_consent(request, patient_pk: int):
    """The front desk hands a tablet to the patient at the counter to sign the current
    consent; the signature records who collected it. Opened from a check-in refused for want
    of consent (`?appointment=<id>`, one of this patient's), it leads back to that
    appointment's page; else to the patient's chart."""
    patient = access.get_visible_patient(request.user, patient_pk)
    back_to_appointment = selectors.appointment_page(
        patient.pk, positive_whole_number(request.GET.get("appointment"))
    )
    return _consent(
        request,
        patient,
        collected_by=request.user,
        template="intake/questionnaire/counter_consent.html",
        extra={"back_to_appointment": back_to_appointment},
    )


def _consent(
    request, patient: Patient, *, collected_by, template: str, extra: dict | None = None
) -> HttpResponse:
    versions = list(ConsentVersion.objects.current())
    statuses = selectors.consent_statuses(patient)
    form = ConsentForm(
        request.POST if request.method == "POST" else None, patient=patient, versions=versions
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            signatures = services.sign_consent(
                patient=patient,
                consent_version_ids=form.cleaned_data["consent_versions"],
                signed_name=form.cleaned_data["signed_name"],
                collected_by=collected_by,
            )
        except services.ConsentChanged as problem:
            messages.warning(request, problem.message)
            form = ConsentForm(patient=patient, versions=versions)
            status = 409
        except services.IntakeError as problem:
            # Nothing published to sign: said on the page, nothing recorded.
            form.add_error(None, problem.message)
            status = 409
        else:
            if signatures:
                record_access(
                    actor=request.user,
                    patient=patient,
                    record_type="intake.consentsignature",
                    action=AccessLog.Action.CREATE,
                    request=request,
                )
            messages.success(
                request,
                "Thank you, the consent is signed."
                + (" Please hand the tablet back to the front desk." if collected_by else ""),
            )
            # The query (the appointment to return to) is kept; the path is this page's own.
            return redirect(request.get_full_path())
    if collected_by is not None:  # staff at the counter: the page shows the patient's consents
        record_access(
            actor=request.user,
            patient=patient,
            record_type="intake.consentsignature",
            request=request,
        )
    return render(
        request,
        template,
        {
            "patient": patient,
            "form": form,
            "versions": versions,
            "statuses": statuses,
            # With nothing published there is nothing signed either.
            "all_signed": bool(statuses) and all(s.signed for s in statuses),
            "no_consent_published": "" if versions else services.ConsentNotPublished.message,
            **(extra or {}),
        },
        status=status,
    )


# --- The staff's list of intakes -------------------------------------------------------------


@access.staff_required
@GET_OR_POST
def intake_list(request):
    """Patients at the user's locations (or one of them), by the state of their intake.

    A name to look for is posted, never put in the address (logs, browser history); the
    tabs and pages carry only the location and the tab."""
    locations = access.visible_locations(request.user)
    form = IntakeListFilterForm(
        request.POST if request.method == "POST" else request.GET, locations=locations
    )
    form.is_valid()  # a damaged parameter falls back to its default
    location = form.cleaned_data.get("location")
    chosen = locations.filter(pk=location.pk) if location else locations
    show = form.cleaned_data.get("show") or "review"
    query = form.cleaned_data.get("q", "")
    upcoming = selectors.upcoming_assessments(chosen)
    counts = selectors.intake_counts(chosen, query=query, upcoming=upcoming)
    patients = selectors.intake_list_queryset(chosen, show, query=query, upcoming=upcoming)
    page = Paginator(patients, 50).get_page(form.data.get("page"))
    states = selectors.intake_states(p.pk for p in page)
    rows = [(patient, states[patient.pk], (upcoming or {}).get(patient.pk)) for patient in page]
    # The front desk sees the flag alone; the screening reasons are answers.
    reasons_shown = sees_answers(request.user)
    listed = []
    for patient, state, _ in rows:
        if reasons_shown and state.overview.flag_reasons:  # screening answers: an access
            record_access(
                actor=request.user, patient=patient, record=state.submission, request=request
            )
        else:  # the questionnaire's state alone: a list row (in one statement for the page)
            listed.append(patient.pk)
    record_listing(request=request, patient_ids=listed, record_type="intake.intake")
    return render(
        request,
        "intake/questionnaire/intake_list.html",
        {
            "locations": locations,
            "location": location,
            "show": show,
            "query": query,
            "rows": rows,
            "page": page,
            "upcoming": upcoming,
            "tabs": [(key, label, counts[key]) for key, label in IntakeListFilterForm.SHOW_CHOICES],
            "steps_total": len(STEPS),
            "sees_answers": reasons_shown,
        },
    )
