"""Money in the database: each location's terms (currency, tax, cancellation policy), the fee
schedule, invoices with their lines, credit notes, payments and refunds, and an invoice's history.

Amounts are `Decimal` with two places in the location's currency, never floats, with CHECK
constraints. An invoice is issued when it is written and never changes afterwards: a trigger
(migration 0002) refuses UPDATE and DELETE of invoices, their lines and credit notes, and a
deferred trigger refuses a line added to an invoice after it was issued (its lines must add up
to its subtotal when the transaction commits). A correction is a credit note that names the
invoice. The balance is worked out, never stored:
total - payments + refunds - credit notes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from booking.models import Appointment, Course
from clinic.models import Location, Patient, Practitioner, Service, actor_field

CENTS = Decimal("0.01")
# The highest fee a location may set (a visit's, a late cancellation's, a missed visit's): a
# course paid ahead, six sessions at this fee with the highest tax, still fits an invoice's
# amounts (`money_field`), where a larger one would fail to be written at all.
HIGHEST_FEE = Decimal("1000000.00")
# A location's invoice number prefix: LEA in LEA-2027-0042.
INVOICE_PREFIX = r"^[A-Z][A-Z0-9]{1,5}$"


def money_field(verbose_name: str = "", **kwargs) -> models.DecimalField:
    """An amount in the location's currency: up to 99,999,999.99, exact."""
    return models.DecimalField(verbose_name or None, max_digits=10, decimal_places=2, **kwargs)


def fee_field(verbose_name: str = "", **kwargs) -> models.DecimalField:
    """A fee the clinic sets: from 0 up to `HIGHEST_FEE`, said on the field."""
    return money_field(
        verbose_name,
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(HIGHEST_FEE)],
        **kwargs,
    )


class Currency(models.TextChoices):
    CAD = "CAD", "Canadian dollar"
    USD = "USD", "US dollar"


# --- A location's terms -------------------------------------------------------------------------


class LocationBilling(models.Model):
    """What a location bills in and how it taxes: data a manager keeps in the admin, because the
    rule (physiotherapy by a regulated practitioner is exempt in Ontario and Maryland) is law that
    can change, not code."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="billing")
    invoice_prefix = models.CharField(
        "invoice number prefix",
        max_length=6,
        unique=True,
        validators=[
            RegexValidator(
                INVOICE_PREFIX,
                "Two to six capital letters or digits, beginning with a letter, e.g. LEA.",
            )
        ],
        help_text="Printed before the number of every invoice and credit note of this location "
        "(LEA in LEA-2027-0042), so that no two locations print the same number. Fixed, like "
        "the currency, once the location has issued an invoice.",
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        help_text="As a fraction: 0.1300 for 13% HST. Ignored when the services are exempt.",
    )
    tax_exempt = models.BooleanField(
        default=True, help_text="Services billed here carry no sales tax."
    )
    tax_label = models.CharField(
        max_length=120,
        help_text="What the invoice says about tax, e.g. 'HST exempt (physiotherapy)' or "
        "'HST 13%'.",
    )
    tax_number = models.CharField(
        "tax registration number", max_length=40, blank=True, help_text="Printed on invoices."
    )

    class Meta:
        verbose_name = "location's billing terms"
        verbose_name_plural = "locations' billing terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="billing_currency_is_known"
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lt=1), name="billing_tax_rate_is_a_fraction"
            ),
            models.CheckConstraint(
                condition=Q(invoice_prefix__regex=INVOICE_PREFIX),
                name="billing_invoice_prefix_is_letters_and_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.currency}, {self.tax_label}"

    def tax_on(self, amount: Decimal) -> Decimal:
        if self.tax_exempt:
            return Decimal("0.00")
        # Half a cent or more rounds up, as the CRA and most US states say (Decimal's own default,
        # the banker's rounding, would round 14.625 down to 14.62).
        return (amount * self.tax_rate).quantize(CENTS, rounding=ROUND_HALF_UP)


class CancellationPolicy(models.Model):
    """What a late cancellation or a missed visit costs at a location. Which cancellation is
    late is the location's notice (`Location.cancellation_deadline`): one notice for the late
    flag, the online cut-off and the fee."""

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, related_name="cancellation_policy"
    )
    late_cancellation_fee = fee_field("late-cancellation fee", default=Decimal("0.00"))
    no_show_fee = fee_field("no-show fee", default=Decimal("0.00"))
    first_offence_waived = models.BooleanField(
        default=True,
        help_text="A patient's first late cancellation or missed visit at this location is "
        "not charged.",
    )

    class Meta:
        verbose_name_plural = "cancellation policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(late_cancellation_fee__gte=0, no_show_fee__gte=0),
                name="cancellation_fees_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(late_cancellation_fee__lte=HIGHEST_FEE, no_show_fee__lte=HIGHEST_FEE),
                name="cancellation_fees_at_most_the_highest_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"Cancellation policy of {self.location}"


class Fee(models.Model):
    """One line of the fee schedule: what a service (of a length, or of any length) costs at a
    location from a date on. The fee of a visit is the latest one applying on its local date."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="fees")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="fees")
    minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For this length only; empty for any length."
    )
    applies_from = models.DateField(help_text="On the location's calendar.")
    amount = fee_field()

    class Meta:
        ordering = ["location", "service", "minutes", "-applies_from"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__lte=HIGHEST_FEE), name="fee_at_most_the_highest_fee"
            ),
            # One fee a day for a location, service and length: which one applies is never in
            # doubt (NULL minutes, "any length", counts as one value here).
            models.UniqueConstraint(
                fields=["location", "service", "minutes", "applies_from"],
                nulls_distinct=False,
                name="fee_one_per_service_length_and_date",
            ),
        ]

    def __str__(self) -> str:
        length = f" {self.minutes} min" if self.minutes else ""
        return f"{self.service}{length} at {self.location}: {self.amount} from {self.applies_from}"


