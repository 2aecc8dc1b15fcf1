"""`rfmkit.KMeans` and `rfmkit.choose_k`: k-means clusters of customers on RFM features."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core, _params
from rfmkit._io import frames
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
    frontend: str  # "pandas", "polars", "arrow" or "array" (results as pandas)
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
        raise InvalidParameterError(
            "features is empty: name at least one column, e.g. features=('recency', 'frequency')"
        )
    duplicates = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidParameterError(
            f"features names {', '.join(map(repr, duplicates))} more than once: name each column once"
        )
    return names


def _features(data: Any, names: list[str]) -> _Features:
    """Coerces a table (pandas, polars, pyarrow) or a 2-D array to a float64 matrix."""
    if frames.is_table(data):
        frame = frames.Frame.of(data)
        columns = [frame.column(name, "feature").numbers("feature", booleans=True, purpose="k-means") for name in names]
        values = np.ascontiguousarray(
            np.column_stack(columns) if columns else np.empty((frame.n_rows, 0)), dtype=np.float64
        )
        values = values.reshape(frame.n_rows, len(names))
        index = frame.row_ids(names)
        return _Features(values, [str(n) for n in names], frame.frontend, index)
    if frames.is_series(data):
        raise DtypeError("got a single column (a Series); pass a table with the feature columns, or a 2-D array")
    try:
        values = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise DtypeError(
            f"data must be a pandas or polars DataFrame or a pyarrow Table (e.g. the rfmkit.rfm table) or a 2-D "
            f"array of numbers, "
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
        raise InvalidParameterError(
            f"random_state must be None, an int or a numpy random generator, got {random_state!r}"
        )
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
    """The transform fitted on the training data: the signed log1p (optional), then (x - mean) / std."""

    names: list[str]
    transform: str | None
    mean: np.ndarray
    std: np.ndarray
    scaled: bool = True

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
        prep = cls(features.names, transform, mean, std, scale == "standard")
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
        return _signed_expm1(values) if self.transform == "log1p" else values


def _apply_transform(features: _Features, transform: str | None) -> np.ndarray:
    values = features.values
    if transform == "log1p":
        return _signed_log1p(values)
    return values


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: log1p for x >= 0 (bit for bit), mirrored below 0, so that
    a customer whose returns exceed their purchases (net-negative monetary) is clustered
    like everyone else instead of being an error."""
    return np.copysign(np.log1p(np.abs(values)), values)


def _signed_expm1(values: np.ndarray) -> np.ndarray:
    """The inverse of `_signed_log1p`: ``sign(y) * expm1(|y|)``."""
    return np.copysign(np.expm1(np.abs(values)), values)


def _canonical(features: _Features) -> tuple[_Features, np.ndarray]:
    """The customers in canonical order (rows sorted by their values, see
    ``_core.canonical_order``) and the row of each canonical position.

    Fits and the choose-k scores run on this order, so that the same customers in any
    row order give the same results bit for bit: the seeding and the silhouette sample
    pick by position, and the means of the scaling and every sum depend on the order of
    their terms."""
    order, rows = _core.canonical_order(features.values)
    return _Features(rows, features.names, features.frontend, None), order


