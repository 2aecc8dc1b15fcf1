//! The tests of k-means: the kernels against each other and against plain Lloyd, the
//! independence of the results from threads and row order, and the errors.

use ndarray::{array, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::bounds::{f32_down, f32_up, BoundsMut, Drift};
use super::distance::{nearest, squared_distance, two_nearest, with_dim};
use super::fit::{chunk_sums, fit_rfmkit, scaled_tolerance, Restarts, Workspace};
use super::init::{kmeans_plusplus, ChunkPasses, ColumnPasses, RowPasses};
use super::lloyd::{assign_all, lloyd, Run};
use super::soa::{self, Columns};
use super::{canonical_order, Backend, KMeansParams, CHUNK};
use crate::error::RfmError;

/// The backends of this build.
#[cfg(feature = "linfa")]
const BACKENDS: [Backend; 2] = [Backend::Rfmkit, Backend::Linfa];
#[cfg(not(feature = "linfa"))]
const BACKENDS: [Backend; 1] = [Backend::Rfmkit];

fn blobs() -> Array2<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let centres = [[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0]];
    let mut data = Vec::new();
    for i in 0..3000 {
        let c = centres[i % 3];
        for v in c {
            data.push(v + rng.gen::<f64>() - 0.5);
        }
    }
    Array2::from_shape_vec((3000, 3), data).unwrap()
}

/// k-means++ from `rng`, on the columns when `soa` (and `d <= 4`).
fn seed_with(data: &[f64], n: usize, d: usize, k: usize, rng: &mut impl Rng, soa: bool) -> Vec<f64> {
    let columns = (soa && d <= soa::MAX_D).then(|| Columns::new(data, n, d));
    kmeans_plusplus(data, columns.as_ref(), n, d, k, rng, &mut vec![0.0; n])
}

/// One run from `start` in fresh buffers: the run and its labels.
fn run_from(data: &[f64], n: usize, d: usize, start: Vec<f64>, tol: f64, soa: bool) -> (Run, Vec<usize>) {
    let columns = (soa && d <= soa::MAX_D).then(|| Columns::new(data, n, d));
    let mut workspace = Workspace::new(n);
    let run = lloyd(data, columns.as_ref(), d, start, 300, tol, &mut workspace.bounds);
    let labels = workspace.bounds.labels.iter().map(|&l| l as usize).collect();
    (run, labels)
}

/// Plain Lloyd without bounds, for comparison with the Hamerly version.
fn plain_lloyd(flat: &[f64], d: usize, mut centers: Vec<f64>, iterations: usize) -> Vec<usize> {
    let mut labels = Vec::new();
    for _ in 0..iterations {
        labels = flat.chunks_exact(d).map(|x| nearest(x, &centers, d).0).collect();
        let k = centers.len() / d;
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for (x, &l) in flat.chunks_exact(d).zip(&labels) {
            counts[l] += 1;
            for j in 0..d {
                sums[l * d + j] += x[j];
            }
        }
        for c in 0..k {
            for j in 0..d {
                centers[c * d + j] = sums[c * d + j] / counts[c].max(1) as f64;
            }
        }
    }
    labels
}

#[test]
fn finds_separated_blobs_and_predicts_them() {
    let data = blobs();
    let model = KMeansParams::new(3).seed(1).fit_points(data.view()).unwrap();
    let labels = model.labels();
    for i in 0..3 {
        assert!((i..3000).step_by(3).all(|j| labels[j] == labels[i]));
    }
    assert_eq!(model.predict_checked(data.view()).unwrap(), labels.clone());
    assert!(model.inertia() < 3000.0 * 3.0 / 12.0 * 1.2);
}

#[cfg(feature = "linfa")]
#[test]
fn linfa_traits_fit_and_predict_as_the_methods() {
    use linfa::traits::{Fit, Predict};
    use linfa::DatasetBase;
    let data = blobs();
    let params = KMeansParams::new(3).seed(1);
    let model = params.fit(&DatasetBase::from(data.clone())).unwrap();
    assert_eq!(model, params.fit_points(data.view()).unwrap());
    assert_eq!(model.predict(&data), model.labels().clone());
}