# --- Invoices -------------------------------------------------------------------------------------


class InvoiceKind(models.TextChoices):
    VISIT = "visit", "Visit"
    LATE_CANCELLATION = "late_cancellation", "Late cancellation"
    NO_SHOW = "no_show", "Missed visit"
    COURSE_PACKAGE = "course_package", "Course paid ahead"


class Series(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class NumberCounter(models.Model):
    """The last number given in a series (invoices, credit notes) at a location in a year. Taken
    with a row lock in the transaction that writes the invoice, so numbers have no gaps: a
    transaction that rolls back gives its number back with it."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    series = models.CharField(max_length=12, choices=Series.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "year", "series"], name="number_counter_one_per_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_series_display()} {self.year} at {self.location}: {self.last_number}"


class Invoice(models.Model):
    """An invoice, issued when written: what was done (its lines), for whom, where, by whom."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="invoices")
    # The location's prefix when the invoice was issued, as printed (a trigger checks it is).
    number_prefix = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invoices")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="invoices"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="invoices")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    issued_on = models.DateField(help_text="On the location's calendar.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    subtotal = money_field()
    tax_label = models.CharField(max_length=120)
    tax = money_field()
    total = money_field()
    issued_by = actor_field()

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "issued_at"], name="invoice_patient_issued"),
            models.Index(fields=["location", "issued_on"], name="invoice_location_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "year", "number"], name="invoice_number_unique_per_year"
            ),
            # What is printed names one invoice (each location has a prefix of its own).
            models.UniqueConstraint(
                fields=["number_prefix", "year", "number"], name="invoice_number_printed_once"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="invoice_number_positive"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, tax__gte=0), name="invoice_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax")), name="invoice_total_is_sum"
            ),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="invoice_currency_is_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_is_known"
            ),
            # A visit or a late cancellation is invoiced once. A missed visit is charged each
            # time it is marked missed: a no-show undone has its fee credited in full, and if
            # the visit is missed after all (the wrong row's no-show was undone, or the patient
            # left before being seen) it is charged again. Each charge is written with its
            # status change, under the appointment's row lock, so a no-show is never charged
            # twice (`booking.services.change_status`).
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=Q(appointment__isnull=False) & ~Q(kind="no_show"),
                name="invoice_one_per_appointment_and_kind_but_missed_visits",
            ),
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(kind="course_package"),
                name="invoice_one_package_per_course",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.display_number}"

    @property
    def display_number(self) -> str:
        """'LEA-2027-0042': the location's prefix, the year and the number within it."""
        return f"{self.number_prefix}-{self.year}-{self.number:04d}"


