//! A set of rules as bits: a rule's bit is its place in `ALL_RULES`. The audit passes
//! sets of rules around (triggered, enabled, those an item's words trigger) and the
//! editor keeps one per item, so they are a few words, not a `Vec<bool>` kept aligned
//! with the registry by hand.

use super::{ALL_RULES, Rule};

/// Words of the set: room for 512 rules (a test holds the registry to it).
const WORDS: usize = 8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet {
    words: [u64; WORDS],
}

impl RuleSet {
    pub const CAPACITY: usize = WORDS * 64;

    pub const EMPTY: RuleSet = RuleSet { words: [0; WORDS] };

    /// The rules of `ALL_RULES` for which `keep` says yes.
    pub fn from_fn(mut keep: impl FnMut(&'static Rule) -> bool) -> RuleSet {
        let mut set = RuleSet::EMPTY;
        for (index, rule) in ALL_RULES.iter().enumerate() {
            if keep(rule) {
                set.insert_index(index);
            }
        }
        set
    }

    /// Add the rule at `index` in `ALL_RULES`.
    pub fn insert_index(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    pub fn contains_index(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
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

    /// The rules of the set for which `keep` says yes.
    pub fn retain(self, mut keep: impl FnMut(&'static Rule) -> bool) -> RuleSet {
        let mut kept = RuleSet::EMPTY;
        for (index, rule) in self.rules() {
            if keep(rule) {
                kept.insert_index(index);
            }
        }
        kept
    }

    /// The rules in the set, in `ALL_RULES` order, with their index there.
    pub fn rules(self) -> impl Iterator<Item = (usize, &'static Rule)> {
        ALL_RULES
            .iter()
            .enumerate()
            .filter(move |(index, _)| self.contains_index(*index))
            .map(|(index, rule)| (index, *rule))
    }

    /// The set's words, for hashing.
    pub fn words(&self) -> &[u64; WORDS] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_fits() {
        assert!(ALL_RULES.len() <= RuleSet::CAPACITY);
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        let mut set = RuleSet::EMPTY;
        assert!(set.is_empty());
        set.insert_index(0);
        set.insert_index(ALL_RULES.len() - 1);
        assert!(set.contains_index(0) && set.contains_index(ALL_RULES.len() - 1));
        assert!(!set.contains_index(1));
        let ids: Vec<&str> = set.rules().map(|(_, rule)| rule.id).collect();
        assert_eq!(ids, [ALL_RULES[0].id, ALL_RULES[ALL_RULES.len() - 1].id]);
        let every = RuleSet::from_fn(|_| true);
        assert_eq!(every.intersection(set), set);
        assert_eq!(RuleSet::EMPTY.union(set), set);
        assert_eq!(every.rules().count(), ALL_RULES.len());
        assert_eq!(
            every
                .retain(|rule| rule.id == ALL_RULES[0].id)
                .rules()
                .count(),
            1
        );
    }
}
