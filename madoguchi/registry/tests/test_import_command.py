"""`madoguchi import-targets`: preview, apply, refuse (exit code), drop a column."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from madoguchi.registry.models import Household, TargetListImport
from madoguchi.registry.tests.csvdata import HEADER, csv_bytes, row, write

pytestmark = pytest.mark.django_db


def command(*args: str) -> str:
    out = StringIO()
    call_command("import_targets", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class ImportTargetsCommandTests:
    def test_a_dry_run_previews_and_writes_nothing(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row("H001"), row("H002", 児童生年月日="2018-01-01")]))
        output = command("--program", world.program.code, str(path), "--dry-run")
        assert "行数: 2" in output
        assert "世帯数: 1" in output and "追加: 1" in output  # H002 has no eligible child
        assert "対象外の児童" in output and "（3）" in output
        assert "試験" not in output  # counts and rows, never names
        assert Household.objects.count() == 0
        assert TargetListImport.objects.count() == 0

    def test_it_imports_as_a_version_and_records_the_user(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row("H001")]))
        output = command("--program", world.program.code, str(path), "--user", world.ward_staff.username)
        assert "第1版" in output
        target_import = TargetListImport.objects.get()
        assert target_import.uploaded_by == world.ward_staff
        assert target_import.file_name == "targets.csv"
        again = command("--program", world.program.code, str(path))
        assert "何も変更していません" in again

    def test_a_refused_file_exits_non_zero_with_problems_by_row_and_column(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row(マイナンバー="1")], header=[*HEADER, "マイナンバー"]))
        out = StringIO()
        with pytest.raises(CommandError):
            call_command("import_targets", "--program", world.program.code, str(path), stdout=out)
        assert "1行目 [マイナンバー]" in out.getvalue()
        assert Household.objects.count() == 0
        assert TargetListImport.objects.get().status == TargetListImport.Status.REFUSED

    def test_drop_column_accepts_the_file(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row(マイナンバー="1")], header=[*HEADER, "マイナンバー"]))
        output = command("--program", world.program.code, str(path), "--drop-column", "マイナンバー")
        assert "除外した列: マイナンバー" in output
        assert Household.objects.count() == 1

    def test_an_unknown_program_is_an_error(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row()]))
        with pytest.raises(CommandError):
            command("--program", "no-such-program", str(path))
