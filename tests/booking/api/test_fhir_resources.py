"""What the API returns is FHIR R4 (every answer is checked against the R4B models of
`fhir.resources` by the `Api` helper): each resource's content, searches as Bundles whose
paging links honour `_count`, the CapabilityStatement, and bad input as a 400."""

from __future__ import annotations

import datetime as dt

from booking.api.resources.metadata import RESOURCES
from booking.api.resources.questionnaires import questionnaire_items
from clinic.models import Certification
from tests.booking.api.conftest import valid_fhir
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_colleague, an_appointment
from tests.intake.factories import submitted_intake


def test_the_capability_statement_lists_what_is_supported(api, clinic):
    response = api.call("GET", "/fhir/metadata", token="")
    assert response.status_code == 200
    statement = response.fhir
    assert statement["fhirVersion"] == "4.0.1"
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(listed) == set(RESOURCES)
    assert {op["name"] for op in listed["Appointment"]["operation"]} == {"find", "hold", "book"}
    # Each search parameter listed is one the search accepts.
    for kind, resource in listed.items():
        for param in resource["searchParam"]:
            if param["name"] in ("_count", "_id", "status", "active", "url", "version"):
                continue
            bad = api.get(f"/fhir/{kind}?{param['name']}=%%%")
            assert "Unknown search parameter" not in str(bad.fhir), (kind, param["name"])


def test_a_location_with_its_hours_address_and_time_zone(api, clinic):
    location = api.get(f"/fhir/Location/{clinic.location.pk}").fhir
    assert location["name"] == clinic.location.name
    assert location["address"]["city"] == clinic.location.city
    assert location["extension"][0]["valueCode"] == clinic.location.time_zone
    assert {
        "daysOfWeek": ["mon"],
        "openingTime": "08:00:00",
        "closingTime": "18:00:00",
    } in location["hoursOfOperation"]


def test_the_practitioner_carries_the_dry_needling_certification_with_its_period(api, clinic):
    certification = Certification.objects.get(practitioner=clinic.practitioner)
    practitioner = api.get(f"/fhir/Practitioner/{clinic.practitioner.pk}").fhir
    [qualification] = practitioner["qualification"]
    assert qualification["code"]["coding"][0]["code"] == "dry-needling"
    assert qualification["period"] == {
        "start": certification.valid_from.isoformat(),
        "end": certification.valid_until.isoformat(),
    }


def test_an_uncertified_practitioners_role_offers_no_dry_needling(api, clinic):
    colleague = a_colleague(clinic, certified=False)
    role = api.get(f"/fhir/PractitionerRole/{colleague.pk}-{clinic.location.pk}").fhir
    offered = {ref["reference"] for ref in role["healthcareService"]}
    assert offered == {f"HealthcareService/{clinic.assessment.pk}"}
    assert "specialty" not in role
    assert role["availableTime"][0]["availableStartTime"] == "09:00:00"
    certified = api.get(f"/fhir/PractitionerRole/{clinic.practitioner.pk}-{clinic.location.pk}")
    assert f"HealthcareService/{clinic.needling.pk}" in {
        ref["reference"] for ref in certified.fhir["healthcareService"]
    }
    [specialty] = certified.fhir["specialty"]
    certification = Certification.objects.get(practitioner=clinic.practitioner)
    assert certification.valid_until.isoformat() in specialty["text"]


def test_a_schedule_names_its_practitioner_and_location(api, clinic):
    schedule = api.get(f"/fhir/Schedule/{clinic.practitioner.pk}-{clinic.location.pk}").fhir
    actors = {a["reference"] for a in schedule["actor"]}
    assert f"Practitioner/{clinic.practitioner.pk}" in actors
    assert f"Location/{clinic.location.pk}" in actors
    found = api.get(f"/fhir/Schedule?actor=Practitioner/{clinic.practitioner.pk}").fhir
    assert found["total"] == 1


