"""An applied version of the list updates the index of the households it touched, in the
import's transaction, and ends in the rows a full rebuild would write."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.identify import indexer
from madoguchi.identify.engine import Query, identify
from madoguchi.identify.models import IdentIndexState, IdentKey, IdentKeyStat, IdentProfile, IdentReading
from madoguchi.identify.services import create_api_token
from madoguchi.identify.tests.helpers import add_household
from madoguchi.registry import hooks
from madoguchi.registry.models import Household
from madoguchi.registry.services import import_target_list
from madoguchi.registry.tests.csvdata import csv_bytes, row, write

pytestmark = pytest.mark.django_db

# Shared family names, a reading two households give (佐藤 → サトウ) and one only one gives,
# children of the same name, two children in one household: keys and readings whose counts
# an update must move without dropping what other households still give.
BASE = [
    row(
        "H01",
        保護者氏名="佐藤　美咲",
        保護者氏名カナ="サトウ　ミサキ",
        児童氏名="佐藤　陽翔",
        児童氏名カナ="サトウ　ハルト",
        住所="東京都世田谷区弦巻二丁目1番1号",
        電話番号="090-1000-0001",
        メールアドレス="",
    ),
    row(
        "H02",
        保護者氏名="佐藤　健",
        保護者氏名カナ="サトウ　ケン",
        児童氏名="佐藤　結衣",
        児童氏名カナ="サトウ　ユイ",
        児童生年月日="2021-01-04",
        住所="東京都世田谷区弦巻二丁目2番2号",
        電話番号="090-1000-0002",
        メールアドレス="",
    ),
    row(
        "H03",
        保護者氏名="鈴木　一郎",
        保護者氏名カナ="スズキ　イチロウ",
        児童氏名="鈴木　陽翔",
        児童氏名カナ="スズキ　ハルト",
        児童生年月日="2019-12-24",
        住所="東京都世田谷区太子堂四丁目3番3号",
        電話番号="090-1000-0003",
        メールアドレス="",
    ),
    row(
        "H03",
        保護者氏名="鈴木　一郎",
        保護者氏名カナ="スズキ　イチロウ",
        児童氏名="鈴木　蒼",
        児童氏名カナ="スズキ　アオイ",
        児童生年月日="2021-07-07",
        住所="東京都世田谷区太子堂四丁目3番3号",
        電話番号="090-1000-0003",
        メールアドレス="",
    ),
    row(
        "H04",
        保護者氏名="髙橋　直子",
        保護者氏名カナ="タカハシ　ナオコ",
        児童氏名="髙橋　翼",
        児童氏名カナ="タカハシ　ツバサ",
        児童生年月日="2020-02-29",
        住所="東京都世田谷区三軒茶屋一丁目4番4号",
        電話番号="03-3400-0004",
        メールアドレス="naoko@example.jp",
    ),
    row(
        "H05",
        保護者氏名="森　可奈子",
        保護者氏名カナ="モリ　カナコ",
        児童氏名="森　凪",
        児童氏名カナ="モリ　ナギ",
        児童生年月日="2022-03-03",
        住所="東京都世田谷区桜上水三丁目5番5号",
        電話番号="070-1000-0005",
        メールアドレス="",
    ),
]


def rows_except(*numbers: str) -> list[dict[str, str]]:
    return [r for r in BASE if r["世帯番号"] not in numbers]


def apply(world: Any, tmp_path: Path, rows: list[dict[str, str]], name: str) -> Any:
    path = write(tmp_path, csv_bytes(rows), name)
    report = import_target_list(program=world.program, path=path, file_name=name, user=world.ward_staff)
    assert report.status == "applied", report.problems
    return report


def snapshot(program_id: int) -> dict[str, Any]:
    """The index's content, without row ids: what must equal a full rebuild."""
    return {
        "keys": set(IdentKey.objects.filter(program_id=program_id).values_list("household_id", "key")),
        "stats": set(IdentKeyStat.objects.filter(program_id=program_id).values_list("key", "count")),
        "profiles": {
            household_id: data
            for household_id, data in IdentProfile.objects.filter(program_id=program_id).values_list(
                "household_id", "data"
            )
        },
        "readings": set(
            IdentReading.objects.filter(program_id=program_id).values_list("text", "reading", "households")
        ),
        "count": IdentIndexState.objects.get(program_id=program_id).household_count,
    }


