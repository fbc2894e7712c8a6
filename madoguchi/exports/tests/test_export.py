from __future__ import annotations

import csv
import datetime
import hashlib
import io
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from madoguchi.accounts.sessions import AUTH_AT
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent, Outcome
from madoguchi.cases.models import Status
from madoguchi.cases.selectors import CaseFilter
from madoguchi.exports import services
from madoguchi.ledger.models import LedgerEntry
from madoguchi.reports.tests.factories import at, case

D = datetime.date
DANGEROUS = ["=SUM(A1)", "+81", "-1+1", "@x", "＝1+1", "＋81", "－1", "＠x", "\tx", "\rx"]


def cases(world):
    for n, name in enumerate(DANGEROUS):
        case(world.program, at(D(2025, 11, 1 + n)), caller_name=name, inquiry=f"問い合わせ{n}")
    case(world.program, at(D(2025, 11, 20)), status=Status.CLOSED, caller_name="山田 花子")
    case(world.other_program, at(D(2025, 11, 20)), caller_name="別の事業の人")


def post(client, **data):
    payload = {
        "program": "test-program",
        "columns": ["receipt_number", "received_at", "status", "caller_name", "inquiry"],
        "format": "csv",
        "purpose": "区議会への報告資料の作成",
        **data,
    }
    return client.post(reverse("exports:index"), payload)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
class ExportScreenTests:
    def test_csv_streams_neutralised_cells_and_records_rows_and_sha256(self, client, world):
        cases(world)
        login(client, world.ward_manager)
        response = post(client)
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Disposition"].startswith('attachment; filename="cases-test-program-')
        assert "no-store" in response["Cache-Control"]
        data = body(response)
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert rows[0] == ["受付番号", "受付日時", "状態", "架電者氏名", "問い合わせ内容"]
        names = [row[3] for row in rows[1:]]
        assert names == ["'" + name for name in DANGEROUS] + ["山田 花子"]
        assert "別の事業の人" not in data.decode("utf-8-sig")

        digest = hashlib.sha256(data).hexdigest()
        started, completed = AuditEvent.objects.filter(
            action=Action.EXPORT, object_type="case_export"
        ).order_by("seq")
        assert started.details["stage"] == "started"
        assert started.details["columns"] == [
            "receipt_number",
            "received_at",
            "status",
            "caller_name",
            "inquiry",
        ]
        assert completed.details["rows"] == 11
        assert completed.details["sha256"] == digest
        assert completed.details["bytes"] == len(data)
        entry = LedgerEntry.objects.get()
        assert entry.kind == "export"
        assert (entry.row_count, entry.sha256, entry.audit_seq) == (11, digest, completed.seq)
        assert entry.purpose == "区議会への報告資料の作成"
        assert entry.details["personal_columns"] == ["caller_name", "inquiry"]
        assert entry.file_name in response["Content-Disposition"]

    def test_xlsx_is_written_in_write_only_mode_with_a_frozen_header(self, client, world):
        cases(world)
        login(client, world.ward_manager)
        data = body(post(client, format="xlsx"))
        book = load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["問い合わせ"]
        sheet = book["問い合わせ"]
        assert sheet.freeze_panes == "A2"
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][3] == "架電者氏名"
        assert values[1][3] == "'=SUM(A1)"
        assert values[5][3] == "'＝1+1"
        assert len(values) == 12
        assert LedgerEntry.objects.get().sha256 == hashlib.sha256(data).hexdigest()

    def test_the_list_filters_apply(self, client, world):
        cases(world)
        login(client, world.ward_manager)
        data = body(post(client, status="closed", date_from="2025-11-01", date_to="2025-11-30"))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert [row[3] for row in rows[1:]] == ["山田 花子"]
        started = AuditEvent.objects.filter(action=Action.EXPORT).order_by("seq").first()
        assert started.details["filters"] == ["date_from", "date_to", "status"]
        assert LedgerEntry.objects.get().row_count == 1

    def test_re_authentication_is_required_after_five_minutes(self, client, world):
        cases(world)
        login(client, world.ward_manager)
        session = client.session
        session[AUTH_AT] = time.time() - 3600
        session.save()
        assert "reauth-notice" in client.get(reverse("exports:index")).content.decode()
        response = post(client)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:reauth"))
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
        assert not LedgerEntry.objects.exists()

    @pytest.mark.parametrize("who", ["operator", "supervisor", "ward_staff", "auditor"])
    def test_only_the_ward_manager_exports(self, client, world, who):
        login(client, getattr(world, who))
        assert client.get(reverse("exports:index")).status_code == 403
        assert post(client).status_code == 403
        assert not LedgerEntry.objects.exists()

    def test_a_purpose_is_required(self, client, world):
        login(client, world.ward_manager)
        response = post(client, purpose="")
        assert response.status_code == 400
        assert "出力の目的" in response.content.decode()
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()

    def test_another_programs_cases_answer_404(self, client, world):
        login(client, world.ward_manager)
        assert post(client, program="other-program").status_code == 404

    def test_an_interrupted_stream_is_recorded_as_failed(self, world):
        cases(world)
        export = services.ExportRequest(
            program=world.program,
            actor=world.ward_manager,
            filters=CaseFilter(),
            columns=["receipt_number"],
            fmt="csv",
            purpose="テスト",
        )
        services.start_export(export)
        chunks = services.stream(export)
        next(chunks)
        chunks.close()
        failed = AuditEvent.objects.filter(action=Action.EXPORT).order_by("-seq").first()
        assert failed.outcome == Outcome.FAILED and failed.details["stage"] == "interrupted"
        assert not LedgerEntry.objects.exists()

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_the_export_takes_the_same_queries_whatever_the_number_of_rows(self, world, fmt):
        # Rows are read through one streaming cursor (CHUNK_SIZE at a time), never a query per
        # row or per chunk; the small CHUNK_SIZE makes the larger export span several chunks.
        def queries(count: int) -> int:
            for n in range(count):
                case(world.program, at(D(2025, 11, 1 + n % 28)), caller_name=f"件{n}")
            export = services.ExportRequest(
                program=world.program,
                actor=world.ward_manager,
                filters=CaseFilter(),
                columns=["receipt_number", "received_at", "category", "assignee", "caller_name"],
                fmt=fmt,
                purpose="テスト",
            )
            with CaptureQueriesContext(connection) as captured:
                services.start_export(export)
                b"".join(services.stream(export))
            assert export.ledger_entry is not None
            return len(captured.captured_queries)

        with mock.patch.object(services, "CHUNK_SIZE", 4):
            small = queries(3)
            assert queries(30) == small


