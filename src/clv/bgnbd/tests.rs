use super::predict::{
    conditional_expected_one, expected_if_alive, expected_if_alive_negative_binomial,
    expected_if_alive_quadrature, expected_if_alive_series,
};
use super::*;
use crate::clv::optimize::{assert_gradient, assert_hessian};
use crate::testing::{assert_convergence_error, Draws, XorShift};

const CDNOW: BgNbdParams = BgNbdParams {
    r: 0.242_594,
    alpha: 4.413_59,
    a: 0.792_93,
    b: 2.425_93,
};

#[test]
fn negative_binomial_form_equals_the_series_and_survives_huge_rates() {
    let cases = [
        (
            BgNbdParams {
                r: 0.5,
                alpha: 3.0,
                a: 0.3,
                b: 0.4,
            },
            10.0,
            1.0,
            40.0,
        ),
        (
            BgNbdParams {
                r: 0.5,
                alpha: 3.0,
                a: 2.5,
                b: 0.05,
            },
            100.0,
            3.0,
            40.0,
        ),
        (
            BgNbdParams {
                r: 2.0,
                alpha: 10.0,
                a: 0.8,
                b: 2.0,
            },
            30.0,
            0.0,
            5.0,
        ),
        (CDNOW, 30.0, 5.0, 38.0),
        (CDNOW, 365.0, 0.0, 0.0),
    ];
    for (p, t, x, age) in cases {
        let z = t / (p.alpha + age + t);
        let series = expected_if_alive_series(&p, x, z).unwrap();
        let negative_binomial = expected_if_alive_negative_binomial(&p, x, z, 1e7).unwrap();
        assert!(
            (negative_binomial / series - 1.0).abs() < 1e-12,
            "{p:?}: {negative_binomial} {series}"
        );
    }
    // A degenerate fit (one customer: r and alpha ~1e8, a and b ~1e-3): the rate
    // is a point mass at (r+x)/(alpha+T) ~ 1 a day and almost nobody drops out, so
    // the expectation is just under s·w. The series' coefficients overflow here.
    let p = BgNbdParams {
        r: 138_649_490.380_896_2,
        alpha: 138_649_492.653_730_9,
        a: 0.000_375_607_181_062_926_1,
        b: 0.005_386_424_494_176_98,
    };
    let (t, x, age) = (10.0, 1.0, 1.0);
    let z = t / (p.alpha + age + t);
    assert!(expected_if_alive_series(&p, x, z).is_none());
    let value = expected_if_alive(&p, t, x, age);
    let upper = (p.r + x) * t / (p.alpha + age);
    assert!(
        value.is_finite() && value < upper && value > 0.99 * upper,
        "{value} {upper}"
    );
    let long = expected_if_alive(&p, 100.0, x, age);
    assert!(long.is_finite() && long > value);
    // Nobody drops out (a ~ 0): the expectation is s·w; here the log of the first
    // probability is ~ −5e5, and the compensated sum keeps ~1e-10 relative accuracy.
    let p = BgNbdParams {
        r: 1e8,
        alpha: 1e9,
        a: 1e-13,
        b: 1.0,
    };
    let t = 5e6;
    let z = t / (p.alpha + t);
    let value = expected_if_alive_negative_binomial(&p, 0.0, z, 1e7).unwrap();
    let want = p.r * t / p.alpha;
    assert!((value / want - 1.0).abs() < 1e-10, "{value} {want}");
    // A mean beyond ten million terms is refused at once.
    let p = BgNbdParams {
        r: 3.0,
        alpha: 1.0,
        a: 0.5,
        b: 0.5,
    };
    let z = 1e7 / (1.0 + 1e7);
    assert!(expected_if_alive_negative_binomial(&p, 0.0, z, 1e7).is_none());
}

#[test]
fn quadrature_equals_the_series_on_ordinary_parameters() {
    let mut worst = 0.0_f64;
    for r in [0.05, 0.24, 1.0, 7.5] {
        for alpha in [0.5, 4.4, 60.0] {
            for (a, b) in [
                (0.02, 0.03),
                (0.3, 0.2),
                (0.79, 2.43),
                (2.5, 0.05),
                (1.5, 8.0),
                (40.0, 300.0),
            ] {
                let p = BgNbdParams { r, alpha, a, b };
                for (t, x, age) in [
                    (1.0, 0.0, 30.0),
                    (39.0, 2.0, 38.86),
                    (365.0, 10.0, 5.0),
                    (0.01, 1.0, 1.0),
                ] {
                    let w = t / (alpha + age);
                    let z = t / (alpha + age + t);
                    let series = expected_if_alive_series(&p, x, z).unwrap();
                    let quadrature = expected_if_alive_quadrature(&p, x, w);
                    let relative = (quadrature / series - 1.0).abs();
                    worst = worst.max(relative);
                    assert!(
                        relative < 1e-10,
                        "{p:?} t={t} x={x} T={age}: {quadrature} {series}"
                    );
                }
            }
        }
    }
    eprintln!("quadrature vs series: max relative difference {worst:e}");
}

