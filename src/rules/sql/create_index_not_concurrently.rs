//! ## What it does
//! Finds `CREATE INDEX` without `CONCURRENTLY` in SQL migrations (see
//! `destructive-migration` for which files are migrations), on a table that the same
//! migration did not create; in Alembic migrations, `op.create_index(...)` in
//! `upgrade()` without `postgresql_concurrently=True` (and `op.execute` of such SQL),
//! on a table that `upgrade()` did not create. `batch_op.create_index` (SQLite's batch
//! mode) is not reported.
//!
//! ## Why is this bad?
//! A plain `CREATE INDEX` takes a `SHARE` lock on the table for as long as the build
//! takes: every `INSERT`, `UPDATE` and `DELETE` waits, minutes on a large table, and
//! the application's requests pile up behind it. `CREATE INDEX CONCURRENTLY` builds
//! the index while writes go on. A table created in the same migration is empty, so its
//! indexes build at once either way.
//!
//! ## Example
//! ```sql
//! CREATE INDEX ix_orders_account ON orders (account_id);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE INDEX CONCURRENTLY ix_orders_account ON orders (account_id);
//! ```
//!
//! In Alembic:
//! ```python
//! with op.get_context().autocommit_block():
//!     op.create_index("ix_orders_account", "orders", ["account_id"], postgresql_concurrently=True)
//! ```
//!
//! ## Fix safety
//! Unsafe: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block, so the
//! migration must run outside one (most migration tools wrap each file in a
//! transaction unless told not to), and a concurrent build that fails leaves an invalid
//! index to drop before trying again. In Alembic the fix adds
//! `postgresql_concurrently=True` and, unless the call is in one already, moves it
//! into `with op.get_context().autocommit_block():`, which commits the migration's
//! transaction so far before the build. An index created by `op.execute` SQL is
//! reported with no fix.

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    newline_of,
};
use crate::schema::Operation;

use super::{is_for_another_database, is_migration, statements, tables_created_before};

pub const RULE: Rule = Rule {
    id: "create-index-not-concurrently",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "`CREATE INDEX` without `CONCURRENTLY` on an existing table in a migration; fix: add it",
    triggers: &["index"],
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
        for operation in &statement.schema.operations {
            let Operation::CreateIndex {
                table,
                concurrently: false,
                ..
            } = operation
            else {
                continue;
            };
            if tables_created_before(context, start).contains(table) {
                continue;
            }
            let text = statement.text(&context.source[item_start..]);
            let Some(index) = statement
                .tokens
                .iter()
                .find(|token| token.is(text, "INDEX"))
            else {
                continue;
            };
            let head = statement
                .tokens
                .first()
                .map_or(index.range.start, |token| token.range.start);
            let mut finding = RULE.finding(
                start + head..start + index.range.end,
                format!("`CREATE INDEX` on `{table}` blocks its writes until the index is built; build it `CONCURRENTLY`"),
            );
            finding.fix = Some(Fix::unsafe_(
                "Add `CONCURRENTLY` (unsafe: the migration must then run outside a transaction)",
                vec![Edit::insert(start + index.range.end, " CONCURRENTLY")],
            ));
            findings.push(finding);
        }
    }
}

/// `op.create_index(...)` without `postgresql_concurrently=True`, and `op.execute` of
/// `CREATE INDEX` without `CONCURRENTLY`, on a table `upgrade()` did not create.
fn check_alembic(context: &Context, findings: &mut Vec<Finding>) {
    let steps = alembic::upgrade_steps(context);
    for (step, created_here) in steps.with_created_before() {
        if step.in_batch {
            continue;
        }
        for operation in &step.operations {
            let Operation::CreateIndex {
                table,
                concurrently: false,
                ..
            } = operation
            else {
                continue;
            };
            if created_here.contains(table) {
                continue;
            }
            if step.sql.is_some() {
                findings.push(RULE.finding(
                    step.range.clone(),
                    format!("`CREATE INDEX` on `{table}` blocks its writes until the index is built; build it `CONCURRENTLY` (outside the migration's transaction)"),
                ));
                continue;
            }
            let mut finding = RULE.finding(
                step.range.clone(),
                format!("`op.create_index` on `{table}` blocks its writes until the index is built; pass `postgresql_concurrently=True` (outside the migration's transaction)"),
            );
            finding.fix = Some(concurrently(context.source, step));
            findings.push(finding);
        }
    }
}

/// Add `postgresql_concurrently=True` to the call, and move its statement into an
/// `autocommit_block()` unless it stands in one.
fn concurrently(source: &str, step: &crate::schema::from_alembic::UpgradeStep) -> Fix {
    let (at, keyword) = keyword_after_arguments(source, step);
    if step.in_autocommit {
        return Fix::unsafe_(
            "Add `postgresql_concurrently=True` (unsafe: a failed build leaves an invalid index)",
            vec![Edit::insert(at, keyword)],
        );
    }
    let statement = &step.statement;
    let indent = indentation_at(source, statement.start);
    let newline = newline_of(source);
    let mut call = String::new();
    call.push_str(source.get(statement.start..at).unwrap_or(""));
    call.push_str(&keyword);
    call.push_str(source.get(at..statement.end).unwrap_or(""));
    let nested = call.replace('\n', "\n    ");
    Fix::unsafe_(
        "Pass `postgresql_concurrently=True` inside `op.get_context().autocommit_block()` (unsafe: the index is built outside the migration's transaction)",
        vec![Edit::replace(
            statement.clone(),
            format!("with op.get_context().autocommit_block():{newline}{indent}    {nested}"),
        )],
    )
}

/// Where `postgresql_concurrently=True` goes and how it is written: after the last
/// argument, or on a line of its own when the arguments stand one per line with a
/// trailing comma.
fn keyword_after_arguments(
    source: &str,
    step: &crate::schema::from_alembic::UpgradeStep,
) -> (usize, String) {
    let end = step.arguments_end;
    let rest = source.get(end..step.range.end).unwrap_or("");
    if rest.starts_with(',') && rest.contains('\n') {
        let indent = indentation_at(source, end);
        let newline = newline_of(source);
        return (
            end + 1,
            format!("{newline}{indent}postgresql_concurrently=True,"),
        );
    }
    (end, ", postgresql_concurrently=True".to_string())
}