def test_slots_are_the_free_times_of_the_engine(api, clinic, patient):
    day = next_weekday(clinic.location, 2, 0)  # a Wednesday, at midnight local
    taken = next_weekday(clinic.location, 2, 14)
    an_appointment(clinic, patient, taken)
    start = day.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (day + dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bundle = api.get(
        f"/fhir/Slot?service-type=assessment&start=ge{start}&start=lt{end}&status=free"
        f"&schedule=Schedule/{clinic.practitioner.pk}-{clinic.location.pk}&_count=200"
    ).fhir
    starts = [e["resource"]["start"] for e in bundle["entry"]]
    local = [
        dt.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(clinic.location.zone).time()
        for s in starts
    ]
    # Working 9-17, an hour long, the 14:00 appointment and its buffer taken out.
    assert local[0] == dt.time(9) and local[-1] == dt.time(16)
    assert dt.time(12, 45) in local and dt.time(15, 15) in local
    assert not [t for t in local if dt.time(13) <= t <= dt.time(15)]
    assert all(e["resource"]["status"] == "free" for e in bundle["entry"])
    one = bundle["entry"][0]["resource"]
    assert api.get(f"/fhir/Slot/{one['id']}").fhir == one


def test_a_slot_no_longer_free_is_a_404(api, clinic, patient):
    start = next_weekday(clinic.location, 3, 11)
    slot_id = (
        f"{clinic.location.pk}-{clinic.practitioner.pk}-{clinic.assessment.pk}-60-"
        f"{int(start.timestamp())}"
    )
    assert api.get(f"/fhir/Slot/{slot_id}").status_code == 200
    an_appointment(clinic, patient, start)
    assert api.get(f"/fhir/Slot/{slot_id}").status_code == 404


def test_slot_search_refuses_anything_but_free(api, clinic):
    response = api.get("/fhir/Slot?status=busy")
    assert response.status_code == 400
    assert response.fhir["issue"][0]["code"] == "invalid"


def test_searches_page_with_count_and_links(api, clinic, patient):
    for week in range(1, 6):
        an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10, weeks_ahead=week))
    first = api.get("/fhir/Appointment?_count=2").fhir
    assert first["type"] == "searchset" and first["total"] == 5
    assert len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    second = api.get(links["next"].split("testserver")[1]).fhir
    third = api.get(
        {link["relation"]: link["url"] for link in second["link"]}["next"].split("testserver")[1]
    ).fhir
    assert len(third["entry"]) == 1
    assert "next" not in {link["relation"] for link in third["link"]}
    ids = [e["resource"]["id"] for b in (first, second, third) for e in b["entry"]]
    assert len(set(ids)) == 5


def test_bad_search_input_is_a_400_on_the_parameter(api, clinic):
    for path, words in [
        ("/fhir/Appointment?_count=abc", "_count"),
        ("/fhir/Appointment?_count=100000", "_count"),
        ("/fhir/Appointment?date=yesterday", "date"),
        ("/fhir/Appointment?date=ge2027-06-10T10:00:00", "offset"),
        ("/fhir/Appointment?patient=Location/1", "Patient"),
        ("/fhir/Appointment?status=maybe", "status"),
        ("/fhir/Appointment?colour=blue", "colour"),
        ("/fhir/Slot?service-type=massage", "service-type"),
        ("/fhir/Patient?birthdate=1970-13-45", "birthdate"),
        ("/fhir/Schedule?_id=abc", "Schedule"),
    ]:
        response = api.get(path)
        assert response.status_code == 400, path
        assert words in response.fhir["issue"][0]["diagnostics"], path


def test_the_questionnaire_is_generated_from_the_apps_definition_with_its_version(api, clinic):
    questionnaire = api.get("/fhir/Questionnaire/intake").fhir
    items, version = questionnaire_items()
    assert questionnaire["version"] == version and len(version) == 12
    groups = [group["linkId"] for group in questionnaire["item"]]
    assert groups == ["contact", "complaint", "symptoms", "pain", "risk", "treatments", "screening"]
    screening = next(g for g in questionnaire["item"] if g["linkId"] == "screening")
    assert all(item["type"] in ("boolean", "text") for item in screening["item"])
    foot = next(
        item
        for group in questionnaire["item"]
        for item in group["item"]
        if item["linkId"] == "affected_foot"
    )
    assert foot["type"] == "choice"
    assert {o["valueCoding"]["code"] for o in foot["answerOption"]} >= {"left", "right", "both"}


def test_a_submitted_questionnaire_needs_the_clinical_scope(api_client_for, clinic, patient):
    intake = submitted_intake(patient)
    plain = api_client_for(locations=[clinic.location])
    assert plain.get(f"/fhir/QuestionnaireResponse/{intake.pk}").status_code == 403
    clinical = api_client_for(
        scopes="system/QuestionnaireResponse.read", locations=[clinic.location]
    )
    response = clinical.get(f"/fhir/QuestionnaireResponse/{intake.pk}").fhir
    assert response["subject"]["reference"] == f"Patient/{patient.pk}"
    assert response["questionnaire"].endswith(f"Questionnaire/intake|{questionnaire_items()[1]}")
    answers = {
        item["linkId"]: item["answer"][0] for group in response["item"] for item in group["item"]
    }
    assert answers["affected_foot"]["valueCoding"]["code"] == intake.affected_foot
    assert answers["pain_worst"] == {"valueInteger": intake.pain_worst}
    found = clinical.get(f"/fhir/QuestionnaireResponse?patient=Patient/{patient.pk}").fhir
    assert [e["resource"]["id"] for e in found["entry"]] == [str(intake.pk)]


