"""`rfmkit.KMeans` and `rfmkit.choose_k`: k-means clusters of customers on RFM features."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit import _frame
from rfmkit._segments import classic8_segments
from rfmkit.exceptions import DtypeError, InvalidDataError, InvalidParameterError, NotFittedError

RFM_FEATURES = ("recency", "frequency", "monetary")
TRANSFORMS = (None, "log1p")
SCALES = (None, "standard")
BACKENDS = ("auto", "rfmkit", "linfa")
SUGGESTION_RULE = (
    "the k with the highest mean silhouette (the smallest such k on a tie); "
    "read it together with the inertia elbow and the business use"
)

# --------------------------------------------------------------------------- inputs


@dataclass
class _Features:
    """The feature matrix of an input, with what is needed to name rows and give results back."""

    values: np.ndarray  # float64, n × d, C-contiguous
    names: list[str]
    frontend: str  # "pandas", "polars" or "array"
    index: Any  # row labels (pandas index, polars id column values) or None


def _feature_names(features: Any) -> list[str]:
    if isinstance(features, str):
        features = (features,)
    try:
        names = list(features)
    except TypeError:
        raise InvalidParameterError(
            f"features must be a sequence of column names, e.g. ('recency', 'frequency', 'monetary'), got {features!r}"
        ) from None
    if not names:
        raise InvalidParameterError("features is empty: name at least one column, e.g. features=('recency', 'frequency')")
    duplicates = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidParameterError(f"features names {', '.join(map(repr, duplicates))} more than once: name each column once")
    return names


def _column_values(column: _frame.Column) -> np.ndarray:
    values = column.values
    if column.frontend == "polars":
        import polars as pl

        if not (values.dtype.is_numeric() or values.dtype == pl.Boolean):
            raise DtypeError(
                f"feature column {column.name!r} has dtype {values.dtype}; k-means needs numbers: "
                f"cast it first, e.g. pl.col({column.name!r}).cast(pl.Float64)"
            )
        return values.cast(pl.Float64).fill_null(float("nan")).to_numpy()
    if column.frontend == "arrow":
        values = values.to_pandas()
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        raise DtypeError(
            f"feature column {column.name!r} has dtype {dtype}; k-means needs numbers: convert it first, "
            f"e.g. df[{column.name!r}] = pd.to_numeric(df[{column.name!r}], errors='coerce')"
        )
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _features(data: Any, names: list[str]) -> _Features:
    """Coerces a table (pandas, polars, pyarrow) or a 2-D array to a float64 matrix."""
    if isinstance(data, (pd.DataFrame,)) or _frame._is_polars(data) or _frame._is_arrow_table(data):
        frame = _frame.Frame.of(data)
        columns = [_column_values(frame.column(name, "feature")) for name in names]
        values = np.ascontiguousarray(np.column_stack(columns) if columns else np.empty((frame.n_rows, 0)), dtype=np.float64)
        values = values.reshape(frame.n_rows, len(names))
        if frame.frontend == "pandas":
            index = data.index
        elif frame.frontend == "polars":
            index = data.get_column(data.columns[0]) if data.columns[0] not in names else None
        else:
            index = None
        return _Features(values, [str(n) for n in names], "polars" if frame.frontend == "polars" else "pandas", index)
    if isinstance(data, pd.Series) or (hasattr(data, "to_numpy") and type(data).__name__ == "Series"):
        raise DtypeError("got a single column (a Series); pass a table with the feature columns, or a 2-D array")
    try:
        values = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise DtypeError(
            f"data must be a pandas or polars DataFrame (e.g. the rfmkit.rfm table) or a 2-D array of numbers, "
            f"got {type(data).__module__}.{type(data).__qualname__}"
        ) from None
    if values.ndim != 2:
        raise DtypeError(
            f"an array input must be 2-D (one row per customer, one column per feature), got {values.ndim}-D; "
            f"use x.reshape(-1, 1) for a single feature"
        )
    width = values.shape[1]
    array_names = [str(n) for n in names] if width == len(names) else [f"x{j}" for j in range(width)]
    return _Features(np.ascontiguousarray(values), array_names, "array", None)


def _row_name(features: _Features, row: int) -> str:
    if features.index is not None:
        value = features.index[row]
        return f"customer {value.item() if isinstance(value, np.generic) else value!r}"
    return f"row {row}"


def _check_finite(features: _Features) -> None:
    bad = ~np.isfinite(features.values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        count = int(bad.any(axis=1).sum())
        raise InvalidDataError(
            f"feature {features.names[cols[0]]!r} is {features.values[rows[0], cols[0]]} for "
            f"{_row_name(features, int(rows[0]))} ({count} customer(s) have a NaN, null or infinite feature); "
            f"k-means needs finite values: drop or fill them first, e.g. table.dropna()"
        )


def _seed(random_state: Any) -> int:
    """A 64-bit seed from scikit-learn-style `random_state` (None: numpy's global RNG)."""
    if random_state is None:
        return int(np.random.randint(0, np.iinfo(np.int32).max))
    if isinstance(random_state, (bool, np.bool_)):
        raise InvalidParameterError(f"random_state must be None, an int or a numpy random generator, got {random_state!r}")
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise InvalidParameterError(f"random_state={random_state} must be >= 0")
        return int(random_state) % (1 << 64)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 1 << 63))
    raise InvalidParameterError(f"random_state must be None, an int or a numpy random generator, got {random_state!r}")


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise InvalidParameterError(f"{name}={value} is below {minimum}: pass a whole number >= {minimum}")
    return int(value)


