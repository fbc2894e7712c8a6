"""kill -9 in the middle of a purge, on a real SQLite file: the rerun finishes, and the scan
reads the raw database file too."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
SCRIPT = Path(__file__).with_name("killed_purge_script.py")


def run(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.mark.slow
def test_a_purge_killed_twice_finishes_on_rerun(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(Path.cwd())}
    env.pop("REDIS_URL", None)
    assert run([str(BIN / "madoguchi"), "migrate", "--noinput"], env).returncode == 0
    setup = run([sys.executable, str(SCRIPT), "setup", str(tmp_path)], env)
    assert setup.returncode == 0, setup.stderr

    killed = run([sys.executable, str(SCRIPT), "kill-in-step", str(tmp_path)], env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with sqlite3.connect(database) as db:
        # The step's transaction never committed: no case was half emptied.
        assert db.execute("SELECT COUNT(*) FROM cases_case WHERE inquiry = ''").fetchone()[0] == 0
        assert db.execute("SELECT state FROM lifecycle_programerasure").fetchone()[0] == "erasing"

    killed = run([sys.executable, str(SCRIPT), "kill-after-step", str(tmp_path)], env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM registry_guardian").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM registry_household").fetchone()[0] > 0

    rerun = run(
        [str(BIN / "madoguchi"), "lifecycle", "purge", "--program", "test-program", "--as", "manager"], env
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "消去証明書を発行しました" in rerun.stdout and "データベースファイル" in rerun.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT state FROM lifecycle_programerasure").fetchone()[0] == "erased"
        assert db.execute("SELECT COUNT(*) FROM registry_household").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM cases_case WHERE inquiry != ''").fetchone()[0] == 0
    verify = run([str(BIN / "madoguchi"), "audit", "verify"], env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # The raw file holds none of the names any more (and the WAL was truncated).
    raw = database.read_bytes()
    for value in ("髙橋　一郎", "鷹野　澄子", "ichiro.takahashi@example.jp", "090-1111-2222"):
        assert value.encode() not in raw, value
    wal = Path(f"{database}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
