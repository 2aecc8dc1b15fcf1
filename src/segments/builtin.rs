//! The built-in segment schemes (`rfm11`, `rfm10`, `value4`, `classic8`,
//! `value_matrix`), their labels, and [`segment_scores`], which segments score columns by
//! a named score scheme.

use rayon::prelude::*;

use super::{check_domain, Bound, Condition, Label, Rule, Scheme, Variable};
use crate::error::{Result, RfmError};

pub(super) fn label(en: &str, zh: &str) -> Label {
    Label {
        en: en.to_string(),
        zh: zh.to_string(),
    }
}

pub(super) fn score_variable(name: &str, bins: u32) -> Variable {
    Variable {
        name: name.to_string(),
        integer: true,
        min: 1.0,
        max: f64::from(bins),
    }
}

pub(super) fn raw_variable(name: &str) -> Variable {
    Variable {
        name: name.to_string(),
        integer: false,
        min: f64::NEG_INFINITY,
        max: f64::INFINITY,
    }
}

/// `lower <= x <= upper` or a strict end, each end optional.
pub(super) fn condition(
    variable: usize,
    lower: Option<(f64, bool)>,
    upper: Option<(f64, bool)>,
) -> Condition {
    let bound = |(value, inclusive)| Bound { value, inclusive };
    Condition {
        variable,
        lower: lower.map(bound),
        upper: upper.map(bound),
    }
}

/// `lo <= x <= hi` on an integer score.
pub(super) fn between(variable: usize, lo: f64, hi: f64) -> Condition {
    condition(variable, Some((lo, true)), Some((hi, true)))
}

/// The high side of `split`, `x > split`, or the low one, `x <= split`: a value equal to
/// the split is low.
pub(super) fn above(variable: usize, split: f64, high: bool) -> Condition {
    if high {
        condition(variable, Some((split, false)), None)
    } else {
        condition(variable, None, Some((split, true)))
    }
}

/// The high side of a recency `split`, `x < split` (a short recency is high), or the low
/// one, `x >= split`.
fn below(variable: usize, split: f64, high: bool) -> Condition {
    if high {
        condition(variable, None, Some((split, false)))
    } else {
        condition(variable, Some((split, true)), None)
    }
}

fn box_rules(boxes: &[(usize, [f64; 4])]) -> Vec<Rule> {
    boxes
        .iter()
        .map(|&(label, [r_lo, r_hi, x_lo, x_hi])| Rule {
            label,
            conditions: vec![between(0, r_lo, r_hi), between(1, x_lo, x_hi)],
        })
        .collect()
}

/// The `FM` score of [`rfm11`] and [`value4`]: the mean of the F and M scores rounded
/// half up, `ceil((f + m) / 2)` (so F=2, M=3 gives 3).
pub fn fm_score(f: &[f64], m: &[f64]) -> Vec<f64> {
    f.iter().zip(m).map(|(f, m)| ((f + m) / 2.0).ceil()).collect()
}

/// `rfm11`, the Putler scheme on the R score and the [`fm_score`] (5 scores each).
///
/// Variables: `[r_score, fm_score]`. Labels, in the category order (best first):
/// Champions, Loyal Customers, Potential Loyalist, New Customers, Promising, Need
/// Attention, About To Sleep, At Risk, Can't Lose Them, Hibernating, Lost.
/// Rules, first match wins (Putler's ranges, with the more specific ones first):
///
/// | # | segment | R | FM |
/// |---|---|---|---|
/// | 1 | Champions | 4-5 | 4-5 |
/// | 2 | Can't Lose Them | 1 | 4-5 |
/// | 3 | Lost | 1 | 1 |
/// | 4 | New Customers | 4-5 | 1 |
/// | 5 | Promising | 3-4 | 1 |
/// | 6 | Need Attention | 2-3 | 2-3 |
/// | 7 | About To Sleep | 2-3 | 1-2 |
/// | 8 | Hibernating | 1-2 | 1-2 |
/// | 9 | At Risk | 1-2 | 2-5 |
/// | 10 | Loyal Customers | 2-5 | 3-5 |
/// | 11 | Potential Loyalist | 3-5 | 1-3 |
pub fn rfm11() -> Scheme {
    let labels = vec![
        label("Champions", "冠军客户"),
        label("Loyal Customers", "忠诚客户"),
        label("Potential Loyalist", "潜在忠诚客户"),
        label("New Customers", "新客户"),
        label("Promising", "有潜力客户"),
        label("Need Attention", "需要关注客户"),
        label("About To Sleep", "即将沉睡客户"),
        label("At Risk", "流失风险客户"),
        label("Can't Lose Them", "不能失去的客户"),
        label("Hibernating", "休眠客户"),
        label("Lost", "已流失客户"),
    ];
    let rules = box_rules(&[
        (0, [4.0, 5.0, 4.0, 5.0]),
        (8, [1.0, 1.0, 4.0, 5.0]),
        (10, [1.0, 1.0, 1.0, 1.0]),
        (3, [4.0, 5.0, 1.0, 1.0]),
        (4, [3.0, 4.0, 1.0, 1.0]),
        (5, [2.0, 3.0, 2.0, 3.0]),
        (6, [2.0, 3.0, 1.0, 2.0]),
        (9, [1.0, 2.0, 1.0, 2.0]),
        (7, [1.0, 2.0, 2.0, 5.0]),
        (1, [2.0, 5.0, 3.0, 5.0]),
        (2, [3.0, 5.0, 1.0, 3.0]),
    ]);
    Scheme {
        variables: vec![score_variable("r_score", 5), score_variable("fm_score", 5)],
        labels,
        rules,
        other: None,
    }
}

