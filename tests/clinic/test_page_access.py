"""Who may open each family of pages: deny by default, roles enforced on the server."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.models import Role

pytestmark = pytest.mark.django_db

ANYONE = "anyone"

# Every clinic page without arguments, and who may open it. A new page must be added here.
PAGES = {
    "clinic:welcome": ANYONE,
    "clinic:home": {Role.PATIENT, Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER},
    "clinic:location_list": ANYONE,
    "clinic:signup": ANYONE,
    "clinic:signup_confirm": ANYONE,  # without the emailed link: "this link no longer works"
    "clinic:patient_home": {Role.PATIENT},
    "clinic:patient_details": {Role.PATIENT},
    "clinic:front_desk_home": {Role.FRONT_DESK},
    "clinic:practitioner_home": {Role.PRACTITIONER},
    "clinic:manager_home": {Role.MANAGER},
    "clinic:two_factor_setup": set(Role),
    "clinic:two_factor_verify": set(Role),
    "clinic:two_factor_manage": set(Role),
    "clinic:access_log": {Role.MANAGER},
}
PAGES_WITH_ARGUMENTS = {
    "clinic:location_detail": (ANYONE, {"slug": "leaside"}),
    "clinic:signup_confirm_link": (ANYONE, {"token": "x"}),
}

# The pages that send a role allowed in on to another page, and where; every other page a
# role may open answers 200 itself.
HOMES = {
    Role.PATIENT: "clinic:patient_home",
    Role.FRONT_DESK: "clinic:front_desk_home",
    Role.PRACTITIONER: "clinic:practitioner_home",
    Role.MANAGER: "clinic:manager_home",
}
REDIRECTS = {
    **{("clinic:home", role): home for role, home in HOMES.items()},
    # Staff logged in with their second factor have nothing left to verify.
    **{("clinic:two_factor_verify", role): "clinic:home" for role in HOMES if role != Role.PATIENT},
    # Staff already have an authenticator: replacing it first asks for the password again.
    **{
        ("clinic:two_factor_setup", role): "clinic:two_factor_manage"
        for role in HOMES
        if role != Role.PATIENT
    },
}
PERSONAS = {
    Role.PATIENT: "patient",
    Role.FRONT_DESK: "front_desk",
    Role.PRACTITIONER: "practitioner",
    Role.MANAGER: "manager",
}


def _clinic_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace == "clinic":
                names.add(f"clinic:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_clinic_page_is_in_the_access_table():
    assert _clinic_url_names() == set(PAGES) | set(PAGES_WITH_ARGUMENTS)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_visitors_see_public_pages_and_are_sent_to_log_in_elsewhere(client, name):
    response = client.get(reverse(name))
    if PAGES[name] == ANYONE:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("role", list(PERSONAS))
@pytest.mark.parametrize("name", sorted(n for n, who in PAGES.items() if who != ANYONE))
def test_each_role_is_allowed_or_refused(client, request, location, role, name):
    person = request.getfixturevalue(PERSONAS[role])
    client.force_login(getattr(person, "user", person))
    response = client.get(reverse(name))
    if (name, role) in REDIRECTS:
        assert response.status_code == 302
        assert response.url == reverse(REDIRECTS[name, role])
    elif role in PAGES[name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "You do not have access to this page" in response.content.decode()


def test_role_pages_refuse_the_wrong_method(login, manager):
    response = login(manager).post(reverse("clinic:manager_home"))
    assert response.status_code == 405


def test_a_patient_gets_403_on_a_staff_page(login, patient):
    assert login(patient.user).get(reverse("clinic:front_desk_home")).status_code == 403


def test_an_unknown_url_gets_the_styled_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html
    assert 'href="#main"' in html  # rendered inside the site layout


def test_an_unknown_location_is_404(client):
    assert client.get(reverse("clinic:location_detail", args=["atlantis"])).status_code == 404


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("manager", True), ("front_desk", False), ("practitioner", False), ("patient", False)],
)
def test_only_managers_reach_the_admin(client, request, persona, allowed):
    person = request.getfixturevalue(persona)
    client.force_login(getattr(person, "user", person))
    response = client.get(reverse("admin:index"))
    if allowed:
        assert response.status_code == 200
        assert "Locations" in response.content.decode()
    else:
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_every_page_has_a_skip_link_landmarks_and_a_labelled_navigation(client, location):
    html = client.get(reverse("clinic:location_list")).content.decode()
    assert '<a class="skip-link' in html and 'href="#main"' in html
    assert '<main id="main"' in html
    assert '<nav class="navbar' in html and 'aria-label="Main"' in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "cdn" not in html.lower()
