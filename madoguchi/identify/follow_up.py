"""One more question when identification abstains on a clear first candidate.

The engine abstains rather than guesses, and most of what it loses on callers who are in the
list is abstentions on the household it ranked first (docs/identification.md, "What the ninth
session studied": 1.7 of the 2.4 points lost at 2,000 households), often a call that gave one
item too few or one that disagreed (an old address, a phone not on file). No threshold can
tell those calls from a namesake's, but the caller can: the operator on the phone asks for one
more item, types it in, and the engine decides again on everything said, as on any search.
The panel therefore names *which* item would settle it, never its listed value: a household
that is not confirmed shows nothing of its own (docs/identification.md, "Privacy").

"Clear" is read from what the engine already computes for the first candidate, as plain
constants rather than fitted ones (the prompt does not name anybody, so it needs no
false-match budget; it only has to point the question at one household):

* `CLEAR_PROBABILITY`: the calibrated probability that the first candidate is the caller's
  household (`Result.confidence`; the posterior without a fitted model) is at least one half,
  i.e. it is likelier than "another household or nobody in the list" together. Below that the
  panel's existing advice stands (add whatever the caller can say), since the question would
  as likely be about the wrong household.
* `CLEAR_GAP`: the first candidate's log-odds are at least log 2 above the second's: it is
  at least twice as likely, so 「候補1の可能性が高い」 stays true; within it, the first two are "close"
  (below) and the panel says so. The gap need not be larger: the items asked are on file for
  almost every household, so the answer settles a close second as well (the caller's child's
  date of birth is the second household's, and the engine names that one). Chosen on tuning
  seeds with `python -m bench identify_follow_up` (docs/identification.md, "What the
  question is worth"): at 2,000 households log 10 gave 98.41 % top-1 with the question, log
  2 98.59 %, any gap above zero 98.63 %, false matches unchanged at every value.

**A close second** (the first two candidates within `CLEAR_GAP` of each other: two guardians
of the same name and nothing else said, ordered only by id) gets a question as well, as long
as the first is as likely as above: the item must then be on file for **both** households,
so that the answer tells them apart, and the panel's text says that the first two are close
rather than that the first is likely (「候補1と候補2のどちらかの可能性が高いです」). It names no
household the panel does not already list (masked, as every candidate). Simulated on tuning
seeds (`bench identify_follow_up --clear-gap=0`): 2,000 households 98.59 → 98.77 % top-1,
50,000 96.71 → 97.50 %, false matches unchanged (docs/identification.md).

Which item (`settling_item`): the first of `ASK_ORDER` that the caller has not given and the
household has on file. The order puts first the items every listed household has (the
child's date of birth, the address), so that the question itself says nothing about the
household; among them the child's date of birth, which a caller knows by heart, which the
list holds for every child (m 0.92 against an address's 0.85: families move) and which counts
towards 本人確認 (生年月日). Then the phone, then the guardian's date of birth, then the names.
When the caller is not the registered guardian (the first candidate's guardian given name
disagrees), the guardian's date of birth, phone and e-mail are not asked: another adult gives
their own, which the engine rightly weighs as nothing (`scoring.M_GUARDIAN_DOB_OTHER_CALLER`,
`M_CONTACT_OTHER_CALLER`). The e-mail is never asked: spelt out on the phone it is slow and
error-prone, and a quarter of callers give another address than the registered one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from madoguchi.identify.engine import Result

CLEAR_PROBABILITY = 0.5
CLEAR_GAP = math.log(2)

# The items the panel may ask for, in the order it asks (see the module's docstring).
ASK_ORDER = ("child_dob", "address", "phone", "guardian_dob", "child_name", "guardian_name")
# Items about the registered guardian: not asked when another adult is calling.
GUARDIANS_OWN = frozenset({"guardian_dob", "phone", "email"})
# A query field and the item it gives (a reading is the same name as its kanji).
ITEM_OF_FIELD = {"guardian_kana": "guardian_name", "child_kana": "child_name"}

QUESTIONS: dict[str, Any] = {
    "child_dob": _("お子さまの生年月日を確認してください"),
    "address": _("ご住所（番地まで）を確認してください"),
    "phone": _("ご連絡先の電話番号を確認してください"),
    "guardian_dob": _("保護者の方の生年月日を確認してください"),
    "child_name": _("お子さまのお名前を確認してください"),
    "guardian_name": _("保護者の方のお名前を確認してください"),
}


@dataclass(frozen=True)
class FollowUp:
    item: str  # the search field to fill in (`engine.QUERY_FIELDS`)
    question: Any  # what the operator asks the caller (lazy translation)
    # True when the first two candidates are close: the item tells them apart.
    between_two: bool = False


def items_given(fields: Iterable[str]) -> frozenset[str]:
    """The items a search's fields give, a reading counting as its name."""
    return frozenset(ITEM_OF_FIELD.get(name, name) for name in fields)


def settling_item(
    *, given: Iterable[str], on_file: Iterable[str], other_adult_calls: bool = False
) -> str | None:
    """The one item to ask for: not given yet, on file for the household, in `ASK_ORDER`;
    None when every such item was given already."""
    said = items_given(given)
    available = frozenset(on_file)
    for item in ASK_ORDER:
        if item in said or item not in available:
            continue
        if other_adult_calls and item in GUARDIANS_OWN:
            continue
        return item
    return None


def _likely_first(result: Result) -> bool:
    """The engine abstained on a first candidate likelier than all else together."""
    if not result.abstained or not result.candidates:
        return False
    probability = result.confidence if result.confidence is not None else result.candidates[0].score
    return probability >= CLEAR_PROBABILITY


def _gap(result: Result) -> float:
    """The first candidate's log-odds above the second's (the engine's cap, 30, when there is
    no second; 0 when no features were computed)."""
    return float(result.features.get("gap", 0.0))


def has_clear_first_candidate(result: Result) -> bool:
    """The engine abstained, but its first candidate is likelier than all else together and
    at least twice as likely as the second."""
    return _likely_first(result) and _gap(result) >= CLEAR_GAP


def _other_adult_calls(candidate: Any) -> bool:
    return any(e.field == "guardian_name" and e.how == "disagree" for e in candidate.evidence)


def follow_up(result: Result) -> FollowUp | None:
    """The question the panel puts to the operator after this search, if any: on a clear
    first candidate, or on a first two close to each other (an item both have on file)."""
    if not _likely_first(result):
        return None
    if _gap(result) >= CLEAR_GAP:
        asked, between_two = result.candidates[:1], False
    elif len(result.candidates) >= 2:
        asked, between_two = result.candidates[:2], True  # a close second
    else:
        return None  # one candidate and no gap computed
    on_file = frozenset.intersection(*(candidate.on_file for candidate in asked))
    other_adult_calls = any(_other_adult_calls(candidate) for candidate in asked)
    item = settling_item(given=result.fields_used, on_file=on_file, other_adult_calls=other_adult_calls)
    if item is None:
        return None
    return FollowUp(item=item, question=QUESTIONS[item], between_two=between_two)
