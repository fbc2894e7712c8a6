"""The import's fast paths agree with madoguchi.lib; keys are derived from the written values."""

from __future__ import annotations

import random

import pytest

from madoguchi.lib import dates as lib_dates
from madoguchi.lib import email as lib_email
from madoguchi.lib import phone as lib_phone
from madoguchi.lib import text as lib_text
from madoguchi.lib.errors import InputError
from madoguchi.registry import keys
from madoguchi.registry.importing import fields
from madoguchi.registry.models import Child, Guardian, Household


class FastPathTests:
    def test_phone_fast_path_gives_what_libphonenumber_gives(self):
        rng = random.Random(5)
        samples = [
            f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}" for _ in range(300)
        ]
        samples += [f"03-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}" for _ in range(300)]
        samples += [sample.replace("-", "") for sample in samples[:100]]
        for sample in samples:
            assert fields.phone(sample) == lib_phone.normalize_phone(sample), sample

    def test_phone_outside_the_fast_path_still_goes_through_lib(self):
        assert fields.phone("０３（１２３４）５６７８") == lib_phone.normalize_phone(
            "０３（１２３４）５６７８"
        )
        with pytest.raises(InputError):
            fields.phone("090-0000-1234")

    def test_email_fast_path_accepts_only_what_lib_accepts(self):
        for address in ["hanako@example.jp", "a.b_c+d@mail.example.co.jp", "x-1@example.com"]:
            assert fields.email(address) == lib_email.normalize_email(address)
        for address in ["a..b@example.jp", ".a@example.jp", "a@example", "a@@example.jp"]:
            with pytest.raises(InputError):
                fields.email(address)

    def test_clean_fast_path_matches_lib_clean_name(self):
        for value in ["　試験　花子 ", "髙橋\u200b花子", "葛\U000e0100城"]:
            assert fields.clean(value) == lib_text.clean_name(value)
        for value in ["試験\x00", "試験\u202e", "試験\n花子"]:
            with pytest.raises(InputError):
                fields.clean(value)

    def test_birth_date_fast_path_matches_lib(self):
        for value in ["2020-04-01", "2020/4/1", "1999/12/31"]:
            assert fields.birth_date(value) == lib_dates.parse_date(value)
        with pytest.raises(InputError):
            fields.birth_date("2023-02-30")


class KeyTests:
    def test_guardian_keys_fold_variants_width_and_readings(self):
        guardian = keys.fill_guardian_keys(
            Guardian(
                name="髙橋　花子", kana="タカハシ ハナコ", phone="090-1234-5678", email="Hanako@Example.jp"
            )
        )
        assert guardian.name_key == "高橋花子"
        assert guardian.family_name_key == "高橋"
        assert guardian.kana_key == "タカハシハナコ"
        assert guardian.family_kana_loose_key == "タカハシ"
        assert guardian.phone_digits == "09012345678"
        assert guardian.email_key == "hanako@example.jp"

    def test_a_name_without_a_space_has_no_family_key(self):
        child = keys.fill_child_keys(Child(name="山﨑蓮", kana="ヤマザキレン"))
        assert child.name_key == "山崎蓮"
        assert child.given_name_key == ""
        assert child.given_kana_loose_key == ""

    def test_child_given_name_key(self):
        child = keys.fill_child_keys(Child(name="𠮷田　ユウキ", kana="ヨシダ ユーキ"))
        assert child.given_name_key == "ユウキ"
        assert child.given_kana_loose_key == keys.kana_loose_key("ユウキ")

    def test_address_keys_ignore_notation(self):
        a = keys.fill_household_keys(Household(address="東京都世田谷区弦巻二丁目19番6号　コーポ弦巻101"))
        b = keys.fill_household_keys(Household(address="弦巻２－１９－６"))
        assert a.address_block_key == b.address_block_key == "弦巻2-19-6"
        assert a.address_key != b.address_key
