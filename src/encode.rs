//! Dense codes for ids of any type ("factorize"): codes are assigned in order of
//! first appearance, nulls get [`NULL_CODE`], and for every code the row of its first
//! appearance is kept so that the caller can restore the original ids with a `take`.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap};
use rayon::prelude::*;

use crate::error::{Result, RfmError};
use crate::rows::{prefetch, NULL_CODE, PREFETCH_AHEAD};

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
/// in a table instead of a hash map; on big inputs the table lookups run in parallel.
///
/// # Errors
/// [`RfmError::Length`] when `validity` does not match `values`.
pub fn encode_i64(values: &[i64], validity: Option<&[bool]>) -> Result<Encoded> {
    encode_i64_in_chunks(values, validity, parallel_chunks(values.len()))
}

/// Number of row chunks to encode in parallel: one below `1 << 16` rows.
fn parallel_chunks(n: usize) -> usize {
    if n < 1 << 16 {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

fn encode_i64_in_chunks(values: &[i64], validity: Option<&[bool]>, chunks: usize) -> Result<Encoded> {
    check_validity(validity, values.len())?;
    let Some((lo, span)) = id_bounds(values, validity) else {
        return Ok(Encoded {
            codes: vec![NULL_CODE; values.len()],
            first_rows: Vec::new(),
        });
    };
    let n = values.len() as u128;
    // Dense tables hold one u32 slot per possible id (and u32 codes): up to 16 bytes per
    // row on one thread, up to 4 bytes per row and thread in parallel.
    let fits_u32 = n < u128::from(EMPTY_SLOT);
    if fits_u32 && chunks > 1 && span <= n {
        Ok(encode_dense_parallel(values, validity, lo, span as usize, chunks))
    } else if fits_u32 && span <= (n * 4).max(1 << 16) {
        // Zeroed memory comes lazily from the OS; every code is written below.
        let mut codes = vec![0; values.len()];
        let first_rows = encode_dense(values, validity, lo, span as usize, 0, &mut codes).first_rows;
        Ok(Encoded { codes, first_rows })
    } else {
        Ok(encode_sparse(values, validity))
    }
}

/// The smallest valid id and the number of possible ids from it to the largest
/// (`hi - lo + 1`); `None` when no id is valid. `validity` must match `values`.
pub(crate) fn id_bounds(values: &[i64], validity: Option<&[bool]>) -> Option<(i64, u128)> {
    let (lo, hi) = values
        .par_iter()
        .enumerate()
        .with_min_len(1 << 16)
        .filter(|&(i, _)| is_valid(validity, i))
        .map(|(_, &v)| (v, v))
        .reduce_with(|(lo, hi), (a, b)| (lo.min(a), hi.max(b)))?;
    Some((lo, (hi as i128 - lo as i128 + 1) as u128))
}

/// Marks an empty slot of a dense table.
pub(crate) const EMPTY_SLOT: u32 = u32::MAX;

/// A chunk of rows encoded on its own: codes numbered from 0 in order of first
/// appearance in the chunk, the rows where they appear, and the table that maps
/// `id - lo` to them.
struct DenseChunk {
    table: Vec<u32>,
    first_rows: Vec<i64>,
}

/// Slot of `value` in a table of slots from `lo`.
#[inline]
pub(crate) fn slot_of(value: i64, lo: i64) -> usize {
    (value as i128 - lo as i128) as usize
}

/// Encodes the rows `start..start + codes.len()` into `codes`.
fn encode_dense(
    values: &[i64],
    validity: Option<&[bool]>,
    lo: i64,
    span: usize,
    start: usize,
    codes: &mut [i64],
) -> DenseChunk {
    let mut chunk = DenseChunk {
        table: vec![EMPTY_SLOT; span],
        first_rows: Vec::new(),
    };
    for (offset, code) in codes.iter_mut().enumerate() {
        let i = start + offset;
        if let Some(&ahead) = values.get(i + PREFETCH_AHEAD) {
            // Null rows may hold any value: only slots inside the table are prefetched.
            let slot = slot_of(ahead, lo);
            if slot < span {
                prefetch(&chunk.table, slot);
            }
        }
        // The bounds pass guarantees a slot for every valid value.
        let slot = match values.get(i) {
            Some(&v) if is_valid(validity, i) => chunk.table.get_mut(slot_of(v, lo)),
            _ => None,
        };
        let Some(slot) = slot else {
            *code = NULL_CODE;
            continue;
        };
        if *slot == EMPTY_SLOT {
            *slot = chunk.first_rows.len() as u32;
            chunk.first_rows.push(i as i64);
        }
        *code = i64::from(*slot);
    }
    chunk
}

/// Encodes contiguous chunks of rows in parallel, each with its own table, then numbers
/// the ids new in each chunk after those of the chunks before it (so codes stay in order
/// of first appearance) and renumbers each chunk's codes in place.
fn encode_dense_parallel(
    values: &[i64],
    validity: Option<&[bool]>,
    lo: i64,
    span: usize,
    chunks: usize,
) -> Encoded {
    let size = values.len().div_ceil(chunks).max(1);
    // Zeroed memory comes lazily from the OS; every code is written below.
    let mut codes = vec![0; values.len()];
    let parts: Vec<DenseChunk> = codes
        .par_chunks_mut(size)
        .enumerate()
        .map(|(c, chunk_codes)| encode_dense(values, validity, lo, span, c * size, chunk_codes))
        .collect();
    let mut parts = parts.into_iter();
    let Some(DenseChunk {
        mut table,
        mut first_rows,
    }) = parts.next()
    else {
        return Encoded::default();
    };
    for (c, part) in parts.enumerate() {
        drop(part.table);
        // The global code of each of the chunk's local codes.
        let renumber: Vec<i64> = part
            .first_rows
            .iter()
            .map(|&row| {
                let slot = values
                    .get(row as usize)
                    .and_then(|&v| table.get_mut(slot_of(v, lo)));
                match slot {
                    Some(slot) => {
                        if *slot == EMPTY_SLOT {
                            *slot = first_rows.len() as u32;
                            first_rows.push(row);
                        }
                        i64::from(*slot)
                    }
                    None => NULL_CODE,
                }
            })
            .collect();
        renumber_chunk(&mut codes, (c + 1) * size, size, &renumber);
    }
    drop(table);
    Encoded { codes, first_rows }
}

/// Renumbers the chunk of `size` codes from `start` (a later chunk's local codes) with
/// `renumber`, in parallel; null codes stay null.
fn renumber_chunk(codes: &mut [i64], start: usize, size: usize, renumber: &[i64]) {
    let end = (start + size).min(codes.len());
    if let Some(chunk_codes) = codes.get_mut(start..end) {
        chunk_codes.par_iter_mut().with_min_len(1 << 14).for_each(|code| {
            if *code >= 0 {
                *code = renumber.get(*code as usize).copied().unwrap_or(NULL_CODE);
            }
        });
    }
}

fn encode_sparse(values: &[i64], validity: Option<&[bool]>) -> Encoded {
    let mut out = Encoded {
        codes: Vec::with_capacity(values.len()),
        first_rows: Vec::new(),
    };
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
    out
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

/// An Arrow offset: `i32` for `string`, `i64` for `large_string`.
pub trait Offset: Copy + Send + Sync {
    fn to_i64(self) -> i64;
}

impl Offset for i32 {
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl Offset for i64 {
    #[inline]
    fn to_i64(self) -> i64 {
        self
    }
}

/// Whether `offsets` are not a valid Arrow offsets buffer of `data_len` bytes of data:
/// a negative first offset, a decreasing pair, or a last offset past the data.
pub(crate) fn bad_offsets<O: Offset>(offsets: &[O], data_len: usize) -> bool {
    offsets.first().is_some_and(|&o| o.to_i64() < 0)
        || offsets
            .par_windows(2)
            .with_min_len(1 << 16)
            .any(|w| w[1].to_i64() < w[0].to_i64())
        || offsets
            .last()
            .is_some_and(|&o| o.to_i64() as u64 > data_len as u64)
}

/// Arrow-layout strings whose offsets were checked: every row's range lies in `data`.
pub(crate) struct Strings<'a, O> {
    pub(crate) offsets: &'a [O],
    pub(crate) data: &'a [u8],
}

impl<O: Offset> Strings<'_, O> {
    /// The bytes of row `i` (empty past the end, which checked offsets never reach).
    #[inline]
    pub(crate) fn text(&self, i: usize) -> &[u8] {
        let start = self.offsets.get(i).map_or(0, |&o| o.to_i64() as usize);
        let end = self.offsets.get(i + 1).map_or(start, |&o| o.to_i64() as usize);
        self.data.get(start..end).unwrap_or_default()
    }
}

/// Encodes Arrow-layout strings: row `i` is `data[offsets[i]..offsets[i + 1]]`.
///
/// On big inputs contiguous row chunks are encoded in parallel, each with its own table,
/// and merged in chunk order, so codes stay in order of first appearance.
///
/// # Errors
/// [`RfmError::Parameter`] when the offsets are not a valid Arrow offsets buffer;
/// [`RfmError::Length`] when `validity` does not match the rows.
pub fn encode_utf8<O: Offset>(offsets: &[O], data: &[u8], validity: Option<&[bool]>) -> Result<Encoded> {
    let n = offsets.len().saturating_sub(1);
    encode_utf8_in_chunks(offsets, data, validity, parallel_chunks(n))
}

fn encode_utf8_in_chunks<O: Offset>(
    offsets: &[O],
    data: &[u8],
    validity: Option<&[bool]>,
    chunks: usize,
) -> Result<Encoded> {
    let n = offsets.len().saturating_sub(1);
    check_validity(validity, n)?;
    if bad_offsets(offsets, data.len()) {
        return Err(RfmError::parameter(
            "offsets",
            "string offsets must be non-decreasing and within the data buffer",
        ));
    }
    if n == 0 {
        return Ok(Encoded::default());
    }
    let strings = Strings { offsets, data };
    // One hasher for every chunk: the merge looks up each chunk's hashes in the others' tables.
    let hasher = DefaultHashBuilder::default();
    let size = n.div_ceil(chunks.max(1)).max(1);
    // Zeroed memory comes lazily from the OS; every code is written below.
    let mut codes = vec![0i64; n];
    let parts: Vec<StringChunk> = codes
        .par_chunks_mut(size)
        .enumerate()
        .map(|(c, chunk_codes)| encode_utf8_chunk(&strings, validity, &hasher, c * size, chunk_codes))
        .collect();
    let mut parts = parts.into_iter();
    let Some(StringChunk {
        mut table,
        mut first_rows,
        ..
    }) = parts.next()
    else {
        return Ok(Encoded::default());
    };
    // The first chunk's codes are global already; each later chunk's distinct strings are
    // looked up (or numbered next) in the merged table, in the chunk's own order.
    for (c, part) in parts.enumerate() {
        let StringChunk {
            table: local_table,
            first_rows: local_rows,
            hashes,
        } = part;
        drop(local_table);
        let mut renumber: Vec<i64> = Vec::with_capacity(local_rows.len());
        for (k, (&row, &hash)) in local_rows.iter().zip(hashes.iter()).enumerate() {
            if let Some(&ahead) = hashes.get(k + PREFETCH_AHEAD) {
                table.prefetch(ahead);
            }
            let merged_rows = &first_rows;
            let code = table.find_or_insert(
                hash,
                strings.text(row as usize),
                merged_rows.len() as u32,
                |code| {
                    merged_rows
                        .get(code as usize)
                        .map_or(&[][..], |&first| strings.text(first as usize))
                },
            );
            if code as usize == first_rows.len() {
                first_rows.push(row);
            }
            renumber.push(i64::from(code));
        }
        renumber_chunk(&mut codes, (c + 1) * size, size, &renumber);
    }
    drop(table);
    Ok(Encoded { codes, first_rows })
}

/// A chunk of rows encoded on its own: codes from 0 in order of first appearance in the
/// chunk, the (global) row and the hash of each.
struct StringChunk {
    table: StringTable,
    first_rows: Vec<i64>,
    hashes: Vec<u64>,
}

/// Encodes the rows `start..start + codes.len()` into `codes`; every string is hashed once.
fn encode_utf8_chunk<O: Offset>(
    strings: &Strings<'_, O>,
    validity: Option<&[bool]>,
    hasher: &DefaultHashBuilder,
    start: usize,
    codes: &mut [i64],
) -> StringChunk {
    let n = codes.len();
    let mut chunk = StringChunk {
        table: StringTable::with_capacity(1 << 10),
        first_rows: Vec::new(),
        hashes: Vec::new(),
    };
    // Hashes of the next rows, computed ahead so that their table slots can be prefetched.
    let mut ahead = [0u64; PREFETCH_AHEAD];
    for (offset, hash) in ahead.iter_mut().enumerate().take(n) {
        *hash = hasher.hash_one(strings.text(start + offset));
    }
    for (offset, code) in codes.iter_mut().enumerate() {
        let i = start + offset;
        let hash = ahead[offset % PREFETCH_AHEAD];
        if offset + PREFETCH_AHEAD < n {
            let next = hasher.hash_one(strings.text(i + PREFETCH_AHEAD));
            ahead[offset % PREFETCH_AHEAD] = next;
            chunk.table.prefetch(next);
        }
        if !is_valid(validity, i) {
            *code = NULL_CODE;
            continue;
        }
        let bytes = strings.text(i);
        let first_rows = &chunk.first_rows;
        let local = chunk
            .table
            .find_or_insert(hash, bytes, first_rows.len() as u32, |code| {
                first_rows
                    .get(code as usize)
                    .map_or(&[][..], |&row| strings.text(row as usize))
            });
        if local as usize == chunk.first_rows.len() {
            chunk.first_rows.push(i as i64);
            chunk.hashes.push(hash);
        }
        *code = i64::from(local);
    }
    chunk
}

/// An open-addressing hash table (linear probing, at most half full) from strings to codes.
/// Each slot keeps the hash and the first 16 bytes of its string, so a lookup of a short
/// id reads one slot (prefetched a few rows ahead) and never the data buffer.
#[derive(Clone)]
pub(crate) struct StringTable {
    slots: Vec<StringSlot>,
    len: usize,
}

/// One distinct string: 32 bytes, two a cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
struct StringSlot {
    hash: u64,
    code: u32,
    len: u32,
    inline: [u8; StringSlot::INLINE],
}

impl StringSlot {
    const INLINE: usize = 16;
    const EMPTY: StringSlot = StringSlot {
        hash: 0,
        code: u32::MAX,
        len: 0,
        inline: [0; StringSlot::INLINE],
    };

    #[inline]
    fn matches<'d>(&self, hash: u64, bytes: &[u8], stored: impl FnOnce() -> &'d [u8]) -> bool {
        if self.hash != hash || self.len as usize != bytes.len() {
            false
        } else if bytes.len() <= StringSlot::INLINE {
            self.inline.get(..bytes.len()) == Some(bytes)
        } else {
            stored() == bytes
        }
    }
}

impl StringTable {
    pub(crate) fn with_capacity(slots: usize) -> Self {
        StringTable {
            slots: vec![StringSlot::EMPTY; slots.next_power_of_two()],
            len: 0,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(&self.slots, hash as usize & self.mask());
    }

    /// The code of `bytes`, or `new_code` after inserting it. `stored(code)` gives the
    /// string of a code, for strings longer than the inline bytes.
    #[inline]
    pub(crate) fn find_or_insert<'d>(
        &mut self,
        hash: u64,
        bytes: &[u8],
        new_code: u32,
        stored: impl Fn(u32) -> &'d [u8],
    ) -> u32 {
        let mask = self.mask();
        let mut index = hash as usize & mask;
        loop {
            let Some(slot) = self.slots.get(index) else {
                return new_code;
            };
            if slot.code == u32::MAX {
                break;
            }
            if slot.matches(hash, bytes, || stored(slot.code)) {
                return slot.code;
            }
            index = (index + 1) & mask;
        }
        let mut inline = [0u8; StringSlot::INLINE];
        let kept = bytes.len().min(StringSlot::INLINE);
        inline[..kept].copy_from_slice(&bytes[..kept]);
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = StringSlot {
                hash,
                code: new_code,
                len: bytes.len() as u32,
                inline,
            };
        }
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        new_code
    }

    fn grow(&mut self) {
        let doubled = vec![StringSlot::EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.mask();
        for slot in old.into_iter().filter(|slot| slot.code != u32::MAX) {
            let mut index = slot.hash as usize & mask;
            while self.slots.get(index).is_some_and(|s| s.code != u32::MAX) {
                index = (index + 1) & mask;
            }
            if let Some(target) = self.slots.get_mut(index) {
                *target = slot;
            }
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
    fn parallel_chunks_keep_first_appearance_order() {
        // Ids repeat across chunk boundaries, some are new in later chunks, some rows are null.
        let values: Vec<i64> = (0..1000i64).map(|i| (i * 7919) % 97 + (i / 400) * 50).collect();
        let validity: Vec<bool> = (0..1000).map(|i| i % 13 != 0).collect();
        let sparse_values: Vec<i64> = values.iter().map(|&v| v * 1_000_000_007).collect();
        let reference = encode_sparse(&sparse_values, Some(&validity));
        for chunks in [1, 2, 3, 7, 999, 1000, 1500] {
            let dense = encode_i64_in_chunks(&values, Some(&validity), chunks).unwrap();
            assert_eq!(dense, reference, "chunks {chunks}");
        }
        // More chunks than rows, and a span too wide for the dense tables.
        assert_eq!(
            encode_i64_in_chunks(&[4, 4, 2], None, 8).unwrap(),
            encode_i64_in_chunks(&[i64::MIN, i64::MIN, i64::MAX], None, 8).unwrap()
        );
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
    fn strings_short_and_long_with_table_growth() {
        // 5000 distinct strings (the table grows several times), short and longer than
        // the inline bytes, some sharing their first 16 bytes, each seen several times.
        let words: Vec<String> = (0..5000)
            .map(|k| {
                if k % 3 == 0 {
                    format!("a-long-common-prefix-{k}")
                } else {
                    format!("c{k}")
                }
            })
            .collect();
        let mut offsets = vec![0i64];
        let mut data = Vec::new();
        let mut expected_codes = Vec::new();
        let mut expected_first = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for i in 0..20_000usize {
            let word = &words[(i * 7_919) % 5000 * (i % 4 + 1) % 5000];
            data.extend_from_slice(word.as_bytes());
            offsets.push(data.len() as i64);
            let next = seen.len() as i64;
            let code = *seen.entry(word.clone()).or_insert_with(|| {
                expected_first.push(i as i64);
                next
            });
            expected_codes.push(code);
        }
        let encoded = encode_utf8(&offsets, &data, None).unwrap();
        assert_eq!(encoded.codes, expected_codes);
        assert_eq!(encoded.first_rows, expected_first);
        assert_eq!(encode_utf8(&[0], b"", None).unwrap(), Encoded::default());
    }

    /// Codes in order of first appearance, computed the obvious way.
    fn reference_codes(words: &[Option<&str>]) -> Encoded {
        let mut seen = std::collections::HashMap::new();
        let mut out = Encoded::default();
        for (i, word) in words.iter().enumerate() {
            let Some(word) = word else {
                out.codes.push(NULL_CODE);
                continue;
            };
            let next = seen.len() as i64;
            let code = *seen.entry(*word).or_insert_with(|| {
                out.first_rows.push(i as i64);
                next
            });
            out.codes.push(code);
        }
        out
    }

    fn arrow_layout(words: &[Option<&str>]) -> (Vec<i64>, Vec<u8>, Vec<bool>) {
        let mut offsets = vec![0i64];
        let mut data = Vec::new();
        let mut validity = Vec::new();
        for word in words {
            // A null row may hold bytes: Arrow leaves them undefined.
            data.extend_from_slice(word.unwrap_or("junk").as_bytes());
            offsets.push(data.len() as i64);
            validity.push(word.is_some());
        }
        (offsets, data, validity)
    }

    #[test]
    fn string_chunks_keep_first_appearance_order() {
        // Strings shared across chunk boundaries, strings new in later chunks (pool entries
        // 61.. only appear from row 600 on), the empty string, nulls, and ids longer than
        // the inline bytes that share their first 16 bytes.
        let pool: Vec<String> = (0..120)
            .map(|k| match k % 4 {
                0 => format!("a-long-common-prefix-{k}"),
                1 => String::new(),
                _ => format!("c{k}"),
            })
            .collect();
        let words: Vec<Option<&str>> = (0..1000usize)
            .map(|i| {
                if i % 11 == 0 {
                    None
                } else {
                    let k = (i * 7919) % 61 + if i >= 600 { 59 } else { 0 };
                    Some(pool[k].as_str())
                }
            })
            .collect();
        let reference = reference_codes(&words);
        let (offsets, data, validity) = arrow_layout(&words);
        let small: Vec<i32> = offsets.iter().map(|&o| o as i32).collect();
        for chunks in [1, 2, 3, 7, 999, 1000, 1500] {
            let encoded = encode_utf8_in_chunks(&offsets, &data, Some(&validity), chunks).unwrap();
            assert_eq!(encoded, reference, "chunks {chunks}");
            let encoded = encode_utf8_in_chunks(&small, &data, Some(&validity), chunks).unwrap();
            assert_eq!(encoded, reference, "i32 offsets, chunks {chunks}");
        }
        // A string that first appears in the second chunk, after ones seen in the first.
        let words = [Some("x"), Some("y"), Some("z"), Some("x")];
        let (offsets, data, _) = arrow_layout(&words);
        let encoded = encode_utf8_in_chunks(&offsets, &data, None, 2).unwrap();
        assert_eq!(encoded.codes, vec![0, 1, 2, 0]);
        assert_eq!(encoded.first_rows, vec![0, 1, 2]);
        // Only nulls in a chunk, more chunks than rows, no rows.
        let words = [None, None, Some("b"), Some("a"), None];
        let (offsets, data, validity) = arrow_layout(&words);
        for chunks in [1, 2, 5, 9] {
            let encoded = encode_utf8_in_chunks(&offsets, &data, Some(&validity), chunks).unwrap();
            assert_eq!(encoded, reference_codes(&words), "chunks {chunks}");
        }
        assert_eq!(
            encode_utf8_in_chunks(&[0i64], b"", None, 4).unwrap(),
            Encoded::default()
        );
        assert!(encode_utf8_in_chunks(&[0i64, 1], b"", None, 2).is_err());
        assert!(encode_utf8_in_chunks(&offsets, &data, Some(&[true]), 2).is_err());
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
