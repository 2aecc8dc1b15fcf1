//! The ids of a [`super::State`]: a dictionary from customer (or order) ids to dense
//! indexes in order of first appearance, that outlives the batches the ids came from.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap};

use crate::encode::{slot_of, StringTable, EMPTY_SLOT};
use crate::error::{Result, RfmError};
use crate::rows::{prefetch, PREFETCH_AHEAD};

/// Arrow string offsets: `i32` (`string`) or `i64` (`large_string`).
#[derive(Debug, Clone, Copy)]
pub enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

impl Offsets<'_> {
    fn len(&self) -> usize {
        match self {
            Offsets::Small(o) => o.len(),
            Offsets::Large(o) => o.len(),
        }
    }
}

/// An id column of a batch: integers, or strings in Arrow layout. `validity[i] == false`
/// marks a null (its value is not read).
#[derive(Debug, Clone, Copy)]
pub enum Ids<'a> {
    Int {
        values: &'a [i64],
        validity: Option<&'a [bool]>,
    },
    Utf8 {
        offsets: Offsets<'a>,
        data: &'a [u8],
        validity: Option<&'a [bool]>,
    },
}

impl Ids<'_> {
    pub fn len(&self) -> usize {
        match self {
            Ids::Int { values, .. } => values.len(),
            Ids::Utf8 { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn validity(&self) -> Option<&[bool]> {
        match self {
            Ids::Int { validity, .. } | Ids::Utf8 { validity, .. } => *validity,
        }
    }

    #[inline]
    pub(crate) fn is_valid(&self, i: usize) -> bool {
        self.validity()
            .is_none_or(|valid| valid.get(i).copied().unwrap_or(false))
    }

    /// Checks the validity length and the string offsets, so that no later read is out of bounds.
    pub(crate) fn check(&self, what: &'static str) -> Result<()> {
        if let Some(valid) = self.validity() {
            if valid.len() != self.len() {
                return Err(RfmError::Length {
                    what: "validity mask",
                    got: valid.len(),
                    expected: self.len(),
                });
            }
        }
        let Ids::Utf8 { offsets, data, .. } = self else {
            return Ok(());
        };
        let bad = match offsets {
            Offsets::Small(o) => crate::encode::bad_offsets(o, data.len()),
            Offsets::Large(o) => crate::encode::bad_offsets(o, data.len()),
        };
        if bad {
            return Err(RfmError::parameter(
                what,
                "string offsets must be non-decreasing and within the data buffer",
            ));
        }
        Ok(())
    }
}

/// The distinct ids seen, numbered `0..len()` in order of first appearance.
#[derive(Debug, Clone, Default)]
pub enum Keys {
    /// No id yet: the first batch decides the kind.
    #[default]
    Empty,
    Int(IntKeys),
    Utf8(Utf8Keys),
}

impl Keys {
    pub fn len(&self) -> usize {
        match self {
            Keys::Empty => 0,
            Keys::Int(keys) => keys.keys.len(),
            Keys::Utf8(keys) => keys.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Prepares for a batch of `ids`: fixes the kind on the first batch, refuses a batch of
    /// the other kind, and sizes the integer lookup table for the batch's range.
    pub(crate) fn prepare(&mut self, ids: &Ids<'_>, what: &'static str) -> Result<()> {
        match (&mut *self, ids) {
            (Keys::Empty, Ids::Int { .. }) => *self = Keys::Int(IntKeys::default()),
            (Keys::Empty, Ids::Utf8 { .. }) => *self = Keys::Utf8(Utf8Keys::default()),
            (Keys::Int(_), Ids::Int { .. }) | (Keys::Utf8(_), Ids::Utf8 { .. }) => {}
            (Keys::Int(_), Ids::Utf8 { .. }) | (Keys::Utf8(_), Ids::Int { .. }) => {
                return Err(RfmError::parameter(
                    what,
                    "the ids of this batch are of another kind (text or integers) than those of the \
                     batches before; make the column one type in every batch",
                ))
            }
        }
        if let (Keys::Int(keys), Ids::Int { values, validity }) = (self, ids) {
            keys.prepare(values, *validity);
        }
        Ok(())
    }

    /// The kind of the keys, for serialisation and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Keys::Empty => "empty",
            Keys::Int(_) => "int",
            Keys::Utf8(_) => "utf8",
        }
    }

    /// Whether the keys of `other` can join these (same kind, or either empty).
    pub(crate) fn compatible(&self, other: &Keys) -> bool {
        matches!(
            (self, other),
            (Keys::Empty, _)
                | (_, Keys::Empty)
                | (Keys::Int(_), Keys::Int(_))
                | (Keys::Utf8(_), Keys::Utf8(_))
        )
    }

    /// Adds the keys of `other` (in its order), returning the index in `self` of each.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when the kinds differ.
    pub(crate) fn absorb(&mut self, other: &Keys, what: &'static str) -> Result<Vec<u32>> {
        match (&mut *self, other) {
            (_, Keys::Empty) => return Ok(Vec::new()),
            (Keys::Empty, Keys::Int(_)) => *self = Keys::Int(IntKeys::default()),
            (Keys::Empty, Keys::Utf8(_)) => *self = Keys::Utf8(Utf8Keys::default()),
            _ => {}
        }
        match (self, other) {
            (Keys::Int(mine), Keys::Int(theirs)) => {
                mine.prepare(&theirs.keys, None);
                Ok(theirs.keys.iter().map(|&id| mine.index(id)).collect())
            }
            (Keys::Utf8(mine), Keys::Utf8(theirs)) => Ok((0..theirs.len())
                .map(|k| {
                    let text = theirs.text(k);
                    mine.index(mine.hasher.hash_one(text), text)
                })
                .collect()),
            _ => Err(RfmError::parameter(
                what,
                "the states hold ids of different kinds (text and integers) and cannot be merged",
            )),
        }
    }
}

/// Integer ids: a table indexed by `id - lo` while the ids fill a dense range (the usual
/// customer numbers), a hash map once they do not.
#[derive(Debug, Clone, Default)]
pub struct IntKeys {
    pub keys: Vec<i64>,
    index: IntIndex,
}

#[derive(Debug, Clone)]
enum IntIndex {
    Dense { lo: i64, table: Vec<u32> },
    Sparse(HashMap<i64, u32>),
}

impl Default for IntIndex {
    fn default() -> Self {
        IntIndex::Dense {
            lo: 0,
            table: Vec::new(),
        }
    }
}

impl IntKeys {
    /// Makes the dense table cover the valid ids of `values` (rebased or grown), or
    /// switches to the hash map when the range would hold more than about four slots
    /// per id.
    fn prepare(&mut self, values: &[i64], validity: Option<&[bool]>) {
        let IntIndex::Dense { lo, table } = &mut self.index else {
            return;
        };
        let Some((batch_lo, batch_span)) = crate::encode::id_bounds(values, validity) else {
            return;
        };
        let batch_hi = batch_lo as i128 + batch_span as i128 - 1;
        let (new_lo, new_hi) = if table.is_empty() {
            (batch_lo as i128, batch_hi)
        } else {
            let hi = *lo as i128 + table.len() as i128 - 1;
            ((*lo as i128).min(batch_lo as i128), hi.max(batch_hi))
        };
        let span = (new_hi - new_lo + 1) as u128;
        let room = ((self.keys.len() + values.len()) as u128 * 4).max(1 << 16);
        if span <= room && span < u128::from(EMPTY_SLOT) {
            if table.is_empty() || new_lo != *lo as i128 || span as usize != table.len() {
                let mut grown = vec![EMPTY_SLOT; span as usize];
                for (k, &id) in self.keys.iter().enumerate() {
                    if let Some(slot) = grown.get_mut(slot_of(id, new_lo as i64)) {
                        *slot = k as u32;
                    }
                }
                *lo = new_lo as i64;
                *table = grown;
            }
        } else {
            let map: HashMap<i64, u32> = self
                .keys
                .iter()
                .enumerate()
                .map(|(k, &id)| (id, k as u32))
                .collect();
            self.index = IntIndex::Sparse(map);
        }
    }

    /// The index of `id`, added when new. The table covers every id of a prepared batch.
    #[inline(always)]
    pub(crate) fn index(&mut self, id: i64) -> u32 {
        let next = self.keys.len() as u32;
        match &mut self.index {
            IntIndex::Dense { lo, table } => {
                let Some(slot) = table.get_mut(slot_of(id, *lo)) else {
                    // Not reachable after `prepare`; the map keeps it correct regardless.
                    let mut map: HashMap<i64, u32> = self
                        .keys
                        .iter()
                        .enumerate()
                        .map(|(k, &id)| (id, k as u32))
                        .collect();
                    map.insert(id, next);
                    self.keys.push(id);
                    self.index = IntIndex::Sparse(map);
                    return next;
                };
                if *slot == EMPTY_SLOT {
                    *slot = next;
                    self.keys.push(id);
                }
                *slot
            }
            IntIndex::Sparse(map) => {
                let index = *map.entry(id).or_insert(next);
                if index == next {
                    self.keys.push(id);
                }
                index
            }
        }
    }

    /// Hints the cache about the slot of `id` (dense table only).
    #[inline]
    pub(crate) fn prefetch(&self, id: i64) {
        if let IntIndex::Dense { lo, table } = &self.index {
            let slot = slot_of(id, *lo);
            if slot < table.len() {
                prefetch(table, slot);
            }
        }
    }
}

/// Text ids, their bytes kept in one buffer (Arrow layout) and looked up through an
/// open-addressing table that keeps each string's hash and first bytes.
#[derive(Clone)]
pub struct Utf8Keys {
    pub offsets: Vec<i64>,
    pub data: Vec<u8>,
    table: StringTable,
    pub(crate) hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for Utf8Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Utf8Keys").field("len", &self.len()).finish()
    }
}

impl Default for Utf8Keys {
    fn default() -> Self {
        Utf8Keys {
            offsets: vec![0],
            data: Vec::new(),
            table: StringTable::with_capacity(1 << 10),
            // Only the layout of the table depends on the hasher's seed, never a result.
            hasher: DefaultHashBuilder::default(),
        }
    }
}

impl Utf8Keys {
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of key `k`.
    #[inline]
    pub fn text(&self, k: usize) -> &[u8] {
        let start = self.offsets.get(k).map_or(0, |&o| o as usize);
        let end = self.offsets.get(k + 1).map_or(start, |&o| o as usize);
        self.data.get(start..end).unwrap_or_default()
    }

    /// The index of `bytes` (whose hash is `hash`), added when new.
    #[inline]
    pub(crate) fn index(&mut self, hash: u64, bytes: &[u8]) -> u32 {
        let next = self.len() as u32;
        let offsets = &self.offsets;
        let data = &self.data;
        let index = self.table.find_or_insert(hash, bytes, next, |k| {
            let start = offsets.get(k as usize).map_or(0, |&o| o as usize);
            let end = offsets.get(k as usize + 1).map_or(start, |&o| o as usize);
            data.get(start..end).unwrap_or_default()
        });
        if index == next {
            self.data.extend_from_slice(bytes);
            self.offsets.push(self.data.len() as i64);
        }
        index
    }

    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        self.table.prefetch(hash);
    }
}

