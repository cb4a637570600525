//! What a rule reads of a module outside the definition it reports in: the module's
//! *projections*. Each rule declares them (`Rule::reads`); the editor's incremental
//! audit keeps a definition's findings per rule under a hash of the projections that
//! rule reads, so an edit at module level re-runs only the rules that read what it
//! changed (a new `include_router` re-runs `missing-auth-dependency` alone, a new
//! constant re-runs nothing).
//!
//! A rule that reads a projection it does not declare keeps stale findings after an
//! edit there; `tests/incremental.rs` makes such edits to every rule's fixture and
//! compares the result with a full audit.

/// A set of projections (a bitset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Projections(u16);

impl Projections {
    /// Nothing outside the definition (text rules, and rules that judge a call by its
    /// own text).
    pub const NONE: Projections = Projections(0);
    /// The module's imports (`local name -> qualified name`), wherever they stand.
    pub const IMPORTS: Projections = Projections(1);
    /// The module header where fixes insert an import (`import os`, `import logging`).
    pub const HEADER: Projections = Projections(1 << 1);
    /// Names bound at module level to clients, engines, session factories, sessions,
    /// loggers, pub/sub objects, password hashers, other databases' connections and
    /// paths, with their kinds; and dependency aliases.
    pub const CLIENTS: Projections = Projections(1 << 2);
    /// Names bound at module level to mutable containers.
    pub const MUTABLE_GLOBALS: Projections = Projections(1 << 3);
    /// Apps and routers: their constructors (prefix, dependencies) and the module-level
    /// calls that configure them (`include_router`).
    pub const ROUTERS: Projections = Projections(1 << 4);
    /// Indexes and constraints declared at module level apart from their model.
    pub const INDEXES: Projections = Projections(1 << 5);
    /// Which of the module's definitions authenticate, and its dependency aliases
    /// (`CurrentUser = Annotated[User, Depends(get_current_user)]`).
    pub const AUTH_CALLABLES: Projections = Projections(1 << 6);
    /// What other modules of the workspace told the last audits (which dependencies
    /// authenticate, which routers are included with one, which imports close a cycle):
    /// it changes when one of those answers does.
    pub const WORKSPACE: Projections = Projections(1 << 7);
    /// An Alembic migration's `upgrade()` and `downgrade()`: what one says of the
    /// other (`missing-downgrade` reports in `downgrade()` on what `upgrade()` does).
    pub const MIGRATION: Projections = Projections(1 << 8);

    /// Every projection, in the order their hashes are kept.
    pub const EACH: [Projections; 9] = [
        Projections::IMPORTS,
        Projections::HEADER,
        Projections::CLIENTS,
        Projections::MUTABLE_GLOBALS,
        Projections::ROUTERS,
        Projections::INDEXES,
        Projections::AUTH_CALLABLES,
        Projections::WORKSPACE,
        Projections::MIGRATION,
    ];

    /// Both sets (for `const` declarations: `IMPORTS.and(CLIENTS)`).
    pub const fn and(self, other: Projections) -> Projections {
        Projections(self.0 | other.0)
    }

    pub const fn contains(self, other: Projections) -> bool {
        self.0 & other.0 == other.0
    }

    /// Its place in `EACH` (its bit), for a single projection.
    pub const fn index(self) -> usize {
        self.0.trailing_zeros() as usize
    }

    /// The single projections in this set, in `EACH` order.
    pub fn each(self) -> impl Iterator<Item = Projections> {
        Projections::EACH
            .into_iter()
            .filter(move |each| self.contains(*each))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_they_were_made_of() {
        let set = Projections::IMPORTS.and(Projections::ROUTERS);
        assert!(set.contains(Projections::IMPORTS));
        assert!(set.contains(Projections::ROUTERS));
        assert!(!set.contains(Projections::CLIENTS));
        assert_eq!(
            set.each().collect::<Vec<_>>(),
            [Projections::IMPORTS, Projections::ROUTERS]
        );
        assert_eq!(Projections::NONE.each().count(), 0);
        let bits: u16 = Projections::EACH.iter().fold(0, |all, each| {
            assert_eq!(all & each.0, 0, "{each:?} shares a bit");
            all | each.0
        });
        assert_eq!(bits.count_ones() as usize, Projections::EACH.len());
        for (index, each) in Projections::EACH.iter().enumerate() {
            assert_eq!(each.index(), index, "{each:?}");
        }
    }
}
