from __future__ import annotations

import csv
import datetime
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from madoguchi.audit.models import AuditEvent
from madoguchi.ledger.models import LedgerEntry
from madoguchi.lifecycle.models import ReturnExport
from madoguchi.lifecycle.returning import TARGET_COLUMNS, return_export
from madoguchi.lifecycle.services import LifecycleRefused
from madoguchi.lifecycle.tests.conftest import CALLER_NAME, NOTE, Life
from madoguchi.programs.models import Program
from madoguchi.registry.models import Child, Guardian, Household
from madoguchi.registry.services import import_target_list

pytestmark = pytest.mark.django_db


def household_facts(program: Program) -> list[tuple]:
    facts = []
    for household in Household.objects.filter(program=program).order_by("number"):
        guardians = sorted(
            Guardian.objects.filter(household=household).values_list("name", "kana", "dob", "phone", "email")
        )
        children = sorted(Child.objects.filter(household=household).values_list("name", "kana", "dob"))
        facts.append(
            (
                household.number,
                household.postal_code,
                household.address,
                household.content_hash,
                guardians,
                children,
            )
        )
    return facts


def test_the_returned_target_list_imports_again_unchanged(life: Life, tmp_path: Path) -> None:
    out = tmp_path / "returned"
    result = return_export(program=life.program, actor=life.world.ward_manager, out_dir=out)
    targets = out / "targets.csv"
    assert targets.read_bytes().startswith(b"\xef\xbb\xbf")
    # Into a fresh program: the same households, the same content.
    fresh = Program.objects.create(
        code="reimport",
        name="再取込",
        ward=life.world.ward,
        recording_start=datetime.date.today() - datetime.timedelta(days=1),
        recording_end=datetime.date.today() + datetime.timedelta(days=1),
        child_dob_from=life.program.child_dob_from,
        child_dob_to=life.program.child_dob_to,
    )
    report = import_target_list(
        program=fresh, path=targets, file_name="targets.csv", user=life.world.ward_manager
    )
    assert report.status == "applied", report.problems
    original = [fact[:2] + fact[2:] for fact in household_facts(life.program)]
    again = household_facts(fresh)
    # The formula-looking child name came back neutralised with a leading quote: everything else is equal.
    assert [f for f in original if f[0] != "H900003"] == [f for f in again if f[0] != "H900003"]
    assert len(again) == len(original)
    # Into the program itself (a dry run): no change at all.
    report = import_target_list(program=life.program, path=targets, file_name="t.csv", dry_run=True)
    assert (report.added, report.removed) == (0, 0)
    assert result.files[0].rows == 4


def test_the_files_their_manifest_and_the_records(life: Life, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = return_export(program=life.program, actor=life.world.ward_manager, out_dir=out)
    manifest_bytes = (out / "manifest.json").read_bytes()
    manifest = json.loads(manifest_bytes)
    assert hashlib.sha256(manifest_bytes).hexdigest() == result.manifest_sha256
    names = {item["name"]: item for item in manifest["files"]}
    assert set(names) == {"targets.csv", "cases.csv", "timeline.csv", "return.xlsx", "return-inventory.pdf"}
    for name, item in names.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == item["sha256"], name
    with open(out / "targets.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == TARGET_COLUMNS and len(rows) - 1 == names["targets.csv"]["rows"] == 4
    assert any(row[1] == '\'=HYPERLINK("x")' for row in rows)  # neutralised
    assert any(row[1] == "髙橋　陽葵" for row in rows) and any(row[1] == "𠮷田　蒼" for row in rows)
    with open(out / "cases.csv", encoding="utf-8-sig", newline="") as handle:
        cases = list(csv.DictReader(handle))
    assert len(cases) == names["cases.csv"]["rows"] == 2
    assert {case["受付方法"] for case in cases} == {"電話", "問い合わせフォーム"}
    assert any(case["架電者氏名"] == CALLER_NAME for case in cases)
    with open(out / "timeline.csv", encoding="utf-8-sig", newline="") as handle:
        timeline = list(csv.DictReader(handle))
    assert any(entry["本文"] == NOTE for entry in timeline)
    assert names["timeline.csv"]["rows"] == len(timeline)
    from openpyxl import load_workbook

    book = load_workbook(out / "return.xlsx", read_only=True)
    assert book.sheetnames == ["対象者一覧", "問い合わせ", "対応記録"]
    cells = [row for row in book["対象者一覧"].iter_rows(values_only=True)]
    assert len(cells) == 5 and any(row[1] == '\'=HYPERLINK("x")' for row in cells)
    # Audited, in the ledger, recorded.
    event = AuditEvent.objects.get(action="export", object_type="program_return")
    assert event.details["manifest_sha256"] == result.manifest_sha256
    entry = LedgerEntry.objects.get(kind="return", program=life.program)
    assert entry.sha256 == result.manifest_sha256 and entry.audit_seq == event.seq and entry.row_count > 0
    assert ReturnExport.objects.get(program=life.program).manifest_sha256 == result.manifest_sha256


def test_the_inventory_pdf_keeps_rare_kanji(life: Life, tmp_path: Path) -> None:
    Program.objects.filter(pk=life.program.pk).update(name="髙𠮷区 子育て応援事業")
    life.program.refresh_from_db()
    return_export(program=life.program, actor=life.world.ward_manager, out_dir=tmp_path / "r")
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r" / "return-inventory.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "返還目録" in text and "髙𠮷区 子育て応援事業" in text and "targets.csv" in text


def test_only_the_ward_manager_returns(life: Life, tmp_path: Path) -> None:
    for user in (life.world.operator, life.world.auditor, life.world.ward_staff, life.world.outsider):
        with pytest.raises(LifecycleRefused):
            return_export(program=life.program, actor=user, out_dir=tmp_path / user.username)
    assert not ReturnExport.objects.exists()
