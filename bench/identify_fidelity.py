"""How closely our synthetic sets resemble the development sets' population.

    python -m bench identify_fidelity --set=/work/shared/data/dev --synth=2000:1,2,3,4

For each set folder (targets.csv, queries.jsonl, truth.jsonl, in the shared formats) prints,
side by side: the list's shape (children, guardians sharing a whole name, another family
name than the child, phones, e-mails), which items callers give (per channel, in the list or
not), how many, the kinds of noise (the truth's tags), and how calls relate to the list (a
caller not in the list with a listed guardian's whole name; what else of that household they
share; a caller in the list saying the listed name exactly, in kana, another adult's name).

What it compares are shares of the population (what the sets are), never which calls an
engine gets right: the development sets serve to check the generator's shape, and nothing
here is fitted to their answers. `--synth=SIZE:SEEDS` draws our sets in memory
(`bench/identify_synth.py`) and averages their figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

FIELDS = ("guardian_name", "guardian_kana", "child_name", "child_kana", "child_dob", "guardian_dob",
          "address", "phone", "email")  # fmt: skip


# Kinds of call whose items are compared on their own: a kind's callers can say other items
# than callers at large (someone who is not the registered guardian always says which child:
# the fifteenth session found ours did so only at the shares of every call).
TAGS_BY_ITEMS = ("caller_not_registered_guardian", "homophone_kanji", "dob_error", "siblings")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").replace(" ", "").replace("　", "")
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


def _digits(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    digits = "".join(ch for ch in text if ch.isdigit())
    return "0" + digits[2:] if digits.startswith("81") else digits


def _is_kana(text: str) -> bool:
    return bool(text) and all("ァ" <= ch <= "ヺ" or ch == "ー" for ch in text)


class Set:
    def __init__(self, name: str, targets: str, queries: list[dict[str, Any]], truth: list[dict[str, Any]]):
        self.name = name
        self.households: dict[str, list[dict[str, str]]] = {}
        for row in csv.DictReader(io.StringIO(targets.lstrip("\ufeff"))):
            self.households.setdefault(row["世帯番号"], []).append(row)
        self.queries = queries
        self.truth = {t["query_id"]: t for t in truth}


def load_folder(folder: Path) -> Set:
    return Set(
        folder.name,
        (folder / "targets.csv").read_text(encoding="utf-8-sig"),
        [
            json.loads(line)
            for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
            if line
        ],
        [
            json.loads(line)
            for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()
            if line
        ],
    )


def synth_set(size: int, seeds: list[int], calls: int = 2000) -> Set:
    from bench.identify_synth import HEADER, list_rows, make_calls, make_list

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    queries, truth = [], []
    for seed in seeds:
        listed = make_list(seed, size)
        for household in listed:
            writer.writerows(list_rows(household))
        for query, answer in make_calls(seed, listed, calls):
            queries.append(query)
            truth.append(answer)
    return Set(f"synth {size}:{','.join(map(str, seeds))}", out.getvalue(), queries, truth)


def shares(s: Set) -> dict[str, float]:
    """name → share; names sort into sections by prefix."""
    out: dict[str, float] = {}
    hh = s.households
    n = len(hh)
    whole = Counter(_fold(rows[0]["保護者氏名"]) for rows in hh.values())
    out["list: households"] = n
    out["list: two or more children"] = sum(len(r) >= 2 for r in hh.values()) / n
    out["list: guardian's whole name shared with another household"] = (
        sum(whole[_fold(r[0]["保護者氏名"])] > 1 for r in hh.values()) / n
    )
    spaced = [r for r in hh.values() if "　" in r[0]["保護者氏名"].replace(" ", "　")]
    out["list: guardian's family name differs from the child's (names with a space)"] = sum(
        r[0]["保護者氏名"].replace(" ", "　").split("　")[0]
        != r[0]["児童氏名"].replace(" ", "　").split("　")[0]
        for r in spaced
    ) / max(1, len(spaced))
    out["list: name without a space"] = (
        sum("　" not in r[0]["保護者氏名"] and " " not in r[0]["保護者氏名"] for r in hh.values()) / n
    )
    out["list: phone on file"] = sum(bool(r[0]["電話番号"]) for r in hh.values()) / n
    out["list: e-mail on file"] = sum(bool(r[0]["メールアドレス"]) for r in hh.values()) / n
    families = Counter(r[0]["保護者氏名"].replace(" ", "　").split("　")[0] for r in hh.values())
    givens = Counter(r[0]["保護者氏名"].replace(" ", "　").split("　")[-1] for r in hh.values())
    child_givens = Counter(c["児童氏名"].replace(" ", "　").split("　")[-1] for r in hh.values() for c in r)
    out["list: distinct family names per 1,000 households"] = 1000 * len(families) / n
    out["list: commonest family name's share"] = families.most_common(1)[0][1] / n
    out["list: distinct guardian given names"] = len(givens)
    out["list: commonest guardian given name's share"] = givens.most_common(1)[0][1] / n
    out["list: distinct child given names"] = len(child_givens)

    by_name: dict[str, list[str]] = {}
    by_reading: dict[str, list[str]] = {}
    phones: set[str] = set()
    for number, rows in hh.items():
        by_name.setdefault(_fold(rows[0]["保護者氏名"]), []).append(number)
        by_reading.setdefault(_fold(rows[0]["保護者氏名カナ"]), []).append(number)
        if rows[0]["電話番号"]:
            phones.add(_digits(rows[0]["電話番号"]))

    def namesake_of(name: str) -> list[str]:
        folded = _fold(name)
        return by_reading.get(folded, []) if _is_kana(folded) else by_name.get(folded, [])

    counts: Counter[str] = Counter()
    for q in s.queries:
        t = s.truth[q["query_id"]]
        side = "in list" if t["household_id"] else "not in list"
        channel = "form" if "channel_form" in t["tags"] else "phone"
        counts[side] += 1
        counts[f"{side} {channel}"] += 1
        said = [f for f in FIELDS if q.get(f)]
        for f in said:
            out[f"items ({side}, {channel}): {f}"] = out.get(f"items ({side}, {channel}): {f}", 0) + 1
        for tag in TAGS_BY_ITEMS:
            if tag in t["tags"]:
                out[f"({tag})"] = out.get(f"({tag})", 0) + 1
                for f in said:
                    out[f"items ({tag}): {f}"] = out.get(f"items ({tag}): {f}", 0) + 1
        nitems = len(said)
        out[f"items count ({side}): {min(nitems, 6)}{'+' if nitems >= 6 else ''}"] = (
            out.get(f"items count ({side}): {min(nitems, 6)}{'+' if nitems >= 6 else ''}", 0) + 1
        )
        names_only = set(said) <= {"guardian_name", "guardian_kana", "child_name", "child_kana"}
        out[f"calls ({side}): names only"] = out.get(f"calls ({side}): names only", 0) + names_only
        out[f"calls ({side}): no name"] = out.get(f"calls ({side}): no name", 0) + (
            not {"guardian_name", "guardian_kana", "child_name"} & set(said)
        )
        g = _fold(q.get("guardian_name", ""))
        out[f"calls ({side}): guardian name in kana"] = out.get(
            f"calls ({side}): guardian name in kana", 0
        ) + (bool(g) and _is_kana(g))
        child = _fold(q.get("child_name", ""))
        out[f"calls ({side}): child's given name only (of child names)"] = out.get(
            f"calls ({side}): child's given name only (of child names)", 0
        ) + (bool(child) and " " not in q.get("child_name", "").replace("　", " ") and len(child) <= 3)
        sakes = namesake_of(q.get("guardian_name", "")) if g else []
        if t["household_id"]:
            listed = hh[t["household_id"]][0]
            exact = g and (g in (_fold(listed["保護者氏名"]), _fold(listed["保護者氏名カナ"])))
            out["calls (in list): guardian's name as listed (kanji or reading)"] = out.get(
                "calls (in list): guardian's name as listed (kanji or reading)", 0
            ) + bool(exact)
            out["calls (in list): guardian's name shared with another listed household"] = out.get(
                "calls (in list): guardian's name shared with another listed household", 0
            ) + bool(exact and len(sakes) > 1)
            if q.get("phone"):
                p = _digits(q["phone"])
                key = "calls (in list): phone said, household has none on file"
                out[key] = out.get(key, 0) + (not listed["電話番号"])
                key = "calls (in list): phone said, not the listed one (of phones said)"
                out[key] = out.get(key, 0) + (p != _digits(listed["電話番号"]))
                out["(phones said, in list)"] = out.get("(phones said, in list)", 0) + 1
            if q.get("email"):
                key = "calls (in list): e-mail said, household has none on file (of e-mails said)"
                out[key] = out.get(key, 0) + (not listed["メールアドレス"])
                out["(e-mails said, in list)"] = out.get("(e-mails said, in list)", 0) + 1
        else:
            out["calls (not in list): a listed guardian's whole name"] = out.get(
                "calls (not in list): a listed guardian's whole name", 0
            ) + bool(sakes)
            if sakes:
                rows = hh[sakes[0]]
                given = _fold(q.get("child_name", "")).removeprefix(
                    _fold(rows[0]["児童氏名"].replace(" ", "　").split("　")[0])
                )
                columns = ("児童氏名", "児童氏名カナ")
                their_children = {
                    _fold(child[k].replace(" ", "　").split("　")[-1]) for child in rows for k in columns
                }
                for label, hit in (
                    ("child's given name = namesake household's child", given and given in their_children),
                    ("child's name said", bool(q.get("child_name"))),
                    ("phone said", bool(q.get("phone"))),
                    ("address said", bool(q.get("address"))),
                    ("child's birth date said", bool(q.get("child_dob"))),
                    ("guardian's birth date said", bool(q.get("guardian_dob"))),
                    ("e-mail said", bool(q.get("email"))),
                    ("namesake household has no phone on file", not rows[0]["電話番号"]),
                    ("namesake household has no e-mail on file", not rows[0]["メールアドレス"]),
                    ("namesake household's town in the address said", bool(q.get("address")) and any(
                        ch for ch in [rows[0]["住所"].split("区", 1)[-1][:2]] if ch in _fold(q["address"]))),
                ):  # fmt: skip
                    key = f"namesakes (not in list): {label}"
                    out[key] = out.get(key, 0) + bool(hit)
                out["(namesakes)"] = out.get("(namesakes)", 0) + 1
            if q.get("phone"):
                key = "calls (not in list): phone said is a listed household's"
                out[key] = out.get(key, 0) + (_digits(q["phone"]) in phones)
    for tagged in s.truth.values():
        side = "in list" if tagged["household_id"] else "not in list"
        for tag in tagged["tags"]:
            out[f"tags ({side}): {tag}"] = out.get(f"tags ({side}): {tag}", 0) + 1
    # Counts to shares.
    for key in list(out):
        if key.startswith("items ("):
            label = key[len("items (") : key.index(")")]  # a kind of call, or "side, channel"
            out[key] /= out[f"({label})"] if label in TAGS_BY_ITEMS else counts[label.replace(", ", " ")] or 1
        elif key.startswith(("items count (", "calls (", "tags (")):
            side = key[key.index("(") + 1 : key.index(")")]
            if key.startswith("calls (in list): phone said, "):
                out[key] /= out.get("(phones said, in list)", 1) if "of phones" in key else counts[side]
            elif "of e-mails said" in key:
                out[key] /= out.get("(e-mails said, in list)", 1)
            else:
                out[key] /= counts[side] or 1
        elif key.startswith("namesakes ("):
            out[key] /= out.get("(namesakes)", 1) or 1
    for side in ("in list", "not in list"):
        out[f"calls: {side}"] = counts[side] / sum(counts[k] for k in ("in list", "not in list"))
        out[f"calls ({side}): by web form"] = counts[f"{side} form"] / (counts[side] or 1)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench identify_fidelity")
    parser.add_argument("--set", dest="folders", action="append", default=[], type=Path, help="a set folder")
    parser.add_argument("--synth", action="append", default=[], help="SIZE:SEED,SEED … (pooled)")
    parser.add_argument("--min", type=float, default=0.0, help="leave out rows below this share everywhere")
    args = parser.parse_args(argv)
    names = [folder.name for folder in args.folders]
    figures = [shares(load_folder(folder)) for folder in args.folders]
    for spec in args.synth:
        size, seeds = spec.split(":")
        each = [shares(synth_set(int(size), [int(seed)])) for seed in seeds.split(",")]
        names.append(f"ours {int(size):,} (seeds {seeds})")
        figures.append(
            {k: sum(f.get(k, 0.0) for f in each) / len(each) for k in {k for f in each for k in f}}
        )
    keys = sorted({k for f in figures for k in f if not k.startswith("(")})
    print("| | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for key in keys:
        values = [f.get(key, 0.0) for f in figures]
        if max(values) < args.min:
            continue
        cells = [f"{v:.3f}" if v < 10 else f"{v:,.0f}" for v in values]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