#[test]
fn hamerly_matches_plain_lloyd() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let data: Vec<f64> = (0..6000).map(|_| rng.gen::<f64>()).collect();
    let start = seed_with(&data, 2000, 3, 6, &mut rng, true);
    let (run, labels) = run_from(&data, 2000, 3, start.clone(), 0.0, true);
    let plain = plain_lloyd(&data, 3, start, run.n_iter);
    assert_eq!(labels, plain);
}

/// Points on a few tied values in `d` dimensions (as RFM features are), with noise.
fn tied_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n * d)
        .map(|_| (rng.gen_range(0..6) as f64) * 0.7 + rng.gen::<f64>() * 0.3)
        .collect()
}

#[test]
fn hamerly_matches_plain_lloyd_in_every_kernel() {
    // d = 1 to 4 run the specialised kernels (on rows, and on columns when `soa`),
    // 5 the general one.
    for (d, soa) in [1, 2, 3, 4, 5].into_iter().flat_map(|d| [(d, false), (d, true)]) {
        for k in [2, 5, 9] {
            let n = 3001;
            let data = tied_points(n, d, d as u64 * 31 + k as u64);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
            let start = seed_with(&data, n, d, k, &mut rng, soa);
            let (run, labels) = run_from(&data, n, d, start.clone(), 0.0, soa);
            let plain = plain_lloyd(&data, d, start, run.n_iter);
            assert_eq!(labels, plain, "d={d} k={k} soa={soa}");
            // The running sums give the means of the final labelling.
            for c in 0..k {
                let members: Vec<&[f64]> = data
                    .chunks_exact(d)
                    .zip(&labels)
                    .filter(|(_, &l)| l == c)
                    .map(|(x, _)| x)
                    .collect();
                for j in 0..d {
                    let mean = members.iter().map(|x| x[j]).sum::<f64>() / members.len() as f64;
                    assert!((run.centers[c * d + j] - mean).abs() < 1e-9, "d={d} k={k} c={c}");
                }
            }
            let inertia: f64 = data
                .chunks_exact(d)
                .zip(&labels)
                .map(|(x, &l)| squared_distance(x, &run.centers[l * d..(l + 1) * d]))
                .sum();
            assert!((run.inertia - inertia).abs() <= 1e-9 * inertia);
        }
    }
}

#[test]
fn seeding_picks_distinct_points_among_duplicates() {
    // 5 distinct points, each repeated: k = 5 must get all five (a point already
    // chosen has weight 0 and is never drawn again).
    let distinct = [
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 2.0, 0.0],
        [0.0, 0.0, 3.0],
        [4.0, 4.0, 4.0],
    ];
    let n = 3 * CHUNK + 17;
    let data: Vec<f64> = (0..n).flat_map(|i| distinct[(i * 7) % 5]).collect();
    for (seed, soa) in (0..20).flat_map(|seed| [(seed, false), (seed, true)]) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let centers = seed_with(&data, n, 3, 5, &mut rng, soa);
        let mut rows: Vec<Vec<u64>> = centers
            .chunks_exact(3)
            .map(|c| c.iter().map(|v| v.to_bits()).collect())
            .collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), 5, "seed {seed} soa={soa}");
    }
}

