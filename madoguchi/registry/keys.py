"""Search keys of the target list, derived from the values as written.

Identification (the `identify` app) compares and indexes these columns, never the stored
names: `name_key` folds variant kanji, width and spaces (髙橋　花子 = 高橋花子), `kana_key` is
the exact reading, `kana_loose_key` forgives what callers confuse (ユウキ = ユーキ), and the
address keys compare a place however it is written. Call `fill_*_keys` whenever a stored value
changes; the import does it for every row it writes.

Names and readings repeat a great deal (a family name across a household, common given names
across a list), so the pure key functions are memoised: on a 100,000-row import this removes
most of the key-derivation time.
"""

from __future__ import annotations

from functools import lru_cache

from madoguchi.lib import address as lib_address
from madoguchi.lib import email as lib_email
from madoguchi.lib import phone as lib_phone
from madoguchi.lib import text as lib_text
from madoguchi.registry.models import Child, Guardian, Household

# The municipality a target list is about may be left out of its addresses; Setagaya is the
# only ward the project serves so far. A town written without its ward still splits.
CITY_HINT = "東京都世田谷区"

_CACHE = 65536


@lru_cache(maxsize=_CACHE)
def name_key(value: str) -> str:
    return lib_text.name_key(value) if value else ""


@lru_cache(maxsize=_CACHE)
def kana_key(value: str) -> str:
    return lib_text.kana_key(value) if value else ""


@lru_cache(maxsize=_CACHE)
def kana_loose_key(value: str) -> str:
    return lib_text.kana_loose_key(value) if value else ""


@lru_cache(maxsize=_CACHE)
def split_name(value: str) -> tuple[str, str]:
    """(family, given) as written; ("", "") when empty, (whole, "") without a space."""
    return lib_text.split_name(value) if value else ("", "")


def family_name_key(name: str) -> str:
    family, given = split_name(name)
    # Without a space the family name cannot be told from the given name: leave the key
    # empty rather than index the whole name as a family name.
    return name_key(family) if given else ""


def given_name_key(name: str) -> str:
    _family, given = split_name(name)
    return name_key(given) if given else ""


def family_kana_loose_key(kana: str) -> str:
    family, given = split_name(kana)
    return kana_loose_key(family) if given else ""


def given_kana_loose_key(kana: str) -> str:
    _family, given = split_name(kana)
    return kana_loose_key(given) if given else ""


def phone_digits(value: str) -> str:
    return lib_phone.phone_digits(value) if value else ""


def email_key(value: str) -> str:
    if not value:
        return ""
    # The stored e-mail is already normalised by the import; lower-casing it is the key.
    return value.lower() if value.isascii() else lib_email.email_key(value)


def address_keys(value: str) -> tuple[str, str]:
    """(address_key, address_block_key): the whole place, and the town and block only."""
    if not value:
        return "", ""
    parts = lib_address.split_address(value, city_hint=CITY_HINT)
    return parts.key, parts.town_block


def household_keys(address: str) -> tuple[str, str]:
    """(address_key, address_block_key), cut to their columns' lengths."""
    address_key, block_key = address_keys(address)
    return address_key[:300], block_key[:200]


def guardian_keys(name: str, kana: str, phone: str, email: str) -> tuple[str, str, str, str, str, str, str]:
    """(name_key, family_name_key, kana_key, kana_loose_key, family_kana_loose_key,
    phone_digits, email_key): the import writes these without building model instances."""
    return (
        name_key(name)[:100],
        family_name_key(name)[:60],
        kana_key(kana)[:100],
        kana_loose_key(kana)[:100],
        family_kana_loose_key(kana)[:60],
        phone_digits(phone)[:15],
        email_key(email)[:254],
    )


def child_keys(name: str, kana: str) -> tuple[str, str, str, str, str]:
    """(name_key, given_name_key, kana_key, kana_loose_key, given_kana_loose_key)."""
    return (
        name_key(name)[:100],
        given_name_key(name)[:60],
        kana_key(kana)[:100],
        kana_loose_key(kana)[:100],
        given_kana_loose_key(kana)[:60],
    )


def fill_household_keys(household: Household) -> Household:
    household.address_key, household.address_block_key = household_keys(household.address)
    return household


def fill_guardian_keys(guardian: Guardian) -> Guardian:
    (
        guardian.name_key,
        guardian.family_name_key,
        guardian.kana_key,
        guardian.kana_loose_key,
        guardian.family_kana_loose_key,
        guardian.phone_digits,
        guardian.email_key,
    ) = guardian_keys(guardian.name, guardian.kana, guardian.phone, guardian.email)
    return guardian


def fill_child_keys(child: Child) -> Child:
    (
        child.name_key,
        child.given_name_key,
        child.kana_key,
        child.kana_loose_key,
        child.given_kana_loose_key,
    ) = child_keys(child.name, child.kana)
    return child
