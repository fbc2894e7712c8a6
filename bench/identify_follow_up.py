"""What the panel's one more question is worth, simulated on synthetic tuning sets.

    python -m bench identify_follow_up [--seeds=1,2,3,4] [--sizes=2000]   # tuning seeds only

The identify panel asks the operator for one item when the engine abstains on a clear first
candidate (`madoguchi/identify/follow_up.py`). A batch set has no caller to ask, so this
benchmark plays the caller: each set is drawn by `bench/identify_synth.py` as
`identify_calibration --record` draws it, every call is run through `identify()`, and when the
panel would ask, the item asked is answered as the generator's callers give that item (their
noise, from a stream of its own so the calls are the recorded ones):

* a caller in the list gives the household's value: the child's date of birth (one of the
  children; a near error 2.5 %), the address (an old one 2.7 %, a block mistyped 4 %), the
  phone (a number not on file when the household has none or 4 %; two digits swapped or one
  wrong 2 % each), the guardian's date of birth, the child's name (the generator's spellings);
  another adult calling gives their own date of birth and phone;
* a caller not in the list gives their own: a child's date of birth in the program's window
  (a child out of range: from 2012-2016), an address elsewhere, their own phone and date of
  birth, a child's name of their family.

The call is then searched again with the answer added, and the engine decides as on any
search. Printed per list size: top-1 and false matches without the question (what the CLI
gives) and with it (what the panel gives when the operator asks), and how often it is asked.
Evaluation seeds are refused: the figures are for choosing and checking the rule, on the
seeds the rules may be tuned on.
"""

from __future__ import annotations

import argparse
import datetime
import random
import re
import time
from collections import defaultdict
from typing import Any

from bench.identify_calibration import EVALUATION, TUNING


def answer(
    item: str,
    *,
    rng: random.Random,
    caller: Any,
    household: Any | None,
    tags: list[str],
    query: dict[str, str],
) -> str:
    """What the caller says when asked for `item` (see the module's docstring)."""
    from bench.identify_synth import TOWNS, Household, Person, _child_dob, _guardian_dob, _random_phone

    other_adult = "caller_not_registered_guardian" in tags
    if household is None:  # a caller not in the list: their own
        family = re.split(r"[\s\u3000]+", query.get("guardian_name", "").strip(), maxsplit=1)[0]
        if item == "child_dob":
            if "neg_child_out_of_range" in tags:
                return caller.date(datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randint(0, 1500)))
            return caller.date(_child_dob(rng))
        if item == "address":
            town, chomes = rng.choice(TOWNS)
            numbers = (rng.randint(1, chomes), rng.randint(1, 40), rng.randint(1, 28))
            return caller.address(Household("", None, [], town, numbers))
        if item == "phone":
            return caller.phone(_random_phone(rng))
        if item == "guardian_dob":
            return caller.date(_guardian_dob(rng))
        given, given_kana = caller.names.given()
        if item == "child_name":
            return f"{family} {given}" if family and " " in query.get("guardian_name", "") else given
        return f"{family} {given}"
    child = rng.choice(household.children)
    if item == "child_dob":
        return caller.date(child.dob, error=rng.random() < 0.025)
    if item == "address":
        if rng.random() < 0.027:
            town, _ = rng.choice(TOWNS)
            moved = Household("", household.guardian, [], town, (1, rng.randint(1, 40), rng.randint(1, 28)))
            return caller.address(moved)
        return caller.address(household)
    if item == "phone":
        if other_adult or not household.phone or rng.random() < 0.04:
            return caller.phone(_random_phone(rng))
        return caller.phone(household.phone, error=rng.choices(("", "swap", "digit"), weights=(96, 2, 2))[0])
    if item == "guardian_dob":
        dob = _guardian_dob(rng) if other_adult else household.guardian.dob
        return caller.date(dob, error=rng.random() < 0.025)
    if item == "child_name":
        return caller.name(child, "child")["child_name"]
    speaker = household.guardian
    if other_adult:
        given, given_kana = caller.names.given()
        speaker = Person(child.family, child.family_kana, given, given_kana, speaker.dob)
    return caller.name(speaker, "guardian")["guardian_name"]