def test_an_appointment_as_fhir(api, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = api.get(f"/fhir/Appointment/{appointment.pk}")
    resource = valid_fhir(response.fhir)
    assert resource["status"] == "booked"
    assert resource["minutesDuration"] == 60
    assert response["ETag"] == f'W/"{appointment.version}"'
    actors = {p["actor"]["reference"] for p in resource["participant"]}
    assert actors == {
        f"Patient/{patient.pk}",
        f"Practitioner/{clinic.practitioner.pk}",
        f"Location/{clinic.location.pk}",
    }


def test_the_fhir_models_refuse_what_is_not_fhir():
    """The check the `Api` helper makes on every answer does refuse a wrong resource: a
    required element missing, an element FHIR does not have, an instant without its time
    (the models do not check codes against their value sets)."""
    import pydantic
    import pytest

    participant = [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]
    for wrong in (
        {"resourceType": "Appointment", "status": "booked"},
        {
            "resourceType": "Appointment",
            "status": "booked",
            "participant": participant,
            "colour": "x",
        },
        {
            "resourceType": "Appointment",
            "status": "booked",
            "participant": participant,
            "start": "2027-01-01",
        },
    ):
        with pytest.raises(pydantic.ValidationError):
            valid_fhir(wrong)
    with pytest.raises(pydantic.ValidationError):
        valid_fhir(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": {"resourceType": "Slot", "status": "free"}}],
            }
        )


def test_services_roles_and_schedules_are_searchable(api, clinic):
    services = api.get("/fhir/HealthcareService?service-type=dry_needling").fhir
    assert [e["resource"]["id"] for e in services["entry"]] == [str(clinic.needling.pk)]
    assert services["entry"][0]["resource"]["location"] == [
        {"reference": f"Location/{clinic.location.pk}"}
    ]
    roles = api.get(f"/fhir/PractitionerRole?location=Location/{clinic.location.pk}").fhir
    assert roles["total"] == 1
    schedules = api.get(f"/fhir/Schedule?actor=Location/{clinic.location.pk}").fhir
    assert [e["resource"]["id"] for e in schedules["entry"]] == [
        f"{clinic.practitioner.pk}-{clinic.location.pk}"
    ]


def test_a_nul_character_in_a_search_value_is_a_400_on_the_parameter(api, clinic):
    # PostgreSQL's text cannot hold NUL: passed on, the search would fail with a 500.
    for path, name in [
        ("/fhir/Patient?name=a%00", "name"),
        ("/fhir/Patient?email=%00", "email"),
        ("/fhir/Location?name=%00", "name"),
        ("/fhir/Practitioner?name=%00", "name"),
        ("/fhir/Appointment/$find?service-type=%00", "service-type"),
    ]:
        response = api.get(path)
        assert response.status_code == 400, path
        assert f"{name}: a NUL character" in response.fhir["issue"][0]["diagnostics"], path


def test_an_offset_past_what_a_page_can_reach_is_a_400_on_the_parameter(api, clinic):
    # PostgreSQL's OFFSET is a bigint, and a Slot page's end must fit a Python slice.
    for path in (
        "/fhir/Appointment?_offset=99999999999999999999999",
        "/fhir/Patient?_offset=9223372036854775808",
        "/fhir/Slot?_offset=9223372036854775807",
    ):
        response = api.get(path)
        assert response.status_code == 400, path
        assert "_offset must be between 0 and" in response.fhir["issue"][0]["diagnostics"]
    deep = api.get("/fhir/Appointment?_offset=1000000000")
    assert deep.status_code == 200 and deep.fhir["entry"] == []


