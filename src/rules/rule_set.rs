//! A set of rules as bits: a rule's bit is its `RuleId` (its place in the registry). The audit passes
//! sets of rules around (triggered, enabled, those an item's words trigger) and the
//! editor keeps one per item, so they are a few words, not a `Vec<bool>` kept aligned
//! with the registry by hand.

use super::{Rule, RuleId};

/// Words of the set: room for 512 rules (a test holds the registry to it).
const WORDS: usize = 8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet {
    words: [u64; WORDS],
}

impl RuleSet {
    pub const CAPACITY: usize = WORDS * 64;

    pub const EMPTY: RuleSet = RuleSet { words: [0; WORDS] };

    /// The rules for which `keep` says yes.
    pub fn from_fn(mut keep: impl FnMut(&'static Rule) -> bool) -> RuleSet {
        let mut set = RuleSet::EMPTY;
        for &id in RuleId::ALL {
            if keep(id.rule()) {
                set.insert(id);
            }
        }
        set
    }

    pub fn insert(&mut self, rule: RuleId) {
        let index = rule.index();
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    pub fn remove(&mut self, rule: RuleId) {
        let index = rule.index();
        if let Some(word) = self.words.get_mut(index / 64) {
            *word &= !(1 << (index % 64));
        }
    }

    pub fn contains(&self, rule: RuleId) -> bool {
        let index = rule.index();
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// How many rules it holds.
    pub fn len(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }

    pub fn union(self, other: RuleSet) -> RuleSet {
        let mut words = self.words;
        for (word, theirs) in words.iter_mut().zip(other.words) {
            *word |= theirs;
        }
        RuleSet { words }
    }

    pub fn intersection(self, other: RuleSet) -> RuleSet {
        let mut words = self.words;
        for (word, theirs) in words.iter_mut().zip(other.words) {
            *word &= theirs;
        }
        RuleSet { words }
    }

    /// The rules of this set that are not in `other`.
    pub fn difference(self, other: RuleSet) -> RuleSet {
        let mut words = self.words;
        for (word, theirs) in words.iter_mut().zip(other.words) {
            *word &= !theirs;
        }
        RuleSet { words }
    }

    /// The rules of the set for which `keep` says yes.
    pub fn retain(self, mut keep: impl FnMut(RuleId, &'static Rule) -> bool) -> RuleSet {
        let mut kept = RuleSet::EMPTY;
        for (id, rule) in self.rules() {
            if keep(id, rule) {
                kept.insert(id);
            }
        }
        kept
    }

    /// The rules in the set, in registry order.
    pub fn rules(self) -> impl Iterator<Item = (RuleId, &'static Rule)> {
        RuleId::ALL
            .iter()
            .filter(move |id| self.contains(**id))
            .map(|&id| (id, id.rule()))
    }

    /// The set's words, for hashing.
    pub fn words(&self) -> &[u64; WORDS] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ALL_RULES;

    #[test]
    fn the_registry_fits() {
        assert!(ALL_RULES.len() <= RuleSet::CAPACITY);
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        let (first, last) = (RuleId::ALL[0], RuleId::ALL[RuleId::ALL.len() - 1]);
        let mut set = RuleSet::EMPTY;
        assert!(set.is_empty());
        set.insert(first);
        set.insert(last);
        assert!(set.contains(first) && set.contains(last));
        assert!(!set.contains(RuleId::ALL[1]));
        let ids: Vec<&str> = set.rules().map(|(_, rule)| rule.id).collect();
        assert_eq!(ids, [ALL_RULES[0].id, ALL_RULES[ALL_RULES.len() - 1].id]);
        let every = RuleSet::from_fn(|_| true);
        assert_eq!(every.intersection(set), set);
        assert_eq!(RuleSet::EMPTY.union(set), set);
        assert_eq!(every.rules().count(), ALL_RULES.len());
        assert_eq!(every.retain(|id, _| id == first).rules().count(), 1);
    }
}
