//! A small minimiser for smooth objectives with analytic Hessians: damped Newton
//! (Levenberg shift when the Hessian is not positive definite, backtracking line search)
//! and, when that fails, BFGS with a strong-Wolfe line search (Nocedal & Wright,
//! *Numerical Optimization*, algorithms 6.1, 3.5 and 3.6) followed by Newton steps.
//!
//! Hand-written rather than `argmin`: the models have 3 or 4 parameters, so fixed
//! arrays and a few dozen lines keep the core free of another dependency tree, and we
//! control the stopping rules and the diagnostics of a failure (last point, gradient
//! norm) that `ConvergenceError` reports.

/// The reason of a minimiser that stopped at its iteration limit.
pub(crate) const ITERATION_LIMIT: &str = "the iteration limit was reached";

/// A smooth objective: value and gradient at `x`. Non-finite values mean "outside the
/// domain" and make the line search step back.
pub(crate) trait Objective<const N: usize> {
    fn value_and_gradient(&self, x: &[f64; N]) -> (f64, [f64; N]);
    /// Value, gradient and Hessian at `x` (one pass over the data).
    fn value_gradient_hessian(&self, x: &[f64; N]) -> (f64, [f64; N], [[f64; N]; N]);
}

/// Where the minimiser stopped.
#[derive(Debug, Clone)]
pub(crate) struct Minimum<const N: usize> {
    pub x: [f64; N],
    pub value: f64,
    pub gradient: [f64; N],
    pub iterations: usize,
    pub converged: bool,
    pub reason: &'static str,
    /// The Hessian at `x` when the last step computed it.
    pub hessian: Option<[[f64; N]; N]>,
}

pub(crate) fn norm_inf<const N: usize>(v: &[f64; N]) -> f64 {
    v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
}

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy<const N: usize>(x: &[f64; N], step: f64, d: &[f64; N]) -> [f64; N] {
    let mut out = *x;
    for i in 0..N {
        out[i] += step * d[i];
    }
    out
}

struct Point<const N: usize> {
    x: [f64; N],
    f: f64,
    g: [f64; N],
}

/// Strong-Wolfe line search along `d` from `start`; `None` when no acceptable step.
fn line_search<const N: usize, F: Objective<N>>(
    objective: &F,
    start: &Point<N>,
    d: &[f64; N],
    first_step: f64,
) -> Option<Point<N>> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let slope0 = dot(&start.g, d);
    if !(slope0 < 0.0) {
        return None;
    }
    let eval = |step: f64| {
        let x = axpy(&start.x, step, d);
        let (f, g) = objective.value_and_gradient(&x);
        (Point { x, f, g }, step)
    };
    let mut previous = (
        Point {
            x: start.x,
            f: start.f,
            g: start.g,
        },
        0.0,
    );
    let mut step = first_step;
    for i in 0..40 {
        let (point, at) = eval(step);
        if !point.f.is_finite() || point.g.iter().any(|g| !g.is_finite()) {
            step *= 0.25;
            continue;
        }
        if point.f > start.f + C1 * at * slope0 || (i > 0 && point.f >= previous.0.f) {
            return zoom(objective, start, d, slope0, previous, (point, at));
        }
        let slope = dot(&point.g, d);
        if slope.abs() <= -C2 * slope0 {
            return Some(point);
        }
        if slope >= 0.0 {
            return zoom(objective, start, d, slope0, (point, at), previous);
        }
        previous = (point, at);
        step *= 2.0;
    }
    None
}

fn zoom<const N: usize, F: Objective<N>>(
    objective: &F,
    start: &Point<N>,
    d: &[f64; N],
    slope0: f64,
    mut low: (Point<N>, f64),
    mut high: (Point<N>, f64),
) -> Option<Point<N>> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    for _ in 0..60 {
        let (lo, hi) = (low.1, high.1);
        // Quadratic interpolation from the low end's value and slope, safeguarded.
        let slope_lo = dot(&low.0.g, d);
        let width = hi - lo;
        let denom = 2.0 * (high.0.f - low.0.f - slope_lo * width);
        let mut step = if denom.is_finite() && denom > 0.0 {
            lo - slope_lo * width * width / denom
        } else {
            lo + 0.5 * width
        };
        let (a, b) = if lo < hi { (lo, hi) } else { (hi, lo) };
        let margin = 0.1 * (b - a);
        if !(step > a + margin && step < b - margin) {
            step = 0.5 * (a + b);
        }
        if (b - a).abs() < 1e-16 * (1.0 + a.abs()) {
            return None;
        }
        let x = axpy(&start.x, step, d);
        let (f, g) = objective.value_and_gradient(&x);
        let point = Point { x, f, g };
        if !f.is_finite() || f > start.f + C1 * step * slope0 || f >= low.0.f {
            high = (point, step);
            continue;
        }
        let slope = dot(&point.g, d);
        if slope.abs() <= -C2 * slope0 {
            return Some(point);
        }
        if slope * (hi - lo) >= 0.0 {
            high = low;
        }
        low = (point, step);
    }
    // The bracket shrank without meeting the curvature condition: a sufficient decrease
    // is still progress.
    (low.1 > 0.0).then_some(low.0)
}

