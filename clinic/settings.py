"""Settings for the clinic booking and intake app.

Every value that differs between a laptop and production comes from the
environment (see `.env.example`); the typed readers in `clinic.env` refuse
values they cannot understand.
"""

import datetime as dt
import os
import sys
import zoneinfo
from email.headerregistry import Address
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from clinic import database
from clinic.env import env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

TESTING = "pytest" in sys.modules
DEBUG = env_bool("DEBUG", False)

if DEBUG or TESTING:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-never-use-in-production")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "clinic",
    "intake",
    "booking",
    "booking.webhooks",
    # The open FHIR API (issue 20): its clients, scopes and rate-limit counters.
    "booking.api",
    "booking.billing",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # OAuth 2.0 for the FHIR API's clients (client credentials only; see booking/api/oauth.py).
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # After SecurityMiddleware: pages opened by a secret link send no Referer.
    "clinic.secret_links.NoReferrerOnSecretLinks",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Deny by default: every view needs a logged-in user unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.middleware.SessionPolicyMiddleware",
    "clinic.middleware.TwoFactorMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.navigation",
                "clinic.context_processors.page_frame",
            ],
        },
    },
]

# --- Database: PostgreSQL only (see clinic/database.py for how it is found) ---
try:
    _database_url = database.find_database_url(base_dir=BASE_DIR)
except database.DatabaseNotFound as problem:
    raise ImproperlyConfigured(str(problem)) from None
# Child processes (the dev server's reloader, test workers) reuse the answer.
os.environ["DATABASE_URL"] = _database_url
DATABASES = {
    "default": dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if TESTING else 60),
        conn_health_checks=True,
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---
AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses locked-out accounts and addresses (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "clinic:home"
LOGOUT_REDIRECT_URL = "clinic:welcome"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
if TESTING:
    # Hashing passwords properly is slow by design; tests do it hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Throttled logins (django-axes): lock an account, and an address, after 5 failures ---
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# Each on its own: 5 failures for one account lock that account from every address, and 5
# failures from one address (across any accounts) lock that address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The login form's field. Unset, django-axes would look for "email" (USERNAME_FIELD) when it
# checks a lock, find nothing, and never check the account's own count.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "clinic.security.login_username"
# A success clears that account's failures from that address only (clinic.security), not
# every failure from the address: logging into one's own account must not wipe the guesses
# made at someone else's.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # lockouts are still logged as warnings (logger "axes")
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "token"]
AXES_CLIENT_IP_CALLABLE = "clinic.security.client_ip"
# How many proxies in front of the app append to X-Forwarded-For (the TLS proxy: 1). The
# client address is read that many entries from the right; 0 reads REMOTE_ADDR only.
PROXY_COUNT = env_int("PROXY_COUNT", 0 if DEBUG or TESTING else 1)

# --- Sessions: staff sessions end after 30 minutes idle and 12 hours in all ---
SESSION_IDLE_MINUTES = {
    "staff": env_int("STAFF_IDLE_MINUTES", 30),
    "patient": env_int("PATIENT_IDLE_MINUTES", 120),
}
SESSION_MAX_HOURS = {"staff": 12, "patient": 24}
SESSION_COOKIE_AGE = 60 * 60 * 24  # the longest any session may live; the middleware is stricter
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Two-factor authentication (django-otp): required for staff, optional for patients ---
OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Stride Clinics")