@pytest.fixture
def built(world: Any, tmp_path: Path) -> Any:
    """Version 1 applied and indexed."""
    apply(world, tmp_path, BASE, "v1.csv")
    indexer.reindex_program(world.program.pk)
    return world


@pytest.fixture
def no_rebuild(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fails the test if anything rebuilds an index in full."""
    calls: list[int] = []

    def refuse(program_id: int, **kwargs: Any) -> int:
        calls.append(program_id)
        raise AssertionError("a full rebuild ran")

    monkeypatch.setattr(indexer, "reindex_program", refuse)
    return calls


def found(world: Any, **said: str) -> list[str]:
    result = identify(world.program.pk, Query(**said))
    return [] if result.abstained else [c.number for c in result.candidates[:1]]


class IncrementalUpdateTests:
    def test_a_moved_household_is_found_at_its_new_address_and_not_at_the_old_one(
        self, built, tmp_path, no_rebuild
    ):
        assert found(built, guardian_name="鈴木 一郎", address="太子堂4-3-3") == ["H03"]
        moved = [
            {**r, "住所": "東京都世田谷区代沢五丁目9番9号"} if r["世帯番号"] == "H03" else r for r in BASE
        ]
        apply(built, tmp_path, moved, "v2.csv")
        assert found(built, guardian_name="鈴木 一郎", address="代沢5-9-9") == ["H03"]
        keys = set(IdentKey.objects.filter(household__number="H03").values_list("key", flat=True))
        assert not any("太子堂" in key for key in keys)
        assert any("代沢" in key for key in keys)
        assert not IdentKeyStat.objects.filter(key__contains="太子堂").exists()

    def test_a_removed_household_is_no_longer_found_and_an_added_one_is(self, built, tmp_path, no_rebuild):
        assert found(built, guardian_name="髙橋 直子", phone="03-3400-0004") == ["H04"]
        added = row(
            "H06",
            保護者氏名="林　美香",
            保護者氏名カナ="ハヤシ　ミカ",
            児童氏名="林　蓮",
            児童氏名カナ="ハヤシ　レン",
            住所="東京都世田谷区北沢一丁目6番6号",
            電話番号="090-1000-0006",
            メールアドレス="",
        )
        apply(built, tmp_path, [*rows_except("H04"), added], "v2.csv")
        assert found(built, guardian_name="髙橋 直子", phone="03-3400-0004") == []
        assert found(built, guardian_name="林 美香", phone="09010000006") == ["H06"]
        removed = Household.objects.get(number="H04")
        assert not IdentKey.objects.filter(household=removed).exists()
        assert not IdentProfile.objects.filter(household=removed).exists()
        assert IdentIndexState.objects.get(program=built.program).household_count == 5

    def test_untouched_households_keep_their_index_rows(self, built, tmp_path, no_rebuild):
        untouched = Household.objects.exclude(number__in=["H01", "H05"])
        before = set(
            IdentKey.objects.filter(household__in=untouched).values_list("id", "household_id", "key")
        )
        profiles = set(IdentProfile.objects.filter(household__in=untouched).values_list("id", flat=True))
        changed = [
            {**r, "電話番号": "090-2000-0001"} if r["世帯番号"] == "H01" else r for r in rows_except("H05")
        ]
        apply(built, tmp_path, changed, "v2.csv")
        after = set(IdentKey.objects.filter(household__in=untouched).values_list("id", "household_id", "key"))
        assert after == before
        assert IdentKey.objects.filter(household__number="H01", key="t:09020000001").exists()
        assert not IdentKey.objects.filter(household__number="H05").exists()
        assert (
            set(IdentProfile.objects.filter(household__in=untouched).values_list("id", flat=True)) == profiles
        )

    def test_the_updated_index_equals_a_full_rebuild(self, built, tmp_path):
        original = indexer.reindex_program
        changed = [
            {**r, "保護者氏名": "佐藤　真司", "保護者氏名カナ": "サトウ　シンジ"}
            if r["世帯番号"] == "H02"
            else r
            for r in rows_except("H01", "H05")  # the last 可奈子 → カナコ and one of two サトウ go
        ]
        changed.append(
            row(
                "H07",
                保護者氏名="森　加奈子",
                保護者氏名カナ="モリ　カナコ",
                児童氏名="森　湊",
                児童氏名カナ="モリ　ミナト",
                児童生年月日="2020-10-10",
                住所="東京都世田谷区弦巻二丁目1番1号",
                電話番号="",
                メールアドレス="",
            )
        )
        apply(built, tmp_path, changed, "v2.csv")
        updated = snapshot(built.program.pk)
        assert ("可奈子", "カナコ", 1) not in updated["readings"]
        assert ("加奈子", "カナコ", 1) in updated["readings"]
        assert ("佐藤", "サトウ", 1) in updated["readings"]
        original(built.program.pk)
        assert snapshot(built.program.pk) == updated

    def test_a_sequence_of_versions_keeps_the_index_equal_to_a_rebuild(self, built, tmp_path):
        versions = [
            rows_except("H02"),
            BASE,  # H02 comes back
            [{**r, "児童生年月日": "2020-06-30"} if r["児童氏名"] == "鈴木　蒼" else r for r in BASE],
            rows_except("H01", "H03"),
        ]
        for number, rows in enumerate(versions, start=2):
            apply(built, tmp_path, rows, f"v{number}.csv")
            updated = snapshot(built.program.pk)
            indexer.reindex_program(built.program.pk)
            assert snapshot(built.program.pk) == updated, f"version {number}"

    def test_each_change_increments_the_index_version_and_the_next_search_sees_it(self, built, tmp_path):
        state = indexer.ensure_index(built.program.pk)
        apply(built, tmp_path, rows_except("H05"), "v2.csv")
        assert IdentIndexState.objects.get(program=built.program).version == state.version + 1
        # No process-local copy of the state: the very next search reads the new one.
        fresh = indexer.ensure_index(built.program.pk)
        assert fresh.version == state.version + 1
        assert fresh.household_count == state.household_count - 1
        assert fresh.source_import_id == Household.objects.get(number="H05").removed_by_import_id

    def test_a_search_on_a_current_index_reads_its_state_in_one_query(self, built, django_assert_num_queries):
        with django_assert_num_queries(1):
            indexer.ensure_index(built.program.pk)

    def test_an_update_leaves_another_programs_households_alone(self, built, tmp_path):
        stranger = add_household(
            built.other_program,
            "X01",
            guardian=("別事業　太郎", "ベツジギョウ　タロウ", "1980-01-01"),
            children=[("別事業　花", "ベツジギョウ　ハナ", "2020-01-01")],
        )
        indexer.reindex_program(built.other_program.pk)
        before = snapshot(built.other_program.pk)
        indexer.update_households(built.program.pk, [stranger.pk], source_import_id=None)
        assert snapshot(built.other_program.pk) == before


class FailedImportTests:
    def test_a_failed_import_leaves_the_index_as_it_was(self, built, tmp_path):
        before = snapshot(built.program.pk)
        version = IdentIndexState.objects.get(program=built.program).version

        def fail_after_identify(program: Any, target_import: Any, household_ids: list[int]) -> None:
            assert IdentProfile.objects.filter(household__number="H01").count() == 0  # updated by then
            raise RuntimeError("a later step failed")

        hooks.on_list_applied(fail_after_identify)
        try:
            with pytest.raises(RuntimeError):
                apply(built, tmp_path, rows_except("H01"), "v2.csv")
        finally:
            hooks.remove(fail_after_identify)
        assert snapshot(built.program.pk) == before
        assert IdentIndexState.objects.get(program=built.program).version == version
        assert found(built, guardian_name="佐藤 美咲", phone="090-1000-0001") == ["H01"]


class FullRebuildTests:
    def test_a_first_large_import_leaves_the_index_to_a_full_rebuild(self, world, tmp_path, monkeypatch):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 3)
        apply(world, tmp_path, BASE, "v1.csv")
        assert not IdentIndexState.objects.filter(program=world.program).exists()
        assert not IdentKey.objects.exists()
        assert found(world, guardian_name="森 可奈子", phone="070-1000-0005") == ["H05"]  # rebuilt first
        assert IdentIndexState.objects.get(program=world.program).household_count == 5

    def test_a_small_first_import_is_indexed_with_the_list(self, world, tmp_path, no_rebuild):
        apply(world, tmp_path, BASE, "v1.csv")
        assert IdentIndexState.objects.get(program=world.program).household_count == 5
        assert found(world, guardian_name="森 可奈子", phone="070-1000-0005") == ["H05"]

    def test_a_change_to_a_large_share_of_the_list_leaves_it_to_a_full_rebuild(
        self, built, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 1)
        before = snapshot(built.program.pk)
        apply(built, tmp_path, rows_except("H01", "H02"), "v2.csv")  # 2 of 5 > 20 %
        assert snapshot(built.program.pk) == before  # untouched, now older than the list
        assert found(built, guardian_name="佐藤 美咲", phone="090-1000-0001") == []  # rebuilt first
        assert IdentIndexState.objects.get(program=built.program).household_count == 3

    def test_an_index_already_older_than_the_list_is_not_patched(self, built, tmp_path, monkeypatch):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 1)
        apply(built, tmp_path, rows_except("H01", "H02"), "v2.csv")  # left stale
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 1000)
        apply(built, tmp_path, rows_except("H01", "H02", "H05"), "v3.csv")
        assert IdentProfile.objects.filter(household__number="H01").exists()  # still version 1's rows
        indexer.ensure_index(built.program.pk)
        assert not IdentProfile.objects.filter(household__number__in=["H01", "H02", "H05"]).exists()

    def test_an_inconsistent_index_does_not_fail_the_import_and_is_rebuilt(self, built, tmp_path):
        IdentKeyStat.objects.filter(program=built.program).delete()  # damaged by hand
        apply(built, tmp_path, rows_except("H05"), "v2.csv")
        assert IdentIndexState.objects.get(program=built.program).source_import_id is None
        assert found(built, guardian_name="森 可奈子", phone="070-1000-0005") == []
        assert IdentKeyStat.objects.filter(program=built.program).exists()  # rebuilt whole
        assert IdentIndexState.objects.get(program=built.program).household_count == 4

    def test_the_reindex_command_rebuilds_and_reports_the_version(self, built):
        out = io.StringIO()
        call_command("identify_reindex", "--program", built.program.code, stdout=out)
        assert "5 世帯を索引しました" in out.getvalue()
        assert IdentIndexState.objects.get(program=built.program).version >= 1

    def test_the_stale_sweep_rebuilds_only_an_index_older_than_its_list(self, built, tmp_path, monkeypatch):
        out = io.StringIO()
        call_command("identify_reindex", "--stale", stdout=out)
        assert "再構築が必要な索引はありません" in out.getvalue()
        monkeypatch.setattr(indexer, "INCREMENTAL_SHARE", 0.0)
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 0)
        apply(built, tmp_path, rows_except("H05"), "v2.csv")  # a "large" change: left to a rebuild
        assert indexer.stale_program_ids() == [built.program.pk]
        out = io.StringIO()
        call_command("identify_reindex", "--stale", stdout=out)
        assert f"{built.program.code}: 4 世帯を索引しました" in out.getvalue()
        assert indexer.stale_program_ids() == []
        assert not IdentProfile.objects.filter(household__number="H05").exists()


@pytest.mark.django_db(transaction=True)
class RebuildVacuumTests:
    """Index-only scans skip the table only on pages a VACUUM marked all-visible."""

    @pytest.fixture(autouse=True)
    def indexed(self, world):
        if connection.vendor != "postgresql":
            pytest.skip("the visibility map is PostgreSQL's")
        for number in range(30):
            add_household(
                world.program,
                f"V{number:03d}",
                guardian=(f"試験　花子{number}", "シケン　ハナコ", "1990-01-01"),
                children=[("試験　太郎", "シケン　タロウ", "2021-04-01")],
            )
        indexer.reindex_program(world.program.pk)

    @staticmethod
    def visibility() -> tuple[int, int]:
        """The key table's pages, and how many of them are marked all-visible."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", [IdentKey._meta.db_table]
            )
            pages, all_visible = cursor.fetchone()
        return pages, all_visible

    def test_a_full_rebuild_leaves_the_key_table_readable_from_its_index_alone(self):
        pages, all_visible = self.visibility()
        assert pages > 0
        assert all_visible == pages

    def test_the_stale_sweep_vacuums_again_a_key_table_its_rebuild_could_not_mark(self, monkeypatch):
        """A transaction older than the rebuild keeps its VACUUM from marking the pages; nothing
        else would come back for them, so the minute's sweep does."""
        table = IdentKey._meta.db_table
        with connection.cursor() as cursor:  # every row written again after the rebuild's VACUUM
            cursor.execute(f"UPDATE {table} SET key = key")  # noqa: S608
            cursor.execute(f"ANALYZE {table}")
        pages, all_visible = self.visibility()
        assert all_visible < pages
        out = io.StringIO()
        call_command("identify_reindex", "--stale", stdout=out)
        assert "VACUUM" not in out.getvalue()  # a small table is left to autovacuum
        assert self.visibility()[1] < pages
        monkeypatch.setattr(indexer, "MIN_VACUUM_PAGES", 1)
        out = io.StringIO()
        call_command("identify_reindex", "--stale", stdout=out)
        assert f"索引の表 {table} を VACUUM しました" in out.getvalue()
        pages, all_visible = self.visibility()
        assert all_visible == pages
        out = io.StringIO()
        call_command("identify_reindex", "--stale", stdout=out)
        assert "VACUUM" not in out.getvalue()


