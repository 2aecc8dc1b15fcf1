"""`rfmkit.migration`: ``new`` is a first purchase ever on or after the earlier date, and
a customer outside the window only is ``inactive`` — checked by hand and against a pandas
oracle on CDNOW."""

from __future__ import annotations

import pandas as pd
import pytest

import cdnow
import rfmkit

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")

ORDERS = pd.DataFrame(
    {
        "customer_id": ["old_back", "old_back", "fresh", "gone", "steady", "steady"],
        "ordered_at": pd.to_datetime(
            ["2023-06-01", "2024-03-10", "2024-02-01", "2023-02-01", "2023-12-15", "2024-03-01"]
        ),
        "amount": [50.0, 20.0, 30.0, 80.0, 40.0, 60.0],
    }
)
NAMES = dict(customer="customer_id", date="ordered_at", amount="amount")
DATES = ("2024-01-01", "2024-04-01")


def test_a_customer_who_bought_in_2023_is_not_new_in_2024_with_a_window():
    moves = rfmkit.migration(ORDERS, **NAMES, as_of=DATES, window=90, scheme="value4")
    states = moves.customers
    # Earlier window: [2023-10-03, 2024-01-01); later window: [2024-01-02, 2024-04-01).
    assert states.loc["old_back", "earlier"] == "inactive"  # bought 2023-06, back in March 2024
    assert states.loc["fresh", "earlier"] == "new"  # first purchase ever in February 2024
    assert states.loc["gone", "earlier"] == "inactive" and states.loc["gone", "later"] == "inactive"
    assert states.loc["steady", "earlier"] not in ("new", "inactive")
    assert states.loc["old_back", "later"] not in ("new", "inactive")
    assert list(moves.counts.index)[-2:] == ["inactive", "new"]
    assert list(moves.counts.columns)[-1] == "inactive"
    assert moves.counts.loc["inactive"].sum() == 2 and moves.counts.loc["new"].sum() == 1
    assert moves.counts.loc["inactive", "inactive"] == 1
    assert moves.counts.to_numpy().sum() == 4
    assert set(moves.quality) == {"earlier", "later", "history"}


def test_without_a_window_old_customers_keep_their_segment():
    moves = rfmkit.migration(ORDERS, **NAMES, as_of=DATES, scheme="value4")
    states = moves.customers
    assert states.loc["fresh", "earlier"] == "new"
    for customer in ("old_back", "gone", "steady"):
        assert states.loc[customer, "earlier"] not in ("new", "inactive")
        assert states.loc[customer, "later"] != "inactive"
    assert moves.counts.loc["inactive"].sum() == 0 and moves.counts["inactive"].sum() == 0


def test_chinese_labels():
    moves = rfmkit.migration(ORDERS, **NAMES, as_of=DATES, window=90, scheme="value4", lang="zh")
    states = moves.customers
    assert states.loc["old_back", "earlier"] == "不活跃(窗口外)"
    assert states.loc["fresh", "earlier"] == "新客户(期初无)"
    assert states.loc["gone", "later"] == "不活跃(窗口外)"
    assert list(moves.counts.index)[-2:] == ["不活跃(窗口外)", "新客户(期初无)"]
    assert list(moves.counts.columns)[-1] == "不活跃(窗口外)"


def test_cdnow_master_against_a_pandas_oracle():
    master = cdnow.master()
    earlier, later = pd.Timestamp("1997-10-01"), pd.Timestamp("1998-01-01")
    window = pd.Timedelta(days=90)
    moves = rfmkit.migration(
        master,
        customer="customer_id",
        date="date",
        amount="dollar_value",
        as_of=(earlier, later),
        window=90,
        scheme="rfm11",
    )
    # A purchase as rfm counts it by default: a positive amount (zero rows dropped; no returns here).
    purchases = master[master["dollar_value"] > 0]
    first = purchases.groupby("customer_id")["date"].min()

    def bought(start: pd.Timestamp | None, end: pd.Timestamp) -> set:
        rows = purchases[(purchases["date"] < end) & ((purchases["date"] >= start) if start is not None else True)]
        return set(rows["customer_id"])

    in_earlier_window = bought(earlier - window, earlier)
    in_later_window = bought(later - window, later)
    before_earlier, before_later = bought(None, earlier), bought(None, later)
    states = moves.customers
    assert set(states.index) == before_later
    new = set(states.index[states["earlier"] == "new"])
    inactive_earlier = set(states.index[states["earlier"] == "inactive"])
    inactive_later = set(states.index[states["later"] == "inactive"])
    assert all(first[c] >= earlier for c in new)
    assert new == {c for c in before_later if first[c] >= earlier}
    assert inactive_earlier == before_earlier - in_earlier_window
    assert all(c in before_earlier and c not in in_earlier_window for c in inactive_earlier)
    assert inactive_later == before_later - in_later_window
    in_segment_earlier = set(states.index) - new - inactive_earlier
    assert in_segment_earlier == in_earlier_window
    assert moves.counts.loc["new"].sum() == len(new) > 0
    assert moves.counts.loc["inactive"].sum() == len(inactive_earlier) > 0
    assert moves.counts["inactive"].sum() == len(inactive_later) > 0
    assert moves.counts.to_numpy().sum() == len(before_later)