/// `rfm10`, the R x F grid of most Python tutorials (5 scores each).
///
/// Variables: `[r_score, f_score]`. The ten boxes do not overlap and cover the grid:
///
/// | segment | R | F |
/// |---|---|---|
/// | Champions | 5 | 4-5 |
/// | Loyal Customers | 3-4 | 4-5 |
/// | Potential Loyalists | 4-5 | 2-3 |
/// | New Customers | 5 | 1 |
/// | Promising | 4 | 1 |
/// | Need Attention | 3 | 3 |
/// | About To Sleep | 3 | 1-2 |
/// | At Risk | 1-2 | 3-4 |
/// | Can't Lose | 1-2 | 5 |
/// | Hibernating | 1-2 | 1-2 |
pub fn rfm10() -> Scheme {
    let labels = vec![
        label("Champions", "冠军客户"),
        label("Loyal Customers", "忠诚客户"),
        label("Potential Loyalists", "潜在忠诚客户"),
        label("New Customers", "新客户"),
        label("Promising", "有潜力客户"),
        label("Need Attention", "需要关注客户"),
        label("About To Sleep", "即将沉睡客户"),
        label("At Risk", "流失风险客户"),
        label("Can't Lose", "不能失去的客户"),
        label("Hibernating", "休眠客户"),
    ];
    let rules = box_rules(&[
        (0, [5.0, 5.0, 4.0, 5.0]),
        (1, [3.0, 4.0, 4.0, 5.0]),
        (2, [4.0, 5.0, 2.0, 3.0]),
        (3, [5.0, 5.0, 1.0, 1.0]),
        (4, [4.0, 4.0, 1.0, 1.0]),
        (5, [3.0, 3.0, 3.0, 3.0]),
        (6, [3.0, 3.0, 1.0, 2.0]),
        (7, [1.0, 2.0, 3.0, 4.0]),
        (8, [1.0, 2.0, 5.0, 5.0]),
        (9, [1.0, 2.0, 1.0, 2.0]),
    ]);
    Scheme {
        variables: vec![score_variable("r_score", 5), score_variable("f_score", 5)],
        labels,
        rules,
        other: None,
    }
}

/// `value4` on the R score and the [`fm_score`] with `bins` scores each: a score is
/// high when it is above the middle score, `score > (bins + 1) / 2` (4 and 5 of 5).
///
/// Variables: `[r_score, fm_score]`; labels: High Value (R high, FM high), Potential
/// (R high, FM low), Sleeping (R low, FM high), Lost (R low, FM low).
///
/// # Errors
/// [`RfmError::Parameter`] for `bins` outside 2..=9.
pub fn value4(bins: u32) -> Result<Scheme> {
    crate::scores::check_bins(bins)?;
    let middle = f64::from(bins + 1) / 2.0;
    let labels = vec![
        label("High Value", "高价值客户"),
        label("Potential", "潜力客户"),
        label("Sleeping", "沉睡客户"),
        label("Lost", "流失客户"),
    ];
    let quadrant = |label, r_high: bool, fm_high: bool| Rule {
        label,
        conditions: vec![above(0, middle, r_high), above(1, middle, fm_high)],
    };
    Ok(Scheme {
        variables: vec![score_variable("r_score", bins), score_variable("fm_score", bins)],
        labels,
        rules: vec![
            quadrant(0, true, true),
            quadrant(1, true, false),
            quadrant(2, false, true),
            quadrant(3, false, false),
        ],
        other: None,
    })
}

