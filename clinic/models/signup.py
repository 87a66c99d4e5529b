"""A sign-up waiting for its email address to be confirmed."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

# --- Sign-up waiting for its email address to be confirmed -------------------------------------


class SignUpRequest(models.Model):
    """A patient's sign-up, kept until the link emailed to the address is used. No account
    exists before then, so the sign-up page answers the same for any address (one that has an
    account gets an email saying so instead), and nobody can hold an address they do not read.
    A new sign-up for the same address replaces this one (its link stops working)."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30)
    # The password chosen at sign-up, hashed as User.password is.
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email=Lower("email")), name="signup_request_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-up waiting for {self.email}"
