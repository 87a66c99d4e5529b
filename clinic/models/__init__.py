"""The clinic's organisation, one module a part: `locations` (and the services offered),
`people` (logins, roles, patients), `practitioners` (certifications, hours, time off),
`access_log` and `signup`. Django finds the models here; code imports them from here.
"""

from clinic.models.access_log import (
    AccessLog,
)
from clinic.models.locations import (
    DEFAULT_TRAVEL_MINUTES,
    Holiday,
    LocalDate,
    Location,
    LocationQuerySet,
    OpeningHours,
    Service,
    ServiceKind,
    TimeRange,
    TravelTime,
    Weekday,
)
from clinic.models.people import (
    MANAGED_APPS,
    STAFF_ROLES,
    Patient,
    Role,
    User,
    UserManager,
    actor_field,
    role_label,
)
from clinic.models.practitioners import (
    Certification,
    Practitioner,
    PractitionerQuerySet,
    ScheduleException,
    WorkingHours,
)
from clinic.models.signup import (
    SignUpRequest,
)

__all__ = [
    "DEFAULT_TRAVEL_MINUTES",
    "Holiday",
    "LocalDate",
    "Location",
    "LocationQuerySet",
    "OpeningHours",
    "Service",
    "ServiceKind",
    "TimeRange",
    "TravelTime",
    "Weekday",
    "MANAGED_APPS",
    "Patient",
    "Role",
    "STAFF_ROLES",
    "User",
    "UserManager",
    "actor_field",
    "role_label",
    "Certification",
    "Practitioner",
    "PractitionerQuerySet",
    "ScheduleException",
    "WorkingHours",
    "AccessLog",
    "SignUpRequest",
]