def test_a_slot_id_starting_where_no_calendar_reaches_is_a_404_not_an_error(api, clinic, patient):
    # 9999-12-31T23:59:59Z: a datetime, but its end (an hour later) is not.
    slot = f"{clinic.location.pk}-{clinic.practitioner.pk}-{clinic.assessment.pk}-60-253402300799"
    assert api.get(f"/fhir/Slot/{slot}").status_code == 404
    booking = {
        "resourceType": "Appointment",
        "slot": [{"reference": f"Slot/{slot}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}}],
    }
    response = api.post("/fhir/Appointment/$book", booking)
    assert response.status_code == 404
    assert f"Slot/{slot} is not known" in response.fhir["issue"][0]["diagnostics"]


def test_a_time_zone_offset_past_14_hours_is_a_400_on_the_parameter(api, clinic):
    # FHIR's offsets run from -12:00 to +14:00; Python reads up to 23:59, PostgreSQL refuses
    # past 15:59.
    for path, name in [
        ("/fhir/Appointment?date=ge2027-06-10T10:00:00-23:59", "date"),
        ("/fhir/Appointment?date=lt2027-06-10T10:00:00%2B16:00", "date"),
        ("/fhir/Slot?start=ge2027-06-10T10:00:00%2B14:01", "start"),
        ("/fhir/Appointment/$find?end=2027-06-10T10:00:00-12:01", "end"),
    ]:
        response = api.get(path)
        assert response.status_code == 400, path
        assert f"{name}: " in response.fhir["issue"][0]["diagnostics"], path
        assert "-12:00 to +14:00" in response.fhir["issue"][0]["diagnostics"], path
    for offset in ("%2B14:00", "-12:00", "Z"):
        assert api.get(f"/fhir/Appointment?date=ge2027-06-10T10:00:00{offset}").status_code == 200


def test_a_service_search_by_active_takes_only_true_or_false(api, clinic):
    # A typo (active=ture) read as false would answer with the withdrawn services instead.
    response = api.get("/fhir/HealthcareService?active=ture")
    assert response.status_code == 400
    assert "active must be true or false" in response.fhir["issue"][0]["diagnostics"]
    active = api.get("/fhir/HealthcareService?active=true").fhir
    assert active["total"] > 0
    assert api.get("/fhir/HealthcareService?active=false").fhir["total"] == 0


def test_format_and_pretty_are_taken_everywhere_and_xml_is_a_406(api, clinic, patient):
    """`_format` and `_pretty` are FHIR's parameters of every interaction (many clients add
    `_format=json` to each request), not search parameters: a search took them for a typo."""
    for path in (
        "/fhir/Patient?_format=json",
        "/fhir/Appointment?_format=application/fhir%2Bjson&_pretty=true",
        f"/fhir/Patient/{patient.pk}?_format=application/json",
        "/fhir/Appointment/$find?_format=json&_count=1",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
    for path in ("/fhir/Patient?_format=xml", f"/fhir/Patient/{patient.pk}?_format=xml"):
        response = api.get(path)
        assert response.status_code == 406, path
        assert "JSON" in response.fhir["issue"][0]["diagnostics"]
    assert api.get("/fhir/Patient?_pretty=maybe").status_code == 400


def test_ids_separated_by_commas_are_either_and_repeated_ids_are_both(api, clinic, patient):
    """FHIR's search syntax: `_id=1,2` is one or the other; `_id=1&_id=2` must be both, which
    no record is (it answered both records, and `_id=1,2` was a 400)."""
    first = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    second = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 10))
    either = api.get(f"/fhir/Appointment?_id={first.pk},{second.pk}").fhir
    assert {e["resource"]["id"] for e in either["entry"]} == {str(first.pk), str(second.pk)}
    assert api.get(f"/fhir/Appointment?_id={first.pk}&_id={second.pk}").fhir["total"] == 0
    both = api.get(f"/fhir/Appointment?_id={first.pk},{second.pk}&_id={second.pk}").fhir
    assert [e["resource"]["id"] for e in both["entry"]] == [str(second.pk)]
    assert api.get(f"/fhir/Patient?_id={patient.pk},x").status_code == 400


def test_an_uncertified_practitioners_schedule_offers_nothing_to_book_online(api, clinic):
    """The API's free times are only a dry-needling practitioner's (as the request pages'):
    a colleague who cannot needle has a role (assessments, booked by the clinic) and a
    schedule whose slots the API never offers, so it names no service type to look for."""
    colleague = a_colleague(clinic, certified=False)
    schedule = api.get(f"/fhir/Schedule/{colleague.pk}-{clinic.location.pk}").fhir
    assert "serviceType" not in schedule or schedule["serviceType"] == []
    certified = api.get(f"/fhir/Schedule/{clinic.practitioner.pk}-{clinic.location.pk}").fhir
    kinds = {t["coding"][0]["code"] for t in certified["serviceType"]}
    assert {"assessment", "dry_needling"} <= kinds
