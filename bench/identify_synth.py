"""Synthetic target lists and calls for caller identification, drawn from a seed.

    python -m bench identify_synth --households 2000 --calls 2000 --seed 7 --out /tmp/set7

writes `targets.csv`, `queries.jsonl` and `truth.jsonl` in the formats of the shared
development sets (`shared/formats.md`), so `score.py` scores them too. Other name pools than
the development sets' (Faker ja_JP's names and kana, and names built from parts, so a list of
a million households still has a realistic spread), real Setagaya towns, and the noise of
real calls, each call tagged with its kinds:

* names: with or without the space, hiragana, katakana, half-width kana, a kana field,
  variant kanji (髙/高, 﨑/崎), another kanji of the same reading (homophone), the child's
  given name only, the other parent calling, a guardian whose family name changed;
* dates: ISO, slashes, compact, 令和2年5月3日, R2.5.3, full-width digits, a near error;
* addresses: without prefecture or ward, kanji numerals, dashes of every kind, only the 丁目,
  the building left out, the town in kana, a station or area name instead of the town
  (二子玉川, 下北沢 …), an old address after a move;
* phones: any notation, +81, two neighbouring digits swapped, one digit wrong, a number the
  list does not have; e-mails in other case;
* missing items: each call says two to seven things;
* callers not in the list: new families, namesakes (a listed guardian's exact name with
  another child, date, address and phone), neighbours in the same building, a child born
  outside the program's range.

The generator is used with two disjoint sets of seeds: tuning seeds (the calibration of
`madoguchi/identify/calibration.py` is fitted on them) and evaluation seeds, never used for
tuning, on which docs/identification.md reports (`bench/identify_calibration.py`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import itertools
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker.providers.person.ja_JP import Provider as JaPerson

HEADER = [
    "世帯番号",
    "児童氏名",
    "児童氏名カナ",
    "児童生年月日",
    "保護者氏名",
    "保護者氏名カナ",
    "保護者生年月日",
    "郵便番号",
    "住所",
    "電話番号",
    "メールアドレス",
]

# Name parts (kanji, kana): several kanji per reading, so homophones arise as in life.
FAMILY_HEADS = (
    ("石", "イシ"), ("岩", "イワ"), ("荒", "アラ"), ("新", "アラ"), ("小", "コ"), ("古", "フル"),
    ("大", "オオ"), ("太", "オオ"), ("長", "ナガ"), ("永", "ナガ"), ("宮", "ミヤ"), ("三", "ミ"),
    ("西", "ニシ"), ("東", "ヒガシ"), ("北", "キタ"), ("喜多", "キタ"), ("南", "ミナミ"), ("上", "カミ"),
    ("神", "カミ"), ("下", "シモ"), ("中", "ナカ"), ("仲", "ナカ"), ("竹", "タケ"), ("武", "タケ"),
    ("松", "マツ"), ("桜", "サクラ"), ("梅", "ウメ"), ("杉", "スギ"), ("柳", "ヤナギ"), ("菊", "キク"),
    ("藤", "フジ"), ("富士", "フジ"), ("吉", "ヨシ"), ("芳", "ヨシ"), ("浜", "ハマ"), ("濱", "ハマ"),
    ("秋", "アキ"), ("安芸", "アキ"), ("津", "ツ"), ("鶴", "ツル"), ("亀", "カメ"), ("熊", "クマ"),
)  # fmt: skip
FAMILY_TAILS = (
    ("田", "ダ"), ("山", "ヤマ"), ("川", "カワ"), ("河", "カワ"), ("木", "キ"), ("村", "ムラ"),
    ("本", "モト"), ("元", "モト"), ("井", "イ"), ("野", "ノ"), ("原", "ハラ"), ("島", "シマ"),
    ("嶋", "シマ"), ("橋", "ハシ"), ("沢", "サワ"), ("澤", "サワ"), ("谷", "タニ"), ("岡", "オカ"),
    ("崎", "サキ"), ("﨑", "サキ"), ("塚", "ツカ"), ("部", "ベ"), ("内", "ウチ"), ("口", "グチ"),
    ("瀬", "セ"), ("浦", "ウラ"), ("尾", "オ"), ("森", "モリ"), ("林", "バヤシ"), ("池", "イケ"),
)  # fmt: skip
GIVEN_HEADS = (
    ("陽", "ハル"), ("春", "ハル"), ("晴", "ハル"), ("悠", "ユウ"), ("優", "ユウ"), ("裕", "ユウ"),
    ("結", "ユイ"), ("唯", "ユイ"), ("美", "ミ"), ("実", "ミ"), ("翔", "ショウ"), ("将", "ショウ"),
    ("健", "ケン"), ("賢", "ケン"), ("大", "ダイ"), ("花", "ハナ"), ("華", "ハナ"), ("彩", "アヤ"),
    ("綾", "アヤ"), ("真", "マ"), ("麻", "マ"), ("和", "カズ"), ("一", "カズ"), ("奈", "ナ"),
    ("菜", "ナ"), ("莉", "リ"), ("理", "リ"), ("颯", "ソウ"), ("蒼", "ソウ"), ("湊", "ミナ"),
    ("凛", "リン"), ("智", "トモ"), ("友", "トモ"), ("拓", "タク"), ("琢", "タク"), ("亮", "リョウ"),
    ("涼", "リョウ"), ("沙", "サ"), ("紗", "サ"), ("千", "チ"), ("知", "チ"), ("恵", "メグ"),
)  # fmt: skip
GIVEN_TAILS = (
    ("斗", "ト"), ("人", "ト"), ("太", "タ"), ("汰", "タ"), ("菜", "ナ"), ("奈", "ナ"), ("子", "コ"),
    ("香", "カ"), ("佳", "カ"), ("也", "ヤ"), ("哉", "ヤ"), ("希", "キ"), ("樹", "キ"), ("輝", "キ"),
    ("介", "スケ"), ("輔", "スケ"), ("乃", "ノ"), ("野", "ノ"), ("葉", "ハ"), ("里", "リ"), ("梨", "リ"),
    ("彦", "ヒコ"), ("央", "オ"), ("生", "オ"), ("紀", "キ"), ("美", "ミ"), ("未", "ミ"), ("平", "ヘイ"),
)  # fmt: skip
# Given names are built from the first heads and tails only: a small pool, as in life.
GIVEN_HEADS_USED, GIVEN_TAILS_USED = 12, 10
GIVEN_ZIPF = 0.4  # the weight of the n-th commonest given name is 1/n**GIVEN_ZIPF
VARIANTS = {"高": "髙", "崎": "﨑", "斎": "齋", "辺": "邊", "沢": "澤", "島": "嶋", "浜": "濱", "吉": "𠮷"}

# Setagaya towns (丁目 count) and the stations or areas people name instead of them.
# Setagaya's towns (59, as the development lists have: 35 until the seventh session, which
# put twice as many unrelated households on one block number as theirs at 50,000).
TOWNS = (
    ("太子堂", 5), ("三軒茶屋", 2), ("弦巻", 5), ("池尻", 4), ("瀬田", 5), ("桜丘", 5), ("若林", 5),
    ("経堂", 5), ("北沢", 5), ("代沢", 5), ("下馬", 6), ("上馬", 5), ("等々力", 8), ("奥沢", 8),
    ("成城", 9), ("深沢", 8), ("駒沢", 5), ("用賀", 4), ("上北沢", 5), ("松原", 6), ("玉川", 4),
    ("南烏山", 6), ("北烏山", 9), ("豪徳寺", 2), ("桜新町", 2), ("祖師谷", 6), ("宮坂", 3), ("梅丘", 3),
    ("代田", 6), ("羽根木", 2), ("砧", 8), ("喜多見", 9), ("船橋", 7), ("千歳台", 6), ("粕谷", 4),
    ("三宿", 2), ("野沢", 4), ("世田谷", 4), ("桜", 3), ("上祖師谷", 7), ("大蔵", 6), ("岡本", 3),
    ("鎌田", 4), ("宇奈根", 3), ("桜上水", 5), ("八幡山", 3), ("赤堤", 5), ("大原", 2), ("給田", 5),
    ("上用賀", 6), ("玉川台", 2), ("玉堤", 2), ("中町", 5), ("上野毛", 4), ("野毛", 3), ("尾山台", 3),
    ("東玉川", 2), ("玉川田園調布", 2), ("新町", 3),
)  # fmt: skip
TOWN_KANA = {
    "太子堂": "たいしどう", "弦巻": "つるまき", "瀬田": "せた", "桜丘": "さくらがおか", "経堂": "きょうどう",
    "北沢": "きたざわ", "代沢": "だいざわ", "下馬": "しもうま", "奥沢": "おくさわ", "成城": "せいじょう",
    "深沢": "ふかさわ", "用賀": "ようが", "松原": "まつばら", "玉川": "たまがわ", "砧": "きぬた",
}  # fmt: skip
STATIONS = {
    "玉川": ("二子玉川",), "瀬田": ("二子玉川",), "北沢": ("下北沢",), "代沢": ("下北沢",),
    "太子堂": ("三軒茶屋",), "上馬": ("三軒茶屋", "駒沢大学"), "宮坂": ("経堂",), "成城": ("成城学園前",),
    "深沢": ("桜新町",), "南烏山": ("千歳烏山",), "北烏山": ("千歳烏山",), "松原": ("明大前",),
    "池尻": ("池尻大橋",), "梅丘": ("豪徳寺", "梅ヶ丘"), "駒沢": ("駒沢大学",), "祖師谷": ("祖師ヶ谷大蔵",),
    "船橋": ("千歳船橋",),
}  # fmt: skip
BUILDINGS = ("コーポ", "ハイツ", "メゾン", "パークハウス", "グランドメゾン", "レジデンス", "荘")
HALF = str.maketrans(
    dict(zip("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー",
             "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ", strict=True))
)  # fmt: skip
VOICED_HALF = {chr(ord(k) + 1): k.translate(HALF) + "ﾞ" for k in "カキクケコサシスセソタチツテトハヒフヘホ"}
FULL_DIGITS = str.maketrans("0123456789-", "０１２３４５６７８９－")
KANJI_DIGITS = "〇一二三四五六七八九"


O_ROW = frozenset("オコソトノホモヨロゴゾドボポョ")
U_ROW = frozenset("ウクスツヌフムユルグズヅブプュ")
E_ROW = frozenset("エケセテネヘメレゲゼデベペ")


def long_vowel_marks(reading: str) -> str:
    """A reading as typed with ー for its long vowels (ヨウヘイ → ヨーヘー, ユウキ → ユーキ)."""
    out: list[str] = []
    for ch in reading:
        previous = out[-1] if out else ""
        if (ch == "ウ" and (previous in O_ROW or previous in U_ROW)) or (ch == "イ" and previous in E_ROW):
            out.append("ー")
        else:
            out.append(ch)
    return "".join(out)


def hiragana(text: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def half_width(text: str) -> str:
    return "".join(VOICED_HALF.get(ch, ch.translate(HALF)) for ch in text)


def kanji_number(n: int) -> str:
    if n < 10:
        return KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI_DIGITS[tens]) + "十" + (KANJI_DIGITS[ones] if ones else "")


@dataclass
class Person:
    family: str
    family_kana: str
    given: str
    given_kana: str
    dob: datetime.date

    def name(self, sep: str = "　") -> str:
        return f"{self.family}{sep}{self.given}"

    def kana(self, sep: str = "　") -> str:
        return f"{self.family_kana}{sep}{self.given_kana}"


@dataclass
class Household:
    number: str
    guardian: Person
    children: list[Person]
    town: str
    numbers: tuple[int, int, int]
    building: str = ""
    room: str = ""
    phone: str = ""
    email: str = ""
    no_space: bool = False  # the list writes names without a space
    other: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        c, b, g = self.numbers
        text = f"東京都世田谷区{self.town}{kanji_number(c)}丁目{b}番{g}号"
        if not self.building:
            return text
        space = " " if self.building[-1].isdigit() else ""
        return text + f"　{self.building}{space}{self.room}号室"


class Names:
    """Family and given names with readings: Faker ja_JP's pools and names built from parts.

    The shape follows the population the shared development sets describe (their lists, not
    their answers): family names many and flat with a head of common ones (the commonest about
    2 % of households), given names few (under two hundred in use, the commonest about 2 %), so
    that at 50,000 households about a third of guardians share their full name with another."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.faker_family = [(k, r) for k, r, _ in JaPerson.last_name_pairs]
        self.faker_family_weights = [1 / (rank + 1) ** 0.6 for rank in range(len(self.faker_family))]
        self.faker_given = [
            (k, r) for k, r, _ in (*JaPerson.first_name_female_pairs, *JaPerson.first_name_male_pairs)
        ]
        # One pool of given names for the whole population (about 170, as the development
        # sets' lists have), in an order fixed across seeds, weighted by rank: the commonest
        # about 3 % and the hundredth about 0.3 % (the development lists: 2.3 % and 0.4 %), so
        # that guardians share a whole name about as often as theirs do.
        heads, tails = GIVEN_HEADS[:GIVEN_HEADS_USED], GIVEN_TAILS[:GIVEN_TAILS_USED]
        pool = list(self.faker_given) + [(h + t, hr + tr) for h, hr in heads for t, tr in tails]
        random.Random(0).shuffle(pool)
        self.given_pool = pool
        self.given_weights = list(
            itertools.accumulate(1 / (rank + 1) ** GIVEN_ZIPF for rank in range(len(pool)))
        )

    def _parts(
        self, heads: tuple[tuple[str, str], ...], tails: tuple[tuple[str, str], ...]
    ) -> tuple[str, str]:
        head, tail = self.rng.choice(heads), self.rng.choice(tails)
        return head[0] + tail[0], head[1] + tail[1]

    def family(self) -> tuple[str, str]:
        if self.rng.random() < 0.2:
            return self.rng.choices(self.faker_family, weights=self.faker_family_weights)[0]
        return self._parts(FAMILY_HEADS, FAMILY_TAILS)

    def given(self) -> tuple[str, str]:
        return self.rng.choices(self.given_pool, cum_weights=self.given_weights)[0]

    def homophone(self, text: str, kana: str, *, family: bool) -> str | None:
        """Another kanji spelling of the same reading, as an operator types what is heard."""
        heads, tails = (FAMILY_HEADS, FAMILY_TAILS) if family else (GIVEN_HEADS, GIVEN_TAILS)
        for head_text, head_kana in heads:
            if not text.startswith(head_text):
                continue
            rest = text[len(head_text) :]
            others = [h for h, r in heads if r == head_kana and h != head_text]
            if others:
                return self.rng.choice(others) + rest
            tail_others = [t for t, r in tails if rest and r == dict(tails).get(rest) and t != rest]
            if tail_others:
                return head_text + self.rng.choice(tail_others)
        return None


