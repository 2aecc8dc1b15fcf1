//! Rule-based segments (DESIGN.md, "Scores and segments").
//!
//! A [`Scheme`] is data: variables (input columns), labels (English and Chinese) and an
//! ordered list of rules. A rule is a conjunction of interval conditions on variables
//! and names a label; a row gets the label of the **first** rule it satisfies
//! (precedence = list order), or the scheme's `other` label when none matches. The
//! built-in schemes ([`rfm11`], [`rfm10`], [`classic8`], [`value4`], [`value_matrix`])
//! are built here and evaluated by the same [`evaluate`] as custom schemes.
//!
//! [`Scheme::analyze`] finds, by exact box subtraction over the variables' domains, the
//! pairs of overlapping rules, the rules that no row can reach (covered by earlier
//! rules) and whether some values match no rule. The unit tests use it to prove that
//! the built-in score schemes cover all `5 x 5 x 5` codes with every segment reachable.
//!
//! Here the types of a scheme, its checks and [`evaluate`]; `analysis.rs` holds
//! [`Scheme::analyze`], `builtin.rs` the built-in schemes and [`segment_scores`],
//! `tiers.rs` the Pareto [`value_tiers`].

mod analysis;
mod builtin;
#[cfg(test)]
mod tests;
mod tiers;

use rayon::prelude::*;

use crate::error::{Result, RfmError};

pub use analysis::Analysis;
pub use builtin::{
    builtin_labels, classic8, fm_score, rfm10, rfm11, segment_scores, value4, value_matrix, SCHEMES,
};
pub use tiers::value_tiers;

/// One end of an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

/// `lower <= x <= upper` (each end optional, inclusive or strict).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    pub variable: usize,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

impl Condition {
    fn holds(&self, x: f64) -> bool {
        let above = match self.lower {
            None => true,
            Some(b) if b.inclusive => x >= b.value,
            Some(b) => x > b.value,
        };
        let below = match self.upper {
            None => true,
            Some(b) if b.inclusive => x <= b.value,
            Some(b) => x < b.value,
        };
        above && below
    }
}

/// A named conjunction of conditions; `label` indexes [`Scheme::labels`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub label: usize,
    pub conditions: Vec<Condition>,
}

/// An input column of a scheme. `integer` variables (scores) take whole values in
/// `min..=max`; the others any finite value in `min..=max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub integer: bool,
    pub min: f64,
    pub max: f64,
}

/// A segment label in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub en: String,
    pub zh: String,
}

/// Variables, labels and ordered rules; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    pub variables: Vec<Variable>,
    pub labels: Vec<Label>,
    pub rules: Vec<Rule>,
    /// Label of rows that match no rule; `None` when the rules cover the whole domain.
    pub other: Option<usize>,
}

impl Scheme {
    /// Checks that rules refer to existing variables and labels and that bounds are numbers.
    ///
    /// # Errors
    /// [`RfmError::Scheme`] naming the rule.
    pub fn check(&self) -> Result<()> {
        let bad = |message: String| Err(RfmError::Scheme { message });
        if let Some(other) = self.other {
            if other >= self.labels.len() {
                return bad(format!(
                    "the other label {other} is not one of the {} labels",
                    self.labels.len()
                ));
            }
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.label >= self.labels.len() {
                return bad(format!(
                    "rule {index} names label {} of {}",
                    rule.label,
                    self.labels.len()
                ));
            }
            for condition in &rule.conditions {
                let Some(variable) = self.variables.get(condition.variable) else {
                    return bad(format!(
                        "rule {index} uses variable {} of {}",
                        condition.variable,
                        self.variables.len()
                    ));
                };
                for bound in condition.lower.iter().chain(condition.upper.iter()) {
                    if bound.value.is_nan() {
                        return bad(format!(
                            "rule {index} ('{}') has a NaN bound on '{}'",
                            self.labels[rule.label].en, variable.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The label index of each row: the first rule that holds, else `other`.
///
/// `columns[v]` holds the values of variable `v`.
///
/// # Errors
/// [`RfmError::Scheme`] for a malformed scheme or a wrong number of columns,
/// [`RfmError::Length`] for columns of different lengths, [`RfmError::BadValue`] for a
/// NaN, infinite or (for score variables) out-of-range or fractional value, and
/// [`RfmError::Internal`] when a row matches no rule of a scheme without `other`.
pub fn evaluate(scheme: &Scheme, columns: &[&[f64]]) -> Result<Vec<i64>> {
    scheme.check()?;
    if columns.len() != scheme.variables.len() {
        return Err(RfmError::Scheme {
            message: format!(
                "{} columns given for {} variables",
                columns.len(),
                scheme.variables.len()
            ),
        });
    }
    let n = columns.first().map_or(0, |c| c.len());
    for (variable, column) in scheme.variables.iter().zip(columns) {
        if column.len() != n {
            return Err(RfmError::Length {
                what: "a segmented column",
                got: column.len(),
                expected: n,
            });
        }
        check_domain(variable, column)?;
    }
    let labels: Vec<Option<i64>> = (0..n)
        .into_par_iter()
        .map(|row| {
            scheme
                .rules
                .iter()
                .find(|rule| rule.conditions.iter().all(|c| c.holds(columns[c.variable][row])))
                .map(|rule| rule.label as i64)
                .or(scheme.other.map(|o| o as i64))
        })
        .collect();
    labels
        .into_iter()
        .enumerate()
        .map(|(row, label)| {
            label.ok_or_else(|| {
                RfmError::Internal(format!(
                    "row {row} matches no rule of a scheme without an `other` label"
                ))
            })
        })
        .collect()
}

fn check_domain(variable: &Variable, column: &[f64]) -> Result<()> {
    let bad = |row: usize, hint: String| {
        Err(RfmError::BadValue {
            column: format!("column '{}'", variable.name),
            row,
            value: crate::scores::shown_value(column[row]),
            hint,
        })
    };
    for (row, &x) in column.iter().enumerate() {
        if !x.is_finite() {
            return bad(
                row,
                "segments need finite numbers; drop or fill such rows first".to_string(),
            );
        }
        if variable.integer && (x.fract() != 0.0 || x < variable.min || x > variable.max) {
            return bad(
                row,
                format!(
                    "scores must be whole numbers from {} to {}; score the table with rfmkit.score(table, bins={}) first",
                    variable.min, variable.max, variable.max
                ),
            );
        }
    }
    Ok(())
}