#[test]
fn degenerate_fits_of_one_customer_give_sane_expectations() {
    // Fits on one customer (the likelihood has no interior maximum): r ~1e8–1e9, so
    // the expected count r/alpha · t is beyond ten million and neither the series nor
    // the negative binomial sum can be used. Reference values: mpmath, 40 digits
    // (tests/clv_reference.py::reference_expected_if_alive_mp).
    let cases = [
        (
            BgNbdParams {
                r: 377_597_769.119_629_3,
                alpha: 11.253_289_587_789_94,
                a: 9_239_696.029_906_653,
                b: 9_239_695.980_497_098,
            },
            (1.0, 2.0, 1.0),
            2.000_000_319_338_510_3,
        ),
        (
            BgNbdParams {
                r: 2_113_416_430.455_211_9,
                alpha: 2.346_363_935_740_406e-7,
                a: 16_957.730_121_696_62,
                b: 1.781_898_575_938_268_4e-6,
            },
            (10.0, 1.0, 0.5),
            1.000_058_973_739_318_8,
        ),
    ];
    for (p, (t, x, age), want) in cases {
        let z = t / (p.alpha + age + t);
        assert!(expected_if_alive_series(&p, x, z).is_none());
        assert!(expected_if_alive_negative_binomial(&p, x, z, 1e7).is_none());
        let got = expected_if_alive(&p, t, x, age);
        assert!((got / want - 1.0).abs() < 1e-12, "{p:?}: {got} {want}");
        // Purchases at ~1e8 a day, each followed by a drop-out with probability ~1/2
        // (resp. ~1): the expectation reaches its limit E[1/p] within a microsecond,
        // and stays there up to rounding.
        let mut previous = 0.0;
        for horizon in [1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6] {
            let value = conditional_expected_one(&p, horizon, x, age, age);
            assert!(
                value.is_finite() && value >= previous * (1.0 - 1e-13),
                "{horizon}: {value} {previous}"
            );
            previous = value;
        }
    }
}

#[test]
fn closed_form_keeps_a_tiny_power_against_a_huge_series() {
    // a ~ 584: (1−z)^(a−1) ~ 3e-38 times 2F1 ~ 4e36. Taking the power as 1 + its
    // expm1 gave 0 there, and E = c/(a−1) (18 % too high). mpmath, 50 digits.
    let p = BgNbdParams {
        r: 0.055_755_220_123_726_9,
        alpha: 0.014_921_756_332_169_038,
        a: 584.176_117_148_141_8,
        b: 0.004_688_278_146_878_964_4,
    };
    let got = expected_if_alive(&p, 0.482_459_515_703_560_55, 13.0, 3.010_703_532_518_941_7);
    let want = 0.868_220_574_999_606;
    assert!((got / want - 1.0).abs() < 1e-13, "{got} {want}");
}

#[test]
fn gradient_matches_finite_differences() {
    for modified in [false, true] {
        let likelihood = Likelihood::new(
            vec![0.0, 2.0, 5.0, 1.0, 2.0],
            &[0.0, 0.3, 0.8, 0.1, 0.3],
            &[0.5, 0.9, 1.0, 0.2, 0.5],
            vec![3.0, 1.0, 2.0, 1.0, 0.5],
            0.1,
            modified,
        );
        let x = [-0.3, 0.2, 0.4, 1.1];
        assert_gradient(&likelihood, &x);
        for x in [x, [2.0, -1.0, -3.0, 0.5], [-4.0, 3.0, 1.0, -2.0]] {
            assert_hessian(&likelihood, &x);
        }
    }
}