def _child_dob(rng: random.Random) -> datetime.date:
    # Three school years, as the development sets' lists (2019-04-02 to 2022-04-01).
    return datetime.date(2019, 4, 2) + datetime.timedelta(days=rng.randint(0, 3 * 365))


def make_list(seed: int, households: int) -> list[Household]:
    rng = random.Random(seed)
    names = Names(rng)
    out: list[Household] = []
    for index in range(households):
        family, family_kana = names.family()
        given, given_kana = names.given()
        guardian = Person(
            family,
            family_kana,
            given,
            given_kana,
            datetime.date(1972, 1, 1) + datetime.timedelta(days=rng.randint(0, 9000)),
        )
        children: list[Person] = []
        # In the program's three-year window: mostly one child, a sixth two (a fifth of them
        # twins: 20-25 % of the development lists' two-child households).
        count = rng.choices((1, 2, 3), weights=(82, 17, 1))[0]
        child_family, child_family_kana = family, family_kana
        other: dict[str, Any] = {}
        if rng.random() < 0.05:  # the registered guardian has another family name than the child
            child_family, child_family_kana = names.family()
            other["surname_differs"] = True
        twins_at = 1 if count >= 2 and rng.random() < 0.22 else -1
        for position in range(count):
            child_given, child_given_kana = names.given()
            dob = children[0].dob if position == twins_at else _child_dob(rng)
            children.append(Person(child_family, child_family_kana, child_given, child_given_kana, dob))
        town, chomes = rng.choice(TOWNS)
        numbers = (rng.randint(1, chomes), rng.randint(1, 40), rng.randint(1, 28))
        building = room = ""
        if rng.random() < 0.4:
            building = rng.choice(BUILDINGS) + town + rng.choice(("", "", "第2"))
            room = str(rng.choice((101, 102, 201, 203, 305, 410, 502, 806, 1203)))
        phone = ""
        if rng.random() < 0.92:  # the development lists: 92 %
            phone = rng.choice(("090", "080", "070", "03")) + f"{rng.randint(10**7, 10**8 - 1)}"
        email = f"{family_kana.lower()}{index}@example.jp" if rng.random() < 0.58 else ""
        out.append(
            Household(
                number=f"S{seed % 1000:03d}{index:07d}",
                guardian=guardian,
                children=children,
                town=town,
                numbers=numbers,
                building=building,
                room=room,
                phone=phone,
                email=email.encode("ascii", "ignore").decode() or "",
                no_space=rng.random() < 0.03,
                other=other,
            )
        )
    return out


