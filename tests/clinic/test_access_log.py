"""The access log of health information: one row per access, and no way to change it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from clinic.audit import record_access
from clinic.models import AccessLog

pytestmark = pytest.mark.django_db


def test_it_records_who_did_what_to_whose_record_from_where(front_desk, patient):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    row = record_access(actor=front_desk, patient=patient, record=patient, request=request)
    row.refresh_from_db()
    assert (row.actor, row.actor_role, row.patient) == (front_desk, "front_desk", patient)
    assert (row.record_type, row.record_id) == ("clinic.patient", str(patient.pk))
    assert row.action == "view"
    assert row.ip_address == "203.0.113.9"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE clinic_accesslog SET action = 'change'", "DELETE FROM clinic_accesslog"],
)
def test_the_database_refuses_to_change_or_remove_a_row(front_desk, patient, sql):
    record_access(actor=front_desk, patient=patient, record=patient)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AccessLog.objects.filter(action="view").count() == 1
