//! Bindings of the clustering core: k-means ([`crate::cluster`]) and the clustering
//! metrics and label comparisons ([`crate::metrics`]).

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{add_functions, compute, compute_array, set_fields, to_py_err};
use crate::cluster::{Backend, KMeansModel, KMeansParams};
use crate::error::RfmError;
use crate::metrics;

fn codes(labels: &[i64], name: &'static str) -> Result<Vec<usize>, RfmError> {
    labels
        .iter()
        .map(|&l| {
            usize::try_from(l).map_err(|_| {
                RfmError::parameter(name, format!("label code {l} is negative: codes are 0..n_labels"))
            })
        })
        .collect()
}

fn parse_backend(backend: &str) -> PyResult<Backend> {
    match backend {
        "rfmkit" => Ok(Backend::Rfmkit),
        "linfa" => Ok(Backend::Linfa),
        other => Err(to_py_err(RfmError::parameter(
            "backend",
            format!("backend={other:?} is not one of \"auto\", \"rfmkit\", \"linfa\""),
        ))),
    }
}

/// Fits k-means on the rows of `points`.
#[pyfunction]
#[pyo3(signature = (points, *, n_clusters, n_init, max_iter, tol, seed, backend))]
#[allow(clippy::too_many_arguments)]
fn kmeans_fit<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, f64>,
    n_clusters: usize,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
    backend: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let params = KMeansParams::new(n_clusters)
        .n_init(n_init)
        .max_iter(max_iter)
        .tol(tol)
        .seed(seed)
        .backend(parse_backend(backend)?);
    let view = points.as_array();
    let model = compute(py, || params.fit_points(view))?;
    let labels: Vec<i64> = model.labels().iter().map(|&l| l as i64).collect();
    let out = PyDict::new(py);
    out.set_item("centers", model.centroids().clone().into_pyarray(py))?;
    out.set_item("labels", labels.into_pyarray(py))?;
    out.set_item("inertia", model.inertia())?;
    out.set_item("n_iter", model.n_iter())?;
    Ok(out)
}

/// A row order and the rows in that order.
type OrderAndRows<'py> = (Bound<'py, numpy::PyArray1<i64>>, Bound<'py, numpy::PyArray2<f64>>);

/// The rows of `points` in canonical order ([`crate::cluster::canonical_order`], the
/// order the fit runs on): the row index of each canonical position, and the rows.
#[pyfunction]
fn canonical_order<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, f64>) -> PyResult<OrderAndRows<'py>> {
    let view = points.as_array();
    let (order, rows) = compute(py, || {
        let (order, rows) = crate::cluster::canonical_order(view);
        Ok((order.iter().map(|&i| i as i64).collect::<Vec<i64>>(), rows))
    })?;
    Ok((order.into_pyarray(py), rows.into_pyarray(py)))
}

/// The nearest of `centers` for each row of `points`.
#[pyfunction]
fn kmeans_predict<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, f64>,
    centers: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray1<i64>>> {
    let (points, centers) = (points.as_array(), centers.as_array());
    compute_array(py, || {
        let model = KMeansModel::from_centroids(centers.to_owned())?;
        Ok(model.predict_checked(points)?.iter().map(|&l| l as i64).collect())
    })
}

/// Euclidean distances of each row of `points` to each of `centers`.
#[pyfunction]
fn kmeans_distances<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, f64>,
    centers: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
    let (points, centers) = (points.as_array(), centers.as_array());
    let distances = compute(py, || {
        KMeansModel::from_centroids(centers.to_owned())?.distances(points)
    })?;
    Ok(distances.into_pyarray(py))
}

/// The silhouette of each labelling of `points` (`labellings`, one array each), on the rows
/// `rows` only when given (a sample): the distances are computed once for all of them.
#[pyfunction]
#[pyo3(signature = (points, labellings, rows=None))]
fn silhouette_scores<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, f64>,
    labellings: Vec<PyReadonlyArray1<'py, i64>>,
    rows: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<Vec<f64>> {
    let points = points.as_array();
    let labellings = labellings
        .iter()
        .map(|labels| labels.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    let rows = rows.as_ref().map(|r| r.as_slice()).transpose()?;
    compute(py, || {
        let mut codes_of = labellings
            .iter()
            .map(|labels| codes(labels, "labels"))
            .collect::<Result<Vec<_>, _>>()?;
        let sample = match rows {
            None => None,
            Some(rows) => {
                let rows = codes(rows, "rows")?;
                if rows
                    .iter()
                    .any(|&r| codes_of.iter().any(|labels| r >= labels.len()))
                {
                    return Err(RfmError::parameter("rows", "a sampled row is out of range"));
                }
                codes_of = codes_of
                    .iter()
                    .map(|labels| rows.iter().map(|&r| labels[r]).collect())
                    .collect();
                Some(points.select(ndarray::Axis(0), &rows))
            }
        };
        let views: Vec<&[usize]> = codes_of.iter().map(Vec::as_slice).collect();
        match &sample {
            Some(sample) => metrics::silhouette_scores(sample.view(), &views),
            None => metrics::silhouette_scores(points, &views),
        }
    })
}

/// One of the internal metrics by name (for tests and direct use).
#[pyfunction]
fn internal_score<'py>(
    py: Python<'py>,
    name: &str,
    points: PyReadonlyArray2<'py, f64>,
    labels: PyReadonlyArray1<'py, i64>,
) -> PyResult<f64> {
    let metric = match name {
        "silhouette" => metrics::silhouette_score,
        "calinski_harabasz" => metrics::calinski_harabasz_score,
        "davies_bouldin" => metrics::davies_bouldin_score,
        other => {
            return Err(to_py_err(RfmError::parameter(
                "name",
                format!("{other:?} is not one of \"silhouette\", \"calinski_harabasz\", \"davies_bouldin\""),
            )))
        }
    };
    let points = points.as_array();
    let labels = labels.as_slice()?;
    compute(py, || metric(points, &codes(labels, "labels")?))
}

/// Crosstab and agreement scores of a reference and a predicted labelling (codes).
#[pyfunction]
fn compare_labels<'py>(
    py: Python<'py>,
    labels_true: PyReadonlyArray1<'py, i64>,
    labels_pred: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let (labels_true, labels_pred) = (labels_true.as_slice()?, labels_pred.as_slice()?);
    let result = compute(py, || {
        metrics::compare_labels(&codes(labels_true, "segments")?, &codes(labels_pred, "clusters")?)
    })?;
    let out = PyDict::new(py);
    out.set_item("crosstab", result.crosstab.mapv(|c| c as i64).into_pyarray(py))?;
    set_fields!(out, result => adjusted_rand, normalized_mutual_info, homogeneity, completeness, v_measure);
    Ok(out)
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        kmeans_fit,
        kmeans_predict,
        canonical_order,
        kmeans_distances,
        silhouette_scores,
        internal_score,
        compare_labels
    );
    Ok(())
}