# --- Content Security Policy (django-csp): no inline scripts, nothing from other origins ---
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Request size: refuse oversized bodies with a 400 instead of reading them ---
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Internationalisation: times are stored in UTC and shown in each location's zone ---
LANGUAGE_CODE = "en-ca"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: Bootstrap comes from npm (package-lock.json), served by the app ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
if TESTING:
    # The browser tests load axe-core from the app's own origin, so the CSP stays enforced.
    STATICFILES_DIRS.append(("vendor/axe-core", BASE_DIR / "node_modules" / "axe-core"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Find files through the finders (no collectstatic) while developing and testing.
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email: console in development, SMTP from the environment in production ---
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
CLINIC_NAME = env_str("CLINIC_NAME", "Stride Clinics")
# Emails come from the clinic by its name unless a sender is set; the name quoted as it needs
# ("Smith, Jones Physiotherapy" bare would read as two addresses, and no email would go).
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL",
    str(Address(display_name=CLINIC_NAME, addr_spec="appointments@example.org")),
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security: safe defaults whenever DEBUG is off ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TESTING:
    # TLS ends at the proxy in front of gunicorn; it tells us the scheme in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Secrets in addresses (appointment links, calendar feeds, password resets) never reach a log
# line: a filter redacts them on Django's request and server loggers (so a test's caplog sees
# the redacted line) and on every handler (for anything else that logs an address).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secret_links": {"()": "clinic.secret_links.RedactSecretLinks"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secret_links"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secret_links"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print a second, unredacted line:
        # its records go up to the root's handler instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["redact_secret_links"]},
        "django.security": {"filters": ["redact_secret_links"]},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["redact_secret_links"],
            "level": "INFO",
            "propagate": False,
        },
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

# The clinic's own clock, for times and dates that belong to no location (the access log's entries
# about a patient without a preferred location, an export of many patients, the manager's "today":
# `clinic.dates.clinic_today`). Stored times stay UTC.
CLINIC_TIME_ZONE = env_str("CLINIC_TIME_ZONE", "America/Toronto")
try:
    zoneinfo.ZoneInfo(CLINIC_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"CLINIC_TIME_ZONE={CLINIC_TIME_ZONE!r} is not a known time zone (e.g. America/Toronto)."
    ) from None
# The address patients reach the app at, for links in emails (e.g. https://booking.example.org).
# Unset: in production, https:// and the first ALLOWED_HOSTS entry; in development, the address
# `manage.py run_with_worker` (make run) serves, which it passes on; else http://127.0.0.1:8000.
SITE_URL = env_str("SITE_URL", "")

# The notification worker (python manage.py send_notifications).
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8)
NOTIFICATIONS_RETRY_SECONDS = env_int("NOTIFICATIONS_RETRY_SECONDS", 60)
NOTIFICATIONS_LEASE_SECONDS = env_int("NOTIFICATIONS_LEASE_SECONDS", 300)
APPOINTMENT_LINK_MAX_DAYS = env_int("APPOINTMENT_LINK_MAX_DAYS", 90)

# Webhooks (posted by the same worker). Private, loopback and plain-http addresses are refused
# unless allowed: on for development and tests (a receiver on 127.0.0.1), off in production.
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", DEBUG or TESTING)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 12)
WEBHOOKS_RETRY_SECONDS = env_int("WEBHOOKS_RETRY_SECONDS", 30)
WEBHOOKS_DISABLE_AFTER_HOURS = env_int("WEBHOOKS_DISABLE_AFTER_HOURS", 24)
# The open FHIR API (booking/api): OAuth 2.0 client credentials through django-oauth-toolkit.
# The scopes are the API's own vocabulary (booking/api/scopes.py, kept in step by a test);
# clients get no scope they were not given (booking/api/oauth.py).
FHIR_ACCESS_TOKEN_SECONDS = env_int("FHIR_ACCESS_TOKEN_SECONDS", 3600)
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": FHIR_ACCESS_TOKEN_SECONDS,
    "OAUTH2_VALIDATOR_CLASS": "booking.api.oauth.ClientCredentialsValidator",
    "SCOPES_BACKEND_CLASS": "booking.api.oauth.ApiScopes",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # The OAuth 2.0 Security BCP (RFC 9700) in full, ahead of the toolkit's 4.0 defaults: no
    # implicit or password grant, no plain PKCE, tokens only in the Authorization header,
    # `iss` in authorization responses, tokens stored hashed, refresh-token replay revoking the
    # family. The API uses client credentials only; these close what it never needs.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}
# Named here because booking.api's migration depends on it (a swappable model).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Requests a minute an API client may make unless the admin sets its own figure.
FHIR_REQUESTS_PER_MINUTE = env_int("FHIR_REQUESTS_PER_MINUTE", 120)
