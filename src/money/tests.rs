use super::*;
use crate::testing::XorShift;

#[test]
fn partials_of_parts_sum_exactly() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut next = |m: u64| rng.next(m);
    for _ in 0..2000 {
        let n = next(60) as usize;
        let values: Vec<f64> = (0..n)
            .map(|_| match next(6) {
                0 => 1e-30 * next(1000) as f64,
                1 => 2f64.powi(70) * (next(3) as f64 - 1.0),
                2 => 0.1,
                _ => next(100_000) as f64 / 100.0 - 300.0,
            })
            .collect();
        let cut = next(n as u64 + 1) as usize;
        let mut partials = exact_partials(&values[..cut]);
        partials.extend(exact_partials(&values[cut..]));
        assert_eq!(
            fsum(partials).to_bits(),
            fsum(values.iter().copied()).to_bits(),
            "{values:?}"
        );
    }
}

/// 2^n for any n in -1074..=1023 (`powi` underflows on the way to subnormals).
fn pow2(n: i32) -> f64 {
    assert!((-1074..=1023).contains(&n));
    if n >= -1022 {
        f64::from_bits(((n + 1023) as u64) << 52)
    } else {
        f64::from_bits(1 << (n + 1074))
    }
}

/// The oracle: an exact two's-complement fixed-point number whose bit k weighs
/// 2^(k - 1152), covering 2^-1152 .. 2^1151: every f64 (multiples of 2^-1074 below
/// 2^1024) adds exactly, and sums of up to 2^127 of them cannot wrap.
const LIMBS: usize = 36;
const BIAS: i32 = 1152;
/// Bit index of 2^-1074, the least f64 bit.
const LEAST: usize = (BIAS - 1074) as usize;

#[derive(Clone)]
struct Exact([u64; LIMBS]);

impl Exact {
    fn new() -> Exact {
        Exact([0; LIMBS])
    }

    fn of(values: &[f64]) -> Exact {
        let mut sum = Exact::new();
        for &x in values {
            sum.add(x);
        }
        sum
    }

    fn add(&mut self, x: f64) {
        assert!(x.is_finite());
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        let (m, exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), biased - 1075)
        };
        if m == 0 {
            return;
        }
        let position = (exponent + BIAS) as usize;
        let (limb, offset) = (position / 64, position % 64);
        let low = m << offset;
        let high = if offset == 0 { 0 } else { m >> (64 - offset) };
        let mut term = [0u64; LIMBS];
        term[limb] = low;
        term[limb + 1] = high;
        if bits >> 63 == 1 {
            term = negate(term);
        }
        let mut carry = false;
        for (a, b) in self.0.iter_mut().zip(term) {
            let (s, c1) = a.overflowing_add(b);
            let (s, c2) = s.overflowing_add(carry as u64);
            *a = s;
            carry = c1 || c2;
        }
    }

    fn add_exact(&mut self, other: &Exact) {
        let mut carry = false;
        for (a, &b) in self.0.iter_mut().zip(&other.0) {
            let (s, c1) = a.overflowing_add(b);
            let (s, c2) = s.overflowing_add(carry as u64);
            *a = s;
            carry = c1 || c2;
        }
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&limb| limb == 0)
    }

    /// Round to the nearest f64, ties to even, by hand.
    fn to_f64(&self) -> f64 {
        let negative = self.0[LIMBS - 1] >> 63 == 1;
        let magnitude = if negative { negate(self.0) } else { self.0 };
        let bit = |k: usize| (magnitude[k / 64] >> (k % 64)) & 1 == 1;
        let Some(top) = (0..LIMBS * 64).rev().find(|&k| bit(k)) else {
            return 0.0;
        };
        assert!(top >= LEAST, "sums of f64 are multiples of 2^-1074");
        // The least kept bit: 53 significant bits, or the subnormal grid.
        let mut least = top.saturating_sub(52).max(LEAST);
        let mut mantissa = 0u64;
        for k in (least..=top).rev() {
            mantissa = (mantissa << 1) | bit(k) as u64;
        }
        let half = bit(least - 1);
        let sticky = (0..least - 1).any(bit);
        if half && (sticky || mantissa & 1 == 1) {
            mantissa += 1;
            if mantissa == 1 << 53 {
                mantissa >>= 1;
                least += 1;
            }
        }
        let value = if mantissa < 1 << 52 {
            assert_eq!(least, LEAST);
            f64::from_bits(mantissa)
        } else {
            let biased = (least - LEAST + 1) as u64;
            if biased >= 0x7ff {
                f64::INFINITY
            } else {
                f64::from_bits((biased << 52) | (mantissa & ((1 << 52) - 1)))
            }
        };
        if negative {
            -value
        } else {
            value
        }
    }
}

