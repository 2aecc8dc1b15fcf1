//! K-means on customer features: k-means++ seeding, `n_init` restarts, and Lloyd's
//! iterations accelerated with Hamerly's bounds, parallel over points with rayon.
//!
//! The stopping rule is scikit-learn's (`sklearn.cluster.KMeans`, algorithm "lloyd"):
//! stop when an iteration changes no label ("strict convergence") or when the summed
//! squared shift of the centres is at most `tol × mean feature variance`; after a stop
//! on the tolerance the points are assigned once more to the final centres. So from the
//! same start the iterations, labels and inertia are those of scikit-learn.
//!
//! Hamerly's bounds (an upper bound on the distance of each point to its centre and a
//! lower bound on its distance to every other centre) skip the distance computations
//! of points that cannot change cluster: in 3 dimensions most of them after the first
//! few iterations. The assignment is exact: the bounds only skip work whose result is
//! known (they are stored as `f32`, rounded outwards so that they stay bounds).
//!
//! The results do not depend on the number of threads: every sum is taken per chunk of
//! 4096 points, then chunk after chunk.
//!
//! Two backends: rfmkit's own ([`Backend::Rfmkit`]) and, with the `linfa` cargo feature,
//! linfa-clustering's ([`Backend::Linfa`]). With that feature both sit behind linfa's
//! traits: [`KMeansParams`] implements `linfa::traits::Fit` on a linfa dataset and
//! [`KMeansModel`] implements `linfa::traits::PredictInplace` (hence `Predict`).
//!
//! The way through a fit, one file each:
//! - `hyperparams`: the parameters as a builder, [`KMeansParams::check`] into
//!   [`KMeansValidParams`] (one error per bad parameter);
//! - `fit`: the checks of the data, the canonical order (`canonical`), the scaled
//!   tolerance, the backend; rfmkit's `n_init` runs and the best of them;
//! - `init`: k-means++ seeding;
//! - `lloyd`: Lloyd's iterations of one run, on Hamerly's `bounds`;
//! - `distance`: the distances every kernel shares; `soa` (and `avx2`, its x86-64
//!   builds): the vectorised kernels for few features, bit for bit the same results;
//! - `model`: the fitted [`KMeansModel`] and its predictions;
//! - `linfa_backend`: the linfa backend and linfa's traits (feature `linfa`).

#[cfg(target_arch = "x86_64")]
mod avx2;
mod bounds;
mod canonical;
mod distance;
mod fit;
mod hyperparams;
mod init;
#[cfg(feature = "linfa")]
mod linfa_backend;
mod lloyd;
mod model;
mod soa;
#[cfg(test)]
mod tests;

pub use canonical::canonical_order;
pub use hyperparams::{Backend, KMeansParams, KMeansValidParams};
pub use model::KMeansModel;

/// Points per parallel work item. Fixed (not derived from the thread count) so that
/// the sums, and so the results, do not depend on the number of threads.
const CHUNK: usize = 4096;
