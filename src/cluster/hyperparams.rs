//! The parameters of a k-means fit: a builder ([`KMeansParams`]) that
//! [`KMeansParams::check`] validates into [`KMeansValidParams`], the only parameters a
//! fit runs with. Each bad parameter is an [`RfmError::Parameter`] that names it.

use crate::error::{Result, RfmError};

/// Which implementation fits the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// rfmkit's own: k-means++ then Lloyd with Hamerly's bounds, parallel.
    Rfmkit,
    /// linfa-clustering 0.8.1's `KMeans` (k-means++ then plain Lloyd), with its
    /// tolerance rescaled to scikit-learn's stopping rule. Needs the `linfa` cargo
    /// feature (the Python wheel has it); without it, [`KMeansParams::check`] refuses it.
    Linfa,
}

/// Checked parameters of a k-means fit: made by [`KMeansParams::check`], so every value
/// is in its domain.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansValidParams {
    pub(super) n_clusters: usize,
    pub(super) n_init: usize,
    pub(super) max_iter: usize,
    pub(super) tol: f64,
    pub(super) seed: u64,
    pub(super) backend: Backend,
}

impl KMeansValidParams {
    /// Number of clusters (at least 1).
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// Number of k-means++ restarts (at least 1).
    pub fn n_init(&self) -> usize {
        self.n_init
    }

    /// Maximum number of Lloyd iterations of one run (at least 1).
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    /// Relative tolerance (finite, at least 0).
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// Seed of the random number generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The implementation to fit with (available in this build).
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// The parameters of a k-means fit, as a builder; [`KMeansParams::check`] validates
/// them (and `fit` calls it first).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams(KMeansValidParams);

/// Builder methods that set one field of the parameters.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $type:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $name: $type) -> Self {
                self.0.$name = $name;
                self
            }
        )*
    };
}

impl KMeansParams {
    /// `n_clusters` clusters, with scikit-learn's defaults: 10 restarts, at most 300
    /// iterations, `tol = 1e-4`; seed 0; rfmkit's backend.
    pub fn new(n_clusters: usize) -> Self {
        KMeansParams(KMeansValidParams {
            n_clusters,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            backend: Backend::Rfmkit,
        })
    }

    setters! {
        /// Number of k-means++ restarts; the run with the lowest inertia is kept.
        n_init: usize;
        /// Maximum number of Lloyd iterations of one run.
        max_iter: usize;
        /// Relative tolerance: a run stops when the summed squared centre shift is at most
        /// `tol` times the mean variance of the features.
        tol: f64;
        /// Seed of the random number generator: equal seeds give equal results.
        seed: u64;
        /// The implementation to fit with.
        backend: Backend;
    }

    /// The number of clusters asked for (checked by [`KMeansParams::check`]).
    pub fn n_clusters(&self) -> usize {
        self.0.n_clusters
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the parameter when `n_clusters`, `n_init` or
    /// `max_iter` is 0, `tol` is negative or not finite, or the backend is
    /// [`Backend::Linfa`] in a build without the `linfa` cargo feature.
    pub fn check(&self) -> Result<&KMeansValidParams> {
        let params = &self.0;
        if params.n_clusters == 0 {
            return Err(RfmError::parameter(
                "n_clusters",
                "n_clusters=0: ask for at least 1 cluster",
            ));
        }
        if params.n_init == 0 {
            return Err(RfmError::parameter(
                "n_init",
                "n_init=0: run at least 1 initialisation",
            ));
        }
        if params.max_iter == 0 {
            return Err(RfmError::parameter(
                "max_iter",
                "max_iter=0: allow at least 1 iteration",
            ));
        }
        if !(params.tol.is_finite() && params.tol >= 0.0) {
            return Err(RfmError::parameter(
                "tol",
                format!("tol={} must be a finite number >= 0 (e.g. 1e-4)", params.tol),
            ));
        }
        if params.backend == Backend::Linfa && !cfg!(feature = "linfa") {
            return Err(linfa_missing());
        }
        Ok(params)
    }
}

/// The error of the linfa backend in a build without it.
pub(super) fn linfa_missing() -> RfmError {
    RfmError::parameter(
        "backend",
        "backend=\"linfa\" is not in this build of rfmkit: it was compiled without the `linfa` cargo \
         feature (the Python wheel has it; from Rust, enable features = [\"linfa\"]); use \
         backend=\"rfmkit\" instead",
    )
}
