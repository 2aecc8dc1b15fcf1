//! The linfa backend ([`Backend::Linfa`](super::Backend::Linfa)), behind the `linfa`
//! cargo feature: a fit with linfa-clustering's `KMeans`, and linfa's traits for
//! rfmkit's types, so that both backends sit behind them: [`KMeansParams`] implements
//! [`Fit`] on a linfa dataset and [`KMeansModel`] implements [`PredictInplace`] (hence
//! `Predict`).

use linfa::traits::{Fit, PredictInplace};
use linfa::DatasetBase;
use ndarray::{Array1, ArrayBase, ArrayView2, Data, Ix2};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

use super::distance::nearest;
use super::hyperparams::{KMeansParams, KMeansValidParams};
use super::lloyd::inertia_of;
use super::model::KMeansModel;
use crate::error::{Result, RfmError};

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, RfmError> for KMeansParams {
    type Object = KMeansModel;

    /// See [`KMeansParams::fit_points`].
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<KMeansModel> {
        self.fit_points(dataset.records.view())
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for KMeansModel {
    /// The nearest centre of each row. Rows with a non-finite value or a wrong number of
    /// features are a programming error here: `y` is then left as it is; use
    /// [`KMeansModel::predict_checked`] for an error instead.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        if let Ok(labels) = self.predict_checked(x.view()) {
            if labels.len() == y.len() {
                y.assign(&labels);
            }
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

/// Fits with linfa-clustering on the `n × d` row-major points `flat` (in canonical
/// order), with scikit-learn's scaled tolerance `tol`; the labels and inertia are
/// rfmkit's own, from linfa's centres.
pub(super) fn fit(
    flat: &[f64],
    n: usize,
    d: usize,
    params: &KMeansValidParams,
    tol: f64,
) -> Result<KMeansModel> {
    let points = ArrayView2::from_shape((n, d), flat)
        .map_err(|error| RfmError::data(format!("the points do not form an n x d table: {error}")))?;
    // linfa stops when the (non-squared) Frobenius norm of the centre shift is below
    // its tolerance; scikit-learn compares the squared shift with `tol`.
    let linfa_tol = tol.sqrt().max(f64::MIN_POSITIVE);
    let rng = Xoshiro256Plus::seed_from_u64(params.seed);
    let dataset = DatasetBase::from(points.to_owned());
    let model = linfa_clustering::KMeans::params_with_rng(params.n_clusters, rng)
        .n_runs(params.n_init)
        .tolerance(linfa_tol)
        .max_n_iterations(params.max_iter as u64)
        .fit(&dataset)
        .map_err(|error| RfmError::Backend {
            backend: "linfa",
            message: error.to_string(),
        })?;
    let centroids = model.centroids().to_owned();
    let centers = centroids
        .as_standard_layout()
        .as_slice()
        .map(<[f64]>::to_vec)
        .unwrap_or_default();
    let labels: Vec<u32> = flat
        .par_chunks(d)
        .map(|x| nearest(x, &centers, d).0 as u32)
        .collect();
    debug_assert_eq!(labels.len(), n);
    let inertia = inertia_of::<0>(flat, d, &centers, &labels);
    Ok(KMeansModel {
        centroids,
        labels: labels.iter().map(|&l| l as usize).collect(),
        inertia,
        n_iter: None,
    })
}
