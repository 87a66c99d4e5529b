"""What the clinical notes share: the vocabulary of both notes (sides, muscles, combined
care), a note's signed content and fingerprint, the abstract `SignedNote` and `Amendment` that
the assessment (`assessments.py`) and session notes (`session_notes.py`) build on, and
`describe`, which puts a stored value in words."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import dateformat, timezone
from django.utils.text import capfirst

from clinic.audit import record_label
from clinic.models import Location, Patient
from intake.questionnaire.questions import SCREENING_BY_FIELD

# --- Clinical notes: the assessment and the treatment sessions -------------------------------
#
# A note is a draft while its author writes it; signing (with their password) stores a
# fingerprint of its content and locks the row: PostgreSQL refuses any UPDATE or DELETE of a
# signed note (intake_refuse_change_once_locked('signed_at')). Later changes are amendments,
# appended and signed the same way; the note's current state is its content with every
# amendment applied in order.


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class Muscle(models.TextChoices):
    GASTROCNEMIUS = "gastrocnemius", "Gastrocnemius"
    SOLEUS = "soleus", "Soleus"
    TIBIALIS_POSTERIOR = "tibialis_posterior", "Tibialis posterior"
    FLEXOR_DIGITORUM_BREVIS = "flexor_digitorum_brevis", "Flexor digitorum brevis"
    ABDUCTOR_HALLUCIS = "abductor_hallucis", "Abductor hallucis"
    QUADRATUS_PLANTAE = "quadratus_plantae", "Quadratus plantae"
    FLEXOR_HALLUCIS_LONGUS = "flexor_hallucis_longus", "Flexor hallucis longus"


# "gastrocnemius:left"..., all of the left side first (they are shown in two columns).
TRIGGER_POINTS = [
    (f"{muscle.value}:{side.value}", f"{muscle.label}, {side.label.lower()}")
    for side in Side
    for muscle in Muscle
]


class CombinedCare(models.TextChoices):
    STRETCHING = "stretching", "Stretching programme"
    SHOCKWAVE = "shockwave", "Shockwave therapy"
    ORTHOTICS = "orthotics", "Orthotics"
    FOOTWEAR = "footwear", "Footwear advice"
    STRENGTHENING = "strengthening", "Strengthening"
    GAIT_TRAINING = "gait_training", "Gait training"
    WEIGHT_MANAGEMENT = "weight_management", "Weight management"


def jsonable(value):
    """A field value as it appears in a note's signed content (and its fingerprint)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def canonical_json(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint_of(content: dict) -> str:
    """sha256 of the canonical JSON of `content`: what is stored and shown when a note (or an
    amendment) is signed, so that any later change can be seen."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def describe(model: type[models.Model], name: str, value) -> str:
    """A note's field value (as stored in its content) in words, for pages and amendments."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "goals":
        return "; ".join(
            goal["goal"] + (f" (by {goal['target']})" if goal.get("target") else "")
            for goal in value
        )
    if name == "muscles_needled":
        muscles = dict(Muscle.choices)
        return "; ".join(
            f"{muscles.get(row['muscle'], row['muscle'])} {row['side']}: {row['needles']} "
            f"needle{'s' if row['needles'] != 1 else ''}"
            + (", twitch response" if row.get("twitch") else "")
            for row in value
        )
    if name == "flag_acknowledgements":
        return "; ".join(
            (SCREENING_BY_FIELD[field].short if field in SCREENING_BY_FIELD else field)
            + (f": {note}" if note else "")
            for field, note in value.items()
        )
    field = model._meta.get_field(name)
    if isinstance(field, ArrayField):
        labels = dict(field.base_field.choices or [])
        return "; ".join(str(labels.get(item, item)) for item in value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        moment = field.to_python(value)
        return dateformat.format(timezone.localtime(moment), "j F Y, g:i A")
    return str(value)


class SignedNote(models.Model):
    """What assessment and treatment notes share: author, draft revisions, signature."""

    # The clinical content, in the order pages show it; signed, fingerprinted and amendable.
    CLINICAL_FIELDS: tuple[str, ...] = ()
    SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = ()

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("clinic.Practitioner", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The booking app's appointment this note records, when there is one (a plain id:
    # intake never imports booking).
    appointment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Every save of the draft adds one; a save from a page opened at an older revision is
    # refused, so two tabs never silently overwrite each other.
    revision = models.PositiveIntegerField(default=0)
    signed_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def content(self) -> dict:
        return {name: jsonable(getattr(self, name)) for name in self.CLINICAL_FIELDS}

    def signed_content(self) -> dict:
        """Everything the signature covers: which record, whose, by whom, when, and what."""
        return {
            "record": record_label(self),
            "id": self.pk,
            "patient": self.patient_id,
            "author": self.author_id,
            "signed_at": jsonable(self.signed_at),
            "content": self.content(),
        }

    def compute_fingerprint(self) -> str:
        return fingerprint_of(self.signed_content())

    @property
    def fingerprint_verified(self) -> bool:
        return bool(self.fingerprint) and self.fingerprint == self.compute_fingerprint()

    def amendments_in_order(self) -> list:
        return sorted(self.amendments.all(), key=lambda amendment: amendment.number)

    def current_content(self) -> dict:
        """The note as it stands now: its signed content with each amendment applied."""
        state = self.content()
        for amendment in self.amendments_in_order():
            for name, change in amendment.changes.items():
                state[name] = change["to"]
        return state

    def current(self) -> SignedNote:
        """An unsaved copy of the note holding its current content, to read and show it."""
        copy = type(self)(
            **{field.attname: getattr(self, field.attname) for field in self._meta.concrete_fields}
        )
        for name, value in self.current_content().items():
            setattr(copy, name, self._meta.get_field(name).to_python(value))
        return copy

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The content in words, by section: [(title, [(label, value)])]."""
        content = self.content()
        return [
            (
                title,
                [
                    (
                        capfirst(self._meta.get_field(name).verbose_name),
                        describe(type(self), name, content[name]),
                    )
                    for name in names
                ],
            )
            for title, names in self.SECTIONS
        ]

    @property
    def last_signed_at(self) -> dt.datetime | None:
        """When the note's current state was signed: its last amendment's time, or its own."""
        amendments = self.amendments_in_order()
        return amendments[-1].signed_at if amendments else self.signed_at


def signed_has_fingerprint(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(signed_at__isnull=True) | Q(fingerprint__regex=r"^[0-9a-f]{64}$"),
        name=f"{prefix}_signed_has_a_fingerprint",
    )


class Amendment(models.Model):
    """A signed change to a signed note: who, when, why, and what changed (old and new value
    of each field), appended in order. The original stays readable; amendments are
    append-only in the database."""

    author = models.ForeignKey("clinic.Practitioner", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    signed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField("reason for the amendment", max_length=2000)
    # {field: {"from": old value, "to": new value}}
    changes = models.JSONField(default=dict, blank=True)
    addendum = models.TextField(blank=True, max_length=5000)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        abstract = True
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Amendment {self.number} of {self.note}"

    def signed_content(self, *, previous_fingerprint: str) -> dict:
        """What the amendment's signature covers, chained to the note's (or the previous
        amendment's) fingerprint so that none can be removed or reordered unseen."""
        return {
            "record": record_label(self),
            "note": self.note_id,
            "number": self.number,
            "previous": previous_fingerprint,
            "author": self.author_id,
            "signed_at": jsonable(self.signed_at),
            "reason": self.reason,
            "changes": self.changes,
            "addendum": self.addendum,
        }

    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, from, to) for each change, in words."""
        model = self._meta.get_field("note").related_model
        return [
            (
                capfirst(model._meta.get_field(name).verbose_name),
                describe(model, name, change["from"]),
                describe(model, name, change["to"]),
            )
            for name, change in self.changes.items()
        ]
