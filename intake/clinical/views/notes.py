"""Pages of the clinical notes: start, write (with autosave), sign, amend, read, discard.

Assessment notes and treatment-session notes go through the same views, told apart by the
`NoteKind` their URL passes (`intake.urls` lists each kind's pages). Only practitioners write notes and only a note's author edits, signs or discards
it; practitioners and managers read notes of patients they may see. Every page that shows a
note records the access.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_POST, require_safe

from clinic import access, security
from clinic.audit import record_access, record_label
from clinic.models import AccessLog, Patient, Practitioner, Role
from clinic.params import positive_whole_number, slug
from intake.clinical import services
from intake.clinical.forms.notes import (
    AssessmentForm,
    NoteForm,
    SessionNoteForm,
    SignForm,
    amendment_form,
)
from intake.clinical.models import AssessmentNote, SessionNote, SignedNote, jsonable
from intake.clinical.selectors import (
    CourseInCalendar,
    course_gate,
    course_in_calendar,
    sessions_to_note,
)
from intake.questionnaire.selectors import waits_for_review
from intake.view_helpers import GET_OR_POST, log_access, seen_revision
from intake.zones import patient_zone

practitioner_required = access.role_required(Role.PRACTITIONER)


@dataclass(frozen=True)
class NoteKind:
    model: type[SignedNote]
    form: type[NoteForm]
    name: str  # the prefix of its URL names
    title: str

    def url(self, action: str, note: SignedNote) -> str:
        return reverse(f"intake:{self.name}_{action}", args=[note.pk])


ASSESSMENT = NoteKind(AssessmentNote, AssessmentForm, "assessment", "Assessment note")
SESSION = NoteKind(SessionNote, SessionNoteForm, "session_note", "Session note")


def _get_note(request: HttpRequest, kind: NoteKind, pk: int) -> SignedNote:
    """A note of a patient the user may see; 404 otherwise."""
    related = ["patient__preferred_location", "author__user", "location"]
    if kind is SESSION:
        related.append("assessment")
    notes = kind.model.objects.select_related(*related).filter(
        patient__in=access.visible_patients(request.user)
    )
    return access.get_or_404(notes, "No such note among your patients.", pk=pk)


def _author_only(note: SignedNote, practitioner: Practitioner, doing: str) -> None:
    if note.author_id != practitioner.pk:
        raise PermissionDenied(f"Only the note's author, {note.author.name}, can {doing} it.")


def _zone(note: SignedNote):
    """Times of a note are shown and typed in its location's time zone."""
    return patient_zone(note.patient, note.location)


def _note_page(
    request: HttpRequest, page: str, kind: NoteKind, note: SignedNote, *, status=200, **context
) -> HttpResponse:
    """A page showing a note (`intake/clinical/notes/<page>`), its reading recorded, its times
    in its location's time zone."""
    log_access(request, note)
    with timezone.override(_zone(note)):
        return render(
            request,
            f"intake/clinical/notes/{page}",
            {"kind": kind, "note": note, "patient": note.patient, **context},
            status=status,
        )


def _form(kind: NoteKind, request: HttpRequest, note: SignedNote, data=None, *, amend=False):
    form_class = amendment_form(kind.form) if amend else kind.form
    kwargs = {
        "instance": note.current() if amend else note,
        "locations": access.visible_locations(request.user),
    }
    if kind is ASSESSMENT:
        kwargs["flags"] = services.current_flags(note.patient)
        # Answered again since the note was signed: its acknowledgements read other answers,
        # so an amendment ticks them again knowingly (it is the review of the new ones).
        kwargs["answered_again"] = amend and waits_for_review(note.patient)
    return form_class(data, **kwargs)


# --- Starting a note -------------------------------------------------------------------------


