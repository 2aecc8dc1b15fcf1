//! Dense codes for ids of any type ("factorize"): codes are assigned in order of
//! first appearance, nulls get [`NULL_CODE`], and for every code the row of its first
//! appearance is kept so that the caller can restore the original ids with a `take`.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use crate::error::{Result, RfmError};
use crate::rows::NULL_CODE;

/// Codes per row and, per code, the row where it first appears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    pub codes: Vec<i64>,
    pub first_rows: Vec<i64>,
}

impl Encoded {
    pub fn n_codes(&self) -> usize {
        self.first_rows.len()
    }
}

fn is_valid(validity: Option<&[bool]>, i: usize) -> bool {
    validity.is_none_or(|valid| valid[i])
}

fn check_validity(validity: Option<&[bool]>, n: usize) -> Result<()> {
    match validity {
        Some(valid) if valid.len() != n => Err(RfmError::Length {
            what: "validity mask",
            got: valid.len(),
            expected: n,
        }),
        _ => Ok(()),
    }
}

/// Encodes integer ids; `validity[i] == false` marks a null.
///
/// Ids that fill a dense range (the usual case for customer numbers) are looked up
/// in a table instead of a hash map.
///
/// # Errors
/// [`RfmError::Length`] when `validity` does not match `values`.
pub fn encode_i64(values: &[i64], validity: Option<&[bool]>) -> Result<Encoded> {
    check_validity(validity, values.len())?;
    let mut bounds: Option<(i64, i64)> = None;
    for (i, &v) in values.iter().enumerate() {
        if is_valid(validity, i) {
            bounds = Some(bounds.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
        }
    }
    let mut out = Encoded {
        codes: Vec::with_capacity(values.len()),
        first_rows: Vec::new(),
    };
    let Some((lo, hi)) = bounds else {
        out.codes.resize(values.len(), NULL_CODE);
        return Ok(out);
    };
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let dense_limit = (values.len() as u128 * 4).max(1 << 16);
    if span <= dense_limit {
        let mut table = vec![NULL_CODE; span as usize];
        for (i, &v) in values.iter().enumerate() {
            if !is_valid(validity, i) {
                out.codes.push(NULL_CODE);
                continue;
            }
            let slot = &mut table[(v as i128 - lo as i128) as usize];
            if *slot == NULL_CODE {
                *slot = out.first_rows.len() as i64;
                out.first_rows.push(i as i64);
            }
            out.codes.push(*slot);
        }
    } else {
        let mut map: HashMap<i64, i64> = HashMap::new();
        for (i, &v) in values.iter().enumerate() {
            if !is_valid(validity, i) {
                out.codes.push(NULL_CODE);
                continue;
            }
            let next = out.first_rows.len() as i64;
            let code = *map.entry(v).or_insert_with(|| {
                out.first_rows.push(i as i64);
                next
            });
            out.codes.push(code);
        }
    }
    Ok(out)
}

/// Encodes float ids (an integer id column with nulls arrives as float): NaN is null,
/// `-0.0` equals `0.0`.
///
/// # Errors
/// Never in practice; the signature matches the other encoders.
pub fn encode_f64(values: &[f64]) -> Result<Encoded> {
    let mut out = Encoded {
        codes: Vec::with_capacity(values.len()),
        first_rows: Vec::new(),
    };
    let mut map: HashMap<u64, i64> = HashMap::new();
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            out.codes.push(NULL_CODE);
            continue;
        }
        let key = if v == 0.0 { 0u64 } else { v.to_bits() };
        let next = out.first_rows.len() as i64;
        let code = *map.entry(key).or_insert_with(|| {
            out.first_rows.push(i as i64);
            next
        });
        out.codes.push(code);
    }
    Ok(out)
}

