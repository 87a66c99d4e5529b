"""One access matrix for every app's pages: who may open each URL, and exactly what each visitor
gets back.

An app's access test declares its pages once:

    MATRIX = Matrix(
        pages={"clinic:home": Page(STAFF | PATIENT), ...},
        redirects={("clinic:home", Role.PATIENT): "clinic:patient_home", ...},
    )

and for each (page, visitor) the matrix derives the one right answer (`Matrix.answer`):
an anonymous visitor is sent to log in and a role not allowed gets 403 ("You do not have access
to this page"), unless the page is public; a visitor let in is sent on where `redirects` says,
gets 405 when the page is opened with a method it does not take, else 200.
`Matrix.cases(*visitors)` makes those the parameters of a test, and `check` opens the page as
the visitor and asserts the answer: the same loop for every app.

The personas and records behind the pages are written once per module: `world_fixtures()`
gives a module-wide `world` of personas and the persona fixtures of `tests/conftest.py` read
afresh from it for each test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.models import Role
from tests.worlds import built_once, fresh, personas

ANONYMOUS = "anonymous"
# No login: the page is open to anyone, or opened by a secret in its address.
PUBLIC = "public"
PATIENT = frozenset({Role.PATIENT})
FRONT_DESK = frozenset({Role.FRONT_DESK})
PRACTITIONER = frozenset({Role.PRACTITIONER})
MANAGER = frozenset({Role.MANAGER})
STAFF = FRONT_DESK | PRACTITIONER | MANAGER
EVERYONE = PATIENT | STAFF
# Who handles money (invoices name the service): the desk and managers.
DESK = FRONT_DESK | MANAGER
# Who reads clinical records and the results they add up to: practitioners and managers.
CLINICAL = PRACTITIONER | MANAGER
PERSONAS = {
    Role.PATIENT: "patient",
    Role.FRONT_DESK: "front_desk",
    Role.PRACTITIONER: "practitioner",
    Role.MANAGER: "manager",
}
ROLES = tuple(PERSONAS)
GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")
# Where an anonymous visitor is sent: the login page, with the page asked for as `next`.
LOGIN = "login"
REFUSAL = "You do not have access to this page"


@dataclass(frozen=True)
class Page:
    """Who may open a page (roles, or PUBLIC), the methods it takes, and the arguments of its
    address (values naming a record are looked up in the module's records)."""

    allowed: frozenset | str
    methods: tuple[str, ...] = GET
    arguments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A status and, for a redirect, where to: a target the module's `address` resolves, or
    LOGIN."""

    status: int
    to: object = None


@dataclass(frozen=True)
class Matrix:
    # Every page of the table, by its URL name: `namespace:page`, all in one namespace.
    pages: dict[str, Page]
    # (page, visitor) -> target: the pages that send a visitor let in on to another page.
    redirects: dict = field(default_factory=dict)
    # The method every page is opened with; None: each page's first method.
    visit: str | None = None

    @property
    def namespace(self) -> str:
        """The namespace of the table's pages, which every named URL of it must be in."""
        (namespace,) = {name.split(":")[0] for name in self.pages}
        return namespace

    def method(self, name: str) -> str:
        return self.visit or self.pages[name].methods[0]

    def answer(self, name: str, visitor) -> Answer:
        page = self.pages[name]
        if page.allowed != PUBLIC and visitor == ANONYMOUS:
            return Answer(302, LOGIN)
        if page.allowed != PUBLIC and visitor not in page.allowed:
            return Answer(403)
        if (name, visitor) in self.redirects:
            return Answer(302, self.redirects[name, visitor])
        if self.method(name) not in page.methods:
            return Answer(405)
        return Answer(200)

    def cases(self, *visitors, names=None) -> list:
        """(name, visitor, answer) for each page (or those in `names`) and visitor."""
        return [
            pytest.param(name, visitor, self.answer(name, visitor), id=f"{name}-{visitor}")
            if len(visitors) > 1
            else pytest.param(name, visitor, self.answer(name, visitor), id=name)
            for visitor in visitors
            for name in sorted(names if names is not None else self.pages)
        ]

    def url_names(self) -> set[str]:
        """Every named URL of the namespace: each must be in `pages`."""
        return url_names(self.namespace)

    def url(self, target, records: dict | None = None) -> str:
        """The address of a page (its own arguments) or of a (name, arguments) target; argument
        values naming one of `records` are that record's key."""
        name, arguments = target if isinstance(target, tuple) else (target, None)
        if arguments is None:
            arguments = self.pages[name].arguments if name in self.pages else {}
        records = records or {}
        kwargs = {key: records.get(value, value) for key, value in arguments.items()}
        return reverse(name, kwargs=kwargs)


def url_names(namespace: str) -> set[str]:
    names = set()

    def walk(patterns, current):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or current)
            elif isinstance(pattern, URLPattern) and pattern.name and current == namespace:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def user_of(request, persona: str):
    person = request.getfixturevalue(persona)
    return getattr(person, "user", person)


def visit(client, request, visitor, method: str, address: str):
    """Open `address` with `method` as the visitor (a role's persona, or ANONYMOUS)."""
    if visitor != ANONYMOUS:
        client.force_login(user_of(request, PERSONAS[visitor]))
    return getattr(client, method.lower())(address)


def assert_answer(response, answer: Answer, address: Callable[[object], str]):
    where = response.get("Location")
    assert response.status_code == answer.status, (response.status_code, where)
    if answer.to == LOGIN:
        assert response.url.startswith(reverse("login") + "?next=")
    elif answer.to is not None:
        assert response.url == address(answer.to)
    if answer.status == 403:
        assert REFUSAL in response.content.decode()


def check(matrix: Matrix, client, request, address, name: str, visitor, answer: Answer):
    """Open the page as the visitor, with the matrix's method, and assert its answer."""
    response = visit(client, request, visitor, matrix.method(name), address(name))
    assert_answer(response, answer, address)


def open_as(client, user, page: Page, address: str):
    """Open `address` as `user` with the page's own method (POST for an action): how a stranger
    is shown a 404, as if the record did not exist, rather than a 405."""
    client.force_login(user)
    return getattr(client, page.methods[0].lower())(address)


def check_wrong_method(matrix: Matrix, client, request, address, name: str, method: str):
    """Open the page with a method it does not take, as the first of the roles allowed in: 405."""
    role = sorted(matrix.pages[name].allowed)[0]
    response = visit(client, request, role, method, address(name))
    assert_answer(response, Answer(405), address)


def world_fixtures() -> dict:
    """A module-wide `world` of personas and the persona fixtures read afresh from it, to add to
    a module's names: `globals().update(world_fixtures())`."""

    # Autouse, so the world is written before any test's own transaction opens: a persona
    # first asked for inside a test (`request.getfixturevalue`) would otherwise build the
    # world inside that test's transaction, and the rollback after it would take the world.
    @pytest.fixture(scope="module", name="world", autouse=True)
    def _world(django_db_setup, django_db_blocker):
        with built_once(django_db_blocker):
            yield personas()

    fixtures = {"world": _world}
    for persona in (
        "location",
        "other_location",
        "patient",
        "other_patient",
        "front_desk",
        "front_desk_elsewhere",
        "practitioner",
        "manager",
    ):

        def _persona(world, persona=persona):
            return fresh(getattr(world, persona))

        fixtures[persona] = pytest.fixture(name=persona)(_persona)
    return fixtures