#[test]
fn column_kernels_equal_the_generic_kernels() {
    // Sizes with a tail (not a multiple of the 8-point blocks, nor of CHUNK).
    for d in 1..=soa::MAX_D {
        for k in [1, 2, 3, 8, 13] {
            let n = CHUNK + 8 * 37 + 5;
            let data = tied_points(n, d, 100 + d as u64 * 7 + k as u64);
            let columns = Columns::new(&data, n, d);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(k as u64);
            let centers: Vec<f64> = (0..k)
                .flat_map(|_| {
                    let i = rng.gen_range(0..n);
                    data[i * d..(i + 1) * d].to_vec()
                })
                .collect();
            // The first assignment: labels, bounds and sums bit for bit.
            let mut on_rows = Workspace::new(n).bounds;
            let mut on_columns = Workspace::new(n).bounds;
            let (rows_sums, columns_sums) = with_dim!(d, D => (
                assign_all::<D>(&data, None, d, &centers, &mut on_rows),
                assign_all::<D>(&data, Some(&columns), d, &centers, &mut on_columns),
            ));
            assert_eq!(on_rows.labels, on_columns.labels, "d={d} k={k}");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
            let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            assert_eq!(bits32(&on_rows.upper), bits32(&on_columns.upper), "d={d} k={k}");
            assert_eq!(bits32(&on_rows.slack), bits32(&on_columns.slack), "d={d} k={k}");
            assert_eq!(rows_sums.counts, columns_sums.counts);
            assert_eq!(bits(&rows_sums.sums), bits(&columns_sums.sums));
            // The labels are the nearest centres (ties to the lower index).
            for (x, &label) in data.chunks_exact(d).zip(&on_columns.labels) {
                assert_eq!(nearest(x, &centers, d).0, label as usize);
            }
            // Hamerly's gathered full scans: as the generic scan, bit for bit (labels,
            // bounds and the points that move), from the first assignment's state
            // and some drift.
            let rows: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).collect();
            let drift = Drift {
                upper: (0..k).map(|c| 0.01 * c as f64).collect(),
                lower: (0..k).map(|c| 0.02 + 0.001 * c as f64).collect(),
            };
            let mut generic = Workspace::new(n).bounds;
            generic
                .labels
                .iter_mut()
                .enumerate()
                .for_each(|(i, l)| *l = (i % k) as u32);
            let mut gathered = Workspace::new(n).bounds;
            gathered.labels.clone_from(&generic.labels);
            let (mut moved_generic, mut moved_gathered) = (Vec::new(), Vec::new());
            {
                let mut chunk = BoundsMut {
                    labels: &mut generic.labels,
                    upper: &mut generic.upper,
                    slack: &mut generic.slack,
                };
                for &i in &rows {
                    let i = i as usize;
                    let (b, bd, sd) = two_nearest::<0>(&data[i * d..(i + 1) * d], &centers, d);
                    chunk.settle(i, b, bd.sqrt(), sd.sqrt(), &drift, &mut moved_generic);
                }
                let mut chunk = BoundsMut {
                    labels: &mut gathered.labels,
                    upper: &mut gathered.upper,
                    slack: &mut gathered.slack,
                };
                with_dim!(d, D => soa::rescan::<D>(&data, &rows, &centers, &drift, &mut chunk, &mut moved_gathered));
            }
            assert_eq!(generic.labels, gathered.labels, "d={d} k={k}");
            assert_eq!(bits32(&generic.upper), bits32(&gathered.upper), "d={d} k={k}");
            assert_eq!(bits32(&generic.slack), bits32(&gathered.slack), "d={d} k={k}");
            assert_eq!(moved_generic, moved_gathered, "d={d} k={k}");
            // Seeding passes: the folded distances bit for bit, the potentials
            // (summed in another order) to rounding.
            let center = &centers[..d];
            let candidate = &centers[(k - 1) * d..];
            with_dim!(d, D => {
                    let rows = RowPasses::<D> { flat: &data, d };
                    let cols = ColumnPasses::<D> { columns: &columns };
                    for chunk in 0..n.div_ceil(CHUNK) {
                        let len = CHUNK.min(n - chunk * CHUNK);
                        let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
                        let sum_a = rows.first(chunk, &mut a, center);
                        let sum_b = cols.first(chunk, &mut b, center);
                        assert_eq!(bits(&a), bits(&b));
                        assert!((sum_a - sum_b).abs() <= 1e-12 * sum_a.max(1.0));
                        let (pa, pb) = (rows.potential(chunk, &a, candidate), cols.potential(chunk, &b, candidate));
                        assert!((pa - pb).abs() <= 1e-12 * pa.max(1.0), "d={d} k={k}");
                        rows.fold(chunk, &mut a, candidate);
                        cols.fold(chunk, &mut b, candidate);
                        assert_eq!(bits(&a), bits(&b));
                    }
            });
        }
    }
}

