"""The probability that the household the engine would name is the caller's, calibrated.

The engine's posterior (Fellegi-Sunter log-odds turned into shares over "one of these
households or nobody") ranks households well but is overconfident in exactly the cases that
matter: a caller who is not in the list but shares a listed guardian's full name, whose other
items all disagree. So the decision to name a household is taken on a logistic model of a few
features of the best candidate's evidence (its log-odds, the gap to the next, what agreed and
what disagreed, the list size), fitted on synthetic lists and calls that `bench/identify_synth.py`
draws from tuning seeds only (`bench/identify_calibration.py --fit` writes
`data/calibration.json`); the evaluation seeds, held out, are what docs/identification.md
reports. The engine names the household when this probability reaches `threshold` (chosen on
the tuning seeds so that callers not in the list are named at most about 0.3 % of the time).
"""

from __future__ import annotations

import json
import math
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
)


@cache
def model() -> dict[str, Any] | None:
    """{"intercept", "weights": {feature: w}, "mean", "scale", "threshold"}, or None."""
    if not CALIBRATION_FILE.exists():
        return None
    data: dict[str, Any] = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return data


def probability(features: dict[str, float], fitted: dict[str, Any] | None = None) -> float | None:
    """P(the best candidate is the caller's household), or None without a fitted model."""
    fitted = fitted if fitted is not None else model()
    if fitted is None:
        return None
    z = float(fitted["intercept"])
    for name in FEATURES:
        if name not in fitted["weights"]:
            continue  # a feature added after this model was fitted
        x = (features.get(name, 0.0) - fitted["mean"][name]) / fitted["scale"][name]
        z += fitted["weights"][name] * x
    z = max(-40.0, min(40.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def threshold(fitted: dict[str, Any] | None = None) -> float:
    fitted = fitted if fitted is not None else model()
    return float(fitted["threshold"]) if fitted else 0.5
