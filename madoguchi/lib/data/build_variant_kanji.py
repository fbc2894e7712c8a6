"""Regenerate ``variant_kanji.tsv`` (variant<TAB>standard<TAB>note), the itaiji fold table.

Run from the repository root:

    pip install --no-deps kyujipy==0.6.8 yosina==3.0.0   # build-time inputs only
    python madoguchi/lib/data/build_variant_kanji.py

Sources, in order of precedence (an earlier source wins for the same variant):

1. ``HAND``: the itaiji that occur in Japanese personal names but are in no official
   list (髙, 𠮷, 﨑, 邉, 嶋, 冨 ...), plus deliberate overrides of the official lists where
   callers and registers treat characters as the same name (斉/齊/齋/斎 → 斎).
2. kyujipy's ``kyujitai_simplified`` and ``kyujitai_variants`` lists (MIT): the 旧字体 →
   新字体 pairs of the 常用漢字表 and the 人名用漢字 別表 (the old forms a register may hold).
3. yosina's ``kanji_old_new`` table (MIT), keyed by IVS: the JIS X 0213:2004 / Adobe-Japan1
   old forms. Only pairs whose base characters differ are used; IVS selectors are dropped.
4. Unicode: every CJK compatibility ideograph (U+F900–U+FAFF, U+2F800–U+2FA1F) with a
   canonical decomposition, generated from ``unicodedata``. NFKC already folds these, but
   ``fold_variants`` is also used without NFKC.

``SKIP`` lists pairs that the sources propose but that are *not* interchangeable in names
(龍 and 竜 are chosen as different name characters) or that map to an odd target. They are
written to the TSV as identity rows with the reason, so the decision is reviewable; the
loader ignores identity rows. The twelve unified ideographs of the compatibility block
(﨎﨏﨑﨓﨔﨟﨡﨣﨤﨧﨨﨩) are listed by hand for the same reason.

Targets are resolved transitively (齊 → 斉 → 斎), so one ``str.translate`` pass suffices,
and the build fails on a cycle.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).with_name("variant_kanji.tsv")

# variant, standard, note
HAND: list[tuple[str, str, str]] = [
    ("髙", "高", "name itaiji (はしごだか)"),
    ("𠮷", "吉", "name itaiji (つちよし), outside the BMP and every legacy codec"),
    ("𡈽", "土", "name itaiji (土 with a dot)"),
    ("﨑", "崎", "name itaiji (たつさき); unified ideograph in the compatibility block"),
    ("嵜", "崎", "name itaiji"),
    ("𥔎", "崎", "name itaiji (石偏の崎)"),
    ("碕", "崎", "doubtful: 碕 is also its own place-name character (みさき)"),
    ("邊", "辺", "旧字体 (人名用漢字)"),
    ("邉", "辺", "name itaiji"),
    ("邨", "村", "name itaiji"),
    ("齋", "斎", "旧字体"),
    ("齊", "斎", "override: officially 旧字体 of 斉, but 斉藤/齊藤/斎藤/齋藤 are one name to callers"),
    ("斉", "斎", "doubtful: 斉 (sei) and 斎 (sai) are distinct, but 斉藤/斎藤 are confused constantly"),
    ("濵", "浜", "name itaiji of 濱"),
    ("濱", "浜", "旧字体"),
    ("嶋", "島", "name itaiji"),
    ("嶌", "島", "name itaiji"),
    ("槗", "橋", "name itaiji"),
    ("渕", "淵", "略字 of 淵 (both 人名用漢字)"),
    ("渊", "淵", "name itaiji"),
    ("冨", "富", "name itaiji (わかんむりの富)"),
    ("峯", "峰", "name itaiji (both 人名用漢字)"),
    ("桒", "桑", "name itaiji"),
    ("栁", "柳", "name itaiji"),
    ("舘", "館", "name itaiji (舘 is common in surnames)"),
    ("槙", "槇", "name itaiji (both 人名用漢字)"),
    ("昻", "昂", "name itaiji"),
    ("煕", "熙", "name itaiji (熙 is the 人名用漢字 form)"),
    ("凞", "熙", "name itaiji"),
    ("篭", "籠", "略字 of 籠"),
    ("薮", "藪", "略字 of 藪 (both common in surnames)"),
    ("穐", "秋", "name itaiji (穐山)"),
    ("龝", "秋", "name itaiji"),
    ("凜", "凛", "both 人名用漢字; 凛 is the more common form in names"),
    ("逹", "達", "name itaiji"),
    ("莭", "節", "name itaiji"),
    ("曻", "昇", "name itaiji"),
    ("隝", "島", "name itaiji"),
    ("﨟", "臈", "unified ideograph in the compatibility block (上﨟), variant of 臈"),
]

# variant -> reason it is NOT folded (written as an identity row)
SKIP: dict[str, str] = {
    "龍": "kept: 龍 and 竜 are both name characters chosen as different names",
    "辮": "kept: 辮 (braid) is not a form of 弁",
    "撈": "kept: target outside common use",
    "濾": "kept: 沪 is a Chinese simplified form, not a name variant",
    "鬮": "kept: target outside common use",
    "閒": "kept: 閒 is a variant of both 閑 and 間",
    "﨎": "kept: unified ideograph in the compatibility block, no standard form",
    "﨏": "kept: unified ideograph in the compatibility block, no standard form",
    "﨔": "kept: unified ideograph in the compatibility block, no standard form",
    "﨓": "kept: unified ideograph in the compatibility block, no standard form",
    "﨡": "kept: unified ideograph in the compatibility block, no standard form",
    "﨣": "kept: unified ideograph in the compatibility block, no standard form",
    "﨤": "kept: unified ideograph in the compatibility block, no standard form",
    "﨧": "kept: unified ideograph in the compatibility block, no standard form",
    "﨨": "kept: unified ideograph in the compatibility block, no standard form",
    "﨩": "kept: unified ideograph in the compatibility block, no standard form",
}

_SELECTORS = re.compile("[\U000e0100-\U000e01ef\ufe00-\ufe0f]")
_PAIR = re.compile(r'\[\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\]')


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        sys.exit(f"{package} is not installed: pip install --no-deps kyujipy==0.6.8 yosina==3.0.0")
    return Path(spec.origin).parent.joinpath(*parts)


def kyujipy_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for name in ("kyujitai_simplified.cson", "kyujitai_variants.cson"):
        text = _package_file("kyujipy", "data", name).read_text(encoding="utf-8")
        section = "常用漢字"
        for line in text.splitlines():
            if line.strip().startswith("#") and "漢字" in line:
                section = line.strip("# ").strip()
            match = _PAIR.search(line)
            if match:
                new, old = match.groups()
                pairs.append((old, new, f"旧字体 ({section}; kyujipy)"))
    return pairs


def yosina_pairs() -> list[tuple[str, str, str]]:
    sys.path.insert(0, str(_package_file("yosina").parent))
    from yosina.transliterators.kanji_old_new import KANJI_OLD_NEW_MAPPINGS

    pairs = []
    for old, new in KANJI_OLD_NEW_MAPPINGS.items():
        old_base, new_base = _SELECTORS.sub("", old), _SELECTORS.sub("", new)
        if old_base != new_base and len(old_base) == 1 and len(new_base) == 1:
            pairs.append((old_base, new_base, "旧字体 (JIS X 0213 old form; yosina)"))
    return pairs


def unicode_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for start, end in ((0xF900, 0xFAFF), (0x2F800, 0x2FA1F)):
        for cp in range(start, end + 1):
            ch = chr(cp)
            decomposition = unicodedata.normalize("NFC", ch)
            if decomposition != ch:
                pairs.append((ch, decomposition, f"CJK compatibility ideograph U+{cp:04X}"))
    return pairs


def build() -> list[tuple[str, str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for variant, reason in SKIP.items():
        table[variant] = (variant, reason)
    for source in (HAND, kyujipy_pairs(), yosina_pairs(), unicode_pairs()):
        for variant, standard, note in source:
            if variant in table or variant == standard:
                continue
            # never let a later source reverse an earlier decision (凛/凜)
            if table.get(standard, ("", ""))[0] == variant:
                continue
            table[variant] = (standard, note)

    def resolve(ch: str) -> str:
        seen = [ch]
        while ch in table and table[ch][0] != ch:
            ch = table[ch][0]
            if ch in seen:
                raise SystemExit(f"cycle in variant table: {' -> '.join([*seen, ch])}")
            seen.append(ch)
        return ch

    rows = []
    for variant, (standard, note) in table.items():
        target = variant if standard == variant else resolve(variant)
        rows.append((variant, target, note))
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def main() -> None:
    rows = build()
    lines = ["# variant\tstandard\tnote  (generated by build_variant_kanji.py; edit HAND/SKIP there)"]
    lines += ["\t".join(row) for row in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    folded = sum(1 for v, s, _ in rows if v != s)
    print(f"wrote {OUT.name}: {folded} folded pairs, {len(rows) - folded} kept")


if __name__ == "__main__":
    main()
