"""Names and readings: clean what is stored, derive what is searched.

Two rules from security.md R-26 shape this module:

* A stored name is kept exactly as written. ``clean_name`` only removes invisible
  zero-width characters, refuses characters that can forge or hide text (controls, bidi
  overrides, broken surrogates) and trims the ends. It never applies NFC/NFKC: NFC turns
  U+FA30 into U+4FAE, and an IVS selector (葛\U000e0100) must survive byte for byte.
* Searching uses derived keys: ``name_key`` (NFKC, variant kanji folded, katakana, no
  spaces), ``kana_key`` (exact reading) and ``kana_loose_key`` (reading with the
  confusions callers make folded away, for blocking only).
"""

from __future__ import annotations

import re
import unicodedata

from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import HYPHEN_LIKES
from madoguchi.lib.variant_kanji import fold_variants

__all__ = [
    "clean_name",
    "clean_text",
    "fold_variants",
    "hiragana_to_katakana",
    "kana_key",
    "kana_loose_key",
    "name_key",
    "normalize_kana",
    "split_name",
    "strip_spaces",
]

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH_TABLE = dict.fromkeys(map(ord, ZERO_WIDTH))
_TRIM = " \u3000\u00a0"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # TAB and LF allowed
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_SPACES_AND_DOTS = re.compile(r"[\s\u3000・･·]+")
_SPACE_RUN = re.compile(r"[ \u3000]+")

_HIRA_TO_KATA = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}

# Readings: katakana (incl. ヴ, small kana, ヵヶ, ヷ-ヺ), ー, iteration marks, the Ainu
# small kana, and the separators a reading may hold.
_KANA_ONLY = re.compile("[\u30a1-\u30fa\u30fc-\u30fe\u31f0-\u31ff ・]*")
_HYPHEN_AFTER_KANA = re.compile(
    "(?<=[\u30a1-\u30fa\u30fc])[" + "".join(re.escape(ch) for ch in sorted(HYPHEN_LIKES)) + "]"
)


def _remove_zero_width(value: str) -> str:
    # str.translate is slow on megabytes; most values hold no zero-width character at all.
    if any(ch in value for ch in ZERO_WIDTH):
        return value.translate(_ZERO_WIDTH_TABLE)
    return value


def _refuse_oversized(value: str, max_length: int | None) -> None:
    # A value many times the limit is refused before any scan (T-IN-09: 1 MB names).
    if max_length is not None and len(value) > 4 * max_length + 1024:
        _check_length(value, max_length)


def _refuse_bad_characters(value: str, control: re.Pattern[str]) -> None:
    if _SURROGATE.search(value):
        raise InputError("文字化けした文字（不正なサロゲート）が含まれています。", code="surrogate")
    if _BIDI.search(value):
        raise InputError("文字の向きを変える制御文字は使用できません。", code="bidi_control")
    if control.search(value):
        raise InputError("改行や制御文字は使用できません。", code="control_character")


def _check_length(value: str, max_length: int | None) -> None:
    # Code points, as the database counts them: 𠮷 is one character, not two UTF-16 units.
    if max_length is not None and len(value) > max_length:
        raise InputError(
            f"{max_length}文字以内で入力してください（現在{len(value)}文字）。", code="max_length"
        )


def clean_name(value: str, *, max_length: int | None = None) -> str:
    """The value to store for a name: faithful, minus invisible and dangerous characters.

    Removes zero-width characters (U+200B-U+200D, U+2060, U+FEFF); refuses NUL, C0/C1
    controls (TAB, CR and LF included), unpaired surrogates and bidi controls; trims ASCII,
    ideographic and no-break spaces at both ends. Nothing is normalised or collapsed.
    """
    _refuse_oversized(value, max_length)
    value = _remove_zero_width(value)
    _refuse_bad_characters(value, _CONTROL)
    value = value.strip(_TRIM)
    _check_length(value, max_length)
    return value


def clean_text(value: str, *, max_length: int | None = None) -> str:
    """``clean_name`` for multi-line free text: TAB and LF allowed, CRLF and CR become LF."""
    _refuse_oversized(value, max_length)
    value = _remove_zero_width(value).replace("\r\n", "\n").replace("\r", "\n")
    _refuse_bad_characters(value, _TEXT_CONTROL)
    value = value.strip(_TRIM + "\n\t")
    _check_length(value, max_length)
    return value


def strip_spaces(value: str) -> str:
    """Remove every space (ASCII, ideographic, any Unicode whitespace)."""
    return "".join(ch for ch in value if not ch.isspace())


def hiragana_to_katakana(value: str) -> str:
    return value.translate(_HIRA_TO_KATA)


def _expand_iteration_mark(value: str) -> str:
    # 佐々木 -> 佐佐木, 等々力 -> 等等力: callers and forms write both.
    out: list[str] = []
    for ch in value:
        if ch in "々〻" and out:
            out.append(out[-1])
        else:
            out.append(ch)
    return "".join(out)