/// Minimises `objective` from `x0`: damped Newton on the analytic Hessian, which needs a
/// dozen passes over the data where BFGS needs several dozen; when Newton does not
/// converge (flat or degenerate objectives), BFGS from `x0` followed by Newton steps.
pub(crate) fn minimize<const N: usize, F: Objective<N>>(
    objective: &F,
    x0: [f64; N],
    gradient_tolerance: f64,
    max_iterations: usize,
) -> Minimum<N> {
    let newton = damped_newton(objective, x0, gradient_tolerance, max_iterations.min(100));
    if newton.converged {
        return newton;
    }
    bfgs_then_newton(objective, x0, gradient_tolerance, max_iterations)
}

/// Cholesky solve of `(a + shift I) x = b`; `None` when not positive definite.
fn cholesky_solve<const N: usize>(a: &[[f64; N]; N], shift: f64, b: &[f64; N]) -> Option<[f64; N]> {
    let mut l = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..=i {
            let mut sum = a[i][j] + if i == j { shift } else { 0.0 };
            for k in 0..j {
                sum -= l[i][k] * l[j][k];
            }
            if i == j {
                if !(sum > 0.0) || !sum.is_finite() {
                    return None;
                }
                l[i][i] = sum.sqrt();
            } else {
                l[i][j] = sum / l[j][j];
            }
        }
    }
    let mut y = [0.0; N];
    for i in 0..N {
        let tail: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - tail) / l[i][i];
    }
    let mut x = [0.0; N];
    for i in (0..N).rev() {
        let tail: f64 = (i + 1..N).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - tail) / l[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Newton steps `−(H + μI)⁻¹ g` (μ = 0 when H is positive definite, else the smallest
/// of 10⁻⁸·s, 10⁻⁷·s, ... that makes it so, s = 1 + max|H_ii|), at most 3 log-units
/// long, with a backtracking Armijo line search.
fn damped_newton<const N: usize, F: Objective<N>>(
    objective: &F,
    x0: [f64; N],
    gradient_tolerance: f64,
    max_iterations: usize,
) -> Minimum<N> {
    const MAX_STEP: f64 = 3.0;
    let (mut f, mut g, mut h) = objective.value_gradient_hessian(&x0);
    let mut x = x0;
    let mut iterations = 0;
    let mut reason = ITERATION_LIMIT;
    let finite = |f: f64, g: &[f64; N]| f.is_finite() && g.iter().all(|v| v.is_finite());
    if !finite(f, &g) {
        reason = "the objective is not finite at the initial parameters";
    }
    while finite(f, &g) && iterations < max_iterations {
        if norm_inf(&g) <= gradient_tolerance {
            break;
        }
        iterations += 1;
        let minus_g = g.map(|v| -v);
        let scale = 1.0 + (0..N).fold(0.0_f64, |m, i| m.max(h[i][i].abs()));
        let mut direction = cholesky_solve(&h, 0.0, &minus_g);
        let mut shift = 1e-8 * scale;
        while direction.is_none() && shift < 1e12 * scale {
            direction = cholesky_solve(&h, shift, &minus_g);
            shift *= 10.0;
        }
        let Some(mut d) = direction else {
            reason = "the Hessian is not finite";
            break;
        };
        let longest = norm_inf(&d);
        if longest > MAX_STEP {
            d = d.map(|v| v * MAX_STEP / longest);
        }
        let slope = dot(&g, &d);
        if !(slope < 0.0) {
            reason = "no descent direction (precision limit)";
            break;
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let trial = axpy(&x, step, &d);
            let (ft, gt, ht) = objective.value_gradient_hessian(&trial);
            if finite(ft, &gt) {
                let armijo = ft <= f + 1e-4 * step * slope;
                // At the optimum the objective is flat to rounding: a smaller gradient
                // at an equal value is progress.
                let flat = ft <= f + 1e-13 * f.abs() && norm_inf(&gt) < norm_inf(&g);
                if armijo || flat {
                    accepted = Some((trial, ft, gt, ht));
                    break;
                }
            }
            step *= 0.5;
        }
        let Some((xt, ft, gt, ht)) = accepted else {
            reason = "the line search found no lower point (precision limit)";
            break;
        };
        (x, f, g, h) = (xt, ft, gt, ht);
    }
    let converged = finite(f, &g) && norm_inf(&g) <= gradient_tolerance.max(1e-6);
    if converged {
        reason = "converged";
    }
    Minimum {
        x,
        value: f,
        gradient: g,
        iterations,
        converged,
        reason,
        hessian: Some(h),
    }
}

/// Minimises `objective` from `x0` by BFGS, then polishes with Newton steps.
fn bfgs_then_newton<const N: usize, F: Objective<N>>(
    objective: &F,
    x0: [f64; N],
    gradient_tolerance: f64,
    max_iterations: usize,
) -> Minimum<N> {
    let (f0, g0) = objective.value_and_gradient(&x0);
    let mut current = Point { x: x0, f: f0, g: g0 };
    let stopped = |p: &Point<N>, iterations, converged, reason| Minimum {
        x: p.x,
        value: p.f,
        gradient: p.g,
        iterations,
        converged,
        reason,
        hessian: None,
    };
    if !f0.is_finite() || g0.iter().any(|g| !g.is_finite()) {
        return stopped(
            &current,
            0,
            false,
            "the objective is not finite at the initial parameters",
        );
    }
    let mut inverse = identity::<N>();
    let mut iterations = 0;
    let mut reason = ITERATION_LIMIT;
    while iterations < max_iterations {
        if norm_inf(&current.g) <= gradient_tolerance {
            break;
        }
        iterations += 1;
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = -dot(&inverse[i], &current.g);
        }
        if dot(&d, &current.g) >= 0.0 {
            inverse = identity::<N>();
            d = current.g.map(|g| -g);
        }
        let first = if iterations == 1 {
            (1.0 / norm_inf(&current.g)).min(1.0)
        } else {
            1.0
        };
        let Some(next) = line_search(objective, &current, &d, first) else {
            reason = "the line search found no lower point (precision limit)";
            break;
        };
        let s: [f64; N] = std::array::from_fn(|i| next.x[i] - current.x[i]);
        let y: [f64; N] = std::array::from_fn(|i| next.g[i] - current.g[i]);
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            if iterations == 1 {
                let scale = sy / dot(&y, &y);
                for (i, row) in inverse.iter_mut().enumerate() {
                    row[i] = scale;
                }
            }
            inverse = bfgs_update(&inverse, &s, &y, sy);
        }
        current = next;
    }
    // Newton polish: quadratic convergence from where BFGS stopped, so the optimum is
    // reproducible to the precision of the gradient whatever the path.
    for _ in 0..4 {
        if !current.g.iter().all(|g| g.is_finite()) {
            break;
        }
        let (_, _, hessian) = objective.value_gradient_hessian(&current.x);
        let Some(step) = solve(&hessian, &current.g.map(|g| -g)) else {
            break;
        };
        let x = axpy(&current.x, 1.0, &step);
        let (f, g) = objective.value_and_gradient(&x);
        if f.is_finite() && norm_inf(&g) < norm_inf(&current.g) && f <= current.f + 1e-12 * current.f.abs() {
            current = Point { x, f, g };
        } else {
            break;
        }
    }
    // A gradient this small after the polish is an optimum in every practical sense
    // (scipy's BFGS, as lifetimes calls it, stops at 1e-7) even when BFGS stopped on the
    // precision of the objective rather than on `gradient_tolerance`.
    let converged = current.f.is_finite() && norm_inf(&current.g) <= gradient_tolerance.max(1e-6);
    if converged {
        reason = "converged";
    }
    stopped(&current, iterations, converged, reason)
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }))
}

