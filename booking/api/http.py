"""What every FHIR request goes through: the bearer token, the client's rate limit, its
scopes and locations, the access log written as the client, and the shapes of every answer
(a resource, a searchset `Bundle` with paging links, an `OperationOutcome` with its status).

Views declare what they need with `@endpoint(...)` and receive a `Caller`; they never look at
tokens or headers themselves, so none can forget a check.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import connection
from django.db.models import OuterRef
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model

from booking.api import scopes as api_scopes
from booking.api.models import ApiClient
from clinic.audit import record_access, record_accesses
from clinic.models import AccessLog, Patient, Role

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
ACTOR_ROLE = Role.API_CLIENT.value
BIGGEST_KEY = 2**63 - 1  # PostgreSQL's bigint: an id past it names nothing
DEFAULT_COUNT = 50
MAX_COUNT = 200
# A page's end (offset + count) must fit PostgreSQL's bigint OFFSET and a Python slice.
MAX_OFFSET = BIGGEST_KEY - MAX_COUNT
HOUR = dt.timedelta(hours=1)
# The years a date or instant the API reads may fall in: past them, adding a visit's length or
# a day would leave what Python's datetime and PostgreSQL hold.
YEARS = range(1900, 9001)


# --- Errors as OperationOutcomes ---------------------------------------------------------------


class ApiError(Exception):
    """A refusal with its HTTP status and FHIR issue code; `str()` is the diagnostics."""

    def __init__(self, status: int, code: str, text: str, headers: dict | None = None):
        self.status = status
        self.code = code
        self.headers = headers or {}
        super().__init__(text)


def not_found(resource_type: str, resource_id: str) -> ApiError:
    # The same answer whether the record does not exist or belongs to a location the client
    # may not see: an id tried out says nothing.
    return ApiError(404, "not-found", f"{resource_type}/{resource_id} is not known.")


def invalid(text: str) -> ApiError:
    return ApiError(400, "invalid", text)


def conflict(text: str) -> ApiError:
    return ApiError(409, "conflict", text)


def operation_outcome(code: str, text: str, severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, separators=(",", ":")),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: ApiError) -> HttpResponse:
    return fhir_response(operation_outcome(error.code, str(error)), error.status, error.headers)


# --- The caller: a client, its token's scopes and its locations -----------------------------------


@dataclass
class Caller:
    client: ApiClient
    scopes: frozenset[str]
    location_ids: frozenset[int]
    request: HttpRequest

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.may(scope):
            raise ApiError(403, "forbidden", f"This client's token does not carry {scope}.")

    def base(self) -> str:
        return self.request.build_absolute_uri("/fhir").rstrip("/")

    def log(self, patient: Patient, record, action: str = AccessLog.Action.VIEW) -> None:
        """The access log, as this client: it read (or wrote) `record` of `patient`."""
        record_access(**self._who(), patient=patient, record=record, action=action)

    def log_type(
        self, patient: Patient, record_type: str, action: str = AccessLog.Action.VIEW
    ) -> None:
        """The access log, as this client, for a read of no single record (a patient's busy
        times read by a slot search)."""
        record_access(**self._who(), patient=patient, record_type=record_type, action=action)

    def log_list(self, patient_ids: Iterable[int], record_type: str) -> None:
        """A search showed these patients' records: one list row each, in one statement."""
        ids = list(dict.fromkeys(patient_ids))
        if ids:
            record_accesses(
                **self._who(),
                patient_ids=ids,
                record_type=record_type,
                action=AccessLog.Action.LIST,
            )

    def _who(self) -> dict:
        """Who the access log names for what this client does: its account, as the API."""
        return {"actor": self.client.account, "actor_role": ACTOR_ROLE, "request": self.request}


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "login",
            "A bearer token is needed (POST /fhir/auth/token with the client credentials).",
            {"WWW-Authenticate": 'Bearer realm="fhir"'},
        )
    return token.strip()


