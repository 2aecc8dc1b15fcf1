"""The `rfmkit` command line for ETL jobs: `rfmkit analyze INPUT --out DIR ...` (the whole
report as files), `rfmkit rfm INPUT OUTPUT ...` (the RFM table) and `rfmkit demo`.

Exit codes: 0 success, 2 any failure (one line on stderr; --debug adds the traceback),
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import rfmkit
from rfmkit import _core
from rfmkit._io import frames
from rfmkit._io.files import amount_example, write_csv, write_parquet
from rfmkit._params import ROWS, pick
from rfmkit.exceptions import DataQualityWarning, RfmkitError


class CliError(Exception):
    """A problem with the command's input, reported as one line."""


MANIFEST = "rfmkit-manifest.json"


def _options(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The arguments `names` by the names of the Python functions' parameters."""
    return pick(vars(args), names)


_COLUMNS = ("customer", "date", "amount", "order")


def _read(args: argparse.Namespace) -> Any:
    """The transactions of INPUT, only the named columns, by the one reader."""
    return rfmkit.read_transactions(args.input, **_options(args, *_COLUMNS, "sep", "decimal", "thousands", "encoding"))


def _write(table: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        write_parquet(table, path)
    elif suffix == ".csv":
        write_csv(table, path)
    else:
        raise CliError(f"cannot write {str(path)!r}: use a .csv or .parquet output file")


def _claim_folder(out: Path, overwrite: bool) -> list[str]:
    """The files of rfmkit's earlier run in `out` (from its manifest); refuses a folder
    with other files unless `overwrite`."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise CliError(f"--out {str(out)!r} is a file, not a folder")
    manifest = out / MANIFEST
    if manifest.exists():
        try:
            return [str(name) for name in json.loads(manifest.read_text(encoding="utf-8"))["files"]]
        except (ValueError, KeyError, TypeError):
            raise CliError(f"{manifest} is not rfmkit's manifest; remove it or choose another --out") from None
    if any(out.iterdir()) and not overwrite:
        raise CliError(
            f"--out {str(out)!r} is not empty and was not written by rfmkit; choose a new folder, "
            f"or pass --overwrite to write into it"
        )
    return []


def _finish_folder(out: Path, written: list[Path], earlier: list[str]) -> list[str]:
    """Writes the manifest of this run and removes the files of the earlier run that this
    run did not write (e.g. clusters.csv when clustering was skipped); returns those."""
    names = [path.name for path in written]
    # only plain file names of this folder: a manifest never reaches outside it
    stale = [
        name
        for name in earlier
        if name not in names and name != MANIFEST and Path(name).name == name and (out / name).is_file()
    ]
    for name in stale:
        (out / name).unlink(missing_ok=True)
    manifest = {"rfmkit": rfmkit.__version__, "files": names}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return stale


def _quality_lines(info: dict[str, Any]) -> list[str]:
    lines = [f"rows in: {info['rows_in']:,}   used: {info['rows_used']:,}"]
    for reason, count in info["dropped"].items():
        lines.append(f"  dropped {reason}: {count:,}")
    return lines


def _accounting(info: dict[str, Any], data: Any = None) -> str:
    """One line: rows read, used and dropped by reason (every run ends with it)."""
    example = amount_example(data)
    parts = []
    for reason, count in info["dropped"].items():
        shown = f"{count:,} {reason}"
        if reason == "invalid_amount" and example is not None:
            shown += f" (e.g. {example!r})"
        parts.append(shown)
    line = f"rfmkit: rows read {info['rows_in']:,}, used {info['rows_used']:,}, dropped: {', '.join(parts) or 'none'}"
    if info.get("date_format"):
        line += f" (dates read as {info['date_format']})"
    return line


def _customers(n: int) -> str:
    return f"{n:,} customer" + ("" if n == 1 else "s")


def _require_rows(info: dict[str, Any], data: Any, args: argparse.Namespace) -> None:
    """A run that used no row is a failure, not an empty table: it says why."""
    if info["rows_used"] > 0:
        return
    if info["rows_in"] == 0:
        raise CliError(f"{Path(args.input).name} has a header but no rows: there is nothing to analyse")
    reason, _count = max(info["dropped"].items(), key=lambda item: item[1])
    hints = {
        "invalid_amount": "amounts are not numbers in --decimal {decimal!r} notation{example}: pass the file's "
        "notation, e.g. --decimal , --thousands . for 1.234,50 (or --thousands , for 1,234.50)",
        "unparseable_date": "dates do not read as dates: pass --date-format (e.g. %d.%m.%Y)",
        "date_out_of_range": "dates fall outside 1900..2100: check --date-format (e.g. excel, unix)",
        "missing_customer": "the customer column is empty: check --customer",
        "missing_date": "the date column is empty: check --date",
        "after_as_of": "every row is on or after --as-of: check it",
        "before_window": "every row is before the --window: widen it",
        "zero_amount": "every amount is 0: pass --zero keep to count them as purchases",
    }
    example = amount_example(data)
    hint = hints.get(reason, "see the counts below").format(
        decimal=args.decimal, example=f" (e.g. {example!r})" if example else ""
    )
    detail = ", ".join(f"{n:,} {r}" for r, n in info["dropped"].items())
    raise CliError(
        f"no usable row in {Path(args.input).name}: {info['rows_in']:,} read, all dropped ({detail}); {hint}"
    )


def _headline(table: pd.DataFrame) -> list[str]:
    n = len(table)
    if n == 0:
        return ["no customers with a purchase"]
    kpis = rfmkit.kpis(table, churn_after=365)
    return [
        f"customers: {n:,}",
        f"revenue: {table['monetary'].sum():,.2f}",
        f"repeat customers: {kpis['repeat_purchase_rate']:.1%}",
        (
            f"median recency: {table['recency'].median():.0f} days   median frequency: "
            f"{table['frequency'].median():.0f}   median monetary: {table['monetary'].median():,.2f}"
        ),
        f"revenue share of the top 20% of customers: {kpis['top20_revenue_share']:.1%}",
    ]


def _cohort_period(value: str) -> str:
    from rfmkit._cohorts import check_freq

    try:
        return check_freq(value)
    except rfmkit.InvalidParameterError:
        raise CliError(f"--cohorts must be M, Q, Y, W (or W-MON ... W-SAT), D or none, got {value!r}") from None


def _analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    k: Any = args.k
    if k == "auto":
        pass
    elif k in ("none", "0"):
        k = None
    else:
        try:
            k = int(k)
        except ValueError:
            raise CliError(f"--k must be 'auto', a number of clusters or 'none', got {args.k!r}") from None
    holdout: int | None = None
    if args.holdout_days != "none":
        try:
            holdout = int(args.holdout_days)
        except ValueError:
            raise CliError(f"--holdout-days must be a number of days or 'none', got {args.holdout_days!r}") from None
    return {
        "scheme": args.scheme,
        "k": k,
        "clv": not args.no_clv,
        "margin": args.margin,
        "clv_model": args.clv_model,
        "clv_horizon": args.clv_horizon,
        "churn_after": args.churn_after,
        "cohorts": None if args.cohorts == "none" else _cohort_period(args.cohorts),
        "holdout_days": holdout,
        "lang": args.lang,
        "random_state": args.seed,
        "progress": sys.stderr.isatty(),
    }


def _save_report(report: rfmkit.Report, out: Path) -> list[Path]:
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

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", plot.PlotFontWarning)
            figure = report.plot()
            figure.savefig(out / "dashboard.png", dpi=100)
        if any(issubclass(w.category, plot.PlotFontWarning) for w in caught):
            print(
                "rfmkit: warning: no font with Chinese glyphs is installed, so the charts of dashboard.png and "
                "report.html are drawn in English (Debian/Ubuntu: apt install fonts-noto-cjk)",
                file=sys.stderr,
            )
        plot._pyplot().close(figure)
        paths.append(out / "dashboard.png")
    except ImportError:
        print(
            "rfmkit: warning: matplotlib is not installed, so no dashboard.png: pip install 'rfmkit[plot]'",
            file=sys.stderr,
        )
    report.to_html(out / "report.html")
    paths.append(out / "report.html")
    return paths


def _print_report(report: rfmkit.Report) -> None:
    segments, clusters, customers = (report.pandas(name) for name in ("segments", "clusters", "customers"))
    with pd.option_context("display.width", 140, "display.max_columns", 30):
        print("\nsegments:")
        print(
            segments[
                ["customers", "customer_share", "revenue_share", "recency_mean", "frequency_mean", "monetary_mean"]
            ].to_string()
        )
        if clusters is not None:
            print("\nclusters:")
            name = "name_zh" if report.settings.get("lang") == "zh" else "name_en"
            print(clusters[["customers", "recency_mean", "frequency_mean", "monetary_mean", name]].to_string())
        if report.comparison is not None:
            print("\nsegments vs clusters: " + ", ".join(f"{k} {v:.3f}" for k, v in report.comparison.scores().items()))
        if "clv" in customers.columns:
            horizon = report.clv_model["horizon_months"]
            print(
                f"\nexpected {horizon}-month CLV: total {customers['clv'].sum():,.2f}, "
                f"median {customers['clv'].median():,.2f} per customer"
            )
        for note in report.notes:
            print(f"note: {note}")


def _analyze(args: argparse.Namespace) -> int:
    out = Path(args.out)
    earlier = _claim_folder(out, args.overwrite)
    data = _read(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        report = rfmkit.analyze(data, **_options(args, *ROWS), **_analysis_options(args))
    info = frames.info_of(report.customers)
    _require_rows(info, data, args)
    paths = _save_report(report, out)
    stale = _finish_folder(out, paths, earlier)
    print(f"rfmkit: {_customers(len(report.customers))} as of {info['as_of']} -> {args.out}", file=sys.stderr)
    print(f"rfmkit: wrote {len(paths)} files: " + ", ".join(p.name for p in paths), file=sys.stderr)
    if stale:
        print(f"rfmkit: removed {len(stale)} files of the earlier run: " + ", ".join(stale), file=sys.stderr)
    for note in report.notes:
        print(f"rfmkit: note: {note}", file=sys.stderr)
    print(_accounting(info, data), file=sys.stderr)
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
            data,
            customer="customer_id",
            date="ordered_at",
            amount="amount",
            order="order_id",
            **_analysis_options(args),
        )
    _print_report(report)
    if args.out:
        paths = _save_report(report, Path(args.out))
        print(f"\nwrote {len(paths)} files to {args.out}: " + ", ".join(p.name for p in paths))
    return 0


def _rfm(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CliError(f"cannot write {str(output)!r}: use a .csv or .parquet output file")
    if not output.parent.is_dir():
        # a typo in a path must not create folders: only --out of analyze is created
        raise CliError(f"the folder of {str(output)!r} does not exist; create it first or fix the path")
    data = _read(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        table = rfmkit.rfm(data, **{**_options(args, *ROWS), "zero": args.zero or "drop"})
    table = frames.indexed_pandas(table)  # the file's rows come as a pyarrow Table: its result too
    info = frames.info_of(table)
    _require_rows(info, data, args)
    _write(table, output)
    print(f"rfmkit: {_customers(len(table))} as of {info['as_of']} -> {args.output}", file=sys.stderr)
    print(_accounting(info, data), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rfmkit", description="Customer-value analytics on transaction exports.")
    parser.add_argument("--version", action="version", version=f"rfmkit {rfmkit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")

    demo = commands.add_parser("demo", parents=[common], help="run the analysis on a generated sample and print it")
    demo.add_argument("--customers", type=int, default=2_000, help="customers in the sample (default 2000)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the sample and of the clustering")
    demo.add_argument("--out", help="also write the report's files (tables, dashboard.png, report.html) to this folder")
    _analysis_arguments(demo)
    demo.set_defaults(run=_demo)

    analyze = commands.add_parser(
        "analyze", parents=[common], help="the whole analysis of a CSV or Parquet file, written as files to --out"
    )
    analyze.add_argument(
        "input", help="transactions: .csv, .tsv, .txt (or .gz), .parquet or .xlsx (needs rfmkit[excel])"
    )
    analyze.add_argument(
        "--out",
        required=True,
        help="output folder (created): tables as .parquet and .csv, "
        "dashboard.png, report.html, and rfmkit-manifest.json (a later run into the same folder "
        "removes the files of this one that it does not write again)",
    )
    analyze.add_argument(
        "--overwrite",
        action="store_true",
        help="write into an --out folder that holds other files (never needed for rfmkit's own)",
    )
    _input_arguments(analyze)
    analyze.add_argument("--seed", type=int, default=0, help="seed of the clustering")
    _analysis_arguments(analyze)
    analyze.set_defaults(run=_analyze)

    rfm = commands.add_parser("rfm", parents=[common], help="write the per-customer RFM table of a CSV or Parquet file")
    rfm.add_argument("input", help="transactions: .csv, .tsv, .txt (or .gz), .parquet or .xlsx (needs rfmkit[excel])")
    rfm.add_argument("output", help="customer table: .csv or .parquet")
    _input_arguments(rfm)
    rfm.set_defaults(run=_rfm)
    return parser


def _input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", required=True, help="customer id column (read as text, e.g. 00017)")
    parser.add_argument(
        "--date",
        required=True,
        help="date column: text is read with one format for the whole column (see --date-format)",
    )
    parser.add_argument("--amount", required=True, help="amount column")
    parser.add_argument("--order", help="order id column: order lines count as one purchase")
    parser.add_argument("--as-of", dest="as_of", help="observation date, exclusive (default: day after the last row)")
    parser.add_argument("--window", type=int, help="only the last WINDOW days before --as-of count")
    parser.add_argument(
        "--zero",
        choices=_core.vocabulary()["zero"],
        default=None,
        help="zero amounts; default: each step's own (the RFM table drops them, "
        "the BTYD summary of the CLV step keeps them as purchases)",
    )
    vocabulary = _core.vocabulary()  # the core owns the names of the policies
    parser.add_argument("--returns", choices=vocabulary["returns"], default="net")
    parser.add_argument("--invalid", choices=vocabulary["invalid"], default="drop")
    reading = parser.add_argument_group("reading the file")
    reading.add_argument(
        "--sep",
        help="field separator of a text file (default: TAB for .tsv, else the one "
        "of , ; TAB | that splits the header most)",
    )
    reading.add_argument("--decimal", default=".", help="decimal mark of the amounts (e.g. ',' for 1.234,50)")
    reading.add_argument("--thousands", help="thousands separator of the amounts (e.g. '.' for 1.234,50)")
    reading.add_argument(
        "--encoding",
        help="text encoding (default: UTF-8 with or without BOM, UTF-16 with BOM; e.g. gb18030, gbk, latin-1)",
    )
    reading.add_argument(
        "--date-format",
        dest="date_format",
        help="how dates are written: a strftime format such as %%Y%%m%%d or %%d/%%m/%%Y, ISO8601, "
        "excel (serial days), unix (seconds) or unix_ms; default: inferred from the column "
        "(numbers are never read without it)",
    )
    order_of_day = reading.add_mutually_exclusive_group()
    order_of_day.add_argument(
        "--dayfirst", dest="dayfirst", action="store_const", const=True, default=None, help="03/04/2024 is 3 April"
    )
    order_of_day.add_argument(
        "--monthfirst", dest="dayfirst", action="store_const", const=False, help="03/04/2024 is 4 March"
    )


def _analysis_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheme",
        default="rfm11",
        choices=_core.vocabulary()["schemes"],
        help="segment scheme (default rfm11)",
    )
    parser.add_argument("--k", default="auto", help="clusters: 'auto' (choose k), a number, or 'none'")
    parser.add_argument("--no-clv", dest="no_clv", action="store_true", help="skip the BG/NBD + Gamma-Gamma CLV")
    parser.add_argument(
        "--margin",
        type=float,
        default=1.0,
        help="profit share of revenue applied to CLV, above 0 and at most 1 (default 1.0: CLV in revenue)",
    )
    parser.add_argument(
        "--clv-model",
        dest="clv_model",
        choices=("bgnbd", "mbgnbd", "pareto", "auto"),
        default="bgnbd",
        help="purchase model of the CLV: BG/NBD, MBG/NBD, Pareto/NBD, or auto (the best on the last --holdout-days)",
    )
    parser.add_argument(
        "--clv-horizon", dest="clv_horizon", type=int, default=12, help="CLV horizon in months (default 12)"
    )
    parser.add_argument(
        "--churn-after",
        dest="churn_after",
        type=int,
        default=365,
        help="days without a purchase after which a customer counts as churned (default 365)",
    )
    parser.add_argument(
        "--cohorts",
        default="M",
        help="period of the acquisition cohorts: M, Q, Y, W (or W-MON ... W-SAT), D, or none (default M)",
    )
    parser.add_argument(
        "--holdout-days",
        dest="holdout_days",
        default="90",
        help="days at the end of the history on which segments and clusters are compared for what they "
        "predict, or 'none' (default 90)",
    )
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="labels: English or Chinese")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:  # e.g. `rfmkit demo | head`
        return 0
    except KeyboardInterrupt:
        print("rfmkit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure is one line and exit code 2
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"rfmkit: error: {_one_line(error)}", file=sys.stderr)
        return 2


def _one_line(error: Exception) -> str:
    if isinstance(error, (RfmkitError, CliError, ImportError, OSError)):
        text = str(error)
    else:
        text = (
            f"unexpected {type(error).__name__}: {error} (rerun with --debug for the traceback, and please report it)"
        )
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
