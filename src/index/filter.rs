//! Attribute filters for the nearest search: what a query requires
//! ([`AttributeFilter`]), the same compiled against one directory
//! ([`CompiledFilter`]), and the attribute bits summarising a provider or a
//! tree node ([`AttributeBits`]).
//!
//! A provider's attribute mask is a `u128`: one bit per [`Kind`], one for
//! 24-hour availability, one for public visibility, and the other 118 for
//! issue, language, population and country codes. The most frequent codes get a bit of their own; when a
//! directory has more codes than bits, the rarest share a small pool of bits.
//! A node's mask is the OR of its providers' masks, so "no bit in common
//! with a requirement" proves that no provider below it can pass, while a
//! bit in common proves nothing: every candidate is still checked exactly
//! against the [`Bitset`]s.

use super::bitset::Bitset;
use crate::model::{Availability, Kind, Need, Provider, Vocabulary};
use rustc_hash::FxHashMap;

/// Attribute summary bits of a provider or of a group of providers.
pub(crate) type Mask = u128;

/// Bit of 24-hour availability; bits `0..8` are the kinds, in
/// [`Kind::ALL`] order.
const OPEN_24H_BIT: u32 = Kind::ALL.len() as u32;
/// Bit of public visibility.
const PUBLIC_BIT: u32 = OPEN_24H_BIT + 1;
/// Bit of "not law enforcement": neither of that kind nor flagged as
/// law enforcement (a police-led task force is flagged).
const CIVILIAN_BIT: u32 = PUBLIC_BIT + 1;
/// First bit given to issue, language and population codes.
const FIRST_CODE_BIT: u32 = CIVILIAN_BIT + 1;
/// Bits available to codes.
const CODE_BITS: u32 = Mask::BITS - FIRST_CODE_BIT;
/// When codes outnumber [`CODE_BITS`], the rarest share this many bits.
const SHARED_BITS: u32 = 32;

/// Attribute requirements of a query. Each non-empty code list is an OR over
/// its codes (a provider passes with any one of them); the requirements are
/// ANDed. The default requires nothing.
///
/// Codes are matched exactly: the caller expands parent issues first (see
/// [`Vocabulary::expand_issue`](crate::model::Vocabulary::expand_issue)).
///
/// ```
/// use refmatch::index::AttributeFilter;
/// use refmatch::model::Kind;
/// // Speaks Hindi or Punjabi, AND is a service provider or a hotline,
/// // AND is reachable around the clock.
/// let filter = AttributeFilter {
///     languages_any: vec!["hi".into(), "pa".into()],
///     kinds: Some(vec![Kind::ServiceProvider, Kind::Hotline]),
///     open_24h: true,
///     ..AttributeFilter::default()
/// };
/// assert_ne!(filter, AttributeFilter::default());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeFilter {
    /// Exact issue codes, any of which will do; empty: no requirement.
    pub issues_any: Vec<String>,
    /// ISO 639-1 language codes, any of which will do; empty: no requirement.
    pub languages_any: Vec<String>,
    /// Population codes, any of which will do; empty: no requirement.
    pub populations_any: Vec<String>,
    /// Allowed kinds; `None` allows any kind, `Some(vec![])` none.
    pub kinds: Option<Vec<Kind>>,
    /// Require [`Availability::Open24h`].
    pub open_24h: bool,
    /// ISO 3166-1 alpha-2 countries of the provider's address, any of
    /// which will do; `""` stands for providers with no known country.
    /// Empty: no requirement.
    pub countries_any: Vec<String>,
    /// Only records the public may see.
    pub public_only: bool,
    /// No law enforcement: neither [`Kind::LawEnforcement`] nor a provider
    /// of another kind flagged as law enforcement (a police-led task
    /// force). What `exclude=law_enforcement` means everywhere.
    pub civilian_only: bool,
}

impl AttributeFilter {
    /// The never-relaxed part of a need: its issues (`expanded_issues`,
    /// from [`Need::expanded_issues`]), the kinds `kind` and `exclude`
    /// allow, and, when `exclude` names `law_enforcement`, no provider
    /// flagged as law enforcement ([`Need::admits`] as bits).
    pub fn required_by(need: &Need, expanded_issues: &[&str]) -> AttributeFilter {
        let kinds = need.allowed_kinds();
        AttributeFilter {
            issues_any: expanded_issues.iter().map(|c| (*c).to_owned()).collect(),
            kinds: (kinds.len() < Kind::ALL.len()).then_some(kinds),
            civilian_only: need.excludes_law_enforcement(),
            ..AttributeFilter::default()
        }
    }

    /// Every requirement of a need: [`AttributeFilter::required_by`] plus
    /// its languages, populations and 24-hour capacity.
    pub fn of_need(need: &Need, vocabulary: &Vocabulary) -> AttributeFilter {
        AttributeFilter {
            languages_any: need.languages.clone(),
            populations_any: need.populations.clone(),
            open_24h: need.open_24h,
            ..AttributeFilter::required_by(need, &need.expanded_issues(vocabulary))
        }
    }

