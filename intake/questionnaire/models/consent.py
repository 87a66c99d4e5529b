"""Consent: the texts a patient consents to (in numbered, published versions) and their typed
signatures. Published versions and signatures are locked by PostgreSQL itself (triggers made
by intake's migrations), not only by the application."""

from __future__ import annotations

import unicodedata

from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Patient, actor_field
from clinic.text_limits import bounded_text


class ConsentDocument(models.Model):
    """A consent the patient gives: its text lives in numbered versions."""

    class Kind(models.TextChoices):
        DRY_NEEDLING = "dry_needling", "Informed consent to dry needling"
        PRIVACY = "privacy", "Consent to the handling of your health information"

    kind = models.CharField(max_length=30, choices=Kind.choices, unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.title


class ConsentVersionQuerySet(models.QuerySet):
    def published(self) -> ConsentVersionQuerySet:
        return self.filter(published_at__isnull=False)

    def current(self) -> ConsentVersionQuerySet:
        """The version in force of each document: the highest published number."""
        return (
            self.published()
            .order_by("document_id", "-number")
            .distinct("document_id")
            .select_related("document")
        )


@bounded_text
class ConsentVersion(models.Model):
    """One wording of a consent document. Once published it never changes (the database
    refuses); a new wording is a new version, and signatures keep pointing at theirs."""

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    body = models.TextField(
        help_text="The text the patient reads. Blank lines separate paragraphs.", max_length=20000
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = actor_field()

    objects = ConsentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="consent_version_number_once_per_document"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="consent_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.document.title}, version {self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.split("\n\n") if part.strip()]


# Apostrophes as phones and word processors type them: O'Brien, O’Brien, Oʼbrien.
_APOSTROPHES = frozenset("'\u2018\u2019\u02bc\u02bb`\u00b4")


def normalise_name(name: str) -> str:
    """A name as typed, with case, accents, spaces, hyphens and apostrophes forgiven:
    'sam okonkwo tremblay' matches 'Sam Okonkwo-Tremblay', 'OBrien' matches "O'Brien" and
    'robert  COTE' matches 'Robert Côté'. Every comparison of a typed name with the one on
    file goes through here, so the hint on the signature field can say what is forgiven."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return "".join(
        char
        for char in decomposed.casefold()
        if not unicodedata.combining(char)
        and not char.isspace()
        and char not in _APOSTROPHES
        and unicodedata.category(char) != "Pd"  # every kind of hyphen and dash
    )


def signature_matches(typed: str, patient: Patient) -> bool:
    typed_name = normalise_name(typed)
    return bool(typed_name) and typed_name == normalise_name(patient.full_name)


class ConsentSignature(models.Model):
    """A patient's signature of one consent version: typed full name, time, version.
    Append-only (the database refuses changes)."""

    class Method(models.TextChoices):
        ONLINE = "online", "Online, with the questionnaire"
        COUNTER = "counter", "At the counter"

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="consent_signatures"
    )
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="signatures")
    signed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10, choices=Method.choices)
    intake = models.ForeignKey(
        "Intake",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_signatures",
    )
    collected_by = actor_field("The staff member at the counter, when signed there.")

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["patient", "version"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(signed_name=""), name="consent_signature_has_a_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signed_name}: {self.version} ({self.signed_at:%Y-%m-%d})"
