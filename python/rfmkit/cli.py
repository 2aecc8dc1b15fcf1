"""The `rfmkit` command line for ETL jobs: `rfmkit analyze INPUT --out DIR ...` (the whole
report as files), `rfmkit rfm INPUT OUTPUT ...` (the RFM table) and `rfmkit demo`.

Exit codes: 0 success, 2 bad usage or bad data (one line on stderr), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Sequence

import pandas as pd

import rfmkit
from rfmkit.exceptions import DataQualityWarning, RfmkitError


class CliError(Exception):
    """A problem with the command's input, reported as one line."""


def _read(path: Path, date: str) -> pd.DataFrame:
    if not path.exists():
        raise CliError(f"input file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise CliError("reading Parquet needs pyarrow: pip install 'rfmkit[parquet]'") from None
    elif suffix in (".csv", ".txt", ".gz", ".tsv"):
        frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
    else:
        raise CliError(f"cannot read {str(path)!r}: use a .csv, .tsv or .parquet file")
    if date in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[date]):
        parsed = pd.to_datetime(frame[date], errors="coerce", format="mixed")
        unparsed = int(parsed.isna().sum() - frame[date].isna().sum())
        if unparsed:
            first = frame[date][parsed.isna() & frame[date].notna()].iloc[0]
            print(
                f"rfmkit: warning: {unparsed} values of date column {date!r} are not dates "
                f"(first: {first!r}); they count as missing dates",
                file=sys.stderr,
            )
        frame[date] = parsed
    return frame