    /// The same filter, leaving out providers of `kind` too.
    pub fn without_kind(mut self, kind: Kind) -> AttributeFilter {
        let kinds = self
            .kinds
            .take()
            .unwrap_or_else(|| Kind::ALL.to_vec())
            .into_iter()
            .filter(|k| *k != kind)
            .collect();
        self.kinds = Some(kinds);
        self
    }
}

/// An [`AttributeFilter`] compiled against one
/// [`Directory`](super::Directory) by
/// [`Directory::compile`](super::Directory::compile): per requirement, the
/// directory's bitsets of the codes it accepts and their summary bits.
/// Borrows the directory; compiling is a few hash lookups.
#[derive(Clone)]
pub struct CompiledFilter<'a> {
    /// Number of providers in the directory.
    len: u32,
    /// One entry per requirement: pass with a member of any of the sets.
    groups: Vec<Vec<&'a Bitset>>,
    /// The summary bits of each requirement, same order as `groups`.
    masks: Vec<Mask>,
}

impl std::fmt::Debug for CompiledFilter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFilter")
            .field("len", &self.len)
            .field(
                "sets_per_requirement",
                &self.groups.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .field("masks", &self.masks)
            .finish()
    }
}

impl<'a> CompiledFilter<'a> {
    /// A filter that every provider of a directory of `len` passes.
    pub(crate) fn unrestricted(len: u32) -> Self {
        Self {
            len,
            groups: Vec::new(),
            masks: Vec::new(),
        }
    }

    /// Adds a requirement: membership of any of `sets`, each with its
    /// summary bits. No sets (only unknown codes): nothing passes.
    pub(crate) fn require_any(&mut self, sets: impl IntoIterator<Item = (&'a Bitset, Mask)>) {
        let mut mask = 0;
        let mut group = Vec::new();
        for (set, bits) in sets {
            mask |= bits;
            group.push(set);
        }
        self.groups.push(group);
        self.masks.push(mask);
    }

    /// True when the provider at `index` meets every requirement: exact,
    /// from the directory's bitsets. False for an index beyond the
    /// directory.
    pub fn accepts(&self, index: u32) -> bool {
        index < self.len
            && self
                .groups
                .iter()
                .all(|sets| sets.iter().any(|set| set.contains(index)))
    }

    /// True when the filter requires nothing, so every provider passes.
    pub fn is_unrestricted(&self) -> bool {
        self.groups.is_empty()
    }

    /// True when no provider can pass: some requirement names only codes the
    /// directory does not have.
    pub(crate) fn rejects_all(&self) -> bool {
        self.masks.contains(&0)
    }

    /// The summary test: false proves that no provider whose attributes
    /// are all in `mask` passes. True proves nothing.
    #[inline]
    pub(crate) fn may_pass(&self, mask: Mask) -> bool {
        self.masks.iter().all(|m| mask & m != 0)
    }
}

/// True when `provider` is not law enforcement: neither of that kind nor
/// flagged ([`AttributeFilter::civilian_only`]).
pub(crate) fn is_civilian(provider: &Provider) -> bool {
    provider.kind != Kind::LawEnforcement && !provider.law_enforcement
}

/// The country code a provider is filed under for
/// [`AttributeFilter::countries_any`]: its address country, or `""`.
pub(crate) fn provider_country(provider: &Provider) -> &str {
    provider
        .address
        .as_ref()
        .and_then(|a| a.country.as_deref())
        .unwrap_or("")
}

/// Which summary bit each attribute has in one directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttributeBits {
    issues: FxHashMap<String, u32>,
    languages: FxHashMap<String, u32>,
    populations: FxHashMap<String, u32>,
    countries: FxHashMap<String, u32>,
}

impl AttributeBits {
    /// Assigns bits to the codes of a directory, given each code's providers.
    /// The most frequent codes get a bit of their own; if there are more
    /// codes than bits, the rarest share [`SHARED_BITS`] bits round-robin
    /// (sharing only makes the summary test pass more often, never less).
    /// Ties are broken by code, so the assignment is deterministic.
    pub(crate) fn assign(
        issues: &FxHashMap<String, Bitset>,
        languages: &FxHashMap<String, Bitset>,
        populations: &FxHashMap<String, Bitset>,
        countries: &FxHashMap<String, Bitset>,
    ) -> Self {
        let mut codes: Vec<(usize, u8, &str)> = [issues, languages, populations, countries]
            .into_iter()
            .zip(0u8..)
            .flat_map(|(map, table)| map.iter().map(move |(c, s)| (s.count(), table, c.as_str())))
            .collect();
        codes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
        let own = if codes.len() <= CODE_BITS as usize {
            CODE_BITS
        } else {
            CODE_BITS - SHARED_BITS
        };
        let mut bits = Self::default();
        for (rank, (_, table, code)) in (0u32..).zip(codes) {
            let bit = if rank < own {
                FIRST_CODE_BIT + rank
            } else {
                FIRST_CODE_BIT + own + (rank - own) % SHARED_BITS
            };
            let map = match table {
                0 => &mut bits.issues,
                1 => &mut bits.languages,
                2 => &mut bits.populations,
                _ => &mut bits.countries,
            };
            map.insert(code.to_owned(), bit);
        }
        bits
    }

