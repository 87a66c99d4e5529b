"""`python manage.py seed_demo`: build the demo clinic. Safe to run again."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.demo import DEMO_PASSWORD, DemoStory, demo_today


class Command(BaseCommand):
    help = (
        "Create or refresh the demo clinic: four locations (one without dry needling), "
        "practitioners with current, expired and no certification, patients at each stage of "
        f"care, and one login per role (password: {DEMO_PASSWORD}). Running it again changes nothing but "
        "dates that follow today."
    )

    def handle(self, *args, **options):
        story = DemoStory(today=demo_today())
        with transaction.atomic():
            # Each app adds its part of the story in dependency order (clinic, intake, booking),
            # through a `seed_demo(story)` method on its AppConfig.
            for config in apps.get_app_configs():
                seed = getattr(config, "seed_demo", None)
                if seed is not None:
                    seed(story)
                    self.stdout.write(f"  {config.verbose_name}: done")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password {DEMO_PASSWORD}):")
        )
        for key in ("patient", "front_desk", "practitioner", "manager"):
            user = story.users.get(key)
            if user:
                self.stdout.write(f"  {user.get_role_display():<16} {user.email}")
