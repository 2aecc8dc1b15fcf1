"""Fits that say when they mean nothing (issue 15, item 7): on data whose likelihood has no
interior maximum (one to three repeat customers, one-time buyers only, equal spends, survivors
without a spread), every fitter raises `rfmkit.ConvergenceError` with the parameter that ran
off, why, the data's counts and what to do, where lifetimes raises its own ConvergenceError or
returns the limit; the penalty the message advises gives the fit it shows; `analyze` says so
in its notes and the command line prints no traceback."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import rfmkit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes.utils import ConvergenceError as LifetimesConvergenceError

C = rfmkit.clv

#: (frequency, recency, T) of few customers.
ONE_OF_FIVE = ([0, 0, 0, 0, 2], [0, 0, 0, 0, 20.0], [30, 25, 40, 10, 38.0])
TWO_OF_FIVE = ([0, 0, 0, 1, 2], [0, 0, 0, 5, 20.0], [30, 25, 40, 10, 38.0])
THREE_OF_SIX = ([0, 0, 0, 1, 2, 1], [0, 0, 0, 5, 20.0, 3], [30, 25, 40, 10, 38.0, 20])
ONE_TIME_ONLY = ([0] * 5, [0.0] * 5, [30, 25, 40, 10, 38.0])
REPEAT_CASES = {"1 of 5": (ONE_OF_FIVE, 1, 5), "2 of 5": (TWO_OF_FIVE, 2, 5), "3 of 6": (THREE_OF_SIX, 3, 6)}


def fit_lifetimes(model, *columns):
    """lifetimes' fit: its parameters, or the string "ConvergenceError"."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # it prints scipy's result
        warnings.simplefilter("ignore")
        try:
            return model().fit(*(pd.Series(c, dtype=float) for c in columns)).params_
        except LifetimesConvergenceError:
            return "ConvergenceError"


def message(fitter, *args, **kwargs) -> str:
    with pytest.raises(rfmkit.ConvergenceError) as raised:
        fitter.fit(*args, **kwargs)
    return str(raised.value)


# --------------------------------------------------------------------------- BG/NBD, MBG/NBD


@pytest.mark.parametrize("model", [C.BetaGeoFitter, C.ModifiedBetaGeoFitter])
@pytest.mark.parametrize("case", list(REPEAT_CASES))
def test_one_to_three_repeat_customers_are_a_convergence_error_that_says_why(model, case):
    columns, repeat, customers = REPEAT_CASES[case]
    text = message(model(), *columns, freq="D")
    name = "BG/NBD" if model is C.BetaGeoFitter else "MBG/NBD"
    assert text.startswith(f"the {name} fit is a limit, not an estimate: ")
    assert re.search(r"\b(r|alpha|a|b) ran off towards (0|infinity), to \d\.\d\de-?\d+", text), text
    assert (
        f"Only {repeat} of {customers} customers made a repeat purchase: the data cannot tell the purchase rate "
        "from the drop-out." in text
    )
    assert f"Data: {customers} customers, {repeat} with a repeat purchase (frequency > 0), " in text
    assert "Fit on more customers (hundreds, with dozens who bought again)" in text
    # lifetimes raises on the same data, except MBG/NBD on one repeat customer, where it
    # returns the limit it ran off to.
    theirs = fit_lifetimes(getattr(lifetimes, model.__name__), *columns)
    if (model, case) == (C.ModifiedBetaGeoFitter, "1 of 5"):
        assert theirs["r"] > 1e5 and theirs["a"] < 1e-6, theirs
    else:
        assert theirs == "ConvergenceError"


@pytest.mark.parametrize("model", [C.BetaGeoFitter, C.ModifiedBetaGeoFitter])
def test_one_time_buyers_only_are_a_convergence_error(model):
    text = message(model(), *ONE_TIME_ONLY, freq="D")
    assert (
        "None of the 5 customers made a repeat purchase: nothing in the data tells how often customers buy again "
        "or when they drop out." in text
    )
    assert "Data: 5 customers, 0 with a repeat purchase" in text
    assert "value these customers by what they spent (rfmkit.clv.historical)" in text
    assert "A penalty does not help here: with penalizer_coef=0.01 too, " in text
    # lifetimes returns parameters; BG/NBD's a and b where it started them (e^0.1): they do
    # not enter a likelihood without repeat purchases.
    theirs = fit_lifetimes(getattr(lifetimes, model.__name__), *ONE_TIME_ONLY)
    assert isinstance(theirs, pd.Series)
    if model is C.BetaGeoFitter:
        np.testing.assert_allclose(theirs[["a", "b"]], np.exp(0.1), rtol=1e-6)


# --------------------------------------------------------------------------- Pareto/NBD


