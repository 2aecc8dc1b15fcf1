//! Bindings of the scores and segments (`src/scores.rs`, `src/segments.rs`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::{add_functions, compute, compute_array, slices, to_py_err, InvalidParameterError};
use crate::scores::{
    histogram_scores as histogram_scores_core, score as score_core, Direction, Method, Metric,
};
use crate::segments::{
    builtin_labels, classic8 as classic8_core, evaluate, segment_scores as segment_scores_core,
    value_matrix as value_matrix_core, value_tiers as value_tiers_core, Bound as RuleBound, Condition, Label,
    Rule, Scheme, Variable,
};

/// The method of one metric: its threshold edges when given, else the quantile rule
/// named by `quantile` ("quantile": balanced, "midrank": the older mid-rank rule).
fn metric_method(quantile: &str, edges: Option<Vec<f64>>) -> PyResult<Method> {
    match (edges, quantile) {
        (Some(edges), _) => Ok(Method::Thresholds(edges)),
        (None, "quantile") => Ok(Method::Balanced),
        (None, "midrank") => Ok(Method::MidRank),
        (None, other) => Err(InvalidParameterError::new_err(format!(
            "method={other:?} is not one of 'quantile', 'midrank', 'thresholds'"
        ))),
    }
}

/// The score of each distinct value of a metric from its histogram (`values`, `counts`),
/// as `score` gives it on the whole column (`rfmkit::scores::histogram_scores`).
#[pyfunction]
#[pyo3(signature = (values, counts, *, bins, method, lower_is_better, name))]
fn histogram_scores<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    counts: PyReadonlyArray1<'py, i64>,
    bins: u32,
    method: &str,
    lower_is_better: bool,
    name: String,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let method = metric_method(method, None)?;
    let direction = if lower_is_better {
        Direction::LowerIsBetter
    } else {
        Direction::HigherIsBetter
    };
    let counts: Vec<u64> = counts
        .as_slice()?
        .iter()
        .map(|&c| u64::try_from(c))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| InvalidParameterError::new_err("histogram counts must not be negative"))?;
    let values = values.as_slice()?;
    compute_array(py, || {
        histogram_scores_core(values, &counts, bins, &method, direction, &name)
    })
}

/// R, F, M scores, the code index and the weighted score.
#[pyfunction]
#[pyo3(signature = (recency, frequency, monetary, *, bins, method, thresholds, weights, names))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn score<'py>(
    py: Python<'py>,
    recency: PyReadonlyArray1<'py, f64>,
    frequency: PyReadonlyArray1<'py, f64>,
    monetary: PyReadonlyArray1<'py, f64>,
    bins: u32,
    method: &str,
    thresholds: Option<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    weights: (f64, f64, f64),
    names: (String, String, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (r_edges, f_edges, m_edges) = match thresholds {
        Some((r, f, m)) => (Some(r), Some(f), Some(m)),
        None => (None, None, None),
    };
    let recency = Metric {
        values: recency.as_slice()?,
        name: &names.0,
        direction: Direction::LowerIsBetter,
        method: metric_method(method, r_edges)?,
    };
    let frequency = Metric {
        values: frequency.as_slice()?,
        name: &names.1,
        direction: Direction::HigherIsBetter,
        method: metric_method(method, f_edges)?,
    };
    let monetary = Metric {
        values: monetary.as_slice()?,
        name: &names.2,
        direction: Direction::HigherIsBetter,
        method: metric_method(method, m_edges)?,
    };
    let weights = [weights.0, weights.1, weights.2];
    let scores = compute(py, || score_core(&recency, &frequency, &monetary, bins, weights))?;
    let out = PyDict::new(py);
    out.set_item("r_score", scores.r.into_pyarray(py))?;
    out.set_item("f_score", scores.f.into_pyarray(py))?;
    out.set_item("m_score", scores.m.into_pyarray(py))?;
    out.set_item("code", scores.code.into_pyarray(py))?;
    out.set_item("total", scores.total.into_pyarray(py))?;
    Ok(out)
}

/// Label indices of a named score scheme (rfm11, rfm10, value4).
#[pyfunction]
fn segment_scores<'py>(
    py: Python<'py>,
    scheme: &str,
    r: PyReadonlyArray1<'py, f64>,
    f: PyReadonlyArray1<'py, f64>,
    m: PyReadonlyArray1<'py, f64>,
    bins: u32,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (r, f, m) = slices!(r, f, m);
    compute_array(py, || segment_scores_core(scheme, r, f, m, bins))
}

