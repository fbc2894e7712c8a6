from __future__ import annotations

import pytest

from madoguchi.lib.email import email_key, normalize_email
from madoguchi.lib.errors import InputError


class NormalizeEmailTests:
    def test_full_width_input_becomes_ascii(self) -> None:
        assert normalize_email("Ａ＠example.jp") == "A@example.jp"
        assert normalize_email("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "hanako@example.jp"

    def test_the_domain_is_lower_cased_and_the_local_part_kept(self) -> None:
        assert normalize_email("Takai9999@ICLOUD.COM") == "Takai9999@icloud.com"

    def test_a_japanese_domain_is_idna_encoded(self) -> None:
        assert normalize_email("a@例え.jp") == "a@xn--r8jz45g.jp"

    def test_surrounding_spaces_are_dropped(self) -> None:
        assert normalize_email("  hanako@example.jp\u3000") == "hanako@example.jp"

    @pytest.mark.parametrize(
        "value",
        ["a@b", "hanako", "@example.jp", "hanako@", "a@@example.jp", "a b@example.jp,", "hanako@example..jp"],
    )
    def test_malformed_addresses_are_refused(self, value: str) -> None:
        with pytest.raises(InputError) as caught:
            normalize_email(value)
        assert caught.value.code in {"invalid_email", "required"}

    def test_an_overlong_address_is_refused(self) -> None:
        with pytest.raises(InputError):
            normalize_email("a" * 250 + "@example.jp")


class EmailKeyTests:
    def test_the_key_ignores_case_and_width(self) -> None:
        assert (
            email_key("Hanako@Example.JP")
            == email_key("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ")
            == "hanako@example.jp"
        )

    def test_a_non_address_has_an_empty_key(self) -> None:
        assert email_key("a@b") == ""
