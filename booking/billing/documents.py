"""What the documents for insurers and for tax say, as plain data: the receipt of an invoice, the
superbill a US patient files with their insurer (codes derived from the clinical notes), a
patient's year-end statement of payments, and a credit note. `booking.billing.pdf` renders them.

Nothing here is stored: an invoice never changes, so a document built from it today says what it
said yesterday; the clinical codes come from the signed notes (with their amendments)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils.text import slugify

from booking.billing.invoicing import visit_description
from booking.billing.ledger import ZERO, Balance, balance_of
from booking.billing.models import (
    CENTS,
    CreditNote,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
)
from clinic.models import Location, Patient, Practitioner
from intake.clinical.models import AssessmentNote, SessionNote
from intake.clinical.models.assessments import Diagnosis

# ICD-10-CM: plantar fascial fibromatosis, the code insurers take for plantar fasciitis.
ICD10_PLANTAR_FASCIITIS = "M72.2"
# CPT: needle insertion(s) without injection(s), by the number of muscles needled.
CPT_NEEDLING_1_2_MUSCLES = "20560"
CPT_NEEDLING_3_OR_MORE = "20561"


class NoSuperbill(Exception):
    """The invoice's location does not issue superbills (it has no US tax id)."""


@dataclass(frozen=True)
class Provider:
    """The practitioner as an insurer reads them."""

    name: str
    title: str
    profession: str
    registration_number: str
    registered_with: str
    npi: str

    @classmethod
    def of(cls, practitioner: Practitioner) -> Provider:
        return cls(
            name=practitioner.name,
            title=practitioner.title,
            profession=practitioner.get_profession_display() if practitioner.profession else "",
            registration_number=practitioner.registration_number,
            registered_with=practitioner.get_registered_with_display()
            if practitioner.registered_with
            else "",
            npi=practitioner.npi,
        )


@dataclass(frozen=True)
class Clinic:
    name: str
    location: str
    address_lines: tuple[str, ...]
    phone: str
    email: str
    tax_number: str = ""

    @classmethod
    def at(cls, location: Location) -> Clinic:
        billing = getattr(location, "billing", None)
        return cls(
            name=settings.CLINIC_NAME,
            location=location.name,
            address_lines=(
                location.street_address,
                f"{location.city}, {location.region} {location.postal_code}",
            ),
            phone=location.phone,
            email=location.email,
            tax_number=billing.tax_number if billing else "",
        )


@dataclass(frozen=True)
class ServiceLine:
    date: dt.date
    description: str
    provider: Provider
    amount: Decimal
    procedure_code: str = ""
    units: int = 0
    muscles: int = 0
    appointment_id: int | None = None


@dataclass(frozen=True)
class Heading:
    """What heads a document of an invoice (`_clinic.html`): its number and date, the currency
    of its amounts, the clinic and the patient."""

    number: str
    issued_on: dt.date
    currency: str
    clinic: Clinic
    patient_name: str
    patient_born: dt.date | None


@dataclass(frozen=True)
class Receipt(Heading):
    """A receipt for an insurer: who was treated, what was done when, by whom, what was paid."""

    lines: list[ServiceLine]
    payments: list[dict]
    tax_label: str
    tax: Decimal
    total: Decimal
    figures: Balance
    # A course paid ahead: each session given and what it drew from the package.
    sessions_given: list[ServiceLine]
    # The numbers of the credit notes that took `figures.credited` off, each a document of its
    # own (`credit_note`), for an insurer or an accountant to match.
    credit_notes: list[str]
    # False for a missed visit's or a late cancellation's fee (`NOT_CARE`): its receipt proves
    # the payment, and is no receipt for treatment an insurer could be sent.
    for_care: bool = True

    @property
    def amount_paid(self) -> Decimal:
        """What the patient paid, less refunds: not what their insurer paid the clinic directly,
        which the insurer would otherwise reimburse them a second time."""
        return sum((p["amount"] for p in self.payments if not p["by_insurer"]), ZERO)

    @property
    def paid_by_insurer(self) -> Decimal:
        return sum((p["amount"] for p in self.payments if p["by_insurer"]), ZERO)

    @property
    def filename(self) -> str:
        return f"receipt-{self.number}.pdf"


