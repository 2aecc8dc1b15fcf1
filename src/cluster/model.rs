//! A fitted k-means model: its centres, the labels and inertia of its training points,
//! and the nearest centre of new points.

use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;

use super::distance::nearest;
use super::CHUNK;
use crate::error::{Result, RfmError};

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansModel {
    pub(super) centroids: Array2<f64>,
    pub(super) labels: Array1<usize>,
    pub(super) inertia: f64,
    pub(super) n_iter: Option<usize>,
}

impl KMeansModel {
    /// The cluster centres, one row per cluster.
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }

    /// The cluster of each training point.
    pub fn labels(&self) -> &Array1<usize> {
        &self.labels
    }

    /// Sum of squared distances of the training points to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Iterations of the best run; `None` for the linfa backend, which does not say.
    pub fn n_iter(&self) -> Option<usize> {
        self.n_iter
    }

    /// The model with the given centres (e.g. restored from a pickle), for `predict`.
    ///
    /// # Errors
    /// [`RfmError::Data`] when there are no centres or one is not finite.
    pub fn from_centroids(centroids: Array2<f64>) -> Result<KMeansModel> {
        if centroids.nrows() == 0 || centroids.ncols() == 0 {
            return Err(RfmError::data(
                "a k-means model needs at least one centre of at least one feature",
            ));
        }
        if centroids.iter().any(|v| !v.is_finite()) {
            return Err(RfmError::data("the cluster centres hold a NaN or an infinity"));
        }
        Ok(KMeansModel {
            centroids,
            labels: Array1::zeros(0),
            inertia: 0.0,
            n_iter: None,
        })
    }

    fn check_points(&self, points: &ArrayView2<'_, f64>) -> Result<()> {
        if points.ncols() != self.centroids.ncols() {
            return Err(RfmError::data(format!(
                "the points have {} features but the model was fitted on {}; pass the same features",
                points.ncols(),
                self.centroids.ncols()
            )));
        }
        if let Some(((row, col), value)) = points.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(RfmError::data(format!(
                "feature {col} of row {row} (0-based) is {value}; k-means needs finite values"
            )));
        }
        Ok(())
    }

    /// The nearest centre of each row of `points`.
    ///
    /// # Errors
    /// [`RfmError::Data`] when the number of features differs from the model's or a
    /// value is not finite.
    pub fn predict_checked(&self, points: ArrayView2<'_, f64>) -> Result<Array1<usize>> {
        self.check_points(&points)?;
        let standard = points.as_standard_layout();
        let flat = standard.as_slice().unwrap_or(&[]);
        let centers = self.centroids.as_standard_layout();
        let centers = centers.as_slice().unwrap_or(&[]);
        let d = self.centroids.ncols();
        let labels: Vec<usize> = flat
            .par_chunks(CHUNK * d)
            .flat_map_iter(|chunk| chunk.chunks_exact(d).map(|x| nearest(x, centers, d).0))
            .collect();
        Ok(Array1::from(labels))
    }

    /// Euclidean distances of each row of `points` to each centre (`n × k`).
    ///
    /// # Errors
    /// As [`KMeansModel::predict_checked`].
    pub fn distances(&self, points: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check_points(&points)?;
        let k = self.centroids.nrows();
        let mut out = Array2::zeros((points.nrows(), k));
        for (mut row, x) in out.outer_iter_mut().zip(points.outer_iter()) {
            for (slot, c) in row.iter_mut().zip(self.centroids.outer_iter()) {
                *slot = x
                    .iter()
                    .zip(c.iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
            }
        }
        Ok(out)
    }
}