@dataclass
class _Preprocessing:
    """The transform fitted on the training data: log1p (optional), then (x - mean) / std."""

    names: list[str]
    transform: str | None
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: _Features, transform: str | None, scale: str | None) -> tuple[_Preprocessing, np.ndarray]:
        values = _apply_transform(features, transform)
        d = values.shape[1]
        if scale == "standard":
            mean = values.mean(axis=0)
            std = values.std(axis=0)
            # Test the raw values: the std of a constant column can round to a tiny non-zero.
            constant = np.nonzero((features.values.max(axis=0) == features.values.min(axis=0)) | (std == 0))[0]
            if len(constant):
                name = features.names[constant[0]]
                raise InvalidDataError(
                    f"feature {name!r} is constant (every one of the {len(values)} customers has "
                    f"{features.values[0, constant[0]].item()!r}), so it cannot be standardised and carries no "
                    f"information: drop it from features=, or pass scale=None"
                )
        else:
            mean, std = np.zeros(d), np.ones(d)
        prep = cls(features.names, transform, mean, std)
        if scale != "standard":
            # (x - 0) / 1 is x: skip two passes and two copies of the points.
            return prep, np.ascontiguousarray(values)
        return prep, np.ascontiguousarray((values - mean) / std)

    def apply(self, features: _Features) -> np.ndarray:
        if features.values.shape[1] != len(self.names):
            raise InvalidDataError(
                f"the model was fitted on {len(self.names)} features {self.names} but got "
                f"{features.values.shape[1]}: pass the same features"
            )
        return np.ascontiguousarray((_apply_transform(features, self.transform) - self.mean) / self.std)

    def invert(self, transformed: np.ndarray) -> np.ndarray:
        values = transformed * self.std + self.mean
        return np.expm1(values) if self.transform == "log1p" else values


def _apply_transform(features: _Features, transform: str | None) -> np.ndarray:
    values = features.values
    if transform == "log1p":
        bad = values <= -1
        if bad.any():
            rows, cols = np.nonzero(bad)
            name = features.names[cols[0]]
            raise InvalidDataError(
                f"feature {name!r} is {values[rows[0], cols[0]]} for {_row_name(features, int(rows[0]))} "
                f"({int(bad.any(axis=1).sum())} customer(s) at or below -1, e.g. returns exceeding purchases); "
                f"log1p needs values > -1: drop those customers (table[table[{name!r}] > -1]) or pass transform=None"
            )
        return np.log1p(values)
    return values


