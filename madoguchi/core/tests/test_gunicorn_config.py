"""deploy/gunicorn.conf.py: the values each app host runs with, and their environment overrides.

The file is read as gunicorn reads it (executed as a module) and every value is handed to
gunicorn's own settings, which validate them: a value gunicorn would refuse fails here."""

from __future__ import annotations

import runpy
from pathlib import Path
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
