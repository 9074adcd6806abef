"""The bound the verdict is judged on: one-sided 95 % Clopper–Pearson, exact at zero and few failures."""

from __future__ import annotations

import math

import pytest

from nineslab.analysis import BaselineEvidence, cp_upper, project
from nineslab.analysis.bounds import binom_cdf
from nineslab.analysis.projection import YEAR_S


@pytest.mark.parametrize(
    ("failed", "total", "upper"),
    [
        # published one-sided 95 % Clopper–Pearson upper limits (Beta(x+1, n-x) quantile 0.95)
        (1, 10, 0.39416),
        (5, 100, 0.10225),
        (3, 1000, 0.0077352),
    ],
)
def test_known_upper_limits(failed: int, total: int, upper: float) -> None:
    assert cp_upper(failed, total) == pytest.approx(upper, rel=1e-4)
    # the defining property: seeing at most `failed` at the bound has probability 5 %
    assert binom_cdf(failed, total, cp_upper(failed, total)) == pytest.approx(0.05, rel=1e-6)


def test_no_failure_in_n_is_one_minus_the_nth_root_of_alpha_and_nothing_seen_is_anything() -> None:
    for n in (1, 10, 300_000):
        assert cp_upper(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)
    assert cp_upper(0, 300_000) == pytest.approx(3 / 300_000, rel=2e-3)  # the "rule of three"
    assert cp_upper(0, 0) == 1.0 and cp_upper(7, 7) == 1.0
    assert cp_upper(2, 100) < cp_upper(3, 100) < cp_upper(3, 50)  # more failures or fewer trials: wider


def test_a_zero_failure_baseline_of_n_requests_gives_the_exact_bound_over_the_year() -> None:
    n = 500_000
    p = project({}, {}, 0.99999, BaselineEvidence(good=n, total=n))
    exact = 1 - 0.05 ** (1 / n)
    assert p["baseline"]["error_ratio_hi"] == pytest.approx(exact, rel=1e-12)
    assert p["annual_downtime_hi_s"] == pytest.approx(exact * YEAR_S, rel=1e-12)
    assert p["annual_downtime_s"] == 0.0 and p["meets_target"] and p["proven"] is (exact * YEAR_S <= 315.36)
    assert math.isclose(p["availability_lo"], 1 - exact, rel_tol=1e-12)
