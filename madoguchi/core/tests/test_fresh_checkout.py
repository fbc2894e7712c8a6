"""The commands work on a fresh checkout, before anything has made the `var/` folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class FreshCheckoutTests:
    def test_the_default_sqlite_database_opens_without_a_var_folder(self, tmp_path: Path) -> None:
        var = tmp_path / "not" / "yet" / "var"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(MADOGUCHI_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="madoguchi.settings")
        result = subprocess.run(
            [sys.executable, "-m", "madoguchi", "check", "--database", "default"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert var.is_dir()
