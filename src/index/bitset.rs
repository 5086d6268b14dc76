//! A fixed-size set of provider indexes, one bit per provider.

/// A set of provider indexes (`u32`, positions in
/// [`Directory::providers`](super::Directory::providers)), stored as one bit
/// per provider in 64-bit words: 125 KB per million providers.
///
/// Every bitset a [`Directory`](super::Directory) hands out has the
/// directory's length, so they combine directly with [`Bitset::and`] and
/// [`Bitset::or`].
///
/// ```
/// use refmatch::index::Bitset;
/// let mut spanish = Bitset::new(100);
/// let mut open = Bitset::new(100);
/// spanish.insert(3);
/// spanish.insert(70);
/// open.insert(70);
/// let both = spanish.and(&open);
/// assert_eq!(both.iter().collect::<Vec<_>>(), [70]);
/// assert!(both.contains(70) && !both.contains(3));
/// assert_eq!(spanish.or(&open).count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitset {
    words: Vec<u64>,
    len: u32,
}

impl Bitset {
    /// An empty set over the indexes `0..len`.
    pub fn new(len: u32) -> Self {
        Self {
            words: vec![0; (len as usize).div_ceil(64)],
            len,
        }
    }

    /// The set of every index in `0..len`.
    pub fn full(len: u32) -> Self {
        let mut set = Self {
            words: vec![u64::MAX; (len as usize).div_ceil(64)],
            len,
        };
        set.clear_tail();
        set
    }

    /// The size of the universe (`len` given at construction), not the
    /// number of members: see [`Bitset::count`].
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True when the set has no members.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Adds `index`; indexes at or beyond [`Bitset::len`] are ignored.
    pub fn insert(&mut self, index: u32) {
        if index < self.len {
            self.words[(index / 64) as usize] |= 1 << (index % 64);
        }
    }

    /// True when `index` is a member (false beyond [`Bitset::len`]).
    pub fn contains(&self, index: u32) -> bool {
        self.words
            .get((index / 64) as usize)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    /// Number of members.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The intersection of two sets. The result has `self`'s length; words
    /// `other` lacks count as empty.
    pub fn and(&self, other: &Bitset) -> Bitset {
        let words = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| w & other.words.get(i).copied().unwrap_or(0))
            .collect();
        Bitset {
            words,
            len: self.len,
        }
    }

    /// The union of two sets. The result has `self`'s length; members of
    /// `other` beyond it are dropped.
    pub fn or(&self, other: &Bitset) -> Bitset {
        let mut set = Bitset {
            words: self
                .words
                .iter()
                .enumerate()
                .map(|(i, w)| w | other.words.get(i).copied().unwrap_or(0))
                .collect(),
            len: self.len,
        };
        set.clear_tail();
        set
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let base = i as u32 * 64;
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                Some(base + bit)
            })
        })
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    /// Clears the bits of the last word beyond `len`.
    fn clear_tail(&mut self) {
        let used = self.len % 64;
        if used != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << used) - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn full_set_counts_exactly_len() {
        for len in [0, 1, 63, 64, 65, 200] {
            let full = Bitset::full(len);
            assert_eq!(full.count(), len as usize);
            assert_eq!(full.iter().count(), len as usize);
            assert!(!full.contains(len));
        }
        assert!(Bitset::new(10).is_empty());
    }

    #[test]
    fn out_of_range_inserts_are_ignored() {
        let mut set = Bitset::new(10);
        set.insert(10);
        set.insert(1_000);
        assert!(set.is_empty());
        assert!(!set.contains(1_000));
    }

    proptest! {
        #[test]
        fn set_operations_match_btreeset(a in proptest::collection::vec(0u32..300, 0..80), b in proptest::collection::vec(0u32..300, 0..80)) {
            let (mut x, mut y) = (Bitset::new(300), Bitset::new(300));
            a.iter().for_each(|&i| x.insert(i));
            b.iter().for_each(|&i| y.insert(i));
            let sa: BTreeSet<u32> = a.iter().copied().collect();
            let sb: BTreeSet<u32> = b.iter().copied().collect();
            prop_assert_eq!(x.iter().collect::<Vec<_>>(), sa.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(x.and(&y).iter().collect::<Vec<_>>(), sa.intersection(&sb).copied().collect::<Vec<_>>());
            prop_assert_eq!(x.or(&y).iter().collect::<Vec<_>>(), sa.union(&sb).copied().collect::<Vec<_>>());
            prop_assert_eq!(x.count(), sa.len());
        }
    }
}
