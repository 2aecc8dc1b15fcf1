"""rfmkit.clv against lifetimes 0.11.3 on synthetic customers, in one run, interleaved.

    python benches/bench_clv.py [--customers 100000] [--repeats 5]

Times the BG/NBD, MBG/NBD and Pareto/NBD fits, the Gamma-Gamma fit and the 12-month CLV
of every customer, and the BG/BB fit on as many customers with 6 discrete opportunities,
each library in turn per repeat; prints medians, ratios and both objectives (the fits must
reach the same optimum for the timing to mean anything).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.simplefilter("ignore")

import lifetimes  # noqa: E402

import rfmkit  # noqa: E402
from clv_reference import simulate_bgnbd, simulate_spend  # noqa: E402


def simulate_bgbb(n: int, alpha: float, beta: float, gamma: float, delta: float, periods: int, seed: int):
    """BG/BB customers over `periods` opportunities: alive ones leave with probability
    θ ~ Beta(gamma, delta) before each opportunity and buy at it with p ~ Beta(alpha, beta)."""
    rng = np.random.default_rng(seed)
    p, theta = rng.beta(alpha, beta, n), rng.beta(gamma, delta, n)
    alive = np.ones(n, dtype=bool)
    frequency, recency = np.zeros(n), np.zeros(n)
    for t in range(1, periods + 1):
        alive &= rng.random(n) >= theta
        bought = alive & (rng.random(n) < p)
        frequency += bought
        recency[bought] = t
    return frequency, recency, np.full(n, float(periods))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = simulate_bgnbd(args.customers, r=0.5, alpha=20.0, a=0.7, b=3.0, seed=1, max_age=365.0)
    data[["recency", "T"]] = np.floor(data[["recency", "T"]])  # a daily summary
    data["monetary_value"] = simulate_spend(data["frequency"].values, 6.0, 4.0, 15.0, seed=2)
    repeat = data[data["frequency"] > 0]
    f, r, t_age, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    bb_f, bb_r, bb_n = simulate_bgbb(args.customers, 1.2, 0.75, 0.66, 2.8, periods=6, seed=3)

    times: dict[str, list[float]] = {}

    def timed(name, function):
        start = time.perf_counter()
        out = function()
        times.setdefault(name, []).append(time.perf_counter() - start)
        return out

    for _ in range(args.repeats):
        ours_bg = timed("rfmkit BG/NBD fit", lambda: rfmkit.clv.BetaGeoFitter().fit(f, r, t_age, freq="D"))
        theirs_bg = timed("lifetimes BG/NBD fit", lambda: lifetimes.BetaGeoFitter().fit(f, r, t_age))
        ours_mbg = timed("rfmkit MBG/NBD fit", lambda: rfmkit.clv.ModifiedBetaGeoFitter().fit(f, r, t_age, freq="D"))
        theirs_mbg = timed("lifetimes MBG/NBD fit", lambda: lifetimes.ModifiedBetaGeoFitter().fit(f, r, t_age))
        ours_pnbd = timed("rfmkit Pareto/NBD fit", lambda: rfmkit.clv.ParetoNBDFitter().fit(f, r, t_age, freq="D"))
        np.random.seed(0)  # lifetimes starts Nelder-Mead at a random point
        theirs_pnbd = timed("lifetimes Pareto/NBD fit", lambda: lifetimes.ParetoNBDFitter().fit(f, r, t_age))
        ours_bb = timed("rfmkit BG/BB fit", lambda: rfmkit.clv.BetaGeoBetaBinomFitter().fit(bb_f, bb_r, bb_n))
        theirs_bb = timed("lifetimes BG/BB fit", lambda: lifetimes.BetaGeoBetaBinomFitter().fit(bb_f, bb_r, bb_n))
        ours_gg = timed("rfmkit Gamma-Gamma fit", lambda: rfmkit.clv.GammaGammaFitter().fit(f, m))
        theirs_gg = timed(
            "lifetimes Gamma-Gamma fit",
            lambda: lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]),
        )
        ours_clv = timed("rfmkit 12-month CLV", lambda: ours_gg.customer_lifetime_value(ours_bg, f, r, t_age, m))
        theirs_clv = timed(
            "lifetimes 12-month CLV",
            lambda: theirs_gg.customer_lifetime_value(theirs_bg, f, r, t_age, m, time=12, discount_rate=0.01, freq="D"),
        )

    print(
        f"{args.customers} customers ({len(repeat)} repeat), {ours_bg.n_patterns_} BG/NBD patterns, "
        f"{args.repeats} repeats, medians:"
    )
    print(f"{'step':<22}{'rfmkit (s)':>12}{'lifetimes (s)':>15}{'speed-up':>10}")
    for step in ("BG/NBD fit", "MBG/NBD fit", "Pareto/NBD fit", "BG/BB fit", "Gamma-Gamma fit", "12-month CLV"):
        ours = statistics.median(times[f"rfmkit {step}"])
        theirs = statistics.median(times[f"lifetimes {step}"])
        print(f"{step:<22}{ours:>12.4f}{theirs:>15.4f}{theirs / ours:>9.1f}x")
    theirs_ll = -lifetimes.BetaGeoFitter._negative_log_likelihood(
        np.log(theirs_bg.params_.values), f.values, r.values, t_age.values, np.ones(len(f)), 0.0
    ) * len(f)
    print(f"BG/NBD log-likelihood: rfmkit {ours_bg.log_likelihood_:.6f}, lifetimes {theirs_ll:.6f}")
    print(f"MBG/NBD objective: rfmkit {ours_mbg.objective_:.9f}, lifetimes {theirs_mbg._negative_log_likelihood_:.9f}")
    print(
        f"Pareto/NBD objective: rfmkit {ours_pnbd.objective_:.9f}, lifetimes {theirs_pnbd._negative_log_likelihood_:.9f}"
    )
    print(f"BG/BB objective: rfmkit {ours_bb.objective_:.9f}, lifetimes {theirs_bb._negative_log_likelihood_:.9f}")
    print(
        f"Gamma-Gamma objective: rfmkit {ours_gg.objective_:.9f}, lifetimes {theirs_gg._negative_log_likelihood_:.9f}"
    )
    clv_gap = np.max(np.abs(np.asarray(ours_clv) / np.asarray(theirs_clv) - 1))
    print(f"largest relative CLV difference: {clv_gap:.2e}")


if __name__ == "__main__":
    main()
