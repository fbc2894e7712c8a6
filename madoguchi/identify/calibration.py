"""The probability that the household the engine would name is the caller's, calibrated.

The engine's posterior (Fellegi-Sunter log-odds turned into shares over "one of these
households or nobody") ranks households well but is overconfident in exactly the cases that
matter: a caller who is not in the list but shares a listed guardian's full name, whose other
items all disagree or cannot be checked. So the decision to name a household is taken on a
logistic model of features of the best candidate's evidence (its log-odds, the gap to the
next, what agreed and what disagreed field by field, the list size), fitted on synthetic lists
and calls that `bench/identify_synth.py` draws from tuning seeds only
(`bench/identify_calibration.py --fit` writes `data/calibration.json`); the evaluation seeds,
held out, are what docs/identification.md reports. The engine names the household when this
probability reaches `threshold(households=N)`: per list size, the lowest threshold that keeps
false matches within half the issue's budget (0.5 % at 2,000 households, 1 % at 50,000) on the
tuning seeds' out-of-fold probabilities.

A second model of the same features (`"listed"` in the file, sixteenth session) gives the
probability that the caller is one of the listed households at all, whichever: that is what an
empty answer denies ("not in the target list", formats.md §2), so the batch answer is empty
only when it falls below its own threshold (`listed_threshold`, chosen the same way). Two
households that fit a caller's words equally well are one chance in two each for the first
model, but the caller is still in the list: the panel asks which (`follow_up`), the batch
answer lists both, and neither names a household.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("data") / "calibration.json"

FEATURES = (
    "log_odds",
    "gap",
    "posterior_logit",
    "name_weight",
    "other_weight",
    "against_weight",
    "agreeing_items",
    "agreeing_non_name_items",
    "disagreeing_items",
    "corroborated",
    "only_names",
    "log_households",
    "fields_said",
    "family_disagrees",
    "name_alone",
    "name_contradicted",
    "unconfirmed_items",
    "family_agrees",
    *(
        f"{name}_{what}"
        for name in ("guardian_name", "child_name", "child_dob", "guardian_dob", "address", "phone", "email")
        for what in ("agrees", "disagrees")
    ),
    "family_name_agrees",
    "strongest_other",
    "strong_others",
    "other_adult_names_child",
)


NAME_EVIDENCE = frozenset({"family_name", "guardian_name", "child_name"})
COMPARED_FIELDS = ("guardian_name", "child_name", "child_dob", "guardian_dob", "address", "phone", "email")
STRONG = 4.0  # an agreeing non-name item weighing more than this is as good as unique (a phone, a block)


def evidence_features(evidence: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """What agreed and what disagreed, field by field, from (field, how, weight) triples: the
    logistic model learns how much each is worth in the presence of the others (an exact
    name whose every other item disagrees is a namesake's pattern; another parent's given
    name against an agreeing phone is a household's)."""
    items = [
        (field, how, weight)
        for field, how, weight in evidence
        if not (field == "family_name" and how == "disagree")
    ]
    out: dict[str, float] = {}
    for name in (*COMPARED_FIELDS, "family_name"):
        entries = [(how, weight) for field, how, weight in items if field == name]
        total = sum(weight for _, weight in entries)
        disagrees = any(how == "disagree" for how, _ in entries)
        out[f"{name}_agrees"] = float(bool(entries) and total > 0 and not disagrees)
        if name != "family_name":
            out[f"{name}_disagrees"] = float(bool(entries) and (total < 0 or disagrees))
    other = [weight for field, _, weight in items if field not in NAME_EVIDENCE]
    out["strongest_other"] = max([*other, 0.0])
    out["strong_others"] = float(sum(1 for weight in other if weight > STRONG))
    # Another adult of the household calls (the caller's own name is not the guardian's) and
    # names the child with the child's date of birth. Field by field this looks like a
    # stranger whose child shares a listed child's birthday; together, name and date are the
    # child. The linear model could not tell the two apart: the tuning records at 2,000
    # households held 110 such callers from the list, all unnamed, against no caller from
    # outside it whose family name disagreed for the guardian alone (`family_disagrees` and
    # `against_weight` tell those whose child's family name disagrees too).
    out["other_adult_names_child"] = (
        out["guardian_name_disagrees"] * out["child_name_agrees"] * out["child_dob_agrees"]
    )
    return out


@cache
def model() -> dict[str, Any] | None:
    """{"intercept", "weights": {feature: w}, "mean", "scale", "threshold"}, or None."""
    if not CALIBRATION_FILE.exists():
        return None
    data: dict[str, Any] = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return data


def _logistic(features: dict[str, float], fitted: dict[str, Any]) -> float:
    z = float(fitted["intercept"])
    for name in FEATURES:
        if name not in fitted["weights"]:
            continue  # a feature added after this model was fitted
        x = (features.get(name, 0.0) - fitted["mean"][name]) / fitted["scale"][name]
        z += fitted["weights"][name] * x
    z = max(-40.0, min(40.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def probability(features: dict[str, float], fitted: dict[str, Any] | None = None) -> float | None:
    """P(the best candidate is the caller's household), or None without a fitted model."""
    fitted = fitted if fitted is not None else model()
    if fitted is None:
        return None
    # Whatever the evidence, the first household is at most as likely as its share against
    # the second: two households that the caller's words fit equally well (the same guardian's
    # name, nothing else said) are one chance in two each, however sure it is that the caller
    # is one of them. The model rarely sees such ties, so the bound is applied, not learnt.
    between_first_two = 1.0 / (1.0 + math.exp(-features.get("gap", 30.0)))
    return min(_logistic(features, fitted), between_first_two)


def listed_probability(features: dict[str, float], fitted: dict[str, Any] | None = None) -> float | None:
    """P(the caller is one of the listed households, whichever), or None without that model.

    No tie bound: two households fitting equally well say nothing against the caller being
    one of them."""
    fitted = fitted if fitted is not None else model()
    if fitted is None or "listed" not in fitted:
        return None
    return _logistic(features, fitted["listed"])


def listed_threshold(fitted: dict[str, Any] | None = None, *, households: int = 2000) -> float:
    """The probability that the caller is in the list that a non-empty answer needs (per list
    size, as `threshold`)."""
    fitted = fitted if fitted is not None else model()
    if not fitted or "listed" not in fitted:
        return threshold(fitted, households=households)
    return threshold(fitted["listed"], households=households)


def threshold(fitted: dict[str, Any] | None = None, *, households: int = 2000) -> float:
    """The probability a household needs to be named, for a list of this size.

    Chosen per list size on the tuning seeds (`"thresholds"`: {size: threshold}): a larger list
    has more namesakes but also a larger false-match budget (issue 13: 0.5 % at 2,000
    households, 1 % at 50,000). Between two sizes, by the logarithm of the size; outside them,
    the nearest."""
    fitted = fitted if fitted is not None else model()
    if not fitted:
        return 0.5
    by_size = sorted((int(size), float(value)) for size, value in fitted.get("thresholds", {}).items())
    if not by_size:
        return float(fitted["threshold"])
    if households <= by_size[0][0]:
        return by_size[0][1]
    for (low, t_low), (high, t_high) in itertools.pairwise(by_size):
        if households <= high:
            share = math.log(households / low) / math.log(high / low)
            return t_low + share * (t_high - t_low)
    return by_size[-1][1]
