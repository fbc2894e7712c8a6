"""A synthetic target list: what a ward's file looks like, with nobody real in it.

Names and readings come from Faker's ja_JP provider (`last_name_pair()` gives kanji, katakana
and romaji); addresses are real Setagaya towns and 丁目 with invented block numbers; a few
families carry variant kanji (髙橋, 山﨑, 𠮷田, 渡邊, 齋藤), there are siblings and twins, dates
and phones are written in the notations ward files mix, and a few children fall outside the
eligibility window. The same seed gives the same file, byte for byte.
"""

from __future__ import annotations

import csv
import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from faker import Faker

from madoguchi.lib.dates import format_wareki, to_wareki
from madoguchi.lib.postal import postal_codes_for
from madoguchi.registry.importing.fields import TARGET_LIST_HEADER

HEADER = list(TARGET_LIST_HEADER)

# Setagaya towns and the 丁目 each has (the real ranges).
TOWNS: tuple[tuple[str, int], ...] = (
    ("太子堂", 5),
    ("三軒茶屋", 2),
    ("弦巻", 5),
    ("池尻", 4),
    ("瀬田", 5),
    ("桜丘", 5),
    ("若林", 5),
    ("経堂", 5),
    ("北沢", 5),
    ("代沢", 5),
    ("下馬", 6),
    ("上馬", 5),
    ("等々力", 8),
    ("奥沢", 8),
    ("成城", 9),
    ("深沢", 8),
    ("駒沢", 5),
    ("用賀", 4),
    ("上北沢", 5),
    ("松原", 6),
    ("梅丘", 3),
    ("豪徳寺", 2),
    ("世田谷", 4),
    ("桜新町", 2),
    ("玉川", 4),
    ("野沢", 4),
    ("祖師谷", 6),
    ("千歳台", 6),
    ("砧", 8),
    ("喜多見", 9),
)
BUILDINGS = ("コーポ", "ハイツ", "メゾン", "レジデンス", "グリーンヒル", "パークハウス", "テラス", "荘")
# (family name, reading): written with the variant the resident uses.
VARIANT_FAMILIES = (
    ("髙橋", "タカハシ", "takahashi"),
    ("山﨑", "ヤマザキ", "yamazaki"),
    ("𠮷田", "ヨシダ", "yoshida"),
    ("渡邊", "ワタナベ", "watanabe"),
    ("齋藤", "サイトウ", "saito"),
    ("濱田", "ハマダ", "hamada"),
    ("澤田", "サワダ", "sawada"),
)
KANJI_DIGITS = "〇一二三四五六七八九"
DOMAINS = ("example.jp", "example.com", "example.ne.jp", "example.co.jp")


@dataclass(frozen=True)
class Window:
    start: datetime.date = datetime.date(2019, 4, 2)
    end: datetime.date = datetime.date(2022, 4, 1)


def kanji_numeral(value: int) -> str:
    if value < 10:
        return KANJI_DIGITS[value]
    tens, ones = divmod(value, 10)
    return ("" if tens == 1 else KANJI_DIGITS[tens]) + "十" + (KANJI_DIGITS[ones] if ones else "")


@cache
def postal_code(town: str) -> str:
    codes = postal_codes_for("東京都", "世田谷区", town)
    return codes[0] if codes else ""


def write_date(rng: random.Random, value: datetime.date) -> str:
    era, year = to_wareki(value)
    notations = [
        value.isoformat(),
        f"{value.year}/{value.month}/{value.day}",
        f"{value.year}{value.month:02d}{value.day:02d}",
        format_wareki(value),
        f"{era.letter}{year}.{value.month}.{value.day}",
        f"{era.letter}{year:02d}/{value.month:02d}/{value.day:02d}",
    ]
    return rng.choices(notations, weights=(30, 20, 8, 25, 10, 7))[0]