# --------------------------------------------------------------------------- the estimator


class _TransformSlot:
    """``KMeans.transform``: setting it stores the ``transform`` parameter, reading it gives
    the scikit-learn ``transform`` method (distances to the centres)."""

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_transform_param"] = value

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return obj._distances


class KMeans:
    """K-means clusters of customers, in the shape of a scikit-learn estimator.

    The features (by default R, F, M of the `rfmkit.rfm` table) are transformed with
    ``log1p`` and standardised (``(x - mean) / std``, population std) before clustering;
    the centres are reported back in the original units. The default backend is
    rfmkit's own Rust k-means: k-means++ seeding (scikit-learn's greedy variant),
    `n_init` restarts, Lloyd's iterations with Hamerly's bounds, parallel over customers,
    with scikit-learn's stopping rule. ``backend="linfa"`` fits with linfa-clustering.

    Parameters
    ----------
    n_clusters : int, default 4
        Number of clusters, at least 1 and at most the number of distinct customers.
    features : sequence of str, default ("recency", "frequency", "monetary")
        Columns to cluster on (ignored for a 2-D array input, whose columns are used).
    transform : {"log1p", None}, default "log1p"
        Applied to every feature first; ``log1p`` needs values > -1.
    scale : {"standard", None}, default "standard"
        Standardise each (transformed) feature; a constant feature is then an error.
    n_init : int, default 10
        Restarts from different k-means++ seeds; the lowest inertia wins.
    max_iter : int, default 300
        Maximum iterations of one run.
    tol : float, default 1e-4
        A run stops when the summed squared centre shift is at most ``tol`` times the
        mean variance of the (transformed) features, or when no label changes.
    random_state : int, numpy random generator or None
        Seed for reproducible results (None: drawn from numpy's global RNG).
    backend : {"auto", "rfmkit", "linfa"}, default "auto"
        "auto" is "rfmkit". The linfa backend reports no ``n_iter_`` (None).

    Attributes
    ----------
    labels_ : numpy.ndarray of int64
        Cluster of each training row.
    cluster_centers_ : pandas.DataFrame or polars.DataFrame
        One row per cluster, one column per feature, in the original units.
    inertia_ : float
        Sum of squared distances to the centres in the transformed (log1p, scaled) space:
        comparable to scikit-learn's on the same transformed data.
    n_iter_ : int or None
        Iterations of the best run.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
    >>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
    >>> model = rfmkit.KMeans(n_clusters=3, random_state=0).fit(table)
    >>> model.labels_.shape == (len(table),)
    True
    >>> list(model.cluster_centers_.columns)
    ['recency', 'frequency', 'monetary']
    >>> bool((model.predict(table) == model.labels_).all())
    True
    >>> model
    KMeans(n_clusters=3, random_state=0)
    """

    transform = _TransformSlot()

    def __init__(
        self,
        n_clusters: int = 4,
        *,
        features: Iterable[str] = RFM_FEATURES,
        transform: str | None = "log1p",
        scale: str | None = "standard",
        n_init: int = 10,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
        backend: str = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.features = features
        self.transform = transform
        self.scale = scale
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend

    # ---- the scikit-learn parameter protocol

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as given.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> rfmkit.KMeans(3, random_state=1).get_params()["n_clusters"]
        3
        """
        return {
            name: self.__dict__.get("_transform_param") if name == "transform" else getattr(self, name)
            for name in self._param_names()
        }

    def set_params(self, **params: Any) -> KMeans:
        """Sets constructor parameters; returns the estimator.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> rfmkit.KMeans().set_params(n_clusters=5).n_clusters
        5
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise InvalidParameterError(f"KMeans has no parameter {name!r}; its parameters are {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = []
        for name, value in self.get_params().items():
            default = defaults.get(name)
            same = value is default or (type(value) is type(default) and value == default)
            if not same:
                shown.append(f"{name}={value!r}")
        return f"KMeans({', '.join(shown)})"

    def _validated(self) -> dict[str, Any]:
        transform = self.get_params()["transform"]
        if transform not in TRANSFORMS:
            raise InvalidParameterError(f"transform={transform!r} is not one of 'log1p', None")
        if self.scale not in SCALES:
            raise InvalidParameterError(f"scale={self.scale!r} is not one of 'standard', None")
        if self.backend not in BACKENDS:
            raise InvalidParameterError(f"backend={self.backend!r} is not one of 'auto', 'rfmkit', 'linfa'")
        tol = self.tol
        if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.number)) or not np.isfinite(tol) or tol < 0:
            raise InvalidParameterError(f"tol={tol!r} must be a finite number >= 0 (e.g. 1e-4)")
        return {
            "n_clusters": _positive_int("n_clusters", self.n_clusters),
            "n_init": _positive_int("n_init", self.n_init),
            "max_iter": _positive_int("max_iter", self.max_iter),
            "tol": float(tol),
            "backend": "rfmkit" if self.backend == "auto" else self.backend,
            "names": _feature_names(self.features),
            "transform": transform,
        }

    # ---- fitting and predicting

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Fits the clusters on a table of customers (or a 2-D array); returns self.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> points = np.array([[1.0, 1.0], [1.5, 2.0], [8.0, 8.0], [9.0, 8.5]])
        >>> model = rfmkit.KMeans(2, transform=None, scale=None, random_state=0).fit(points)
        >>> model.cluster_centers_.round(2).sort_values("x0").to_numpy().tolist()
        [[1.25, 1.5], [8.5, 8.25]]
        """
        params = self._validated()
        features = _features(X, params["names"])
        _check_fittable(features, params["n_clusters"])
        prep, points = _Preprocessing.fit(features, params["transform"], self.scale)
        result = _core.kmeans_fit(
            points,
            n_clusters=params["n_clusters"],
            n_init=params["n_init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            seed=_seed(self.random_state),
            backend=params["backend"],
        )
        self._preprocessing = prep
        self._frontend = features.frontend
        self._centers_transformed = np.ascontiguousarray(result["centers"])
        self.labels_ = result["labels"]
        self.inertia_ = float(result["inertia"])
        self.n_iter_ = result["n_iter"]
        self.n_features_in_ = len(features.names)
        self.feature_names_in_ = np.asarray(features.names, dtype=object)
        self.cluster_centers_ = _centers_frame(prep.invert(self._centers_transformed), features.names, features.frontend)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "_centers_transformed"):
            raise NotFittedError("this KMeans is not fitted yet: call fit(table) first")

    def _transformed(self, X: Any) -> np.ndarray:
        self._check_fitted()
        names = list(self._preprocessing.names)
        features = _features(X, names)
        if len(features.values) == 0:
            return np.empty((0, len(names)))
        _check_finite(features)
        return self._preprocessing.apply(features)

    def predict(self, X: Any) -> np.ndarray:
        """The nearest cluster of each customer (row) of `X`, with the fitted transform.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> points = np.array([[0.0], [1.0], [10.0], [11.0]])
        >>> model = rfmkit.KMeans(2, transform=None, scale=None, random_state=0).fit(points)
        >>> bool(model.predict(np.array([[0.5]]))[0] == model.labels_[0])
        True
        """
        points = self._transformed(X)
        return _core.kmeans_predict(points, self._centers_transformed)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fits, then returns `labels_`.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> labels = rfmkit.KMeans(2, transform=None, scale=None, random_state=0).fit_predict(np.array([[0.0], [9.0]]))
        >>> sorted(labels.tolist())
        [0, 1]
        """
        return self.fit(X).labels_

    def _distances(self, X: Any) -> np.ndarray:
        """``model.transform(X)``: Euclidean distance of each row of `X` to each centre,
        in the transformed space, as scikit-learn's ``KMeans.transform``.

        ``transform`` is both a constructor parameter (the feature transform) and this
        method: ``model.transform`` is the method, and the parameter is read with
        ``get_params()["transform"]`` and set with ``set_params(transform=...)``.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> model = rfmkit.KMeans(1, transform=None, scale=None).fit(np.array([[0.0, 0.0], [2.0, 0.0]]))
        >>> model.transform(np.array([[4.0, 0.0]])).tolist()
        [[3.0]]
        """
        points = self._transformed(X)
        return _core.kmeans_distances(points, self._centers_transformed)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fits, then returns the distances of the training rows to the centres.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> rfmkit.KMeans(1, transform=None, scale=None).fit_transform(np.array([[0.0], [2.0]])).tolist()
        [[1.0], [1.0]]
        """
        return self.fit(X)._distances(X)

    # ---- business reading

    def profile(self, table: Any) -> Any:
        """Per cluster: size, share, revenue share, mean and median R/F/M, and a name.

        The customers of `table` (an `rfmkit.rfm` table, with ``recency``, ``frequency``
        and ``monetary`` columns) are assigned with `predict`. The suggested name applies
        the classic8 rule to the cluster centre: R↑ when the centre's recency is strictly
        below the split, F↑ / M↑ when its frequency / monetary is strictly above it (a
        value equal to the split is low). Centre and split are the same kind of average,
        so that a cluster holding every customer sits exactly on the split: for a
        clustered feature, the centre is `cluster_centers_` (the mean in the transformed
        space, mapped back to original units) and the split is the mean of all customers
        of `table` in that space, mapped back the same way (with ``log1p``: the
        ``expm1`` of the mean ``log1p``); for a feature not clustered on, the cluster's
        mean against the mean of all customers. Clusters that get the same name are told
        apart by a number, in order of revenue: ``"Important Value (1)"`` is the one
        with the most revenue.

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            Indexed by ``cluster`` (polars: a first ``cluster`` column): ``customers``,
            ``customer_share``, ``revenue``, ``revenue_share``, ``recency_mean``,
            ``frequency_mean``, ``monetary_mean``, ``recency_median``,
            ``frequency_median``, ``monetary_median``, ``pattern`` (e.g. ``"R↑F↓M↑"``),
            ``name_zh``, ``name_en``.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
        >>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
        >>> profile = rfmkit.KMeans(3, random_state=0).fit(table).profile(table)
        >>> int(profile["customers"].sum()) == len(table)
        True
        >>> list(profile.columns[-3:])
        ['pattern', 'name_zh', 'name_en']
        """
        self._check_fitted()
        features = _features(table, list(RFM_FEATURES))
        labels = self.predict(table)
        values = pd.DataFrame(features.values, columns=list(RFM_FEATURES))
        k = len(self._centers_transformed)
        clusters = pd.RangeIndex(k, name="cluster")
        grouped = values.groupby(labels)
        sizes = grouped.size().reindex(clusters, fill_value=0)
        revenue = grouped["monetary"].sum().reindex(clusters, fill_value=0.0)
        total_revenue = values["monetary"].sum()
        out = pd.DataFrame(index=clusters)
        out["customers"] = sizes.to_numpy(dtype=np.int64)
        out["customer_share"] = sizes.to_numpy() / max(len(values), 1)
        out["revenue"] = revenue.to_numpy(dtype=np.float64)
        out["revenue_share"] = revenue.to_numpy() / total_revenue if total_revenue != 0 else np.nan
        means = grouped.mean().reindex(clusters)
        medians = grouped.median().reindex(clusters)
        for name in RFM_FEATURES:
            out[f"{name}_mean"] = means[name].to_numpy(dtype=np.float64)
        for name in RFM_FEATURES:
            out[f"{name}_median"] = medians[name].to_numpy(dtype=np.float64)
        centres = self._centre_values(means)
        overall = self._split_values(table, values)
        recent = centres["recency"] < overall["recency"]
        frequent = centres["frequency"] > overall["frequency"]
        valuable = centres["monetary"] > overall["monetary"]
        out["pattern"] = [
            f"R{'↑' if r else '↓'}F{'↑' if f else '↓'}M{'↑' if m else '↓'}" for r, f, m in zip(recent, frequent, valuable)
        ]
        split = {name: float(overall[name]) for name in RFM_FEATURES}
        number = _numbers_of_namesakes(out["pattern"].to_numpy(), out["revenue"].to_numpy())
        for lang in ("zh", "en"):
            names = classic8_segments(centres["recency"], centres["frequency"], centres["monetary"], split=split, lang=lang)
            out[f"name_{lang}"] = np.asarray(
                [name if n == 0 else f"{name} ({n})" for name, n in zip(names, number)], dtype=object
            )
        if _frame._is_polars(table):
            import polars as pl

            return pl.from_pandas(out.reset_index())
        return out

    def _split_values(self, table: Any, values: pd.DataFrame) -> pd.Series:
        """The classic8 split of each of R, F, M, on the scale of the centres (see `profile`)."""
        overall = values.mean()
        clustered = self._preprocessing.names
        if all(name in values.columns for name in clustered):
            transformed = self._preprocessing.apply(_features(table, clustered)).mean(axis=0)
            back = self._preprocessing.invert(transformed[None, :])[0]
            for name, value in zip(clustered, back):
                if name in overall.index:
                    overall[name] = value
        return overall

    def _centre_values(self, cluster_means: pd.DataFrame) -> pd.DataFrame:
        """R/F/M of each centre in original units: the fitted centre for a clustered
        feature, the cluster's mean otherwise."""
        centres = pd.DataFrame(self._preprocessing.invert(self._centers_transformed), columns=self._preprocessing.names)
        out = pd.DataFrame(index=cluster_means.index)
        for name in RFM_FEATURES:
            if name in centres.columns:
                out[name] = centres[name].to_numpy()
            else:
                out[name] = cluster_means[name].to_numpy()
        return out


