"""The managers' webhook pages, under /manager/webhooks/: the endpoints, registering one (its
secret shown once), changing it, rotating its secret, disabling and enabling it, and its
delivery log with redelivery. Managers only; the payloads shown carry no health information,
so nothing here goes to the access log."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking.webhooks import services
from booking.webhooks.forms import EndpointForm
from booking.webhooks.models import Delivery, Endpoint
from clinic import access

# The secret travels from the action that made it to the next page through the session, and
# is taken out of it there: shown once, never in an address, never again after a reload.
NEW_SECRET = "webhooks_new_secret"
LOG_LENGTH = 100


def _endpoint(pk: int) -> Endpoint:
    return access.get_or_404(Endpoint.objects.all(), "No such webhook endpoint.", pk=pk)


def _show_secret_once(request, endpoint: Endpoint) -> None:
    request.session[NEW_SECRET] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


@access.manager_required
@require_safe
def endpoint_list(request):
    endpoints = Endpoint.objects.prefetch_related("locations").annotate(
        waiting=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
    )
    return render(request, "booking/webhooks/endpoint_list.html", {"endpoints": endpoints})


@access.manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = services.register_endpoint(
            **form.cleaned_data, by=request.user, now=timezone.now()
        )
        _show_secret_once(request, endpoint)
        return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(request, "booking/webhooks/endpoint_form.html", {"form": form})


@access.manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_edit(request, pk: int):
    endpoint = _endpoint(pk)
    initial = {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": endpoint.events,
        "locations": list(endpoint.locations.all()),
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_endpoint(endpoint, **form.cleaned_data)
        messages.success(request, "The endpoint was saved.")
        return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(
        request, "booking/webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}
    )


@access.manager_required
@require_safe
def endpoint_detail(request, pk: int):
    endpoint = _endpoint(pk)
    shown = request.session.get(NEW_SECRET)
    secret = None
    if shown and shown.get("endpoint") == endpoint.pk:
        secret = shown["secret"]
        del request.session[NEW_SECRET]
    deliveries = list(endpoint.deliveries.order_by("-created_at", "-id")[:LOG_LENGTH])
    return render(
        request,
        "booking/webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "locations": list(endpoint.locations.all()),
            "secret": secret,
            "deliveries": deliveries,
            "log_length": LOG_LENGTH,
        },
    )


@access.manager_required
@require_POST
def endpoint_rotate(request, pk: int):
    rotation = services.rotate_secret(_endpoint(pk), now=timezone.now())
    endpoint = rotation.endpoint
    _show_secret_once(request, endpoint)
    said = "A new secret was made. The old one also signs deliveries for the next 24 hours."
    if rotation.earlier_secret_stopped:
        said += (
            " The secret before it, replaced less than 24 hours ago, no longer signs: a receiver "
            "still checking with that one fails from now."
        )
    messages.success(request, said)
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@access.manager_required
@require_POST
def endpoint_disable(request, pk: int):
    services.disable_endpoint(_endpoint(pk), by=request.user, now=timezone.now())
    messages.success(request, "The endpoint is disabled: nothing is sent to it.")
    return redirect("webhooks:endpoint_detail", pk=pk)


@access.manager_required
@require_POST
def endpoint_enable(request, pk: int):
    services.enable_endpoint(_endpoint(pk))
    messages.success(request, "The endpoint is enabled: waiting deliveries go out shortly.")
    return redirect("webhooks:endpoint_detail", pk=pk)


@access.manager_required
@require_POST
def delivery_redeliver(request, pk: int, delivery_pk: int):
    endpoint = _endpoint(pk)
    delivery = access.get_or_404(
        endpoint.deliveries.select_related("endpoint"), "No such delivery.", pk=delivery_pk
    )
    try:
        services.redeliver(delivery, now=timezone.now())
    except services.WebhookError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{delivery.event} ({delivery.message_id}) will be sent again.")
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
