"""gunicorn settings for one app host (`gunicorn -c /etc/madoguchi/gunicorn.conf.py madoguchi.wsgi`).

Every value can be overridden from the environment of the systemd unit (GUNICORN_*), so the
same file serves a 2-core and a 16-core host. docs/deploy.md explains each choice.
"""

import functools
import multiprocessing
import os
import re

from gunicorn import glogging

# Where nginx reaches this host. Only nginx may: bind the private address, never 0.0.0.0 on a
# host with a public interface (the allowlist trusts the X-Forwarded-For that nginx sets).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Processes × threads. Django with psycopg releases the GIL while it waits for PostgreSQL, so
# a few threads per process double throughput at little memory; processes use the cores.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A request running longer than this is killed (and logged): the slowest legitimate request
# (a 200,000-row audit CSV) streams well within it; nginx's proxy_read_timeout is longer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (deploy, restart) requests in flight get this long to finish.
graceful_timeout = 30
# nginx keeps upstream connections open (keepalive 32): close idle ones after it would.
keepalive = 75

# Recycle a worker after this many requests (± a tenth, so they do not all restart at once):
# bounds the memory a slow leak in any library can take. Not more often: a new worker imports
# Django and the app (about a second of CPU) and warms up its caches and templates: 250-750
# requests' worth of CPU in all (bench/worker_start.py, bench/gunicorn_pair.py), and the host
# serves with one worker less meanwhile. At 5,000 that was 5-15 % of the workers' CPU in the
# load run, where each worker served ~100 requests/s and restarted every ~50 s; at 50,000 it is
# 0.5-1.5 %, every ~8 minutes at that rate and hours apart on an ordinary day. A worker's memory reaches its plateau within
# the first thousands of requests (docs/benchmarks.md): no leak was seen. 0 never recycles.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10

# Request line and header limits below nginx's, so nginx refuses first with a clear status.
limit_request_line = 8190
limit_request_fields = 100

# The access log: method, path without the query string, status, size, duration, request id.
# Personal items never appear in URLs (searches are POSTs); the query string is left out anyway.
# GUNICORN_ACCESS_LOG: "-" (stdout: the journal, the default), a file (make cluster), or empty for
# none (nginx logs every request too, but without the request id).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss rid=%({x-request-id}o)s'


class AccessLogger(glogging.Logger):
    """gunicorn's logger, building only the fields the access log format names.

    gunicorn builds every possible field for every line (all request and response headers and
    the whole WSGI environ, a formatted date) and then uses seven: about half of a line's CPU
    (bench/access_log.py: 63 µs a line against 33 µs, on the loaded shared machine). The line is
    the same, quotes escaped the same way (SafeAtoms); a format naming other fields gets
    gunicorn's own. The master keeps its logger object across a HUP: changing this class takes a
    restart (`systemctl restart`), not a reload.
    """

    _CHEAP = frozenset("hmUsbL")

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        names = _format_names(self.cfg.access_log_format)
        if not all(name in self._CHEAP or (name.startswith("{") and name.endswith("}o")) for name in names):
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        atoms = {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "L": f"{request_time.seconds}.{request_time.microseconds:06d}",
        }
        headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
        for name, value in headers:
            key = "{" + name.lower() + "}o"
            if key in names:
                atoms[key] = value
        return atoms


@functools.lru_cache(maxsize=4)
def _format_names(fmt: str) -> frozenset[str]:
    # SafeAtoms looks "{header}o" names up in lower case.
    return frozenset(
        name.lower() if name.startswith("{") else name for name in re.findall(r"%\((.*?)\)", fmt)
    )


logger_class = AccessLogger
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = "info"

# The app is imported in each worker, after the fork: no database connection is ever shared
# between processes, and `systemctl reload` (HUP) picks up new code worker by worker.
# Under systemd stderr is the journal; with a log file (make cluster), the app's own log
# lines (Django logging to stderr) go into it too.
capture_output = errorlog != "-"
preload_app = False
# gunicorn's control socket (gunicornc) defaults to one path per user: two instances on one
# file system (make cluster's app hosts) would share it. One per instance, or none.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# Worker heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
