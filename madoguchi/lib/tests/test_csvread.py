from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.lib.csvread import detect_and_decode, open_csv_text
from madoguchi.lib.errors import InputError

HEADER = "世帯番号,児童氏名,住所\r\n"


class DetectAndDecodeTests:
    def test_a_bom_means_utf8_and_is_not_part_of_the_first_header(self) -> None:
        text, encoding = detect_and_decode(
            ("\ufeff" + HEADER + "1,\U00020bb7田 髙,世田谷区\r\n").encode("utf-8")
        )
        assert encoding == "utf-8-sig"
        rows = list(csv.reader(text.splitlines()))
        assert rows[0][0] == "世帯番号"
        assert rows[1][1] == "\U00020bb7田 髙"

    def test_plain_utf8_is_read_as_utf8(self) -> None:
        text, encoding = detect_and_decode((HEADER + "1,髙橋,世田谷区\r\n").encode("utf-8"))
        assert (encoding, text) == ("utf-8", HEADER + "1,髙橋,世田谷区\r\n")

    def test_cp932_is_read_with_cp932_never_shift_jis(self) -> None:
        data = (HEADER + "1,髙橋①,～\r\n").encode("cp932")
        text, encoding = detect_and_decode(data)
        assert encoding == "cp932"
        assert "髙橋①" in text
        assert "\uff5e" in text  # 0x8160 is U+FF5E in cp932 (U+301C in shift_jis)
        assert b"\x81\x60" in data

    def test_an_ascii_file_is_utf8(self) -> None:
        assert detect_and_decode(b"a,b\n1,2\n") == ("a,b\n1,2\n", "utf-8")

    @pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
    def test_utf16_is_refused_with_or_without_a_bom(self, codec: str) -> None:
        with pytest.raises(InputError) as caught:
            detect_and_decode((HEADER + "1,髙橋,世田谷区\r\n").encode(codec))
        assert caught.value.code == "utf16"
        assert "UTF-16" in caught.value.message

    def test_binary_data_is_refused(self) -> None:
        with pytest.raises(InputError) as caught:
            detect_and_decode(bytes(range(256)) * 8)
        assert caught.value.code == "binary"

    def test_a_nul_byte_is_refused_with_its_line(self) -> None:
        with pytest.raises(InputError) as caught:
            detect_and_decode(b"a,b\n1,2\n3,\x004\n")
        assert (caught.value.code, caught.value.line) == ("binary", 3)
        assert str(caught.value).startswith("3行目")

    def test_a_file_mixing_utf8_and_cp932_lines_is_refused(self) -> None:
        data = HEADER.encode("utf-8") + "1,山田,世田谷区\r\n".encode() + "2,髙橋,世田谷区\r\n".encode("cp932")
        with pytest.raises(InputError) as caught:
            detect_and_decode(data)
        assert caught.value.code == "mixed_encoding"
        assert "混在" in caught.value.message
        assert caught.value.line == 3

    def test_bytes_that_are_neither_encoding_are_refused_with_the_line(self) -> None:
        with pytest.raises(InputError) as caught:
            detect_and_decode(b"a,b\n1,\x81\x20\n")
        assert (caught.value.code, caught.value.line) == ("unknown_encoding", 2)

    def test_a_bom_file_with_broken_utf8_is_refused(self) -> None:
        data = ("\ufeff" + HEADER).encode("utf-8") + "1,髙橋,x\r\n".encode("cp932")
        with pytest.raises(InputError) as caught:
            detect_and_decode(data)
        assert caught.value.code == "invalid_utf8"

    def test_euc_jp_that_happens_to_decode_as_cp932_is_refused(self) -> None:
        data = "ア,イ\nウエオ,カキク\n".encode("euc_jp")
        data.decode("cp932")  # the trap: no error, only half-width kana garbage
        with pytest.raises(InputError) as caught:
            detect_and_decode(data)
        assert caught.value.code == "euc_jp"

    def test_quoted_line_breaks_survive(self) -> None:
        text, _ = detect_and_decode('a,b\r\n1,"一行目\r\n二行目"\r\n'.encode("cp932"))
        assert list(csv.reader(text.splitlines(keepends=True)))[1] == ["1", "一行目\r\n二行目"]

    @given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=50))
    def test_any_utf8_text_reads_back_exactly(self, value: str) -> None:
        text, encoding = detect_and_decode(("a,b\n1," + value).encode("utf-8"))
        assert text == "a,b\n1," + value
        assert encoding == "utf-8"


class OpenCsvTextTests:
    def test_it_opens_a_cp932_file_for_the_csv_module(self, tmp_path: Path) -> None:
        path = tmp_path / "targets.csv"
        path.write_bytes((HEADER + '1,髙橋,"世田谷区,太子堂"\r\n').encode("cp932"))
        stream, encoding = open_csv_text(path)
        with stream:
            rows = list(csv.reader(stream))
        assert encoding == "cp932"
        assert rows[1] == ["1", "髙橋", "世田谷区,太子堂"]

    def test_it_skips_the_bom(self, tmp_path: Path) -> None:
        path = tmp_path / "targets.csv"
        path.write_bytes(("\ufeff" + HEADER).encode("utf-8"))
        stream, encoding = open_csv_text(path)
        with stream:
            assert next(csv.reader(stream))[0] == "世帯番号"
        assert encoding == "utf-8-sig"

    def test_it_refuses_a_mixed_file_before_returning_anything(self, tmp_path: Path) -> None:
        path = tmp_path / "targets.csv"
        path.write_bytes(HEADER.encode("utf-8") + "1,髙橋,x\r\n".encode("cp932"))
        with pytest.raises(InputError):
            open_csv_text(path)

    def test_memory_stays_flat_on_a_large_file(self, tmp_path: Path) -> None:
        path = tmp_path / "large.csv"
        line = "H00000001,髙橋　花子,タカハシ　ハナコ,2020-05-03,東京都世田谷区瀬田四丁目38番1号\r\n".encode(
            "cp932"
        )
        with path.open("wb") as handle:
            handle.write(HEADER.encode("cp932"))
            for _ in range(6):
                handle.write(line * 5_000)  # about 2.5 MB in all
        tracemalloc.start()
        try:
            stream, encoding = open_csv_text(path)
            with stream:
                count = sum(1 for _ in csv.reader(stream))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert encoding == "cp932"
        assert count == 30_001
        assert peak < path.stat().st_size / 3, peak