def _numbers_of_namesakes(patterns: np.ndarray, revenue: np.ndarray) -> list[int]:
    """0 for a cluster whose pattern (hence name) no other cluster has; otherwise its
    rank, from 1, among the clusters of its pattern by revenue (highest first, then
    lowest cluster number)."""
    numbers = [0] * len(patterns)
    for pattern in dict.fromkeys(patterns):
        members = [c for c in range(len(patterns)) if patterns[c] == pattern]
        if len(members) > 1:
            for rank, c in enumerate(sorted(members, key=lambda c: (-revenue[c], c)), start=1):
                numbers[c] = rank
    return numbers


def _check_fittable(features: _Features, n_clusters: int) -> None:
    n = len(features.values)
    if n == 0:
        raise InvalidDataError("the table is empty: there are no customers to cluster")
    _check_finite(features)
    if n < n_clusters:
        raise InvalidParameterError(
            f"n_clusters={n_clusters} is more than the {n} customers in the data; ask for at most {n} clusters"
        )


def _centers_frame(centers: np.ndarray, names: list[str], frontend: str) -> Any:
    frame = pd.DataFrame(centers, columns=names, index=pd.RangeIndex(len(centers), name="cluster"))
    if frontend == "polars":
        import polars as pl

        return pl.from_pandas(frame.reset_index())
    return frame