#[test]
fn concurrent_restarts_equal_sequential_ones_on_any_thread_count() {
    let n = 3 * CHUNK + 77;
    for d in [3, 5] {
        let data = tied_points(n, d, 21 + d as u64);
        let params = KMeansParams::new(5).n_init(4).seed(3);
        let params = params.check().unwrap();
        let columns = (d <= soa::MAX_D).then(|| Columns::new(&data, n, d));
        let sums = chunk_sums(&data, columns.as_ref(), n, d, None);
        let tol = scaled_tolerance(&data, columns.as_ref(), n, d, &sums, 1e-4);
        let fit = |threads: usize, restarts: Restarts| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit_rfmkit(&data, columns.as_ref(), n, d, params, tol, restarts))
        };
        let reference = fit(1, Restarts::Sequential);
        for threads in [1, 2, 3] {
            assert_eq!(
                reference,
                fit(threads, Restarts::Concurrent),
                "d={d} threads={threads}"
            );
            assert_eq!(
                reference,
                fit(threads, Restarts::Sequential),
                "d={d} threads={threads}"
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let n = 5 * CHUNK + 123;
    let data = Array2::from_shape_vec((n, 3), tied_points(n, 3, 5)).unwrap();
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                KMeansParams::new(6)
                    .n_init(3)
                    .seed(9)
                    .fit_points(data.view())
                    .unwrap()
            })
    };
    let one = fit(1);
    assert_eq!(one, fit(2));
    assert_eq!(one, fit(3));
}

/// Rows of `data` (n x d) in a shuffled order, and the original row of each.
fn shuffled(data: &[f64], d: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
    let n = data.len() / d;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        rows.swap(i, rng.gen_range(0..=i));
    }
    let flat = rows
        .iter()
        .flat_map(|&r| data[r * d..(r + 1) * d].iter().copied())
        .collect();
    (flat, rows)
}

#[test]
fn the_row_order_changes_nothing() {
    // Tied values (as in RFM tables) in 3 features (the column kernels) and 5 (the
    // general ones); both backends. Equal labels (the same numbering), centres and
    // inertia, bit for bit.
    for (d, backend) in [3, 5]
        .into_iter()
        .flat_map(|d| BACKENDS.map(|backend| (d, backend)))
    {
        let n = 2500;
        let data = tied_points(n, d, 5 + d as u64);
        let params = KMeansParams::new(4).n_init(3).seed(9).backend(backend);
        let fit = |flat: &[f64]| {
            params
                .fit_points(ArrayView2::from_shape((n, d), flat).unwrap())
                .unwrap()
        };
        let reference = fit(&data);
        for shuffle in 0..4 {
            let (flat, rows) = shuffled(&data, d, shuffle);
            let model = fit(&flat);
            let expected: Vec<usize> = rows.iter().map(|&r| reference.labels()[r]).collect();
            assert_eq!(
                model.labels().to_vec(),
                expected,
                "d={d} {backend:?} shuffle {shuffle}"
            );
            assert_eq!(model.centroids(), reference.centroids());
            assert_eq!(model.inertia().to_bits(), reference.inertia().to_bits());
        }
    }
}

#[test]
fn canonical_order_sorts_the_rows() {
    let points = array![[2.0, 1.0], [0.0, 5.0], [-0.0, 7.0], [2.0, 0.5]];
    let (order, rows) = canonical_order(points.view());
    assert_eq!(order, vec![2, 1, 3, 0]);
    assert_eq!(rows, array![[-0.0, 7.0], [0.0, 5.0], [2.0, 0.5], [2.0, 1.0]]);
    let (order, again) = canonical_order(rows.view());
    assert_eq!((order, again), (vec![0, 1, 2, 3], rows));
}

#[test]
fn same_seed_same_result_and_backends_agree() {
    let data = blobs();
    let a = KMeansParams::new(3).seed(5).fit_points(data.view()).unwrap();
    let b = KMeansParams::new(3).seed(5).fit_points(data.view()).unwrap();
    assert_eq!(a, b);
    #[cfg(feature = "linfa")]
    {
        let linfa = KMeansParams::new(3)
            .seed(5)
            .backend(Backend::Linfa)
            .fit_points(data.view())
            .unwrap();
        assert!((linfa.inertia() - a.inertia()).abs() <= 1e-3 * a.inertia());
        assert_eq!(linfa.n_iter(), None);
    }
}

#[cfg(not(feature = "linfa"))]
#[test]
fn the_linfa_backend_without_the_feature_is_a_parameter_error() {
    let params = KMeansParams::new(2).backend(Backend::Linfa);
    let error = params.check().unwrap_err();
    assert!(matches!(error, RfmError::Parameter { name: "backend", .. }));
    assert!(error.to_string().contains("`linfa` cargo feature"), "{error}");
    let data = array![[0.0, 1.0], [2.0, 3.0]];
    assert_eq!(params.fit_points(data.view()).unwrap_err(), error);
}

