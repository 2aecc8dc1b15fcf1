"""KMeans, choose_k, profile and compare against scikit-learn and the references of
cluster_reference.py; the estimator contract; error paths; property tests."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import cluster as sk_cluster
from sklearn import metrics as sk_metrics
from sklearn.base import clone

import cluster_reference as ref
import rfmkit
from rfmkit import (
    ColumnNotFoundError,
    DtypeError,
    InvalidDataError,
    InvalidParameterError,
    NotFittedError,
    RfmkitError,
    _core,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        orders = rfmkit.datasets.make_transactions(3000, seed=11)
        return rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", order="order_id")


def blobs(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(6, 3))
    return centres[rng.integers(0, 6, n)] + rng.normal(size=(n, 3))


# --------------------------------------------------------------------------- k-means quality


@pytest.mark.parametrize("backend", ["rfmkit", "linfa"])
@pytest.mark.parametrize("k", [2, 4, 8])
def test_inertia_within_a_tenth_of_a_percent_of_scikit_learn(table, backend, k):
    points = ref.transformed(table)
    ours = rfmkit.KMeans(k, random_state=1, backend=backend).fit(table)
    theirs = sk_cluster.KMeans(k, n_init=10, random_state=1).fit(points)
    assert ours.inertia_ <= theirs.inertia_ * 1.001
    # inertia_ is the sum of squared distances in the transformed space
    centres = ours._centers_transformed
    assert ours.inertia_ == pytest.approx(((points - centres[ours.labels_]) ** 2).sum(), rel=1e-10)


@pytest.mark.parametrize("backend", ["rfmkit", "linfa"])
def test_inertia_on_blobs_and_arrays(backend):
    points = blobs()
    ours = rfmkit.KMeans(6, transform=None, scale=None, random_state=0, backend=backend).fit(points)
    theirs = sk_cluster.KMeans(6, n_init=10, random_state=0).fit(points)
    assert ours.inertia_ <= theirs.inertia_ * 1.001
    # Two of the blobs overlap: scikit-learn's own fits with seeds 0..5 agree with each
    # other to ARI 0.986 only (equal inertia to 1e-5), so equal partitions are not asked.
    assert sk_metrics.adjusted_rand_score(theirs.labels_, ours.labels_) > 0.98


def test_unscaled_arrays_are_passed_as_they_are_and_not_mutated():
    # transform=None, scale=None hands the array itself to the core (no (x - 0) / 1 copy).
    points = np.ascontiguousarray(blobs())
    before = points.copy()
    plain = rfmkit.KMeans(4, transform=None, scale=None, n_init=2, random_state=3).fit(points)
    np.testing.assert_array_equal(points, before)
    again = rfmkit.KMeans(4, transform=None, scale=None, n_init=2, random_state=3).fit(before)
    np.testing.assert_array_equal(plain.labels_, again.labels_)
    assert plain.inertia_ == again.inertia_
    assert plain.inertia_ == pytest.approx(((points - plain._centers_transformed[plain.labels_]) ** 2).sum(), rel=1e-10)


def test_fixed_random_state_is_reproducible(table):
    for backend in ("rfmkit", "linfa"):
        a = rfmkit.KMeans(5, random_state=42, backend=backend).fit(table)
        b = rfmkit.KMeans(5, random_state=42, backend=backend).fit(table)
        assert np.array_equal(a.labels_, b.labels_)
        assert a.inertia_ == b.inertia_
        pd.testing.assert_frame_equal(a.cluster_centers_, b.cluster_centers_)


def test_centres_are_in_original_units(table):
    model = rfmkit.KMeans(3, random_state=0).fit(table)
    points = ref.transformed(table)
    raw = np.log1p(table[["recency", "frequency", "monetary"]].to_numpy(float))
    expected = np.expm1(model._centers_transformed * raw.std(axis=0) + raw.mean(axis=0))
    np.testing.assert_allclose(model.cluster_centers_.to_numpy(), expected, rtol=1e-12)
    # run to strict convergence (tol=0), each transformed centre is the mean of its members
    model = rfmkit.KMeans(3, tol=0.0, random_state=0).fit(table)
    for c in range(3):
        np.testing.assert_allclose(model._centers_transformed[c], points[model.labels_ == c].mean(axis=0), atol=1e-9)


# --------------------------------------------------------------------------- estimator contract


def test_estimator_contract(table):
    model = rfmkit.KMeans(3, random_state=0)
    assert model.get_params() == {
        "n_clusters": 3,
        "features": ("recency", "frequency", "monetary"),
        "transform": "log1p",
        "scale": "standard",
        "n_init": 10,
        "max_iter": 300,
        "tol": 1e-4,
        "random_state": 0,
        "backend": "auto",
    }
    assert model.fit(table) is model
    assert np.array_equal(model.predict(table), model.labels_)
    assert np.array_equal(clone(model).fit_predict(table), model.labels_)
    distances = model.transform(table)
    assert distances.shape == (len(table), 3)
    assert np.array_equal(distances.argmin(axis=1), model.labels_)
    np.testing.assert_allclose(
        distances,
        np.sqrt(((ref.transformed(table)[:, None, :] - model._centers_transformed[None]) ** 2).sum(-1)),
        rtol=1e-9,
    )
    assert model.get_params()["transform"] == "log1p"
    model.set_params(transform=None, n_clusters=2)
    assert model.get_params()["transform"] is None and model.n_clusters == 2
    with pytest.raises(InvalidParameterError, match="no parameter 'k'"):
        model.set_params(k=3)
    with pytest.raises(TypeError):
        rfmkit.KMeans(3, "recency")  # keyword-only after n_clusters
    assert (
        repr(rfmkit.KMeans(3, random_state=0, backend="linfa"))
        == "KMeans(n_clusters=3, random_state=0, backend='linfa')"
    )


def test_pickle_round_trip(table):
    model = rfmkit.KMeans(4, random_state=0).fit(table)
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict(table), model.labels_)
    assert restored.get_params() == model.get_params()


def test_polars_in_polars_out(table):
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(table.reset_index())
    model = rfmkit.KMeans(3, random_state=0).fit(frame)
    pandas_model = rfmkit.KMeans(3, random_state=0).fit(table)
    assert isinstance(model.cluster_centers_, pl.DataFrame)
    assert np.array_equal(model.labels_, pandas_model.labels_)
    profile = model.profile(frame)
    assert isinstance(profile, pl.DataFrame)
    pd.testing.assert_frame_equal(
        profile.to_pandas().set_index("cluster"), pandas_model.profile(table), check_dtype=False, check_index_type=False
    )
    scores = rfmkit.choose_k(frame, k=[2, 3], random_state=0)
    assert isinstance(scores, pl.DataFrame) and scores.columns[0] == "k"


def test_inputs_are_not_mutated(table):
    before = table.copy()
    rfmkit.KMeans(3, random_state=0).fit(table).profile(table)
    rfmkit.choose_k(table, k=[2], random_state=0)
    pd.testing.assert_frame_equal(table, before)


def test_custom_features_and_unfitted(table):
    model = rfmkit.KMeans(2, features=["frequency", "avg_order_value"], random_state=0)
    with pytest.raises(NotFittedError, match="call fit"):
        model.predict(table)
    model.fit(table)
    assert list(model.cluster_centers_.columns) == ["frequency", "avg_order_value"]
    profile = model.profile(table)  # recency is not clustered on: the centre uses the cluster mean
    assert profile["customers"].sum() == len(table)


# --------------------------------------------------------------------------- profile and names


def rfm11(table):
    """The rfm11 segments of `table` (English) and the English -> Chinese map."""
    segments = rfmkit.segment(rfmkit.score(table), "rfm11")["segment"]
    zh = dict(zip(rfmkit._segments.labels("rfm11", "en"), rfmkit._segments.labels("rfm11", "zh")))
    return segments, zh


@pytest.mark.parametrize("k", [2, 5, 8])
def test_profile_matches_the_pandas_reference(table, k):
    model = rfmkit.KMeans(k, random_state=3).fit(table)
    segments, zh = rfm11(table)
    expected = ref.profile(table, model.labels_, model._centers_transformed, segments.array, zh)
    got = model.profile(table, "rfm11")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False, rtol=1e-12)
    assert got.columns.tolist()[-5:] == ["segment_en", "segment_zh", "segment_share", "name_en", "name_zh"]


def test_every_source_of_segments_gives_the_same_names(table):
    model = rfmkit.KMeans(6, random_state=0).fit(table)
    expected = model.profile(table, "rfm11")
    segmented_zh = rfmkit.segment(rfmkit.score(table), "rfm11", lang="zh")
    same = [
        model.profile(table),  # the default scheme
        model.profile(table, segments=segmented_zh["segment"]),  # Chinese labels, scheme found
        model.profile(table, "rfm11", segments=segmented_zh["segment"].sample(frac=1.0, random_state=1)),  # aligned
        model.profile(segmented_zh),  # the table's own segment column
        model.profile(table, segments=segmented_zh["segment"].to_numpy()),  # by position
    ]
    for got in same:
        pd.testing.assert_frame_equal(got, expected)
    # classic8 needs no scores; its names are classic8 labels
    classic = model.profile(table, "classic8")
    assert set(classic["segment_en"]) <= set(rfmkit._segments.labels("classic8", "en"))
    # labels of no scheme are kept as they are, in both languages
    own = np.where(table["monetary"].to_numpy() > 100, "big", "small")
    plain = model.profile(table, segments=own)
    assert set(plain["segment_en"]) <= {"big", "small"} and plain["segment_en"].equals(
        plain["segment_zh"].rename("segment_en")
    )
    # a custom scheme gives its own Chinese names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheme = rfmkit.SegmentScheme([(("Recent", "近期"), {"recency": "<= 90"})], other=("Earlier", "较早"))
    custom = model.profile(table, scheme)
    assert set(custom["segment_zh"]) <= {"近期", "较早"}
    with pytest.raises(InvalidDataError, match="2 labels for the table's"):
        model.profile(table, segments=["a", "b"])
    with pytest.raises(InvalidDataError, match="other customers"):
        model.profile(table, segments=segmented_zh["segment"].iloc[1:])
    with pytest.raises(InvalidParameterError, match="scheme='rfm12'"):
        model.profile(table, "rfm12")


@pytest.mark.parametrize("scheme, k", [("rfm11", 4), ("rfm11", 8), ("value4", 8), ("value4", 10)])
def test_names_are_distinct_and_namesakes_ranked_in_words(table, scheme, k):
    model = rfmkit.KMeans(k, random_state=0).fit(table)
    profile = model.profile(table, scheme)
    for lang in ("en", "zh"):
        names = profile[f"name_{lang}"]
        assert names.is_unique
        assert not names.str.contains(r"\(\d+\)|\d+$").any()  # never a bare number
        base = profile[f"segment_{lang}"].where(
            profile["segment_share"] >= 0.5, profile[f"segment_{lang}"] + (" (mixed)" if lang == "en" else "(混合)")
        )
        assert (names.str.split(" · ").str[0] == base).all()
    # namesakes carry a rank word of the feature on which their centres spread most
    centres = model._centers_transformed
    profile["base"] = profile["name_en"].str.split(" · ").str[0]
    for base, group in profile.groupby("base"):
        if len(group) == 1:
            assert group["name_en"].iloc[0] == base
            continue
        members = list(group.index)
        j = int(np.argmax(centres[members].max(axis=0) - centres[members].min(axis=0)))
        best = members[int(np.argmin(centres[members, j]) if j == 0 else np.argmax(centres[members, j]))]
        top = {0: ("recent", "最近购买"), 1: ("frequent", "频次"), 2: ("spend", "消费")}[j]
        assert top[0] in group.loc[best, "name_en"]
        assert len(group) > 2 or top[1] in group.loc[best, "name_zh"]


def test_namesake_words_in_every_case():
    from rfmkit._cluster import _distinct_names

    rfm = ["recency", "frequency", "monetary"]
    # two namesakes apart on monetary; a third cluster alone keeps its plain name
    centres = np.array([[0.0, 0.0, 1.0], [0.1, 0.0, -1.0], [3.0, 0.0, 0.0]])
    en, zh = _distinct_names(["Champions", "Champions", "Lost"], ["冠军客户", "冠军客户", "流失客户"], rfm, centres)
    assert en == ["Champions · higher spend", "Champions · lower spend", "Lost"]
    assert zh == ["冠军客户 · 消费较高", "冠军客户 · 消费较低", "流失客户"]
    # recency: lower is more recent; three namesakes
    centres = np.array([[1.0, 0, 0], [-2.0, 0, 0], [0.5, 0, 0]])
    en, _ = _distinct_names(["A"] * 3, ["甲"] * 3, rfm, centres)
    assert en == ["A · least recent", "A · most recent", "A · middle recency"]
    # a tie on the widest feature adds the next one
    centres = np.array([[0.0, 0.0, 2.0], [0.0, 1.0, 2.0], [0.0, 0.0, -2.0]])
    en, _ = _distinct_names(["A"] * 3, ["甲"] * 3, rfm, centres)
    assert en == [
        "A · higher spend · less frequent",
        "A · higher spend · more frequent",
        "A · lower spend · less frequent",
    ]
    # more than five namesakes: ranks in words; centres equal on every feature: still distinct
    centres = np.array([[0, 0, float(v)] for v in range(7)])
    en, zh = _distinct_names(["A"] * 7, ["甲"] * 7, rfm, centres)
    assert en[6] == "A · spend rank 1 of 7" and zh[0] == "甲 · 消费排名 7/7"
    en, _ = _distinct_names(["A"] * 2, ["甲"] * 2, rfm, np.zeros((2, 3)))
    assert en == ["A · recency rank 1 of 2", "A · recency rank 2 of 2"] or len(set(en)) == 2
    # a custom label that equals a qualified name: the cluster number is the last resort
    en, _ = _distinct_names(
        ["A", "A", "A · higher spend"], ["甲", "甲", "乙"], rfm, np.array([[0, 0, 1.0], [0, 0, -1.0], [5, 5, 5]])
    )
    assert len(set(en)) == 3
    # features other than R, F, M are worded by their name
    en, zh = _distinct_names(["A", "A"], ["甲", "甲"], ["avg_order_value"], np.array([[1.0], [-1.0]]))
    assert en == ["A · higher avg_order_value", "A · lower avg_order_value"] and zh[1] == "甲 · avg_order_value较低"


def test_one_cluster_is_named_after_the_most_common_segment(table):
    profile = rfmkit.KMeans(1, random_state=0).fit(table).profile(table, "rfm11")
    segments, _ = rfm11(table)
    counts = segments.value_counts(sort=False)
    assert profile["segment_en"].tolist() == [counts.idxmax()]
    assert profile["segment_share"].iloc[0] == pytest.approx(counts.max() / len(table))
    # one cluster of everyone: no segment holds half of it, and the name says so
    assert counts.max() < len(table) / 2
    assert profile["name_en"].tolist() == [f"{counts.idxmax()} (mixed)"]
    np.testing.assert_allclose(profile[["recency_vs_all", "frequency_vs_all", "monetary_vs_all"]].to_numpy(), 1.0)


# --------------------------------------------------------------------------- odd customers and row order


def test_the_signed_log_is_log1p_for_non_negative_values_and_clusters_negative_ones(table):
    from rfmkit._cluster import _signed_expm1, _signed_log1p

    values = table[["recency", "frequency", "monetary"]].to_numpy(float)
    assert np.array_equal(_signed_log1p(values), np.log1p(values))  # bit for bit: no result changes
    grid = np.array([-1e6, -500.0, -1.0, -0.5, 0.0, 0.5, 3.0, 1e6])
    np.testing.assert_allclose(_signed_log1p(grid), np.sign(grid) * np.log1p(np.abs(grid)), rtol=1e-15)
    np.testing.assert_allclose(_signed_expm1(_signed_log1p(grid)), grid, rtol=1e-12)
    odd = table.copy()
    odd.iloc[[3, 10], odd.columns.get_loc("monetary")] = [-490.0, -0.5]
    model = rfmkit.KMeans(4, random_state=0).fit(odd)
    points = ref.transformed(odd)
    np.testing.assert_allclose(
        model.transform(odd), np.sqrt(((points[:, None] - model._centers_transformed[None]) ** 2).sum(-1)), rtol=1e-9
    )
    assert np.array_equal(model.predict(odd), model.labels_)
    raw = ref.signed_log1p(odd[["recency", "frequency", "monetary"]].to_numpy(float))
    centres = model._centers_transformed * raw.std(axis=0) + raw.mean(axis=0)
    np.testing.assert_allclose(
        model.cluster_centers_.to_numpy(), np.sign(centres) * np.expm1(np.abs(centres)), rtol=1e-12
    )
    profile = model.profile(odd)
    assert profile["customers"].sum() == len(odd)
    assert profile["revenue"].sum() == pytest.approx(odd["monetary"].sum())


@settings(max_examples=80, **SETTINGS)
@given(
    points=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.integers(1, 4)),
        elements=st.one_of(st.sampled_from([0.0, 1.0, 2.0, 5.0, -3.0]), st.floats(-1e4, 1e4, width=32)),
    ),
    k=st.integers(1, 4),
    transform=st.sampled_from(["log1p", None]),
    scale=st.sampled_from(["standard", None]),
    backend=st.sampled_from(["rfmkit", "linfa"]),
    data=st.data(),
)
def test_the_row_order_changes_nothing(points, k, transform, scale, backend, data):
    # scale=None: the core alone puts the rows in canonical order; "standard": the
    # Python layer does first, for the means and stds.
    permutation = np.asarray(data.draw(st.permutations(range(len(points)))))
    model = rfmkit.KMeans(k, transform=transform, scale=scale, n_init=2, random_state=7, backend=backend)
    try:
        reference = model.fit(points)
    except RfmkitError as error:
        with pytest.raises(type(error)):
            clone(model).fit(points[permutation])
        return
    labels, centres, inertia = reference.labels_.copy(), reference._centers_transformed.copy(), reference.inertia_
    shuffled = clone(model).fit(points[permutation])
    np.testing.assert_array_equal(shuffled.labels_, labels[permutation])  # the same numbering
    np.testing.assert_array_equal(shuffled._centers_transformed, centres)
    assert shuffled.inertia_ == inertia


def test_canonical_order_is_the_lexicographic_order(table):
    points = ref.transformed(table)
    order, rows = _core.canonical_order(points)
    np.testing.assert_array_equal(rows, ref.canonical_rows(points))
    np.testing.assert_array_equal(points[order], rows)
    again, _ = _core.canonical_order(rows)
    np.testing.assert_array_equal(again, np.arange(len(rows)))


def test_choose_k_draws_its_silhouette_sample_from_the_canonical_order(table):
    scores = rfmkit.choose_k(table, k=[3], sample_size=500, n_init=2, random_state=4)
    raw = table[["recency", "frequency", "monetary"]].to_numpy(float)
    canonical = np.lexsort(raw.T[::-1])  # the transform keeps the order of the rows
    points = ref.transformed(table)[canonical]
    labels = rfmkit.KMeans(3, n_init=2, random_state=4).fit(table).labels_[canonical]
    sample = np.sort(np.random.default_rng(4).choice(len(points), size=500, replace=False))
    expected = sk_metrics.silhouette_score(points[sample], labels[sample])
    assert scores.loc[3, "silhouette"] == pytest.approx(expected, abs=1e-9)
    shuffled = rfmkit.choose_k(table.sample(frac=1.0, random_state=2), k=[3], sample_size=500, n_init=2, random_state=4)
    pd.testing.assert_frame_equal(shuffled, scores)


# --------------------------------------------------------------------------- CDNOW


@pytest.fixture(scope="module")
def cdnow_orders():
    pytest.importorskip("lifetimes")
    import cdnow

    orders = cdnow.master()
    # one customer whose return exceeds the purchase: monetary 10 - 500 = -490
    odd = pd.DataFrame(
        {
            "customer_id": ["99999", "99999"],
            "date": pd.to_datetime(["1997-03-01", "1997-04-01"]),
            "number_of_cds": [1, -5],
            "dollar_value": [10.0, -500.0],
        }
    )
    return pd.concat([orders, odd], ignore_index=True)


CDNOW = {"customer": "customer_id", "date": "date", "amount": "dollar_value"}


def test_cdnow_with_a_net_negative_customer_clusters_everyone(cdnow_orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        report = rfmkit.analyze(cdnow_orders, **CDNOW, k=4, clv=False, progress=False)
        table = rfmkit.rfm(cdnow_orders, **CDNOW)
    customers = report.customers
    # every customer with a purchase (68 of CDNOW's 23,570 bought only for $0: dropped), and the odd one
    assert len(customers) == len(table) == 23_503 and customers.loc["99999", "monetary"] == -490.0
    assert customers["cluster"].notna().mean() >= 0.999
    assert customers["cluster"].notna().all()  # expected: every one
    assert report.quality.loc["customers with net-negative monetary (clustered on the signed log)", "rows"] == 1
    assert any("1 customer(s) have a negative clustered feature" in note for note in report.notes)
    # named after the segments shown beside them
    clusters = report.clusters
    dominant = pd.crosstab(customers["segment"], customers["cluster"]).idxmax(axis=0)
    assert (clusters["segment_en"].to_numpy() == dominant.astype(str).to_numpy()).all()
    assert clusters["name_en"].is_unique and clusters["name_zh"].is_unique
    # KMeans on its own: fit, predict and profile with the negative customer
    model = rfmkit.KMeans(4, random_state=0).fit(table)
    np.testing.assert_array_equal(model.labels_, customers["cluster"].to_numpy())
    assert model.predict(table.loc[["99999"]])[0] == customers.loc["99999", "cluster"]
    profile = model.profile(table, "rfm11")
    pd.testing.assert_frame_equal(profile, clusters)


def test_cdnow_clusters_do_not_depend_on_the_row_order(cdnow_orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(cdnow_orders, **CDNOW)
    reference = rfmkit.KMeans(5, random_state=0).fit(table)
    labels = pd.Series(reference.labels_, index=table.index)
    for seed in range(3):
        shuffled = table.sample(frac=1.0, random_state=seed)
        model = rfmkit.KMeans(5, random_state=0).fit(shuffled)
        np.testing.assert_array_equal(model.labels_, labels.loc[shuffled.index].to_numpy())
        pd.testing.assert_frame_equal(model.cluster_centers_, reference.cluster_centers_)


# --------------------------------------------------------------------------- metrics


INTERNAL = {
    "silhouette": sk_metrics.silhouette_score,
    "calinski_harabasz": sk_metrics.calinski_harabasz_score,
    "davies_bouldin": sk_metrics.davies_bouldin_score,
}


@pytest.mark.parametrize("name", sorted(INTERNAL))
@pytest.mark.parametrize("k", [2, 3, 7])
def test_internal_metrics_equal_scikit_learn(table, name, k):
    points = ref.transformed(table)
    labels = rfmkit.KMeans(k, random_state=0).fit(table).labels_
    assert _core.internal_score(name, points, labels) == pytest.approx(
        INTERNAL[name](points, labels), abs=1e-9, rel=1e-9
    )
    if name == "silhouette":
        sample = points[:400], labels[:400]
        assert _core.internal_score(name, *sample) == pytest.approx(ref.silhouette(*sample), abs=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    points=hnp.arrays(np.float64, st.tuples(st.integers(3, 40), st.integers(1, 4)), elements=st.floats(-1e3, 1e3)),
    data=st.data(),
)
def test_internal_metrics_property(points, data):
    labels = np.asarray(
        data.draw(st.lists(st.integers(0, 4), min_size=len(points), max_size=len(points))), dtype=np.int64
    )
    n_labels = len(np.unique(labels))
    for name, oracle in INTERNAL.items():
        if not 1 < n_labels < len(points):
            with pytest.raises(InvalidDataError, match="distinct labels"):
                _core.internal_score(name, points, labels)
            continue
        # scikit-learn computes distances as sqrt(|x|² - 2x·y + |y|²), which is off by
        # up to sqrt(eps)·|x| for (nearly) coinciding points; rfmkit computes them
        # directly. Compare where scikit-learn's rounding cannot dominate.
        means = np.array([points[labels == c].mean(axis=0) for c in np.unique(labels)])
        gaps = np.sqrt(((means[:, None] - means[None]) ** 2).sum(-1))[~np.eye(len(means), dtype=bool)]
        spreads = np.array([points[labels == c].std(axis=0).sum() for c in np.unique(labels)])
        if name == "silhouette":
            # The exact reference holds everywhere. scikit-learn's silhouette goes through
            # the same rounding on every pair of points, which can reach 1e-8 here (seen:
            # 0.0044779 vs 0.0044779 + 3.4e-8 with points up to 1e3 apart by 1e-3), so it is
            # compared on the RFM tables (test_internal_metrics_equal_scikit_learn) only.
            assert _core.internal_score(name, points, labels) == pytest.approx(ref.silhouette(points, labels), abs=1e-9)
            continue
        pairwise = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))[~np.eye(len(points), dtype=bool)]
        scale = 1.0 + np.abs(points).max()
        sizes = np.unique(labels, return_counts=True)[1]
        assume(sizes.min() >= 2)  # a lone point's distance to its own centroid is 0, which sqrt(rounding) is not
        assume(gaps.min() > 1e-2 * scale and spreads.max() > 1e-2 * scale and pairwise.min() > 1e-2 * scale)
        expected = oracle(points, labels)
        assert _core.internal_score(name, points, labels) == pytest.approx(expected, rel=1e-9, abs=1e-9)


labellings = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from(["value", "develop", "retain", "win-back", None]), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, **SETTINGS)
@given(labellings)
def test_compare_equals_scikit_learn_on_any_labels(pair):
    segments, clusters = pair
    kept = [(s, c) for s, c in zip(segments, clusters) if s is not None]
    if not kept:
        with pytest.raises(InvalidDataError), warnings.catch_warnings():
            warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
            rfmkit.compare(segments, clusters)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rfmkit.compare(segments, clusters)
    true, pred = [s for s, _ in kept], [c for _, c in kept]
    dropped = len(segments) - len(kept)
    assert result.dropped == ({"missing_segment": dropped} if dropped else {})
    assert any(issubclass(w.category, rfmkit.DataQualityWarning) for w in caught) == bool(dropped)
    assert result.n == len(kept)
    assert result.adjusted_rand == pytest.approx(sk_metrics.adjusted_rand_score(true, pred), abs=1e-9)
    assert result.normalized_mutual_info == pytest.approx(sk_metrics.normalized_mutual_info_score(true, pred), abs=1e-9)
    h, c, v = sk_metrics.homogeneity_completeness_v_measure(true, pred)
    assert (result.homogeneity, result.completeness, result.v_measure) == pytest.approx((h, c, v), abs=1e-9)
    counts, per_cluster = ref.crosstab(true, pred)
    pd.testing.assert_frame_equal(result.crosstab, counts, check_dtype=False, check_names=True)
    pd.testing.assert_series_equal(
        result.clusters["dominant_segment"], per_cluster["dominant_segment"], check_names=False, check_index_type=False
    )
    np.testing.assert_allclose(result.clusters["purity"].to_numpy(), per_cluster["purity"].to_numpy())
    np.testing.assert_allclose(result.row_shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(result.column_shares.sum(axis=0), 1.0)


def test_compare_aligns_series_by_index(table):
    model = rfmkit.KMeans(4, random_state=0).fit(table)
    clusters = pd.Series(model.labels_, index=table.index)
    segments = pd.Series(np.where(table["monetary"] > table["monetary"].mean(), "high", "low"), index=table.index)
    shuffled = clusters.sample(frac=1.0, random_state=0)
    a = rfmkit.compare(segments, clusters)
    b = rfmkit.compare(segments, shuffled)
    assert a.scores() == b.scores()
    pd.testing.assert_frame_equal(a.crosstab, b.crosstab)
    assert "<table" in a._repr_html_() and "adjusted_rand" in repr(a)
    with pytest.raises(InvalidDataError, match="different customers: 1 only in segments"):
        rfmkit.compare(segments, clusters.iloc[1:])
    with pytest.raises(InvalidDataError, match="more than once"):
        rfmkit.compare(pd.Series(["a", "b"], index=[1, 1]), pd.Series([0, 1], index=[1, 1]))
    with pytest.raises(InvalidDataError, match="3 labels and clusters 2"):
        rfmkit.compare(["a", "b", "c"], [0, 1])
    with pytest.raises(DtypeError, match="one column"):
        rfmkit.compare(table, clusters)


def test_compare_polars_and_categorical_order():
    pl = pytest.importorskip("polars")
    order = ["important value", "general win-back", "general value"]
    segments = pd.Categorical(
        ["general value", "important value", "general win-back", "important value"], categories=order
    )
    result = rfmkit.compare(pd.Series(segments), [1, 0, 0, 1])
    assert list(result.crosstab.index) == order
    as_polars = rfmkit.compare(pl.Series(["a", "b", "a"]), pl.Series([0, 0, 1]))
    assert isinstance(as_polars.crosstab, pl.DataFrame)
    assert as_polars.crosstab.columns == ["segment", "0", "1"]


# --------------------------------------------------------------------------- choose_k


def test_choose_k_scores_equal_scikit_learn_and_suggests_the_best_silhouette(table):
    scores = rfmkit.choose_k(table, k=range(1, 6), sample_size=None, n_init=3, random_state=5)
    points = ref.transformed(table)
    assert list(scores.index) == [1, 2, 3, 4, 5]
    assert scores.loc[1, ["silhouette", "calinski_harabasz", "davies_bouldin"]].isna().all()
    for k in range(2, 6):
        labels = rfmkit.KMeans(k, n_init=3, random_state=5).fit(table).labels_
        assert scores.loc[k, "inertia"] == pytest.approx(rfmkit.KMeans(k, n_init=3, random_state=5).fit(table).inertia_)
        assert scores.loc[k, "silhouette"] == pytest.approx(sk_metrics.silhouette_score(points, labels), abs=1e-9)
        assert scores.loc[k, "calinski_harabasz"] == pytest.approx(
            sk_metrics.calinski_harabasz_score(points, labels), rel=1e-9
        )
        assert scores.loc[k, "davies_bouldin"] == pytest.approx(
            sk_metrics.davies_bouldin_score(points, labels), abs=1e-9
        )
    best = int(scores["silhouette"].idxmax())
    assert scores.attrs["rfmkit"]["suggested_k"] == best
    assert scores["suggested"].sum() == 1 and scores.loc[best, "suggested"]


def test_choose_k_samples_the_silhouette(table):
    scores = rfmkit.choose_k(table, k=[3], sample_size=500, n_init=2, random_state=0)
    assert scores.attrs["rfmkit"]["silhouette_sample"] == 500
    again = rfmkit.choose_k(table, k=[3], sample_size=500, n_init=2, random_state=0)
    pd.testing.assert_frame_equal(scores, again)


# --------------------------------------------------------------------------- errors


def test_bad_parameters(table):
    cases = [
        (dict(n_clusters=0), InvalidParameterError, "n_clusters=0 is below 1"),
        (dict(n_clusters=2.5), InvalidParameterError, "n_clusters must be a whole number"),
        (dict(n_clusters=True), InvalidParameterError, "n_clusters must be a whole number"),
        (dict(n_init=0), InvalidParameterError, "n_init=0"),
        (dict(tol=-1.0), InvalidParameterError, "tol=-1.0"),
        (dict(backend="sklearn"), InvalidParameterError, "backend='sklearn' is not one of"),
        (dict(transform="log"), InvalidParameterError, "transform='log'"),
        (dict(scale="minmax"), InvalidParameterError, "scale='minmax'"),
        (dict(features=()), InvalidParameterError, "features is empty"),
        (dict(features=("recency", "recency")), InvalidParameterError, "more than once"),
        (dict(random_state=-1), InvalidParameterError, "random_state=-1"),
        (
            dict(features=("Recency",)),
            ColumnNotFoundError,
            "feature column 'Recency' is not in the data.*Did you mean 'recency'",
        ),
        (dict(features=("first_purchase",)), DtypeError, "feature column 'first_purchase'"),
    ]
    for params, error, message in cases:
        with pytest.raises(error, match=message):
            rfmkit.KMeans(**{"n_clusters": 2, **params}).fit(table)


def test_bad_data(table):
    subset = table[["recency", "frequency", "monetary"]]
    with pytest.raises(InvalidDataError, match="the table is empty"):
        rfmkit.KMeans(2).fit(subset.iloc[:0])
    with pytest.raises(InvalidParameterError, match="n_clusters=3 is more than the 2 customers"):
        rfmkit.KMeans(3).fit(subset.iloc[:2])
    duplicated = pd.DataFrame({"recency": [1, 1, 1, 5], "frequency": [2, 2, 2, 1], "monetary": [10.0, 10.0, 10.0, 3.0]})
    with pytest.raises(InvalidParameterError, match="n_clusters=3 is more than the 2 distinct points"):
        rfmkit.KMeans(3).fit(duplicated)
    nan = subset.copy()
    nan.iloc[7, 2] = np.nan
    with pytest.raises(
        InvalidDataError,
        match=rf"feature 'monetary' is nan for customer {nan.index[7].item()!r} \(1 customer\(s\).*dropna",
    ):
        rfmkit.KMeans(2).fit(nan)
    inf = subset.astype(float)
    inf.iloc[0, 1] = np.inf
    with pytest.raises(InvalidDataError, match="feature 'frequency' is inf"):
        rfmkit.KMeans(2).fit(inf)
    constant = subset.assign(frequency=1)
    with pytest.raises(InvalidDataError, match="feature 'frequency' is constant.*drop it from features="):
        rfmkit.KMeans(2).fit(constant)
    rfmkit.KMeans(2, scale=None).fit(constant)  # unscaled, a constant feature is harmless
    negative = subset.copy()
    negative.iloc[3, 2] = -50.0
    assert rfmkit.KMeans(2, random_state=0).fit(negative).labels_.shape == (len(negative),)  # the signed log
    with pytest.raises(DtypeError, match="2-D"):
        rfmkit.KMeans(2).fit(np.arange(5.0))
    model = rfmkit.KMeans(2, random_state=0).fit(table)
    with pytest.raises(InvalidDataError, match="feature 'monetary' is nan"):
        model.predict(nan)
    with pytest.raises(InvalidDataError, match="fitted on 3 features"):
        model.predict(np.zeros((2, 2)))
    with pytest.raises(InvalidParameterError, match="k is empty"):
        rfmkit.choose_k(table, k=[])
    with pytest.raises(InvalidParameterError, match="n_clusters=4 is more than the 3 customers"):
        rfmkit.choose_k(subset.iloc[:3], k=range(2, 5))


def test_one_customer_and_one_cluster(table):
    one = table.iloc[:1]
    model = rfmkit.KMeans(1, scale=None).fit(one)
    assert model.labels_.tolist() == [0] and model.inertia_ == 0.0
    single = rfmkit.KMeans(1, random_state=0).fit(table)
    assert (single.labels_ == 0).all()
    assert single.inertia_ == pytest.approx((ref.transformed(table) ** 2).sum())


@settings(max_examples=40, **SETTINGS)
@given(
    points=hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 30), st.integers(1, 3)),
        elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, np.nan, np.inf])),
    ),
    k=st.integers(-1, 6),
    backend=st.sampled_from(["rfmkit", "linfa"]),
)
def test_any_array_gives_a_clustering_or_a_clear_error(points, k, backend):
    model = rfmkit.KMeans(k, transform=None, scale=None, n_init=2, random_state=0, backend=backend)
    try:
        model.fit(points)
    except RfmkitError as error:
        assert not isinstance(error, rfmkit.InternalError), error
        message = str(error)
        assert any(word in message for word in ("n_clusters", "empty", "finite", "nan", "inf")), message
        return
    n_distinct = len(np.unique(points, axis=0))
    assert 1 <= k <= n_distinct
    assert model.labels_.shape == (len(points),) and set(model.labels_) <= set(range(k))
    centres = model._centers_transformed
    assert model.inertia_ == pytest.approx(((points - centres[model.labels_]) ** 2).sum(), rel=1e-9, abs=1e-6)
    assert np.array_equal(model.predict(points), model.labels_) or backend == "linfa"


@pytest.mark.parametrize("scale", ["standard", None])
def test_the_models_choose_k_fitted_equal_kmeans_fitted_again(scale):
    """analyze takes the model of the suggested k from choose_k instead of fitting it
    again: it must be the model KMeans(k).fit(table) gives, attribute for attribute."""
    from rfmkit._cluster import _choose_k

    orders = rfmkit.datasets.make_transactions(700, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")
    table = table.sample(frac=1.0, random_state=1)  # rows not in canonical order
    options = dict(
        features=rfmkit._cluster.RFM_FEATURES,
        transform="log1p",
        scale=scale,
        n_init=4,
        max_iter=300,
        tol=1e-4,
        random_state=3,
        backend="auto",
    )
    scores, fitted = _choose_k(table, [2, 3, 5], sample_size=None, **options)
    pd.testing.assert_frame_equal(scores, rfmkit.choose_k(table, [2, 3, 5], sample_size=None, **options))
    for k in (2, 3, 5):
        got = fitted(k)
        want = rfmkit.KMeans(k, **options).fit(table)
        np.testing.assert_array_equal(got.labels_, want.labels_)
        assert got.inertia_ == want.inertia_ and got.n_iter_ == want.n_iter_
        pd.testing.assert_frame_equal(got.cluster_centers_, want.cluster_centers_)
        np.testing.assert_array_equal(got.predict(table), want.predict(table))
        assert got.get_params() == want.get_params()