# --------------------------------------------------------------------------- choosing k


def choose_k(
    table: Any,
    k: Iterable[int] = range(2, 11),
    *,
    features: Iterable[str] = RFM_FEATURES,
    transform: str | None = "log1p",
    scale: str | None = "standard",
    sample_size: int | None = 10_000,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: Any = None,
    backend: str = "auto",
) -> Any:
    """Fits `KMeans` for each k and scores the clusterings, to help choose k.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or 2-D array
        The customers (e.g. the `rfmkit.rfm` table).
    k : iterable of int, default range(2, 11)
        The numbers of clusters to try.
    sample_size : int or None, default 10_000
        The silhouette (O(n²)) is computed on this many customers drawn without
        replacement with the seed (the same sample for every k); None: all customers.
        The other scores use all customers.
    features, transform, scale, n_init, max_iter, tol, random_state, backend
        As for `KMeans`.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        One row per k (index ``k``; polars: a ``k`` column): ``inertia`` (transformed
        space; lower is tighter, always falls with k), ``silhouette`` (higher is better,
        -1..1), ``calinski_harabasz`` (higher is better), ``davies_bouldin`` (lower is
        better), ``n_iter``, and ``suggested`` (True on the suggested k). The metrics
        equal scikit-learn's ``silhouette_score``, ``calinski_harabasz_score`` and
        ``davies_bouldin_score`` on the same points; they are NaN for k = 1.

        The suggestion rule: the k with the highest silhouette (the smallest such k on a
        tie). It is in ``attrs["rfmkit"]`` with ``suggested_k`` and ``silhouette_sample``.

    Examples
    --------
    >>> import numpy as np, rfmkit
    >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
    >>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
    >>> scores = rfmkit.choose_k(table, k=range(2, 5), random_state=0)
    >>> list(scores.columns)
    ['inertia', 'silhouette', 'calinski_harabasz', 'davies_bouldin', 'n_iter', 'suggested']
    >>> int(scores.index[scores["suggested"]][0]) == scores.attrs["rfmkit"]["suggested_k"]
    True
    """
    ks = _k_values(k)
    base = KMeans(
        ks[0],
        features=features,
        transform=transform,
        scale=scale,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        backend=backend,
    )
    params = base._validated()
    data = _features(table, params["names"])
    _check_fittable(data, max(ks))
    _, points = _Preprocessing.fit(data, transform, scale)
    seed = _seed(random_state)
    n = len(points)
    if sample_size is not None:
        sample_size = _positive_int("sample_size", sample_size, minimum=2)
    sample = None
    if sample_size is not None and sample_size < n:
        sample = np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False)).astype(np.int64)
    rows = []
    for n_clusters in ks:
        result = _core.kmeans_fit(
            points,
            n_clusters=n_clusters,
            n_init=params["n_init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            seed=seed,
            backend=params["backend"],
        )
        labels = result["labels"]
        scores = {"silhouette": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
        if 2 <= n_clusters < n:
            scores = _core.internal_scores(points, labels, sample)
            sampled = labels if sample is None else labels[sample]
            if len(np.unique(sampled)) < 2 or len(np.unique(sampled)) >= len(sampled):
                scores["silhouette"] = np.nan
        rows.append({"k": n_clusters, "inertia": float(result["inertia"]), **scores, "n_iter": result["n_iter"]})
    out = pd.DataFrame(rows).set_index("k")
    silhouette = out["silhouette"]
    suggested = int(silhouette.idxmax()) if silhouette.notna().any() else None
    out["suggested"] = out.index == suggested
    info = {
        "suggested_k": suggested,
        "rule": SUGGESTION_RULE,
        "silhouette_sample": int(len(sample)) if sample is not None else n,
    }
    if data.frontend == "polars":
        import polars as pl

        result_pl = pl.from_pandas(out.reset_index())
        result_pl.attrs = {"rfmkit": info}  # type: ignore[attr-defined]
        return result_pl
    out.attrs["rfmkit"] = info
    return out


def _k_values(k: Any) -> list[int]:
    if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
        k = [k]
    try:
        values = list(k)
    except TypeError:
        raise InvalidParameterError(f"k must be a range or a list of cluster counts, e.g. range(2, 11), got {k!r}") from None
    if not values:
        raise InvalidParameterError("k is empty: pass the cluster counts to try, e.g. range(2, 11)")
    return [_positive_int("k", value) for value in values]
