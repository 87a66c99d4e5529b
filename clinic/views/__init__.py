"""The clinic app's pages, one module a part: `pages` (welcome, locations, sign-up, each role's
home), `accounts` (the authenticator, passwords, the 400 page) and `access_log` (managers).
"""

from clinic.views.access_log import (
    NAMED_PATIENTS_AT_MOST,
    access_log_page,
)
from clinic.views.accounts import (
    PasswordChange,
    PasswordResetConfirm,
    bad_request,
    two_factor_manage,
    two_factor_setup,
    two_factor_verify,
)
from clinic.views.pages import (
    ROLE_HOMES,
    SIGN_UP_TOKEN_SESSION_KEY,
    front_desk_home,
    home,
    location_detail,
    location_list,
    manager_home,
    patient_details,
    patient_home,
    practitioner_home,
    signup,
    signup_confirm,
    signup_confirm_link,
    welcome,
)

__all__ = [
    "ROLE_HOMES",
    "SIGN_UP_TOKEN_SESSION_KEY",
    "front_desk_home",
    "home",
    "location_detail",
    "location_list",
    "manager_home",
    "patient_details",
    "patient_home",
    "practitioner_home",
    "signup",
    "signup_confirm",
    "signup_confirm_link",
    "welcome",
    "PasswordChange",
    "PasswordResetConfirm",
    "bad_request",
    "two_factor_manage",
    "two_factor_setup",
    "two_factor_verify",
    "NAMED_PATIENTS_AT_MOST",
    "access_log_page",
]