class StaleIndexInARequestTests:
    """A web search must not rebuild a large list's index itself: at a million households that
    is a quarter of an hour, beyond gunicorn's timeout, while every other search of the program
    waits for the rebuild's lock. It answers from the index it has and says so."""

    def _search(self, world: Any, **fields: str) -> str:
        client = Client()
        login(client, world.operator)
        response = client.post(
            reverse("identify:search"), {"program": world.program.code, **fields}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        return response.content.decode()

    def test_a_large_lists_stale_index_answers_as_it_is_with_a_warning(
        self, built, tmp_path, monkeypatch, no_rebuild
    ):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 1)
        monkeypatch.setattr(indexer, "INLINE_REBUILD_HOUSEHOLDS", 2)
        apply(built, tmp_path, rows_except("H01", "H02"), "v2.csv")  # left to a full rebuild
        html = self._search(built, guardian_name="佐藤 美咲", phone="090-1000-0001")
        assert "対象者一覧の新しい版を索引に反映しています" in html
        assert "H01" in html  # the old index's answer; the rebuild is the command's (cron)
        assert no_rebuild == []

    def test_a_small_lists_stale_index_is_rebuilt_by_the_search(self, built, tmp_path, monkeypatch):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 1)
        apply(built, tmp_path, rows_except("H01", "H02"), "v2.csv")
        html = self._search(built, guardian_name="佐藤 美咲", phone="090-1000-0001")
        assert "索引に反映しています" not in html and "H01" not in html
        assert IdentIndexState.objects.get(program=built.program).household_count == 3

    def test_a_large_list_never_indexed_is_refused_in_japanese_and_the_screen_pop_answers_503(
        self, world, tmp_path, monkeypatch, no_rebuild
    ):
        monkeypatch.setattr(indexer, "INCREMENTAL_MIN", 3)
        monkeypatch.setattr(indexer, "INLINE_REBUILD_HOUSEHOLDS", 2)
        apply(world, tmp_path, BASE, "v1.csv")
        html = self._search(world, guardian_name="森 可奈子", phone="070-1000-0005")
        assert "索引を作成中のため、まだ検索できません" in html
        _token, secret = create_api_token(
            organisation=world.program.ward, name="PBX", created_by=world.ward_manager
        )
        answer = Client().post(
            "/identify/api/screen-pop",
            json.dumps({"program": world.program.code, "caller_number": "070-1000-0005"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert answer.status_code == 503 and answer.json()["error"] == "index_not_ready"
        assert answer["Retry-After"] == "60"
        assert no_rebuild == []


def _probe_key_share(program_id: int) -> None:
    """From another connection, take the lock a case insert's foreign key takes on its program
    (FOR KEY SHARE), giving up after two seconds."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    ) as other:
        other.execute("SET lock_timeout = '2s'")
        other.execute("SELECT 1 FROM programs_program WHERE id = %s FOR KEY SHARE", [program_id])
        other.rollback()


@pytest.mark.django_db(transaction=True)
class ProgramLockTests:
    """A rebuild and an import lock the program's row to exclude each other, not the program's
    case saves: FOR UPDATE held every case insert (its foreign key's KEY SHARE lock) for the
    length of a million-household rebuild or import."""

    @pytest.fixture(autouse=True)
    def _postgres_only(self) -> None:
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("row lock modes are PostgreSQL's")

    def test_a_rebuild_lets_case_inserts_of_the_program_through(self, world):
        from django.db import transaction

        with transaction.atomic():
            indexer._lock(world.program.pk)
            _probe_key_share(world.program.pk)  # raised LockNotAvailable under FOR UPDATE

    def test_an_import_lets_case_inserts_of_the_program_through(self, world, tmp_path, monkeypatch):
        from madoguchi.registry import services as registry

        probed: list[int] = []
        write = registry.Writer.write

        def probing(self: Any, *args: Any, **kwargs: Any) -> Any:
            _probe_key_share(world.program.pk)
            probed.append(1)
            return write(self, *args, **kwargs)

        monkeypatch.setattr(registry.Writer, "write", probing)
        apply(world, tmp_path, BASE, "v1.csv")
        assert probed == [1]