def list_rows(household: Household) -> Iterator[list[str]]:
    sep = "" if household.no_space else "　"
    phone = household.phone
    if phone:
        phone = (
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
            if len(phone) == 11
            else f"{phone[:2]}-{phone[2:6]}-{phone[6:]}"
        )
    for child in household.children:
        yield [
            household.number,
            child.name(sep),
            child.kana(sep),
            child.dob.isoformat(),
            household.guardian.name(sep),
            household.guardian.kana(sep),
            household.guardian.dob.isoformat(),
            "",
            household.address,
            phone,
            household.email,
        ]


# --- calls ---------------------------------------------------------------------------------


# What callers say, per channel and kind of caller, as the development sets' calls show it
# (their queries' fields and tags, not their answers). A web form asks for more and is typed by
# the caller (no misheard kanji); a phone call is typed by the operator from what is heard.
# Each call gives at least two items, and the shares below are before that rule: drawn
# through it (`items_said`), each item's share and the number of items per call come out as
# the development sets' (guardian's name 90-96 %, child's name 46-74 %, …; a phone call gives
# two or three items six times in ten). Until the seventh session these were the sets' shares
# themselves, which the rule then raised: our phone calls gave 0.2 items more.
FORM_SHARE = 0.39
SAYS = {
    ("form", True): {"guardian": 0.955, "guardian_kana": 0.641, "child": 0.739, "child_dob": 0.722,
                     "address": 0.72, "phone": 0.595, "email": 0.35, "guardian_dob": 0.369},
    ("phone", True): {"guardian": 0.828, "guardian_kana": 0.264, "child": 0.461, "child_dob": 0.482,
                      "address": 0.409, "phone": 0.313, "email": 0.031, "guardian_dob": 0.188},
    ("form", False): {"guardian": 1.0, "guardian_kana": 0.693, "child": 0.73, "child_dob": 0.693,
                      "address": 0.801, "phone": 0.594, "email": 0.319, "guardian_dob": 0.363},
    ("phone", False): {"guardian": 1.0, "guardian_kana": 0.365, "child": 0.458, "child_dob": 0.41,
                       "address": 0.414, "phone": 0.26, "email": 0.025, "guardian_dob": 0.159},
}  # fmt: skip