fn negate(mut limbs: [u64; LIMBS]) -> [u64; LIMBS] {
    let mut carry = true;
    for limb in limbs.iter_mut() {
        let (s, c) = (!*limb).overflowing_add(carry as u64);
        *limb = s;
        carry = c;
    }
    limbs
}

/// xorshift64*, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, low: i32, high: i32) -> i32 {
        low + self.below((high - low + 1) as usize) as i32
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / pow2(53)
    }

    fn sign(&mut self) -> f64 {
        if self.next() & 1 == 0 {
            1.0
        } else {
            -1.0
        }
    }

    /// A random 53-bit mantissa times 2^exponent.
    fn binary(&mut self, exponent: i32) -> f64 {
        let m = (self.next() >> 11) | (1 << 52);
        m as f64 * pow2(exponent - 52)
    }

    /// A random 53-bit mantissa times 2^e, e uniform in low..=high (at least -1022
    /// when `clamp`, so that the scaling stays a power of two).
    fn binary_in(&mut self, low: i32, high: i32, clamp: bool) -> f64 {
        let e = self.range(low, high);
        self.binary(if clamp { e.max(-1022) } else { e })
    }

    fn shuffle(&mut self, values: &mut [f64]) {
        for i in (1..values.len()).rev() {
            values.swap(i, self.below(i + 1));
        }
    }
}

/// A decimal with 0-4 places and magnitude 1e-6 .. 1e12 (small ones may round to 0).
fn decimal(rng: &mut Rng) -> f64 {
    let places = rng.range(0, 4);
    let magnitude = rng.range(-6, 12);
    let scaled = ((1.0 + 9.0 * rng.unit()) * 10f64.powi(magnitude + places)).round();
    rng.sign() * scaled / 10f64.powi(places)
}

