"""`rfmkit.analyze`, the `Report`, the plots and `rfmkit analyze` end to end."""

import warnings

import matplotlib

matplotlib.use("Agg")

import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import rfmkit
from frames import CLI_COLUMNS
from rfmkit import plot
from rfmkit.cli import main

KEYS = dict(customer="customer_id", date="ordered_at", amount="amount", order="order_id")

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning", "ignore::rfmkit.plot.PlotFontWarning")


@pytest.fixture(scope="module")
def orders():
    return rfmkit.datasets.make_transactions(600, seed=11)


@pytest.fixture(scope="module")
def report(orders):
    return rfmkit.analyze(orders, **KEYS, k="auto", k_range=range(2, 6), progress=False)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_what_analyze_drops_is_warned_at_the_callers_line(orders):
    with pytest.warns(rfmkit.DataQualityWarning, match="dropped") as record:
        rfmkit.analyze(
            orders, customer="customer_id", date="ordered_at", amount="amount", k=None, clv=False, progress=False
        )
    assert [w.filename for w in record if w.category is rfmkit.DataQualityWarning] == [__file__]


def test_report_matches_the_steps_it_is_made_of(orders, report):
    table = rfmkit.rfm(orders, **KEYS)
    customers = report.customers
    # every RFM customer once, in the same order, with the same features
    pd.testing.assert_index_equal(customers.index, table.index)
    pd.testing.assert_frame_equal(customers[list(table.columns)], table, check_like=False)
    scored = rfmkit.segment(rfmkit.score(table), "rfm11")
    pd.testing.assert_series_equal(customers["segment"], scored["segment"])
    assert customers.attrs["rfmkit"]["rows_in"] == len(orders)
    # the cluster labels are those of KMeans with the suggested k and the same seed
    k = report.choose_k.attrs["rfmkit"]["suggested_k"]
    assert len(report.clusters) == k
    model = rfmkit.KMeans(k, random_state=0).fit(customers)
    np.testing.assert_array_equal(customers["cluster"].to_numpy(), model.labels_)
    assert int(report.clusters["customers"].sum()) == len(customers)
    # the comparison is over the same labels
    direct = rfmkit.compare(customers["segment"], customers["cluster"])
    assert report.comparison.scores() == pytest.approx(direct.scores(), rel=1e-12)
    # segment summary covers every customer and all revenue
    assert int(report.segments["customers"].sum()) == len(customers)
    assert report.segments["revenue"].sum() == pytest.approx(customers["monetary"].sum())
    # the accounting is carried over
    quality = report.quality["rows"]
    assert quality["rows_in"] == quality["rows_used"] + quality.drop(["rows_in", "rows_used"]).sum()


def test_clv_columns_come_from_the_fitted_models(orders, report):
    customers = report.customers
    assert {"p_alive", "expected_purchases", "clv", "tier"} <= set(customers.columns)
    bgf, ggf = report.clv_model["bgnbd"], report.clv_model["gamma_gamma"]
    end = report.clv_model["observation_period_end"]
    assert pd.Timestamp(end) == pd.Timestamp(customers.attrs["rfmkit"]["as_of"]) - pd.Timedelta(days=1)
    summary = rfmkit.clv.summary(
        orders, customer="customer_id", date="ordered_at", amount="amount", observation_period_end=end
    ).loc[customers.index]
    alive = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    np.testing.assert_allclose(customers["p_alive"].to_numpy(), np.asarray(alive), rtol=1e-12)
    value = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    np.testing.assert_allclose(customers["clv"].to_numpy(), np.asarray(value), rtol=1e-12)
    assert customers["p_alive"].between(0, 1).all()
    # tiers rank by CLV: every platinum customer is worth at least every lead customer
    tiers = customers.groupby("tier", observed=True)["clv"]
    assert tiers.min().iloc[0] >= tiers.max().iloc[-1]


def test_margin_scales_clv(orders, report):
    half = rfmkit.analyze(orders, **KEYS, k=None, margin=0.5, progress=False)
    np.testing.assert_allclose(half.customers["clv"], 0.5 * report.customers["clv"], rtol=1e-12)
    assert half.clusters is None and half.comparison is None and half.choose_k is None


def test_same_seed_same_report(orders, report):
    again = rfmkit.analyze(orders, **KEYS, k="auto", k_range=range(2, 6), progress=False)
    pd.testing.assert_frame_equal(again.customers, report.customers)


