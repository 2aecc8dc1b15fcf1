"""The command line end to end: CSV and Parquet in a temp dir, and its error paths."""

import subprocess
import sys

import pandas as pd
import polars as pl
import pytest

import rfmkit
from frames import CLI_COLUMNS
from rfmkit.cli import main

ARGS = CLI_COLUMNS


@pytest.fixture
def sample(tmp_path):
    data = rfmkit.datasets.make_transactions(300, seed=3)
    csv = tmp_path / "orders.csv"
    # ids as an export writes them (pandas would write the float ids of a column with nulls as 10207.0)
    data.astype({"customer_id": "Int64"}).to_csv(csv, index=False)
    parquet = tmp_path / "orders.parquet"
    data.to_parquet(parquet)
    return data, csv, parquet


@pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")
def test_rfm_csv_to_parquet_matches_the_api(sample, tmp_path, capsys):
    data, csv, _ = sample
    out = tmp_path / "out" / "customers.parquet"
    out.parent.mkdir()
    assert main(["rfm", str(csv), str(out), *ARGS, "--order", "order_id", "--as-of", "2025-01-01"]) == 0
    written = pd.read_parquet(out)
    expected = rfmkit.rfm(
        data, customer="customer_id", date="ordered_at", amount="amount", order="order_id", as_of="2025-01-01"
    )
    # ids of a CSV are text exactly as written
    expected.index = expected.index.astype(str)
    pd.testing.assert_frame_equal(
        written[["recency", "frequency", "tenure"]],
        expected[["recency", "frequency", "tenure"]],
        check_index_type=False,
    )
    pd.testing.assert_series_equal(written["monetary"], expected["monetary"], rtol=1e-12, check_index_type=False)
    err = capsys.readouterr().err
    assert f"rfmkit: {len(expected):,} customers as of 2025-01-01" in err
    info = expected.attrs["rfmkit"]
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(f"rfmkit: rows read {info['rows_in']:,}, used {info['rows_used']:,}, dropped: ")
    )
    assert "2 missing_customer" in err


@pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")
def test_rfm_parquet_to_csv(sample, tmp_path):
    _, _, parquet = sample
    out = tmp_path / "customers.csv"
    assert main(["rfm", str(parquet), str(out), *ARGS, "--window", "365"]) == 0
    written = pd.read_csv(out, index_col="customer_id")
    assert {"recency", "frequency", "monetary", "tenure"} <= set(written.columns)
    assert (written["recency"] <= 365).all()


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["rfm", "{csv}", "{out}", "--customer", "cust", "--date", "ordered_at", "--amount", "amount"],
            "rfmkit: error: customer column 'cust' is not in orders.csv",
        ),
        (["rfm", "{missing}", "{out}", *ARGS], "rfmkit: error: input file"),
        (["rfm", "{csv}", "{tmp}/out.xlsx", *ARGS], "use a .csv or .parquet output file"),
        (["rfm", "{csv}", "{out}", *ARGS, "--as-of", "soon"], "as_of='soon' is not a date"),
        (
            ["rfm", "{csv}", "{out}", *ARGS, "--invalid", "raise"],
            "(0-based position): customer column 'customer_id' is null",
        ),
        (["rfm", "{csv}", "{out}", *ARGS, "--as-of", "01/07/2024"], "reads as 2024-01-07 or 2024-07-01"),
        (["analyze", "{csv}", "--out", "{tmp}/r", *ARGS, "--holdout-days", "soon"], "--holdout-days must be"),
        (["analyze", "{csv}", "--out", "{tmp}/r", *ARGS, "--cohorts", "h"], "--cohorts must be"),
    ],
)
def test_errors_are_one_line_and_exit_2(sample, tmp_path, capsys, argv, message):
    _, csv, _ = sample
    values = dict(csv=csv, out=tmp_path / "o.csv", missing=tmp_path / "nope.csv", tmp=tmp_path)
    code = main([part.format(**values) for part in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_an_output_folder_that_does_not_exist_is_not_created(sample, tmp_path, capsys):
    _, csv, _ = sample
    out = tmp_path / "typo" / "customers.csv"
    assert main(["rfm", str(csv), str(out), *ARGS]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err
    assert not out.parent.exists()


def test_demo_runs_as_a_console_script():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from rfmkit.cli import main; sys.exit(main())",
            "demo",
            "--customers",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "RFM table as of" in result.stdout
    assert "data quality:" in result.stdout
    assert "revenue share of the top 20%" in result.stdout


def test_rfm_parquet_reads_back_in_every_kind_with_its_accounting(tmp_path):
    """pandas gets the file back indexed by customer; pyarrow and polars with the customer
    id first; rfmkit.quality reads the accounting from any of them."""
    import pyarrow.parquet as pq

    orders = rfmkit.datasets.make_transactions(200, seed=4)
    csv, out = tmp_path / "orders.csv", tmp_path / "rfm.parquet"
    orders.to_csv(csv, index=False)
    assert main(["rfm", str(csv), str(out), *CLI_COLUMNS]) == 0
    frame, table, polars_frame = pd.read_parquet(out), pq.read_table(out), pl.read_parquet(out)
    assert frame.index.name == "customer_id" and frame.columns[0] == "recency"
    assert table.column_names[0] == polars_frame.columns[0] == "customer_id"
    assert rfmkit.quality(table)["rows_in"] == rfmkit.quality(frame)["rows_in"] == len(orders)


@pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")
def test_analyze_takes_the_report_options(sample, tmp_path):
    _, csv, _ = sample
    out = tmp_path / "report"
    argv = ["analyze", str(csv), "--out", str(out), *ARGS, "--order", "order_id", "--k", "3"]
    argv += ["--cohorts", "Q", "--holdout-days", "none", "--churn-after", "180", "--clv-horizon", "6", "--no-clv"]
    assert main(argv) == 0
    shares = pd.read_csv(out / "cohort_shares.csv", index_col=0)
    assert shares.index[0] == "2023Q1"
    kpis = pd.read_csv(out / "kpis.csv", index_col=0)["value"]
    expected = rfmkit.kpis(pd.read_csv(out / "customers.csv", index_col=0), churn_after=180)["churn_rate"]
    assert float(kpis["churn_rate"]) == pytest.approx(expected)
