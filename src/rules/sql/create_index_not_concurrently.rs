//! ## What it does
//! Finds `CREATE INDEX` without `CONCURRENTLY` in SQL migrations (see
//! `destructive-migration` for which files are migrations), on a table that the same
//! migration did not create.
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
//! ## Fix safety
//! Unsafe: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block, so the
//! migration must run outside one (most migration tools wrap each file in a
//! transaction unless told not to), and a concurrent build that fails leaves an invalid
//! index to drop before trying again.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity,
};
use crate::schema::Operation;

use super::{is_for_another_database, is_migration, statements, tables_created_before};

pub const RULE: Rule = Rule {
    id: "create-index-not-concurrently",
    languages: &[Language::Sql],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Always(FixSafety::Unsafe),
    summary: "`CREATE INDEX` without `CONCURRENTLY` on an existing table in a migration; fix: add it",
    triggers: &["index"],
    text_test: None,
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::NONE,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
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
