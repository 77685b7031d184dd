"""Configuration from environment variables, with safe defaults for the demo."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the variable."""


def _secret_key(instance: Path, env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY is not set. In production set the SECRET_KEY environment "
            "variable to a long random string (e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    # Demo: one key per instance folder, kept across restarts so sessions survive.
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Read once per app; every value can be overridden by an environment variable."""

    def __init__(self, instance_path: str | Path):
        instance = Path(instance_path)
        self.FIELDAPP_ENV = os.environ.get("FIELDAPP_ENV", "demo")
        if self.FIELDAPP_ENV not in ("demo", "production"):
            raise ConfigError(
                f"FIELDAPP_ENV must be 'demo' or 'production', not {self.FIELDAPP_ENV!r}."
            )
        self.SECRET_KEY = _secret_key(instance, self.FIELDAPP_ENV)
        default_db = f"sqlite:///{instance / 'doorstep.sqlite3'}"
        self.SQLALCHEMY_DATABASE_URI = _normalise_db_url(
            os.environ.get("DATABASE_URL", default_db)
        )
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(instance / "uploads"))
        # Files uploaded for import, kept while their job runs and for its report.
        self.IMPORT_DIR = os.environ.get("IMPORT_DIR", str(instance / "imports"))
        self.FIELDAPP_TZ = os.environ.get("FIELDAPP_TZ", "Asia/Shanghai")
        # Pins "today" (YYYY-MM-DD) for benchmarks and demos that must not drift.
        self.FIXED_TODAY = os.environ.get("FIELDAPP_TODAY") or None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.FIELDAPP_ENV == "production"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PERMANENT_SESSION_LIFETIME = 14 * 24 * 3600
        # A visit queued offline is sent hours later: the token lives as long as the
        # session (OFFLINE.md §6, pitfall 8).
        self.WTF_CSRF_TIME_LIMIT = None
        self.WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = self.FIELDAPP_TZ
        self.LANGUAGES = ("zh_CN", "en")
        self.ROUTE_PAGE_SIZE = 30
        self.ROUTE_BUILDING_CHOICES = 200  # more buildings than this: a search, not a select
        self.ROUTE_CACHE = True  # reuse rendered route lists while the patch is unchanged
        # A view of the whole estate folds the chips' log of changes in at most this
        # often per process (models/overdue_tally.py): the log stays a few rows.
        self.TALLY_FOLD_EVERY_S = 60.0
        self.LOGIN_FREE_ATTEMPTS = 5  # per username and address, or per device cookie
        self.LOGIN_CEILING = 50  # failures per username and hour from untrusted devices
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto we believe.
        self.FIELDAPP_PROXIES = _count("FIELDAPP_PROXIES")
        # When the nightly job has not run, a route-list request catches up at most this
        # much of it (bench/nightly.py: 500 units stay under 100 ms on PostgreSQL).
        self.CATCH_UP_UNITS = 500
        self.CATCH_UP_PROMISES = 100
        self.SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600  # static URLs carry a version
        # The address owners reach the app at, for links printed on notices and shared:
        # not the Host header of whoever happened to print them.
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
        # geocode-buildings: Nominatim's usage policy asks for a user agent naming the
        # application (and a contact), and at most one request a second.
        self.GEOCODER_URL = os.environ.get("GEOCODER_URL", "https://nominatim.openstreetmap.org")
        self.GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "doorstep-geocoder")
        self.GEOCODER_MIN_DELAY = 1.0

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _count(name: str) -> int:
    raw = os.environ.get(name, "").strip() or "0"
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0, 1, 2, ...), not {raw!r}.")
    return int(raw)


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// should use the psycopg 3 driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def engine_options(url: str) -> dict:
    """The pool's settings for the database at `url` (set after any override of the URL,
    so a test or bench on PostgreSQL gets production's). The pool checks each connection
    it hands out without a round trip (transactions.py); keepalives let the kernel notice
    a server that vanished while the connection sat idle, so that check sees it, and
    connections are renewed before a firewall's idle timeout can drop them silently.

    JIT compilation is off: it pays off on long analytic queries, and every statement
    here is a short one. A page that walks an index and stops after its rows looks
    costly to the planner (it cannot tell how soon the walk stops), which compiled it
    for 92 ms to run it in 0.2 (bench/route_pg.py, the estate's second page)."""
    if url.startswith("sqlite"):
        return {}
    # Added to any options the URL gives (a statement timeout, say), which these
    # connect arguments would otherwise replace.
    given = make_url(url).query.get("options") or ""
    given = " ".join(given) if isinstance(given, tuple) else given
    return {"pool_recycle": 1800,
            "connect_args": {"keepalives": 1, "keepalives_idle": 60,
                             "keepalives_interval": 10, "keepalives_count": 3,
                             "options": f"{given} -c jit=off".strip()}}