/// Label indices of classic8 on raw recency, frequency, monetary against split values.
#[pyfunction]
fn classic8<'py>(
    py: Python<'py>,
    recency: PyReadonlyArray1<'py, f64>,
    frequency: PyReadonlyArray1<'py, f64>,
    monetary: PyReadonlyArray1<'py, f64>,
    split: (f64, f64, f64),
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (recency, frequency, monetary) = slices!(recency, frequency, monetary);
    let scheme = classic8_core([split.0, split.1, split.2]).map_err(to_py_err)?;
    compute_array(py, || evaluate(&scheme, &[recency, frequency, monetary]))
}

/// Label indices of the value matrix on frequency and average order value.
#[pyfunction]
fn value_matrix<'py>(
    py: Python<'py>,
    frequency: PyReadonlyArray1<'py, f64>,
    avg_order_value: PyReadonlyArray1<'py, f64>,
    split: (f64, f64),
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (frequency, avg_order_value) = slices!(frequency, avg_order_value);
    let scheme = value_matrix_core([split.0, split.1]).map_err(to_py_err)?;
    compute_array(py, || evaluate(&scheme, &[frequency, avg_order_value]))
}

/// Tier indices (0 = top) by cumulative cuts.
#[pyfunction]
fn value_tiers<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    cuts: Vec<f64>,
    name: &str,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let values = values.as_slice()?;
    compute_array(py, || value_tiers_core(values, &cuts, name))
}

/// Labels of a built-in scheme in one language, in category order.
#[pyfunction]
fn scheme_labels(scheme: &str, lang: &str) -> PyResult<Vec<String>> {
    let labels = builtin_labels(scheme).map_err(to_py_err)?;
    Ok(labels
        .into_iter()
        .map(|label| if lang == "zh" { label.zh } else { label.en })
        .collect())
}

/// A condition as the Python layer hands it over: (variable, lower, upper), each end
/// `None` or `(value, inclusive)`.
type ConditionSpec = (usize, Option<(f64, bool)>, Option<(f64, bool)>);
/// A variable: (name, integer, min, max).
type VariableSpec = (String, bool, f64, f64);

fn custom_scheme(
    variables: Vec<VariableSpec>,
    rules: Vec<(usize, Vec<ConditionSpec>)>,
    labels: Vec<String>,
    other: usize,
) -> Scheme {
    let bound = |end: Option<(f64, bool)>| end.map(|(value, inclusive)| RuleBound { value, inclusive });
    Scheme {
        variables: variables
            .into_iter()
            .map(|(name, integer, min, max)| Variable {
                name,
                integer,
                min,
                max,
            })
            .collect(),
        labels: labels
            .into_iter()
            .map(|name| Label {
                en: name.clone(),
                zh: name,
            })
            .collect(),
        rules: rules
            .into_iter()
            .map(|(label, conditions)| Rule {
                label,
                conditions: conditions
                    .into_iter()
                    .map(|(variable, lower, upper)| Condition {
                        variable,
                        lower: bound(lower),
                        upper: bound(upper),
                    })
                    .collect(),
            })
            .collect(),
        other: Some(other),
    }
}

/// Overlaps, unreachable rules and uncovered values of a custom scheme.
#[pyfunction]
fn analyze_scheme<'py>(
    py: Python<'py>,
    variables: Vec<VariableSpec>,
    rules: Vec<(usize, Vec<ConditionSpec>)>,
    labels: Vec<String>,
    other: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let scheme = custom_scheme(variables, rules, labels, other);
    let analysis = compute(py, || scheme.analyze())?;
    let out = PyDict::new(py);
    out.set_item("overlaps", PyList::new(py, analysis.overlaps)?)?;
    out.set_item("unreachable", PyList::new(py, analysis.unreachable)?)?;
    out.set_item("uncovered", analysis.uncovered)?;
    Ok(out)
}

/// Label indices of a custom scheme on its columns (one per variable).
#[pyfunction]
fn segment_custom<'py>(
    py: Python<'py>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    variables: Vec<VariableSpec>,
    rules: Vec<(usize, Vec<ConditionSpec>)>,
    labels: Vec<String>,
    other: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let scheme = custom_scheme(variables, rules, labels, other);
    let slices = columns
        .iter()
        .map(|c| c.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    compute_array(py, || evaluate(&scheme, &slices))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        score,
        histogram_scores,
        segment_scores,
        classic8,
        value_matrix,
        value_tiers,
        scheme_labels,
        analyze_scheme,
        segment_custom
    );
    Ok(())
}
