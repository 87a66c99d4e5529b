"""Template context every page needs: the clinic's name and the navigation for the user's role."""

from django.conf import settings
from django.urls import reverse

from clinic.pages import ANONYMOUS, nav_links


def navigation(request):
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else ANONYMOUS
    items = []
    for link in nav_links(role):
        url = reverse(link.url_name)
        items.append({"label": link.label, "url": url, "current": request.path == url})
    return {"clinic_name": settings.CLINIC_NAME, "nav_items": items}