@pytest.mark.django_db
class ExportCommandTests:
    def test_the_command_writes_the_file_and_records_it(self, world, tmp_path):
        cases(world)
        out = tmp_path / "cases.csv"
        stdout = io.StringIO()
        call_command(
            "cases_export",
            "--program",
            "test-program",
            "--purpose",
            "年度末の集計",
            "--as",
            "manager",
            "--format",
            "csv",
            "--out",
            str(out),
            "--columns",
            "receipt_number,caller_name",
            stdout=stdout,
        )
        data = out.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert "11 件" in stdout.getvalue() and digest in stdout.getvalue()
        entry = LedgerEntry.objects.get()
        assert (entry.row_count, entry.sha256) == (11, digest)
        assert AuditEvent.objects.get(seq=entry.audit_seq).details["via"] == "command"
        assert "'=SUM(A1)" in data.decode("utf-8-sig")

        xlsx = tmp_path / "cases.xlsx"
        call_command(
            "cases_export",
            "--program",
            "test-program",
            "--purpose",
            "年度末の集計",
            "--as",
            "manager",
            "--format",
            "xlsx",
            "--out",
            str(xlsx),
            "--status",
            "closed",
            stdout=io.StringIO(),
        )
        assert load_workbook(xlsx)["問い合わせ"].max_row == 2

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--as", "operator"], "区管理者だけ"),
            (["--as", "nobody"], "いません"),
            (["--as", "manager", "--columns", "secret"], "不明な項目"),
            (["--as", "manager", "--purpose", " "], "目的"),
        ],
    )
    def test_refusals_write_nothing(self, world, tmp_path, args, message):
        out = tmp_path / "x.csv"
        base = {"--program": "test-program", "--purpose": "集計", "--format": "csv", "--out": str(out)}
        for key, value in zip(args[::2], args[1::2], strict=True):
            base[key] = value
        with pytest.raises(CommandError, match=message):
            call_command("cases_export", *[item for pair in base.items() for item in pair])
        assert not out.exists()
        assert not LedgerEntry.objects.exists()
