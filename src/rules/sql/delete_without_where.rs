//! ## What it does
//! Finds `DELETE` statements with no `WHERE` in `.sql` files: they delete every row of
//! the table.
//!
//! Not reported: a table the same file created earlier (a scratch or staging table),
//! and files whose job is to reset data (seeds, fixtures, tests, `reset.sql`,
//! `teardown.sql`). `TRUNCATE` is the explicit way to empty a table and is not reported
//! either.
//!
//! In Alembic migrations: `op.execute(...)` of such SQL in `upgrade()` (reported on
//! its string), unless a step before created the table.
//!
//! ## Why is this bad?
//! A `DELETE` that lost its `WHERE` (a line commented out, a condition cut while
//! editing) empties a production table in one statement, and a long `DELETE` of every
//! row holds its locks and bloats the table where `TRUNCATE` would not.
//!
//! ## Example
//! ```sql
//! DELETE FROM sessions;
//! ```
//!
//! ## Use instead
//! ```sql
//! DELETE FROM sessions WHERE expires_at < now();
//! -- or, when emptying the table is meant:
//! TRUNCATE sessions;
//! ```
//!
//! ## Fix safety
//! There is no fix: only the author knows which rows were meant.

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::RowChange;

use super::{head_through, resets_data, statements, tables_created_before};

pub const RULE: Rule = Rule {
    id: "delete-without-where",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "`DELETE` with no `WHERE`: every row of the table goes",
    triggers: &["delete"],
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
    if !super::describes_current_schema(context.path) || resets_data(context.path) {
        return;
    }
    for (item_start, statement) in statements(context) {
        let RowChange::Delete {
            table,
            has_where: false,
        } = &statement.schema.rows
        else {
            continue;
        };
        let start = item_start + statement.range.start;
        if tables_created_before(context, start).contains(table) {
            continue;
        }
        let item = &context.source[item_start..];
        let head = head_through(statement, item, table);
        findings.push(RULE.finding(
            start + head.start..start + head.end,
            format!("`DELETE` from `{table}` has no `WHERE`: it deletes every row (write `TRUNCATE {table}` if that is meant)"),
        ));
    }
}

/// `op.execute` of a `DELETE` with no `WHERE` in an Alembic `upgrade()`.
fn check_alembic(context: &Context, findings: &mut Vec<Finding>) {
    let steps = alembic::upgrade_steps(context);
    for (literal, change, created_here) in steps.executed_row_changes() {
        if let RowChange::Delete {
            table,
            has_where: false,
        } = change
            && !created_here.contains(&table)
        {
            findings.push(RULE.finding(
                literal.clone(),
                format!("`DELETE` from `{table}` has no `WHERE`: it deletes every row (write `TRUNCATE {table}` if that is meant)"),
            ));
        }
    }
    alembic::once_per_place(findings);
}