def _write(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            table.to_parquet(path)
        except ImportError:
            raise CliError("writing Parquet needs pyarrow: pip install 'rfmkit[parquet]'") from None
    elif suffix == ".csv":
        table.to_csv(path)
    else:
        raise CliError(f"cannot write {str(path)!r}: use a .csv or .parquet output file")


def _quality_lines(info: dict) -> list[str]:
    lines = [f"rows in: {info['rows_in']:,}   used: {info['rows_used']:,}"]
    for reason, count in info["dropped"].items():
        lines.append(f"  dropped {reason}: {count:,}")
    return lines


def _headline(table: pd.DataFrame) -> list[str]:
    n = len(table)
    if n == 0:
        return ["no customers with a purchase"]
    kpis = rfmkit.kpis(table, churn_after=365)
    return [
        f"customers: {n:,}",
        f"revenue: {table['monetary'].sum():,.2f}",
        f"repeat customers: {kpis['repeat_purchase_rate']:.1%}",
        f"median recency: {table['recency'].median():.0f} days   median frequency: "
        f"{table['frequency'].median():.0f}   median monetary: {table['monetary'].median():,.2f}",
        f"revenue share of the top 20% of customers: {kpis['top20_revenue_share']:.1%}",
    ]


def _analysis_options(args: argparse.Namespace) -> dict:
    k: object = args.k
    if k == "auto":
        pass
    elif k in ("none", "0"):
        k = None
    else:
        try:
            k = int(k)
        except ValueError:
            raise CliError(f"--k must be 'auto', a number of clusters or 'none', got {args.k!r}") from None
    return {
        "scheme": args.scheme,
        "k": k,
        "clv": not args.no_clv,
        "margin": args.margin,
        "lang": args.lang,
        "random_state": args.seed,
        "progress": sys.stderr.isatty(),
    }


def _save_report(report: "rfmkit.Report", out: Path) -> list[Path]:
    """The report's files in `out`: tables as Parquet and CSV, a PNG dashboard, an HTML page."""
    out.mkdir(parents=True, exist_ok=True)
    paths = report.to_csv(out)
    try:
        paths += report.to_parquet(out)
    except ImportError:
        print("rfmkit: warning: pyarrow is not installed, so no Parquet files were written", file=sys.stderr)
    try:
        import matplotlib

        matplotlib.use("Agg")
        from rfmkit import plot

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", plot.PlotFontWarning)
            figure = report.plot()
            figure.savefig(out / "dashboard.png", dpi=100)
        plot._pyplot().close(figure)
        paths.append(out / "dashboard.png")
    except ImportError:
        print("rfmkit: warning: matplotlib is not installed, so no dashboard.png: pip install 'rfmkit[plot]'",
              file=sys.stderr)
    report.to_html(out / "report.html")
    paths.append(out / "report.html")
    return paths


def _print_report(report: "rfmkit.Report") -> None:
    with pd.option_context("display.width", 140, "display.max_columns", 30):
        print("\nsegments:")
        print(report.segments[["customers", "customer_share", "revenue_share", "recency_mean",
                               "frequency_mean", "monetary_mean"]].to_string())
        if report.clusters is not None:
            print("\nclusters:")
            name = "name_zh" if report.settings.get("lang") == "zh" else "name_en"
            print(report.clusters[["customers", "recency_mean", "frequency_mean", "monetary_mean", name]].to_string())
        if report.comparison is not None:
            print("\nsegments vs clusters: " + ", ".join(f"{k} {v:.3f}" for k, v in report.comparison.scores().items()))
        if "clv" in report.customers.columns:
            horizon = report.clv_model["horizon_months"]
            print(f"\nexpected {horizon}-month CLV: total {report.customers['clv'].sum():,.2f}, "
                  f"median {report.customers['clv'].median():,.2f} per customer")
        for note in report.notes:
            print(f"note: {note}")


def _analyze(args: argparse.Namespace) -> int:
    data = _read(Path(args.input), args.date)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        report = rfmkit.analyze(
            data, customer=args.customer, date=args.date, amount=args.amount, order=args.order,
            as_of=args.as_of, window=args.window, zero=args.zero, returns=args.returns, invalid=args.invalid,
            **_analysis_options(args),
        )
    paths = _save_report(report, Path(args.out))
    info = report.customers.attrs["rfmkit"]
    print(f"rfmkit: {len(report.customers):,} customers as of {info['as_of'] or '-'} -> {args.out}", file=sys.stderr)
    for line in _quality_lines(info):
        print(f"rfmkit: {line}", file=sys.stderr)
    print(f"rfmkit: wrote {len(paths)} files: " + ", ".join(p.name for p in paths), file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    data = rfmkit.datasets.make_transactions(args.customers, seed=args.seed)
    print(f"sample: {len(data):,} order lines of {args.customers:,} customers (rfmkit.datasets.make_transactions)")
    print(data.head().to_string())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        table = rfmkit.rfm(data, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
        btyd = rfmkit.clv.summary(data, customer="customer_id", date="ordered_at", amount="amount")
    info = table.attrs["rfmkit"]
    print(f"\nRFM table as of {info['as_of']} (one row per customer; recency and tenure in days):")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.sort_values("monetary", ascending=False).head(10).to_string())
    print("\ndata quality:")
    print("\n".join(_quality_lines(info)))
    print("\nheadline:")
    print("\n".join(_headline(table)))
    print("\nBTYD summary for the CLV models (lifetimes semantics; periods = days):")
    print(btyd.head(5).to_string())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        report = rfmkit.analyze(
            data, customer="customer_id", date="ordered_at", amount="amount", order="order_id",
            **_analysis_options(args),
        )
    _print_report(report)
    if args.out:
        paths = _save_report(report, Path(args.out))
        print(f"\nwrote {len(paths)} files to {args.out}: " + ", ".join(p.name for p in paths))
    return 0


def _rfm(args: argparse.Namespace) -> int:
    data = _read(Path(args.input), args.date)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        table = rfmkit.rfm(
            data,
            customer=args.customer,
            date=args.date,
            amount=args.amount,
            order=args.order,
            as_of=args.as_of,
            window=args.window,
            zero=args.zero or "drop",
            returns=args.returns,
            invalid=args.invalid,
        )
    _write(table, Path(args.output))
    info = table.attrs["rfmkit"]
    as_of = info["as_of"] or "-"
    print(f"rfmkit: {len(table):,} customers as of {as_of} -> {args.output}", file=sys.stderr)
    for line in _quality_lines(info):
        print(f"rfmkit: {line}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rfmkit", description="Customer-value analytics on transaction exports.")
    parser.add_argument("--version", action="version", version=f"rfmkit {rfmkit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the analysis on a generated sample and print it")
    demo.add_argument("--customers", type=int, default=2_000, help="customers in the sample (default 2000)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the sample and of the clustering")
    demo.add_argument("--out", help="also write the report's files (tables, dashboard.png, report.html) to this folder")
    _analysis_arguments(demo)
    demo.set_defaults(run=_demo)

    analyze = commands.add_parser(
        "analyze", help="the whole analysis of a CSV or Parquet file, written as files to --out"
    )
    analyze.add_argument("input", help="transactions: .csv, .tsv or .parquet")
    analyze.add_argument("--out", required=True, help="output folder (created): tables as .parquet and .csv, "
                         "dashboard.png, report.html")
    _input_arguments(analyze)
    analyze.add_argument("--seed", type=int, default=0, help="seed of the clustering")
    _analysis_arguments(analyze)
    analyze.set_defaults(run=_analyze)

    rfm = commands.add_parser("rfm", help="write the per-customer RFM table of a CSV or Parquet file")
    rfm.add_argument("input", help="transactions: .csv, .tsv or .parquet")
    rfm.add_argument("output", help="customer table: .csv or .parquet")
    _input_arguments(rfm)
    rfm.set_defaults(run=_rfm)
    return parser


def _input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", required=True, help="customer id column")
    parser.add_argument("--date", required=True, help="timestamp column (CSV text is parsed as dates)")
    parser.add_argument("--amount", required=True, help="amount column")
    parser.add_argument("--order", help="order id column: order lines count as one purchase")
    parser.add_argument("--as-of", dest="as_of", help="observation date, exclusive (default: day after the last row)")
    parser.add_argument("--window", type=int, help="only the last WINDOW days before --as-of count")
    parser.add_argument("--zero", choices=("drop", "keep"), default=None,
                        help="zero amounts; default: each step's own (the RFM table drops them, "
                             "the BTYD summary of the CLV step keeps them as purchases)")
    parser.add_argument("--returns", choices=("net", "drop", "raise"), default="net")
    parser.add_argument("--invalid", choices=("drop", "raise"), default="drop")


def _analysis_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheme", default="rfm11", choices=("rfm11", "rfm10", "classic8", "value4"),
                        help="segment scheme (default rfm11)")
    parser.add_argument("--k", default="auto", help="clusters: 'auto' (choose k), a number, or 'none'")
    parser.add_argument("--no-clv", dest="no_clv", action="store_true", help="skip the BG/NBD + Gamma-Gamma CLV")
    parser.add_argument("--margin", type=float, default=1.0, help="profit margin applied to CLV (default 1.0)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="labels: English or Chinese")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (RfmkitError, CliError) as error:
        print(f"rfmkit: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `rfmkit demo | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