/// One random test case of the given family.
fn case(rng: &mut Rng, family: usize) -> Vec<f64> {
    let n = rng.below(40);
    let mut values: Vec<f64> = match family {
        // Money: decimals, with the odd duplicate negated (refunds).
        0 => {
            let mut v: Vec<f64> = (0..n).map(|_| decimal(rng)).collect();
            for i in 0..v.len() / 4 {
                v.push(-v[i]);
            }
            v
        }
        // Huge cancellations: big terms that cancel around small ones.
        1 => {
            let bigs = [1e16, 1e20, 1e100, pow2(60), pow2(62), pow2(53), 1e300];
            let mut v = Vec::new();
            for _ in 0..n / 3 + 1 {
                let big = bigs[rng.below(bigs.len())] * (1.0 + rng.unit());
                v.push(big);
                v.push(-big);
                v.push(decimal(rng));
                if rng.below(2) == 0 {
                    v.push(rng.sign() * rng.binary_in(-60, 60, false));
                }
            }
            v
        }
        // Binary values spanning 2^-80 .. 2^80.
        2 => (0..n)
            .map(|_| rng.sign() * rng.binary_in(-80, 80, false))
            .collect(),
        // Subnormals and their neighbours.
        3 => (0..n)
            .map(|_| {
                let x = match rng.below(4) {
                    0 => f64::from_bits(rng.next() & ((1 << 52) - 1)),
                    1 => f64::from_bits(rng.below(16) as u64),
                    2 => f64::MIN_POSITIVE * (1.0 + rng.unit()),
                    _ => rng.binary_in(-1074, -1000, true),
                };
                rng.sign() * x
            })
            .collect(),
        // Half-way cases: a value and half an ulp of it, whole or in pieces, with or
        // without a tiny term on either side of the tie.
        4 => {
            let exponent = rng.range(-30, 70);
            let a = rng.sign() * rng.binary(exponent);
            let half_ulp = pow2(exponent - 53) * rng.sign();
            let mut v = vec![a];
            match rng.below(3) {
                0 => v.push(half_ulp),
                1 => v.extend([half_ulp / 2.0, half_ulp / 2.0]),
                _ => v.extend([half_ulp * 0.75, half_ulp / 8.0, half_ulp / 8.0]),
            }
            match rng.below(3) {
                0 => {}
                1 => v.push(half_ulp * pow2(-rng.range(1, 200))),
                _ => v.push(-half_ulp * pow2(-rng.range(1, 200))),
            }
            // And an exactly cancelling pair, to give the partials more to do.
            if rng.below(2) == 0 {
                let big = rng.binary_in(-20, 100, false);
                v.extend([big, -big]);
            }
            v
        }
        // Amounts around 2^60 .. 2^64: some convert to Fixed, and their sums overflow it.
        5 => (0..n)
            .map(|_| {
                if rng.below(3) == 0 {
                    decimal(rng)
                } else {
                    rng.sign() * rng.binary_in(59, 63, false)
                }
            })
            .collect(),
        // A bit of everything.
        _ => (0..n)
            .map(|_| match rng.below(4) {
                0 => decimal(rng),
                1 => rng.sign() * rng.binary_in(-1074, 1000, true),
                // Any finite bits, below 2^977 so that no running sum overflows.
                2 => loop {
                    let x = f64::from_bits(rng.next());
                    if x.abs() < pow2(977) {
                        break x;
                    }
                },
                _ => rng.sign() * rng.binary_in(-70, 70, false),
            })
            .collect(),
    };
    rng.shuffle(&mut values);
    values
}

const FAMILIES: usize = 7;

/// The Fixed path as the aggregation would run it: rows dealt to `parts` random
/// parts, each a Fixed plus the amounts that did not fit; the parts stored as words,
/// then merged in a random order.
fn split_sum(values: &[f64], rng: &mut Rng, parts: usize) -> f64 {
    let mut accumulators = vec![(Fixed::ZERO, Vec::new()); parts];
    for &x in values {
        let (fixed, extras) = &mut accumulators[rng.below(parts)];
        match Fixed::of(x).and_then(|f| fixed.checked_add(f)) {
            Some(sum) => *fixed = sum,
            None => extras.push(x),
        }
    }
    let mut stored: Vec<((i64, i64), Vec<f64>)> = accumulators
        .into_iter()
        .map(|(fixed, extras)| (fixed.to_words(), extras))
        .collect();
    for i in (1..stored.len()).rev() {
        stored.swap(i, rng.below(i + 1));
    }
    let mut total = Fixed::ZERO;
    let mut extras = Vec::new();
    for ((high, low), part_extras) in stored {
        let fixed = Fixed::from_words(high, low);
        match total.checked_add(fixed) {
            Some(sum) => total = sum,
            None => extras.extend(fixed.exact_parts()),
        }
        extras.extend(part_extras);
    }
    exact_sum(total, extras)
}

fn assert_same(got: f64, want: f64, what: &str, values: &[f64]) {
    assert_eq!(
        got.to_bits(),
        want.to_bits(),
        "{what}: got {got:e}, want {want:e} for {values:?}"
    );
}

