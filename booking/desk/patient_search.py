"""Finding a patient who phones or walks in: by name, phone, email or date of birth, forgiving
of case and accents ("cote" finds Robert Côté) and of small misspellings ("hadad" finds Nadia
Haddad).

PostgreSQL does the work on an indexed, folded text of each patient's name, email and phone
digits (migration `booking.0007_patient_search`): every word typed must appear in it; when
nothing matches that way, the closest names by trigram similarity are offered instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import F, Func, QuerySet, TextField, Value
from django.utils import timezone

from clinic.models import Patient

MAX_RESULTS = 20
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y")
_PHONE = re.compile(r"^[\d\s().+-]+$")


class Fold(Func):
    """Lower-case and without accents, as PostgreSQL's `unaccent` folds them."""

    function = "public.booking_fold"
    output_field = TextField()


class SearchText(Func):
    """A patient's name, email and phone digits folded into one text (indexed)."""

    function = "public.booking_patient_search_text"
    output_field = TextField()

    def __init__(self):
        super().__init__(F("first_name"), F("last_name"), F("email"), F("phone"))


@dataclass(frozen=True)
class SearchTerms:
    words: tuple[str, ...]  # name or email fragments
    digits: tuple[str, ...]  # phone fragments
    dates: tuple[dt.date, ...]  # possible dates of birth

    def __bool__(self) -> bool:
        return bool(self.words or self.digits or self.dates)


def parse_terms(text: str, born: dt.date | None = None) -> SearchTerms:
    """Split what was typed into name words, phone digits and dates of birth.

    A date such as 03/04/1975 is read both ways (day/month and month/day): the clinics are in
    Canada and the United States."""
    words: list[str] = []
    digits: list[str] = []
    dates: set[dt.date] = {born} if born else set()
    text = (text or "").strip()
    stripped = re.sub(r"\D", "", text)
    if text and _PHONE.match(text) and len(stripped) >= 7 and not _as_dates(text):
        return SearchTerms((), (stripped,), tuple(sorted(dates)))
    for token in text.split():
        found = _as_dates(token)
        if found:
            dates.update(found)
        elif _PHONE.match(token) and len(re.sub(r"\D", "", token)) >= 3:
            digits.append(re.sub(r"\D", "", token))
        else:
            words.append(token.strip(",;"))
    return SearchTerms(tuple(w for w in words if w), tuple(digits), tuple(sorted(dates)))


def _as_dates(token: str) -> set[dt.date]:
    found = set()
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(token, fmt).date()
        except ValueError:
            continue
        if dt.date(1900, 1, 1) <= day <= timezone.localdate():
            found.add(day)
    return found


def find_patients(patients: QuerySet[Patient], terms: SearchTerms) -> tuple[list[Patient], bool]:
    """Up to MAX_RESULTS of `patients` matching every term, and whether the list is of close
    spellings rather than exact matches."""
    if not terms:
        return [], False
    found = patients.annotate(search_text=SearchText())
    for word in terms.words:
        found = found.filter(search_text__contains=Fold(Value(word)))
    for digits in terms.digits:
        found = found.filter(search_text__contains=Value(digits))
    if terms.dates:
        found = found.filter(date_of_birth__in=terms.dates)
    exact = list(found.order_by("last_name", "first_name", "pk")[:MAX_RESULTS])
    if exact or not terms.words:
        return exact, False
    # Nothing has every word: offer the names closest to what was typed.
    typed = Fold(Value(" ".join(terms.words)))
    close = patients.annotate(
        search_text=SearchText(), likeness=TrigramWordSimilarity(typed, "search_text")
    ).filter(search_text__trigram_word_similar=typed)
    if terms.dates:
        close = close.filter(date_of_birth__in=terms.dates)
    return list(close.order_by("-likeness", "last_name", "pk")[:MAX_RESULTS]), True


def possible_duplicates(
    patients: QuerySet[Patient], *, first_name: str, last_name: str, date_of_birth: dt.date
) -> list[Patient]:
    """Patients born the same day whose name is close: probably the same person."""
    typed = Fold(Value(f"{first_name} {last_name}"))
    return list(
        patients.filter(date_of_birth=date_of_birth)
        .annotate(search_text=SearchText(), likeness=TrigramWordSimilarity(typed, "search_text"))
        .filter(likeness__gte=0.4)
        .order_by("-likeness")[:5]
    )