def name_key(value: str) -> str:
    """Search key for a name in kanji, kana or Latin letters.

    NFKC, variation selectors removed, variant kanji folded (髙→高, 𠮷→吉, 﨑→崎), 々
    expanded, hiragana→katakana, case folded, and no spaces or middle dots, so
    ``name_key("髙橋　花子") == name_key("高橋花子")``.
    """
    value = unicodedata.normalize("NFKC", _remove_zero_width(value))
    value = _SELECTORS.sub("", value)
    value = fold_variants(value)
    value = _expand_iteration_mark(value)
    value = _HYPHEN_AFTER_KANA.sub("ー", hiragana_to_katakana(value)).casefold()
    return _SPACES_AND_DOTS.sub("", value)


def _to_katakana(value: str) -> str:
    value = unicodedata.normalize("NFKC", _remove_zero_width(value))
    value = hiragana_to_katakana(value)
    return _HYPHEN_AFTER_KANA.sub("ー", value)


def normalize_kana(value: str) -> str:
    """The reading to store: full-width katakana, one ASCII space between the parts.

    Half-width kana become full-width (``ﾀﾞ`` → ``ダ``), hiragana become katakana, and a
    dash typed after kana becomes ``ー``. Anything that is not a reading (``abc``, kanji)
    raises ``InputError``. ``normalize_kana("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"``.
    """
    value = clean_name(value)
    value = _SPACE_RUN.sub(" ", _to_katakana(value)).strip()
    if not _KANA_ONLY.fullmatch(value):
        raise InputError("フリガナはカタカナまたはひらがなで入力してください。", code="invalid_kana")
    return value


def kana_key(value: str) -> str:
    """Exact reading key: katakana, without spaces or middle dots; small kana and ー kept.

    Lenient (never raises): use ``normalize_kana`` to validate input.
    """
    return _SPACES_AND_DOTS.sub("", _to_katakana(value))


_LOOSE_PAIRS = {
    "ヴァ": "バ",
    "ヴィ": "ビ",
    "ヴェ": "ベ",
    "ヴォ": "ボ",
}
_LOOSE_PAIR_RE = re.compile("|".join(_LOOSE_PAIRS))
_LOOSE_TABLE = str.maketrans(
    {
        "ヴ": "ブ",
        "ヅ": "ズ",
        "ヂ": "ジ",
        "ヲ": "オ",
        "ヱ": "エ",
        "ヰ": "イ",
        "ヷ": "バ",
        "ヸ": "ビ",
        "ヹ": "ベ",
        "ヺ": "ボ",
        "ァ": "ア",
        "ィ": "イ",
        "ゥ": "ウ",
        "ェ": "エ",
        "ォ": "オ",
        "ッ": "ツ",
        "ャ": "ヤ",
        "ュ": "ユ",
        "ョ": "ヨ",
        "ヮ": "ワ",
        "ヵ": "カ",
        "ヶ": "ケ",
        "ー": "",
    }
)


def _vowel_table() -> dict[str, str]:
    rows = {
        "a": "アカガサザタダナハバパマヤラワ",
        "i": "イキギシジチヂニヒビピミリ",
        "u": "ウクグスズツヅヌフブプムユルヴ",
        "e": "エケゲセゼテデネヘベペメレ",
        "o": "オコゴソゾトドノホボポモヨロ",
    }
    return {kana: vowel for vowel, chars in rows.items() for kana in chars}


_VOWEL_OF = _vowel_table()
# A vowel kana that only lengthens the previous syllable: the same vowel again (オオノ,
# ユウキ), or ウ after an o-column kana (コウ) and イ after an e-column kana (ケイ).
_EXTENDS = {"ア": {"a"}, "イ": {"i", "e"}, "ウ": {"u", "o"}, "エ": {"e"}, "オ": {"o"}}


def kana_loose_key(value: str) -> str:
    """Blocking key that forgives what callers and operators confuse in readings.

    Folds ヴ→ブ (ヴァ→バ ...), ヅ→ズ, ヂ→ジ, ヲ/ヱ/ヰ→オ/エ/イ, small kana → large,
    and long vowels (ー dropped, a lengthening ウ/イ/same vowel dropped), so ユウキ, ユーキ
    and ユキ share a key. Many different names share a loose key: weigh it against
    ``kana_key``, never use it alone as a match.
    """
    value = _LOOSE_PAIR_RE.sub(lambda m: _LOOSE_PAIRS[m.group(0)], kana_key(value))
    value = value.translate(_LOOSE_TABLE)
    out: list[str] = []
    previous_vowel: str | None = None
    for ch in value:
        if previous_vowel is not None and previous_vowel in _EXTENDS.get(ch, ()):
            continue
        out.append(ch)
        previous_vowel = _VOWEL_OF.get(ch)
    return "".join(out)


def split_name(value: str) -> tuple[str, str]:
    """(family, given) split on the first ASCII or ideographic space.

    A name written without a space cannot be split without a dictionary: it is returned
    whole as the family part, ``(value, "")``, and callers compare it against the joined
    name.
    """
    value = value.strip(_TRIM)
    parts = _SPACE_RUN.split(value, maxsplit=1)
    if len(parts) == 2:
        return parts[0], parts[1].strip(_TRIM)
    return value, ""