/// H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / sᵀy.
fn bfgs_update<const N: usize>(h: &[[f64; N]; N], s: &[f64; N], y: &[f64; N], sy: f64) -> [[f64; N]; N] {
    let rho = 1.0 / sy;
    let hy: [f64; N] = std::array::from_fn(|i| dot(&h[i], y));
    let yhy = dot(y, &hy);
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            h[i][j] - rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
        })
    })
}

/// Central differences of the analytic gradient, symmetrised (checks the analytic Hessians).
#[cfg(test)]
pub(crate) fn finite_difference_hessian<const N: usize, F: Objective<N>>(
    objective: &F,
    x: &[f64; N],
) -> [[f64; N]; N] {
    let mut hessian = [[0.0; N]; N];
    for j in 0..N {
        let h = 1e-5 * (1.0 + x[j].abs());
        let mut up = *x;
        up[j] += h;
        let mut down = *x;
        down[j] -= h;
        let (_, g_up) = objective.value_and_gradient(&up);
        let (_, g_down) = objective.value_and_gradient(&down);
        for i in 0..N {
            hessian[i][j] = (g_up[i] - g_down[i]) / (2.0 * h);
        }
    }
    std::array::from_fn(|i| std::array::from_fn(|j| 0.5 * (hessian[i][j] + hessian[j][i])))
}

