"""Versions of a target list: what changes, all or nothing, audit and hooks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.registry import hooks
from madoguchi.registry.importing import versions
from madoguchi.registry.models import Child, Guardian, Household, TargetListChange, TargetListImport
from madoguchi.registry.services import import_target_list
from madoguchi.registry.tests.csvdata import csv_bytes, row, write

pytestmark = pytest.mark.django_db

Status = TargetListImport.Status
# The sample list handed over with the project (shared/data/dev), beside the repository.
SAMPLE = Path(os.environ.get("MADOGUCHI_SAMPLE_TARGETS", "/work/shared/data/dev/targets.csv"))


def run(world, tmp_path, data: bytes, name: str = "targets.csv", **options):
    path = write(tmp_path, data, name)
    return import_target_list(
        program=world.program, path=path, file_name=name, user=world.ward_staff, **options
    )


FIRST = [
    row("H001", 児童氏名="試験　一郎"),
    row("H001", 児童氏名="試験　二郎", 児童生年月日="2021-06-01"),
    row("H002", 保護者氏名="見本　次子", 児童氏名="見本　三郎"),
    row("H003", 保護者氏名="例示　良子", 児童氏名="例示　四郎"),
]


class VersionTests:
    def test_a_second_version_shows_added_changed_and_removed(self, world, tmp_path):
        first = run(world, tmp_path, csv_bytes(FIRST))
        assert first.target_import.version == 1
        h003 = Household.objects.get(number="H003")
        assert Household.objects.get(public_id=h003.public_id) == h003  # opaque ids written right
        assert len({h.public_id for h in Household.objects.all()}) == 3
        second_rows = [
            row("H001", 児童氏名="試験　一郎", 電話番号="03-5555-0001"),
            row("H001", 児童氏名="試験　二郎", 児童生年月日="2021-06-01", 電話番号="03-5555-0001"),
            row("H001", 児童氏名="試験　五郎", 児童生年月日="2021-12-01", 電話番号="03-5555-0001"),
            row("H002", 保護者氏名="見本　次子", 児童氏名="見本　三郎"),
            row("H004", 保護者氏名="新規　一子", 児童氏名="新規　六郎"),
        ]
        preview = run(world, tmp_path, csv_bytes(second_rows), dry_run=True)
        assert (preview.added, preview.changed, preview.removed, preview.unchanged) == (1, 1, 1, 1)
        assert Household.objects.get(number="H001").children.count() == 2  # preview wrote nothing

        second = run(world, tmp_path, csv_bytes(second_rows), name="v2.csv")
        assert second.status == Status.APPLIED
        assert second.target_import.version == 2
        assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 1)
        assert set(second.changed_columns) == {
            "電話番号",
            "児童氏名",
            "児童生年月日",
            "児童氏名カナ",
            "児童数",
        }
        h001 = Household.objects.get(number="H001")
        assert sorted(h001.children.values_list("name", flat=True)) == [
            "試験　一郎",
            "試験　二郎",
            "試験　五郎",
        ]
        assert h001.guardians.get().phone == "03-5555-0001"
        h003.refresh_from_db()
        assert h003.removed_by_import == second.target_import  # marked, not deleted
        kinds = dict(
            TargetListChange.objects.filter(target_import=second.target_import).values_list(
                "household__number", "kind"
            )
        )
        assert kinds == {"H001": "changed", "H003": "removed", "H004": "added"}
        change = TargetListChange.objects.get(target_import=second.target_import, household__number="H001")
        assert "電話番号" in change.fields

    def test_a_removed_household_that_comes_back_is_added_again(self, world, tmp_path):
        run(world, tmp_path, csv_bytes(FIRST))
        run(world, tmp_path, csv_bytes(FIRST[:3]), name="v2.csv")
        assert Household.objects.get(number="H003").is_removed
        third = run(world, tmp_path, csv_bytes(FIRST), name="v3.csv")
        assert (third.added, third.removed) == (1, 0)
        assert not Household.objects.get(number="H003").is_removed
        assert Household.objects.filter(number="H003").count() == 1

    def test_the_same_file_twice_changes_nothing(self, world, tmp_path):
        run(world, tmp_path, csv_bytes(FIRST))
        before = list(Household.objects.values_list("id", "updated_at", "content_hash"))
        again = run(world, tmp_path, csv_bytes(FIRST))
        assert again.status == Status.UNCHANGED
        assert again.target_import.version is None
        assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 3)
        assert list(Household.objects.values_list("id", "updated_at", "content_hash")) == before
        assert TargetListImport.objects.filter(version__isnull=False).count() == 1

    def test_the_same_content_in_another_notation_changes_nothing(self, world, tmp_path):
        run(world, tmp_path, csv_bytes(FIRST))
        other = [
            dict(r, 児童生年月日=r["児童生年月日"].replace("-", "/"), 電話番号="09012345678") for r in FIRST
        ]
        again = run(world, tmp_path, csv_bytes(list(reversed(other)), encoding="cp932"))
        assert again.status == Status.UNCHANGED

    def test_an_import_killed_half_way_leaves_nothing(self, world, tmp_path, monkeypatch):
        rows = [row(f"H{n:04d}", 児童氏名=f"試験　{n}郎") for n in range(30)]
        original = versions.Writer.create

        def create_then_die(self, batch):
            original(self, batch)
            raise RuntimeError("killed")

        monkeypatch.setattr(versions, "BATCH", 10)
        monkeypatch.setattr(versions.Writer, "create", create_then_die)
        with pytest.raises(RuntimeError):
            run(world, tmp_path, csv_bytes(rows))
        assert Household.objects.count() == 0
        assert Child.objects.count() == 0
        assert Guardian.objects.count() == 0
        attempt = TargetListImport.objects.get()
        assert attempt.status == Status.FAILED
        assert attempt.version is None

        monkeypatch.setattr(versions.Writer, "create", original)
        retry = run(world, tmp_path, csv_bytes(rows))
        assert retry.target_import.version == 1
        assert Household.objects.count() == 30

    def test_an_applied_import_is_audited_without_personal_values(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes(FIRST))
        event = AuditEvent.objects.get(action=Action.IMPORT)
        assert event.object_type == "target_list_import"
        assert event.object_id == str(report.target_import.pk)
        assert event.program_id == world.program.pk
        assert event.actor_id == world.ward_staff.pk
        assert event.details["counts"]["added"] == 3
        assert event.details["sha256"] == report.sha256
        assert "試験" not in str(event.details)

    def test_a_refused_import_is_recorded_and_audited(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row(児童生年月日="2023-02-30")]))
        refused = TargetListImport.objects.get()
        assert refused.status == Status.REFUSED
        assert refused.problems == [{"row": 2, "column": "児童生年月日", "reason": report.problems[0].reason}]
        assert AuditEvent.objects.get(action=Action.IMPORT).outcome == "failed"

    def test_the_hook_receives_the_households_written(self, world, tmp_path):
        calls = []

        def callback(program, target_import, household_ids):
            calls.append((program.pk, target_import.version, sorted(household_ids)))

        hooks.on_list_applied(callback)
        try:
            run(world, tmp_path, csv_bytes(FIRST))
        finally:
            hooks.remove(callback)
        ids = sorted(Household.objects.values_list("id", flat=True))
        assert calls == [(world.program.pk, 1, ids)]

    def test_a_failing_hook_rolls_the_version_back(self, world, tmp_path):
        def callback(program, target_import, household_ids):
            raise RuntimeError("index failed")

        hooks.on_list_applied(callback)
        try:
            with pytest.raises(RuntimeError):
                run(world, tmp_path, csv_bytes(FIRST))
        finally:
            hooks.remove(callback)
        assert Household.objects.count() == 0

    @pytest.mark.skipif(not SAMPLE.exists(), reason="the shared sample target list is not on this machine")
    def test_the_shared_sample_imports_fully(self, world, tmp_path):
        world.program.child_dob_from = None
        world.program.child_dob_to = None
        world.program.save()
        data = SAMPLE.read_bytes()
        report = run(world, tmp_path, data)
        assert not report.refused, report.problems[:5]
        assert report.row_count == 2336
        assert Child.objects.count() == 2336
        assert Household.objects.count() == report.household_count == 2000