class InvoiceLine(models.Model):
    """One thing invoiced: enough for a receipt (the service, its date, who gave it)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    description = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    date_of_service = models.DateField()
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(default=1)
    unit_amount = money_field()
    amount = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, unit_amount__gte=0), name="invoice_line_sane"
            ),
            models.CheckConstraint(
                condition=Q(amount=F("quantity") * F("unit_amount")),
                name="invoice_line_amount_is_quantity_times_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class CreditNote(models.Model):
    """A correction of an issued invoice (a fee waived, a line charged in error, a course's
    unused sessions credited): numbered in its own series, and as unchangeable as the invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    number_prefix = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    amount = money_field()
    reason = models.CharField(max_length=300)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = actor_field(blank=False)

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "year", "number"], name="credit_note_number_unique_per_year"
            ),
            models.UniqueConstraint(
                fields=["number_prefix", "year", "number"], name="credit_note_number_printed_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_note_says_why"),
        ]

    def __str__(self) -> str:
        return f"Credit note {self.display_number}"

    @property
    def display_number(self) -> str:
        """'LEA-2027-C0003': the invoice's prefix, the year and the number in the credit notes'
        own series (C, so that it never reads as an invoice's number)."""
        return f"{self.number_prefix}-{self.year}-C{self.number:04d}"


# --- Payments -------------------------------------------------------------------------------------


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card at the terminal"
    DEBIT = "debit", "Debit"
    CASH = "cash", "Cash"
    E_TRANSFER = "e_transfer", "E-transfer"
    INSURER = "insurer", "Insurer paid directly"
    # No money changes hands: what one invoice holds in the patient's favour pays another of
    # theirs (a refund on the one, a payment on the other; `payments.move_credit`).
    CREDIT_MOVED = "credit_moved", "Credit moved between invoices"


# What the desk may choose when it takes or gives back money.
DESK_METHODS = [(value, label) for value, label in PaymentMethod.choices if value != "credit_moved"]


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"


class PaymentStatus(models.TextChoices):
    """A desk payment succeeds when it is recorded; a processor's may wait for its answer."""

    PENDING = "pending", "Waiting for the processor"
    SUCCEEDED = "succeeded", "Received"
    FAILED = "failed", "Failed"


class Payment(models.Model):
    """Money received for an invoice, or given back (a refund). Only succeeded rows count
    towards the balance; `processor` and `processor_reference` are where a card processor's
    charge id would go (`desk` is the terminal or the till, recorded by hand)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices, default="payment")
    method = models.CharField(max_length=12, choices=PaymentMethod.choices)
    amount = money_field()
    received_at = models.DateTimeField(default=timezone.now)
    received_on = models.DateField(help_text="On the location's calendar (the day close).")
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    processor = models.CharField(max_length=30, default="desk")
    processor_reference = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=200, blank=True)
    recorded_by = actor_field(blank=False)
    moved_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moved_to",
        help_text="For credit moved from another invoice: the refund on that invoice it came from.",
    )

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["received_on"], name="payment_day")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=PaymentKind.values), name="payment_kind_is_known"
            ),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_is_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_is_known"
            ),
            # Credit moved in names the refund it came out of, and only such a payment names one
            # (that the pair agree is checked at commit: billing migration 0004).
            models.CheckConstraint(
                condition=(Q(moved_from__isnull=True) & ~Q(method="credit_moved", kind="payment"))
                | Q(moved_from__isnull=False, method="credit_moved", kind="payment"),
                name="payment_moved_credit_names_its_refund",
            ),
            # Moved credit is settled when it is written (nothing to wait for): a pending or
            # failed half would count on one invoice and not on the other.
            models.CheckConstraint(
                condition=~Q(method="credit_moved") | Q(status="succeeded"),
                name="payment_moved_credit_is_settled",
            ),
            # A processor's charge is recorded once, however often its answer arrives.
            models.UniqueConstraint(
                fields=["processor", "processor_reference"],
                condition=~Q(processor_reference=""),
                name="payment_processor_reference_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} by {self.get_method_display()}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind == PaymentKind.PAYMENT else -self.amount


class InvoiceEvent(models.Model):
    """One line of an invoice's history: issued, paid, refunded, credited, a fee waived."""

    class Kind(models.TextChoices):
        ISSUED = "issued", "Issued"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        CREDIT = "credit", "Credit note"
        WAIVED = "waived", "Fee waived"
        DRAWN = "drawn", "Session drawn from the package"
        # A course's package settled when the course ended early: nothing more is drawn from it.
        SETTLED = "settled", "Course ended early"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = actor_field(blank=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = money_field(null=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class SessionDrawdown(models.Model):
    """A completed session of a course paid ahead, drawn from the course's package invoice. Only
    completed sessions draw: a cancelled one never does, so its share stays in the package."""

    package = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="drawdowns")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="drawdown"
    )
    amount = money_field()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="drawdown_not_negative")
        ]

    def __str__(self) -> str:
        return f"Session drawn from {self.package}: {self.amount}"
