"""The accounts existing API clients act as were made with the default role, 'patient': they
become 'API client' accounts, so that the access log can be filtered by them and names them as
clients. They stay inactive (they never log in)."""

from django.db import migrations


def mark(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    User = apps.get_model("clinic", "User")
    accounts = ApiClient.objects.values("account_id")
    User.objects.filter(pk__in=accounts).update(role="api_client", is_active=False)


def unmark(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    User = apps.get_model("clinic", "User")
    User.objects.filter(pk__in=ApiClient.objects.values("account_id")).update(role="patient")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("clinic", "0012_user_role_api_client"),
    ]

    operations = [migrations.RunPython(mark, unmark)]