def authenticate(request: HttpRequest) -> Caller:
    """The caller of a token that is live, of a client that is not revoked, with the client's
    locations, in one query."""
    token = _bearer(request)
    checksum = hashlib.sha256(token.encode()).hexdigest()
    access_token = (
        get_access_token_model()
        .objects.select_related("application__api_client__account")
        .annotate(
            location_ids=ArraySubquery(
                ApiClient.locations.through.objects.filter(
                    apiclient_id=OuterRef("application__api_client__id")
                ).values("location_id")
            )
        )
        .filter(
            token_checksum=checksum,
            # A token of an OAuth application that is no API client (one made by hand in
            # the admin) opens nothing.
            application__api_client__isnull=False,
            application__api_client__revoked_at__isnull=True,
        )
        .first()
    )
    if access_token is None or access_token.is_expired():
        raise ApiError(
            401,
            "login",
            "The token is not valid (expired, revoked or unknown).",
            {"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_token"'},
        )
    client = access_token.application.api_client
    # A scope taken from the client after the token was issued is gone at once.
    granted = frozenset(access_token.scope.split()) & frozenset(client.scopes)
    locations = frozenset(access_token.location_ids)
    return Caller(client=client, scopes=granted, location_ids=locations, request=request)


# --- The rate limit, counted in PostgreSQL --------------------------------------------------------


def count_request(client: ApiClient, now: dt.datetime) -> tuple[int, int]:
    """This request's number in the client's current minute, and the seconds until the next
    minute. One upsert: every server process counts into the same row."""
    minute = now.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO api_requestcount (client_id, minute, count) VALUES (%s, %s, 1)
            ON CONFLICT (client_id, minute)
                DO UPDATE SET count = api_requestcount.count + 1
            RETURNING count
            """,
            [client.pk, minute],
        )
        (count,) = cursor.fetchone()
        if count == 1:
            # A new minute: the client's earlier minutes are of no more use.
            cursor.execute(
                "DELETE FROM api_requestcount WHERE client_id = %s AND minute < %s",
                [client.pk, minute],
            )
    seconds_left = math.ceil((minute + dt.timedelta(minutes=1) - now).total_seconds())
    return count, max(seconds_left, 1)


def check_rate(client: ApiClient) -> None:
    count, retry_after = count_request(client, timezone.now())
    if count > client.requests_per_minute:
        raise ApiError(
            429,
            "throttled",
            f"More than {client.requests_per_minute} requests this minute; "
            f"try again in {retry_after} seconds.",
            {"Retry-After": str(retry_after)},
        )


# --- The decorator every view wears -----------------------------------------------------------------


def endpoint(*methods: str, scope: str | None = None, public: bool = False):
    """A FHIR view: the methods it answers; the scope it needs (checked after the token and the
    rate limit); `public` for the CapabilityStatement, which anyone may read. The view gets
    `(caller, request, ...)` and returns a resource dict or a response; an `ApiError` raised
    anywhere becomes its OperationOutcome."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @login_not_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "not-supported",
                        f"{request.method} is not supported here; use {', '.join(methods)}.",
                        {"Allow": ", ".join(methods)},
                    )
                if kwargs.get("pk", 0) > BIGGEST_KEY:
                    raise ApiError(404, "not-found", f"{request.path} is not known.")
                check_general_params(request)
                caller = None
                if not public:
                    caller = authenticate(request)
                    check_rate(caller.client)
                    if scope:
                        caller.require(scope)
                result = view(caller, request, *args, **kwargs)
            except ApiError as error:
                return error_response(error)
            except (RequestDataTooBig, TooManyFieldsSent) as error:
                # Django's own limits on a request: answered here in FHIR, not with the site's
                # HTML "Bad request" page.
                return error_response(over_the_limits(error))
            return result if isinstance(result, HttpResponse) else fhir_response(result)

        return wrapped

    return decorate


