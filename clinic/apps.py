from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic organisation"

    def ready(self) -> None:
        from clinic.pages import register_clinic_pages

        register_clinic_pages()

    def seed_demo(self, story) -> None:
        from clinic.demo import seed_organisation

        seed_organisation(story)
