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

use rayon::prelude::*;

use crate::error::{Result, RfmError};

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

/// What [`Scheme::analyze`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Pairs `(earlier, later)` of rules that some row satisfies both.
    pub overlaps: Vec<(usize, usize)>,
    /// Rules that no row can reach: every row they match is taken by an earlier rule.
    pub unreachable: Vec<usize>,
    /// Whether some value in the domain matches no rule (it then gets `other`).
    pub uncovered: bool,
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

    /// Overlaps, unreachable rules and uncovered values over the variables' domains.
    ///
    /// # Errors
    /// [`RfmError::Scheme`] for a malformed scheme or one too large to analyse exactly.
    pub fn analyze(&self) -> Result<Analysis> {
        self.check()?;
        let domain: Vec<Interval> = self
            .variables
            .iter()
            .map(|v| Interval::closed(v.min, v.max).normalized(v.integer))
            .collect();
        let integer: Vec<bool> = self.variables.iter().map(|v| v.integer).collect();
        let boxes: Vec<Vec<Interval>> = self
            .rules
            .iter()
            .map(|rule| {
                let mut cell = domain.clone();
                for c in &rule.conditions {
                    cell[c.variable] = cell[c.variable]
                        .intersect(&Interval::of(c))
                        .normalized(integer[c.variable]);
                }
                cell
            })
            .collect();
        let mut analysis = Analysis::default();
        for (j, later) in boxes.iter().enumerate() {
            for (i, earlier) in boxes.iter().enumerate().take(j) {
                if !is_empty(&intersect(earlier, later, &integer), &integer) && !is_empty(later, &integer) {
                    analysis.overlaps.push((i, j));
                }
            }
            if subtract_all(vec![later.clone()], &boxes[..j], &integer)?.is_empty() {
                analysis.unreachable.push(j);
            }
        }
        analysis.uncovered = !subtract_all(vec![domain], &boxes, &integer)?.is_empty();
        Ok(analysis)
    }
}

/// An interval of the real line (or of the integers, once normalized).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Interval {
    lo: f64,
    lo_closed: bool,
    hi: f64,
    hi_closed: bool,
}

impl Interval {
    fn closed(lo: f64, hi: f64) -> Self {
        Interval {
            lo,
            lo_closed: lo.is_finite(),
            hi,
            hi_closed: hi.is_finite(),
        }
    }

    fn of(c: &Condition) -> Self {
        let (lo, lo_closed) = c
            .lower
            .map_or((f64::NEG_INFINITY, false), |b| (b.value, b.inclusive));
        let (hi, hi_closed) = c.upper.map_or((f64::INFINITY, false), |b| (b.value, b.inclusive));
        Interval {
            lo,
            lo_closed,
            hi,
            hi_closed,
        }
    }

    /// Integer intervals become closed with whole ends (`x > 2.5` -> `x >= 3`).
    fn normalized(self, integer: bool) -> Self {
        if !integer {
            return self;
        }
        let lo = if self.lo_closed {
            self.lo.ceil()
        } else {
            self.lo.floor() + 1.0
        };
        let hi = if self.hi_closed {
            self.hi.floor()
        } else {
            self.hi.ceil() - 1.0
        };
        Interval {
            lo,
            lo_closed: lo.is_finite(),
            hi,
            hi_closed: hi.is_finite(),
        }
    }

    fn is_empty(&self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && !(self.lo_closed && self.hi_closed))
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let (lo, lo_closed) = if self.lo > other.lo {
            (self.lo, self.lo_closed)
        } else if other.lo > self.lo {
            (other.lo, other.lo_closed)
        } else {
            (self.lo, self.lo_closed && other.lo_closed)
        };
        let (hi, hi_closed) = if self.hi < other.hi {
            (self.hi, self.hi_closed)
        } else if other.hi < self.hi {
            (other.hi, other.hi_closed)
        } else {
            (self.hi, self.hi_closed && other.hi_closed)
        };
        Interval {
            lo,
            lo_closed,
            hi,
            hi_closed,
        }
    }

    /// The parts of `self` outside `other` (up to two), normalized.
    fn minus(&self, other: &Interval, integer: bool) -> Vec<Interval> {
        let left = Interval {
            hi: other.lo,
            hi_closed: !other.lo_closed,
            ..*self
        };
        let right = Interval {
            lo: other.hi,
            lo_closed: !other.hi_closed,
            ..*self
        };
        [left, right]
            .into_iter()
            .map(|part| self.intersect(&part).normalized(integer))
            .filter(|part| !part.is_empty())
            .collect()
    }
}

