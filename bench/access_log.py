"""What one line of gunicorn's access log costs, with the format of deploy/gunicorn.conf.py.

    .venv/bin/python -m bench access_log [--lines=20000] [--rounds=5]

gunicorn's `Logger.access()` is called in this process, as a worker calls it after each
response, with a response, request and WSGI environ shaped like a residents' form page behind
nginx (the headers Django and nginx send), writing to a file as in the cluster. Alternated
with the same loop with the access log off (gunicorn returns at once), `--rounds` times; the
difference per call is the line's cost. Figures are printed, not written to the docs.
"""

from __future__ import annotations

import datetime
import logging
import os
import runpy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.options import parse_options

ROOT = Path(__file__).resolve().parent.parent


class Response:
    status = "200 OK"
    sent = 8418
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Expires", "Sun, 06 Dec 2026 03:50:00 GMT"),
        ("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0"),
        ("X-Request-ID", "b0938ea7d9fb4a3b"),
        ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("X-Frame-Options", "DENY"),
        ("Vary", "Cookie, Accept-Language"),
        ("Content-Language", "ja"),
        ("Content-Length", "8418"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Set-Cookie", "csrftoken=abc; Path=/inquiry/; SameSite=Lax"),
    ]


class Request:
    headers = [
        ("HOST", "inquiry.example.lg.jp"),
        ("X-FORWARDED-FOR", "203.0.113.7"),
        ("X-FORWARDED-PROTO", "https"),
        ("CONTENT-LENGTH", "412"),
        ("CONTENT-TYPE", "application/x-www-form-urlencoded"),
        ("USER-AGENT", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
        ("ACCEPT", "text/html,application/xhtml+xml"),
        ("ACCEPT-LANGUAGE", "ja-JP"),
        ("COOKIE", "csrftoken=abc; mdg_inquiry=0123456789abcdef"),
    ]


def environ() -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/inquiry/bench-public/",
        "PATH_INFO": "/inquiry/bench-public/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.77.1.1",
        "REMOTE_PORT": "51234",
        "SERVER_NAME": "10.77.1.2",
        "SERVER_PORT": "8000",
        "SCRIPT_NAME": "",
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "wsgi.input": None,
        "wsgi.errors": None,
        "wsgi.file_wrapper": None,
        "wsgi.input_terminated": True,
        "gunicorn.socket": None,
    }
    for name, value in Request.headers:
        env["HTTP_" + name.replace("-", "_")] = value
    return env


def main(argv: list[str]) -> None:
    opts = {"lines": 20000, "rounds": 5}
    opts = parse_options(argv, opts)
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    folder = Path(tempfile.mkdtemp(prefix="mdg-access-"))

    os.environ["GUNICORN_ACCESS_LOG"] = str(folder / "access.log")
    # "-" (stderr): a file would make gunicorn capture this process's stdout into it.
    os.environ["GUNICORN_ERROR_LOG"] = "-"
    values = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    for name, value in values.items():
        if name in cfg.settings:
            cfg.set(name, value)
    # gunicorn's own logger and the configuration's (AccessLogger: only the fields the format
    # names); both write through the same `gunicorn.access` handler to the same file.
    loggers = {
        "gunicorn's Logger": Logger(cfg),
        "deploy/gunicorn.conf.py's logger_class": cfg.logger_class(cfg),
    }
    resp, req, env = Response(), Request(), environ()
    took = datetime.timedelta(microseconds=23456)

    def run(log: Logger, enabled: bool) -> float:
        # gunicorn's own switch: with no access log, access() returns at its first line.
        log._access_log_enabled = enabled
        started = time.process_time()
        for _ in range(opts["lines"]):
            log.access(resp, req, env, took)
        return (time.process_time() - started) / opts["lines"] * 1e6

    costs: dict[str, list[float]] = {name: [] for name in loggers}
    lines: dict[str, str] = {}
    for _ in range(opts["rounds"]):
        for name, log in loggers.items():
            costs[name].append(run(log, True) - run(log, False))
            lines[name] = (folder / "access.log").read_text().splitlines()[-1]
    logging.shutdown()
    for name in loggers:
        print(
            f"{name}: {statistics.median(costs[name]):.1f} µs of CPU a line (median of {opts['rounds']} "
            f"rounds of {opts['lines']} lines: {', '.join(f'{c:.1f}' for c in costs[name])}); {lines[name]}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
