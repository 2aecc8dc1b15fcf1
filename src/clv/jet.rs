//! Second-order forward differentiation: a number carried with its gradient and Hessian in
//! `N` variables. A likelihood written once on jets gives the value, gradient and Hessian
//! the optimiser needs, instead of three hand-derived formulas (used where the formula is
//! long: the Pareto/NBD likelihood with its hypergeometric functions).

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::special::{digamma, ln_gamma, trigamma};

/// A value with its gradient `g` and Hessian `h` (symmetric, stored whole).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Jet<const N: usize> {
    pub v: f64,
    pub g: [f64; N],
    pub h: [[f64; N]; N],
}

impl<const N: usize> Jet<N> {
    pub fn constant(v: f64) -> Self {
        Jet {
            v,
            g: [0.0; N],
            h: [[0.0; N]; N],
        }
    }

    /// The variable number `i`, at `v`.
    pub fn variable(v: f64, i: usize) -> Self {
        let mut out = Self::constant(v);
        out.g[i] = 1.0;
        out
    }

    /// `f(self)` from `f`, `f′` and `f″` at `self.v`.
    pub fn chain(&self, f0: f64, f1: f64, f2: f64) -> Self {
        Jet {
            v: f0,
            g: self.g.map(|gi| f1 * gi),
            h: std::array::from_fn(|i| {
                std::array::from_fn(|j| f1 * self.h[i][j] + f2 * self.g[i] * self.g[j])
            }),
        }
    }

    pub fn ln(&self) -> Self {
        let v = self.v;
        self.chain(v.ln(), 1.0 / v, -1.0 / (v * v))
    }

    pub fn ln_1p(&self) -> Self {
        let u = 1.0 + self.v;
        self.chain(self.v.ln_1p(), 1.0 / u, -1.0 / (u * u))
    }

    pub fn ln_gamma(&self) -> Self {
        let v = self.v;
        self.chain(ln_gamma(v), digamma(v), trigamma(v))
    }

    /// `ln(1 − e^self)` for `self < 0`, without the cancellation of `1 − e^self` near 0.
    pub fn ln_one_minus_exp(&self) -> Self {
        let q = self.v.exp();
        let rest = -self.v.exp_m1();
        self.chain(rest.ln(), -q / rest, -q / (rest * rest))
    }

    /// `ln(e^a + e^b)`, scaled by the larger so that it neither overflows nor underflows.
    pub fn log_add_exp(a: &Self, b: &Self) -> Self {
        let top = a.v.max(b.v);
        let (ea, eb) = ((a.v - top).exp(), (b.v - top).exp());
        let total = ea + eb;
        let (wa, wb) = (ea / total, eb / total);
        let g: [f64; N] = std::array::from_fn(|i| wa * a.g[i] + wb * b.g[i]);
        Jet {
            v: top + total.ln(),
            g,
            h: std::array::from_fn(|i| {
                std::array::from_fn(|j| {
                    wa * (a.h[i][j] + a.g[i] * a.g[j]) + wb * (b.h[i][j] + b.g[i] * b.g[j]) - g[i] * g[j]
                })
            }),
        }
    }

    /// `F(u)` for a function `F` of `K` jets, from `F`'s value, gradient and Hessian at `u`.
    pub fn compose<const K: usize>(value: f64, grad: &[f64; K], hess: &[[f64; K]; K], u: [&Self; K]) -> Self {
        let mut out = Self::constant(value);
        for k in 0..K {
            for i in 0..N {
                out.g[i] += grad[k] * u[k].g[i];
                for j in 0..N {
                    out.h[i][j] += grad[k] * u[k].h[i][j];
                }
            }
            for l in 0..K {
                for i in 0..N {
                    for j in 0..N {
                        out.h[i][j] += hess[k][l] * u[k].g[i] * u[l].g[j];
                    }
                }
            }
        }
        out
    }
}

impl<const N: usize> Default for Jet<N> {
    fn default() -> Self {
        Jet::constant(0.0)
    }
}

impl<const N: usize> Add for Jet<N> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Jet {
            v: self.v + o.v,
            g: std::array::from_fn(|i| self.g[i] + o.g[i]),
            h: std::array::from_fn(|i| std::array::from_fn(|j| self.h[i][j] + o.h[i][j])),
        }
    }
}

impl<const N: usize> Add<f64> for Jet<N> {
    type Output = Self;
    fn add(mut self, o: f64) -> Self {
        self.v += o;
        self
    }
}

impl<const N: usize> Neg for Jet<N> {
    type Output = Self;
    fn neg(self) -> Self {
        self * -1.0
    }
}

impl<const N: usize> Sub for Jet<N> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        self + (-o)
    }
}

impl<const N: usize> Mul<f64> for Jet<N> {
    type Output = Self;
    fn mul(self, c: f64) -> Self {
        Jet {
            v: self.v * c,
            g: self.g.map(|x| x * c),
            h: self.h.map(|row| row.map(|x| x * c)),
        }
    }
}

impl<const N: usize> Mul for Jet<N> {
    type Output = Self;
    // The product rule adds.
    #[allow(clippy::suspicious_arithmetic_impl)]
    fn mul(self, o: Self) -> Self {
        Jet {
            v: self.v * o.v,
            g: std::array::from_fn(|i| self.v * o.g[i] + o.v * self.g[i]),
            h: std::array::from_fn(|i| {
                std::array::from_fn(|j| {
                    self.v * o.h[i][j] + o.v * self.h[i][j] + self.g[i] * o.g[j] + o.g[i] * self.g[j]
                })
            }),
        }
    }
}

impl<const N: usize> Div for Jet<N> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let v = o.v;
        self * o.chain(1.0 / v, -1.0 / (v * v), 2.0 / (v * v * v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x, y) = ln Γ(x y) + ln(1 − e^{−x}) / y + ln(e^x + e^{y²}) + x ln_1p(y), by jets and
    /// by central differences of the value (gradient) and of the jets' gradient (Hessian).
    fn f(x: Jet<2>, y: Jet<2>) -> Jet<2> {
        (x * y).ln_gamma()
            + (-x).ln_one_minus_exp() / y
            + Jet::log_add_exp(&x, &(y * y))
            + x * y.ln_1p()
            + (x * 0.5 + y).ln()
    }

    #[test]
    fn jets_agree_with_finite_differences() {
        for (x0, y0) in [(1.3, 0.7), (0.4, 2.2), (3.0, 1.1)] {
            let at = |x: f64, y: f64| f(Jet::variable(x, 0), Jet::variable(y, 1));
            let jet = at(x0, y0);
            let step = 1e-5;
            let moves = [(step, 0.0), (0.0, step)];
            for (i, (dx, dy)) in moves.iter().enumerate() {
                let plus = at(x0 + dx, y0 + dy);
                let minus = at(x0 - dx, y0 - dy);
                let numeric = (plus.v - minus.v) / (2.0 * step);
                assert!((jet.g[i] - numeric).abs() < 1e-7 * (1.0 + numeric.abs()), "g{i}");
                for j in 0..2 {
                    let numeric = (plus.g[j] - minus.g[j]) / (2.0 * step);
                    assert!(
                        (jet.h[i][j] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
                        "h{i}{j}"
                    );
                }
            }
        }
    }
}
