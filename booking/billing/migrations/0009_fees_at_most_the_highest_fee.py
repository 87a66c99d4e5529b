"""A fee the clinic sets is at most 1,000,000.00 (billing.models.HIGHEST_FEE): a course of six
paid ahead at that fee with the highest tax still fits an invoice's amounts, where a larger fee
made the invoice fail to be written (a 500 at check-out). A fee already above it stops this
migration: lower it in the administration first."""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0008_invoice_numbers_printed_once'),
        ('clinic', '0012_user_role_api_client'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cancellationpolicy',
            name='late_cancellation_fee',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0.00')), django.core.validators.MaxValueValidator(Decimal('1000000.00'))], verbose_name='late-cancellation fee'),
        ),
        migrations.AlterField(
            model_name='cancellationpolicy',
            name='no_show_fee',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0.00')), django.core.validators.MaxValueValidator(Decimal('1000000.00'))], verbose_name='no-show fee'),
        ),
        migrations.AlterField(
            model_name='fee',
            name='amount',
            field=models.DecimalField(decimal_places=2, max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0.00')), django.core.validators.MaxValueValidator(Decimal('1000000.00'))]),
        ),
        migrations.AddConstraint(
            model_name='cancellationpolicy',
            constraint=models.CheckConstraint(condition=models.Q(('late_cancellation_fee__lte', Decimal('1000000.00')), ('no_show_fee__lte', Decimal('1000000.00'))), name='cancellation_fees_at_most_the_highest_fee'),
        ),
        migrations.AddConstraint(
            model_name='fee',
            constraint=models.CheckConstraint(condition=models.Q(('amount__lte', Decimal('1000000.00'))), name='fee_at_most_the_highest_fee'),
        ),
    ]