NAME_ITEMS = frozenset({"guardian", "guardian_kana", "child"})

# Another kanji of the same reading, typed by the operator on the phone, per name said. The
# development sets' phone calls: 7 % of guardians' given names, 2 % of family names, 9 % of
# children's names (none on the web form); a name here has such a spelling about four times
# in five (given) or three in five (family), hence the higher rates.
HOMOPHONE_GIVEN = {"guardian": 0.065, "child": 0.085}
HOMOPHONE_FAMILY = 0.03
LONG_VOWEL_MARKS = 0.08


def items_said(rng: random.Random, channel: str, *, in_list: bool) -> set[str]:
    """Which items one call gives. In the development sets' calls, a caller from the list
    sometimes gives no name at all (an address and a phone: about 2 %) and sometimes names
    only (about 7 %); a caller who is not in the list always gives something besides a name."""
    shares = SAYS[(channel, in_list)]
    while True:
        wanted = {item for item, share in shares.items() if item != "guardian_kana" and rng.random() < share}
        if "guardian" in wanted and rng.random() < shares["guardian_kana"] / shares["guardian"]:
            wanted.add("guardian_kana")
        if len(wanted) < 2:
            continue
        if not in_list and wanted <= NAME_ITEMS:
            continue
        if not wanted & NAME_ITEMS and rng.random() < 0.45:
            continue
        return wanted


