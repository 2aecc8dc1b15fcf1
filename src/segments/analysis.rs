//! The analysis of a scheme by exact box subtraction over the variables' domains: the
//! pairs of overlapping rules, the rules that no row can reach and whether some values
//! match no rule.

use super::{Condition, Scheme};
use crate::error::{Result, RfmError};

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
