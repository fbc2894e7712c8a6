"""The synthetic target list and `seed-demo --targets`."""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import call_command

from madoguchi.demo.services import DEMO_PROGRAM_CODE
from madoguchi.registry import demo_data
from madoguchi.registry.models import Household, TargetListImport


class DemoDataTests:
    def test_the_same_seed_gives_the_same_file(self, tmp_path):
        first, second = tmp_path / "a.csv", tmp_path / "b.csv"
        demo_data.write_csv(first, households=200, seed=3)
        demo_data.write_csv(second, households=200, seed=3)
        assert first.read_bytes() == second.read_bytes()
        demo_data.write_csv(second, households=200, seed=4)
        assert first.read_bytes() != second.read_bytes()

    def test_the_list_has_siblings_variant_kanji_and_setagaya_towns(self, tmp_path):
        path = tmp_path / "t.csv"
        demo_data.write_csv(path, households=600, seed=1)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        numbers = [row["世帯番号"] for row in rows]
        assert len(set(numbers)) == 600
        assert len(rows) > 700  # siblings
        names = "".join(row["保護者氏名"] for row in rows)
        assert any(variant in names for variant, _kana, _romaji in demo_data.VARIANT_FAMILIES)
        towns = {town for town, _chomes in demo_data.TOWNS}
        assert all(any(town in row["住所"] for town in towns) for row in rows)
        readings = [row["児童氏名カナ"] for row in rows if row["児童氏名カナ"]]
        assert all(0x30A1 <= ord(reading[0]) <= 0x30FA for reading in readings)

    def test_a_cp932_list_encodes(self, tmp_path):
        path = tmp_path / "t.csv"
        count = demo_data.write_csv(path, child_rows=500, seed=2, encoding="cp932")
        assert count == 500
        path.read_bytes().decode("cp932")


@pytest.mark.django_db
class SeedDemoTargetsTests:
    def test_seed_demo_imports_n_households_once(self):
        out = StringIO()
        call_command("seed_demo", "--targets", "50", stdout=out)
        assert "第1版" in out.getvalue()
        # The demo's second, ended program has its own households (demo/ended_program.py).
        demo = {"program__code": DEMO_PROGRAM_CODE}
        assert Household.objects.filter(**demo).count() == 50
        again = StringIO()
        call_command("seed_demo", "--targets", "50", stdout=again)
        assert "変更はありません" in again.getvalue()
        assert Household.objects.filter(**demo).count() == 50
        assert TargetListImport.objects.filter(version__isnull=False, **demo).count() == 1

    def test_seed_demo_leaves_a_list_that_did_not_come_from_it(self):
        """`make cluster` again after the load run's data must not shrink its list to the demo's."""
        call_command("seed_demo", "--targets", "20", stdout=StringIO())
        demo = {"program__code": DEMO_PROGRAM_CODE}
        latest = TargetListImport.objects.filter(version__isnull=False, **demo).order_by("-version").first()
        assert latest is not None
        # As bench.identify.load_synthetic or a ward's own import leaves it: another file, newer.
        TargetListImport.objects.filter(pk=latest.pk).update(file_name="synthetic.csv")
        active = Household.objects.filter(**demo).filter(removed_by_import__isnull=True).count()
        out = StringIO()
        call_command("seed_demo", "--targets", "50", stdout=out)
        assert "デモ以外の対象者一覧" in out.getvalue()
        assert TargetListImport.objects.filter(version__isnull=False, **demo).count() == 1
        assert Household.objects.filter(**demo).filter(removed_by_import__isnull=True).count() == active
