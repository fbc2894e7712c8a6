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


# A call from the tuning records at 2,000 households (synthetic): another adult of the household,
# whose family name is not the listed guardian's, gives their own name in kana, the child's given
# name and the child's date of birth.
OTHER_ADULT_EVIDENCE = [
    ("guardian_name", "disagree", -2.495),
    ("child_name", "exact", 4.382),
    ("child_dob", "exact", 5.908),
]
OTHER_ADULT_FEATURES = {
    "log_odds": -1.608, "gap": 2.751, "posterior_logit": -1.631, "name_weight": 4.382, "other_weight": 5.908,
    "against_weight": -5.684, "agreeing_items": 2.0, "agreeing_non_name_items": 1.0, "disagreeing_items": 2.0,
    "corroborated": 1.0, "only_names": 0.0, "log_households": 7.601, "fields_said": 3.0,
    "unconfirmed_items": 0.0, "family_agrees": 0.0, "family_disagrees": 1.0, "name_alone": 0.0,
    "name_contradicted": 0.0, "supporting_items": 2.0,
    **calibration.evidence_features(OTHER_ADULT_EVIDENCE),
}  # fmt: skip


class OtherAdultTests:
    def test_another_adult_naming_the_child_with_its_birth_date_is_in_the_list_at_2000_households(self):
        # Until the seventeenth session's refit such callers were judged in the list with
        # probability 0.15 to 0.25 (110 of them in the tuning records, none named).
        listed = calibration.listed_probability(OTHER_ADULT_FEATURES)
        assert listed is not None and listed >= calibration.listed_threshold(households=2000)
        named = calibration.probability(OTHER_ADULT_FEATURES)
        assert named is not None and named >= calibration.threshold(households=2000)

    def test_without_the_childs_name_the_same_caller_is_not(self):
        evidence = [OTHER_ADULT_EVIDENCE[0], OTHER_ADULT_EVIDENCE[2]]
        features = {
            **OTHER_ADULT_FEATURES, "name_weight": 0.0, "agreeing_items": 1.0,
            "log_odds": -5.99, "posterior_logit": -6.0, "supporting_items": 1.0,
            **calibration.evidence_features(evidence),
        }  # fmt: skip
        listed = calibration.listed_probability(features)
        assert listed is not None and listed < calibration.listed_threshold(households=2000)


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
        assert features["other_adult_names_child"] == 0

    def test_another_adult_naming_the_child_and_its_birth_date_is_one_feature(self):
        other_adult = [
            ("guardian_name", "disagree", -2.5),
            ("child_name", "exact", 4.4),
            ("child_dob", "exact", 6.1),
        ]
        assert calibration.evidence_features(other_adult)["other_adult_names_child"] == 1
        guardian = [("guardian_name", "exact", 4.0), *other_adult[1:]]
        assert calibration.evidence_features(guardian)["other_adult_names_child"] == 0
        no_name = [other_adult[0], other_adult[2]]
        assert calibration.evidence_features(no_name)["other_adult_names_child"] == 0


class ThresholdChoiceTests:
    """`bench identify_calibration --fit` keeps false matches on the tuning records to a share
    of issue 13's budget: half of it up to 2,000 households, 0.35 above (held-out false
    matches at 50,000 ran at up to twice the tuning share)."""

    def test_a_large_list_keeps_to_a_smaller_share_of_its_budget(self):
        from bench.identify_calibration import choose_thresholds

        records, oof = [], {}
        for size in (2000, 50000):
            for index in range(4000):
                record = {"size": size, "truth": None, "features": {"supporting_items": 2.0}}
                records.append(record)
                oof[id(record)] = 0.5 + index / 10_000
        thresholds = choose_thresholds(records, {}, oof, kind="listed")
        let_through = {
            size: sum(1 for r in records if r["size"] == size and oof[id(r)] >= thresholds[str(size)])
            for size in (2000, 50000)
        }
        assert let_through == {2000: 10, 50000: 14}  # 0.5 x 0.5 % and 0.35 x 1 % of 4,000