def over_the_limits(error: RequestDataTooBig | TooManyFieldsSent) -> ApiError:
    if isinstance(error, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return ApiError(
            413, "too-long", f"The body is larger than this server takes ({limit} bytes)."
        )
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return invalid(f"The address has more parameters than this server takes ({limit}).")


def read_endpoint(resource_type: str):
    return endpoint("GET", scope=api_scopes.read_scope(resource_type))


# --- Searches: parameters, paging and the searchset Bundle ----------------------------------------


NUL = "\x00"
SURROGATE = re.compile("[\ud800-\udfff]")


def nul_refused(where: str) -> ApiError:
    # PostgreSQL's text cannot hold it: passed on, it would fail the query with a 500.
    return invalid(f"{where}: a NUL character (U+0000) is not allowed.")


def query_params(request: HttpRequest) -> dict[str, list[str]]:
    """The address's parameters, each a list of its values; a NUL in one is a 400."""
    params = {name: request.GET.getlist(name) for name in request.GET}
    for name, values in params.items():
        if NUL in name or any(NUL in value for value in values):
            raise nul_refused(name.replace(NUL, "\\x00"))
    return params


# FHIR's parameters of every interaction (many clients add `_format=json` to each request):
# taken everywhere, checked by `check_general_params`.
GENERAL_PARAMS = frozenset({"_format", "_pretty"})
JSON_FORMATS = frozenset({"json", "application/json", FHIR_JSON})


def check_general_params(request: HttpRequest) -> None:
    """`_format` asks for JSON (anything else is a 406: this server writes only JSON);
    `_pretty` is true or false (and changes nothing)."""
    for value in request.GET.getlist("_format"):
        # An unencoded "+" arrives as a space: "application/fhir json".
        asked = value.split(";")[0].strip().replace(" ", "+").lower()
        if asked not in JSON_FORMATS:
            raise ApiError(
                406, "not-supported", f"This server answers in JSON only, not {value!r}."
            )
    for value in request.GET.getlist("_pretty"):
        if value not in ("true", "false"):
            raise invalid("_pretty must be true or false.")


def search_params(request: HttpRequest, allowed: Iterable[str]) -> dict[str, list[str]]:
    """The search's parameters, each a list of its values; an unknown one is a 400 (a typo
    silently ignored would return everything)."""
    allowed = set(allowed) | {"_count", "_offset"} | GENERAL_PARAMS
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise invalid(
            f"Unknown search parameter(s): {', '.join(unknown)}. "
            f"Supported: {', '.join(sorted(allowed))}."
        )
    return query_params(request)


def _whole_number(request: HttpRequest, name: str, default: int, top: int) -> int:
    text = request.GET.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(f"{name} must be a whole number, not {text!r}.") from None
    if not 0 <= value <= top:
        raise invalid(f"{name} must be between 0 and {top}.")
    return value


@dataclass(frozen=True)
class Page:
    count: int
    offset: int

    @property
    def end(self) -> int:
        return self.offset + self.count


def page_of(request: HttpRequest) -> Page:
    return Page(
        count=_whole_number(request, "_count", DEFAULT_COUNT, MAX_COUNT),
        offset=_whole_number(request, "_offset", 0, MAX_OFFSET),
    )


def _page_link(request: HttpRequest, page: Page, offset: int) -> str:
    query = request.GET.copy()
    query["_count"] = str(page.count)
    query["_offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def searchset(caller: Caller, entries: list[tuple[str, dict]], *, total: int, page: Page) -> dict:
    """A searchset Bundle of `entries` (`(fullUrl path, resource)`), with self, first,
    previous and next links honouring `_count`."""
    request = caller.request
    links = [
        {"relation": "self", "url": _page_link(request, page, page.offset)},
        {"relation": "first", "url": _page_link(request, page, 0)},
    ]
    if page.offset > 0:
        links.append(
            {
                "relation": "previous",
                "url": _page_link(request, page, max(page.offset - page.count, 0)),
            }
        )
    if page.count and page.end < total:
        links.append({"relation": "next", "url": _page_link(request, page, page.end)})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{caller.base()}/{path}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for path, resource in entries
        ],
    }


def instant(moment: dt.datetime) -> str:
    """A FHIR instant: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(resource_type: str, resource_id, display: str = "") -> dict:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def id_of(value: str, resource_type: str) -> str:
    """The id in a reference given as a search value (`Location/3` or `3`); a reference to
    another type is a 400."""
    kind, _, rest = value.rpartition("/")
    if kind and kind.rsplit("/", 1)[-1] != resource_type:
        raise invalid(f"{value!r} is not a reference to a {resource_type}.")
    return rest


def is_key(text: str) -> bool:
    """Whether `text` is a key as ids write it: 1 to 18 digits 0-9 (`str.isdigit` alone would
    take "²" or "①", which `int` refuses)."""
    return 1 <= len(text) <= 18 and text.isascii() and text.isdigit()


def pk_of(value: str, resource_type: str) -> int:
    text = id_of(value, resource_type)
    if not is_key(text):
        raise invalid(f"{value!r} is not a {resource_type} id.")
    return int(text)


def visible_one(queryset, resource_type: str, pk: int):
    """Row `pk` of `queryset` (what the client may see); else 404, whether it does not exist
    or is another location's."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise not_found(resource_type, pk)
    return row


