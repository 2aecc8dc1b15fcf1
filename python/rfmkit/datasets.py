"""Sample data: a deterministic transaction export drawn from the models rfmkit fits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfmkit.exceptions import InvalidParameterError


def make_transactions(
    n_customers: int = 2_000,
    *,
    seed: int = 0,
    start: str = "2023-01-01",
    days: int = 730,
    r: float = 0.6,
    alpha: float = 40.0,
    a: float = 0.8,
    b: float = 4.0,
    spend_p: float = 6.0,
    spend_q: float = 4.0,
    spend_v: float = 15.0,
    return_rate: float = 0.03,
    gift_rate: float = 0.01,
    invalid_rows: int = 5,
) -> pd.DataFrame:
    """A transaction export with order lines, returns, gifts and a few invalid rows.

    Customers are born uniformly over the first 80 % of the period and buy by the BG/NBD
    process (Fader, Hardie & Lee 2005): purchase rate ``lambda ~ Gamma(r, 1/alpha)`` per
    day, and after each purchase the customer drops out with probability
    ``p ~ Beta(a, b)``. Order values follow Gamma-Gamma (Fader & Hardie 2013): per
    customer ``nu ~ Gamma(spend_q, 1/spend_v)``, per order ``z ~ Gamma(spend_p, 1/nu)``.
    Each order is split into 1-4 lines; a share of orders gets a later return line
    (negative amount), a share gets a free gift line (amount 0), and `invalid_rows`
    rows get a null customer, date or amount.

    Parameters
    ----------
    n_customers : int
    seed : int
        The same seed gives the same frame, on every platform.
    start : str
        First day of the period.
    days : int
        Length of the period in days.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (float64 when `invalid_rows` nulls some ids, else int64),
        ``order_id`` (str), ``ordered_at`` (datetime64[us]), ``amount`` (float64),
        sorted by time.

    Examples
    --------
    >>> from rfmkit.datasets import make_transactions
    >>> sample = make_transactions(100, seed=1)
    >>> list(sample.columns)
    ['customer_id', 'order_id', 'ordered_at', 'amount']
    >>> sample.equals(make_transactions(100, seed=1))
    True
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 0:
        raise InvalidParameterError(f"n_customers must be a non-negative integer, got {n_customers!r}")
    if not isinstance(days, (int, np.integer)) or days < 1:
        raise InvalidParameterError(f"days must be a positive integer, got {days!r}")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    nu = rng.gamma(spend_q, 1.0 / spend_v, size=n)
    birth = rng.uniform(0, 0.8 * days, size=n)

    customers: list[np.ndarray] = []
    times: list[np.ndarray] = []
    active = np.arange(n)
    now = birth.copy()
    while active.size:
        customers.append(active)
        times.append(now[active])
        alive = rng.uniform(size=active.size) >= dropout[active]
        active = active[alive]
        now[active] += rng.exponential(1.0 / rate[active])
        active = active[now[active] < days]
    customer = np.concatenate(customers) if customers else np.zeros(0, np.int64)
    time = np.concatenate(times) if times else np.zeros(0)
    value = rng.gamma(spend_p, 1.0 / nu[customer])
    n_orders = customer.size

    # Split each order into 1..4 lines whose amounts add up to the order value.
    lines = rng.integers(1, 5, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), lines)
    shares = rng.dirichlet(np.ones(4), size=n_orders)
    line_index = np.arange(line_order.size) - np.repeat(np.cumsum(lines) - lines, lines)
    share = shares[line_order, line_index]
    share = share / np.bincount(line_order, weights=share, minlength=n_orders)[line_order]
    line_amount = np.round(value[line_order] * share, 2)
    line_time = time[line_order]

    # Free gifts: an extra zero-amount line in the same order.
    gift = np.nonzero(rng.uniform(size=n_orders) < gift_rate)[0]
    # Returns: part of an order comes back a few days later.
    returned = np.nonzero(rng.uniform(size=n_orders) < return_rate)[0]
    return_time = np.minimum(time[returned] + rng.uniform(1, 20, size=returned.size), days - 1e-3)
    return_amount = -np.round(value[returned] * rng.uniform(0.2, 1.0, size=returned.size), 2)

    order_of_row = np.concatenate([line_order, gift, returned])
    frame = pd.DataFrame(
        {
            "customer_id": (customer[order_of_row] + 10_001).astype(np.int64),
            "order_id": np.char.add("SO", (order_of_row + 100_001).astype(str)),
            "days": np.concatenate([line_time, time[gift], return_time]),
            "amount": np.concatenate([line_amount, np.zeros(gift.size), return_amount]),
        }
    )
    # Order times to the second, within the period.
    seconds = np.floor(frame["days"].to_numpy() * 86_400).astype(np.int64)
    frame["ordered_at"] = pd.Timestamp(start).as_unit("us") + pd.to_timedelta(seconds, unit="s")
    frame = frame.sort_values(["ordered_at", "order_id"], kind="stable").reset_index(drop=True)
    frame = frame[["customer_id", "order_id", "ordered_at", "amount"]]

    if invalid_rows and len(frame):
        rows = rng.choice(len(frame), size=min(invalid_rows, len(frame)), replace=False)
        frame["customer_id"] = frame["customer_id"].astype(np.float64)
        for k, row in enumerate(rows):
            column = ("customer_id", "ordered_at", "amount")[k % 3]
            frame.loc[row, column] = pd.NaT if column == "ordered_at" else np.nan
    frame["order_id"] = frame["order_id"].astype(str)
    return frame


#: Published fits of the CDNOW sample (2,357 customers, weeks), as lifetimes reproduces them.
_CDNOW = {
    "bgnbd": pd.Series([0.242593, 4.413532, 0.792886, 2.425752], index=["r", "alpha", "a", "b"]),
    "gamma_gamma": pd.Series([6.248802, 3.744588, 15.447748], index=["p", "q", "v"]),
    "pareto": pd.Series([0.553276, 10.577612, 0.606214, 11.667911], index=["r", "alpha", "s", "beta"]),
}


def cdnow_params(model: str) -> pd.Series:
    """The parameters fitted on the CDNOW sample in weeks: ``"bgnbd"`` (Fader, Hardie &
    Lee 2005), ``"pareto"`` (Pareto/NBD: Fader, Hardie & Lee 2005 publish 0.55, 10.58,
    0.61, 11.67) or ``"gamma_gamma"`` (Fader & Hardie 2013), as rfmkit fits them; for
    examples and checks of the fitters.

    Examples
    --------
    >>> import rfmkit
    >>> rfmkit.datasets.cdnow_params("bgnbd").round(2).to_dict()
    {'r': 0.24, 'alpha': 4.41, 'a': 0.79, 'b': 2.43}
    >>> rfmkit.datasets.cdnow_params("gamma_gamma").round(2).to_dict()
    {'p': 6.25, 'q': 3.74, 'v': 15.45}
    >>> rfmkit.datasets.cdnow_params("pareto").round(2).to_dict()
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    """
    if model not in _CDNOW:
        raise InvalidParameterError(f"model={model!r} is not one of 'bgnbd', 'pareto', 'gamma_gamma'")
    return _CDNOW[model].copy()