class Caller:
    def __init__(self, rng: random.Random, names: Names, channel: str = "phone") -> None:
        self.rng = rng
        self.names = names
        self.channel = channel
        self.tags: list[str] = [f"channel_{channel}"]

    def heard_given(self, person: Person, field_name: str) -> str:
        """The given name as the operator types it: sometimes another kanji of its reading."""
        if self.channel == "phone" and self.rng.random() < HOMOPHONE_GIVEN[field_name]:
            spelt = self.names.homophone(person.given, person.given_kana, family=False)
            if spelt:
                self.tags.append("homophone_kanji")
                return spelt
        return person.given

    def kana(self, person: Person, sep: str) -> str:
        """The reading as the caller or operator types it: sometimes with ー for long vowels
        (the development sets: 2-3 % of calls in the list)."""
        reading = person.kana(sep)
        if self.rng.random() < LONG_VOWEL_MARKS:
            marked = long_vowel_marks(reading)
            if marked != reading:
                self.tags.append("long_vowel_mark")
                return marked
        return reading

    def name(self, person: Person, field_name: str, *, kana_field: bool = False) -> dict[str, str]:
        rng, tags = self.rng, self.tags
        family, given = person.family, self.heard_given(person, field_name)
        by_phone = self.channel == "phone"
        if by_phone and rng.random() < HOMOPHONE_FAMILY:
            spelt = self.names.homophone(family, person.family_kana, family=True)
            if spelt:
                family = spelt
                tags.append("homophone_kanji")
        if any(ch in VARIANTS for ch in family) and rng.random() < 0.15:
            family = "".join(VARIANTS.get(ch, ch) for ch in family)
            tags.append("itaiji")
        style = rng.random()
        out: dict[str, str] = {}
        if by_phone and style < 0.28:  # the operator types what is heard in kana
            kind = rng.random()
            if kind < 0.35:
                out[f"{field_name}_name"] = hiragana(self.kana(person, rng.choice((" ", "　", ""))))
                tags += ["name_in_kana", "kana_hiragana"]
            elif kind < 0.88:
                out[f"{field_name}_name"] = self.kana(person, rng.choice((" ", "　")))
                tags.append("name_in_kana")
            else:
                out[f"{field_name}_name"] = half_width(self.kana(person, " "))
                tags += ["name_in_kana", "halfwidth_kana"]
        elif rng.random() < 0.45:
            out[f"{field_name}_name"] = family + given
            tags.append("name_no_space")
        else:
            out[f"{field_name}_name"] = f"{family}{rng.choice((' ', '　'))}{given}"
        if kana_field:
            reading = self.kana(person, rng.choice((" ", "　", "")))
            if rng.random() < 0.03 and len(person.given_kana) >= 2:  # one kana mistyped
                reading = reading[:-1] + rng.choice("アイウエオカキクケコサシスセソタチツテトナニヌネノ")
                tags.append("kana_typo")
            kind = rng.random()
            if kind < 0.3:
                reading = hiragana(reading)
                tags.append("kana_hiragana")
            elif kind < 0.37:
                reading = half_width(reading)
                tags.append("halfwidth_kana")
            out[f"{field_name}_kana"] = reading
        return out

    def date(self, value: datetime.date, *, error: bool = False) -> str:
        from madoguchi.lib.dates import format_wareki, to_wareki

        rng = self.rng
        if error:
            self.tags.append("dob_error")
            kind = rng.random()
            if kind < 0.4:
                value = value + datetime.timedelta(days=rng.choice((-2, -1, 1, 2)))
            elif kind < 0.7 and value.day <= 12:
                value = value.replace(month=value.day, day=value.month)
            else:
                year = value.year + rng.choice((-1, 1))
                value = value.replace(year=year, day=min(value.day, 28 if value.month == 2 else 31))
        era, year = to_wareki(value)
        style = rng.random()
        if style < 0.25:
            self.tags.append("wareki")
            return format_wareki(value)
        if style < 0.4:
            self.tags.append("wareki_abbrev")
            return f"{era.letter}{year}.{value.month}.{value.day}"
        if style < 0.55:
            return f"{value.year}/{value.month}/{value.day}"
        if style < 0.65:
            self.tags.append("date_compact")
            return f"{value.year}{value.month:02d}{value.day:02d}"
        if style < 0.75:
            self.tags.append("fullwidth_digits")
            return value.isoformat().translate(FULL_DIGITS)
        return value.isoformat()

    def address(self, household: Household) -> str:
        rng, tags = self.rng, self.tags
        c, b, g = household.numbers
        town = household.town
        if rng.random() < 0.04:  # a block or house number misremembered or mistyped
            tags.append("address_error")
            if rng.random() < 0.5:
                b = max(1, b + rng.choice((-2, -1, 1, 2)))
            else:
                g = max(1, g + rng.choice((-2, -1, 1, 2)))
        kind = rng.random()
        if kind < 0.04 and town in STATIONS:
            tags.append("station_name")
            place = rng.choice(STATIONS[town])
            if rng.random() < 0.5:
                return rng.choice((place, f"{place}駅の近く", f"世田谷区{place}"))
            if place in ("二子玉川", "下北沢", "千歳烏山", "池尻大橋", "成城学園前", "千歳船橋"):
                return f"{place}{c}-{b}-{g}"
            return place
        if kind < 0.1 and town in TOWN_KANA:
            tags.append("town_in_kana")
            town = TOWN_KANA[town]
        elif kind < 0.18:
            variant = _town_variant(town)
            if variant != town:
                town = variant
                tags.append("town_variant")
        prefix = rng.choices(("東京都世田谷区", "世田谷区", ""), weights=(32, 47, 21))[0]
        if prefix == "世田谷区":
            tags.append("addr_no_prefecture")
        elif not prefix:
            tags.append("addr_no_ward")
        if self.channel == "phone" and rng.random() < 0.14:
            tags.append("address_partial")
            return f"{prefix}{town}{rng.choice((str(c), kanji_number(c)))}丁目"
        style = rng.random()
        if style < 0.3:
            body = f"{c}-{b}-{g}"
            tags.append("addr_hyphenated")
        elif style < 0.5:
            body = f"{kanji_number(c)}丁目{b}番{g}号"
        elif style < 0.6:
            body = f"{kanji_number(c)}丁目{kanji_number(b)}番{kanji_number(g)}号"
            tags.append("addr_kanji_numerals")
        elif style < 0.75:
            body = f"{c}丁目{b}番地{g}"
            tags.append("addr_banchi")
        else:
            body = f"{c}{rng.choice(('ー', '−', '‐', '－'))}{b}{rng.choice(('ー', '−', '－'))}{g}"
            tags.append("hyphen_unicode")
        if rng.random() < 0.3:
            body = body.translate(FULL_DIGITS)
            tags.append("fullwidth_digits")
        text = f"{prefix}{town}{body}"
        if household.building:
            kind = rng.random()
            if kind < 0.4:
                text += f" {household.building} {household.room}号室"
            elif kind < 0.7:
                text += f"-{household.room}"
                tags.append("addr_room_only")
            elif kind < 0.8:
                text += f" {half_width(household.building)} {household.room}"
                tags.append("addr_building_halfwidth")
            else:
                tags.append("addr_building_omitted")
        return text

    def phone(self, phone: str, *, error: str = "") -> str:
        rng, tags = self.rng, self.tags
        digits = list(phone)
        if error == "swap":
            i = rng.randint(3, len(digits) - 2)
            if digits[i] == digits[i + 1]:
                digits[i] = str((int(digits[i]) + 3) % 10)
            else:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
            tags.append("phone_swapped_digits")
        elif error == "digit":
            i = rng.randint(3, len(digits) - 1)
            digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
            tags.append("phone_error")
        text = "".join(digits)
        style = rng.random()
        if style < 0.3:
            return text
        if style < 0.4:
            tags.append("phone_intl")
            return "+81 " + text[1:3] + "-" + text[3:7] + "-" + text[7:]
        if style < 0.5:
            return text.translate(FULL_DIGITS)
        return (
            f"{text[:3]}-{text[3:7]}-{text[7:]}" if len(text) == 11 else f"{text[:2]}-{text[2:6]}-{text[6:]}"
        )