/// Encodes Arrow-layout strings: row `i` is `data[offsets[i]..offsets[i + 1]]`.
///
/// # Errors
/// [`RfmError::Parameter`] when the offsets are not a valid Arrow offsets buffer.
pub fn encode_utf8(offsets: &[i64], data: &[u8], validity: Option<&[bool]>) -> Result<Encoded> {
    let n = offsets.len().saturating_sub(1);
    check_validity(validity, n)?;
    let bad_offsets = offsets.first().is_some_and(|&o| o < 0)
        || offsets.windows(2).any(|w| w[1] < w[0])
        || offsets.last().is_some_and(|&o| o as u64 > data.len() as u64);
    if bad_offsets {
        return Err(RfmError::parameter(
            "offsets",
            "string offsets must be non-decreasing and within the data buffer",
        ));
    }
    let text = |i: usize| &data[offsets[i] as usize..offsets[i + 1] as usize];
    let hasher = DefaultHashBuilder::default();
    let mut table: HashTable<StringSlot> = HashTable::new();
    let mut out = Encoded {
        codes: Vec::with_capacity(n),
        first_rows: Vec::new(),
    };
    for i in 0..n {
        if !is_valid(validity, i) {
            out.codes.push(NULL_CODE);
            continue;
        }
        let bytes = text(i);
        let hash = hasher.hash_one(bytes);
        let first_rows = &out.first_rows;
        let found = table
            .find(hash, |slot| {
                slot.hash == hash && slot.matches(bytes, || text(first_rows[slot.code as usize] as usize))
            })
            .map(|slot| slot.code);
        let code = match found {
            Some(code) => code,
            None => {
                let code = out.first_rows.len() as i64;
                out.first_rows.push(i as i64);
                table.insert_unique(hash, StringSlot::new(hash, code, bytes), |slot| slot.hash);
                code
            }
        };
        out.codes.push(code);
    }
    Ok(out)
}

/// A hash-table entry for one distinct string. Short strings (most ids) are kept inline,
/// so a lookup compares them without chasing the first row's offsets into the data buffer
/// (three dependent cache misses per row otherwise).
#[derive(Debug, Clone, Copy)]
struct StringSlot {
    hash: u64,
    code: i64,
    len: usize,
    inline: [u8; StringSlot::INLINE],
}

impl StringSlot {
    const INLINE: usize = 24;

    fn new(hash: u64, code: i64, bytes: &[u8]) -> Self {
        let mut inline = [0u8; StringSlot::INLINE];
        let kept = bytes.len().min(StringSlot::INLINE);
        inline[..kept].copy_from_slice(&bytes[..kept]);
        StringSlot {
            hash,
            code,
            len: bytes.len(),
            inline,
        }
    }

    #[inline]
    fn matches<'d>(&self, bytes: &[u8], stored: impl FnOnce() -> &'d [u8]) -> bool {
        if self.len != bytes.len() {
            false
        } else if self.len <= StringSlot::INLINE {
            self.inline[..self.len] == *bytes
        } else {
            stored() == bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_ints_agree() {
        let dense = encode_i64(&[5, 3, 5, 4, 3], None).unwrap();
        assert_eq!(dense.codes, vec![0, 1, 0, 2, 1]);
        assert_eq!(dense.first_rows, vec![0, 1, 3]);
        let sparse = encode_i64(&[i64::MAX, i64::MIN, i64::MAX, 0, i64::MIN], None).unwrap();
        assert_eq!(sparse.codes, dense.codes);
        assert_eq!(sparse.first_rows, dense.first_rows);
    }

    #[test]
    fn nulls_get_the_null_code() {
        let encoded = encode_i64(&[1, 2, 1], Some(&[true, false, true])).unwrap();
        assert_eq!(encoded.codes, vec![0, -1, 0]);
        let floats = encode_f64(&[1.0, f64::NAN, -0.0, 0.0]).unwrap();
        assert_eq!(floats.codes, vec![0, -1, 1, 1]);
        assert!(encode_i64(&[1], Some(&[true, true])).is_err());
    }

    #[test]
    fn strings() {
        let data = b"abcab";
        let encoded = encode_utf8(&[0, 2, 3, 5, 5], data, Some(&[true, true, true, false])).unwrap();
        assert_eq!(encoded.codes, vec![0, 1, 0, -1]);
        assert!(encode_utf8(&[0, 9], data, None).is_err());
        assert!(encode_utf8(&[2, 1], data, None).is_err());
    }
}