fn is_empty(cell: &[Interval], _integer: &[bool]) -> bool {
    cell.iter().any(Interval::is_empty)
}

fn intersect(a: &[Interval], b: &[Interval], integer: &[bool]) -> Vec<Interval> {
    a.iter()
        .zip(b)
        .zip(integer)
        .map(|((x, y), &int)| x.intersect(y).normalized(int))
        .collect()
}

/// Box subtraction: the disjoint boxes covering `cells` minus every box of `minus`.
fn subtract_all(
    mut cells: Vec<Vec<Interval>>,
    minus: &[Vec<Interval>],
    integer: &[bool],
) -> Result<Vec<Vec<Interval>>> {
    const LIMIT: usize = 200_000;
    cells.retain(|c| !is_empty(c, integer));
    for cut in minus {
        if is_empty(cut, integer) {
            continue;
        }
        let mut next = Vec::new();
        for cell in cells {
            if is_empty(&intersect(&cell, cut, integer), integer) {
                next.push(cell);
                continue;
            }
            // peel off, dimension by dimension, the parts of `cell` outside `cut`
            let mut rest = cell;
            for d in 0..rest.len() {
                for part in rest[d].minus(&cut[d], integer[d]) {
                    let mut piece = rest.clone();
                    piece[d] = part;
                    next.push(piece);
                }
                rest[d] = rest[d].intersect(&cut[d]).normalized(integer[d]);
            }
        }
        if next.len() > LIMIT {
            return Err(RfmError::Scheme {
                message: format!(
                    "the rules are too many or too fragmented to check for overlaps exactly (more than {LIMIT} pieces); merge some rules"
                ),
            });
        }
        cells = next;
    }
    Ok(cells)
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

// --------------------------------------------------------------------------- built-in schemes

fn label(en: &str, zh: &str) -> Label {
    Label {
        en: en.to_string(),
        zh: zh.to_string(),
    }
}

fn score_variable(name: &str, bins: u32) -> Variable {
    Variable {
        name: name.to_string(),
        integer: true,
        min: 1.0,
        max: f64::from(bins),
    }
}

fn raw_variable(name: &str) -> Variable {
    Variable {
        name: name.to_string(),
        integer: false,
        min: f64::NEG_INFINITY,
        max: f64::INFINITY,
    }
}

/// `lo <= x <= hi` on an integer score.
fn between(variable: usize, lo: f64, hi: f64) -> Condition {
    Condition {
        variable,
        lower: Some(Bound {
            value: lo,
            inclusive: true,
        }),
        upper: Some(Bound {
            value: hi,
            inclusive: true,
        }),
    }
}

fn strictly_below(variable: usize, split: f64) -> Condition {
    Condition {
        variable,
        lower: None,
        upper: Some(Bound {
            value: split,
            inclusive: false,
        }),
    }
}

fn at_least(variable: usize, split: f64) -> Condition {
    Condition {
        variable,
        lower: Some(Bound {
            value: split,
            inclusive: true,
        }),
        upper: None,
    }
}

fn strictly_above(variable: usize, split: f64) -> Condition {
    Condition {
        variable,
        lower: Some(Bound {
            value: split,
            inclusive: false,
        }),
        upper: None,
    }
}

fn at_most(variable: usize, split: f64) -> Condition {
    Condition {
        variable,
        lower: None,
        upper: Some(Bound {
            value: split,
            inclusive: true,
        }),
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
        conditions: vec![
            if r_high {
                strictly_above(0, middle)
            } else {
                at_most(0, middle)
            },
            if fm_high {
                strictly_above(1, middle)
            } else {
                at_most(1, middle)
            },
        ],
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
            if r_high {
                strictly_below(0, split[0])
            } else {
                at_least(0, split[0])
            },
            if f_high {
                strictly_above(1, split[1])
            } else {
                at_most(1, split[1])
            },
            if m_high {
                strictly_above(2, split[2])
            } else {
                at_most(2, split[2])
            },
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
        conditions: vec![
            if f_high {
                strictly_above(0, split[0])
            } else {
                at_most(0, split[0])
            },
            if aov_high {
                strictly_above(1, split[1])
            } else {
                at_most(1, split[1])
            },
        ],
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

// --------------------------------------------------------------------------- value tiers

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

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<(f64, f64, f64)> {
        let mut codes = Vec::new();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    codes.push((f64::from(r), f64::from(f), f64::from(m)));
                }
            }
        }
        codes
    }

    fn segment_codes(scheme: &Scheme, uses_fm: bool) -> Vec<i64> {
        let codes = grid();
        let r: Vec<f64> = codes.iter().map(|c| c.0).collect();
        let f: Vec<f64> = codes.iter().map(|c| c.1).collect();
        let m: Vec<f64> = codes.iter().map(|c| c.2).collect();
        let second = if uses_fm { fm_score(&f, &m) } else { f };
        evaluate(scheme, &[&r, &second]).unwrap()
    }

    #[test]
    fn score_schemes_cover_all_125_codes_and_reach_every_segment() {
        for (scheme, uses_fm) in [(rfm11(), true), (rfm10(), false), (value4(5).unwrap(), true)] {
            let analysis = scheme.analyze().unwrap();
            assert!(analysis.unreachable.is_empty(), "{analysis:?}");
            assert!(!analysis.uncovered);
            let labels = segment_codes(&scheme, uses_fm);
            assert_eq!(labels.len(), 125);
            for label in 0..scheme.labels.len() as i64 {
                assert!(labels.contains(&label), "label {label} unreachable");
            }
        }
        // rfm10 and value4 are partitions; rfm11 relies on its precedence
        assert!(rfm10().analyze().unwrap().overlaps.is_empty());
        assert!(value4(5).unwrap().analyze().unwrap().overlaps.is_empty());
        assert!(!rfm11().analyze().unwrap().overlaps.is_empty());
    }

    #[test]
    fn rfm11_grid() {
        // rows R = 5..1, columns FM = 1..5, label indices of `rfm11()`
        let expected = [
            [3, 2, 1, 0, 0],
            [3, 2, 1, 0, 0],
            [4, 5, 5, 1, 1],
            [6, 5, 5, 7, 7],
            [10, 9, 7, 8, 8],
        ];
        let scheme = rfm11();
        for (i, row) in expected.iter().enumerate() {
            for (j, want) in row.iter().enumerate() {
                let r = [5.0 - i as f64];
                let fm = [1.0 + j as f64];
                assert_eq!(
                    evaluate(&scheme, &[&r, &fm]).unwrap(),
                    vec![*want],
                    "R={} FM={}",
                    r[0],
                    fm[0]
                );
            }
        }
    }

    #[test]
    fn classic8_splits_are_strict() {
        let scheme = classic8([10.0, 2.0, 100.0]).unwrap();
        let recency = [5.0, 10.0, 5.0, 20.0];
        let frequency = [3.0, 3.0, 2.0, 1.0];
        let monetary = [150.0, 150.0, 100.0, 50.0];
        let got = evaluate(&scheme, &[&recency, &frequency, &monetary]).unwrap();
        // R=10 equals the split: low; F=2 and M=100 equal theirs: low
        assert_eq!(got, vec![0, 2, 5, 7]);
        let analysis = scheme.analyze().unwrap();
        assert_eq!(analysis, Analysis::default());
        assert!(classic8([f64::NAN, 1.0, 1.0]).is_err());
    }

    #[test]
    fn analysis_of_custom_rules() {
        let scheme = Scheme {
            variables: vec![score_variable("r_score", 5), raw_variable("monetary")],
            labels: vec![
                label("a", "a"),
                label("b", "b"),
                label("c", "c"),
                label("other", "其他"),
            ],
            rules: vec![
                Rule {
                    label: 0,
                    conditions: vec![between(0, 4.0, 5.0)],
                },
                Rule {
                    label: 1,
                    conditions: vec![between(0, 5.0, 5.0), strictly_above(1, 100.0)],
                },
                Rule {
                    label: 2,
                    conditions: vec![between(0, 3.0, 5.0)],
                },
            ],
            other: Some(3),
        };
        let analysis = scheme.analyze().unwrap();
        assert_eq!(analysis.overlaps, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(analysis.unreachable, vec![1]);
        assert!(analysis.uncovered);
        let r = [5.0, 3.0, 1.0];
        let m = [500.0, 0.0, 0.0];
        assert_eq!(evaluate(&scheme, &[&r, &m]).unwrap(), vec![0, 2, 3]);
        // real-valued ends: (x < 10) then (x >= 10) covers; (x <= 10) leaves 10 to the second
        let halves = |first_inclusive: bool| Scheme {
            variables: vec![raw_variable("x")],
            labels: vec![label("lo", "lo"), label("hi", "hi"), label("other", "other")],
            rules: vec![
                Rule {
                    label: 0,
                    conditions: vec![Condition {
                        variable: 0,
                        lower: None,
                        upper: Some(Bound {
                            value: 10.0,
                            inclusive: first_inclusive,
                        }),
                    }],
                },
                Rule {
                    label: 1,
                    conditions: vec![at_least(0, 10.0)],
                },
            ],
            other: Some(2),
        };
        assert_eq!(halves(false).analyze().unwrap(), Analysis::default());
        assert_eq!(
            halves(true).analyze().unwrap(),
            Analysis {
                overlaps: vec![(0, 1)],
                unreachable: vec![],
                uncovered: false
            }
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let scheme = rfm10();
        let r = [6.0];
        let f = [1.0];
        let err = evaluate(&scheme, &[&r, &f]).unwrap_err();
        assert!(
            err.to_string().starts_with("column 'r_score' is 6 at row 0"),
            "{err}"
        );
        let r = [2.5];
        assert!(matches!(
            evaluate(&scheme, &[&r, &f]),
            Err(RfmError::BadValue { .. })
        ));
        let r = [f64::NAN];
        assert!(matches!(
            evaluate(&scheme, &[&r, &f]),
            Err(RfmError::BadValue { .. })
        ));
        let short: [f64; 0] = [];
        assert!(matches!(
            evaluate(&scheme, &[&[1.0], &short]),
            Err(RfmError::Length { .. })
        ));
        assert!(matches!(
            evaluate(&scheme, &[&[1.0]]),
            Err(RfmError::Scheme { .. })
        ));
    }

    #[test]
    fn tiers_keep_ties_together_upwards() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let tiers = value_tiers(&values, &[0.01, 0.05, 0.20], "monetary").unwrap();
        assert_eq!(tiers[99], 0);
        assert_eq!(tiers[95..99].to_vec(), vec![1; 4]);
        assert_eq!(tiers[80..95].to_vec(), vec![2; 15]);
        assert!(tiers[..80].iter().all(|t| *t == 3));
        // two tied at the top of 100: both platinum
        let mut tied = values.clone();
        tied[98] = 99.0;
        let tiers = value_tiers(&tied, &[0.01, 0.05, 0.20], "monetary").unwrap();
        assert_eq!((tiers[98], tiers[99]), (0, 0));
        assert!(value_tiers(&values, &[0.05, 0.01], "monetary").is_err());
        assert!(value_tiers(&values, &[0.0, 0.5], "monetary").is_err());
        assert!(value_tiers(&[f64::NAN], &[0.5], "monetary").is_err());
    }
}
