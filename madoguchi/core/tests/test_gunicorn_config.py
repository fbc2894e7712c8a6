"""deploy/gunicorn.conf.py: the values each app host runs with, and their environment overrides.

The file is read as gunicorn reads it (executed as a module) and every value is handed to
gunicorn's own settings, which validate them: a value gunicorn would refuse fails here."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[3] / "deploy" / "gunicorn.conf.py"
VARIABLES = (
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_ACCESS_LOG",
    "GUNICORN_ERROR_LOG",
    "GUNICORN_CONTROL_SOCKET",
)


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values: dict[str, Any] = runpy.run_path(str(CONF))
    cfg = Config()
    for name, value in values.items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


class GunicornConfigTests:
    def test_a_worker_is_recycled_after_fifty_thousand_requests_with_a_tenth_of_jitter(self, monkeypatch):
        cfg = load(monkeypatch)
        assert cfg.max_requests == 50000
        assert cfg.max_requests_jitter == 5000

    def test_the_recycling_follows_its_variable_and_zero_turns_it_off(self, monkeypatch):
        cfg = load(monkeypatch, GUNICORN_MAX_REQUESTS="8000")
        assert (cfg.max_requests, cfg.max_requests_jitter) == (8000, 800)
        cfg = load(monkeypatch, GUNICORN_MAX_REQUESTS="0")
        assert (cfg.max_requests, cfg.max_requests_jitter) == (0, 0)

    def test_the_app_is_imported_in_each_worker_after_the_fork(self, monkeypatch):
        # HUP then reloads the code worker by worker, and no database connection is shared.
        assert load(monkeypatch).preload_app is False

    def test_the_access_log_line_carries_the_path_status_time_and_request_id_but_no_query(self, monkeypatch):
        fmt = load(monkeypatch).access_log_format
        for atom in ("%(h)s", "%(m)s", "%(U)s", "%(s)s", "%(b)s", "%(L)s", "%({x-request-id}o)s"):
            assert atom in fmt
        assert "%(q)s" not in fmt and "%(r)s" not in fmt

    def test_the_access_log_goes_to_the_journal_to_a_file_or_nowhere(self, monkeypatch, tmp_path):
        assert load(monkeypatch).accesslog == "-"
        to_file = str(tmp_path / "a.log")
        assert load(monkeypatch, GUNICORN_ACCESS_LOG=to_file).accesslog == to_file
        assert load(monkeypatch, GUNICORN_ACCESS_LOG="").accesslog is None

    def test_the_shape_follows_its_variables(self, monkeypatch):
        shape = {"GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "2", "GUNICORN_TIMEOUT": "30"}
        cfg = load(monkeypatch, GUNICORN_BIND="10.0.0.2:8000", **shape)
        assert (cfg.address, cfg.workers, cfg.threads, cfg.timeout) == ([("10.0.0.2", 8000)], 3, 2, 30)
        assert cfg.worker_class_str == "gthread"

    def test_a_file_error_log_captures_the_apps_output_and_the_journal_does_not(self, monkeypatch, tmp_path):
        assert load(monkeypatch).capture_output is False
        assert load(monkeypatch, GUNICORN_ERROR_LOG=str(tmp_path / "e.log")).capture_output is True

    def test_requests_in_flight_get_time_to_finish_on_a_reload_and_nginx_waits_longer(self, monkeypatch):
        cfg = load(monkeypatch)
        assert cfg.graceful_timeout == 30 and cfg.timeout == 60
        proxy = (CONF.parent / "nginx" / "madoguchi-proxy.conf").read_text()
        assert "proxy_read_timeout 90s;" in proxy


class AccessLoggerTests:
    """The config's AccessLogger builds only the fields the format names: the same line as
    gunicorn's own logger, whatever the request."""

    @staticmethod
    def lines(cfg: Config, resp: Any, environ: dict[str, Any]) -> tuple[str, str]:
        import datetime

        from gunicorn import glogging

        took = datetime.timedelta(seconds=1, microseconds=2345)
        req = SimpleNamespace(
            headers=[("HOST", "inquiry.example.lg.jp"), ("X-REQUEST-ID", "from-the-client")]
        )
        ours_logger, stock_logger = (
            cfg.logger_class.__new__(cfg.logger_class),
            glogging.Logger.__new__(glogging.Logger),
        )
        ours_logger.cfg = stock_logger.cfg = cfg  # the loggers without their handlers: nothing is written
        ours = ours_logger.atoms(resp, req, environ, took)
        stock = stock_logger.atoms(resp, req, environ, took)
        fmt = cfg.access_log_format
        return fmt % glogging.SafeAtoms(ours), fmt % glogging.SafeAtoms(stock)

    def environ(self, path: str = "/inquiry/x/") -> dict[str, Any]:
        return {
            "REMOTE_ADDR": "10.77.1.1",
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "RAW_URI": path + "?a=1",
            "QUERY_STRING": "a=1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_USER_AGENT": 'bot "quoted"',
        }

    def test_a_line_is_the_one_gunicorn_writes(self, monkeypatch):
        cfg = load(monkeypatch)
        resp = SimpleNamespace(
            status="302 Found", sent=0, headers=[("Location", "/"), ("X-Request-ID", "ab12")]
        )
        ours, stock = self.lines(cfg, resp, self.environ('/inquiry/"x"/'))
        assert ours == stock == '10.77.1.1 "POST /inquiry/\\"x\\"/" 302 0 1.002345s rid=ab12'

    def test_a_response_without_a_request_id_or_a_size_logs_dashes(self, monkeypatch):
        cfg = load(monkeypatch)
        resp = SimpleNamespace(status="500 Internal Server Error", headers={"Content-Type": "text/html"})
        ours, stock = self.lines(cfg, resp, self.environ())
        assert ours == stock == '10.77.1.1 "POST /inquiry/x/" 500 - 1.002345s rid=-'

    def test_a_format_naming_other_fields_gets_gunicorns_own(self, monkeypatch):
        cfg = load(monkeypatch)
        cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(a)s" %({host}i)s %(p)s')
        resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
        ours, stock = self.lines(cfg, resp, self.environ())
        assert ours == stock
        assert '"bot \\"quoted\\""' in ours and "inquiry.example.lg.jp" in ours and "?a=1" in ours
