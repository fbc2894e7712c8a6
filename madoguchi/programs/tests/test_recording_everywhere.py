"""The recording-period rule on every write path (issue #10): each test fails without its guard."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.cases.models import Case
from madoguchi.identify.services import create_api_token
from madoguchi.identify.tests.helpers import standard_list
from madoguchi.public.selectors import forget_programs
from madoguchi.registry import uploads
from madoguchi.registry.models import Household, TargetListImport
from madoguchi.registry.tests.csvdata import csv_bytes, row, write

pytestmark = pytest.mark.django_db


def end_period(program):
    """The consultation's period, long over (the case the issue reports)."""
    program.recording_start = datetime.date(2023, 2, 3)
    program.recording_end = datetime.date(2023, 5, 10)
    program.save()


def import_cli(program, path) -> str:
    out = StringIO()
    call_command("import_targets", "--program", program.code, str(path), "--no-progress", stdout=out)
    return out.getvalue()


class TargetListImportTests:
    def test_a_new_household_is_refused_as_version_2_after_the_period(self, world, tmp_path):
        import_cli(world.program, write(tmp_path, csv_bytes([row("H001")])))
        end_period(world.program)
        out = StringIO()
        with pytest.raises(CommandError) as refused:
            call_command(
                "import_targets",
                "--program",
                world.program.code,
                str(write(tmp_path, csv_bytes([row("H001"), row("H002")]), name="v2.csv")),
                "--no-progress",
                stdout=out,
            )
        assert "何も変更していません" in str(refused.value)
        assert "記録期間外" in out.getvalue()
        assert list(Household.objects.values_list("number", flat=True)) == ["H001"]
        assert not TargetListImport.objects.filter(version=2).exists()

    def test_a_changed_household_is_refused_after_the_period(self, world, tmp_path):
        import_cli(world.program, write(tmp_path, csv_bytes([row("H001")])))
        end_period(world.program)
        changed = write(
            tmp_path, csv_bytes([row("H001", 住所="東京都世田谷区太子堂四丁目2番2号")]), name="v2.csv"
        )
        with pytest.raises(CommandError):
            import_cli(world.program, changed)
        assert Household.objects.get().address == "東京都世田谷区太子堂四丁目1番1号"

    def test_the_same_list_again_changes_nothing_and_is_not_refused(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row("H001")]))
        import_cli(world.program, path)
        end_period(world.program)
        assert "何も変更していません" in import_cli(world.program, path)

    def test_an_early_close_refuses_the_import_too(self, world, tmp_path):
        world.program.recording_closed_at = timezone.now() - datetime.timedelta(minutes=1)
        world.program.save()
        with pytest.raises(CommandError):
            import_cli(world.program, write(tmp_path, csv_bytes([row("H001")])))
        assert not Household.objects.exists()

    def test_the_screen_refuses_version_2_after_the_period(self, client, world, tmp_path, monkeypatch):
        directory = tmp_path / "uploads"
        directory.mkdir()
        monkeypatch.setattr(uploads, "upload_dir", lambda: directory)
        import_cli(world.program, write(tmp_path, csv_bytes([row("H001")])))
        end_period(world.program)
        login(client, world.ward_staff)
        preview = client.post(
            reverse("registry:upload", args=[world.program.code]),
            {"file": SimpleUploadedFile("v2.csv", csv_bytes([row("H001"), row("H002")]), "text/csv")},
        )
        assert "記録期間外" in preview.content.decode()
        assert Household.objects.count() == 1
        assert not TargetListImport.objects.filter(version=2).exists()

    def test_the_apply_checks_the_period_again_under_its_lock(self, world, tmp_path, monkeypatch):
        # Ended between the check of the file and the write: the apply itself refuses.
        from madoguchi.programs.recording import RecordingClosed
        from madoguchi.registry import services

        calls = {"n": 0}
        real = world.program.__class__.is_recording_open

        def open_once(self, at=None):
            calls["n"] += 1
            return calls["n"] == 1 and real(self, at)

        monkeypatch.setattr(world.program.__class__, "is_recording_open", open_once)
        with pytest.raises(RecordingClosed):
            services.import_target_list(
                program=world.program, path=write(tmp_path, csv_bytes([row("H001")])), file_name="t.csv"
            )
        assert not Household.objects.exists()
        assert TargetListImport.objects.get().status == TargetListImport.Status.FAILED


class IdentificationTests:
    def test_confirm_binds_nothing_after_the_period(self, client, world):
        households = standard_list(world.program)
        end_period(world.program)
        login(client, world.operator)
        response = client.post(
            reverse("identify:confirm"),
            {
                "program": world.program.code,
                "household": str(households["tanaka"].public_id),
                "items": ["name", "dob", "phone"],
            },
        )
        html = response.content.decode()
        assert "記録期間外" in html
        assert 'name="household"' not in html
        assert "HX-Trigger" not in response

    def test_the_screen_pop_api_answers_409_after_the_period(self, client, world):
        standard_list(world.program)
        _token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        end_period(world.program)
        response = client.post(
            "/identify/api/screen-pop",
            json.dumps({"program": world.program.code, "caller_number": "090-1234-5678"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 409
        assert response.json()["error"] == "recording_closed"
        assert "記録期間外" in response.json()["message"]


class PublicFormTests:
    def test_an_early_close_closes_the_public_form(self, world):
        forget_programs()
        world.program.recording_closed_at = timezone.now() - datetime.timedelta(minutes=1)
        world.program.save()
        forget_programs()
        client = Client()
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert "受付期間外" in page and "<textarea" not in page
        assert not Case.objects.exists()
