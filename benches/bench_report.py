"""The report's costs at 100k customers: analyze with k chosen (k="auto") against a fixed
k, and the report's writers (to_excel, to_html, to_csv). Medians of `--repeat` runs.

Targets (issue 16): analyze(k="auto") <= 2x analyze(k=5); to_excel <= 2 s.

    python benches/bench_report.py [--customers 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import rfmkit


def median_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    orders = rfmkit.datasets.make_transactions(args.customers, seed=1)
    print(f"{args.customers:,} customers, {len(orders):,} order lines; medians of {args.repeat}")
    roles = {"customer": "customer_id", "date": "ordered_at", "amount": "amount", "order": "order_id"}

    def analyze(k):
        return rfmkit.analyze(orders, **roles, k=k, progress=False)

    fixed = median_time(lambda: analyze(5), args.repeat)
    auto = median_time(lambda: analyze("auto"), args.repeat)
    nothing = median_time(
        lambda: rfmkit.analyze(orders, **roles, k=None, clv=False, cohorts=None, progress=False), args.repeat
    )
    print(f"analyze(k=5)                 {fixed:7.2f} s")
    print(f"analyze(k='auto', 3..8)      {auto:7.2f} s   ratio to k=5: {auto / fixed:.2f} (target <= 2)")
    print(f"analyze(k=None, clv=False, cohorts=None) {nothing:7.2f} s")
    report = analyze(5)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        excel = median_time(lambda: report.to_excel(folder / "report.xlsx"), args.repeat)
        page = median_time(lambda: report.to_html(folder / "report.html"), args.repeat)
        csv = median_time(lambda: report.to_csv(folder / "csv"), args.repeat)
        size = (folder / "report.xlsx").stat().st_size
    print(f"to_excel                     {excel:7.2f} s   ({size / 1e6:.1f} MB; target <= 2 s)")
    print(f"to_html                      {page:7.2f} s")
    print(f"to_csv                       {csv:7.2f} s")


if __name__ == "__main__":
    main()
