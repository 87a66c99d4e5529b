"""Headers that protect health data: a strict Content Security Policy, no caching of
logged-in pages, and a clear refusal of oversized requests."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_has_a_content_security_policy_without_inline_scripts(client, location):
    policy = client.get(reverse("clinic:location_list"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_pages_shown_to_a_logged_in_user_are_never_cached(login, patient):
    response = login(patient.user).get(reverse("clinic:patient_home"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_public_pages_for_visitors_may_be_cached(client, location):
    assert "no-store" not in client.get(reverse("clinic:location_list")).get("Cache-Control", "")


def test_no_template_carries_an_inline_script_or_style_attribute():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if "<script>" in path.read_text()
        or "<script type" in path.read_text()
        or ' style="' in path.read_text()
        or "onclick=" in path.read_text()
    ]
    assert offenders == []


def test_an_oversized_request_is_refused_with_400(login, patient):
    response = login(patient.user).post(
        reverse("clinic:patient_details"), {"phone": "4" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 400
