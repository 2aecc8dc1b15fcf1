"""`Report`: the tables of `rfmkit.analyze`, their figures, HTML page and files."""

from __future__ import annotations

import base64
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
from rfmkit._io.files import write_csv, write_parquet
from rfmkit.exceptions import InvalidParameterError

#: The quality row that counts the clustered customers with a negative feature.
NET_NEGATIVE_ROW = "customers with net-negative monetary (clustered on the signed log)"


@dataclass
class Report:
    """Everything `rfmkit.analyze` computed, as tables.

    The tables are of the kind `analyze` was given (`kind`): pandas, or polars or pyarrow
    with what pandas holds in the index as the first column; `pandas(name)` gives any of
    them as pandas.

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

    customers: Any
    segments: Any
    clusters: Any
    choose_k: Any
    comparison: Any
    tiers: Any
    kpis: dict[str, Any]
    quality: Any
    clv_model: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[Any] = field(default_factory=list)
    kind: str = "pandas"
    #: The tables as pandas, as `analyze` made them (the figures, page and files use them).
    _pandas: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ figures

    def pandas(self, name: str) -> Any:
        """Table `name` (``"customers"``, ``"segments"``, ``"clusters"``, ``"choose_k"``,
        ``"tiers"``, ``"quality"`` or ``"crosstab"``) as pandas, indexed as the pandas report
        gives it, whatever the kind of the report's tables; None when it has none.

        Examples
        --------
        >>> import polars as pl, rfmkit
        >>> orders = pl.from_pandas(rfmkit.datasets.make_transactions(300, seed=1))
        >>> report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount",
        ...                         k=None, clv=False, progress=False)
        >>> type(report.segments).__module__.split(".")[0], type(report.pandas("segments")).__module__
        ('polars', 'pandas')
        """
        if name in self._pandas:
            return self._pandas[name]
        table = (
            self.comparison.crosstab
            if name == "crosstab" and self.comparison is not None
            else getattr(self, name, None)
        )
        return None if table is None else frames.indexed_pandas(table)

    def plot(self, *, figsize: tuple[float, float] = (16, 10)) -> Any:
        """A dashboard figure: segments, the R×F heat map, the choose-k curves, the
        cluster centres, the segment × cluster crosstab and the CLV distribution
        (panels without data are left out). Needs matplotlib (``rfmkit[plot]``).

        Returns
        -------
        matplotlib.figure.Figure
            Not registered with pyplot: a notebook shows it once (as the cell's value),
            not twice, and no figure is left open.
        """
        from rfmkit import plot

        plot._pyplot()  # matplotlib, or the install hint
        from matplotlib.figure import Figure

        panels: list[Callable[[Any], Any]] = [
            lambda ax: plot.segments(self.pandas("segments"), ax=ax),
            lambda ax: plot.rf_heatmap(self.pandas("customers"), ax=ax),
        ]
        if self.choose_k is not None:
            panels.append(lambda ax: plot.choose_k(self.pandas("choose_k"), ax=ax))
        if self.clusters is not None:
            panels.append(lambda ax: plot.cluster_centers(self._centres(), ax=ax))
        if self.comparison is not None:
            panels.append(lambda ax: plot.crosstab(self.comparison, ax=ax))
        if "clv" in frames.Frame.of(self.customers).names:
            panels.append(lambda ax: plot.clv_distribution(self.pandas("customers")["clv"], ax=ax))
        rows = math.ceil(len(panels) / 3)
        figure = Figure(figsize=(figsize[0], figsize[1] * rows / 2), layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, 3)).ravel()
        for draw, ax in zip(panels, axes):
            draw(ax)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        figure.suptitle(self._title())
        return figure

    def _centres(self) -> pd.DataFrame:
        assert self.clusters is not None
        clusters = self.pandas("clusters")
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
        customers = self.pandas("customers")
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
        out.append("<h4>Segments</h4>" + _table_html(self.pandas("segments")))
        if self.clusters is not None:
            out.append("<h4>Clusters</h4>" + _table_html(self.pandas("clusters")))
        if self.comparison is not None:
            scores = ", ".join(f"{k} {v:.3f}" for k, v in self.comparison.scores().items())
            out.append(f"<h4>Segments vs clusters</h4><p>{html.escape(scores)}</p>")
            out.append(_table_html(self.pandas("crosstab")))
        out.append("<h4>Value tiers</h4>" + _table_html(self.pandas("tiers")))
        out.append("<h4>Data quality</h4>" + _table_html(self.pandas("quality")))
        if full:
            out.append("<h4>Top customers by value</h4>" + _table_html(self._top_customers(20)))
        for note in self.notes:
            out.append(f"<p class='note'>{html.escape(note)}</p>")
        return "".join(out)

    def _top_customers(self, n: int) -> pd.DataFrame:
        customers = self.pandas("customers")
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
                figure, ax = plt.subplots(figsize=(6, 0.3 * len(self.pandas("segments")) + 1.5), layout="constrained")
                plot.segments(self.pandas("segments"), ax=ax)
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
            "customers": self.pandas("customers"),
            "segments": self.pandas("segments"),
            "tiers": self.pandas("tiers"),
            "kpis": self._kpi_table(),
            "quality": self.pandas("quality"),
        }
        if self.clusters is not None:
            out["clusters"] = self.pandas("clusters")
        if self.choose_k is not None:
            out["choose_k"] = self.pandas("choose_k")
        if self.comparison is not None:
            out["crosstab"] = self.pandas("crosstab")
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
                    write_parquet(plain, path)
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
