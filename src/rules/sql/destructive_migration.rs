//! ## What it does
//! Finds destructive changes in SQL migrations (files in a `migrations/`, `migrate/`
//! or `versions/` folder, Flyway's `V3__name.sql`, golang-migrate's `3_name.up.sql`):
//! `DROP TABLE`, `DROP COLUMN`, `TRUNCATE`, a column's type change, and renames of
//! tables and columns.
//!
//! In Alembic migrations, the same in `upgrade()`: `op.drop_table`, `op.drop_column`,
//! `op.alter_column(type_=...)`, `op.alter_column(new_column_name=...)`,
//! `op.rename_table` (in `batch_alter_table` blocks too), and `op.execute` of such SQL
//! or of `TRUNCATE` (reported on its string).
//!
//! Not reported: down migrations (and `downgrade()`) (`*.down.sql`, Diesel's `down.sql`, Flyway's
//! `U3__name.sql`), whose job is to undo, and changes to a table the same migration
//! created.
//!
//! ## Why is this bad?
//! During a deploy the old version of the application still runs against the migrated
//! database: a dropped or renamed table or column breaks it until the new version is
//! everywhere, and dropped data is gone for good if the deploy is rolled back. A type
//! change rewrites the table under an `ACCESS EXCLUSIVE` lock and fails on values the
//! new type cannot hold.
//!
//! ## Example
//! ```sql
//! ALTER TABLE users DROP COLUMN legacy_role;
//! ALTER TABLE orders RENAME COLUMN total TO amount;
//! ```
//!
//! ## Use instead
//! Expand, then contract, over separate deploys: add the new column and write both,
//! backfill, move the readers, and drop the old column in a later migration once no
//! running code uses it. Keep a backup (or a copy of the table) before dropping data.
//!
//! ## Fix safety
//! There is no fix: the safe sequence spans several deploys.

use std::ops::Range;

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::{Operation, RowChange};

use super::{is_for_another_database, is_migration, statements, tables_created_before};

pub const RULE: Rule = Rule {
    id: "destructive-migration",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "Migrations that drop or rename tables and columns, truncate, or change a column's type",
    triggers: &["drop", "truncate", "rename", "type"],
    // In Python: Alembic migrations, which all name their `down_revision`.
    python_triggers: Some(&["down_revision"]),
    // In Python, Alembic migrations only.
    text_test: Some(alembic::may_be_migration),
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::MIGRATION,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if context.language == Language::Python {
        return check_alembic(context, findings);
    }
    if !is_migration(context.path) || is_for_another_database(context.path) {
        return;
    }
    for (item_start, statement) in statements(context) {
        let start = item_start + statement.range.start;
        let at = |range: &Range<usize>| start + range.start..start + range.end;
        if statement.schema.rows == RowChange::Truncate {
            let head = statement
                .tokens
                .first()
                .map_or(0..0, |token| token.range.clone());
            findings.push(RULE.finding(
                at(&head),
                "`TRUNCATE` in a migration deletes every row of the table",
            ));
        }
        let created_here = tables_created_before(context, start);
        for operation in &statement.schema.operations {
            // What this migration made, it may change as it likes: nothing runs on it yet.
            let Some((table, range, message)) = destruction(operation) else {
                continue;
            };
            if created_here.contains(table) {
                continue;
            }
            findings.push(RULE.finding(at(range), message));
        }
    }
}

/// The same in an Alembic migration's `upgrade()`: `op.drop_table`, `op.drop_column`,
/// `op.alter_column(type_=...)` and renames (in `batch_alter_table` blocks too), and
/// `op.execute` of such SQL or of `TRUNCATE` (reported on its string).
fn check_alembic(context: &Context, findings: &mut Vec<Finding>) {
    let steps = alembic::upgrade_steps(context);
    for (step, created_here) in steps.with_created_before() {
        for operation in &step.operations {
            let Some((table, range, message)) = destruction(operation) else {
                continue;
            };
            if !created_here.contains(table) {
                findings.push(RULE.finding(range.clone(), message));
            }
        }
    }
    for (literal, change, _) in steps.executed_row_changes() {
        if change == RowChange::Truncate {
            findings.push(RULE.finding(
                literal.clone(),
                "`TRUNCATE` in a migration deletes every row of the table",
            ));
        }
    }
    alembic::once_per_place(findings);
}

/// What an operation destroys: the table it acts on, where, and the message.
fn destruction(operation: &Operation) -> Option<(&str, &Range<usize>, String)> {
    Some(match operation {
        Operation::DropTable { table, range } => (
            table,
            range,
            format!(
                "Dropping table `{table}` deletes its data, and the running version of the app still uses it"
            ),
        ),
        Operation::DropColumn {
            table,
            column,
            range,
        } => (
            table,
            range,
            format!(
                "Dropping column `{table}.{column}` deletes its data, and the running version of the app still reads it"
            ),
        ),
        Operation::AlterColumnType { table, column, ty } => (
            table,
            &ty.range,
            format!(
                "Changing the type of `{table}.{column}` rewrites the table under an exclusive lock and fails on values the new type cannot hold"
            ),
        ),
        Operation::RenameTable { from, to, range } => (
            from,
            range,
            format!(
                "Renaming table `{from}` to `{to}` breaks the running version of the app, which still uses the old name"
            ),
        ),
        Operation::RenameColumn {
            table,
            from,
            to,
            range,
        } => (
            table,
            range,
            format!(
                "Renaming column `{table}.{from}` to `{to}` breaks the running version of the app, which still uses the old name"
            ),
        ),
        _ => return None,
    })
}
