"""T-FA-03: a process killed (SIGKILL) half-way through an import leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from madoguchi.registry.tests.csvdata import csv_bytes, row, write

CHILD = """
import datetime, os, signal, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from madoguchi.accounts.models import Organisation
from madoguchi.programs.models import Program
from madoguchi.registry.importing import versions
from madoguchi.registry.services import import_target_list

ward, _ = Organisation.objects.get_or_create(code="w", name="テスト区", kind=Organisation.Kind.WARD)
program, _ = Program.objects.get_or_create(
    code="p", name="p", ward=ward,
    recording_start=datetime.date.today() - datetime.timedelta(days=30),
    recording_end=datetime.date.today() + datetime.timedelta(days=60),
)
original = versions.Writer.create

def create_then_die(self, batch):
    original(self, batch)  # the first batch is written, inside the transaction
    os.kill(os.getpid(), signal.SIGKILL)

versions.BATCH = 10
if sys.argv[2] == "kill":
    versions.Writer.create = create_then_die
report = import_target_list(program=program, path=sys.argv[1], file_name="t.csv")
print(report.status, report.target_import.version)
"""


@pytest.mark.slow
class KilledImportTests:
    def test_a_process_killed_half_way_commits_nothing_and_the_log_shows_the_attempt(self, tmp_path):
        database = tmp_path / "killed.sqlite3"
        path = write(tmp_path, csv_bytes([row(f"H{n:03d}", 児童氏名=f"試験　{n}郎") for n in range(30)]))
        env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{database}",
            DJANGO_SETTINGS_MODULE="madoguchi.settings",
            TMPDIR=str(tmp_path),  # the killed process cannot remove its staging file
        )
        root = Path(__file__).resolve().parents[3]

        def child(mode: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-c", CHILD, str(path), mode],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )

        killed = child("kill")
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT COUNT(*) FROM registry_household").fetchone() == (0,)
            assert connection.execute("SELECT COUNT(*) FROM registry_child").fetchone() == (0,)
            attempts = connection.execute("SELECT status, version FROM registry_targetlistimport").fetchall()
        assert attempts == [("failed", None)]

        again = child("run")
        assert again.returncode == 0, again.stderr[-2000:]
        assert again.stdout.split() == ["applied", "1"]
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT COUNT(*) FROM registry_household").fetchone() == (30,)
