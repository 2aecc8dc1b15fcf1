//! rfmkit: a customer-value analytics engine.
//!
//! The core works on dense integer codes, integer timestamps ("ticks") and float
//! amounts, and knows nothing of Python: the binding lives in [`python`] behind the
//! `python` cargo feature.
//!
//! - [`encode`]: ids of any type to dense codes;
//! - [`state`]: the one aggregation engine: a mergeable per-customer state that batches
//!   of rows update and that the RFM table, the lifetimes-style BTYD summary and the
//!   calibration/holdout split are finished from;
//! - [`money`]: exactly rounded, order-independent money sums;
//! - [`scores`]: quantile and threshold RFM scores;
//! - [`segments`]: rule-based segment schemes (built-in and custom) and value tiers;
//! - [`cluster`]: k-means (rfmkit's own Hamerly-accelerated Lloyd, or linfa's with the
//!   `linfa` cargo feature);
//! - [`metrics`]: clustering metrics (silhouette, Calinski-Harabasz, Davies-Bouldin)
//!   and label comparisons (ARI, NMI, homogeneity, completeness, V-measure).
//! - [`clv`]: the BG/NBD and Gamma-Gamma models (fit, predictions, lifetime value).

pub mod cluster;
pub mod clv;
pub mod cohorts;
pub mod encode;
pub mod error;
pub mod metrics;
pub mod money;
pub mod periods;
pub mod rows;
pub mod scores;
pub mod segments;
pub mod state;
#[cfg(test)]
mod testing;

#[cfg(feature = "python")]
mod python;

pub use cluster::{canonical_order, Backend, KMeansModel, KMeansParams, KMeansValidParams};
pub use error::{Field, Result, RfmError};
pub use periods::{Period, Weekday, MONTH_DAYS, TIME_UNIT_ALIASES, WEEKS_PER_MONTH};
pub use rows::{
    Accounting, ColumnNames, DropReason, InvalidPolicy, ReturnPolicy, RowPolicy, Transactions, ZeroPolicy,
};
pub use state::oneshot::{calibration_holdout, rfm, summary, RfmOptions, SummaryOptions};
pub use state::{
    Batch, CalibrationHoldout, Ids, Keys, Offsets, RfmTable, RfmView, State, StateOptions, Summary,
    SummaryView,
};
