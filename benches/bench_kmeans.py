"""rfmkit.KMeans against scikit-learn's KMeans (and linfa at 100k), interleaved in one run.

Same transformed data (RFM-like features after log1p and standard scaling), same k,
same n_init, same tol and max_iter; k-means++ in each. Prints per configuration the
median wall time of each, the speed-up (scikit-learn / rfmkit) and the inertia ratio
(rfmkit / scikit-learn; below 1 means rfmkit found tighter clusters).

    pip install '.[bench]'
    python benches/bench_kmeans.py                 # 100k and 1M customers, 5 repeats (seeds 0..4)
    python benches/bench_kmeans.py --sizes 100000 --repeats 9

Build with `maturin develop --release` (or `pip install .`) first: a debug build is
many times slower.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.cluster import KMeans as SkKMeans

import rfmkit


def rfm_like(n: int, seed: int = 0) -> np.ndarray:
    """Recency, frequency, monetary with the shapes of real customer bases (skewed, tied)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.5, n)
    frequency = 1 + rng.poisson(rate * 3)
    recency = np.minimum(730, 1 + rng.exponential(60 / np.sqrt(rate + 0.05), n).astype(int))
    spend = rng.gamma(3.0, 20.0 / 3.0, n) * rng.gamma(6.0, 1 / 6.0, n)
    monetary = np.round(frequency * spend, 2)
    raw = np.column_stack([recency, frequency, monetary]).astype(float)
    logged = np.log1p(raw)
    return np.ascontiguousarray((logged - logged.mean(axis=0)) / logged.std(axis=0))


def timed(fit):
    start = time.perf_counter()
    inertia = fit()
    return time.perf_counter() - start, inertia


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--n-init", type=int, nargs="+", default=[1, 10])
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="fits per tool and configuration, with seeds 0, 1, ...; an n_init=1 fit's time depends on its seed",
    )
    parser.add_argument("--pause", type=float, default=0.3, help="seconds of idle before each timed fit")
    parser.add_argument("--linfa-max", type=int, default=100_000, help="largest size to also time the linfa backend on")
    args = parser.parse_args()

    # One untimed fit of each, so that no configuration pays for a first call (imports,
    # thread pools, page faults of the allocator).
    warm = rfm_like(20_000, seed=1)
    SkKMeans(4, n_init=2, random_state=0).fit(warm)
    rfmkit.KMeans(4, transform=None, scale=None, n_init=2, random_state=0).fit(warm)
    rfmkit.KMeans(4, transform=None, scale=None, n_init=2, random_state=0, backend="linfa").fit(warm)

    rows = []
    for n in args.sizes:
        points = rfm_like(n)
        for k in args.ks:
            for n_init in args.n_init:
                peers = {
                    "rfmkit": lambda seed: (
                        rfmkit.KMeans(k, transform=None, scale=None, n_init=n_init, random_state=seed)
                        .fit(points)
                        .inertia_
                    ),
                    "sklearn": lambda seed: SkKMeans(k, n_init=n_init, random_state=seed).fit(points).inertia_,
                }
                if n <= args.linfa_max:
                    peers["linfa"] = lambda seed: (
                        rfmkit.KMeans(k, transform=None, scale=None, n_init=n_init, random_state=seed, backend="linfa")
                        .fit(points)
                        .inertia_
                    )
                times = {name: [] for name in peers}
                inertias = {name: [] for name in peers}
                for repeat in range(args.repeats):
                    order = list(peers) if repeat % 2 == 0 else list(reversed(peers))
                    for name in order:
                        # A pause first: OpenMP (scikit-learn) and rayon (rfmkit) workers
                        # spin for a while after a fit, which would slow the next tool.
                        time.sleep(args.pause)
                        seconds, inertia = timed(lambda: peers[name](repeat))
                        times[name].append(seconds)
                        inertias[name].append(inertia)
                median = {name: statistics.median(values) for name, values in times.items()}
                inertia = {name: statistics.median(values) for name, values in inertias.items()}
                row = {
                    "n": n,
                    "k": k,
                    "n_init": n_init,
                    "rfmkit_s": median["rfmkit"],
                    "sklearn_s": median["sklearn"],
                    "speedup": median["sklearn"] / median["rfmkit"],
                    "inertia_ratio": inertia["rfmkit"] / inertia["sklearn"],
                    "linfa_s": median.get("linfa"),
                    "linfa_inertia_ratio": inertia["linfa"] / inertia["sklearn"] if "linfa" in inertia else None,
                }
                rows.append(row)
                print(_format(row), flush=True)
    print()
    print(
        "| n | k | n_init | rfmkit s | scikit-learn s | speed-up | inertia rfmkit/sklearn | linfa s | inertia linfa/sklearn |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        linfa = f"{row['linfa_s']:.3f} | {row['linfa_inertia_ratio']:.5f}" if row["linfa_s"] is not None else "– | –"
        print(
            f"| {row['n']:,} | {row['k']} | {row['n_init']} | {row['rfmkit_s']:.3f} | {row['sklearn_s']:.3f} | "
            f"{row['speedup']:.2f}× | {row['inertia_ratio']:.5f} | {linfa} |"
        )


def _format(row: dict) -> str:
    text = (
        f"n={row['n']:>9,} k={row['k']} n_init={row['n_init']:>2}: rfmkit {row['rfmkit_s']:.3f}s  "
        f"sklearn {row['sklearn_s']:.3f}s  speed-up {row['speedup']:.2f}x  inertia ratio {row['inertia_ratio']:.5f}"
    )
    if row["linfa_s"] is not None:
        text += f"  linfa {row['linfa_s']:.3f}s (inertia ratio {row['linfa_inertia_ratio']:.5f})"
    return text


if __name__ == "__main__":
    main()