#[test]
fn oracle_rounds_by_hand() {
    // The oracle itself, on sums whose rounding is known.
    let one = Exact::of(&[1.0]);
    assert_eq!(one.to_f64(), 1.0);
    assert_eq!(Exact::of(&[-2.5, 0.25]).to_f64(), -2.25);
    assert_eq!(Exact::of(&[pow2(53), 1.0]).to_f64(), pow2(53)); // tie, to even
    assert_eq!(Exact::of(&[pow2(53), 3.0]).to_f64(), pow2(53) + 4.0); // tie, to even
    assert_eq!(Exact::of(&[pow2(53), 1.0, pow2(-1074)]).to_f64(), pow2(53) + 2.0);
    assert_eq!(
        Exact::of(&[-pow2(53), -1.0, -pow2(-1074)]).to_f64(),
        -pow2(53) - 2.0
    );
    assert_eq!(Exact::of(&[pow2(-1074), pow2(-1074)]).to_f64(), pow2(-1073));
    assert_eq!(
        Exact::of(&[f64::MIN_POSITIVE, -pow2(-1074)]).to_f64().to_bits(),
        (1 << 52) - 1
    );
    assert_eq!(Exact::of(&[f64::MAX, pow2(969)]).to_f64(), f64::MAX);
    assert_eq!(Exact::of(&[f64::MAX, pow2(970)]).to_f64(), f64::INFINITY); // tie, MAX is odd
    assert_eq!(Exact::of(&[-f64::MAX, -f64::MAX]).to_f64(), f64::NEG_INFINITY);
    assert_eq!(Exact::of(&[f64::MAX, f64::MAX, -f64::MAX]).to_f64(), f64::MAX);
    assert!(Exact::of(&[0.1, -0.1]).is_zero());
    assert_eq!(Exact::of(&[0.1, 0.2]).to_f64(), 0.30000000000000004);
    assert_eq!(Exact::of(&[0.1; 10]).to_f64(), 1.0);
}

#[test]
fn fsum_and_exact_sum_match_the_oracle() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..12_000 {
        let mut values = case(&mut rng, round % FAMILIES);
        let want = Exact::of(&values).to_f64();
        assert_same(fsum(values.iter().copied()), want, "fsum", &values);
        rng.shuffle(&mut values);
        assert_same(fsum(values.iter().copied()), want, "fsum, shuffled", &values);
        values.reverse();
        assert_same(fsum(values.iter().copied()), want, "fsum, reversed", &values);
        let parts = 1 + rng.below(5);
        assert_same(
            split_sum(&values, &mut rng, parts),
            want,
            "split Fixed + extras",
            &values,
        );
    }
}

#[test]
fn splits_and_orders_agree_bit_for_bit() {
    // Money-like rows in bulk: every split into merged parts and every order gives
    // the same bits, which are the oracle's; a plain f64 sum does not always.
    let mut rng = Rng(42);
    let mut plain_differed = false;
    for _ in 0..200 {
        let mut values: Vec<f64> = (0..500).map(|_| decimal(&mut rng)).collect();
        // Plus a cancellation, amounts that do not convert, and three that convert but
        // overflow a Fixed together.
        values.extend([1e16, 1.0, -1e16, 0.0001, 1e-30, 9e18, 4e18, 4e18, 4e18]);
        let want = Exact::of(&values).to_f64();
        let plain: f64 = values.iter().sum();
        for parts in [1, 2, 3, 8, 64] {
            rng.shuffle(&mut values);
            plain_differed |= values.iter().sum::<f64>().to_bits() != plain.to_bits();
            assert_same(split_sum(&values, &mut rng, parts), want, "split", &values);
            assert_same(fsum(values.iter().copied()), want, "fsum", &values);
        }
    }
    assert!(
        plain_differed,
        "the data should be hard enough to upset a plain f64 sum"
    );
}

