"""`Report`: the tables of `rfmkit.analyze`, their figures, HTML page and files."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit._io.files import write_csv, write_excel, write_parquet
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
        ``expected_purchases`` (over the CLV horizon), ``p_purchase_30d`` (the
        probability of a purchase in the next 30 days), ``next_purchase_days`` (the median
        time to the next purchase, in days; NaN when the customer is more likely never to
        buy again) and ``clv``.
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
        The fitted purchase model (under its name: ``"bgnbd"``, ``"mbgnbd"`` or
        ``"pareto"``; ``"purchase_model"`` says which) and Gamma-Gamma model
        (``"gamma_gamma"``), the BTYD summary they were fitted on (``"summary"``), the
        holdout comparison of ``clv_model="auto"`` (``"choice"``) and the CLV settings, or
        the reason CLV was skipped (``"skipped"``).
    settings : dict
        The arguments of the call.
    notes : list of str
        What the analysis left out and why (e.g. CLV without enough repeat customers).
    cohorts : rfmkit.Cohorts or None
        The acquisition cohorts (`rfmkit.cohorts`) with the period `analyze` was given.
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
    ['cohort_customers', 'cohort_revenue', 'cohort_shares', 'customers', 'kpis', 'quality', 'segments', 'tiers']
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
    cohorts: Any = None
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

    def plot(self, *, figsize: tuple[float, float] = (16, 10), lang: str | None = None) -> Any:
        """A dashboard figure: segments, the R×F heat map, the choose-k curves, the
        cluster centres, the segment × cluster crosstab and the CLV distribution
        (panels without data are left out). Needs matplotlib (``rfmkit[plot]``).

        Parameters
        ----------
        figsize : (float, float)
            The size of two rows of panels, in inches.
        lang : {"en", "zh"}, optional
            The language of titles, axes and legends; default: the `lang` of `analyze`.

        Returns
        -------
        matplotlib.figure.Figure
            Not registered with pyplot: a notebook shows it once (as the cell's value),
            not twice, and no figure is left open.
        """
        from rfmkit import plot

        plot._pyplot()  # matplotlib, or the install hint
        from matplotlib.figure import Figure

        lang = self._lang(lang)
        panels: list[Callable[[Any], Any]] = [
            lambda ax: plot.segments(self.pandas("segments"), ax=ax, lang=lang),
            lambda ax: plot.rf_heatmap(self.pandas("customers"), ax=ax, lang=lang),
        ]
        if self.choose_k is not None:
            panels.append(lambda ax: plot.choose_k(self.pandas("choose_k"), ax=ax, lang=lang))
        if self.clusters is not None:
            panels.append(lambda ax: plot.cluster_centers(self._centres(lang), ax=ax, lang=lang))
        if self.comparison is not None:
            panels.append(lambda ax: plot.crosstab(self.comparison, ax=ax, lang=lang))
        if "clv" in frames.Frame.of(self.customers).names:
            panels.append(lambda ax: plot.clv_distribution(self.pandas("customers")["clv"], ax=ax, lang=lang))
        rows = math.ceil(len(panels) / 3)
        figure = Figure(figsize=(figsize[0], figsize[1] * rows / 2), layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, 3)).ravel()
        for draw, ax in zip(panels, axes):
            draw(ax)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        figure.suptitle(
            self._title(lang), **({"fontfamily": plot.cjk_font()} if lang == "zh" and plot.cjk_font() else {})
        )
        return figure

    def _lang(self, lang: str | None) -> str:
        from rfmkit._scores import check_lang

        return check_lang(lang if lang is not None else self.settings.get("lang", "en"))

    def _centres(self, lang: str = "en") -> pd.DataFrame:
        assert self.clusters is not None
        clusters = self.pandas("clusters")
        columns = [c for c in ("recency_mean", "frequency_mean", "monetary_mean") if c in clusters.columns]
        centres = clusters[columns].rename(columns=lambda c: c.removesuffix("_mean"))
        name = "name_zh" if lang == "zh" else "name_en"
        if name in clusters.columns:
            centres.index = [f"{i} {n}" for i, n in zip(clusters.index, clusters[name])]
        return centres

    def _title(self, lang: str = "en") -> str:
        import rfmkit
        from rfmkit._text import word

        info = frames.info_of(self.customers)
        subtitle = word(
            "subtitle", lang, customers=len(self.customers), as_of=info.get("as_of") or "–", version=rfmkit.__version__
        )
        return f"{word('title', lang)}: {subtitle}"

    # ------------------------------------------------------------------ HTML

    def to_html(self, path: str | Path | None = None, *, lang: str | None = None) -> Any:
        """The report as one self-contained HTML page: inline CSS and charts (SVG; with
        matplotlib installed), no network, printable; in English or Chinese throughout.

        Sections: headline figures, segments with their recommended actions, the R × F
        heat map, value tiers and the value matrix, clusters, segments vs clusters, CLV,
        data quality and the method notes.

        Parameters
        ----------
        path : str or Path, optional
            Where to write the page (UTF-8).
        lang : {"en", "zh"}, optional
            Default: the `lang` of `analyze`.

        Returns
        -------
        str or Path
            The page as a string when no `path` is given (a notebook does not display it),
            else the path written (as `to_excel`, so that a notebook cell does not echo the page).
        """
        from rfmkit._report.page import page

        html = page(self, self._lang(lang))
        if path is None:
            return html
        Path(path).write_text(html, encoding="utf-8")
        return Path(path)

    def _repr_html_(self) -> str:
        from rfmkit._report.page import notebook

        return notebook(self, self._lang(None))

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
        if self.cohorts is not None:
            out.update(cohort_customers=self.cohorts.customers, cohort_shares=self.cohorts.shares)
            out["cohort_revenue"] = self.cohorts.revenue
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
        if self.cohorts is not None:
            for name in ("customers", "shares", "revenue"):
                out[f"cohort_{name}"] = self.cohorts.pandas(name)
        return out

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Writes each table as ``DIRECTORY/<name>.csv``; returns the paths."""
        return self._write(directory, "csv")

    def to_parquet(self, directory: str | Path) -> list[Path]:
        """Writes each table as ``DIRECTORY/<name>.parquet`` (needs pyarrow); returns the paths."""
        return self._write(directory, "parquet")

    def to_excel(self, path: str | Path) -> Path:
        """Writes every table to one workbook, a sheet per table with the index as its
        first column (``pip install 'rfmkit[excel]'``: rustpy-xlsxwriter writes 100,000
        customers in about a second; openpyxl alone works, about 20 times slower); a
        folder (existing, or written with a trailing slash) gets ``report.xlsx`` in it.
        Returns the workbook's path."""
        folder = str(path).endswith(("/", "\\")) or Path(path).is_dir()
        path = Path(path) / "report.xlsx" if folder else Path(path)
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise InvalidParameterError(
                f"to_excel({str(path)!r}): name a .xlsx file, or a folder (an existing one, or written with a "
                f"trailing slash)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_excel(self._pandas_tables(), path)
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
