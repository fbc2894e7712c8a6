"""`madoguchi identify --program CODE FILE.jsonl` writes formats.md §2 output."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from madoguchi.identify.tests.helpers import standard_list


@pytest.fixture
def households(world):
    return standard_list(world.program)


def run_cli(world, lines: list[str], monkeypatch, tmp_path, *, stdin: bool = False) -> list[dict]:
    out = io.StringIO()
    if stdin:
        monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
        call_command("identify", "--program", world.program.code, "-", stdout=out)
    else:
        path = tmp_path / "queries.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        call_command("identify", "--program", world.program.code, str(path), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


class IdentifyCommandTests:
    QUERIES = [
        json.dumps(
            {"query_id": "q1", "guardian_name": "田中 花子", "child_dob": "R2.5.3"}, ensure_ascii=False
        ),
        json.dumps(
            {"query_id": "q2", "guardian_name": "佐藤 美咲", "child_dob": "2021-06-01"}, ensure_ascii=False
        ),
        json.dumps({"query_id": "q3", "phone": "080-5555-0101", "child_name": "凪"}, ensure_ascii=False),
    ]

    def test_it_writes_one_line_per_inquiry_in_order_with_the_household_number(
        self, world, households, monkeypatch, tmp_path
    ):
        rows = run_cli(world, self.QUERIES, monkeypatch, tmp_path)
        assert [r["query_id"] for r in rows] == ["q1", "q2", "q3"]
        assert rows[0]["candidates"][0]["household"] == "100001"
        assert 0.5 <= rows[0]["candidates"][0]["score"] <= 1
        assert set(rows[0]["candidates"][0]) == {"household", "score"}
        assert rows[1]["candidates"] == []  # abstained: not in the list
        assert rows[2]["candidates"][0]["household"] == "100003"

    def test_it_reads_standard_input(self, world, households, monkeypatch, tmp_path):
        rows = run_cli(world, self.QUERIES[:1], monkeypatch, tmp_path, stdin=True)
        assert rows[0]["candidates"][0]["household"] == "100001"

    def test_it_refuses_an_unknown_program(self, world, households, tmp_path):
        path = tmp_path / "q.jsonl"
        path.write_text(self.QUERIES[0] + "\n", encoding="utf-8")
        with pytest.raises(CommandError):
            call_command("identify", "--program", "nope", str(path), stdout=io.StringIO())

    def test_it_refuses_a_line_that_is_not_json(self, world, households, tmp_path):
        path = tmp_path / "q.jsonl"
        path.write_text("{not json\n", encoding="utf-8")
        with pytest.raises(CommandError, match="line 1"):
            call_command("identify", "--program", world.program.code, str(path), stdout=io.StringIO())


class ImportThenIdentifyTests:
    def test_a_list_imported_by_the_registry_is_searchable_and_a_new_version_replaces_it(
        self, world, tmp_path
    ):
        columns = "世帯番号 児童氏名 児童氏名カナ 児童生年月日 保護者氏名 保護者氏名カナ 保護者生年月日"
        header = ",".join([*columns.split(), "郵便番号", "住所", "電話番号", "メールアドレス"])
        first = "\n".join(
            [
                header,
                "H1,森　翼,モリ　ツバサ,2020-05-03,森　直子,モリ　ナオコ,1992-06-01,,"
                "弦巻2-1-1,090-1111-2222,",
            ]
        )
        second = "\n".join(
            [
                header,
                "H2,林　蓮,ハヤシ　レン,2021-01-04,林　美香,ハヤシ　ミカ,1990-03-03,,"
                "弦巻3-2-2,090-3333-4444,",
            ]
        )
        path = tmp_path / "targets.csv"
        query = tmp_path / "q.jsonl"
        query.write_text(
            json.dumps(
                {"query_id": "a", "guardian_name": "森 直子", "child_dob": "R2.5.3"}, ensure_ascii=False
            )
            + "\n"
            + json.dumps(
                {"query_id": "b", "guardian_name": "林 美香", "phone": "09033334444"}, ensure_ascii=False
            )
            + "\n",
            encoding="utf-8",
        )
        path.write_text(first, encoding="utf-8")
        call_command("import_targets", "--program", world.program.code, str(path), stdout=io.StringIO())
        out = io.StringIO()
        call_command("identify", "--program", world.program.code, str(query), stdout=out)
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [c["household"] for c in rows[0]["candidates"][:1]] == ["H1"]
        assert rows[1]["candidates"] == []
        path.write_text(second, encoding="utf-8")
        call_command("import_targets", "--program", world.program.code, str(path), stdout=io.StringIO())
        out = io.StringIO()
        call_command("identify", "--program", world.program.code, str(query), stdout=out)
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert rows[0]["candidates"] == []  # removed by the new version
        assert [c["household"] for c in rows[1]["candidates"][:1]] == ["H2"]