def _town_variant(town: str) -> str:
    """The town as people also write it: 々 spelt out, 澤 for 沢, ヶ/ケ inserted (桜ヶ丘)."""
    if "々" in town:
        return town.replace("々", town[town.index("々") - 1])
    if "沢" in town:
        return town.replace("沢", "澤")
    if town.endswith(("丘", "谷")) and len(town) >= 2:
        return town[:-1] + "ヶ" + town[-1]
    return town


def _random_phone(rng: random.Random) -> str:
    return rng.choice(("090", "080", "070")) + f"{rng.randint(10**7, 10**8 - 1)}"


def _channel(rng: random.Random) -> str:
    return "form" if rng.random() < FORM_SHARE else "phone"


def _email_said(rng: random.Random, caller: Caller, registered: str) -> str:
    if not registered or rng.random() < 0.07:
        caller.tags.append("email_not_registered")
        return f"someone{rng.randint(1, 10**6)}@example.com"
    kind = rng.random()
    if kind < 0.08:
        caller.tags.append("email_case")
        return registered.upper()
    if kind < 0.12 and "@" in registered:
        caller.tags.append("email_typo")
        local, domain = registered.split("@", 1)
        return f"{local}x@{domain}"
    if kind < 0.17:
        caller.tags.append("email_fullwidth")
        return unicodedata_full(registered)
    return registered


