//! ## What it does
//! Finds `UPDATE` statements with no `WHERE` in `.sql` files: they change every row of
//! the table.
//!
//! Not reported: a table the same file created earlier, a backfill of columns the same
//! file added (`ALTER TABLE users ADD COLUMN active boolean; UPDATE users SET active =
//! true;`: setting every row is the point), and files whose job is to reset data
//! (seeds, fixtures, tests).
//!
//! In Alembic migrations: `op.execute(...)` of such SQL in `upgrade()` (reported on
//! its string), unless a step before created the table or added every column it sets.
//!
//! ## Why is this bad?
//! An `UPDATE` that lost its `WHERE` overwrites a column of every row, and the old
//! values are gone unless a backup has them. On a large table it also locks and
//! rewrites every row in one transaction.
//!
//! ## Example
//! ```sql
//! UPDATE accounts SET plan = 'free';
//! ```
//!
//! ## Use instead
//! ```sql
//! UPDATE accounts SET plan = 'free' WHERE trial_ends_at < now();
//! ```
//!
//! ## Fix safety
//! There is no fix: only the author knows which rows were meant.

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::{Operation, RowChange};

use super::{head_through, resets_data, statements, tables_created_before};

pub const RULE: Rule = Rule {
    id: "update-without-where",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "`UPDATE` with no `WHERE`: every row of the table changes",
    triggers: &["update"],
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
        let RowChange::Update {
            table,
            columns,
            has_where: false,
        } = &statement.schema.rows
        else {
            continue;
        };
        let start = item_start + statement.range.start;
        if tables_created_before(context, start).contains(table)
            || backfills_added_columns(context, start, table, columns)
        {
            continue;
        }
        let item = &context.source[item_start..];
        let head = head_through(statement, item, table);
        findings.push(RULE.finding(
            start + head.start..start + head.end,
            format!("`UPDATE` of `{table}` has no `WHERE`: it changes every row"),
        ));
    }
}

/// Whether every column the update sets was added to `table` earlier in the file.
fn backfills_added_columns(
    context: &Context,
    before: usize,
    table: &str,
    columns: &[String],
) -> bool {
    let added: Vec<&str> = statements(context)
        .take_while(|(item_start, statement)| item_start + statement.range.start < before)
        .flat_map(|(_, statement)| &statement.schema.operations)
        .filter_map(|operation| match operation {
            Operation::AddColumn {
                table: added_to,
                column,
            } if added_to == table => Some(column.name.as_str()),
            _ => None,
        })
        .collect();
    !columns.is_empty()
        && columns
            .iter()
            .all(|column| added.contains(&column.as_str()))
}

/// `op.execute` of an `UPDATE` with no `WHERE` in an Alembic `upgrade()`.
fn check_alembic(context: &Context, findings: &mut Vec<Finding>) {
    let steps = alembic::upgrade_steps(context);
    for (literal, change, created_here) in steps.executed_row_changes() {
        if let RowChange::Update {
            table,
            columns,
            has_where: false,
        } = change
            && !created_here.contains(&table)
            && !created_here.added_columns(&table, &columns)
        {
            findings.push(RULE.finding(
                literal.clone(),
                format!("`UPDATE` of `{table}` has no `WHERE`: it changes every row"),
            ));
        }
    }
    alembic::once_per_place(findings);
}
