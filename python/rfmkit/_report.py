"""`rfmkit.analyze`: one call from a transaction export to a `Report`."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit._io.files import write_csv
from rfmkit._params import ROWS, arguments, pick
from rfmkit._progress import Steps
from rfmkit.exceptions import DataQualityWarning, InvalidDataError, InvalidParameterError, RfmkitError

#: The quality row that counts the clustered customers with a negative feature.
NET_NEGATIVE_ROW = "customers with net-negative monetary (clustered on the signed log)"


@dataclass
class Report:
    """Everything `rfmkit.analyze` computed, as tables.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer, indexed by customer id: the RFM features (`rfmkit.rfm`),
        the scores (`rfmkit.score`), ``segment``, ``tier``, ``cluster`` and
        ``cluster_name`` (when clustered) and, with CLV, ``p_alive``,
        ``expected_purchases`` (over the CLV horizon) and ``clv``.
    segments : pandas.DataFrame
        `rfmkit.segment_summary` by segment.
    clusters : pandas.DataFrame or None
        `KMeans.profile`: per cluster size, shares, R/F/M, its dominant segment (of
        ``customers["segment"]``) and a name after it.
    choose_k : pandas.DataFrame or None
        `rfmkit.choose_k` when ``k="auto"``.
    comparison : rfmkit.Comparison or None
        Segments (reference) against clusters.
    tiers : pandas.DataFrame
        `rfmkit.segment_summary` by value tier.
    kpis : dict
        `rfmkit.kpis`.
    quality : pandas.DataFrame
        Rows in, used and dropped by reason (``rows`` column), from the RFM table; when
        clustered, also the number of customers with net-negative monetary (returns
        above purchases), who are clustered on the signed log like everyone else.
    clv_model : dict
        The fitted BG/NBD and Gamma-Gamma models (``"bgnbd"``, ``"gamma_gamma"``) and
        the CLV settings, or the reason CLV was skipped (``"skipped"``).
    settings : dict
        The arguments of the call.
    notes : list of str
        What the analysis left out and why (e.g. CLV without enough repeat customers).
    kind : str
        The kind of table the tables are: ``"pandas"``, or ``"polars"`` / ``"arrow"``
        when `analyze` was given one (the index of each pandas table is then its first
        column: the customer id, the segment, the cluster, ...).

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
    >>> report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount",
    ...                         k=None, clv=False, progress=False)
    >>> sorted(report.tables())
    ['customers', 'kpis', 'quality', 'segments', 'tiers']
    >>> int(report.quality.loc["rows_in", "rows"]) == len(orders)
    True
    """

    customers: pd.DataFrame
    segments: pd.DataFrame
    clusters: pd.DataFrame | None
    choose_k: pd.DataFrame | None
    comparison: Any
    tiers: pd.DataFrame
    kpis: dict[str, Any]
    quality: pd.DataFrame
    clv_model: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[Any] = field(default_factory=list)
    kind: str = "pandas"

    # ------------------------------------------------------------------ figures

    def _pd(self, name: str) -> Any:
        """Table `name` as indexed pandas, whatever kind of table the report gives back."""
        table = getattr(self, name)
        return None if table is None else frames.indexed_pandas(table)

    def plot(self, *, figsize: tuple[float, float] = (16, 10)) -> Any:
        """A dashboard figure: segments, the R×F heat map, the choose-k curves, the
        cluster centres, the segment × cluster crosstab and the CLV distribution
        (panels without data are left out). Needs matplotlib (``rfmkit[plot]``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from rfmkit import plot

        plt = plot._pyplot()
        panels: list[Callable[[Any], Any]] = [
            lambda ax: plot.segments(self._pd("segments"), ax=ax),
            lambda ax: plot.rf_heatmap(self._pd("customers"), ax=ax),
        ]
        if self.choose_k is not None:
            panels.append(lambda ax: plot.choose_k(self._pd("choose_k"), ax=ax))
        if self.clusters is not None:
            panels.append(lambda ax: plot.cluster_centers(self._centres(), ax=ax))
        if self.comparison is not None:
            panels.append(lambda ax: plot.crosstab(self.comparison, ax=ax))
        if "clv" in frames.Frame.of(self.customers).names:
            panels.append(lambda ax: plot.clv_distribution(self._pd("customers")["clv"], ax=ax))
        rows = math.ceil(len(panels) / 3)
        figure, axes = plt.subplots(rows, 3, figsize=(figsize[0], figsize[1] * rows / 2), layout="constrained")
        axes = np.atleast_1d(axes).ravel()
        for draw, ax in zip(panels, axes):
            draw(ax)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        figure.suptitle(self._title())
        return figure

    def _centres(self) -> pd.DataFrame:
        assert self.clusters is not None
        clusters = self._pd("clusters")
        columns = [c for c in ("recency_mean", "frequency_mean", "monetary_mean") if c in clusters.columns]
        centres = clusters[columns].rename(columns=lambda c: c.removesuffix("_mean"))
        name = "name_zh" if self.settings.get("lang") == "zh" else "name_en"
        if name in clusters.columns:
            centres.index = [f"{i} {n}" for i, n in zip(clusters.index, clusters[name])]
        return centres

    def _title(self) -> str:
        info = frames.info_of(self.customers)
        return f"rfmkit report: {len(self.customers):,} customers as of {info.get('as_of')}"

    # ------------------------------------------------------------------ HTML

    def _headline(self) -> list[tuple[str, str]]:
        k = self.kpis
        info = frames.info_of(self.customers)
        customers = self._pd("customers")
        revenue = float(customers["monetary"].sum()) if len(customers) else 0.0
        items = [
            ("customers", f"{len(customers):,}"),
            ("as of", str(info.get("as_of"))),
            ("revenue", f"{revenue:,.2f}"),
            ("active customers", f"{k.get('active_customers', 0):,}"),
            ("repeat-purchase rate", _pct(k.get("repeat_purchase_rate"))),
            ("churn rate", _pct(k.get("churn_rate"))),
            ("revenue share of the top 20 %", _pct(k.get("top20_revenue_share"))),
            ("rows used / in", f"{info.get('rows_used', 0):,} / {info.get('rows_in', 0):,}"),
        ]
        if "clv" in customers.columns:
            horizon = self.clv_model.get("horizon_months")
            items.append((f"expected {horizon}-month CLV, all customers", f"{customers['clv'].sum():,.2f}"))
        if self.clusters is not None:
            items.append(("clusters", str(len(self.clusters))))
        return items

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML report (figures embedded as PNG when matplotlib is
        installed); written to `path` when given. Returns the HTML."""
        parts = [f"<h1>{html.escape(self._title())}</h1>", self._html_body(figure=True, full=True)]
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>rfmkit report</title>"
            f"<style>{_CSS}</style></head><body class='rfmkit'>" + "".join(parts) + "</body></html>"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return (
            f"<div class='rfmkit'><style>{_CSS}</style><h3>{html.escape(self._title())}</h3>"
            + self._html_body(figure=True, full=False)
            + "</div>"
        )

    def _html_body(self, *, figure: bool, full: bool) -> str:
        out = ["<table class='headline'>"]
        for name, value in self._headline():
            out.append(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>")
        out.append("</table>")
        if figure:
            out.append(self._figure_html(full))
        out.append("<h4>Segments</h4>" + _table_html(self._pd("segments")))
        if self.clusters is not None:
            out.append("<h4>Clusters</h4>" + _table_html(self._pd("clusters")))
        if self.comparison is not None:
            scores = ", ".join(f"{k} {v:.3f}" for k, v in self.comparison.scores().items())
            out.append(f"<h4>Segments vs clusters</h4><p>{html.escape(scores)}</p>")
            out.append(_table_html(frames.indexed_pandas(self.comparison.crosstab)))
        out.append("<h4>Value tiers</h4>" + _table_html(self._pd("tiers")))
        out.append("<h4>Data quality</h4>" + _table_html(self._pd("quality")))
        if full:
            out.append("<h4>Top customers by value</h4>" + _table_html(self._top_customers(20)))
        for note in self.notes:
            out.append(f"<p class='note'>{html.escape(note)}</p>")
        return "".join(out)

    def _top_customers(self, n: int) -> pd.DataFrame:
        customers = self._pd("customers")
        by = "clv" if "clv" in customers.columns else "monetary"
        return customers.sort_values(by, ascending=False).head(n)

    def _figure_html(self, full: bool) -> str:
        try:
            from rfmkit import plot

            plt = plot._pyplot()
        except ImportError:
            return "<p class='note'>install matplotlib (pip install 'rfmkit[plot]') to see the charts</p>"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", plot.PlotFontWarning)
            if full:
                figure = self.plot()
            else:
                figure, ax = plt.subplots(figsize=(6, 0.3 * len(self._pd("segments")) + 1.5), layout="constrained")
                plot.segments(self._pd("segments"), ax=ax)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=80)
            plt.close(figure)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f"<img alt='rfmkit charts' src='data:image/png;base64,{encoded}'/>"

    # ------------------------------------------------------------------ files

    def tables(self) -> dict[str, Any]:
        """The report's tables by name (those that exist), in the kind of table `analyze`
        was given (pandas, polars or pyarrow)."""
        out: dict[str, Any] = {
            "customers": self.customers,
            "segments": self.segments,
            "tiers": self.tiers,
            "kpis": frames.from_pandas(self._kpi_table(), self.kind),
            "quality": self.quality,
        }
        if self.clusters is not None:
            out["clusters"] = self.clusters
        if self.choose_k is not None:
            out["choose_k"] = self.choose_k
        if self.comparison is not None:
            out["crosstab"] = self.comparison.crosstab
        return out

    def _kpi_table(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.kpis, dtype=object)}).rename_axis("kpi")

    def _pandas_tables(self) -> dict[str, pd.DataFrame]:
        """`tables` as indexed pandas, for the files."""
        out: dict[str, pd.DataFrame] = {
            "customers": self._pd("customers"),
            "segments": self._pd("segments"),
            "tiers": self._pd("tiers"),
            "kpis": self._kpi_table(),
            "quality": self._pd("quality"),
        }
        if self.clusters is not None:
            out["clusters"] = self._pd("clusters")
        if self.choose_k is not None:
            out["choose_k"] = self._pd("choose_k")
        if self.comparison is not None:
            out["crosstab"] = frames.indexed_pandas(self.comparison.crosstab)
        return out

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Writes each table as ``DIRECTORY/<name>.csv``; returns the paths."""
        return self._write(directory, "csv")

    def to_parquet(self, directory: str | Path) -> list[Path]:
        """Writes each table as ``DIRECTORY/<name>.parquet`` (needs pyarrow); returns the paths."""
        return self._write(directory, "parquet")

    def to_excel(self, path: str | Path) -> Path:
        """Writes every table to one workbook, a sheet per table (needs openpyxl); a folder
        (existing, or written with a trailing slash) gets ``report.xlsx`` in it. Returns
        the workbook's path."""
        folder = str(path).endswith(("/", "\\")) or Path(path).is_dir()
        path = Path(path) / "report.xlsx" if folder else Path(path)
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise InvalidParameterError(
                f"to_excel({str(path)!r}): name a .xlsx file, or a folder (an existing one, or written with a "
                f"trailing slash)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with pd.ExcelWriter(path) as writer:
                for name, table in self._pandas_tables().items():
                    _plain(table).to_excel(writer, sheet_name=name)
        except ImportError:
            raise ImportError("writing Excel needs openpyxl: pip install openpyxl") from None
        return path

    def _write(self, directory: str | Path, kind: str) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, table in self._pandas_tables().items():
            path = directory / f"{name}.{kind}"
            plain = _plain(table)
            if kind == "csv":
                write_csv(plain, path)
            else:
                try:
                    plain.to_parquet(path)
                except ImportError:
                    raise ImportError("writing Parquet needs pyarrow: pip install 'rfmkit[parquet]'") from None
            paths.append(path)
        return paths


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for files: JSON-safe attrs, string column names."""
    out = table.copy()
    out.attrs = {}
    out.columns = [str(c) for c in out.columns]
    return out


def _pct(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _table_html(table: pd.DataFrame, max_rows: int = 30) -> str:
    return table.head(max_rows).to_html(float_format=lambda v: f"{v:,.3f}", border=0, classes="rfmkit-table")


_CSS = (
    ".rfmkit table{border-collapse:collapse;font-size:12px;margin:4px 0 12px}"
    ".rfmkit th,.rfmkit td{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}"
    ".rfmkit table.headline th{text-align:left}.rfmkit .note{color:#666;font-style:italic}"
    ".rfmkit img{max-width:100%}"
)


# --------------------------------------------------------------------------- analyze


def analyze(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: Any = None,
    scheme: Any = "rfm11",
    bins: int = 5,
    k: Any = "auto",
    k_range: Any = range(3, 9),
    clv: bool = True,
    margin: float = 1.0,
    clv_horizon: int = 12,
    discount_rate: float = 0.01,
    churn_after: int = 365,
    lang: str = "en",
    random_state: int | None = 0,
    progress: bool = True,
    zero: str | None = None,
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> Report:
    """From a transaction table to a `Report`: RFM, scores, segments, value tiers, K-means
    clusters with a chosen k, segments vs clusters, KPIs and CLV — in one call.

    Parameters
    ----------
    data : table, or an input read in batches
        One row per transaction (or order line with `order`), as for `rfmkit.rfm`. An
        input read in batches is read twice with `clv` (the RFM table, then the BTYD
        summary): files, a Dataset, a LazyFrame or a list of record batches, not a reader.
    customer, date, amount, order, as_of, window, returns, invalid, date_format, dayfirst
        As for `rfmkit.rfm`. `window` applies to the RFM table, the scores, segments and
        clusters; the CLV models are fitted on each customer's whole history up to
        `as_of` (a window would make long-standing customers look new to BG/NBD).
    zero : {"drop", "keep"} or None, default None
        Zero-amount rows. ``None`` lets each step use its own default: the RFM table
        drops them (`rfmkit.rfm`: frequency and monetary count paid purchases), the BTYD
        summary of the CLV step keeps them as purchases (`rfmkit.clv.summary`, as
        lifetimes and the papers). ``"drop"`` or ``"keep"`` applies to both steps.
    scheme : str or SegmentScheme, default "rfm11"
        The segment scheme (`rfmkit.segment`).
    bins : int, default 5
        Quantile score bins (`rfmkit.score`).
    k : "auto", int or None, default "auto"
        Clusters: ``"auto"`` picks k with `rfmkit.choose_k` over `k_range` (the k with the
        highest silhouette); an int fits that many; ``None`` (or 0) skips clustering.
    k_range : iterable of int, default range(3, 9)
        The k tried by ``k="auto"``. It starts at 3: RFM features often split best into
        "active" and "lapsed", which is too coarse to act on; pass ``range(2, 9)`` to
        let 2 win.
    clv : bool, default True
        Fit BG/NBD + Gamma-Gamma on the daily BTYD summary (`rfmkit.clv.summary` up to
        the day before `as_of`, returns left out and zero amounts kept as that summary
        does by default) and add
        ``p_alive``, ``expected_purchases`` and ``clv`` per customer. When the models
        cannot be fitted (too few repeat customers, no convergence) the report says so in
        ``notes`` and the tiers use monetary instead.
    margin : float, default 1.0
        Profit margin applied to CLV (1.0: CLV in revenue).
    clv_horizon : int, default 12
        CLV horizon in months; ``expected_purchases`` is over the same horizon.
    discount_rate : float, default 0.01
        Monthly discount rate of the CLV.
    churn_after : int, default 365
        Days without a purchase after which a customer counts as churned (`rfmkit.kpis`).
    lang : {"en", "zh"}
        Labels of segments, tiers and cluster names.
    random_state : int or None, default 0
        Seed of the clustering (the same seed gives the same report).
    progress : bool, default True
        A progress bar over the steps (when tqdm is installed).

    Returns
    -------
    Report

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(400, seed=2)
    >>> report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount",
    ...                         order="order_id", k=3, progress=False)
    >>> report.customers.columns.tolist()[:3]
    ['recency', 'frequency', 'monetary']
    >>> len(report.clusters), int(report.segments["customers"].sum()) == len(report.customers)
    (3, True)
    >>> sorted(report.kpis)[:3]
    ['active_customers', 'churn_rate', 'customers']
    """
    import rfmkit

    passed = dict(locals())
    if lang not in ("en", "zh"):
        raise InvalidParameterError(f"lang={lang!r} is not one of 'en', 'zh'")
    if k == 0:
        k = None
    if not (k is None or k == "auto" or (isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1)):
        raise InvalidParameterError(f"k must be 'auto', a positive number of clusters or None, got {k!r}")
    if not isinstance(clv, bool):
        raise InvalidParameterError(f"clv must be True or False, got {clv!r}")
    if clv:
        _sources.require_rereadable(data, "rfmkit.analyze", "the RFM table, then the BTYD summary of the CLV step")
    if not (
        isinstance(clv_horizon, (int, np.integer)) and not isinstance(clv_horizon, bool) and 1 <= clv_horizon <= 1200
    ):
        raise InvalidParameterError(
            f"clv_horizon={clv_horizon!r} must be the CLV horizon in whole months, 1 to 1200 (e.g. 12)"
        )
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)) or not 0 < margin <= 1:
        raise InvalidParameterError(
            f"margin={margin!r} must be the profit share of revenue, above 0 and at most 1 "
            f"(e.g. 0.3 for a 30 % margin; 1.0 values revenue)"
        )
    settings = arguments(
        analyze, passed, "data", "k_range", "progress", "returns", "invalid", "date_format", "dayfirst"
    )
    settings.update(scheme=scheme if isinstance(scheme, str) else repr(scheme), k=k)
    names = ["RFM table", "scores and segments"]
    if clv:
        names.append("CLV models")
    if k is not None:
        names += ["choosing k"] * (k == "auto") + ["clusters", "comparison"]
    steps = Steps(names, enabled=progress)
    notes: list[str] = []
    try:
        steps.start("RFM table")
        # rfm's warnings (what it dropped) are raised again at the caller's line, not here.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = rfmkit.rfm(data, **pick(passed, ROWS, "zero"), **_zero_option(zero))
        for warning in caught:
            warnings.warn(warning.message, warning.category, stacklevel=2)
        kind = frames.kind_of(table)
        table = frames.indexed_pandas(table)
        info = table.attrs["rfmkit"]
        # the CLV step reads the same date column: with the format found here, not inferred again
        date_format = date_format or info.get("date_format")
        steps.start("scores and segments")
        scored = rfmkit.score(table, bins=bins)
        customers = rfmkit.segment(scored, scheme, lang=lang)
        clv_model: dict[str, Any] = {}
        if clv:
            steps.start("CLV models")
            clv_columns, clv_model = _clv(
                data,
                customer,
                date,
                amount,
                info,
                margin,
                clv_horizon,
                discount_rate,
                zero,
                invalid,
                notes,
                {"date_format": date_format, "dayfirst": dayfirst},
            )
            if clv_columns is not None:
                customers = customers.join(clv_columns)
        tier_by = "clv" if "clv" in customers.columns else "monetary"
        customers = rfmkit.value_tiers(customers, by=tier_by, lang=lang)
        clusters = choose = comparison = None
        net_negative = None
        if k is not None and len(customers) > 0:
            try:
                if k == "auto":
                    steps.start("choosing k")
                    k_values = [value for value in k_range if value < len(customers)]
                    if not k_values:
                        raise InvalidDataError(f"no k of k_range={k_range!r} is below the {len(customers)} customers")
                    # the model of the suggested k is the one choose_k fitted: not fitted again
                    choose, fitted = _choose_k(customers, k_values, random_state)
                    steps.start("clusters")
                    model = fitted(int(choose.attrs["rfmkit"]["suggested_k"]))
                else:
                    steps.start("clusters")
                    model = rfmkit.KMeans(int(k), random_state=random_state).fit(customers)
            except InvalidDataError as error:
                # Data that cannot be clustered (one customer, every customer with one
                # purchase) still gets its report.
                choose = None
                notes.append(f"clusters skipped: {error}")
            else:
                labels = model.labels_
                net_negative = _net_negative_customers(customers, model)
                if net_negative:
                    notes.append(
                        f"{net_negative:,} customer(s) have a negative clustered feature (net-negative monetary: "
                        "returns above purchases); they are clustered like the others, on the signed log "
                        "sign(x)·log1p(|x|)"
                    )
                # Named after the segments shown beside them, in both languages.
                clusters = model.profile(customers, scheme, segments=customers["segment"])
                name_column = "name_zh" if lang == "zh" else "name_en"
                customers["cluster"] = labels
                customers["cluster_name"] = clusters[name_column].to_numpy()[labels]
                steps.start("comparison")
                comparison = rfmkit.compare(customers["segment"], customers["cluster"])
        segments = rfmkit.segment_summary(customers, by="segment")
        tiers = rfmkit.segment_summary(customers, by="tier")
        kpis = rfmkit.kpis(customers, churn_after=churn_after)
    finally:
        steps.close()
    customers.attrs["rfmkit"] = info
    quality_rows = {"rows_in": info["rows_in"], "rows_used": info["rows_used"]}
    quality_rows.update({f"dropped: {reason}": count for reason, count in info["dropped"].items()})
    if net_negative is not None:
        quality_rows[NET_NEGATIVE_ROW] = net_negative
    quality = pd.DataFrame({"rows": list(quality_rows.values())}, index=pd.Index(list(quality_rows), name="accounting"))

    def back(table: Any) -> Any:  # in the kind of table the caller gave
        return None if table is None else frames.from_pandas(table, kind, frames.info_of(table) or None)

    if comparison is not None:
        comparison = dataclasses.replace(
            comparison,
            crosstab=back(comparison.crosstab),
            row_shares=back(comparison.row_shares),
            column_shares=back(comparison.column_shares),
            clusters=back(comparison.clusters),
        )
    return Report(
        customers=back(customers),
        segments=back(segments),
        clusters=back(clusters),
        choose_k=back(choose),
        comparison=comparison,
        tiers=back(tiers),
        kpis=kpis,
        quality=back(quality),
        clv_model=clv_model,
        settings=settings,
        notes=notes,
        kind=kind,
    )


def _choose_k(customers: pd.DataFrame, k_values: list[int], random_state: Any) -> tuple[Any, Any]:
    """`rfmkit.choose_k` with its defaults, and the fitted model of each k."""
    import inspect

    from rfmkit._cluster import _choose_k, choose_k

    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(choose_k).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name != "k"
    }
    return _choose_k(customers, k_values, **{**defaults, "random_state": random_state})


def _zero_option(zero: str | None) -> dict[str, Any]:
    """`zero=` for one step: nothing when None, so that the step keeps its own default."""
    return {} if zero is None else {"zero": zero}


def _net_negative_customers(customers: pd.DataFrame, model: Any) -> int:
    """Customers with a negative value in a feature the model clustered on (in an RFM
    table only monetary can be: returns above purchases)."""
    names = list(model.feature_names_in_)
    return int((customers[names].to_numpy(dtype=np.float64) < 0).any(axis=1).sum())


def _clv(
    data: Any,
    customer: str,
    date: str,
    amount: str,
    info: dict[str, Any],
    margin: float,
    horizon: int,
    discount_rate: float,
    zero: str | None,
    invalid: str,
    notes: list[str],
    dates: dict[str, Any],
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """BG/NBD + Gamma-Gamma on the daily BTYD summary up to the day before `as_of`.

    The summary keeps its own default for returns (dropped and counted): BG/NBD counts
    purchases and Gamma-Gamma needs the positive spend of each purchase; and for zero
    amounts (kept, as lifetimes) unless `zero` is given."""
    import rfmkit
    from rfmkit._units import time_unit

    unit = time_unit("D")

    if info.get("as_of") is None:
        return None, {"skipped": "no valid rows"}
    end = (pd.Timestamp(info["as_of"]) - pd.Timedelta(days=1)).date().isoformat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        summary = rfmkit.clv.summary(
            data,
            customer=customer,
            date=date,
            amount=amount,
            freq=unit.canonical,
            observation_period_end=end,
            invalid=invalid,
            **dates,
            **_zero_option(zero),
        )
    summary = frames.indexed_pandas(summary)
    repeat = summary["frequency"] > 0
    if repeat.sum() < 10 or len(summary) < 20:
        note = (
            f"CLV skipped: {int(repeat.sum())} repeat customers of {len(summary)} are too few to fit "
            "BG/NBD + Gamma-Gamma (need at least 10 of 20)"
        )
        notes.append(note)
        return None, {"skipped": note}
    try:
        bgf = rfmkit.clv.BetaGeoFitter().fit(summary)
        spenders = repeat & (summary["monetary_value"] > 0)
        ggf = rfmkit.clv.GammaGammaFitter().fit(
            summary.loc[spenders, "frequency"], summary.loc[spenders, "monetary_value"]
        )
        # The horizon in months, in the summary's unit (lifetimes' month: 30 days).
        t = horizon * unit.periods_per_month
        f, r, big_t = summary["frequency"], summary["recency"], summary["T"]
        columns = pd.DataFrame(index=summary.index)
        columns["p_alive"] = np.asarray(bgf.conditional_probability_alive(f, r, big_t), dtype=np.float64)
        columns["expected_purchases"] = np.asarray(
            bgf.conditional_expected_number_of_purchases_up_to_time(t, f, r, big_t), dtype=np.float64
        )
        value = ggf.customer_lifetime_value(
            bgf,
            f,
            r,
            big_t,
            summary["monetary_value"],
            time=horizon,
            discount_rate=discount_rate,
            freq=unit.canonical,
        )
        columns["clv"] = margin * np.asarray(value, dtype=np.float64)
    except RfmkitError as error:
        note = f"CLV skipped: {error}"
        notes.append(note)
        return None, {"skipped": note}
    model = {
        "bgnbd": bgf,
        "gamma_gamma": ggf,
        "horizon_months": horizon,
        "discount_rate_per_month": discount_rate,
        "margin": margin,
        "time_unit": unit.canonical,
        "observation_period_end": end,
    }
    return columns, model