#[test]
fn the_modified_model_lets_one_time_buyers_drop_out() {
    // MBG/NBD: P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), below 1 at x = 0.
    let alive = modified_probability_alive(&CDNOW, &[0.0, 2.0], &[0.0, 30.43], &[38.86, 38.86]).unwrap();
    let odds = |x: f64, tx: f64| {
        CDNOW.a / (CDNOW.b + x) * ((CDNOW.alpha + 38.86) / (CDNOW.alpha + tx)).powf(CDNOW.r + x)
    };
    assert!((alive[0] - 1.0 / (1.0 + odds(0.0, 0.0))).abs() < 1e-15 && alive[0] < 1.0);
    assert!((alive[1] - 1.0 / (1.0 + odds(2.0, 30.43))).abs() < 1e-15);
    // a new customer: P(alive at 0) = b/(a+b) times BG/NBD's purchases with b + 1
    let shifted = BgNbdParams {
        b: CDNOW.b + 1.0,
        ..CDNOW
    };
    let new = modified_expected_purchases(&CDNOW, &[52.0]).unwrap()[0];
    let alive_new = expected_if_alive(&shifted, 52.0, 0.0, 0.0) * CDNOW.b / (CDNOW.a + CDNOW.b);
    assert!((new - alive_new).abs() < 1e-12 * new);
}

#[test]
fn predictions_of_the_cdnow_paper() {
    // Fader, Hardie & Lee (2005): a customer with x=2, t_x=30.43, T=38.86 weeks
    // expects 1.226 purchases in the next 39 weeks; the population 1.4+ in 52 weeks.
    let got = conditional_expected_purchases(&CDNOW, &[39.0], &[2.0], &[30.43], &[38.86]).unwrap();
    assert!((got[0] - 1.226).abs() < 1e-3, "{got:?}");
    let p =
        probability_of_n_purchases(&CDNOW, &[20.0; 40], &(0..40).map(f64::from).collect::<Vec<_>>()).unwrap();
    let total: f64 = p.iter().sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
    let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    let expected = expected_purchases(&CDNOW, &[20.0]).unwrap()[0];
    assert!((mean - expected).abs() < 1e-3, "{mean} {expected}");
}

#[test]
fn both_series_forms_agree() {
    // Around r = a + b − 1 + 1 the evaluation switches form; the values must agree.
    let below = BgNbdParams {
        r: 2.0 - 1e-9,
        alpha: 3.0,
        a: 1.5,
        b: 1.5,
    };
    let above = BgNbdParams {
        r: 2.0 + 1e-9,
        ..below
    };
    for (t, x, recency, age) in [
        (1.0, 0.0, 0.0, 5.0),
        (30.0, 3.0, 4.0, 6.0),
        (200.0, 10.0, 9.0, 10.0),
    ] {
        let lo = conditional_expected_one(&below, t, x, recency, age);
        let hi = conditional_expected_one(&above, t, x, recency, age);
        assert!((lo - hi).abs() <= 1e-7 * lo.abs(), "{lo} {hi}");
    }
    // A degenerate fit (r and alpha huge) still gives a finite, increasing expectation.
    let huge = BgNbdParams {
        r: 1.8e7,
        alpha: 1.8e7,
        a: 1.105,
        b: 1.105,
    };
    let short = conditional_expected_one(&huge, 10.0, 1.0, 1.0, 1.0);
    let long = conditional_expected_one(&huge, 100.0, 1.0, 1.0, 1.0);
    assert!(short.is_finite() && long > short && long > 0.0, "{short} {long}");
}

#[test]
fn invalid_rows_are_named() {
    // One customer (frequency, recency, T) with the named column invalid.
    for (frequency, recency, age, column) in [
        (1.0, 5.0, 3.0, "recency"),
        (1.5, 1.0, 3.0, "frequency"),
        (0.0, 0.0, f64::NAN, "T"),
    ] {
        let error = fit(&[frequency], &[recency], &[age], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(error, RfmError::InvalidValue { argument, row: 0, .. } if argument == column),
            "{error}"
        );
    }
    let error = fit(&[0.0], &[0.0], &[0.0], None, &FitOptions::default()).unwrap_err();
    assert!(matches!(error, RfmError::Parameter { name: "T", .. }), "{error}");
    let options = FitOptions {
        penalizer_coef: -1.0,
        ..FitOptions::default()
    };
    let error = fit(&[0.0], &[0.0], &[1.0], None, &options).unwrap_err();
    assert!(
        matches!(
            error,
            RfmError::Parameter {
                name: "penalizer_coef",
                ..
            }
        ),
        "{error}"
    );
}

/// 1,000 BG/NBD customers (r = 2, alpha = 10, a = 1, b = 3, ages uniform in 20..52 weeks):
/// frequency, recency, T.
fn simulated() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut draws = Draws(XorShift(0x5eed_0001));
    let (mut frequency, mut recency, mut ages) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..1000 {
        let rate = draws.gamma(2, 10.0);
        // p ~ Beta(1, 3): 1 − U^(1/3).
        let drop_out = 1.0 - draws.uniform().powf(1.0 / 3.0);
        let age = 20.0 + 32.0 * draws.uniform();
        let (mut now, mut x, mut last) = (0.0, 0.0, 0.0);
        loop {
            now += draws.exponential() / rate;
            if now > age {
                break;
            }
            x += 1.0;
            last = now;
            if draws.uniform() < drop_out {
                break;
            }
        }
        frequency.push(x);
        recency.push(last);
        ages.push(age);
    }
    (frequency, recency, ages)
}