def write_phone(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return ""
    if rng.random() < 0.8:
        prefix, middle, last = f"0{rng.choice('789')}0", rng.randint(1000, 9999), rng.randint(0, 9999)
    else:
        prefix, middle, last = "03", rng.randint(3000, 6999), rng.randint(0, 9999)
    canonical = f"{prefix}-{middle}-{last:04d}"
    style = rng.random()
    if style < 0.6:
        return canonical
    if style < 0.8:
        return canonical.replace("-", "")
    if style < 0.9:
        return canonical.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    return canonical.replace("-", "ー")


def write_address(rng: random.Random, town: str, chome: int, ban: int, go: int) -> str:
    building = ""
    if rng.random() < 0.45:
        room = rng.choice((101, 102, 201, 202, 203, 301, 302, 401, 502))
        building = f"{rng.choice(BUILDINGS)}{town}{rng.choice(('', '第2', 'A', 'B'))} {room}"
    prefix = rng.choice(("東京都世田谷区", "世田谷区", "東京都世田谷区", ""))
    style = rng.random()
    if style < 0.4:
        block = f"{kanji_numeral(chome)}丁目{ban}番{go}号"
    elif style < 0.8:
        block = f"{chome}-{ban}-{go}"
    elif style < 0.9:
        block = f"{chome}丁目{ban}-{go}"
    else:
        block = f"{chome}－{ban}－{go}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    address = f"{prefix}{town}{block}"
    return f"{address}　{building}" if building and style < 0.4 else f"{address} {building}".rstrip()


class Generator:
    def __init__(self, *, seed: int = 2023, window: Window | None = None, cp932: bool = False) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(seed)
        self.window = window or Window()
        self.seed = seed
        # 𠮷 is not in CP932: a CP932 list spells that family without the variant.
        self.variants = [pair for pair in VARIANT_FAMILIES if not cp932 or _encodes(pair[0])]

    def number(self, index: int) -> str:
        # A bijection of the index onto eight digits: unique, deterministic, not sequential.
        return f"H{(index * 7919 + self.seed) % 90_000_000 + 10_000_000}"

    def child_dob(self, *, may_be_outside: bool) -> datetime.date:
        start, end = self.window.start, self.window.end
        if may_be_outside and self.rng.random() < 0.1:
            # An older or younger sibling outside the window: listed by the import, not imported.
            # The first child is always eligible, so that N households make N households.
            start, end = end + datetime.timedelta(days=1), end + datetime.timedelta(days=700)
        return start + datetime.timedelta(days=self.rng.randint(0, (end - start).days))

    def household(self, index: int) -> list[list[str]]:
        rng, fake = self.rng, self.fake
        if rng.random() < 0.04 and self.variants:
            family, family_kana, family_romaji = rng.choice(self.variants)
        else:
            family, family_kana, family_romaji = fake.last_name_pair()
        if rng.random() < 0.85:
            given, given_kana, given_romaji = fake.first_name_female_pair()
        else:
            given, given_kana, given_romaji = fake.first_name_male_pair()
        guardian_dob = datetime.date(1975, 1, 1) + datetime.timedelta(days=rng.randint(0, 20 * 365))
        town, chomes = rng.choice(TOWNS)
        chome = rng.randint(1, chomes)
        address = write_address(rng, town, chome, rng.randint(1, 40), rng.randint(1, 30))
        postal = postal_code(town) if rng.random() < 0.7 else ""
        if postal and rng.random() < 0.3:
            postal = postal.replace("-", "")
        email = ""
        if rng.random() < 0.6:
            email = (
                f"{given_romaji.lower()}.{family_romaji.lower()}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
            )
        phone = write_phone(rng)
        space = rng.choice(("　", " ", "　", ""))
        kana_space = "　" if space else ""
        guardian = [
            f"{family}{space}{given}",
            f"{family_kana}{kana_space}{given_kana}" if rng.random() < 0.95 else "",
            write_date(rng, guardian_dob),
            postal,
            address,
            phone,
            email,
        ]
        count = rng.choices((1, 2, 3), weights=(65, 27, 8))[0]
        twins = count >= 2 and rng.random() < 0.05
        rows: list[list[str]] = []
        used: set[str] = set()
        previous_dob: datetime.date | None = None
        for position in range(count):
            while True:
                if rng.random() < 0.5:
                    child, child_kana, _romaji = fake.first_name_female_pair()
                else:
                    child, child_kana, _romaji = fake.first_name_male_pair()
                if child not in used:
                    used.add(child)
                    break
            if twins and position == 1 and previous_dob:
                dob = previous_dob
            else:
                dob = self.child_dob(may_be_outside=position > 0)
            previous_dob = dob
            rows.append(
                [
                    self.number(index),
                    f"{family}{space}{child}",
                    f"{family_kana}{kana_space}{child_kana}" if rng.random() < 0.95 else "",
                    write_date(rng, dob),
                    *guardian,
                ]
            )
        return rows

    def rows(self, *, households: int | None = None, child_rows: int | None = None) -> Iterator[list[str]]:
        """Rows of `households` households, or of as many as make `child_rows` rows."""
        index = 0
        written = 0
        while (households is None or index < households) and (child_rows is None or written < child_rows):
            for row in self.household(index):
                if child_rows is not None and written >= child_rows:
                    return
                written += 1
                yield row
            index += 1


def _encodes(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def write_csv(
    path: Path,
    *,
    households: int | None = None,
    child_rows: int | None = None,
    seed: int = 2023,
    encoding: str = "utf-8-sig",
    window: Window | None = None,
) -> int:
    """Write a target list to `path`; returns the number of child rows."""
    generator = Generator(seed=seed, window=window, cp932=encoding.lower() in ("cp932", "shift_jis"))
    count = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for row in generator.rows(households=households, child_rows=child_rows):
            writer.writerow(row)
            count += 1
    return count