def with_ids(queryset, params: dict[str, list[str]], resource_type: str):
    """`queryset` narrowed by the search's `_id` parameters, as FHIR reads them: the ids of
    one, separated by commas, are either; each repeated one narrows further."""
    for value in params.get("_id", []):
        queryset = queryset.filter(pk__in=[pk_of(v, resource_type) for v in value.split(",")])
    return queryset


def page_rows(queryset, page: Page) -> tuple[int, list]:
    """How many rows the search matches, and the rows of the page asked for."""
    return queryset.count(), list(queryset[page.offset : page.end])


def parse_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise invalid("The body is not JSON.") from None
    except RecursionError:
        raise invalid("The body is not JSON this server reads: it is nested too deeply.") from None
    if not isinstance(body, dict | list):
        raise invalid("The body must be a JSON object.")
    refused = _unstorable_character(body)
    if refused == NUL:
        raise nul_refused("The body")
    if refused:
        # Half of a UTF-16 pair, as JSON may write it ("\\ud800"): no UTF-8 text holds it, so
        # PostgreSQL would fail the write with a 500.
        raise invalid(
            f"The body: a lone surrogate (U+{ord(refused):04X}) is not a character; "
            "send the text as UTF-8."
        )
    return body


def list_in(resource: dict, name: str) -> list:
    """The array element `name` of a body's resource (empty if absent); anything else there is
    a 400 naming it."""
    value = resource.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{name} must be an array.")
    return value


def _unstorable_character(body: dict | list) -> str | None:
    """A character in a string of a parsed body (its keys too) that no text column can store:
    a NUL, or a lone surrogate; None if there is none. Walked without recursion: the parser
    allows deeper nesting than a recursive walk would."""
    waiting: list = [body]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            if NUL in value:
                return NUL
            if not value.isascii():
                surrogate = SURROGATE.search(value)
                if surrogate:
                    return surrogate.group()
        elif isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
    return None


def _moment(text: str, name: str) -> tuple[dt.datetime, bool]:
    """A search value's instant and whether it was a whole day (a date: UTC midnight)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if day.year not in YEARS:
                raise ValueError
            return dt.datetime.combine(day, dt.time(), dt.UTC), True
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.year not in YEARS:
            raise ValueError
    except ValueError:
        raise invalid(f"{name}: {text!r} is not a date or an instant.") from None
    if moment.tzinfo is None:
        raise invalid(f"{name}: {text!r} needs its offset (Z or +hh:mm).")
    if not -12 * HOUR <= moment.utcoffset() <= 14 * HOUR:
        # Python reads offsets up to 23:59; PostgreSQL refuses those past 15:59.
        raise invalid(f"{name}: {text!r} has an offset outside FHIR's, -12:00 to +14:00.")
    return moment, False


def within_time_range(queryset, field: str, values: list[str], name: str):
    """`queryset` narrowed to `field` in the range a date search parameter gives (see
    `time_range`)."""
    start, end = time_range(values, name)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def time_range(values: list[str], name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`ge`/`gt`/`le`/`lt`/`eq` values of a date search parameter as one range, from
    (inclusive) and until (exclusive); a bare date means that whole (UTC) day."""
    start = end = None
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
        moment, whole_day = _moment(rest, name)
        after = moment + (dt.timedelta(days=1) if whole_day else dt.timedelta(0))
        if prefix in ("ge", "sa") or (prefix == "gt" and not whole_day):
            lower, upper = moment, None
        elif prefix == "gt":
            lower, upper = after, None
        elif prefix == "lt":
            lower, upper = None, moment
        elif prefix in ("le", "eb"):
            lower, upper = None, after if whole_day else moment
        elif prefix == "eq":
            lower, upper = moment, after if whole_day else moment + dt.timedelta(seconds=1)
        else:
            raise invalid(f"{name}: the prefix {prefix!r} is not supported (ge, gt, le, lt, eq).")
        if lower is not None:
            start = lower if start is None else max(start, lower)
        if upper is not None:
            end = upper if end is None else min(end, upper)
    return start, end