/// Looks up the ids of one batch row by row, hashing strings a few rows ahead so that
/// their table slots can be prefetched.
pub(crate) struct Lookup<'k, 'b> {
    keys: &'k mut Keys,
    ids: Ids<'b>,
    /// Hashes of the next `AHEAD` rows (row `i` at `i % AHEAD`).
    ahead: [u64; AHEAD],
}

/// Rows whose string hashes are computed ahead: the table slot of row `i + AHEAD` is
/// prefetched at row `i`.
const AHEAD: usize = 2 * PREFETCH_AHEAD;

impl<'k, 'b> Lookup<'k, 'b> {
    /// `keys` must have been prepared for `ids` ([`Keys::prepare`]); `start` is the first
    /// row that will be looked up.
    pub(crate) fn new(keys: &'k mut Keys, ids: Ids<'b>, start: usize) -> Self {
        let mut lookup = Lookup {
            keys,
            ids,
            ahead: [0; AHEAD],
        };
        if let (Keys::Utf8(keys), Ids::Utf8 { .. }) = (&*lookup.keys, &lookup.ids) {
            for k in 0..AHEAD {
                lookup.ahead[(start + k) % AHEAD] = keys.hasher.hash_one(text_of(&lookup.ids, start + k));
            }
        }
        lookup
    }

