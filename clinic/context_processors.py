"""Template context every page needs: the clinic's name and the navigation for the user's role."""

from django.conf import settings
from django.urls import reverse

from clinic.pages import ANONYMOUS, nav_links
from clinic.security import second_step_pending


def navigation(request):
    user = getattr(request, "user", None)
    # A request built outside the middleware (the benchmark's RequestFactory) has no session,
    # so no login half-way through.
    if hasattr(request, "session") and second_step_pending(request):
        # Between the password and the code the only ways on are the code and logging out:
        # the role's menu would show where the records are before the login is complete.
        links = []
    else:
        role = user.role if user is not None and user.is_authenticated else ANONYMOUS
        links = nav_links(role)
    items = []
    for link in links:
        url = reverse(link.url_name)
        items.append({"label": link.label, "url": url, "current": request.path == url})
    return {"clinic_name": settings.CLINIC_NAME, "nav_items": items}


# The id of the element a page opened in place is put in (the front desk's panel; htmx sends
# it as HX-Target).
PANEL_TARGET = "desk-panel-body"


def in_panel(request) -> bool:
    """Whether the page is asked for by the panel of a page opened in place, rather than as a
    page of its own (htmx's request headers; django_htmx.middleware reads them)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == PANEL_TARGET


def page_frame(request):
    """`base_template`: the whole page (base.html), or its content alone (panel.html) when a
    panel opened in place asks for it. Pages that can open in place extend it."""
    panel = in_panel(request)
    return {"base_template": "panel.html" if panel else "base.html", "in_panel": panel}