@pytest.mark.parametrize("kind", ["polars", "arrow"])
def test_polars_or_arrow_in_gives_their_tables_with_the_same_numbers(orders, report, kind):
    frame = pl.from_pandas(orders) if kind == "polars" else pa.Table.from_pandas(orders, preserve_index=False)
    got = rfmkit.analyze(frame, **KEYS, k="auto", k_range=range(2, 6), progress=False)
    assert got.kind == kind
    table_type = pl.DataFrame if kind == "polars" else pa.Table
    for name, table in got.tables().items():
        assert isinstance(table, table_type), name
        assert table.columns[0] if kind == "polars" else table.column_names[0]
    customers = got.customers.to_pandas().set_index("customer_id")
    assert customers.columns[0] == "recency"
    labels = {name: str for name in customers.columns if isinstance(report.customers[name].dtype, pd.CategoricalDtype)}
    # labels as text: a polars Enum has no "unordered" (pandas' rfm_code is unordered)
    pd.testing.assert_frame_equal(customers.astype(labels), report.customers.astype(labels), check_index_type=False)
    assert rfmkit.quality(got.customers) == rfmkit.quality(report.customers)
    for name in ("segments", "tiers", "clusters", "quality", "choose_k"):
        pd.testing.assert_frame_equal(
            got.pandas(name), getattr(report, name), check_index_type=False, check_categorical=False, obj=name
        )
    # the report's own figures, page and files read the pandas tables analyze made
    pd.testing.assert_frame_equal(got.pandas("customers"), report.customers, check_index_type=False)
    if kind == "arrow":  # (polars keeps float ids of a float column as floats: 10283.0)
        assert got.to_html() == report.to_html()
    if kind == "polars":  # labels come as the Enum of rfmkit.segment on polars
        assert got.customers.schema["segment"] == pl.Enum(list(report.customers["segment"].cat.categories))


def test_chinese_labels(orders):
    report = rfmkit.analyze(orders, **KEYS, scheme="classic8", k=3, clv=False, lang="zh", progress=False)
    assert set(report.customers["segment"].cat.categories) <= set(rfmkit._segments.labels("classic8", "zh"))
    assert report.customers["cluster_name"].str.contains("客户").all()
    assert "tier" in report.customers and "clv" not in report.customers


def test_too_few_customers_for_clv_is_a_note_not_an_error():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "ordered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount", k=None, progress=False)
    assert "clv" not in report.customers.columns
    assert any("CLV skipped" in note for note in report.notes)
    assert list(report.customers.index) == [1, 2]


def test_bad_arguments_are_clear_errors(orders):
    with pytest.raises(rfmkit.ColumnNotFoundError, match="'customer_id'"):
        rfmkit.analyze(orders, customer="customer", date="ordered_at", amount="amount", progress=False)
    with pytest.raises(rfmkit.InvalidParameterError, match="k must be"):
        rfmkit.analyze(orders, **KEYS, k=-2, progress=False)
    with pytest.raises(rfmkit.InvalidParameterError, match="lang"):
        rfmkit.analyze(orders, **KEYS, lang="fr", progress=False)


def test_input_is_not_mutated(orders):
    before = orders.copy(deep=True)
    rfmkit.analyze(orders, **KEYS, k=2, progress=False)
    pd.testing.assert_frame_equal(orders, before)


def test_html_repr_and_files(report, tmp_path):
    page = report._repr_html_()
    assert page.count("<svg") == 1  # one chart, inline
    assert f"{len(report.customers):,}" in page
    for label in report.segments.index[report.segments["customers"] > 0]:
        assert str(label) in page
    written = report.to_csv(tmp_path / "csv")
    assert {p.name for p in written} >= {"customers.csv", "segments.csv", "clusters.csv", "crosstab.csv"}
    back = pd.read_csv(tmp_path / "csv" / "customers.csv", index_col=0)
    np.testing.assert_allclose(back["monetary"], report.customers["monetary"])
    report.to_parquet(tmp_path / "pq")
    back = pd.read_parquet(tmp_path / "pq" / "customers.parquet")
    assert list(back["segment"].astype(str)) == list(report.customers["segment"].astype(str))
    assert report.to_html(tmp_path / "report.html") == tmp_path / "report.html"
    html = report.to_html()
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("writer", ["rustpy-xlsxwriter", "openpyxl"])
def test_excel_workbook_has_every_table(report, tmp_path, monkeypatch, writer):
    if writer == "openpyxl":  # the fallback when the fast writer is not installed
        monkeypatch.setitem(sys.modules, "rustpy_xlsxwriter", None)
    path = report.to_excel(tmp_path / "report.xlsx")
    sheets = pd.read_excel(path, sheet_name=None, index_col=0)
    assert set(sheets) == set(report.tables())
    customers = sheets["customers"]
    assert len(customers) == len(report.customers)
    assert list(customers.index) == list(report.customers.index)
    np.testing.assert_allclose(customers["monetary"], report.customers["monetary"])
    assert list(customers["segment"]) == list(report.customers["segment"].astype(str))
    assert list(sheets["segments"]["action"]) == list(report.segments["action"])
    # a folder gets report.xlsx in it; another suffix is refused
    assert report.to_excel(f"{tmp_path}/folder/") == tmp_path / "folder" / "report.xlsx"
    assert report.to_excel(tmp_path / "folder") == tmp_path / "folder" / "report.xlsx"
    for other in (tmp_path / "report.csv", tmp_path / "out"):
        with pytest.raises(rfmkit.InvalidParameterError, match="name a .xlsx file, or a folder"):
            report.to_excel(other)