/// `classic8`, the Chinese RFM model on raw recency, frequency and monetary against
/// split values (their mean or median): R is high ("R↑") when recency is strictly
/// below its split, F and M when strictly above theirs; a value equal to the split is
/// low. Variables: `[recency, frequency, monetary]`; labels in this order:
///
/// | label | zh | R | F | M |
/// |---|---|---|---|---|
/// | Important Value | 重要价值客户 | ↑ | ↑ | ↑ |
/// | Important Develop | 重要发展客户 | ↑ | ↓ | ↑ |
/// | Important Retain | 重要保持客户 | ↓ | ↑ | ↑ |
/// | Important Win-back | 重要挽留客户 | ↓ | ↓ | ↑ |
/// | General Value | 一般价值客户 | ↑ | ↑ | ↓ |
/// | General Develop | 一般发展客户 | ↑ | ↓ | ↓ |
/// | General Retain | 一般保持客户 | ↓ | ↑ | ↓ |
/// | General Win-back | 一般挽留客户 | ↓ | ↓ | ↓ |
///
/// # Errors
/// [`RfmError::Parameter`] naming `split` when a split value is not finite.
pub fn classic8(split: [f64; 3]) -> Result<Scheme> {
    check_splits(&split, &["recency", "frequency", "monetary"])?;
    let labels = vec![
        label("Important Value", "重要价值客户"),
        label("Important Develop", "重要发展客户"),
        label("Important Retain", "重要保持客户"),
        label("Important Win-back", "重要挽留客户"),
        label("General Value", "一般价值客户"),
        label("General Develop", "一般发展客户"),
        label("General Retain", "一般保持客户"),
        label("General Win-back", "一般挽留客户"),
    ];
    let rule = |label, r_high: bool, f_high: bool, m_high: bool| Rule {
        label,
        conditions: vec![
            below(0, split[0], r_high),
            above(1, split[1], f_high),
            above(2, split[2], m_high),
        ],
    };
    Ok(Scheme {
        variables: vec![
            raw_variable("recency"),
            raw_variable("frequency"),
            raw_variable("monetary"),
        ],
        labels,
        rules: vec![
            rule(0, true, true, true),
            rule(1, true, false, true),
            rule(2, false, true, true),
            rule(3, false, false, true),
            rule(4, true, true, false),
            rule(5, true, false, false),
            rule(6, false, true, false),
            rule(7, false, false, false),
        ],
        other: None,
    })
}

/// The customer value matrix: frequency x average order value, each high when strictly
/// above its split. Variables: `[frequency, avg_order_value]`; labels: Best 优质型客户
/// (F high, AOV high), Frequent 常规型客户 (F high, AOV low), Spender 意愿型客户 (F low,
/// AOV high), Uncertain 不确定型客户 (F low, AOV low).
///
/// # Errors
/// [`RfmError::Parameter`] naming `split` when a split value is not finite.
pub fn value_matrix(split: [f64; 2]) -> Result<Scheme> {
    check_splits(&split, &["frequency", "avg_order_value"])?;
    let labels = vec![
        label("Best", "优质型客户"),
        label("Frequent", "常规型客户"),
        label("Spender", "意愿型客户"),
        label("Uncertain", "不确定型客户"),
    ];
    let rule = |label, f_high: bool, aov_high: bool| Rule {
        label,
        conditions: vec![above(0, split[0], f_high), above(1, split[1], aov_high)],
    };
    Ok(Scheme {
        variables: vec![raw_variable("frequency"), raw_variable("avg_order_value")],
        labels,
        rules: vec![
            rule(0, true, true),
            rule(1, true, false),
            rule(2, false, true),
            rule(3, false, false),
        ],
        other: None,
    })
}

fn check_splits(split: &[f64], names: &[&str]) -> Result<()> {
    for (value, name) in split.iter().zip(names) {
        if !value.is_finite() {
            return Err(RfmError::parameter(
                "split",
                format!("the split value of {name} is {value}; pass \"mean\", \"median\" or finite numbers"),
            ));
        }
    }
    Ok(())
}

