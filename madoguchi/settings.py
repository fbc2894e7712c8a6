"""Madoguchi settings: one module, every value from the environment (see `.env.example`).

MADOGUCHI_ENV selects the posture: `development` (the default: the demo and the tests) or
`production`, which refuses to start with a default secret key or wildcard hosts and turns
on the transport-security settings.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from madoguchi.lib.env import ConfigError, env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MADOGUCHI_VAR_DIR") or BASE_DIR / "var")

ENVIRONMENT = env_str("MADOGUCHI_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ConfigError("MADOGUCHI_ENV must be development or production")
PRODUCTION = ENVIRONMENT == "production"

DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY) or DEV_SECRET_KEY
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ConfigError("Production needs its own SECRET_KEY (50 characters or more)")
    if not ALLOWED_HOSTS or any(host in {"*", ""} or host.startswith(".") for host in ALLOWED_HOSTS):
        raise ConfigError("Production needs ALLOWED_HOSTS naming the exact host, no wildcard")
    if DEBUG:
        raise ConfigError("DEBUG must be off in production")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "madoguchi.core",
    "madoguchi.accounts",
    "madoguchi.audit",
    "madoguchi.programs",
    "madoguchi.registry",
    "madoguchi.cases",
    "madoguchi.public",
    "madoguchi.identify",
    "madoguchi.ledger",
    "madoguchi.lifecycle",
    "madoguchi.dashboards",
    "madoguchi.alerts",
    "madoguchi.reports",
    "madoguchi.exports",
    "madoguchi.compliance",
    "madoguchi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The response headers come first, so that every response carries them, whoever makes it:
    # the staff gate's refusals and redirects, the error pages, the public form.
    "madoguchi.core.middleware.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with its two headers built once (madoguchi.core.middleware).
    "madoguchi.core.middleware.CSPMiddleware",
    "madoguchi.core.middleware.NoStoreMiddleware",
    "madoguchi.core.middleware.RequestIdMiddleware",
    # Personal search terms never travel in a query string: 400 before anything else.
    "madoguchi.core.middleware.QueryStringGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's sessions, with the residents' own store and cookie under /inquiry/.
    "madoguchi.public.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Read-your-writes with a replica: a user's reads stay on the primary after their write.
    "madoguchi.core.replica.ReplicaPinMiddleware",
    # django-otp's, with the session's device read in the same query as the user.
    "madoguchi.accounts.otp.OTPMiddleware",
    "madoguchi.audit.middleware.AuditDeniedMiddleware",
    # Django's messages, skipped on the residents' pages (which never show one).
    "madoguchi.accounts.middleware.StaffMessageMiddleware",
    # The allowlist, the second factor and the session limits, for every staff URL.
    "madoguchi.accounts.middleware.StaffGateMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "madoguchi.urls"
WSGI_APPLICATION = "madoguchi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "madoguchi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "madoguchi.core.context_processors.navigation",
                "madoguchi.lifecycle.context_processors.erasure_banner",
            ],
        },
    }
]

# Prepared statements on PostgreSQL (madoguchi.lib.env.DatabaseConfig.as_django); off only
# behind a pooler in transaction mode that cannot carry them.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL"), sqlite_default=VAR_DIR / "madoguchi.sqlite3"
    ).as_django(prepared_statements=DATABASE_PREPARED_STATEMENTS)
}
if not env_str("DATABASE_URL"):
    # SQLite creates its file but not the folder: `madoguchi migrate` on a fresh checkout must work.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# A streaming read replica (docs/deploy.md): reads marked `use_replica()` (dashboards, reports,
# exports, the audit screens) go there while it answers and keeps up; everything else, and
# every read of a user who wrote in the last REPLICA_PIN_SECONDS, stays on the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = parse_database_url(
        DATABASE_REPLICA_URL, sqlite_default=VAR_DIR / "madoguchi.sqlite3"
    ).as_django(replica=True, prepared_statements=DATABASE_PREPARED_STATEMENTS)
DATABASE_ROUTERS = ["madoguchi.core.replica.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 30)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    # Login throttles, rate limits and allowlist changes must be counted across app processes.
    raise ConfigError("Production needs REDIS_URL: a cache shared by every app process")
if REDIS_URL:
    # Django's Redis cache with one client object per pool and a one-round-trip counter.
    CACHES = {
        "default": {
            "BACKEND": "madoguchi.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer fails a call within a second, not a TCP timeout:
            # the callers then degrade (docs/operations.md, "Redis stopped").
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out user name before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "madoguchi.accounts.backends.StaffBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "madoguchi.accounts.validators.ContextWordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "madoguchi" / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Project-level assets (css, js, vendored design tokens and htmx): not inside any app.
STATICFILES_DIRS = [BASE_DIR / "madoguchi" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Request limits: large enough for a 5 MB target list, small enough to refuse abuse.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400
TARGET_LIST_MAX_UPLOAD_BYTES = env_int("TARGET_LIST_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)

# Sessions: server-side, idle and absolute limits in seconds.
# Django's database sessions, read with one written statement (accounts/session_db.py).
SESSION_ENGINE = "madoguchi.accounts.session_db"
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 15 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_ABSOLUTE_LIFETIME", 10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Lockout: 5 failures per user name, whatever the address, lock for 15 minutes (or until
# a supervisor or the ward manager unlocks). Per-address throttling is in the login view: an
# office shares one address, so locking addresses at 5 would lock out a whole call centre.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that a lock without the address can be dodged by rotating User-Agents: that
# holds for user-name + user-agent combinations, not for a lock on the user name alone, and the
# address is throttled by the login view (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "madoguchi.core.client_ip.client_ip"  # the one client address
# Unused while the callable above is set; kept equal to TRUSTED_PROXY_COUNT should it ever be dropped.
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_LOCKOUT_CALLABLE = "madoguchi.accounts.views.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit log
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "madoguchi.accounts.signals.client_str"  # never the typed user name in logs
AXES_ENABLE_ADMIN = False
# Our own hard limit (5 wrong codes, then 15 minutes) replaces django-otp's doubling delay.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Madoguchi")
CSRF_FAILURE_VIEW = "madoguchi.accounts.views.csrf_failure"

# Web surface. Transport security only where TLS terminates in front of us.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Browser features the product does not use, denied to every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Number of reverse proxies in front of the app whose X-Forwarded-For entries we trust,
# counted from the right. 0: the socket address is the client address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# The public inquiry form: submissions per client address per window (seconds), counted in
# the cache (Redis when REDIS_URL is set, so every app process shares the count).
PUBLIC_FORM_RATE_LIMIT = env_int("PUBLIC_FORM_RATE_LIMIT", 5)
PUBLIC_FORM_RATE_WINDOW = env_int("PUBLIC_FORM_RATE_WINDOW", 600)
# The residents' draft between the form's steps (madoguchi/public/sessions.py): server-side,
# in Redis when REDIS_URL is set ("cache"), else in the database ("db"); its own cookie.
PUBLIC_SESSION_BACKEND = env_str("PUBLIC_SESSION_BACKEND") or ("cache" if REDIS_URL else "db")
if PUBLIC_SESSION_BACKEND not in {"cache", "db"}:
    raise ConfigError("PUBLIC_SESSION_BACKEND must be cache or db")
PUBLIC_SESSION_CACHE_ALIAS = "default"
PUBLIC_SESSION_AGE = env_int("PUBLIC_SESSION_AGE", 2 * 60 * 60)
PUBLIC_SESSION_COOKIE_NAME = "__Secure-mdg_inquiry" if PRODUCTION else "mdg_inquiry"
# Seconds an app process keeps a program and its categories for the form's pages.
PUBLIC_PROGRAM_CACHE_SECONDS = env_int("PUBLIC_PROGRAM_CACHE_SECONDS", 10)

# The transport (`smtp`, `console` or a backend's dotted path) sits behind the wrapper that
# logs each message without its addresses (madoguchi/core/mail.py). `console` prints a summary
# line only, never `To:` or the body. Production refuses the console, file and memory ones.
EMAIL_TRANSPORT = env_str("EMAIL_BACKEND", "console") or "console"
EMAIL_BACKEND = "madoguchi.core.mail.EmailBackend"
UNDELIVERED_EMAIL_TRANSPORTS = {
    "console",
    "file",
    "locmem",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "madoguchi.core.mail.SummaryConsoleBackend",
}
if PRODUCTION and EMAIL_TRANSPORT in UNDELIVERED_EMAIL_TRANSPORTS:
    raise ConfigError("Production needs EMAIL_BACKEND=smtp (console and file mail would log addresses)")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "madoguchi@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "madoguchi.core.logging.RequestIdFilter"},
        # A database error's message can quote a row with personal items: withheld.
        "database_errors": {"()": "madoguchi.core.logging.DatabaseErrorFilter"},
    },
    "formatters": {
        "plain": {
            "()": "madoguchi.core.logging.EscapingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "database_errors"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # django.request logs the full path of 4xx/5xx responses; our URLs hold no personal
        # items, but error reports must never carry POST bodies.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "INFO"},
        # WeasyPrint reports every step of a PDF at INFO: noise in a command's output.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "madoguchi.core.logging.RedactingExceptionReporterFilter"

# The audit trail (docs/audit.md). Events older than the retention period may be purged (R-23:
# at least a year, and through any investigation); the chain head is exported daily to a file
# outside the database. The access review flags a user who opened more than N households in
# an hour and access outside business hours; per-program overrides as JSON, keyed by program
# code: {"code": {"households_per_hour": 80, "hours": "07:00-22:00", "weekdays_only": false}}.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400)
# How long a database backup lives: the 消去証明書 states until when erased data may remain in one.
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 30)
AUDIT_HEADS_DIR = Path(env_str("AUDIT_HEADS_DIR") or VAR_DIR / "audit-heads")
# How many hash chains concurrent requests spread their audit events over (PostgreSQL; SQLite
# has one writer and one chain). More than the threads of all app processes together (both pools
# of every app host): then no writer ever waits for a head, and a form worker at the lower CPU
# priority, preempted while it holds one, holds up nobody (docs/deploy.md, "Two pools").
AUDIT_CHAINS = env_int("AUDIT_CHAINS", 64)
if not 1 <= AUDIT_CHAINS <= 1000:
    raise ConfigError("AUDIT_CHAINS must be between 1 and 1000")
AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR = env_int("AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR", 60)
AUDIT_REVIEW_HOURS = env_str("AUDIT_REVIEW_HOURS", "08:00-20:00") or "08:00-20:00"
AUDIT_REVIEW_WEEKDAYS_ONLY = env_bool("AUDIT_REVIEW_WEEKDAYS_ONLY", True)
AUDIT_REVIEW_LOCKOUTS_PER_HOUR = env_int("AUDIT_REVIEW_LOCKOUTS_PER_HOUR", 5)
try:
    AUDIT_REVIEW_PROGRAMS: dict[str, dict[str, object]] = json.loads(env_str("AUDIT_REVIEW_PROGRAMS") or "{}")
except ValueError as exc:
    raise ConfigError("AUDIT_REVIEW_PROGRAMS must be a JSON object keyed by program code") from exc

# The demo shifts its program's recording period to include today (printed by seed-demo).
DEMO_MODE = env_bool("MADOGUCHI_DEMO", False)
