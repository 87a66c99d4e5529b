"""The intake questionnaire as a FHIR Questionnaire, generated from the app's own definition
(the steps of `intake.questionnaire.questions` and the wording on the `Intake` model's fields),
with a version that changes whenever the definition does; and submitted questionnaires as
QuestionnaireResponses.

Answers are clinical content (the safety screening among them): they need the
`system/QuestionnaireResponse.read` scope, and every read is in the access log."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json

from django.db import models

from booking.api.http import (
    Caller,
    instant,
    invalid,
    not_found,
    page_of,
    page_rows,
    pk_of,
    read_endpoint,
    reference,
    search_params,
    searchset,
    visible_one,
    with_ids,
    within_time_range,
)
from booking.api.resources.patients import visible_patients
from clinic.audit import record_label
from intake.questionnaire.models import Intake
from intake.questionnaire.questions import QUESTION_STEPS

QUESTIONNAIRE_ID = "intake"
ANSWER_SYSTEM = "urn:heelclinic:intake"


# A model field's FHIR item type, the first that fits (a field with choices is a "choice"
# whatever its class).
ITEM_TYPES = (
    (models.BooleanField, "boolean"),
    (models.ForeignKey, "reference"),
    (models.DecimalField, "decimal"),
    (models.IntegerField, "integer"),
    (models.DateField, "date"),
    (models.TextField, "text"),
)


def _item_type(field: models.Field) -> str:
    if field.choices:
        return "choice"
    for field_class, item_type in ITEM_TYPES:
        if isinstance(field, field_class):
            return item_type
    return "string"


def _question(name: str) -> dict:
    field = Intake._meta.get_field(name)
    item = {"linkId": name, "text": str(field.verbose_name), "type": _item_type(field)}
    if field.choices:
        item["answerOption"] = [
            {
                "valueCoding": {
                    "system": f"{ANSWER_SYSTEM}/{name}",
                    "code": code,
                    "display": str(label),
                }
            }
            for code, label in field.flatchoices
            if code not in ("", None)
        ]
    max_length = getattr(field, "max_length", None)
    if max_length and item["type"] in ("string", "text"):
        item["maxLength"] = max_length
    return item


@functools.cache
def questionnaire_items() -> tuple[list[dict], str]:
    """The items, one group a step, and the version: the first 12 hex digits of the
    definition's hash, so that any change of a question, an answer or a step is a new version."""
    items = [
        {
            "linkId": step.slug,
            "text": step.title,
            "type": "group",
            "item": [_question(name) for name in step.fields],
        }
        for step in QUESTION_STEPS
    ]
    digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:12]
    return items, digest


def questionnaire_resource(base: str) -> dict:
    items, version = questionnaire_items()
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": f"{base}/Questionnaire/{QUESTIONNAIRE_ID}",
        "version": version,
        "name": "HeelPainIntake",
        "title": "Heel pain intake questionnaire",
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


@read_endpoint("Questionnaire")
def questionnaire_read(caller: Caller, request, questionnaire_id: str):
    if questionnaire_id != QUESTIONNAIRE_ID:
        raise not_found("Questionnaire", questionnaire_id)
    return questionnaire_resource(caller.base())


@read_endpoint("Questionnaire")
def questionnaire_search(caller: Caller, request):
    params = search_params(request, ["_id", "url", "version"])
    page = page_of(request)
    resource = questionnaire_resource(caller.base())
    matches = (
        all(v == QUESTIONNAIRE_ID for v in params.get("_id", []))
        and all(v == resource["url"] for v in params.get("url", []))
        and all(v == resource["version"] for v in params.get("version", []))
    )
    found = [(f"Questionnaire/{QUESTIONNAIRE_ID}", resource)] if matches else []
    return searchset(caller, found[page.offset : page.end], total=len(found), page=page)


# --- QuestionnaireResponse: a submitted questionnaire --------------------------------------------


def _answer(intake: Intake, name: str) -> dict | None:
    field = Intake._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        pk = getattr(intake, field.attname)
        return None if pk is None else {"valueReference": reference("Location", pk)}
    value = getattr(intake, name)
    if value is None or value == "":
        return None
    if field.choices:
        return {
            "valueCoding": {
                "system": f"{ANSWER_SYSTEM}/{name}",
                "code": str(value),
                "display": str(dict(field.flatchoices).get(value, value)),
            }
        }
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, decimal.Decimal):
        return {"valueDecimal": float(value)}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, dt.date):
        return {"valueDate": value.isoformat()}
    return {"valueString": str(value)}


def questionnaire_response_resource(intake: Intake, base: str) -> dict:
    _, version = questionnaire_items()
    groups = []
    for step in QUESTION_STEPS:
        answered = []
        for name in step.fields:
            answer = _answer(intake, name)
            if answer is not None:
                answered.append({"linkId": name, "answer": [answer]})
        if answered:
            groups.append({"linkId": step.slug, "item": answered})
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(intake.pk),
        "questionnaire": f"{base}/Questionnaire/{QUESTIONNAIRE_ID}|{version}",
        "status": "completed",
        "subject": reference("Patient", intake.patient_id),
        "item": groups,
    }
    if intake.submitted_at:
        resource["authored"] = instant(intake.submitted_at)
    return resource


def visible_submissions(caller: Caller):
    return Intake.objects.current_submissions().filter(patient__in=visible_patients(caller))


@read_endpoint("QuestionnaireResponse")
def questionnaire_response_read(caller: Caller, request, pk: int):
    submissions = visible_submissions(caller).select_related("patient")
    intake = visible_one(submissions, "QuestionnaireResponse", pk)
    caller.log(intake.patient, intake)
    return questionnaire_response_resource(intake, caller.base())


@read_endpoint("QuestionnaireResponse")
def questionnaire_response_search(caller: Caller, request):
    params = search_params(request, ["_id", "patient", "subject", "authored", "status"])
    page = page_of(request)
    intakes = with_ids(
        visible_submissions(caller).order_by("-submitted_at", "-pk"),
        params,
        "QuestionnaireResponse",
    )
    for value in params.get("patient", []) + params.get("subject", []):
        intakes = intakes.filter(patient_id=pk_of(value, "Patient"))
    for value in params.get("status", []):
        if value != "completed":
            raise invalid("Only submitted questionnaires are published: status=completed.")
    intakes = within_time_range(intakes, "submitted_at", params.get("authored", []), "authored")
    total, rows = page_rows(intakes, page)
    caller.log_list((i.patient_id for i in rows), record_label(Intake))
    base = caller.base()
    entries = [
        (f"QuestionnaireResponse/{i.pk}", questionnaire_response_resource(i, base)) for i in rows
    ]
    return searchset(caller, entries, total=total, page=page)
