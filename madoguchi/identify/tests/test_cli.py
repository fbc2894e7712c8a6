"""`madoguchi identify --program CODE FILE.jsonl` writes formats.md §2 output."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command


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

    def test_a_caller_who_fits_two_households_equally_is_answered_with_both(
        self, world, households, monkeypatch, tmp_path
    ):
        # Two listed guardians named 田中 花子, and the caller says only that name: the caller
        # is one of them, so the answer is not the empty "not in the list", and neither is
        # more than one chance in two.
        line = json.dumps({"query_id": "t", "guardian_name": "田中花子", "guardian_kana": "タナカ ハナコ"})
        rows = run_cli(world, [line], monkeypatch, tmp_path)
        shown = {c["household"]: c["score"] for c in rows[0]["candidates"]}
        assert {"100001", "100002"} <= set(shown)
        assert max(shown.values()) <= 0.5

    def test_it_reads_standard_input(self, world, households, monkeypatch, tmp_path):
        rows = run_cli(world, self.QUERIES[:1], monkeypatch, tmp_path, stdin=True)
        assert rows[0]["candidates"][0]["household"] == "100001"

    def test_it_refuses_an_unknown_program_with_one_japanese_message_and_status_1(
        self, world, households, tmp_path
    ):
        path = tmp_path / "q.jsonl"
        path.write_text(self.QUERIES[0] + "\n", encoding="utf-8")
        out = io.StringIO()
        with pytest.raises(CommandError, match="事業 nope がありません") as refused:
            call_command("identify", "--program", "nope", str(path), stdout=out)
        assert refused.value.returncode == 1
        assert out.getvalue() == ""

    def test_a_missing_file_is_one_japanese_message_and_status_1(self, world, households, tmp_path):
        with pytest.raises(CommandError, match=r"ファイル .* を開けません") as refused:
            call_command("identify", "--program", world.program.code, str(tmp_path / "no.jsonl"))
        assert refused.value.returncode == 1


BAD_LINES = [
    (b"{not json", None, "JSON"),
    (b"[1, 2]", None, "オブジェクト"),
    (b'"just a string"', None, "オブジェクト"),
    (b'{"guardian_name": "x"}', None, "query_id"),
    (b'{"query_id": true}', None, "query_id"),
    (b'{"query_id": ["a"]}', None, "query_id"),
    (b'{"query_id": "b1", "guardian_name": 42}', "b1", "保護者氏名"),
    (b'{"query_id": "b2", "child_dob": ["R2.5.3"]}', "b2", "児童生年月日"),
    (b'{"query_id": "b3", "guardian_name": "\xff\xfe"}', None, "UTF-8"),
    (b'{"query_id": "b4", "guardian_name": "\\ud800 x"}', "b4", "サロゲート"),
    (b'{"query_id": "b5", "child_dob": "2023-02-30"}', "b5", "児童生年月日"),
    (b'{"query_id": "b6", "guardian_dob": "2999-01-01"}', "b6", "未来"),
    ('{"query_id": "b7", "child_dob": "令和20年12月31日"}'.encode(), "b7", "未来"),
]


class BadLineTests:
    """Each bad line is answered with its reason in Japanese; the good lines still are."""

    def run_bytes(self, world, tmp_path, lines: list[bytes]) -> tuple[list[dict], int]:
        path = tmp_path / "q.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        out = io.StringIO()
        status = 0
        try:
            call_command("identify", "--program", world.program.code, str(path), stdout=out)
        except CommandError as error:
            status = error.returncode
            assert "読めないため答えていません" in str(error)
        return [json.loads(line) for line in out.getvalue().splitlines()], status

    @pytest.mark.parametrize(("line", "query_id", "reason"), BAD_LINES)
    def test_a_bad_line_between_good_ones_gets_its_own_error_line_and_status_2(
        self, world, households, tmp_path, line, query_id, reason
    ):
        good = IdentifyCommandTests.QUERIES[0].encode()
        other = IdentifyCommandTests.QUERIES[2].encode()
        rows, status = self.run_bytes(world, tmp_path, [good, line, other])
        assert status == 2
        assert len(rows) == 3
        assert rows[0]["query_id"] == "q1" and rows[0]["candidates"][0]["household"] == "100001"
        assert rows[2]["query_id"] == "q3" and rows[2]["candidates"][0]["household"] == "100003"
        bad = rows[1]
        assert bad["candidates"] == []
        assert reason in bad["error"] and bad["error"].startswith("2行目")
        assert bad["query_id"] == query_id
        if query_id is None:
            assert bad["line"] == 2

    def test_all_good_lines_exit_0_and_blank_lines_and_a_bom_are_no_error(self, world, households, tmp_path):
        lines = [
            b"\xef\xbb\xbf" + IdentifyCommandTests.QUERIES[0].encode(),
            b"",
            b"   ",
            IdentifyCommandTests.QUERIES[1].encode(),
        ]
        rows, status = self.run_bytes(world, tmp_path, lines)
        assert status == 0
        assert [r["query_id"] for r in rows] == ["q1", "q2"]
        assert all("error" not in r for r in rows)

    def test_the_command_line_prints_no_traceback_and_exits_2(self, world, households, tmp_path, settings):
        # As an operator runs it: through the real entry point, output on stdout.
        from django.core.management import ManagementUtility

        path = tmp_path / "q.jsonl"
        path.write_bytes(b"\xff\n" + IdentifyCommandTests.QUERIES[0].encode() + b"\n{\n")
        out, err = io.StringIO(), io.StringIO()
        import contextlib
        import sys

        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            pytest.raises(SystemExit) as exit_,
        ):
            ManagementUtility(["madoguchi", "identify", "--program", world.program.code, str(path)]).execute()
        assert exit_.value.code == 2
        assert "Traceback" not in err.getvalue() + out.getvalue()
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [r.get("line") for r in rows] == [1, None, 3]
        assert rows[1]["candidates"][0]["household"] == "100001"
        assert sys.stdout is not None


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


class StreamingTests:
    def test_each_line_is_answered_before_the_next_is_read(self, world, households, monkeypatch):
        out = io.StringIO()
        seen_before_third: list[str] = []

        class Lines(io.StringIO):
            def __iter__(self):  # type: ignore[override]
                yield IdentifyCommandTests.QUERIES[0] + "\n"
                yield IdentifyCommandTests.QUERIES[1] + "\n"
                seen_before_third.append(out.getvalue())
                yield IdentifyCommandTests.QUERIES[2] + "\n"

        monkeypatch.setattr("sys.stdin", Lines())
        call_command("identify", "--program", world.program.code, "-", stdout=out)
        answered = [json.loads(line)["query_id"] for line in seen_before_third[0].splitlines()]
        assert answered == ["q1", "q2"]
        assert len(out.getvalue().splitlines()) == 3
