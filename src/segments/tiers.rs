//! Pareto value tiers (platinum, gold, iron, lead by default).

use rayon::prelude::*;

use crate::error::{Result, RfmError};

/// Pareto value tiers: tier `k` (0 = the top tier) is the first whose cumulative cut
/// `cuts[k]` satisfies `(number of customers with a strictly larger value) < cuts[k] * n`;
/// customers past the last cut get tier `cuts.len()`. Ties therefore stay together and
/// a tie group that straddles a cut joins the higher tier.
///
/// # Errors
/// [`RfmError::Parameter`] naming `cuts` unless they are strictly increasing in (0, 1);
/// [`RfmError::BadValue`] for a NaN or infinite value.
pub fn value_tiers(values: &[f64], cuts: &[f64], column: &str) -> Result<Vec<i64>> {
    if cuts.is_empty()
        || cuts.iter().any(|c| !(c.is_finite() && *c > 0.0 && *c < 1.0))
        || cuts.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(RfmError::parameter(
            "cuts",
            format!("cuts={cuts:?} must be cumulative shares strictly increasing between 0 and 1, e.g. (0.01, 0.05, 0.20)"),
        ));
    }
    crate::scores::check_finite(values, column)?;
    let mut sorted: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
    sorted.par_sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    let tiers = values
        .par_iter()
        .map(|&value| {
            let value = value + 0.0;
            let larger = (n - sorted.partition_point(|x| x.total_cmp(&value).is_le())) as f64;
            cuts.iter()
                .position(|cut| larger < cut * n as f64)
                .unwrap_or(cuts.len()) as i64
        })
        .collect();
    Ok(tiers)
}