@dataclass(frozen=True)
class Superbill(Receipt):
    """A receipt with the codes a US insurer needs to reimburse the patient."""

    tax_id: str = ""
    place_of_service: str = ""
    diagnoses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"superbill-{self.number}.pdf"

    @property
    def procedures(self) -> list[ServiceLine]:
        """What the insurer reimburses: each session given (a course paid ahead bills the
        sessions drawn so far, not the course), else the invoice's lines."""
        return self.sessions_given or self.lines

    @property
    def providers(self) -> list[Provider]:
        """Each practitioner who gave a procedure billed, once, in order (a course's sessions may
        be given by more than one)."""
        return list(dict.fromkeys(line.provider for line in self.procedures))

    @property
    def procedures_total(self) -> Decimal:
        return sum((line.amount for line in self.procedures), ZERO)


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(invoice.lines.select_related("practitioner__user", "service"))


def receipt(invoice: Invoice) -> Receipt:
    """The receipt of `invoice` (fetched through `booking.billing.access`)."""
    return Receipt(**_receipt_fields(invoice))


def _service_lines(invoice: Invoice) -> list[ServiceLine]:
    return [
        ServiceLine(
            date=line.date_of_service,
            description=line.description,
            provider=Provider.of(line.practitioner),
            amount=line.amount,
            appointment_id=invoice.appointment_id,
        )
        for line in _lines(invoice)
    ]


def _receipt_fields(invoice: Invoice) -> dict:
    payments = invoice.payments.filter(status=PaymentStatus.SUCCEEDED).order_by("received_at")
    return {
        "number": invoice.display_number,
        "issued_on": invoice.issued_on,
        "currency": invoice.currency,
        "clinic": Clinic.at(invoice.location),
        "patient_name": invoice.patient.full_name,
        "patient_born": invoice.patient.date_of_birth,
        "lines": _service_lines(invoice),
        "sessions_given": [
            ServiceLine(
                date=drawn.appointment.local_starts_at.date(),
                description=visit_description(drawn.appointment),
                provider=Provider.of(drawn.appointment.practitioner),
                amount=drawn.amount,
                appointment_id=drawn.appointment_id,
            )
            for drawn in invoice.drawdowns.select_related(
                "appointment__location",
                "appointment__service",
                "appointment__course",
                "appointment__practitioner__user",
            ).order_by("appointment__starts_at")
        ],
        "payments": [
            {
                "date": payment.received_on,
                "method": payment.get_method_display(),
                "kind": payment.get_kind_display(),
                "amount": payment.signed_amount,
                "by_insurer": payment.method == PaymentMethod.INSURER,
            }
            for payment in payments
        ],
        "tax_label": invoice.tax_label,
        "tax": invoice.tax,
        "total": invoice.total,
        "figures": balance_of(invoice),
        "credit_notes": [
            note.display_number for note in invoice.credit_notes.order_by("issued_at", "pk")
        ],
        "for_care": invoice.kind not in NOT_CARE,
    }


# A missed visit or a late cancellation is no care given: no insurer reimburses it, and a
# superbill for it would only be sent back.
NOT_CARE = frozenset({InvoiceKind.NO_SHOW, InvoiceKind.LATE_CANCELLATION})


def offers_superbill(invoice: Invoice) -> bool:
    """Superbills are for US insurers: a location with an EIN issues them, for care given."""
    return bool(invoice.location.tax_id) and invoice.kind not in NOT_CARE


def superbill(invoice: Invoice) -> Superbill:
    """The superbill of `invoice`: the receipt, the provider's NPI, the tax id and place of
    service, the ICD-10-CM diagnosis from the assessment and a CPT code per needling session (for
    a course paid ahead, per session drawn from it)."""
    if not offers_superbill(invoice):
        raise NoSuperbill(f"No superbill for invoice {invoice.display_number}.")
    fields = _receipt_fields(invoice)
    notes = _session_notes(invoice)
    fields["lines"] = [_coded(line, notes.get(line.appointment_id)) for line in fields["lines"]]
    fields["sessions_given"] = [
        _coded(line, notes.get(line.appointment_id)) for line in fields["sessions_given"]
    ]
    return Superbill(
        **fields,
        tax_id=invoice.location.tax_id,
        place_of_service=invoice.location.place_of_service,
        diagnoses=diagnosis_codes(_assessment_for(invoice, notes)),
    )


def _coded(line: ServiceLine, note: SessionNote | None) -> ServiceLine:
    """`line` with the CPT code of the needling its session note records (one unit per session:
    the code itself says how many muscles)."""
    muscles = muscles_needled(note) if note is not None else 0
    if not muscles:
        return line
    return replace(line, muscles=muscles, procedure_code=needling_code(muscles), units=1)


