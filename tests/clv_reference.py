"""Pure numpy/pandas references of the CLV definitions: the oracles of the CLV tests.

- `historical` and `simple` as the README and docstrings state them, row by row;
- a BG/NBD simulator in continuous time (no bucketing) for parameter recovery;
- a Gamma-Gamma spend simulator;
- `value` / `cash_flows` (current + potential value on profit) from their definition,
  customer by customer and period by period, with the period lengths written out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 30.0}

#: One period of `value` in the purchase model's time unit, as the README states them: a
#: week is 7 days, a quarter 3 months, a year 12; a month is 30 days, 4.345 weeks, 720 hours.
PERIOD_IN_UNIT = {
    ("h", "h"): 1.0,
    ("D", "h"): 24.0,
    ("M", "h"): 720.0,
    ("D", "D"): 1.0,
    ("W", "D"): 7.0,
    ("M", "D"): 30.0,
    ("Q", "D"): 90.0,
    ("Y", "D"): 360.0,
    ("W", "W"): 1.0,
    ("M", "W"): 4.345,
    ("Q", "W"): 3 * 4.345,
    ("Y", "W"): 12 * 4.345,
    ("M", "M"): 1.0,
    ("Q", "M"): 3.0,
    ("Y", "M"): 12.0,
    ("Y", "Q"): 4.0,
}


def reference_historical(table: pd.DataFrame, margin: float) -> pd.Series:
    return pd.Series({cid: margin * row["monetary"] for cid, row in table.iterrows()}, dtype=float)


def reference_simple(
    table: pd.DataFrame, *, margin: float, discount_rate: float, horizon: int, period: str, retention: float | None
) -> tuple[pd.Series, float]:
    days = PERIOD_DAYS[period]
    if retention is None:
        eligible = [row for _, row in table.iterrows() if row["tenure"] > days]
        retention = sum(1 for row in eligible if row["recency"] <= days) / len(eligible)
    curve = 0.0
    for k in range(1, horizon + 1):
        curve += retention**k / (1 + discount_rate) ** k
    values = {}
    for cid, row in table.iterrows():
        periods = max(row["tenure"] / days, 1.0)
        values[cid] = margin * row["avg_order_value"] * (row["frequency"] / periods) * curve
    return pd.Series(values, dtype=float), retention


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, *, seed: int, max_age: float = 52.0
) -> pd.DataFrame:
    """Continuous-time BG/NBD histories: ``frequency``, ``recency``, ``T`` per customer.

    Each customer starts at time 0 with a purchase and is observed for T ~ U(max_age/4,
    max_age); purchases arrive at rate λ ~ Gamma(r, scale 1/alpha); after each repeat
    purchase the customer drops out with probability p ~ Beta(a, b).
    """
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, size=n)
    drops = rng.beta(a, b, size=n)
    ages = rng.uniform(max_age / 4, max_age, size=n)
    frequency = np.zeros(n)
    recency = np.zeros(n)
    for i in range(n):
        now, x = 0.0, 0
        while True:
            now += rng.exponential(1.0 / rates[i])
            if now > ages[i]:
                break
            x += 1
            recency[i] = now
            if rng.random() < drops[i]:
                break
        frequency[i] = x
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": ages})


def simulate_spend(frequency: np.ndarray, p: float, q: float, v: float, *, seed: int) -> np.ndarray:
    """Mean of `frequency` Gamma(p, ν) spends with ν ~ Gamma(q, v) per customer (0 without any)."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / v, size=len(frequency))
    out = np.zeros(len(frequency))
    for i, x in enumerate(frequency.astype(int)):
        if x > 0:
            out[i] = rng.gamma(p, 1.0 / nu[i], size=x).mean()
    return out


def reference_conditional_expected(params, t: float, x: float, recency: float, age: float) -> float:
    """E[repeat purchases in (T, T+t]] by numerical integration over the drop-out
    probability: P(alive) · E_p[(1 − ((alpha+T)/(alpha+T+p t))^(r+x)) / p] with
    p ~ Beta(a, b+x). Valid for every a > 0 (lifetimes' closed form gives NaN for a < 1)."""
    from scipy import integrate, special

    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    w = t / (alpha + age)
    s = r + x

    def smooth(p: float) -> float:
        # (1 − (1 + p w)^−s) / p, bounded on [0, 1] (s w at 0).
        return s * w if p == 0.0 else float(-np.expm1(-s * np.log1p(p * w)) / p)

    # The Beta(a, b+x) density's endpoint singularities p^(a−1) (1−p)^(b+x−1) are the
    # algebraic weight of QUADPACK's QAWS: exact for every a, b > 0, however small.
    value, _ = integrate.quad(
        smooth, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b + x - 1.0), epsabs=0, epsrel=1e-12, limit=200
    )
    value /= np.exp(special.betaln(a, b + x))
    if x > 0:
        value /= 1 + a / (b + x - 1) * ((alpha + age) / (alpha + recency)) ** (r + x)
    return float(value)