def test_pareto_nbd_on_one_time_buyers_or_few_repeat_customers_is_a_convergence_error():
    # One age for all keeps the hypergeometric series short (other degenerate inputs fit in
    # tens of seconds on this series).
    text = message(C.ParetoNBDFitter(), [0] * 5, [0.0] * 5, [40.0] * 5, freq="D")
    # flat, or rising as the rates run off: which one the optimiser meets first is rounding
    assert text.startswith(
        ("the Pareto/NBD fit is not an estimate: the likelihood is flat in ", "the Pareto/NBD fit is a limit")
    )
    assert "None of the 5 customers made a repeat purchase" in text
    assert "Data: 5 customers, 0 with a repeat purchase (frequency > 0), 1 distinct" in text
    # One of two: the optimiser runs off until the objective's precision stops it.
    text = message(C.ParetoNBDFitter(), [0, 3], [0, 10.0], [20, 20.0], freq="D")
    assert text.startswith(("the Pareto/NBD fit did not converge after ", "the Pareto/NBD fit is a limit"))
    assert "Only 1 of 2 customers made a repeat purchase" in text
    assert "penalizer_coef=0.01 gives a finite fit on this data (r = 2.2802, " in text
    # lifetimes (Nelder-Mead from a random start) returns what it ran off to: r ~ 1e3, 1e-13.
    assert fit_lifetimes(lifetimes.ParetoNBDFitter, [0, 3], [0, 10.0], [20, 20.0])["r"] > 100
    assert fit_lifetimes(lifetimes.ParetoNBDFitter, [0] * 5, [0.0] * 5, [40.0] * 5)["r"] < 1e-6


# --------------------------------------------------------------------------- Gamma-Gamma


def test_gamma_gamma_on_two_repeat_customers_of_equal_spend_is_a_convergence_error():
    text = message(C.GammaGammaFitter(), [2, 3, 0], [20.0, 20.0, 0.0])
    assert text.startswith("the Gamma-Gamma fit is a limit, not an estimate: ")
    assert "ran off towards infinity" in text
    assert "All 2 repeat customers have the same mean spend (20): there is no spread of spends to estimate." in text
    assert "Data: 2 repeat customers with a spend > 0 fitted (3 rows, 1 without a repeat purchase)" in text
    assert "use the mean spend (20.0000) instead of a spend model" in text
    assert fit_lifetimes(lifetimes.GammaGammaFitter, [2, 3], [20.0, 20.0]) == "ConvergenceError"


