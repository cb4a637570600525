//! Rules for Alembic migrations (Python modules that are migrations:
//! `schema::from_alembic::is_migration`), and what they share.

pub mod alembic_broken_chain;
pub mod missing_downgrade;

use crate::rules::Context;

/// Whether the audited module is an Alembic migration, worked out once per audit.
pub fn is_migration(context: &Context) -> bool {
    struct IsMigration(bool);
    context
        .memo(|| {
            IsMigration(crate::schema::from_alembic::is_migration(
                context.path,
                context.source,
            ))
        })
        .0
}

/// The text test of the Alembic rules: the module may be a migration (a module in a
/// `versions/` folder names its revision too, or there is nothing to judge).
pub fn may_be_migration(text: &str) -> bool {
    crate::schema::from_alembic::may_be_migration(text.as_bytes())
}
