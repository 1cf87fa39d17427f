"""DeLong's paired AUC test against a hand computation on a small fixed table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.paired_auc import delong, delong_by_family, placements

# 3 positives, 4 negatives; model a ranks them well, model b less so (one tie in a).
Y = np.array([1, 1, 1, 0, 0, 0, 0])
A = np.array([0.9, 0.8, 0.4, 0.4, 0.3, 0.2, 0.1])
B = np.array([0.6, 0.3, 0.7, 0.5, 0.8, 0.2, 0.1])


def test_placements_and_aucs_match_a_hand_count():
    # a: positive 0.4 ties the negative 0.4 (one half) and beats the other three: 3.5/4
    v10, v01 = placements(Y, A)
    assert v10.tolist() == [1.0, 1.0, 3.5 / 4]
    # each negative: share of positives scoring above it (0.4 ties one of them)
    assert v01.tolist() == pytest.approx([2.5 / 3, 1.0, 1.0, 1.0])
    # b: 0.6 beats 0.5, 0.2, 0.1 (3/4); 0.3 beats 0.2, 0.1 (2/4); 0.7 beats 0.5, 0.2, 0.1
    vb10, vb01 = placements(Y, B)
    assert vb10.tolist() == [0.75, 0.5, 0.75]
    assert vb01.tolist() == pytest.approx([2 / 3, 0.0, 1.0, 1.0])
    result = delong(Y, A, B)
    assert result.auc_a == pytest.approx(roc_auc_score(Y, A)) == pytest.approx(11.5 / 12)
    assert result.auc_b == pytest.approx(roc_auc_score(Y, B)) == pytest.approx(8 / 12)


def test_variance_of_the_difference_is_delongs_by_hand():
    # Per class, the difference of placement values: d10 = v10_a - v10_b, d01 likewise;
    # var(diff) = var(d10) / m + var(d01) / n (sample variances, ddof 1).
    d10 = np.array([1.0 - 0.75, 1.0 - 0.5, 3.5 / 4 - 0.75])        # 0.25, 0.5, 0.125
    d01 = np.array([2.5 / 3 - 2 / 3, 1.0 - 0.0, 0.0, 0.0])          # 1/6, 1, 0, 0
    mean10 = (0.25 + 0.5 + 0.125) / 3
    var10 = sum((x - mean10) ** 2 for x in d10) / 2
    mean01 = (1 / 6 + 1) / 4
    var01 = sum((x - mean01) ** 2 for x in d01) / 3
    se = math.sqrt(var10 / 3 + var01 / 4)
    result = delong(Y, A, B)
    assert result.diff == pytest.approx(11.5 / 12 - 8 / 12)
    assert result.se == pytest.approx(se)
    assert result.low == pytest.approx(result.diff - 1.959964 * se, abs=1e-6)
    assert result.high == pytest.approx(result.diff + 1.959964 * se, abs=1e-6)
    assert (result.n, result.n_pos, result.n_neg) == (7, 3, 4)
    # the order of the two models flips the sign only
    flipped = delong(Y, B, A)
    assert flipped.diff == pytest.approx(-result.diff) and flipped.se == pytest.approx(se)


def test_identical_models_differ_by_nothing_and_one_class_gives_no_test():
    same = delong(Y, A, A)
    assert same.diff == 0 and same.se == 0 and same.p_value == 1.0
    assert delong(np.ones(5), A[:5], B[:5]) is None
    by = delong_by_family(np.array(["x"] * 4 + ["y"] * 3), Y, A, B)
    assert set(by) == {"overall", "x", "y"}
    assert by["x"] is None and by["y"] is None  # x: one negative; y: no positive
    assert by["overall"].diff == pytest.approx(delong(Y, A, B).diff)