/// Asserts that the analytic gradient of `objective` at `x` matches central differences
/// of its value.
#[cfg(test)]
pub(crate) fn assert_gradient<const N: usize, F: Objective<N>>(objective: &F, x: &[f64; N]) {
    let (_, g) = objective.value_and_gradient(x);
    for j in 0..N {
        let h = 1e-6;
        let mut up = *x;
        up[j] += h;
        let mut down = *x;
        down[j] -= h;
        let numeric =
            (objective.value_and_gradient(&up).0 - objective.value_and_gradient(&down).0) / (2.0 * h);
        assert!((numeric - g[j]).abs() < 1e-7, "{j}: {numeric} {}", g[j]);
    }
}

/// Asserts that the analytic Hessian of `objective` at `x` matches
/// [`finite_difference_hessian`].
#[cfg(test)]
pub(crate) fn assert_hessian<const N: usize, F: Objective<N>>(objective: &F, x: &[f64; N]) {
    let (_, _, h) = objective.value_gradient_hessian(x);
    let numeric = finite_difference_hessian(objective, x);
    for i in 0..N {
        for j in 0..N {
            assert!(
                (numeric[i][j] - h[i][j]).abs() < 1e-6 * (1.0 + h[i][j].abs()),
                "{i}{j}: {numeric:?} {h:?}"
            );
        }
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` if singular.
pub(crate) fn solve<const N: usize>(a: &[[f64; N]; N], b: &[f64; N]) -> Option<[f64; N]> {
    let mut m = *a;
    let mut v = *b;
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if !(m[pivot][col].abs() > 1e-300) {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in col + 1..N {
            let factor = m[row][col] / m[col][col];
            let pivot_row = m[col];
            for (target, source) in m[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *target -= factor * source;
            }
            v[row] -= factor * v[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f64 = (row + 1..N).map(|k| m[row][k] * x[k]).sum();
        x[row] = (v[row] - tail) / m[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The inverse of `a` (for the variance matrix); `None` if singular.
pub(crate) fn invert<const N: usize>(a: &[[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut columns = [[0.0; N]; N];
    for (j, column) in columns.iter_mut().enumerate() {
        let e: [f64; N] = std::array::from_fn(|i| if i == j { 1.0 } else { 0.0 });
        *column = solve(a, &e)?;
    }
    Some(std::array::from_fn(|i| std::array::from_fn(|j| columns[j][i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective<2> for Rosenbrock {
        fn value_and_gradient(&self, x: &[f64; 2]) -> (f64, [f64; 2]) {
            let (a, b) = (x[0], x[1]);
            let f = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = [-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)];
            (f, g)
        }
        fn value_gradient_hessian(&self, x: &[f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
            let (f, g) = self.value_and_gradient(x);
            let (a, b) = (x[0], x[1]);
            let h = [[2.0 - 400.0 * (b - 3.0 * a * a), -400.0 * a], [-400.0 * a, 200.0]];
            (f, g, h)
        }
    }

    #[test]
    fn bfgs_path_finds_the_rosenbrock_minimum() {
        let found = bfgs_then_newton(&Rosenbrock, [-1.2, 1.0], 1e-10, 500);
        assert!(found.converged, "{found:?}");
        assert!((found.x[0] - 1.0).abs() < 1e-8, "{found:?}");
    }

    #[test]
    fn cholesky_solves_and_rejects_indefinite() {
        let x = cholesky_solve(&[[4.0, 1.0], [1.0, 3.0]], 0.0, &[1.0, 2.0]).unwrap();
        assert!((4.0 * x[0] + x[1] - 1.0).abs() < 1e-14 && (x[0] + 3.0 * x[1] - 2.0).abs() < 1e-14);
        assert!(cholesky_solve(&[[1.0, 2.0], [2.0, 1.0]], 0.0, &[1.0, 1.0]).is_none());
        assert!(cholesky_solve(&[[1.0, 2.0], [2.0, 1.0]], 2.0, &[1.0, 1.0]).is_some());
    }

    #[test]
    fn bfgs_finds_the_rosenbrock_minimum() {
        let found = minimize(&Rosenbrock, [-1.2, 1.0], 1e-10, 500);
        assert!(found.converged, "{found:?}");
        assert!(
            (found.x[0] - 1.0).abs() < 1e-8 && (found.x[1] - 1.0).abs() < 1e-8,
            "{found:?}"
        );
    }

    #[test]
    fn solve_and_invert() {
        let a = [[4.0, 1.0], [1.0, 3.0]];
        let x = solve(&a, &[1.0, 2.0]).unwrap();
        assert!((4.0 * x[0] + x[1] - 1.0).abs() < 1e-14 && (x[0] + 3.0 * x[1] - 2.0).abs() < 1e-14);
        let inv = invert(&a).unwrap();
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-14);
        assert!(solve(&[[1.0, 2.0], [2.0, 4.0]], &[1.0, 1.0]).is_none());
    }
}
