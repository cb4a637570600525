//! ## What it does
//! Finds tables created in `.sql` files that have no primary key: none in their `CREATE
//! TABLE`, and no `ALTER TABLE ... ADD PRIMARY KEY` in any SQL file of the workspace.
//! Reported once per table, where it is first created. Temporary tables, partitions
//! (`PARTITION OF`, whose key is the parent's) and copies (`LIKE`) are not reported.
//!
//! ## Why is this bad?
//! Without a primary key a row has no identity: duplicates creep in and cannot be
//! told apart or deleted one at a time, ORMs cannot load or update rows by identity,
//! and logical replication (and tools built on it) refuses `UPDATE` and `DELETE` on the
//! table.
//!
//! ## Example
//! ```sql
//! CREATE TABLE team_members (team_id bigint NOT NULL, user_id bigint NOT NULL);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE team_members (
//!   team_id bigint NOT NULL,
//!   user_id bigint NOT NULL,
//!   PRIMARY KEY (team_id, user_id)
//! );
//! ```
//!
//! ## Fix safety
//! There is no fix: which columns identify a row is for the author to say.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::Operation;

use super::{first_created_here, statements};

pub const RULE: Rule = Rule {
    id: "missing-primary-key",
    languages: &[Language::Sql],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "Tables with no primary key",
    triggers: &["create"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::NONE,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if !super::describes_current_schema(context.path) {
        return;
    }
    for (item_start, statement) in statements(context) {
        let start = item_start + statement.range.start;
        for operation in &statement.schema.operations {
            let Operation::CreateTable {
                table,
                range,
                temporary: false,
                derived: false,
                ..
            } = operation
            else {
                continue;
            };
            let Some(Some(known)) = super::table(context, table) else {
                continue;
            };
            let range = start + range.start..start + range.end;
            if !known.primary_key.is_empty()
                || known.derived
                || !first_created_here(context, &known, &range)
            {
                continue;
            }
            findings.push(RULE.finding(
                range,
                format!("`{table}` has no primary key: its rows cannot be told apart, updated one by one, or replicated"),
            ));
        }
    }
}