def test_gamma_gamma_spends_that_hardly_vary_within_customers_are_a_limit():
    """182 repeat customers of a generated export (analyze's default sample at 300
    customers): the profile likelihood of p rises to the end, lifetimes raises."""
    orders = rfmkit.datasets.make_transactions(300, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = C.summary(orders, customer="customer_id", date="ordered_at", amount="amount", freq="D")
    paid = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    text = message(C.GammaGammaFitter(), paid["frequency"], paid["monetary_value"])
    assert "p ran off towards infinity, to " in text
    assert "Each customer pays (nearly) the same amount at every purchase." in text
    assert "Data: 182 repeat customers" in text
    assert fit_lifetimes(lifetimes.GammaGammaFitter, paid["frequency"], paid["monetary_value"]) == "ConvergenceError"


# --------------------------------------------------------------------------- BG/BB, sBG


def test_bgbb_and_sbg_without_a_spread_are_convergence_errors():
    text = message(C.BetaGeoBetaBinomFitter(), [6, 6, 6], [6, 6, 6], [6, 6, 6])
    assert "All 3 customers bought at every opportunity" in text
    assert "Data: 3 customers, 3 with a purchase (frequency > 0), 1 distinct" in text
    # lifetimes returns what it ran off to (alpha ~ 4e3, beta ~ 4e-5).
    assert fit_lifetimes(lifetimes.BetaGeoBetaBinomFitter, [6, 6, 6], [6, 6, 6], [6, 6, 6])["alpha"] > 100
    text = message(C.BetaGeoBetaBinomFitter(), [0, 1, 3], [0, 2, 5], [6, 6, 6])
    assert "Only 2 of 3 customers made a purchase" in text
    text = message(C.ShiftedBetaGeoFitter(), [100, 50, 50, 50])
    assert "alpha ran off towards 0" in text and "The churn probabilities split between 0 and 1." in text
    assert "Data: 1 cohort(s), 100 customers, 50 who left, 50 still active at the end, up to 3 periods." in text
    text = message(C.ShiftedBetaGeoFitter(), [1000, 500, 250, 125, 62, 31])
    assert "The churn probabilities collapse to one value (every customer alike)." in text


# --------------------------------------------------------------------------- the advice


DEGENERATE = [
    ("BG/NBD 1 of 5", C.BetaGeoFitter, ONE_OF_FIVE, {"freq": "D"}),
    ("BG/NBD 3 of 6", C.BetaGeoFitter, THREE_OF_SIX, {"freq": "D"}),
    ("BG/NBD one-time", C.BetaGeoFitter, ONE_TIME_ONLY, {"freq": "D"}),
    ("MBG/NBD 3 of 6", C.ModifiedBetaGeoFitter, THREE_OF_SIX, {"freq": "D"}),
    ("Pareto/NBD 1 of 2", C.ParetoNBDFitter, ([0, 3], [0, 10.0], [20, 20.0]), {"freq": "D"}),
    ("Gamma-Gamma equal", C.GammaGammaFitter, ([2, 3], [20.0, 20.0]), {}),
    ("Gamma-Gamma four", C.GammaGammaFitter, ([1, 2, 4, 1], [20.0, 35.0, 28.5, 12.0]), {}),
    ("BG/BB every time", C.BetaGeoBetaBinomFitter, ([6, 6, 6], [6, 6, 6], [6, 6, 6]), {}),
    ("sBG halving", C.ShiftedBetaGeoFitter, ([1000, 500, 250, 125, 62, 31],), {}),
    ("sBG split", C.ShiftedBetaGeoFitter, ([100, 50, 50, 50],), {}),
]


@pytest.mark.parametrize("label, model, columns, options", DEGENERATE, ids=[d[0] for d in DEGENERATE])
def test_the_penalty_the_message_advises_gives_the_fit_it_shows(label, model, columns, options):
    """The penalty is tried before it is advised: where the message says it gives a finite
    fit, fitting with it gives those parameters; where it says it does not help, that fit
    raises too."""
    text = message(model(), *columns, **options)
    shown = re.search(r"penalizer_coef=0\.01 gives a finite fit on this data \(([^)]*)\)", text)
    if shown is None:
        assert "A penalty does not help here: with penalizer_coef=0.01 too, " in text, text
        with pytest.raises(rfmkit.ConvergenceError):
            model(penalizer_coef=0.01).fit(*columns, **options)
        return
    want = {name: float(value) for name, value in re.findall(r"(\w+) = (-?[\d.]+)", shown.group(1))}
    fitted = model(penalizer_coef=0.01).fit(*columns, **options)
    assert list(want) == list(fitted.params_.index)
    np.testing.assert_allclose(fitted.params_.to_numpy(), list(want.values()), atol=5e-5)


def test_a_penalised_fit_that_stays_finite_is_returned():
    model = C.BetaGeoFitter(penalizer_coef=0.01).fit(*THREE_OF_SIX, freq="D")
    assert np.isfinite(model.params_).all()
    assert np.isfinite(model.standard_errors_).all()


def test_ordinary_data_still_fit():
    orders = rfmkit.datasets.make_transactions(1000, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = C.summary(orders, customer="customer_id", date="ordered_at", amount="amount", freq="W")
    for model in (C.BetaGeoFitter, C.ModifiedBetaGeoFitter, C.ParetoNBDFitter):
        assert np.isfinite(model().fit(summary).params_).all()
    assert np.isfinite(C.GammaGammaFitter().fit(summary).params_).all()


# --------------------------------------------------------------------------- analyze and the CLI


def nearly_all_once(repeaters: int, n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A tiny export: `n` customers who bought once in 2024 at 19.90, `repeaters` of them
    once or twice more."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        first = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        rows.append((f"C{c:04d}", first, 19.9))
        for k in range(1 + c % 2 if c < repeaters else 0):
            rows.append((f"C{c:04d}", first + pd.Timedelta(days=int(rng.integers(5, 60)) * (k + 1)), 19.9))
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def analyze(data: pd.DataFrame) -> rfmkit.Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rfmkit.analyze(data, customer="customer", date="date", amount="amount", k=None, progress=False)


def test_analyze_says_in_its_notes_why_the_clv_models_gave_nothing():
    report = analyze(nearly_all_once(12))
    assert "clv" not in report.customers.columns
    (note,) = [n for n in report.notes if n.startswith("CLV skipped")]
    assert note.startswith(
        "CLV skipped, the value tiers use monetary instead: The BG/NBD fit is a limit, not an estimate: "
    )
    assert "Only 12 of 300 customers made a repeat purchase: the data cannot tell the purchase rate from the " in note
    assert "Data: 300 customers, 12 with a repeat purchase" in note
    assert "analyze fits without a penalty; where the message says one gives a finite fit" in note
    assert report.clv_model == {"skipped": note}
    # Fewer than 10 repeat customers: not even tried.
    report = analyze(nearly_all_once(3))
    assert (
        "CLV skipped: 3 repeat customers of 300 are too few to fit BG/NBD + Gamma-Gamma (need at least 10 of 20)"
        in report.notes
    )


def test_the_command_line_prints_the_note_and_no_traceback(tmp_path):
    path = tmp_path / "orders.csv"
    nearly_all_once(12).to_csv(path, index=False)
    columns = ["--customer", "customer", "--date", "date", "--amount", "amount"]
    run = subprocess.run(
        [sys.executable, "-m", "rfmkit.cli", "analyze", str(path), "--out", str(tmp_path / "out"), *columns],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "rfmkit: note: CLV skipped, the value tiers use monetary instead: The BG/NBD fit is a limit" in run.stderr
