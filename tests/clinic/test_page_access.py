"""Who may open each family of pages: deny by default, roles enforced on the server."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.models import Role
from tests import access_matrix as matrix
from tests.access_matrix import ANONYMOUS, PUBLIC, ROLES, Page

pytestmark = pytest.mark.django_db

# The personas of this module are a world written once for it.
globals().update(matrix.world_fixtures())

HOMES = {
    Role.PATIENT: "clinic:patient_home",
    Role.FRONT_DESK: "clinic:front_desk_home",
    Role.PRACTITIONER: "clinic:practitioner_home",
    Role.MANAGER: "clinic:manager_home",
}
# Every clinic page and who may open it. A new page must be added here.
MATRIX = matrix.Matrix(
    pages={
        "clinic:welcome": Page(PUBLIC),
        "clinic:home": Page(matrix.EVERYONE),
        "clinic:location_list": Page(PUBLIC),
        "clinic:location_detail": Page(PUBLIC, arguments={"slug": "leaside"}),
        "clinic:signup": Page(PUBLIC),
        # Without the emailed link, or with a wrong one: "this link no longer works".
        "clinic:signup_confirm": Page(PUBLIC),
        "clinic:signup_confirm_link": Page(PUBLIC, arguments={"token": "x"}),
        "clinic:patient_home": Page(matrix.PATIENT),
        "clinic:patient_details": Page(matrix.PATIENT),
        "clinic:front_desk_home": Page(matrix.FRONT_DESK),
        "clinic:practitioner_home": Page(matrix.PRACTITIONER),
        "clinic:manager_home": Page(matrix.MANAGER),
        "clinic:two_factor_setup": Page(matrix.EVERYONE),
        "clinic:two_factor_verify": Page(matrix.EVERYONE),
        "clinic:two_factor_manage": Page(matrix.EVERYONE),
        "clinic:access_log": Page(matrix.MANAGER),
    },
    # The pages that send a visitor let in on to another page, and where.
    redirects={
        # Someone logged in has no account to sign up for: their home instead.
        **{
            (name, role): "clinic:home"
            for name in ("clinic:welcome", "clinic:signup")
            for role in ROLES
        },
        # A link that is no longer good is explained on the page the link would have led to.
        **{
            ("clinic:signup_confirm_link", visitor): "clinic:signup_confirm"
            for visitor in (ANONYMOUS, *ROLES)
        },
        **{("clinic:home", role): home for role, home in HOMES.items()},
        # Staff logged in with their second factor have nothing left to verify.
        **{("clinic:two_factor_verify", role): "clinic:home" for role in matrix.STAFF},
        # Staff already have an authenticator: replacing it first asks for the password again.
        **{("clinic:two_factor_setup", role): "clinic:two_factor_manage" for role in matrix.STAFF},
    },
    visit="GET",
)
PAGES = MATRIX.pages


@pytest.fixture
def address(world):
    """A page's address, in the module's world (the location `leaside`)."""
    return MATRIX.url


def test_every_clinic_page_is_in_the_access_table():
    assert MATRIX.url_names() == set(PAGES)


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_each_role_is_allowed_or_refused(client, request, address, name, visitor, answer):
    """Anonymous visitors too: they see the public pages and are sent to log in elsewhere."""
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


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