def muscles_needled(note: SessionNote) -> int:
    """How many muscles the session needled: each muscle on each side counts once (a left and a
    right soleus are two muscles; two needles in one soleus are one)."""
    rows = note.current().muscles_needled or []
    return len({(row.get("muscle"), row.get("side")) for row in rows if row.get("muscle")})


def needling_code(muscles: int) -> str:
    """CPT 20560 for one or two muscles, 20561 for three or more."""
    if muscles < 1:
        return ""
    return CPT_NEEDLING_1_2_MUSCLES if muscles <= 2 else CPT_NEEDLING_3_OR_MORE


def diagnosis_codes(assessment: AssessmentNote | None) -> list[tuple[str, str]]:
    """[(ICD-10-CM code, words)] from the assessment's working diagnosis; an 'other' diagnosis
    has no code the product can know, so it is written out for the practitioner to code."""
    if assessment is None:
        return []
    current = assessment.current()
    if current.diagnosis == Diagnosis.PLANTAR_FASCIITIS:
        side = f", {current.get_diagnosis_side_display().lower()}" if current.diagnosis_side else ""
        return [(ICD10_PLANTAR_FASCIITIS, f"Plantar fasciitis{side}")]
    if current.diagnosis == Diagnosis.OTHER and current.diagnosis_other:
        return [("", current.diagnosis_other)]
    return []


def _session_notes(invoice: Invoice) -> dict[int, SessionNote]:
    """The signed session notes of the invoice's visit (or of the sessions drawn from a course
    paid ahead), by appointment."""
    appointment_ids = [invoice.appointment_id] if invoice.appointment_id else []
    appointment_ids += list(invoice.drawdowns.values_list("appointment_id", flat=True))
    if not appointment_ids:
        return {}
    notes = (
        SessionNote.objects.filter(
            patient_id=invoice.patient_id,
            appointment_id__in=appointment_ids,
            signed_at__isnull=False,
        )
        .select_related("assessment", "location")
        .prefetch_related("amendments", "assessment__amendments")
    )
    return {note.appointment_id: note for note in notes}


def _assessment_for(invoice: Invoice, notes: dict[int, SessionNote]) -> AssessmentNote | None:
    """The assessment that prescribed the sessions billed, else the patient's latest signed
    assessment up to the last day billed."""
    for note in notes.values():
        return note.assessment
    last_day = max((line.date_of_service for line in invoice.lines.all()), default=None)
    assessments = AssessmentNote.objects.filter(
        patient_id=invoice.patient_id, signed_at__isnull=False
    )
    if last_day is not None:
        # A day's grace: an assessment signed the evening after the visit still describes it.
        assessments = assessments.filter(Q(signed_at__date__lte=last_day + dt.timedelta(days=1)))
    return assessments.prefetch_related("amendments").order_by("-signed_at", "-pk").first()


# --- The year-end statement ---------------------------------------------------------------------


def patients_own_payments() -> QuerySet[Payment]:
    """The money a patient paid or was given back: received, and not an insurer's direct
    payment or its refund to the insurer."""
    return Payment.objects.filter(status=PaymentStatus.SUCCEEDED).exclude(
        method=PaymentMethod.INSURER
    )


@dataclass(frozen=True)
class StatementRow:
    date: dt.date
    invoice: str
    location: str
    services: str
    method: str
    amount: Decimal


@dataclass(frozen=True)
class YearEndStatement:
    """Every payment (less refunds) a patient made in a calendar year, by currency: what they
    claim as medical expenses on their tax return. What an insurer paid the clinic directly is
    not the patient's expense (a return may claim only what was not reimbursed), so it is left
    out, and so is money given back to the insurer."""

    year: int
    clinic_name: str
    patient_name: str
    patient_born: dt.date | None
    rows: list[StatementRow]
    totals: dict[str, Decimal]
    currencies: dict[str, list[StatementRow]]
    # Fees for missed visits and late cancellations (`NOT_CARE`) paid in the year: listed so
    # that every payment is accounted for, but apart, outside the totals a return may claim.
    fees: dict[str, list[StatementRow]] = field(default_factory=dict)
    fee_totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"statement-{self.year}-{slugify(self.patient_name) or 'patient'}.pdf"