    /// The index of row `i`'s id (rows in increasing order), `None` for a null; `end` bounds
    /// the rows prefetched.
    #[inline(always)]
    pub(crate) fn index(&mut self, i: usize, end: usize) -> Option<u32> {
        match (&mut *self.keys, &self.ids) {
            (Keys::Int(keys), Ids::Int { values, .. }) => {
                if let Some(&ahead) = values.get(i + 4 * PREFETCH_AHEAD) {
                    if i + 4 * PREFETCH_AHEAD < end {
                        keys.prefetch(ahead);
                    }
                }
                let id = *values.get(i)?;
                self.ids.is_valid(i).then(|| keys.index(id))
            }
            (Keys::Utf8(keys), Ids::Utf8 { .. }) => {
                let hash = self.ahead[i % AHEAD];
                if i + AHEAD < end {
                    let next = keys.hasher.hash_one(text_of(&self.ids, i + AHEAD));
                    self.ahead[i % AHEAD] = next;
                    keys.prefetch(next);
                }
                if !self.ids.is_valid(i) {
                    return None;
                }
                Some(keys.index(hash, text_of(&self.ids, i)))
            }
            _ => None,
        }
    }

    /// The number of ids known.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// The bytes of row `i` of string ids (empty for integer ids or past the end).
#[inline]
fn text_of<'b>(ids: &Ids<'b>, i: usize) -> &'b [u8] {
    fn slice<O: crate::encode::Offset>(offsets: &[O], data: &'_ [u8], i: usize) -> (usize, usize) {
        let _ = data;
        let start = offsets.get(i).map_or(0, |&o| o.to_i64() as usize);
        let end = offsets.get(i + 1).map_or(start, |&o| o.to_i64() as usize);
        (start, end)
    }
    let (data, (start, end)) = match *ids {
        Ids::Utf8 {
            offsets: Offsets::Small(offsets),
            data,
            ..
        } => (data, slice(offsets, data, i)),
        Ids::Utf8 {
            offsets: Offsets::Large(offsets),
            data,
            ..
        } => (data, slice(offsets, data, i)),
        Ids::Int { .. } => return &[],
    };
    data.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utf8;

    #[test]
    fn int_keys_grow_rebase_and_go_sparse() {
        let mut keys = Keys::default();
        let batches: [&[i64]; 4] = [&[5, 7, 5], &[2, 9, 7], &[1_000_000_000, 3], &[5, 1_000_000_000]];
        let mut seen = Vec::new();
        for batch in batches {
            let ids = Ids::Int {
                values: batch,
                validity: None,
            };
            keys.prepare(&ids, "customer").unwrap();
            let mut lookup = Lookup::new(&mut keys, ids, 0);
            for i in 0..batch.len() {
                seen.push(lookup.index(i, batch.len()).unwrap());
            }
        }
        assert_eq!(seen, vec![0, 1, 0, 2, 3, 1, 4, 5, 0, 4]);
        let Keys::Int(int) = &keys else { panic!() };
        assert_eq!(int.keys, vec![5, 7, 2, 9, 1_000_000_000, 3]);
    }

    #[test]
    fn utf8_keys_and_absorb() {
        let (offsets, data) = utf8(&["a", "bb", "a", "a-long-customer-id-0001", "", "bb"]);
        let ids = Ids::Utf8 {
            offsets: Offsets::Large(&offsets),
            data: &data,
            validity: Some(&[true, true, true, true, true, false]),
        };
        ids.check("customer").unwrap();
        let mut keys = Keys::default();
        keys.prepare(&ids, "customer").unwrap();
        let mut lookup = Lookup::new(&mut keys, ids, 0);
        let got: Vec<Option<u32>> = (0..6).map(|i| lookup.index(i, 6)).collect();
        assert_eq!(got, vec![Some(0), Some(1), Some(0), Some(2), Some(3), None]);
        let (offsets2, data2) = utf8(&["zz", "a-long-customer-id-0001", "bb"]);
        let mut other = Keys::default();
        let ids2 = Ids::Utf8 {
            offsets: Offsets::Large(&offsets2),
            data: &data2,
            validity: None,
        };
        other.prepare(&ids2, "customer").unwrap();
        let mut lookup = Lookup::new(&mut other, ids2, 0);
        for i in 0..3 {
            lookup.index(i, 3);
        }
        assert_eq!(keys.absorb(&other, "customer").unwrap(), vec![4, 2, 1]);
        let Keys::Utf8(text) = &keys else { panic!() };
        assert_eq!(text.text(4), b"zz");
        let ints = Ids::Int {
            values: &[1],
            validity: None,
        };
        assert!(keys.prepare(&ints, "customer").is_err());
    }

    #[test]
    fn bad_offsets_are_an_error() {
        let ids = Ids::Utf8 {
            offsets: Offsets::Small(&[0, 3, 2]),
            data: b"abc",
            validity: None,
        };
        assert!(ids.check("customer").is_err());
        let short = Ids::Utf8 {
            offsets: Offsets::Small(&[0, 9]),
            data: b"abc",
            validity: None,
        };
        assert!(short.check("customer").is_err());
    }
}