def test_excel_without_a_writer_says_what_to_install(report, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rustpy_xlsxwriter", None)
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(ImportError, match=r"pip install 'rfmkit\[excel\]'"):
        report.to_excel(tmp_path / "report.xlsx")


def test_excel_takes_time_zone_aware_dates(tmp_path):
    orders = rfmkit.datasets.make_transactions(200, seed=4)
    orders["ordered_at"] = orders["ordered_at"].dt.tz_localize("Asia/Shanghai")
    with pytest.warns(rfmkit.DataQualityWarning):
        report = rfmkit.analyze(
            orders, customer="customer_id", date="ordered_at", amount="amount", k=None, clv=False, progress=False
        )
    sheets = pd.read_excel(report.to_excel(tmp_path / "report.xlsx"), sheet_name=None, index_col=0)
    first = report.customers["first_purchase"].dt.tz_localize(None)
    assert list(sheets["customers"]["first_purchase"]) == list(first)


def test_the_notebook_view_stays_compact(report):
    """In Jupyter the report shows its headline, key tables and one chart, not the page."""
    view = report._repr_html_()
    assert len(view) < 100_000
    assert view.count("<svg") == 1
    assert report.to_html().count("<svg") >= 5  # the page has every chart


def test_dashboard_has_a_panel_per_table(report):
    open_before = plt.get_fignums()
    figure = report.plot()
    # not registered with pyplot: a notebook shows it once (the cell's value), none is left open
    assert plt.get_fignums() == open_before
    visible = [ax for ax in figure.axes if ax.get_visible() and ax.get_title()]
    titles = {ax.get_title() for ax in visible}
    assert {
        "Segments: share of customers and of revenue",
        "Choosing k",
        "Cluster centres",
        "Segments × clusters",
        "CLV distribution",
    } <= titles


# --------------------------------------------------------------------------- plot functions


def test_each_plot_returns_its_axes(report):
    migration = rfmkit.migration(
        rfmkit.datasets.make_transactions(300, seed=4),
        customer="customer_id",
        date="ordered_at",
        amount="amount",
        as_of=("2024-06-01", "2025-01-01"),
    )
    calls = [
        lambda ax: plot.segments(report.segments, ax=ax),
        lambda ax: plot.rf_heatmap(report.customers, ax=ax),
        lambda ax: plot.cluster_centers(report.clusters[["recency_mean", "frequency_mean", "monetary_mean"]], ax=ax),
        lambda ax: plot.choose_k(report.choose_k, ax=ax),
        lambda ax: plot.clv_distribution(report.customers, ax=ax),
        lambda ax: plot.crosstab(report.comparison, ax=ax),
        lambda ax: plot.migration(migration, ax=ax),
    ]
    for call in calls:
        _, ax = plt.subplots()
        assert call(ax) is ax
        assert ax.has_data() or ax.images


def test_rf_heatmap_cells_are_the_group_means(report):
    ax = plot.rf_heatmap(report.customers)
    image = ax.images[0].get_array()
    expected = report.customers.pivot_table(index="r_score", columns="f_score", values="monetary", aggfunc="mean")
    expected = expected.sort_index(ascending=False)
    np.testing.assert_allclose(np.ma.filled(image, np.nan), expected.to_numpy(), equal_nan=True)


def test_crosstab_plot_shows_cluster_composition(report):
    ax = plot.crosstab(report.comparison)
    shares = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_allclose(np.nansum(shares, axis=0), 1.0)


def test_plot_errors_name_what_is_missing(report):
    with pytest.raises(rfmkit.InvalidParameterError, match="r_score"):
        plot.rf_heatmap(report.customers[["monetary"]])
    with pytest.raises(rfmkit.InvalidParameterError, match="normalize"):
        plot.crosstab(report.comparison, normalize="rows")


def test_chinese_labels_fall_back_to_english_without_a_cjk_font(monkeypatch):
    summary = pd.DataFrame(
        {"customer_share": [0.3, 0.7], "revenue_share": [0.8, 0.2]},
        index=pd.Index(["重要价值客户", "一般挽留客户"], name="segment"),
    )
    monkeypatch.setattr(plot, "cjk_font", lambda: None)
    with pytest.warns(plot.PlotFontWarning, match="English"):
        ax = plot.segments(summary)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == rfmkit._segments.labels("classic8", "en")[0:1] + rfmkit._segments.labels("classic8", "en")[7:8]


def test_chinese_labels_kept_with_a_cjk_font(monkeypatch):
    summary = pd.DataFrame(
        {"customer_share": [1.0], "revenue_share": [1.0]}, index=pd.Index(["重要价值客户"], name="segment")
    )
    monkeypatch.setattr(plot, "cjk_font", lambda: "DejaVu Sans")
    with warnings.catch_warnings():
        warnings.simplefilter("error", plot.PlotFontWarning)
        ax = plot.segments(summary)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["重要价值客户"]


# --------------------------------------------------------------------------- the command line


def test_cli_analyze_writes_the_report(orders, tmp_path, capsys):
    csv = tmp_path / "orders.csv"
    orders.to_csv(csv, index=False)
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            str(csv),
            "--out",
            str(out),
            *CLI_COLUMNS,
            "--order",
            "order_id",
            "--k",
            "3",
        ]
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "customers.parquet",
        "customers.csv",
        "segments.csv",
        "clusters.parquet",
        "dashboard.png",
        "report.html",
    } <= names
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == len(rfmkit.rfm(orders, **KEYS))
    assert customers["cluster"].nunique() == 3
    assert "customers as of" in capsys.readouterr().err