def reference_expected_if_alive_mp(params, t: float, x: float, age: float, dps: int = 40) -> float:
    """E[repeat purchases in (T, T+t] | alive] to ~dps digits with mpmath (a test-only
    oracle): E_p[(1 − (1 + p w)^−(r+x)) / p], w = t/(alpha+T), p ~ Beta(a, b+x), integrated
    by tanh-sinh in the logit of p, split around the mode of the density (whose width may
    be tiny in degenerate fits) and where p (r+x) w and p w are 1."""
    import mpmath as mp

    with mp.workdps(dps):
        r, alpha, a, b = (mp.mpf(float(params[k])) for k in ("r", "alpha", "a", "b"))
        x, t, age = mp.mpf(x), mp.mpf(t), mp.mpf(age)
        s, beta, w = r + x, b + x, t / (alpha + age)
        ln_beta = mp.loggamma(a) + mp.loggamma(beta) - mp.loggamma(a + beta)

        def integrand(y):
            # p^a (1 − p)^beta h(p) / B(a, beta) dy, p = expit(y).
            ln_p, ln_q = -mp.log1p(mp.exp(-y)), -mp.log1p(mp.exp(y))
            p = mp.exp(ln_p)
            h = -mp.expm1(-s * mp.log1p(p * w)) / p
            return mp.exp(a * ln_p + beta * ln_q - ln_beta) * h

        mode, width = mp.log(a / beta), mp.sqrt(1 / a + 1 / beta)
        points = {mode, -mp.log(s * w), -mp.log(w)}
        for k in range(-2, 9):
            points.update({mode + width * 2**k, mode - width * 2**k})
        points = sorted(points)
        return float(mp.quad(integrand, [-mp.inf, *points, mp.inf], maxdegree=10))


def reference_cash_flows(
    model,
    spend,
    summary: pd.DataFrame,
    *,
    margin,
    period: str,
    unit: str,
    horizon: int,
    discount_rate: float,
    cost_per_order: float = 0.0,
    cost_per_customer: float = 0.0,
    multiplier: float = 1.0,
) -> pd.DataFrame:
    """Every customer's terms of every period, one scalar prediction at a time:
    ``orders_k = C(k·L) − C((k−1)·L)``, ``profit_k = m·s·orders_k − c_o·orders_k − c_c``,
    discounted by ``(1 + d)^k``. `spend` and `margin` are a number or one per row."""
    length = PERIOD_IN_UNIT[(period, unit)] / multiplier
    spends = np.broadcast_to(np.asarray(spend, dtype=float), (len(summary),))
    margins = np.broadcast_to(np.asarray(margin, dtype=float), (len(summary),))
    records = []
    for i, (customer, row) in enumerate(summary.iterrows()):
        previous = 0.0
        for k in range(1, horizon + 1):
            cumulative = float(
                model.conditional_expected_number_of_purchases_up_to_time(
                    k * length, row["frequency"], row["recency"], row["T"]
                )
            )
            orders, previous = cumulative - previous, cumulative
            revenue = spends[i] * orders
            cost = cost_per_order * orders + cost_per_customer
            profit = margins[i] * revenue - cost
            records.append((customer, k, orders, revenue, cost, profit, profit / (1 + discount_rate) ** k))
    columns = ["customer", "period", "expected_orders", "expected_revenue", "expected_cost", "expected_profit"]
    return pd.DataFrame.from_records(records, columns=[*columns, "discounted_profit"]).set_index(["customer", "period"])


def reference_value(model, spend, summary: pd.DataFrame, revenue, *, margin, **options) -> pd.DataFrame:
    """current_value = m · revenue to date; potential_value = the sum of the discounted
    profits of `reference_cash_flows`; total_value = their sum."""
    flows = reference_cash_flows(model, spend, summary, margin=margin, **options)
    potential = flows["discounted_profit"].groupby(level="customer", sort=False).sum()
    current = np.broadcast_to(np.asarray(margin, dtype=float), (len(summary),)) * np.asarray(revenue, dtype=float)
    out = pd.DataFrame({"current_value": current, "potential_value": potential.to_numpy()}, index=summary.index)
    out["total_value"] = out["current_value"] + out["potential_value"]
    return out