#[test]
fn bad_parameters_and_data_are_errors() {
    let data = array![[0.0, 1.0], [0.0, 1.0], [2.0, 3.0]];
    let too_many = KMeansParams::new(3).fit_points(data.view()).unwrap_err();
    assert!(too_many.to_string().contains("2 distinct points"), "{too_many}");
    assert!(matches!(
        KMeansParams::new(0).fit_points(data.view()),
        Err(RfmError::Parameter {
            name: "n_clusters",
            ..
        })
    ));
    assert!(matches!(
        KMeansParams::new(1).n_init(0).check(),
        Err(RfmError::Parameter { name: "n_init", .. })
    ));
    assert!(matches!(
        KMeansParams::new(1).max_iter(0).check(),
        Err(RfmError::Parameter { name: "max_iter", .. })
    ));
    assert!(matches!(
        KMeansParams::new(1).tol(f64::NAN).check(),
        Err(RfmError::Parameter { name: "tol", .. })
    ));
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        KMeansParams::new(1).fit_points(empty.view()),
        Err(RfmError::Data { .. })
    ));
    let infinite = array![[0.0, f64::INFINITY], [1.0, 1.0]];
    for backend in BACKENDS {
        let error = KMeansParams::new(1)
            .backend(backend)
            .fit_points(infinite.view())
            .unwrap_err();
        assert!(error.to_string().contains("feature 1 of row 0"), "{error}");
    }
    let model = KMeansParams::new(1).fit_points(data.view()).unwrap();
    assert!(model.predict_checked(array![[1.0]].view()).is_err());
}

#[test]
fn f32_bounds_round_outwards() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::from(0.1_f32),
        0.1,
        1e-45,
        -1e-45,
        1e-40,
        1e-300,
        f64::from(f32::MAX),
        3.5e38,
        -3.5e38,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    values.extend((0..10_000).map(|_| (rng.gen::<f64>() - 0.5) * 10f64.powi(rng.gen_range(-40..40))));
    for x in values {
        let (up, down) = (f32_up(x), f32_down(x));
        assert!(f64::from(up) >= x, "{x} up to {up}");
        assert!(f64::from(down) <= x, "{x} down to {down}");
        if x.abs() < 1e30 {
            // Only a few f32 units looser.
            assert!(f64::from(up) - x <= 1e-6 * x.abs() + 1e-44, "{x} up to {up}");
            assert!(
                x - f64::from(down) <= 1e-6 * x.abs() + 1e-44,
                "{x} down to {down}"
            );
        }
    }
}

#[test]
fn huge_finite_values_are_a_clear_error_and_nan_is_still_found() {
    // The finiteness check only searches chunks whose sums are not finite: here the
    // sums overflow, yet every value is finite; such values would overflow the
    // squared distances, so they are refused with their position.
    let data = array![[1e308, 0.0], [1e308, 1.0], [1e308, 2.0], [-1e308, 3.0]];
    let error = KMeansParams::new(2).fit_points(data.view()).unwrap_err();
    assert!(error.to_string().contains("feature 0 of row 0"), "{error}");
    assert!(error.to_string().contains("rescale"), "{error}");
    let edge = array![[1e150, 0.0], [-1e150, 1.0], [0.0, 2.0], [1.0, 3.0]];
    let model = KMeansParams::new(2).fit_points(edge.view()).unwrap();
    assert!(model.inertia().is_finite());
    let mut nan = data.clone();
    nan[[3, 1]] = f64::NAN;
    let error = KMeansParams::new(2).fit_points(nan.view()).unwrap_err();
    assert!(error.to_string().contains("feature 1 of row 3"), "{error}");
}

#[test]
fn one_cluster_is_the_mean() {
    let data = array![[0.0, 0.0], [2.0, 4.0]];
    let model = KMeansParams::new(1).fit_points(data.view()).unwrap();
    assert_eq!(model.centroids(), &array![[1.0, 2.0]]);
    assert_eq!(model.inertia(), 10.0);
    let distances = model.distances(data.view()).unwrap();
    assert!((distances[[0, 0]] - 5f64.sqrt()).abs() < 1e-12);
}