#[test]
fn near_overflow_is_exact_or_documented_infinity() {
    // Around f64::MAX a step of the algorithm may overflow although the exact sum is
    // finite. The documented outcome: an infinity of the exact sum's sign, or NaN
    // when overflows of both signs occurred. Every finite result is the oracle's, and
    // an exact sum that overflows is never finite.
    let mut rng = Rng(7);
    let (mut exact, mut infinite, mut both_signs) = (0, 0, 0);
    for _ in 0..5_000 {
        let n = 1 + rng.below(8);
        let values: Vec<f64> = (0..n)
            .map(|_| match rng.below(4) {
                0 => rng.sign() * rng.binary(1023),
                1 => rng.sign() * rng.binary_in(960, 1022, false),
                2 => rng.sign() * rng.binary(1022),
                _ => rng.sign() * rng.binary_in(-60, 60, false),
            })
            .collect();
        let want = Exact::of(&values).to_f64();
        let got = fsum(values.iter().copied());
        if got.is_nan() {
            both_signs += 1;
        } else if got.is_finite() || want.is_infinite() {
            assert_same(got, want, "fsum near overflow", &values);
            exact += 1;
        } else {
            assert!(
                want != 0.0 && got.signum() == want.signum(),
                "{got} for {want:e}: {values:?}"
            );
            infinite += 1;
        }
    }
    assert!(
        exact > 1_000 && infinite > 100 && both_signs > 10,
        "cases: {exact} exact, {infinite} infinite for a finite sum, {both_signs} NaN"
    );
}

#[test]
fn fsum_known_values() {
    let cases: Vec<(Vec<f64>, f64)> = vec![
        (vec![], 0.0),
        (vec![0.0], 0.0),
        (vec![-0.0], 0.0),
        (vec![0.1; 10], 1.0),
        (vec![1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50], 1e-100),
        (vec![1.0, 1e100, 1.0, -1e100], 2.0),
        (vec![pow2(53), -0.5, -pow2(-54)], pow2(53) - 1.0),
        (vec![pow2(53), 1.0, pow2(-100)], pow2(53) + 2.0),
        (vec![pow2(53) + 10.0, 1.0, pow2(-100)], pow2(53) + 12.0),
        (vec![pow2(53) - 4.0, 0.5, pow2(-54)], pow2(53) - 3.0),
        (vec![1e16, 1.0, 1e-16], 10000000000000002.0),
        (vec![1e-16, 1.0, 1e16], 10000000000000002.0),
        (
            vec![1e16 - 2.0, 1.0 - pow2(-53), -(1e16 - 2.0), -(1.0 - pow2(-53))],
            0.0,
        ),
        // The half-way case without, and with, a tiny tie breaker.
        (vec![pow2(53), 1.0], pow2(53)),
        (vec![1.0, pow2(-53)], 1.0),
        (vec![1.0, pow2(-53), pow2(-1074)], 1.0 + pow2(-52)),
        (vec![1.0, pow2(-53), -pow2(-1074)], 1.0),
        (vec![-1.0, -pow2(-53), -pow2(-1074)], -1.0 - pow2(-52)),
        (vec![f64::MAX, -f64::MAX, f64::MAX], f64::MAX),
    ];
    for (values, want) in cases {
        assert_same(fsum(values.iter().copied()), want, "fsum", &values);
        assert_same(Exact::of(&values).to_f64(), want, "oracle", &values);
    }

    // CPython's test_math: 1/n, alternating 1/n, and a case that grows the partials.
    let harmonic: Vec<f64> = (1..=1000).map(|n| 1.0 / n as f64).collect();
    assert_eq!(fsum(harmonic.iter().copied()), 7.485470860550345); // 0x1.df11f45f4e61ap+2
    let alternating: Vec<f64> = (1..=1000)
        .map(|n| {
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            sign / n as f64
        })
        .collect();
    assert_eq!(fsum(alternating.iter().copied()), -0.6926474305598203); // -0x1.62a2af1bd3624p-1
    let mut growing: Vec<f64> = (-1074..972)
        .step_by(2)
        .map(|n| pow2(n) - pow2(n + 50) + pow2(n + 52))
        .collect();
    growing.push(-pow2(1022));
    let want = f64::from_bits(((970 + 1023) << 52) | 0x5_5555_5555_5555); // 0x1.5555555555555p+970
    assert_eq!(fsum(growing.iter().copied()), want);
    assert_eq!(Exact::of(&growing).to_f64(), want);
}

