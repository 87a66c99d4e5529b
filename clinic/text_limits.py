"""Free text has a bound in the form and in the database.

Every `TextField` of the clinic's models is given a `max_length`: Django's forms then refuse a
longer answer on the field ("Ensure this value has at most … characters") and the browser's
textarea stops at it. PostgreSQL does not enforce a TextField's max_length, so `@bounded_text`
adds a named CHECK constraint `char_length(field) <= max_length` for each of them: a service,
the admin or a script cannot store the 900 KB "goals" either.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual


def text_at_most(field: str, chars: int, *, prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), chars),
        name=f"{prefix}_{field}_at_most_{chars}_chars",
        violation_error_message=f"{field}: at most {chars} characters.",
    )


def bounded_text(model: type[models.Model]) -> type[models.Model]:
    """Class decorator: a length CHECK for each TextField of `model` (each must have a
    max_length; a TextField without one is a mistake caught at import)."""
    # Named after the table, not the class: a model renamed with its table kept (SessionNote
    # on intake_treatmentnote) keeps its constraints' names.
    prefix = model._meta.db_table.removeprefix(f"{model._meta.app_label}_")
    # Local fields include those of abstract parents (SignedNote, Amendment).
    for field in model._meta.local_fields:
        if isinstance(field, models.TextField):
            if not field.max_length:
                raise TypeError(f"{model.__name__}.{field.name} has no max_length")
            model._meta.constraints.append(
                text_at_most(field.name, field.max_length, prefix=prefix)
            )
    # Migrations read a model's constraints only when its Meta declared some.
    model._meta.original_attrs.setdefault("constraints", model._meta.constraints)
    return model