def _in_row_order(canonical_labels: np.ndarray, order: np.ndarray) -> np.ndarray:
    labels = np.empty_like(canonical_labels)
    labels[order] = canonical_labels
    return labels


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
    the signed ``log1p`` and standardised (``(x - mean) / std``, population std) before
    clustering; the centres are reported back in the original units. The default backend
    is rfmkit's own Rust k-means: k-means++ seeding (scikit-learn's greedy variant),
    `n_init` restarts, Lloyd's iterations with Hamerly's bounds, parallel over customers,
    with scikit-learn's stopping rule. ``backend="linfa"`` fits with linfa-clustering.

    The result does not depend on the order of the rows: the fit runs on the customers
    sorted by their feature values (a canonical order) and hands the labels back in the
    order of the input, so the same customers in any order, with the same
    `random_state`, get the same labels (the same cluster numbers) and centres.

    Parameters
    ----------
    n_clusters : int, default 4
        Number of clusters, at least 1 and at most the number of distinct customers.
    features : sequence of str, default ("recency", "frequency", "monetary")
        Columns to cluster on (ignored for a 2-D array input, whose columns are used).
    transform : {"log1p", None}, default "log1p"
        Applied to every feature first. ``"log1p"`` is the signed log,
        ``sign(x) * log1p(|x|)``: ``log1p`` for values >= 0 and its mirror image below 0,
        so that a customer whose returns exceed their purchases (a net-negative
        monetary) is clustered like any other; centres map back with
        ``sign(y) * expm1(|y|)``.
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
    cluster_centers_ : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One row per cluster, one column per feature, in the original units.
    inertia_ : float
        Sum of squared distances to the centres in the transformed (signed log1p, scaled) space:
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
        if (
            isinstance(tol, (bool, np.bool_))
            or not isinstance(tol, (int, float, np.number))
            or not np.isfinite(tol)
            or tol < 0
        ):
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
        # The core fits on the canonical order whatever it is given; the standardisation
        # (means and stds, sums that depend on the order of their terms) needs it first.
        canonical, order = _canonical(features) if self.scale == "standard" else (features, None)
        prep, points = _Preprocessing.fit(canonical, params["transform"], self.scale)
        result = _core.kmeans_fit(
            points,
            n_clusters=params["n_clusters"],
            n_init=params["n_init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            seed=_seed(self.random_state),
            backend=params["backend"],
        )
        return self._adopt(features, prep, order, result)

    def _adopt(
        self, features: _Features, prep: _Preprocessing, order: np.ndarray | None, result: dict[str, Any]
    ) -> KMeans:
        """Takes the core's fit `result` on the preprocessed `features` (in canonical order
        when `order` is given) as this model's: the fitted attributes of `fit`."""
        self._preprocessing = prep
        self._frontend = features.frontend
        self._centers_transformed = np.ascontiguousarray(result["centers"])
        self.labels_ = result["labels"] if order is None else _in_row_order(result["labels"], order)
        self.inertia_ = float(result["inertia"])
        self.n_iter_ = result["n_iter"]
        self.n_features_in_ = len(features.names)
        self.feature_names_in_ = np.asarray(features.names, dtype=object)
        self.cluster_centers_ = _centers_frame(
            prep.invert(self._centers_transformed), features.names, features.frontend
        )
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

    def profile(self, table: Any, scheme: Any = None, *, segments: Any = None) -> Any:
        """Per cluster: size, shares, revenue, R/F/M, its dominant segment and a name.

        The customers of `table` (an `rfmkit.rfm` table, with ``recency``, ``frequency``
        and ``monetary`` columns) are assigned with `predict`. A cluster's name is the
        segment that most of its customers hold (its dominant segment; on a tie the first
        in the segments' order, as `rfmkit.compare` reads it), in English and Chinese.
        The segments are, in this order of precedence:

        - `segments`: one label per customer of `table` (a pandas Series aligned on the
          table's index, or an array / list / polars Series by position), e.g. the
          ``segment`` column that `rfmkit.segment` gave, so that the names are those of
          the segments they are compared with;
        - `scheme`: a scheme name (``"rfm11"``, ``"rfm10"``, ``"classic8"``,
          ``"value4"``) or a `SegmentScheme`: `table` is scored with `rfmkit.score`
          (not for classic8) and segmented with `rfmkit.segment`;
        - the ``segment`` column of `table`, when it has one;
        - the default scheme ``"rfm11"``.

        The other language of a label comes from the scheme (`scheme`, else the built-in
        scheme whose labels hold every label given): its labels correspond by position.
        A label of no known scheme is used as it is in both languages.

        Names within one profile are distinct. Clusters with the same dominant segment
        (namesakes) are qualified by what tells them apart: the feature (of the
        clustered features among recency, frequency and monetary) on which their
        centres spread most — the range of the centres in the standardised transformed
        space — ranked among themselves in comparative words: 2 namesakes higher /
        lower, 3 highest / middle / lowest, 4 highest / higher / lower / lowest, 5
        highest / higher / middle / lower / lowest, more "rank i of m"; recency reads
        more / less recent (a lower recency is more recent), frequency more / less
        frequent, monetary higher / lower spend. For example ``"Champions · higher
        spend"`` and ``"Champions · lower spend"`` (``"冠军客户 · 消费较高"``,
        ``"冠军客户 · 消费较低"``); the ``*_vs_all`` columns place them against all
        customers. When two namesakes' centres tie on that feature, the next feature is
        added (``"… · higher spend · more recent"``). A cluster whose dominant segment
        holds less than half of its customers is ``"<segment> (mixed)"``
        (``"<segment>(混合)"``).
        A cluster without customers in `table` is named ``"no customers"`` (无客户), one
        whose customers all have a null segment ``"no segment"`` (无细分).

        Parameters
        ----------
        table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            The customers, with ``recency``, ``frequency`` and ``monetary`` (and the
            features the model was fitted on).
        scheme : str or SegmentScheme, optional
            The scheme to segment `table` with, or (with `segments`) the scheme the
            given labels come from.
        segments : Series or array-like, optional
            The segment of each customer of `table`.

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
            Indexed by ``cluster`` (polars: a first ``cluster`` column): ``customers``,
            ``customer_share``, ``revenue`` (sum of monetary), ``revenue_share``,
            ``recency_mean``, ``frequency_mean``, ``monetary_mean``,
            ``recency_median``, ``frequency_median``, ``monetary_median``,
            ``recency_vs_all``, ``frequency_vs_all``, ``monetary_vs_all`` (the
            cluster's mean over the mean of all customers of `table`), ``segment_en``,
            ``segment_zh`` (the dominant segment in both languages), ``segment_share``
            (its share of the cluster's customers), ``name_en``, ``name_zh``.

        Raises
        ------
        InvalidDataError
            `segments` does not have one label per customer of `table`.
        InvalidParameterError
            `scheme` is not a scheme.

        Examples
        --------
        >>> import rfmkit
        >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
        >>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
        >>> model = rfmkit.KMeans(3, random_state=0).fit(table)
        >>> profile = model.profile(table, "value4")
        >>> int(profile["customers"].sum()) == len(table), profile["name_en"].is_unique
        (True, True)
        >>> list(profile.columns[-5:])
        ['segment_en', 'segment_zh', 'segment_share', 'name_en', 'name_zh']
        >>> segments = rfmkit.segment(rfmkit.score(table), "value4", lang="zh")["segment"]
        >>> model.profile(table, segments=segments)["name_en"].equals(profile["name_en"])
        True
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
        overall = values.mean()
        for name in RFM_FEATURES:
            out[f"{name}_vs_all"] = (
                means[name].to_numpy(dtype=np.float64) / overall[name] if overall[name] != 0 else np.nan
            )
        held = _held_segments(table, len(values), scheme, segments)
        counts = np.zeros((k, len(held.en)), dtype=np.int64)
        labelled = held.codes >= 0
        np.add.at(counts, (labels[labelled], held.codes[labelled]), 1)
        dominant = counts.argmax(axis=1) if len(held.en) else np.zeros(k, dtype=np.int64)
        base_en, base_zh, segment_en, segment_zh, share = [], [], [], [], []
        for cluster in range(k):
            if counts[cluster].sum() > 0:
                en, zh = held.en[dominant[cluster]], held.zh[dominant[cluster]]
                segment_en.append(en)
                segment_zh.append(zh)
                share.append(counts[cluster, dominant[cluster]] / sizes.iloc[cluster])
                if share[-1] < MIXED_BELOW:
                    # fewer than half hold that segment: the name must not pass for it
                    en, zh = f"{en} (mixed)", f"{zh}(混合)"
            else:
                en, zh = ("no customers", "无客户") if sizes.iloc[cluster] == 0 else ("no segment", "无细分")
                segment_en.append(None)
                segment_zh.append(None)
                share.append(np.nan)
            base_en.append(en)
            base_zh.append(zh)
        out["segment_en"] = np.asarray(segment_en, dtype=object)
        out["segment_zh"] = np.asarray(segment_zh, dtype=object)
        out["segment_share"] = np.asarray(share, dtype=np.float64)
        names, coordinates = self._namesake_coordinates(table)
        name_en, name_zh = _distinct_names(base_en, base_zh, names, coordinates)
        out["name_en"] = np.asarray(name_en, dtype=object)
        out["name_zh"] = np.asarray(name_zh, dtype=object)
        return frames.from_pandas(out, frames.kind_of(table))

    def _namesake_coordinates(self, table: Any) -> tuple[list[str], np.ndarray]:
        """The centres on the features that can tell namesakes apart (the clustered
        features among R, F, M; all clustered features when none of them is), in the
        standardised transformed space: the fitted centres themselves when the model
        standardised, otherwise divided by the std of the transformed `table`."""
        names = list(self._preprocessing.names)
        columns = [j for j, name in enumerate(names) if name in RFM_FEATURES] or list(range(len(names)))
        centres = self._centers_transformed[:, columns]
        if not self._preprocessing.scaled:
            transformed = _apply_transform(_features(table, names), self._preprocessing.transform)
            spread = transformed.std(axis=0)[columns] if len(transformed) else np.ones(len(columns))
            centres = centres / np.where(spread > 0, spread, 1.0)
        return [names[j] for j in columns], centres


# --------------------------------------------------------------------------- cluster names


@dataclass
class _HeldSegments:
    """The segment of each customer as a code (-1: none) into labels in both languages."""

    codes: np.ndarray
    en: list[str]
    zh: list[str]


def _held_segments(table: Any, n: int, scheme: Any, segments: Any) -> _HeldSegments:
    """The segments `KMeans.profile` names the clusters after (see its docstring)."""
    from rfmkit._compare import _as_labels, _codes

    vocabulary = None if scheme is None else _scheme_labels(scheme)
    if segments is not None:
        labels = _aligned_segments(segments, table, n)
    elif scheme is not None:
        labels = _segment_with(table, scheme)
    elif _has_column(table, "segment"):
        labels, _ = _as_labels(table["segment"], "segment")
        labels = labels.reset_index(drop=True)
    else:
        vocabulary = _scheme_labels("rfm11")
        labels = _segment_with(table, "rfm11")
    codes, uniques = _codes(labels)
    texts = [str(label) for label in uniques]
    if vocabulary is None:
        vocabulary = _known_vocabulary(texts)
    en, zh = [], []
    for text in texts:
        if vocabulary is not None and text in vocabulary[0]:
            position = vocabulary[0].index(text)
        elif vocabulary is not None and text in vocabulary[1]:
            position = vocabulary[1].index(text)
        else:
            en.append(text)
            zh.append(text)
            continue
        en.append(vocabulary[0][position])
        zh.append(vocabulary[1][position])
    return _HeldSegments(codes, en, zh)


def _has_column(table: Any, name: str) -> bool:
    return frames.is_table(table) and name in frames.Frame.of(table).names


def _scheme_labels(scheme: Any) -> tuple[list[str], list[str]]:
    """The (en, zh) labels of a scheme, corresponding by position."""
    from rfmkit._segments import SCHEMES, SegmentScheme, labels

    if isinstance(scheme, SegmentScheme):
        return scheme.labels("en"), scheme.labels("zh")
    if isinstance(scheme, str) and scheme in SCHEMES:
        return labels(scheme, "en"), labels(scheme, "zh")
    raise InvalidParameterError(
        f"scheme={scheme!r} is not one of {', '.join(map(repr, SCHEMES))} or a rfmkit.SegmentScheme"
    )


def _known_vocabulary(texts: list[str]) -> tuple[list[str], list[str]] | None:
    """The labels of the first built-in scheme that holds every one of `texts` (in either
    language), or None."""
    from rfmkit._segments import SCHEMES

    for scheme in SCHEMES:
        en, zh = _scheme_labels(scheme)
        if set(texts) <= set(en) or set(texts) <= set(zh):
            return en, zh
    return None


def _segment_with(table: Any, scheme: Any) -> pd.Series:
    """The segments of `scheme` (English labels) of the customers of `table`."""
    import rfmkit
    from rfmkit._compare import _as_labels

    _scheme_labels(scheme)  # a clear error for a bad scheme before any scoring
    scored = table if scheme == "classic8" else rfmkit.score(table)
    labels, _ = _as_labels(rfmkit.segment(scored, scheme)["segment"], "segment")
    return labels.reset_index(drop=True)


def _aligned_segments(segments: Any, table: Any, n: int) -> pd.Series:
    """`segments` as a Series in the row order of `table`: a pandas Series is aligned on
    the index of a pandas `table`, anything else is taken by position."""
    from rfmkit._compare import _as_labels

    labels, _ = _as_labels(segments, "segments")
    if isinstance(segments, pd.Series) and isinstance(table, pd.DataFrame) and not labels.index.equals(table.index):
        if not labels.index.is_unique or len(labels) != n or not labels.index.isin(table.index).all():
            raise InvalidDataError(
                f"segments is a Series over other customers than the table's {n} (its index differs); "
                f"pass the segment of each customer of the table, e.g. segmented['segment'] from rfmkit.segment(table)"
            )
        labels = labels.reindex(table.index)
    if len(labels) != n:
        raise InvalidDataError(
            f"segments has {len(labels)} labels for the table's {n} customers; pass one per customer"
        )
    return labels.reset_index(drop=True)


#: A cluster whose dominant segment holds less than this share of its customers is
#: named "<segment> (mixed)".
MIXED_BELOW = 0.5
#: The words that rank namesakes on a feature, best first: (highest, higher, middle,
#: lower, lowest) — comparatives, since they rank namesakes among themselves, not
#: against all customers — and the wording for more than five ("rank i of m"), in each
#: language. Low recency is the best (most recent).
_RANK_WORDS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "recency": {
        "en": (
            ("most recent", "more recent", "middle recency", "less recent", "least recent"),
            "recency rank {i} of {m}",
        ),
        "zh": (("最近购买", "较近购买", "近度居中", "较久未购", "最久未购"), "近度排名 {i}/{m}"),
    },
    "frequency": {
        "en": (
            ("most frequent", "more frequent", "middle frequency", "less frequent", "least frequent"),
            "frequency rank {i} of {m}",
        ),
        "zh": (("购买最频繁", "频次较高", "频次居中", "频次较低", "购买最少"), "频次排名 {i}/{m}"),
    },
    "monetary": {
        "en": (
            ("highest spend", "higher spend", "middle spend", "lower spend", "lowest spend"),
            "spend rank {i} of {m}",
        ),
        "zh": (("消费最高", "消费较高", "消费居中", "消费较低", "消费最低"), "消费排名 {i}/{m}"),
    },
}
#: Which of the five words m ranked namesakes use.
_LEVELS = {2: (1, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4)}


def _rank_word(feature: str, rank: int, m: int, lang: str) -> str:
    """The word of the namesake ranked `rank` (0: best) of `m` on `feature`."""
    if feature in _RANK_WORDS:
        words, ranked = _RANK_WORDS[feature][lang]
    elif lang == "en":
        words = tuple(f"{level} {feature}" for level in ("highest", "higher", "middle", "lower", "lowest"))
        ranked = f"{feature} rank {{i}} of {{m}}"
    else:
        words = tuple(f"{feature}{level}" for level in ("最高", "较高", "居中", "较低", "最低"))
        ranked = f"{feature}排名 {{i}}/{{m}}"
    if m in _LEVELS:
        return words[_LEVELS[m][rank]]
    return ranked.format(i=rank + 1, m=m)


def _best_first(feature: str, values: np.ndarray) -> np.ndarray:
    """Dense ranks (0: best) of `values` on `feature`: a lower recency is better, a
    higher value of any other feature is; equal values share a rank."""
    distinct, inverse = np.unique(values, return_inverse=True)
    ranks = inverse if feature == "recency" else len(distinct) - 1 - inverse
    return np.asarray(ranks).reshape(-1)


def _qualifiers(features: list[str], centres: np.ndarray) -> list[tuple[str, str]]:
    """(en, zh) words that tell apart the namesakes whose centres are the rows of
    `centres` (see `KMeans.profile`)."""
    m = len(centres)
    spread = centres.max(axis=0) - centres.min(axis=0)
    ranking = [j for j in sorted(range(len(features)), key=lambda j: (-spread[j], j)) if spread[j] > 0]
    words: list[list[tuple[str, str]]] = [[] for _ in range(m)]
    for j in ranking:
        ranks = _best_first(features[j], centres[:, j])
        levels = int(ranks.max()) + 1
        for c in range(m):
            words[c].append(
                (
                    _rank_word(features[j], int(ranks[c]), levels, "en"),
                    _rank_word(features[j], int(ranks[c]), levels, "zh"),
                )
            )
        if len({tuple(w) for w in words}) == m:
            return [(" · ".join(w[0] for w in ws), " · ".join(w[1] for w in ws)) for ws in words]
    # Centres that coincide on every feature (degenerate): a strict rank on the widest
    # feature, ties by cluster order, still in words.
    j = ranking[0] if ranking else 0
    direction = 1.0 if features[j] == "recency" else -1.0
    order = np.argsort(direction * centres[:, j], kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return [
        (_rank_word(features[j], int(rank[c]), m, "en"), _rank_word(features[j], int(rank[c]), m, "zh"))
        for c in range(m)
    ]


def _distinct_names(
    base_en: list[str], base_zh: list[str], features: list[str], centres: np.ndarray
) -> tuple[list[str], list[str]]:
    """Cluster names from their dominant segments, namesakes qualified (see `KMeans.profile`)."""
    name_en, name_zh = list(base_en), list(base_zh)
    groups: dict[tuple[str, str], list[int]] = {}
    for cluster, key in enumerate(zip(base_en, base_zh)):
        groups.setdefault(key, []).append(cluster)
    for (en, zh), members in groups.items():
        if len(members) > 1:
            for cluster, (word_en, word_zh) in zip(members, _qualifiers(features, centres[members])):
                name_en[cluster] = f"{en} · {word_en}"
                name_zh[cluster] = f"{zh} · {word_zh}"
    # A custom scheme's label can still equal a qualified name (a label such as
    # "A · higher spend"): the cluster number is then the last resort.
    for names, word in ((name_en, "cluster"), (name_zh, "簇")):
        counts: dict[str, int] = {}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
        for cluster, name in enumerate(list(names)):
            if counts[name] > 1:
                names[cluster] = f"{name} · {word} {cluster}"
    return name_en, name_zh


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
    return frames.from_pandas(frame, frontend)


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
        The other scores use all customers. The sample is drawn from the customers in
        their canonical order (sorted by their features, as `KMeans` fits), so the
        scores do not depend on the order of the rows.
    features, transform, scale, n_init, max_iter, tol, random_state, backend
        As for `KMeans`.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
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
    return _choose_k(**_params.arguments(choose_k, locals()))[0]


def _choose_k(
    table: Any,
    k: Iterable[int],
    *,
    features: Iterable[str],
    transform: str | None,
    scale: str | None,
    sample_size: int | None,
    n_init: int,
    max_iter: int,
    tol: float,
    random_state: Any,
    backend: str,
) -> tuple[Any, Callable[[int], KMeans]]:
    """`choose_k`'s table, and a function that gives the fitted `KMeans` of any of its k
    without fitting it again (the fit `KMeans(k, ...).fit(table)` gives: the same
    canonical points, preprocessing, seed and core)."""
    ks = _k_values(k)
    base = KMeans(ks[0], **_params.pick(locals(), tuple(KMeans._param_names()), "n_clusters"))
    params = base._validated()
    data = _features(table, params["names"])
    _check_fittable(data, max(ks))
    # Everything below runs on the canonical order (the labels are never handed back):
    # the silhouette sample is drawn from positions in that order, so the scores do not
    # depend on the order of the rows.
    canonical, order = _canonical(data)
    prep, points = _Preprocessing.fit(canonical, transform, scale)
    seed = _seed(random_state)
    n = len(points)
    if sample_size is not None:
        sample_size = _positive_int("sample_size", sample_size, minimum=2)
    sample = None
    if sample_size is not None and sample_size < n:
        sample = np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False)).astype(np.int64)
    fits: dict[int, dict[str, Any]] = {
        n_clusters: _core.kmeans_fit(
            points,
            n_clusters=n_clusters,
            n_init=params["n_init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            seed=seed,
            backend=params["backend"],
        )
        for n_clusters in ks
    }
    # The silhouettes of every k in one pass over the pairs of the sample (each distance
    # computed once); a k whose sample holds fewer than 2 clusters (or only singletons) has none.
    defined = []
    for n_clusters in ks:
        labels = fits[n_clusters]["labels"]
        sampled = labels if sample is None else labels[sample]
        if 2 <= n_clusters < n and 2 <= len(np.unique(sampled)) < len(sampled):
            defined.append(n_clusters)
    labellings = [fits[n_clusters]["labels"] for n_clusters in defined]
    silhouettes = dict(zip(defined, _core.silhouette_scores(points, labellings, sample))) if defined else {}
    rows = []
    for n_clusters in ks:
        result = fits[n_clusters]
        scores = {
            "silhouette": silhouettes.get(n_clusters, np.nan),
            "calinski_harabasz": np.nan,
            "davies_bouldin": np.nan,
        }
        if 2 <= n_clusters < n:
            for name in ("calinski_harabasz", "davies_bouldin"):
                scores[name] = _core.internal_score(name, points, result["labels"])
        rows.append({"k": n_clusters, "inertia": float(result["inertia"]), **scores, "n_iter": result["n_iter"]})
    out = pd.DataFrame(rows).set_index("k")
    silhouette = out["silhouette"]
    suggested = int(silhouette.idxmax()) if silhouette.notna().any() else None
    out["suggested"] = out.index == suggested
    info = {
        "suggested_k": suggested,
        "rule": SUGGESTION_RULE,
        "silhouette_sample": len(sample) if sample is not None else n,
    }

    def model(n_clusters: int) -> KMeans:
        fitted = KMeans(**{**base.get_params(), "n_clusters": n_clusters})
        return fitted._adopt(data, prep, order, fits[n_clusters])

    return frames.from_pandas(out, data.frontend, info), model


def _k_values(k: Any) -> list[int]:
    if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
        k = [k]
    try:
        values = list(k)
    except TypeError:
        raise InvalidParameterError(
            f"k must be a range or a list of cluster counts, e.g. range(2, 11), got {k!r}"
        ) from None
    if not values:
        raise InvalidParameterError("k is empty: pass the cluster counts to try, e.g. range(2, 11)")
    return [_positive_int("k", value) for value in values]
