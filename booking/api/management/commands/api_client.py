"""`python manage.py api_client create NAME --scopes "..." [--locations ...]` and
`api_client revoke NAME`: the FHIR API's clients, from the command line."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from booking.api import scopes as api_scopes
from booking.api.clients import ClientProblem, create_client, revoke_client
from booking.api.models import ApiClient
from clinic.models import Location


class Command(BaseCommand):
    help = (
        "Create an API client (its client id and secret are printed once) or revoke one "
        "(its tokens stop working at once)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a client and print its credentials.")
        create.add_argument("name", help="A short name, letters, digits and dashes.")
        create.add_argument(
            "--scopes",
            required=True,
            help=f"Space-separated, from: {' '.join(api_scopes.ALL)}",
        )
        create.add_argument(
            "--locations",
            nargs="*",
            default=None,
            help="Location slugs the client may see (default: every active location).",
        )
        create.add_argument("--requests-per-minute", type=int, default=None)
        revoke = actions.add_parser("revoke", help="Revoke a client at once.")
        revoke.add_argument("name")
        actions.add_parser("list", help="List the clients.")

    def handle(self, *args, action: str, **options):
        if action == "create":
            return self.create(options)
        if action == "revoke":
            return self.revoke(options["name"])
        for client in ApiClient.objects.prefetch_related("locations"):
            state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "active"
            locations = ", ".join(location.slug for location in client.locations.all())
            self.stdout.write(f"{client.name}  {state}  [{locations}]  {' '.join(client.scopes)}")

    def create(self, options) -> None:
        try:
            scopes = api_scopes.parse(options["scopes"])
        except ValueError as problem:
            raise CommandError(str(problem)) from None
        slugs = options["locations"]
        locations = Location.objects.filter(is_active=True)
        if slugs:
            locations = Location.objects.filter(slug__in=slugs)
            missing = sorted(set(slugs) - set(locations.values_list("slug", flat=True)))
            if missing:
                raise CommandError(f"No location with slug: {', '.join(missing)}.")
        rate = options["requests_per_minute"]
        if rate is not None and rate < 1:
            raise CommandError("--requests-per-minute must be 1 or more.")
        try:
            client, secret = create_client(
                name=options["name"],
                scopes=scopes,
                locations=list(locations),
                requests_per_minute=rate,
            )
        except ClientProblem as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(f"client_id: {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("The secret is shown this once; it is stored hashed.")

    def revoke(self, name: str) -> None:
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            raise CommandError(f"No API client named {name}.")
        revoke_client(client)
        self.stdout.write(f"Revoked {name}: its tokens are refused from now on.")