/// Five customers, one of them with two repeat purchases.
const ONE_REPEAT: ([f64; 5], [f64; 5], [f64; 5]) = (
    [0.0, 0.0, 0.0, 0.0, 2.0],
    [0.0, 0.0, 0.0, 0.0, 20.0],
    [30.0, 25.0, 40.0, 10.0, 38.0],
);
/// Six customers, three with repeat purchases.
const THREE_REPEAT: ([f64; 6], [f64; 6], [f64; 6]) = (
    [0.0, 0.0, 0.0, 1.0, 2.0, 1.0],
    [0.0, 0.0, 0.0, 5.0, 20.0, 3.0],
    [30.0, 25.0, 40.0, 10.0, 38.0, 20.0],
);

#[test]
fn an_ordinary_sample_gives_an_estimate_near_its_parameters() {
    let (frequency, recency, ages) = simulated();
    for modified in [false, true] {
        let fitter = if modified { fit_modified } else { fit };
        let report = fitter(&frequency, &recency, &ages, None, &FitOptions::default()).unwrap();
        let [r, alpha, a, b] = report.params;
        assert!(
            (r / alpha / 0.2 - 1.0).abs() < 0.15,
            "{modified}: {:?}",
            report.params
        );
        // MBG/NBD, a model of another drop-out, fits its own a and b (~1e3, 7e3) on them.
        assert!(
            modified || (a / (a + b) / 0.25 - 1.0).abs() < 0.2,
            "{:?}",
            report.params
        );
    }
}

#[test]
fn few_repeat_customers_give_a_convergence_error_that_says_why() {
    let options = FitOptions::default();
    for fitter in [fit, fit_modified] {
        // One repeat customer of five: the drop-out runs off; a penalty does not help.
        let (frequency, recency, ages) = ONE_REPEAT;
        let error = fitter(&frequency, &recency, &ages, None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "fit is a limit, not an estimate: ",
                "ran off towards ",
                "Only 1 of 5 customers made a repeat purchase: the data cannot tell the purchase rate from the \
                 drop-out.",
                "Data: 5 customers, 1 with a repeat purchase (frequency > 0), 5 distinct (frequency, recency, T) \
                 patterns.",
                "Fit on more customers",
            ],
        );
        // One-time buyers only.
        let error = fitter(&[0.0; 5], &[0.0; 5], &ONE_REPEAT.2, None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "None of the 5 customers made a repeat purchase",
                "Data: 5 customers, 0 with a repeat purchase",
                "rfmkit.clv.historical",
                "A penalty does not help here: with penalizer_coef=0.01 too, ",
            ],
        );
    }
    // Three repeat customers of six: a and b run off to infinity; the penalty the message
    // advises gives the finite fit it shows.
    let (frequency, recency, ages) = THREE_REPEAT;
    let error = fit(&frequency, &recency, &ages, None, &options).unwrap_err();
    assert_convergence_error(
        &error,
        &[
            "the BG/NBD fit is a limit, not an estimate: a ran off towards infinity",
            "The drop-out probabilities collapse to one value (every customer alike).",
            "Only 3 of 6 customers made a repeat purchase",
            "penalizer_coef=0.01 gives a finite fit on this data (r = 0.5262, alpha = 10.4393, a = 0.9030, \
             b = 0.7407)",
        ],
    );
    let penalised = FitOptions {
        penalizer_coef: 0.01,
        ..FitOptions::default()
    };
    let report = fit(&frequency, &recency, &ages, None, &penalised).unwrap();
    assert_eq!(format!("{:.4}", report.params[3]), "0.7407");
}

#[test]
fn an_unfinished_optimisation_is_still_told_as_such() {
    let options = FitOptions {
        max_iterations: 1,
        ..FitOptions::default()
    };
    let (frequency, recency, ages) = simulated();
    let error = fit(&frequency, &recency, &ages, None, &options).unwrap_err();
    assert_convergence_error(
        &error,
        &[
            "the BG/NBD fit did not converge after 1 iterations (the iteration limit was reached); last parameters r=",
            "Data: 1000 customers, ",
            "Raise max_iterations (the fit stopped after 1). penalizer_coef=0.01 gives a finite fit",
        ],
    );
}
