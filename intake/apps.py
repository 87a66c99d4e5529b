from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Intake and clinical records"

    def ready(self) -> None:
        from intake.pages import register_intake_pages

        register_intake_pages()

    def seed_demo(self, story) -> None:
        from intake.demo import seed_intake

        seed_intake(story)
