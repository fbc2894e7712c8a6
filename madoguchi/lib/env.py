"""Typed readers for configuration taken from environment variables.

Every reader fails loudly on a value it cannot parse, so a typo in a deployment is an error at
start-up rather than a silently different behaviour. Secrets may also come from `<NAME>_FILE`
(a path, as Docker and systemd credentials provide them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ConfigError(RuntimeError):
    pass


def env_str(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# psycopg's own default: a statement run this many times on a connection is prepared there.
PREPARE_THRESHOLD = 5


@dataclass(frozen=True)
class DatabaseConfig:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    def as_django(self, *, replica: bool = False, prepared_statements: bool = True) -> dict[str, object]:
        """Django's DATABASES entry.

        PostgreSQL: values are bound by the server (`server_side_binding`), and a statement a
        connection has run `PREPARE_THRESHOLD` times is prepared (psycopg's automatic prepared
        statements), so the server neither parses nor plans it again and the client no longer
        quotes every value into the SQL text. On the load run's staff requests this took the
        PostgreSQL CPU per request from 4.6 to 2.7 ms and the app's from 10.2 to 8.9 ms (means
        of four interleaved runs; docs/benchmarks.md, twelfth session). Connections live 10 minutes
        (`CONN_MAX_AGE`) so that what they prepared, and the server's catalog caches, are used:
        a new connection's first statements cost several milliseconds. `prepared_statements=False`
        (DATABASE_PREPARED_STATEMENTS=false) is for a pooler in transaction mode that does not
        carry prepared statements between server connections (PgBouncer before 1.21).
        """
        config: dict[str, object] = {
            "ENGINE": self.engine,
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "ATOMIC_REQUESTS": False,
        }
        if self.engine.endswith("postgresql"):
            config["CONN_MAX_AGE"] = 600
            config["CONN_HEALTH_CHECKS"] = True
            config["TEST"] = {"NAME": f"test_{self.name}"}
            # Notice a dead server within seconds, not the kernel's minutes; TCP keepalives find
            # a connection a restarted primary has dropped.
            config["OPTIONS"] = {
                "connect_timeout": 3 if replica else 5,
                "keepalives": 1,
                "keepalives_idle": 30,
                "server_side_binding": True,
                "prepare_threshold": PREPARE_THRESHOLD if prepared_statements else None,
            }
        elif replica:
            config["OPTIONS"] = {"timeout": 5}
        else:
            # Wait for a writer instead of failing at once: the demo runs several threads.
            config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
        if replica:
            # Tests never build a second database: the replica alias reads the test database.
            config["TEST"] = {"MIRROR": "default"}
        return config


def parse_database_url(url: str | None, *, sqlite_default: Path) -> DatabaseConfig:
    """Parse `postgres://user:pass@host:port/name` or `sqlite:///path`; SQLite when unset."""
    if not url:
        return DatabaseConfig(engine="django.db.backends.sqlite3", name=str(sqlite_default))
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError("DATABASE_URL names no database")
        return DatabaseConfig(
            engine="django.db.backends.postgresql",
            name=name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=str(parts.port or ""),
        )
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("//"):
            path = path[1:]
        return DatabaseConfig(engine="django.db.backends.sqlite3", name=path or ":memory:")
    raise ConfigError(f"DATABASE_URL scheme {parts.scheme!r} is not supported (postgres or sqlite)")