/// Segments of R, F, M scores (`bins` each) by a named score scheme: `"rfm11"`,
/// `"rfm10"` (both need `bins == 5`) or `"value4"`. Returns label indices of the scheme.
///
/// # Errors
/// [`RfmError::Parameter`] for an unknown scheme or a `bins` the scheme cannot use;
/// [`RfmError::BadValue`] for a score that is not a whole number in `1..=bins`;
/// [`RfmError::Length`] for columns of different lengths.
pub fn segment_scores(name: &str, r: &[f64], f: &[f64], m: &[f64], bins: u32) -> Result<Vec<i64>> {
    crate::scores::check_bins(bins)?;
    let scheme = match name {
        "rfm11" | "rfm10" if bins != 5 => {
            return Err(RfmError::parameter(
                "scheme",
                format!("scheme \"{name}\" is defined on scores 1..5 but the table has bins={bins}; score it with rfmkit.score(table, bins=5) or use scheme=\"value4\""),
            ))
        }
        "rfm11" => rfm11(),
        "rfm10" => rfm10(),
        "value4" => value4(bins)?,
        other => {
            return Err(RfmError::parameter(
                "scheme",
                format!("unknown score scheme {other:?}; use \"rfm11\", \"rfm10\" or \"value4\""),
            ))
        }
    };
    // check the raw scores first, so that messages name r/f/m_score rather than fm_score
    let score = |name: &str| score_variable(name, bins);
    for (variable, column) in [
        (score("r_score"), r),
        (score("f_score"), f),
        (score("m_score"), m),
    ] {
        if column.len() != r.len() {
            return Err(RfmError::Length {
                what: "a score column",
                got: column.len(),
                expected: r.len(),
            });
        }
        check_domain(&variable, column)?;
    }
    // The scores are whole numbers in 1..=bins now: label every cell of the bins x bins
    // grid once, then look each row up.
    let b = bins as usize;
    let mut grid = Vec::with_capacity(b * b);
    for x in 1..=b {
        for y in 1..=b {
            let label = first_match(&scheme, &[x as f64, y as f64]).ok_or_else(|| {
                RfmError::Internal(format!(
                    "scheme {name} leaves the cell ({x}, {y}) without a segment"
                ))
            })?;
            grid.push(label as i64);
        }
    }
    let uses_fm = name != "rfm10";
    let labels: Option<Vec<i64>> = (0..r.len())
        .into_par_iter()
        .map(|row| {
            let x = r[row] as usize;
            // fm = ceil((f + m) / 2) on whole scores
            let y = if uses_fm {
                (f[row] as usize + m[row] as usize).div_ceil(2)
            } else {
                f[row] as usize
            };
            grid.get((x.checked_sub(1)?) * b + y.checked_sub(1)?).copied()
        })
        .collect();
    labels.ok_or_else(|| RfmError::Internal("a checked score fell outside the grid".to_string()))
}

/// The label of the first rule that `point` (one value per variable) satisfies.
fn first_match(scheme: &Scheme, point: &[f64]) -> Option<usize> {
    scheme
        .rules
        .iter()
        .find(|rule| {
            rule.conditions
                .iter()
                .all(|c| point.get(c.variable).is_some_and(|&x| c.holds(x)))
        })
        .map(|rule| rule.label)
        .or(scheme.other)
}

/// The names of the built-in segment schemes, in the order messages list them.
pub const SCHEMES: [&str; 4] = ["rfm11", "rfm10", "classic8", "value4"];

/// The labels of a built-in scheme (`"rfm11"`, `"rfm10"`, `"classic8"`, `"value4"`,
/// `"value_matrix"`, `"tiers"`) in category order.
///
/// # Errors
/// [`RfmError::Parameter`] for an unknown scheme.
pub fn builtin_labels(name: &str) -> Result<Vec<Label>> {
    Ok(match name {
        "rfm11" => rfm11().labels,
        "rfm10" => rfm10().labels,
        "classic8" => classic8([0.0; 3])?.labels,
        "value4" => value4(5)?.labels,
        "value_matrix" => value_matrix([0.0; 2])?.labels,
        "tiers" => vec![
            label("platinum", "白金"),
            label("gold", "黄金"),
            label("iron", "铁"),
            label("lead", "铅"),
        ],
        other => {
            return Err(RfmError::parameter(
                "scheme",
                format!("unknown scheme {other:?}; use \"rfm11\", \"rfm10\", \"classic8\", \"value4\" or a rfmkit.SegmentScheme"),
            ))
        }
    })
}