@practitioner_required
@GET_OR_POST
def start(request: HttpRequest, kind: NoteKind, patient_pk: int) -> HttpResponse:
    """GET shows what will be started (and the practitioner's drafts to resume); POST starts
    or resumes. `?appointment=<id>&session=<n>` come from the booking app's pages."""
    patient = access.get_visible_patient(request.user, patient_pk)
    author = access.own_practitioner_record(request.user)

    def given(name: str):
        return request.POST.get(name) or request.GET.get(name)

    appointment_id = positive_whole_number(given("appointment"))
    if request.method == "POST":
        try:
            if kind is ASSESSMENT:
                note = services.start_assessment(
                    patient=patient,
                    author=author,
                    appointment_id=appointment_id,
                    location=_location(request, given("location")),
                )
            else:
                note = services.start_session_note(
                    patient=patient,
                    author=author,
                    appointment_id=appointment_id,
                    location=_location(request, given("location")),
                )
        except services.NoteError as problem:
            messages.error(request, problem.message)
            return redirect("intake:patient_chart", patient_pk=patient.pk)
        log_access(request, note, AccessLog.Action.CREATE)
        return redirect(kind.url("edit", note))
    drafts = kind.model.objects.filter(patient=patient, author=author, signed_at__isnull=True)
    context = {
        "kind": kind,
        "patient": patient,
        "drafts": drafts,
        "appointment_id": appointment_id,
        "locations": access.visible_locations(request.user),
    }
    if kind is SESSION:
        context |= _session_to_start(patient, appointment_id)
    visit = context.get("visit")
    context["certified"] = services.certified_today(
        author, patient, visit.location if visit else None
    )
    return render(request, "intake/clinical/notes/start.html", context)


def _session_to_start(patient: Patient, appointment_id: int | None) -> dict:
    """What the start page shows for a session note: the session of the appointment it is
    started from (and why not yet, before it starts), or the booked sessions to start from."""
    gate = course_gate(patient)
    course = (
        course_in_calendar(patient.pk, gate.prescription.assessment_id)
        if gate.prescription
        else None
    )
    sessions = sessions_to_note(patient, course)
    visit = next((v for v in sessions if v.appointment_id == appointment_id), None)
    now = timezone.now()
    not_yet = ""
    if visit is not None and now < visit.starts_at:
        not_yet = (
            f"Session {visit.session_number} starts {services.when_session_starts(visit)}: "
            "its note can be written from then."
        )
    return {
        "gate": gate,
        "course": course,
        "visit": visit,
        "visit_when": services.when_session_starts(visit) if visit else "",
        "not_yet": not_yet,
        "sessions": [(v, services.when_session_starts(v), v.starts_at <= now) for v in sessions],
    }


def _location(request: HttpRequest, given: str | None):
    named = slug(given)
    return access.visible_locations(request.user).filter(slug=named).first() if named else None


# --- Writing a draft -------------------------------------------------------------------------