def unicodedata_full(text: str) -> str:
    """ASCII as full-width forms (ｈａｎａｋｏ＠…), as some phones' input methods type it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def positive_call(rng: random.Random, names: Names, household: Household) -> tuple[dict[str, str], list[str]]:
    caller = Caller(rng, names, _channel(rng))
    tags = caller.tags
    child = rng.choice(household.children)
    if len(household.children) > 1:
        tags.append("siblings")
        if household.children[0].dob == household.children[1].dob:
            tags.append("twins")
    fields: dict[str, str] = {}
    wanted = items_said(rng, caller.channel, in_list=True)
    speaker = household.guardian
    if rng.random() < 0.05:  # the other parent calls, maybe with another family name
        tags.append("caller_not_registered_guardian")
        given, given_kana = names.given()
        # The other parent has the child's family name (the registered guardian's, unless that
        # one differs from the child's); one in seven another (the development sets: 15 of 111
        # such callers with a name; the generator made it three in ten before).
        family, family_kana = (child.family, child.family_kana)
        if rng.random() < 0.14:
            family, family_kana = names.family()
            tags.append("guardian_surname_differs")
        speaker = Person(family, family_kana, given, given_kana, speaker.dob)
        # Someone who is not the registered guardian says which child they call about: in the
        # development sets all 119 such callers gave the child's name and date of birth (ours,
        # until the fifteenth session, at the shares of every call: 55 % and 61 %, so a fifth
        # of them said only their own name and one more item, which no such caller does).
        wanted |= {"child", "child_dob"}
    elif rng.random() < 0.012:
        tags.append("guardian_surname_changed")
        family, family_kana = names.family()
        speaker = Person(family, family_kana, speaker.given, speaker.given_kana, speaker.dob)
    if "guardian" in wanted:
        fields.update(caller.name(speaker, "guardian", kana_field="guardian_kana" in wanted))
    if "child" in wanted:
        if rng.random() < 0.3:
            tags.append("child_given_name_only")
            said = rng.choice((child.given, child.given, hiragana(child.given_kana)))
            fields["child_name"] = caller.heard_given(child, "child") if said == child.given else said
        else:
            fields.update(caller.name(child, "child"))
    if "child_dob" in wanted:
        fields["child_dob"] = caller.date(child.dob, error=rng.random() < 0.025)
    if "guardian_dob" in wanted:
        # The other parent gives their own date of birth, not the registered guardian's.
        dob = speaker.dob if "caller_not_registered_guardian" not in tags else _guardian_dob(rng)
        fields["guardian_dob"] = caller.date(dob, error=rng.random() < 0.025)
    if "address" in wanted:
        if rng.random() < 0.027:
            tags.append("moved")
            other = Household(
                "", household.guardian, [], rng.choice(TOWNS)[0], (1, rng.randint(1, 40), rng.randint(1, 28))
            )
            fields["address"] = caller.address(other)
        else:
            fields["address"] = caller.address(household)
    other_adult = "caller_not_registered_guardian" in tags
    if "phone" in wanted and other_adult:
        # Another adult gives their own number and e-mail, never the registered ones (the
        # development sets: 53 of 53 phones and 17 of 17 e-mails of such callers; the
        # generator gave the household's until the seventh session).
        fields["phone"] = caller.phone(_random_phone(rng))
    elif "phone" in wanted:
        if not household.phone or rng.random() < 0.04:
            tags.append("phone_not_registered")
            fields["phone"] = caller.phone(_random_phone(rng))
        else:
            error = rng.choices(("", "swap", "digit"), weights=(96, 2, 2))[0]
            fields["phone"] = caller.phone(household.phone, error=error)
    if "email" in wanted:
        fields["email"] = _email_said(rng, caller, "" if other_adult else household.email)
    tags.append(f"nfields_{len(fields)}")
    return fields, tags


def _guardian_dob(rng: random.Random) -> datetime.date:
    return datetime.date(1972, 1, 1) + datetime.timedelta(days=rng.randint(0, 9000))


def negative_call(
    rng: random.Random, names: Names, households: list[Household]
) -> tuple[dict[str, str], list[str]]:
    caller = Caller(rng, names, _channel(rng))
    tags = caller.tags
    tags.append("negative")
    kind = rng.random()
    family, family_kana = names.family()
    given, given_kana = names.given()
    guardian = Person(family, family_kana, given, given_kana, _guardian_dob(rng))
    child_given, child_kana = names.given()
    child = Person(family, family_kana, child_given, child_kana, _child_dob(rng))
    town, chomes = rng.choice(TOWNS)
    home = Household(
        "", guardian, [child], town, (rng.randint(1, chomes), rng.randint(1, 40), rng.randint(1, 28))
    )
    if rng.random() < 0.45:  # a building and a room, as 45 % of listed households
        home.building = rng.choice(BUILDINGS) + town
        home.room = str(rng.choice((101, 102, 201, 203, 305, 410, 502, 806, 1203)))
    phone = _random_phone(rng)
    if kind < 0.34:
        # A namesake: exactly a listed guardian's name, everything else their own.
        listed = rng.choice(households)
        tags.append("neg_same_guardian_name")
        guardian = Person(
            listed.guardian.family,
            listed.guardian.family_kana,
            listed.guardian.given,
            listed.guardian.given_kana,
            guardian.dob,
        )
        child = Person(
            listed.guardian.family, listed.guardian.family_kana, child.given, child.given_kana, child.dob
        )
        if rng.random() < 0.3:  # with a common child's name too
            other = rng.choice(households).children[0]
            child = Person(child.family, child.family_kana, other.given, other.given_kana, child.dob)
    elif kind < 0.5:
        # A neighbour in a listed household's building (another room): the development sets'
        # neighbours all live where a listed household has a room. Until the seventh session
        # half of ours "lived" at a listed detached house's exact address, with no room to
        # tell them apart, which no caller does.
        listed = rng.choice(households)
        for _ in range(50):
            if listed.building:
                break
            listed = rng.choice(households)
        tags.append("neg_same_building")
        home = Household(
            "",
            guardian,
            [child],
            listed.town,
            (listed.numbers[0], listed.numbers[1], listed.numbers[2]),
            listed.building,
            str(int(listed.room or 100) + 1),
        )
    elif kind < 0.63:
        tags.append("neg_child_out_of_range")
        child = Person(
            child.family,
            child.family_kana,
            child.given,
            child.given_kana,
            datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randint(0, 1500)),
        )
    else:
        tags.append("neg_new_family")
    fields: dict[str, str] = {}
    wanted = items_said(rng, caller.channel, in_list=False)
    # A neighbour from the same building always gives the address (the development sets: 105
    # of 105); the other callers not in the list give it less often (about 55 %), so that all
    # of them together still give it at the sets' share.
    if "neg_same_building" in tags:
        wanted.add("address")
    elif (
        "address" in wanted and len(wanted) > 2 and wanted - {"address"} - NAME_ITEMS and rng.random() < 0.25
    ):
        wanted.discard("address")
    fields.update(caller.name(guardian, "guardian", kana_field="guardian_kana" in wanted))
    if "child" in wanted:
        # The development sets' callers not in the list give the child's given name alone in
        # 3-4 % of the child names they give (callers in the list: a fifth).
        given_said = caller.heard_given(child, "child")
        fields["child_name"] = given_said if rng.random() < 0.035 else f"{child.family} {given_said}"
    if "child_dob" in wanted:
        fields["child_dob"] = caller.date(child.dob)
    if "guardian_dob" in wanted:
        fields["guardian_dob"] = caller.date(guardian.dob)
    if "address" in wanted:
        fields["address"] = caller.address(home)
    if "phone" in wanted:
        fields["phone"] = caller.phone(phone)
    if "email" in wanted:
        fields["email"] = f"someone{rng.randint(1, 10**6)}@example.net"
    tags.append(f"nfields_{len(fields)}")
    return fields, tags


def make_calls(
    seed: int, households: list[Household], calls: int, *, negative_share: float = 0.2
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(query, truth) pairs; the query carries `query_id`, the truth `household_id` and tags."""
    rng = random.Random(seed * 7919 + 1)
    names = Names(random.Random(seed * 104729 + 3))
    out = []
    for index in range(calls):
        query_id = f"C{seed}-{index:06d}"
        if rng.random() < negative_share:
            fields, tags = negative_call(rng, names, households)
            truth = None
        else:
            household = rng.choice(households)
            fields, tags = positive_call(rng, names, household)
            truth = household.number
        out.append(
            (
                {"query_id": query_id, **fields},
                {"query_id": query_id, "household_id": truth, "tags": sorted(set(tags))},
            )
        )
    return out


def write_set(folder: Path, seed: int, households: int, calls: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    listed = make_list(seed, households)
    with (folder / "targets.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for household in listed:
            writer.writerows(list_rows(household))
    with (
        (folder / "queries.jsonl").open("w", encoding="utf-8") as q,
        (folder / "truth.jsonl").open("w", encoding="utf-8") as t,
    ):
        for query, truth in make_calls(seed, listed, calls):
            q.write(json.dumps(query, ensure_ascii=False) + "\n")
            t.write(json.dumps(truth, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench identify_synth")
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_set(args.out, args.seed, args.households, args.calls)
    print(f"wrote {args.out}: {args.households:,} households, {args.calls:,} calls (seed {args.seed})")


if __name__ == "__main__":
    main(sys.argv[1:])
