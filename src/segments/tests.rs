use super::builtin::{above, between, condition, label, raw_variable, score_variable};
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
                conditions: vec![between(0, 5.0, 5.0), above(1, 100.0, true)],
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
                conditions: vec![condition(0, Some((10.0, true)), None)],
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