#[test]
fn fsum_special_values() {
    assert_eq!(fsum([f64::MAX, f64::MAX]), f64::INFINITY);
    assert_eq!(fsum([-f64::MAX, -f64::MAX, 1.0]), f64::NEG_INFINITY);
    assert_eq!(fsum([f64::MAX, pow2(970)]), f64::INFINITY);
    assert_eq!(fsum([f64::MAX, pow2(969)]), f64::MAX);
    // The documented order dependence: the running sum overflows first.
    assert_eq!(fsum([f64::MAX, f64::MAX, -f64::MAX]), f64::INFINITY);
    assert!(fsum([f64::MAX, f64::MAX, -f64::MAX, -f64::MAX, -f64::MAX]).is_nan());
    assert_eq!(fsum([f64::INFINITY, 1.0, -1e308]), f64::INFINITY);
    assert_eq!(
        fsum([1.0, f64::NEG_INFINITY, f64::NEG_INFINITY]),
        f64::NEG_INFINITY
    );
    assert!(fsum([f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    assert!(fsum([1.0, f64::NAN, 2.0]).is_nan());
    assert!(fsum([f64::INFINITY, f64::NAN]).is_nan());
    assert!(exact_sum(Fixed::of(1.0).unwrap(), [f64::NAN]).is_nan());
    assert_eq!(exact_sum(Fixed::of(1.0).unwrap(), [f64::INFINITY]), f64::INFINITY);
}

#[test]
fn fixed_of_is_exact_or_refuses() {
    // Known conversions.
    assert_eq!(Fixed::of(1.0), Some(Fixed(1 << 64)));
    assert_eq!(Fixed::of(-0.5), Some(Fixed(-(1 << 63))));
    assert_eq!(Fixed::of(pow2(-64)), Some(Fixed(1)));
    assert_eq!(Fixed::of(-pow2(-64)), Some(Fixed(-1)));
    assert_eq!(Fixed::of(0.0), Some(Fixed(0)));
    assert_eq!(Fixed::of(-0.0), Some(Fixed(0)));
    let largest = pow2(62) - pow2(9); // the f64 just below 2^62
    assert_eq!(Fixed::of(largest), Some(Fixed(((1 << 53) - 1) << 73)));
    assert_eq!(Fixed::of(-largest), Some(Fixed(-(((1 << 53) - 1) << 73))));
    // Refusals.
    for x in [
        pow2(62),
        -pow2(62),
        1e20,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        pow2(-65),
        pow2(-64) * 1.5,
        pow2(-20) + pow2(-70),
        1e-30,
        f64::MIN_POSITIVE,
        pow2(-1074),
        -pow2(-1074),
    ] {
        assert_eq!(Fixed::of(x), None, "{x:e}");
    }
    // Money: every decimal of magnitude 1/4096 or more converts; 0.0001 (bits down to
    // 2^-66) and 0.0002 (to 2^-65) do not, while 0.0003 happens to.
    for x in [
        12.34,
        0.01,
        0.001,
        0.0005,
        0.0003,
        99999.99,
        1234567.891,
        -0.05,
        4.6e18,
    ] {
        let fixed = Fixed::of(x).unwrap_or_else(|| panic!("{x} should convert"));
        assert_eq!(fixed.to_f64(), x);
    }
    for x in [0.0001, 0.0002, 0.00015, 0.00001, -0.0001] {
        assert_eq!(Fixed::of(x), None, "{x}");
    }
    // All decimals of up to 4 places from 1/4096 to 100 convert, and give themselves back.
    for places in 0..=4 {
        let scale = 10f64.powi(places);
        for k in 1..=100 * scale as i64 {
            let x = k as f64 / scale; // the f64 nearest the decimal
            if x >= pow2(-12) {
                assert_eq!(Fixed::of(x).map(Fixed::to_f64), Some(x), "{k}/{scale}");
            }
        }
    }
    // Scaling by a power of two moves the bits: 0.0001 * 2 still reaches 2^-65.
    assert_eq!(Fixed::of(0.0001 * 2.0), None);
    assert_eq!(Fixed::of(0.0001 * 4.0).map(Fixed::to_f64), Some(0.0004));

    // Random values against an independent rule: x converts exactly when x * 2^64 is
    // an integer below 2^126 (scaling by a power of two is exact here), and then the
    // value is that integer; the round trip gives x back bit for bit.
    let mut rng = Rng(1234);
    let mut converted = 0;
    for i in 0..200_000 {
        let x = match i % 4 {
            0 => f64::from_bits(rng.next()),
            1 => rng.sign() * rng.binary_in(-80, 70, false),
            2 => decimal(&mut rng),
            _ => rng.sign() * rng.binary_in(-65, 63, false).floor(),
        };
        let scaled = x * pow2(64);
        let representable = x.is_finite() && x.abs() < pow2(62) && scaled.fract() == 0.0;
        match Fixed::of(x) {
            Some(fixed) => {
                assert!(representable, "{x:e} converted");
                assert_eq!(fixed.0, scaled as i128, "{x:e}");
                if x != 0.0 {
                    assert_eq!(fixed.to_f64().to_bits(), x.to_bits(), "{x:e}");
                }
                converted += 1;
            }
            None => assert!(!representable, "{x:e} refused"),
        }
    }
    assert!(converted > 50_000, "{converted}");
}

#[test]
fn fixed_words_parts_and_overflow() {
    let mut rng = Rng(99);
    let mut samples = vec![i128::MIN, i128::MAX, 0, 1, -1, i64::MIN as i128, u64::MAX as i128];
    for _ in 0..20_000 {
        let v = ((rng.next() as u128) << 64 | rng.next() as u128) as i128;
        samples.push(v >> rng.below(128));
    }
    for v in samples {
        let fixed = Fixed(v);
        let (high, low) = fixed.to_words();
        assert_eq!(Fixed::from_words(high, low), fixed);
        // The parts sum exactly to the value: the oracle agrees, and so do fsum and
        // to_f64, which round that exact value independently.
        let parts = fixed.exact_parts();
        let mut sum = Exact::of(&parts);
        let mut minus = Exact::new();
        for (k, byte) in v.unsigned_abs().to_le_bytes().iter().enumerate() {
            for b in 0..8 {
                if byte >> b & 1 == 1 {
                    minus.add(-(v.signum() as f64) * pow2(8 * k as i32 + b - 64));
                }
            }
        }
        sum.add_exact(&minus);
        assert!(sum.is_zero(), "{v}: parts {parts:?}");
        assert_eq!(fsum(parts).to_bits(), fixed.to_f64().to_bits(), "{v}");
        assert_eq!(exact_sum(fixed, [0.0]).to_bits(), fixed.to_f64().to_bits(), "{v}");
        assert_eq!(exact_sum(fixed, []).to_bits(), fixed.to_f64().to_bits(), "{v}");
    }
    assert_eq!(Fixed(i128::MAX).checked_add(Fixed(1)), None);
    assert_eq!(Fixed(i128::MIN).checked_add(Fixed(-1)), None);
    assert_eq!(Fixed(i128::MAX).checked_add(Fixed(i128::MIN)), Some(Fixed(-1)));
    // Converted amounts overflow only in sums: two of the largest fit, three do not.
    let largest = Fixed::of(pow2(62) - pow2(9)).unwrap();
    let two = largest.checked_add(largest).unwrap();
    assert_eq!(two.checked_add(largest), None);
    assert_eq!(exact_sum(two, [pow2(62) - pow2(9)]), 3.0 * (pow2(62) - pow2(9)));
}