def simulate(
    sets: list[tuple[int, int]], *, clear_probability: float | None = None, clear_gap: float | None = None
) -> dict[int, dict[str, int]]:
    from bench.identify import make_program, setup

    setup(None)
    from bench.identify_calibration import CALLS, _load
    from bench.identify_synth import Caller, Names, make_calls, make_list
    from madoguchi.identify import follow_up as rules
    from madoguchi.identify.engine import Query, identify
    from madoguchi.identify.follow_up import follow_up
    from madoguchi.identify.indexer import reindex_program

    # To see what other constants would do (the committed ones are what the panel uses).
    if clear_probability is not None:
        rules.CLEAR_PROBABILITY = clear_probability
    if clear_gap is not None:
        rules.CLEAR_GAP = clear_gap

    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for size, seed in sets:
        started = time.perf_counter()
        program = make_program(f"follow-up-{size}-{seed}")
        listed = make_list(seed, size)
        by_number = {h.number: h for h in listed}
        _load(program, listed)
        reindex_program(program.pk)
        # The answers' own streams: the calls stay exactly the recorded ones.
        rng = random.Random(seed * 7877 + 11)
        names = Names(random.Random(seed * 7877 + 13))
        tally = counts[size]
        for query, truth in make_calls(seed, listed, CALLS):
            result = identify(program.pk, Query.from_mapping(query))
            in_list = truth["household_id"] is not None
            first = result.candidates[0].number if result.candidates else None
            named_before = None if result.abstained else first
            asked = follow_up(result)
            named_after = named_before
            if asked is not None:
                channel = "form" if "channel_form" in truth["tags"] else "phone"
                caller = Caller(rng, names, channel)
                household = by_number.get(truth["household_id"] or "")
                said = answer(
                    asked.item, rng=rng, caller=caller, household=household, tags=truth["tags"], query=query
                )
                again = identify(program.pk, Query.from_mapping({**query, asked.item: said}))
                named_after = None if again.abstained or not again.candidates else again.candidates[0].number
                tally[f"asked_{asked.item}"] += 1
                tally["asked_in_list" if in_list else "asked_not_in_list"] += 1
                tally["asked_first_right"] += in_list and first == truth["household_id"]
            if in_list:
                tally["in_list"] += 1
                tally["right_before"] += named_before == truth["household_id"]
                tally["right_after"] += named_after == truth["household_id"]
                tally["wrong_before"] += named_before not in (None, truth["household_id"])
                tally["wrong_after"] += named_after not in (None, truth["household_id"])
            else:
                tally["not_in_list"] += 1
                tally["false_before"] += named_before is not None
                tally["false_after"] += named_after is not None
        print(f"{size:,} households seed {seed}: {time.perf_counter() - started:.0f}s", flush=True)
    return counts


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f} %" if b else "–"


def table(counts: dict[int, dict[str, int]]) -> str:
    lines = [
        "| list size | calls in the list | top-1 without / with the question | wrong household named "
        "| asked (in the list) | of them first right | callers not in the list "
        "| false matches without / with | asked (not in the list) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sorted(counts):
        c = counts[size]
        pos, neg = c["in_list"], c["not_in_list"]
        lines.append(
            f"| {size:,} | {pos:,} | {_pct(c['right_before'], pos)} / **{_pct(c['right_after'], pos)}** "
            f"| {c['wrong_before']} / {c['wrong_after']} | {c['asked_in_list']} | {c['asked_first_right']} "
            f"| {neg:,} | {_pct(c['false_before'], neg)} ({c['false_before']}) / "
            f"**{_pct(c['false_after'], neg)}** ({c['false_after']}) | {c['asked_not_in_list']} |"
        )
    items = defaultdict(int)
    for c in counts.values():
        for key, value in c.items():
            if key.startswith("asked_") and key[6:] not in ("in_list", "not_in_list", "first_right"):
                items[key[6:]] += value
    lines.append("")
    lines.append("Items asked: " + ", ".join(f"{item} {n}" for item, n in sorted(items.items())))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench identify_follow_up")
    parser.add_argument("--seeds", default="1,2,3,4,11,12,13,14,15,16", help="tuning seeds (comma-separated)")
    parser.add_argument("--sizes", help="only these list sizes (comma-separated)")
    parser.add_argument("--clear-probability", type=float, help="instead of follow_up.CLEAR_PROBABILITY")
    parser.add_argument("--clear-gap", type=float, help="instead of follow_up.CLEAR_GAP (log-odds)")
    args = parser.parse_args(argv)
    seeds = {int(seed) for seed in args.seeds.split(",")}
    if seeds & {seed for _, seed in EVALUATION}:
        raise SystemExit("evaluation seeds are held out: simulate on tuning seeds only")
    sets = [(size, seed) for size, seed in TUNING if seed in seeds]
    if args.sizes:
        sizes = {int(size) for size in args.sizes.split(",")}
        sets = [(size, seed) for size, seed in sets if size in sizes]
    counts = simulate(sets, clear_probability=args.clear_probability, clear_gap=args.clear_gap)
    print(table(counts))
