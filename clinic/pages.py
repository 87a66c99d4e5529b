"""What each role's pages carry beyond the clinic app: navigation links, home panels, record pages.

A record page is where the access log links a record it names (a session note's page).

The clinic app owns the layout and the home pages but may not import intake or booking
(dependencies point booking -> intake -> clinic). Those apps add their links and panels
here from their AppConfig.ready(); the layout and home pages render what is registered
for the user's role, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from clinic.models import Role

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    order: int


@dataclass(frozen=True)
class HomeSection:
    """A panel on a home page: a template and the context it needs."""

    template: str
    context: dict


SectionProvider = Callable[[HttpRequest], HomeSection | None]

_links: dict[str, list[NavLink]] = {}
_sections: dict[str, list[tuple[int, SectionProvider]]] = {}
_record_pages: dict[str, str] = {}


def add_nav_link(role: str, label: str, url_name: str, *, order: int = 100) -> None:
    links = _links.setdefault(role, [])
    if any(link.url_name == url_name for link in links):
        return
    links.append(NavLink(label, url_name, order))
    links.sort(key=lambda link: link.order)


def nav_links(role: str) -> list[NavLink]:
    return _links.get(role, [])


def add_home_section(role: str, provider: SectionProvider, *, order: int = 100) -> None:
    providers = _sections.setdefault(role, [])
    if all(existing is not provider for _, existing in providers):
        providers.append((order, provider))
        providers.sort(key=lambda pair: pair[0])


def home_sections(role: str, request: HttpRequest) -> list[HomeSection]:
    sections = (provider(request) for _, provider in _sections.get(role, []))
    return [section for section in sections if section is not None]


def add_record_page(record_type: str, url_name: str) -> None:
    """The page (taking the record's id) that shows a record of this access-log type."""
    _record_pages[record_type] = url_name


def record_page(record_type: str, record_id: str) -> str:
    """The address of the page showing this record, or "" when there is none."""
    url_name = _record_pages.get(record_type)
    if url_name is None or not record_id.isascii() or not record_id.isdigit():
        return ""
    return reverse(url_name, args=[int(record_id)])


def register_clinic_pages() -> None:
    """The clinic app's own links (called from ClinicConfig.ready)."""
    add_nav_link(ANONYMOUS, "Locations", "clinic:location_list", order=50)
    add_nav_link(Role.PATIENT, "Home", "clinic:patient_home", order=0)
    add_nav_link(Role.PATIENT, "Locations", "clinic:location_list", order=50)
    add_nav_link(Role.PATIENT, "My details", "clinic:patient_details", order=90)
    add_nav_link(Role.FRONT_DESK, "Today", "clinic:front_desk_home", order=0)
    add_nav_link(Role.FRONT_DESK, "Locations", "clinic:location_list", order=90)
    add_nav_link(Role.PRACTITIONER, "My day", "clinic:practitioner_home", order=0)
    add_nav_link(Role.PRACTITIONER, "Locations", "clinic:location_list", order=90)
    add_nav_link(Role.MANAGER, "Overview", "clinic:manager_home", order=0)
    add_nav_link(Role.MANAGER, "Locations", "clinic:location_list", order=80)
    add_nav_link(Role.MANAGER, "Access log", "clinic:access_log", order=90)
    add_nav_link(Role.MANAGER, "Administration", "admin:index", order=99)
    for role in Role:
        add_nav_link(role, "Account", "clinic:two_factor_manage", order=95)