def test_cli_analyze_parquet_in(orders, tmp_path):
    parquet = tmp_path / "orders.parquet"
    orders.to_parquet(parquet)
    code = main(
        [
            "analyze",
            str(parquet),
            "--out",
            str(tmp_path / "o"),
            *CLI_COLUMNS,
            "--k",
            "none",
            "--no-clv",
            "--lang",
            "zh",
        ]
    )
    assert code == 0
    segments = pd.read_csv(tmp_path / "o" / "segments.csv")
    assert segments["segment"].str.contains("[\u4e00-\u9fff]").any()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--customer", "cust"], "customer column 'cust' is not in orders.csv"),
        (["--k", "many"], "--k must be"),
    ],
)
def test_cli_analyze_errors_are_one_line_and_exit_2(orders, tmp_path, capsys, args, message):
    csv = tmp_path / "orders.csv"
    orders.head(200).to_csv(csv, index=False)
    base = {"--customer": "customer_id", "--date": "ordered_at", "--amount": "amount"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = ["analyze", str(csv), "--out", str(tmp_path / "x")] + [x for kv in base.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rfmkit: error:") and message in err[0]
    assert not (tmp_path / "x" / "customers.csv").exists()


@pytest.mark.parametrize(
    "orders, reason",
    [
        # every customer bought once: frequency is constant and cannot be standardised
        (
            pd.DataFrame(
                {
                    "customer_id": range(30),
                    "ordered_at": pd.date_range("2024-01-01", periods=30),
                    "amount": np.linspace(5.0, 80.0, 30),
                }
            ),
            "'frequency' is constant",
        ),
        # one customer only
        (
            pd.DataFrame(
                {
                    "customer_id": [1, 1],
                    "ordered_at": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                    "amount": [5.0, 8.0],
                }
            ),
            "below the 1 customers",
        ),
    ],
)
def test_data_that_cannot_be_clustered_still_gets_a_report(orders, reason):
    report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount", progress=False)
    assert report.clusters is None and report.comparison is None
    assert any(note.startswith("clusters skipped") and reason in note for note in report.notes)
    assert len(report.customers) == orders["customer_id"].nunique()
    assert "segment" in report.customers and "tier" in report.customers
    assert "clusters skipped" in report._repr_html_()