@practitioner_required
@GET_OR_POST
def edit(request: HttpRequest, kind: NoteKind, pk: int) -> HttpResponse:
    note = _get_note(request, kind, pk)
    author = access.own_practitioner_record(request.user)
    autosave = request.headers.get("X-Autosave") == "1"
    if note.is_signed:
        message = services.NoteLocked.message
        if autosave:
            return JsonResponse({"error": message}, status=409)
        if request.method == "POST":
            messages.error(request, f"Not saved. {message}")
        return redirect(kind.url("detail", note))
    if autosave and note.author_id != author.pk:
        return JsonResponse({"error": "Only the note's author can change it."}, status=403)
    _author_only(note, author, "change")

    with timezone.override(_zone(note)):
        status, revision, differences = 200, note.revision, []
        if request.method == "POST":
            revision = seen_revision(request)
            form = _form(kind, request, note, request.POST)
            if not form.is_valid():
                if autosave:
                    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
            else:
                try:
                    note = services.save_note_draft(
                        note=note, author=author, content=form.content(), seen_revision=revision
                    )
                except services.NoteChangedElsewhere as conflict:
                    if autosave:
                        return JsonResponse({"error": conflict.message}, status=409)
                    messages.warning(request, conflict.message)
                    differences = _differences(form, conflict.note)
                    # Saving this page again now replaces the other version, knowingly.
                    revision, status = conflict.note.revision, 409
                except services.NoteError as refused:
                    if autosave:
                        return JsonResponse({"error": refused.message}, status=409)
                    messages.error(request, refused.message)
                    return redirect(kind.url("detail", note))
                else:
                    log_access(request, note, AccessLog.Action.CHANGE)
                    saved_at = timezone.localtime(note.updated_at)
                    if autosave:
                        return JsonResponse(
                            {
                                "revision": note.revision,
                                "saved_at": dateformat.format(saved_at, "g:i:s A"),
                            }
                        )
                    if request.POST.get("action") == "sign":
                        return redirect(kind.url("sign", note))
                    messages.success(
                        request, f"Draft saved at {dateformat.format(saved_at, 'g:i A')}."
                    )
                    return redirect(kind.url("edit", note))
        else:
            form = _form(kind, request, note)
        return _note_page(
            request,
            "edit.html",
            kind,
            note,
            status=status,
            form=form,
            revision=revision,
            differences=differences,
        )


def _differences(form: NoteForm, saved: SignedNote) -> list[str]:
    """Labels of the fields where this page's version and the saved one differ."""
    mine = form.content()
    theirs = saved.content()
    return [
        capfirst(saved._meta.get_field(name).verbose_name)
        for name in saved.CLINICAL_FIELDS
        if name in mine and jsonable(mine[name]) != theirs[name]
    ]


# --- Signing ---------------------------------------------------------------------------------


def _count_the_password(request: HttpRequest, password: str, note, done: str) -> None:
    """Wrong passwords at signing count as failed logins (django-axes), so a stolen session
    cannot be used to guess the password; a locked account cannot sign."""
    outcome = security.password_check(request, password)
    if outcome == "locked":
        raise services.WrongPassword(
            f"Too many wrong passwords: your account is locked for a while. Nothing was {done}.",
            note=note,
        )
    if outcome == "wrong":
        raise services.WrongPassword(f"That is not your password. Nothing was {done}.", note=note)


@practitioner_required
@GET_OR_POST
def sign(request: HttpRequest, kind: NoteKind, pk: int) -> HttpResponse:
    note = _get_note(request, kind, pk)
    author = access.own_practitioner_record(request.user)
    if note.is_signed:
        messages.info(request, "This note is already signed.")
        return redirect(kind.url("detail", note))
    _author_only(note, author, "sign")
    form = SignForm(request.POST if request.method == "POST" else None)
    revision = note.revision if request.method != "POST" else seen_revision(request)
    problems = services.signing_problems(note)
    if request.method == "POST" and form.is_valid():
        try:
            _count_the_password(request, form.cleaned_data["password"], note, "signed")
            note = services.sign_note(
                note=note,
                author=author,
                password=form.cleaned_data["password"],
                seen_revision=revision,
            )
        except services.WrongPassword as refused:
            form.add_error("password", refused.message)
        except services.NoteIncomplete as refused:
            problems = refused.problems
        except services.NoteChangedElsewhere as refused:
            messages.warning(request, refused.message)
            note, revision = refused.note, refused.note.revision
        else:
            log_access(request, note, AccessLog.Action.SIGN)
            messages.success(request, f"Signed and locked. Fingerprint {note.fingerprint[:16]}…")
            return redirect(kind.url("detail", note))
    return _note_page(
        request,
        "sign.html",
        kind,
        note,
        shown=note,
        form=form,
        problems=problems,
        revision=revision,
    )


# --- Amending --------------------------------------------------------------------------------


