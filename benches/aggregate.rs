//! Criterion benchmarks of the Rust core on 1M synthetic rows, without Python:
//! `rfm`, the lifetimes-style `summary` and the id encoders.
//!
//! ```text
//! cargo bench --bench aggregate             # full
//! cargo bench --bench aggregate -- --quick  # short
//! cargo bench --bench aggregate -- summary  # one group
//! ```
//!
//! The data mirrors `benches/bench_rfm.py`: `ROWS / 10` customers with skewed activity,
//! timestamps in seconds over two years in chronological order, positive amounts.
//! It comes from a fixed-seed LCG so that no extra crate is needed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rfmkit::encode::{encode_i64, encode_utf8};
use rfmkit::{rfm, summary, ColumnNames, Period, RfmOptions, SummaryOptions, Transactions};

const ROWS: usize = 1_000_000;
const CUSTOMERS: usize = ROWS / 10;
const SECONDS_PER_DAY: i64 = 86_400;
/// 2023-01-01 in seconds since the epoch.
const START: i64 = 19_358 * SECONDS_PER_DAY;

/// Knuth's MMIX LCG; the high bits are the good ones.
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }
}

/// The synthetic table: dense customer codes, their int ids, seconds, amounts.
struct Data {
    codes: Vec<i64>,
    ids: Vec<i64>,
    random_ids: Vec<i64>,
    time: Vec<i64>,
    amount: Vec<f64>,
}

fn data() -> Data {
    let mut rng = Lcg(20_240_601);
    // A permutation of the customers, so that activity is not tied to the code order.
    let mut perm: Vec<i64> = (0..CUSTOMERS as i64).collect();
    for i in (1..perm.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    // Database-like ids: increasing with gaps (the dense-table path of `encode_i64`)...
    let mut next_id = 1_000_000i64;
    let id_of: Vec<i64> = (0..CUSTOMERS)
        .map(|_| {
            next_id += 1 + rng.below(4) as i64;
            next_id
        })
        .collect();
    // ... and random 64-bit ids (its hash-map path).
    let random_id_of: Vec<i64> = (0..CUSTOMERS).map(|_| rng.next_u64() as i64).collect();
    let span = 2 * 365 * SECONDS_PER_DAY;
    let mut time: Vec<i64> = (0..ROWS).map(|_| START + rng.below(span as u64) as i64).collect();
    time.sort_unstable();
    let mut codes = Vec::with_capacity(ROWS);
    let mut amount = Vec::with_capacity(ROWS);
    for _ in 0..ROWS {
        // Skewed activity: density ~ 1/sqrt(rank).
        let u = rng.next_f64();
        let rank = ((u * u * CUSTOMERS as f64) as usize).min(CUSTOMERS - 1);
        codes.push(perm[rank]);
        // Roughly log-normal amounts, in cents.
        let z = (0..4).map(|_| rng.next_f64()).sum::<f64>() - 2.0;
        amount.push(((3.5 + 1.5 * z).exp() * 100.0).round() / 100.0 + 0.01);
    }
    let ids = codes.iter().map(|&c| id_of[c as usize]).collect();
    let random_ids = codes.iter().map(|&c| random_id_of[c as usize]).collect();
    Data {
        codes,
        ids,
        random_ids,
        time,
        amount,
    }
}

fn transactions(data: &Data) -> Transactions<'_> {
    Transactions {
        customer: &data.codes,
        n_customers: CUSTOMERS,
        time: &data.time,
        ticks_per_day: SECONDS_PER_DAY,
        amount: Some(&data.amount),
        order: None,
        n_orders: 0,
        names: ColumnNames::default(),
    }
}

fn benches(c: &mut Criterion) {
    let data = data();
    let tx = transactions(&data);

    let mut group = c.benchmark_group("core");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(ROWS as u64));

    let options = RfmOptions::default();
    let table = rfm(&tx, &options).expect("rfm");
    assert!(
        table.customer.len() > CUSTOMERS * 9 / 10,
        "{} customers",
        table.customer.len()
    );
    group.bench_function(BenchmarkId::new("rfm", ROWS), |b| {
        b.iter(|| rfm(black_box(&tx), black_box(&options)).expect("rfm"))
    });

    // The pieces: with `as_of` given there is no pass for the last valid row; `validate`
    // is the pass over the codes that every entry point makes.
    let as_of = RfmOptions {
        as_of_day: table.as_of_day,
        ..RfmOptions::default()
    };
    group.bench_function(BenchmarkId::new("rfm_as_of_given", ROWS), |b| {
        b.iter(|| rfm(black_box(&tx), black_box(&as_of)).expect("rfm"))
    });
    group.bench_function(BenchmarkId::new("validate", ROWS), |b| {
        b.iter(|| black_box(&tx).validate().expect("valid"))
    });

    let options = SummaryOptions::new(Period::Day);
    let out = summary(&tx, &options).expect("summary");
    assert_eq!(out.customer.len(), table.customer.len());
    group.bench_function(BenchmarkId::new("summary_day", ROWS), |b| {
        b.iter(|| summary(black_box(&tx), black_box(&options)).expect("summary"))
    });

    let encoded = encode_i64(&data.ids, None).expect("encode");
    assert_eq!(encoded.n_codes(), table.customer.len());
    group.bench_function(BenchmarkId::new("encode_i64_dense", ROWS), |b| {
        b.iter(|| encode_i64(black_box(&data.ids), None).expect("encode"))
    });
    group.bench_function(BenchmarkId::new("encode_i64_hashed", ROWS), |b| {
        b.iter(|| encode_i64(black_box(&data.random_ids), None).expect("encode"))
    });

    // The same ids as Arrow large_string buffers, "C<id>".
    let mut offsets = Vec::with_capacity(ROWS + 1);
    let mut bytes = Vec::with_capacity(ROWS * 8);
    offsets.push(0i64);
    for id in &data.ids {
        bytes.push(b'C');
        bytes.extend_from_slice(id.to_string().as_bytes());
        offsets.push(bytes.len() as i64);
    }
    let encoded = encode_utf8(&offsets, &bytes, None).expect("encode");
    assert_eq!(encoded.n_codes(), table.customer.len());
    group.bench_function(BenchmarkId::new("encode_utf8", ROWS), |b| {
        b.iter(|| encode_utf8(black_box(&offsets), black_box(&bytes), None).expect("encode"))
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
