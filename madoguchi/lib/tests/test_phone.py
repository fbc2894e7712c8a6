from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import HYPHEN_LIKES, unify_hyphens, unify_numeric_hyphens
from madoguchi.lib.phone import normalize_phone, phone_digits


class NormalizePhoneTests:
    @pytest.mark.parametrize(
        "value",
        [
            "03-1234-5678",
            "0312345678",
            "０３－１２３４－５６７８",
            "03ー1234ー5678",
            "03‐1234−5678",
            "03–1234—5678",
            "03―1234ｰ5678",
            "(03)1234-5678",
            "（０３）１２３４－５６７８",
            "03 1234 5678",
            "+81 3 1234 5678",
            "+81-3-1234-5678",
            "+81312345678",
            "+81 (0)3 1234 5678",
        ],
    )
    def test_every_notation_of_a_landline_gives_one_form(self, value: str) -> None:
        assert normalize_phone(value) == "03-1234-5678"

    @pytest.mark.parametrize(
        "value",
        ["090-1234-5678", "09012345678", "０９０１２３４５６７８", "+81 90 1234 5678", "+819012345678"],
    )
    def test_every_notation_of_a_mobile_gives_one_form(self, value: str) -> None:
        assert normalize_phone(value) == "090-1234-5678"

    def test_other_number_kinds_are_formatted_as_phonenumbers_does(self) -> None:
        assert normalize_phone("0120123456") == "0120-123-456"
        assert normalize_phone("05012345678") == "050-1234-5678"

    def test_a_foreign_number_keeps_its_country_code(self) -> None:
        assert normalize_phone("+1 202 555 0123") == "+1 202-555-0123"

    @pytest.mark.parametrize("value", ["03-12345-678901", "0312", "090-1234-567", "1234", "+81 3"])
    def test_an_invalid_number_is_refused(self, value: str) -> None:
        with pytest.raises(InputError) as caught:
            normalize_phone(value)
        assert caught.value.code == "invalid_phone"

    @pytest.mark.parametrize("value", ["abc", "03-1234-5678 内線12", "=1+1", "0" * 100])
    def test_anything_but_a_number_is_refused(self, value: str) -> None:
        with pytest.raises(InputError):
            normalize_phone(value)

    def test_an_empty_value_is_refused_as_missing(self) -> None:
        with pytest.raises(InputError) as caught:
            normalize_phone("  ")
        assert caught.value.code == "required"

    @given(
        st.sampled_from(["03", "090", "080", "070"]),
        st.integers(min_value=2000, max_value=9999),
        st.integers(min_value=0, max_value=9999),
        st.sampled_from(sorted(HYPHEN_LIKES)),
    )
    def test_any_dash_between_the_groups_gives_the_same_number(
        self, prefix: str, middle: int, last: int, dash: str
    ) -> None:
        plain = f"{prefix}{middle}{last:04d}"
        canonical = normalize_phone(plain)
        assert normalize_phone(f"{prefix}{dash}{middle}{dash}{last:04d}") == canonical
        assert normalize_phone(canonical) == canonical


class PhoneDigitsTests:
    def test_it_keeps_national_digits_only(self) -> None:
        assert phone_digits("03-1234-5678") == "0312345678"
        assert phone_digits("（０３）１２３４－５６７８") == "0312345678"

    def test_an_international_prefix_becomes_the_trunk_zero(self) -> None:
        assert phone_digits("+81 90-1234-5678") == "09012345678"
        assert phone_digits("81 90 1234 5678") == "09012345678"

    def test_partial_input_never_raises(self) -> None:
        assert phone_digits("5678") == "5678"
        assert phone_digits("abc") == ""


class HyphenTests:
    def test_all_the_hyphen_likes_become_ascii(self) -> None:
        assert unify_hyphens("－ー‐−–—―ｰ") == "-" * 8

    def test_numeric_hyphens_leave_long_vowels_after_kana(self) -> None:
        assert unify_numeric_hyphens("3ー14ーグリーンヒル") == "3-14-グリーンヒル"
        assert unify_numeric_hyphens("３－－１") == "３-１"


class PhonenumbersAgreementTests:
    """The shortcuts in phone.py must give exactly what phonenumbers gives."""

    @example("0104930000")
    @given(st.from_regex(r"0[1-9][0-9]{8,9}", fullmatch=True))
    def test_a_national_number_is_judged_and_formatted_as_phonenumbers_does(self, digits: str) -> None:
        import phonenumbers

        if digits.startswith("010"):
            # Japan's international call prefix, not a national number: refused, although
            # phonenumbers reads some of these as a foreign number (0104930000: Germany).
            with pytest.raises(InputError):
                normalize_phone(digits)
            return
        parsed = phonenumbers.parse(digits, "JP")
        if phonenumbers.is_valid_number(parsed):
            expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            assert normalize_phone(digits) == expected
        else:
            with pytest.raises(InputError):
                normalize_phone(digits)

    @given(st.sampled_from(["050", "070", "080", "090"]), st.from_regex(r"[0-9]{8}", fullmatch=True))
    def test_mobile_and_ip_phone_numbers_agree_with_phonenumbers(self, prefix: str, rest: str) -> None:
        import phonenumbers

        parsed = phonenumbers.parse(prefix + rest, "JP")
        if phonenumbers.is_valid_number(parsed):
            expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            assert normalize_phone(prefix + rest) == expected