    /// The bit of an issue code (0 for a code the directory lacks).
    pub(crate) fn issue(&self, code: &str) -> Mask {
        Self::bit(self.issues.get(code))
    }

    /// The bit of a language code (0 for a code the directory lacks).
    pub(crate) fn language(&self, code: &str) -> Mask {
        Self::bit(self.languages.get(code))
    }

    /// The bit of a population code (0 for a code the directory lacks).
    pub(crate) fn population(&self, code: &str) -> Mask {
        Self::bit(self.populations.get(code))
    }

    /// The bit of a country code, `""` for none (0 for a code the
    /// directory lacks).
    pub(crate) fn country(&self, code: &str) -> Mask {
        Self::bit(self.countries.get(code))
    }

    /// The bit of a kind.
    pub(crate) fn kind(kind: Kind) -> Mask {
        Kind::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| 1 << i)
    }

    /// The bit of 24-hour availability.
    pub(crate) fn open_24h() -> Mask {
        1 << OPEN_24H_BIT
    }

    /// The bit of public visibility.
    pub(crate) fn public() -> Mask {
        1 << PUBLIC_BIT
    }

    /// The bit of "not law enforcement" ([`AttributeFilter::civilian_only`]).
    pub(crate) fn civilian() -> Mask {
        1 << CIVILIAN_BIT
    }

    /// The summary of one provider: the OR of all its attributes' bits.
    pub(crate) fn of(&self, provider: &Provider) -> Mask {
        let mut mask = Self::kind(provider.kind);
        if matches!(provider.availability, Availability::Open24h) {
            mask |= Self::open_24h();
        }
        if provider.is_public() {
            mask |= Self::public();
        }
        if is_civilian(provider) {
            mask |= Self::civilian();
        }
        mask |= provider
            .issues
            .iter()
            .fold(0, |m, code| m | self.issue(code));
        mask |= provider
            .languages
            .iter()
            .fold(0, |m, code| m | self.language(code));
        mask |= self.country(provider_country(provider));
        mask | provider
            .populations
            .iter()
            .fold(0, |m, code| m | self.population(code))
    }

    fn bit(bit: Option<&u32>) -> Mask {
        bit.map_or(0, |&b| 1 << b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(codes: &[(&str, u32)]) -> FxHashMap<String, Bitset> {
        codes
            .iter()
            .map(|&(code, count)| {
                let mut set = Bitset::new(1_000);
                (0..count).for_each(|i| set.insert(i));
                (code.to_owned(), set)
            })
            .collect()
    }

    #[test]
    fn frequent_codes_get_their_own_bits_and_rare_ones_share() {
        let languages: Vec<(String, u32)> = (0..200).map(|i| (format!("l{i:03}"), 1 + i)).collect();
        let languages: Vec<(&str, u32)> = languages.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let bits = AttributeBits::assign(
            &sets(&[("sex_trafficking", 900)]),
            &sets(&languages),
            &FxHashMap::default(),
            &FxHashMap::default(),
        );
        // The most frequent code first, right after the kind and 24 h bits.
        assert_eq!(bits.issue("sex_trafficking"), 1 << FIRST_CODE_BIT);
        assert_eq!(bits.language("l199"), 1 << (FIRST_CODE_BIT + 1));
        let all: Vec<Mask> = (0..200)
            .map(|i| bits.language(&format!("l{i:03}")))
            .collect();
        assert!(all
            .iter()
            .all(|m| m.count_ones() == 1 && *m >= 1 << FIRST_CODE_BIT));
        let distinct: std::collections::BTreeSet<Mask> = all.iter().copied().collect();
        assert_eq!(
            distinct.len() + 1,
            CODE_BITS as usize,
            "every code bit is used"
        );
        // The rarest share: l000 (rank 200) and l032 (rank 168) are 32 ranks apart.
        assert_eq!(bits.language("l000"), bits.language("l032"));
        assert_eq!(bits.language("zz"), 0);
        assert_eq!(bits.issue("l000"), 0, "tables are separate");
    }

    #[test]
    fn kind_and_open_24h_bits_are_distinct_and_below_the_codes() {
        let mut seen: Mask = 0;
        for kind in Kind::ALL {
            let bit = AttributeBits::kind(kind);
            assert_eq!(bit.count_ones(), 1);
            assert_eq!(seen & bit, 0);
            seen |= bit;
        }
        assert_eq!(seen & AttributeBits::open_24h(), 0);
        assert!(AttributeBits::open_24h() < 1 << FIRST_CODE_BIT);
    }
}