def year_end_statement(
    patient: Patient, year: int, *, invoices: QuerySet[Invoice] | None = None
) -> YearEndStatement:
    """`patient`'s payments received in `year`; only on `invoices` when given (the front desk's
    statement covers the invoices of their own locations, as their invoice pages do)."""
    payments = patients_own_payments().filter(invoice__patient=patient)
    if invoices is not None:
        payments = payments.filter(invoice__in=invoices)
    payments = (
        payments.filter(received_on__year=year)
        .select_related("invoice__location")
        .prefetch_related("invoice__lines")
        .order_by("received_on", "received_at", "pk")
    )
    currencies: dict[str, list[StatementRow]] = {}
    totals: dict[str, Decimal] = {}
    fees: dict[str, list[StatementRow]] = {}
    fee_totals: dict[str, Decimal] = {}
    for payment in payments:
        invoice = payment.invoice
        amount = payment.signed_amount
        row = StatementRow(
            date=payment.received_on,
            invoice=invoice.display_number,
            location=invoice.location.name,
            services="; ".join(
                f"{line.description} ({line.date_of_service:%-d %b %Y})"
                for line in invoice.lines.all()
            ),
            method=payment.get_method_display()
            + (" (refund)" if payment.kind == PaymentKind.REFUND else ""),
            amount=amount,
        )
        listed, sums = (fees, fee_totals) if invoice.kind in NOT_CARE else (currencies, totals)
        listed.setdefault(invoice.currency, []).append(row)
        sums[invoice.currency] = sums.get(invoice.currency, ZERO) + amount
    return YearEndStatement(
        year=year,
        clinic_name=settings.CLINIC_NAME,
        patient_name=patient.full_name,
        patient_born=patient.date_of_birth,
        rows=[row for rows in currencies.values() for row in rows],
        totals=totals,
        currencies=currencies,
        fees=fees,
        fee_totals=fee_totals,
    )


# --- Credit notes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditedInvoice:
    """The invoice a credit note takes money off, as its receipt lists it."""

    number: str
    issued_on: dt.date
    kind: str
    currency: str
    lines: list[ServiceLine]
    tax_label: str
    tax: Decimal
    total: Decimal
    # False for a missed visit's or a late cancellation's fee (`NOT_CARE`), as on its receipt.
    for_care: bool = True


@dataclass(frozen=True)
class CreditNoteDocument(Heading):
    """A credit note as the patient and the clinic's accountant read it: its own number and date,
    the clinic (with its tax registration), the patient, the invoice it reduces, why, and by how
    much, with the tax it gives back when the invoice charged tax."""

    invoice: CreditedInvoice
    reason: str
    amount: Decimal
    tax: Decimal

    @property
    def before_tax(self) -> Decimal:
        return self.amount - self.tax

    @property
    def filename(self) -> str:
        return f"credit-note-{self.number}.pdf"


def credit_note(note: CreditNote) -> CreditNoteDocument:
    """The document of `note` (fetched through `booking.billing.access`): dated on the clock of
    the location that numbered it, as its number's year is."""
    invoice = note.invoice
    return CreditNoteDocument(
        number=note.display_number,
        issued_on=note.issued_at.astimezone(note.location.zone).date(),
        currency=invoice.currency,
        clinic=Clinic.at(note.location),
        patient_name=invoice.patient.full_name,
        patient_born=invoice.patient.date_of_birth,
        invoice=CreditedInvoice(
            number=invoice.display_number,
            issued_on=invoice.issued_on,
            kind=invoice.get_kind_display(),
            currency=invoice.currency,
            lines=_service_lines(invoice),
            tax_label=invoice.tax_label,
            tax=invoice.tax,
            total=invoice.total,
            for_care=invoice.kind not in NOT_CARE,
        ),
        reason=note.reason,
        amount=note.amount,
        tax=tax_credited(note),
    )


def tax_credited(note: CreditNote) -> Decimal:
    """The part of `note` that is tax given back: the invoice's tax in the share of its total the
    note takes off. Worked out on what the invoice's credit notes have taken off up to this one,
    less what they had taken before it, so that notes crediting a whole invoice give back its tax
    to the cent (each rounded on its own could be a cent off)."""
    invoice = note.invoice
    if not invoice.tax:
        return ZERO
    earlier = (
        invoice.credit_notes.filter(
            Q(issued_at__lt=note.issued_at) | Q(issued_at=note.issued_at, pk__lt=note.pk)
        ).aggregate(amount=Sum("amount"))["amount"]
        or ZERO
    )

    def tax_in(credited: Decimal) -> Decimal:
        # Half a cent rounds up, as the invoice's own tax did (`LocationBilling.tax_on`).
        share = invoice.tax * credited / invoice.total
        return share.quantize(CENTS, rounding=ROUND_HALF_UP)

    return tax_in(earlier + note.amount) - tax_in(earlier)