@practitioner_required
@GET_OR_POST
def amend(request: HttpRequest, kind: NoteKind, pk: int) -> HttpResponse:
    note = _get_note(request, kind, pk)
    author = access.own_practitioner_record(request.user)
    if not note.is_signed:
        messages.info(request, "This note is still a draft: change it directly.")
        return redirect(kind.url("detail", note))
    # The page carries how many amendments it was opened at (its "revision").
    status = 200
    revision = note.amendments.count() if request.method != "POST" else seen_revision(request)
    with timezone.override(_zone(note)):
        form = _form(
            kind, request, note, request.POST if request.method == "POST" else None, amend=True
        )
        if request.method == "POST" and form.is_valid():
            try:
                _count_the_password(request, form.cleaned_data["password"], note, "amended")
                amendment = services.amend_note(
                    note=note,
                    author=author,
                    password=form.cleaned_data["password"],
                    reason=form.cleaned_data["reason"],
                    addendum=form.cleaned_data["addendum"],
                    content=form.content(),
                    seen_amendments=seen_revision(request),
                )
            except services.WrongPassword as refused:
                form.add_error("password", refused.message)
            except services.NoteChangedElsewhere as refused:
                # The form again from the note as it stands; the reason typed is kept.
                messages.warning(request, refused.message)
                kept = {name: form.cleaned_data[name] for name in ("reason", "addendum")}
                form = _form(kind, request, refused.note, amend=True)
                form.initial.update(kept)
                status, revision = 409, refused.note.amendments.count()
            except services.NoteError as refused:
                form.add_error(None, refused.message)
                for field, message in refused.problems.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                log_access(request, note, AccessLog.Action.CHANGE)
                messages.success(request, f"Amendment {amendment.number} signed and added.")
                return redirect(kind.url("detail", note))
        return _note_page(
            request, "amend.html", kind, note, status=status, form=form, revision=revision
        )


# --- Reading and discarding ------------------------------------------------------------------


@access.clinical_staff_required
@require_safe
def detail(request: HttpRequest, kind: NoteKind, pk: int) -> HttpResponse:
    note = _get_note(request, kind, pk)
    amendments = list(note.amendments.select_related("author__user").order_by("number"))
    course, bookable = _course_of(note) if kind is ASSESSMENT else (None, False)
    return _note_page(
        request,
        "detail.html",
        kind,
        note,
        shown=note,
        current=note.current() if amendments else None,
        amendments=amendments,
        course=course,
        bookable=bookable,
        is_author=getattr(request.user, "practitioner", None) is not None
        and note.author_id == request.user.practitioner.pk,
    )


def _course_of(note: SignedNote) -> tuple[CourseInCalendar | None, bool]:
    """The course a signed assessment prescribes, in the calendar, and whether it can be
    booked from this note now (it is the patient's latest decision, and says needling with a
    plan): the next step after signing."""
    if not note.is_signed:
        return None, False
    course = course_in_calendar(note.patient_id, note.pk)
    if course is None or course.booked:
        return course, False
    gate = course_gate(note.patient)
    return course, gate.allowed and gate.prescription.assessment_id == note.pk


@practitioner_required
@require_POST
def discard(request: HttpRequest, kind: NoteKind, pk: int) -> HttpResponse:
    note = _get_note(request, kind, pk)
    author = access.own_practitioner_record(request.user)
    patient: Patient = note.patient
    note_id = note.pk  # gone from the note once it is deleted
    try:
        services.discard_draft(note=note, author=author)
    except services.NotTheAuthor as refused:
        raise PermissionDenied(refused.message) from None
    except services.NoteError as refused:
        messages.error(request, refused.message)
        return redirect(kind.url("detail", note))
    record_access(
        actor=request.user,
        patient=patient,
        record_type=record_label(note),
        record_id=note_id,
        action=AccessLog.Action.DELETE,
        request=request,
    )
    messages.success(request, f"The draft {kind.title.lower()} was discarded.")
    return redirect("intake:patient_chart", patient_pk=patient.pk)
