"""The calibrated decision's two rules that are applied rather than learnt, the threshold per
list size, and the second model's question (is the caller in the list at all?) (issue 13)."""

from __future__ import annotations

import math

import pytest

from madoguchi.identify import calibration

# A model that is sure of everything: whatever bounds its answer is the rule under test.
SURE = {
    "intercept": 30.0,
    "weights": {"log_odds": 0.0},
    "mean": {"log_odds": 0.0},
    "scale": {"log_odds": 1.0},
    "thresholds": {"2000": 0.9, "50000": 0.6},
}


class ThresholdPerListSizeTests:
    def test_it_uses_the_threshold_fitted_for_the_size(self):
        assert calibration.threshold(SURE, households=2000) == pytest.approx(0.9)
        assert calibration.threshold(SURE, households=50000) == pytest.approx(0.6)

    def test_between_two_sizes_it_goes_by_the_logarithm_of_the_size(self):
        middle = round(math.sqrt(2000 * 50000))  # halfway on a log scale
        assert calibration.threshold(SURE, households=middle) == pytest.approx(0.75, abs=1e-3)

    def test_outside_the_fitted_sizes_it_keeps_the_nearest(self):
        assert calibration.threshold(SURE, households=300) == pytest.approx(0.9)
        assert calibration.threshold(SURE, households=1_000_000) == pytest.approx(0.6)

    def test_a_model_with_one_threshold_still_serves(self):
        assert calibration.threshold({**SURE, "thresholds": {}, "threshold": 0.8}, households=9) == 0.8


class TieBoundTests:
    def test_two_households_fitting_equally_well_are_one_chance_in_two_each(self):
        assert calibration.probability({"gap": 0.0}, SURE) == pytest.approx(0.5)

    def test_a_clear_first_household_is_left_to_the_model(self):
        assert calibration.probability({"gap": 30.0}, SURE) == pytest.approx(1.0)


class InTheListTests:
    """The second model: whether the caller is one of the listed households at all."""

    WITH_LISTED = {**SURE, "listed": {**SURE, "thresholds": {"2000": 0.7, "50000": 0.4}}}

    def test_two_households_fitting_equally_well_still_hold_the_caller(self):
        # The tie bound halves which household; it says nothing against the list.
        assert calibration.listed_probability({"gap": 0.0}, self.WITH_LISTED) == pytest.approx(1.0)
        assert calibration.probability({"gap": 0.0}, self.WITH_LISTED) == pytest.approx(0.5)

    def test_it_has_thresholds_of_its_own_per_list_size(self):
        assert calibration.listed_threshold(self.WITH_LISTED, households=2000) == pytest.approx(0.7)
        assert calibration.listed_threshold(self.WITH_LISTED, households=50000) == pytest.approx(0.4)

    def test_a_file_without_it_decides_as_before(self):
        assert calibration.listed_probability({"gap": 0.0}, SURE) is None
        assert calibration.listed_threshold(SURE, households=2000) == pytest.approx(0.9)

    def test_the_committed_file_has_it(self):
        fitted = calibration.model()
        assert fitted is not None and "listed" in fitted
        assert {"2000", "50000"} <= set(fitted["listed"]["thresholds"])


class EvidenceFeaturesTests:
    def test_a_namesakes_pattern_shows_field_by_field(self):
        features = calibration.evidence_features(
            [
                ("guardian_name", "exact", 4.0),
                ("family_name", "exact", 6.0),
                ("child_dob", "disagree", -3.0),
                ("address", "disagree", -2.8),
                ("phone", "exact", 7.4),
            ]
        )
        assert features["guardian_name_agrees"] == 1 and features["family_name_agrees"] == 1
        assert features["child_dob_disagrees"] == 1 and features["address_disagrees"] == 1
        assert features["strongest_other"] == pytest.approx(7.4)
        assert features["strong_others"] == 1
