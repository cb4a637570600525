//! ## What it does
//! Finds columns declared `TIMESTAMP` (`timestamp without time zone`) in `.sql` files:
//! new tables, added columns and type changes. `TIMESTAMPTZ` is the type PostgreSQL's
//! own documentation and wiki recommend for points in time.
//!
//! A MySQL `DATETIME` is `mysql-syntax-in-postgres`'s to report (its fix writes
//! `TIMESTAMP`, which this rule then reports).
//!
//! In Alembic migrations: `sa.DateTime()` / `sa.TIMESTAMP()` without `timezone=True`
//! in `upgrade()`'s `op.create_table`, `op.add_column` and `op.alter_column(type_=...)`
//! (and `TIMESTAMP` in `op.execute` SQL, with no fix). In a migration, a column a
//! later migration has since made `timestamptz` (or dropped) is history.
//!
//! ## Why is this bad?
//! A `TIMESTAMP` stores a wall-clock reading with no zone: the same value means
//! different instants to an app server in UTC and a developer's laptop in Berlin, and
//! daylight-saving changes make some readings ambiguous. `TIMESTAMPTZ` stores an
//! instant (UTC inside) and converts on the way in and out, at the same cost.
//!
//! ## Example
//! ```sql
//! CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp NOT NULL);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamptz NOT NULL);
//! ```
//!
//! ```python
//! sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False)
//! ```
//!
//! ## Fix safety
//! Unsafe: naive values the application inserts are then read in the session's time
//! zone, and an `ALTER COLUMN ... TYPE timestamptz` of existing data interprets the
//! stored readings in the zone of the session that runs it.

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, RuleId, Severity,
};
use crate::schema::{ColumnType, Operation};

use super::statements;

pub const RULE: Rule = Rule {
    id: "prefer-timestamptz",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "`TIMESTAMP` without a time zone; fix: `TIMESTAMPTZ`",
    triggers: &["timestamp", "datetime"],
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
    if !super::describes_current_schema(context.path) {
        return;
    }
    let mysql_reported = context.settings.is_enabled(RuleId::MysqlSyntaxInPostgres);
    for (item_start, statement) in statements(context) {
        let start = item_start + statement.range.start;
        let item = &context.source[item_start..];
        let text = statement.text(item);
        for (table, column, ty) in naive_timestamps(&statement.schema.operations) {
            // In a migration, a column a later migration has since made `timestamptz`
            // (or dropped) is history.
            if super::is_migration(context.path) && is_history(context, table, column) {
                continue;
            }
            // `DATETIME`, read as `TIMESTAMP`, is the MySQL rule's.
            let is_mysql = statement.mysql.iter().any(|construct| {
                construct.range.start < ty.range.end && ty.range.start < construct.range.end
            });
            if is_mysql && mysql_reported {
                continue;
            }
            let written = text.get(ty.range.clone()).unwrap_or("");
            let range = start + ty.range.start..start + ty.range.end;
            let mut finding = RULE.finding(
                range.clone(),
                format!("`{column}` is `{written}`, a time with no zone; `TIMESTAMPTZ` stores an instant"),
            );
            let replacement = format!("TIMESTAMPTZ{}", precision(written));
            finding.fix = Some(Fix::unsafe_(
                format!("Use `{replacement}`"),
                vec![Edit::replace(range, replacement)],
            ));
            findings.push(finding);
        }
    }
}

/// The columns of `operations` given a `TIMESTAMP` type: (table, column, type).
fn naive_timestamps(operations: &[Operation]) -> Vec<(&str, &str, &ColumnType)> {
    let mut found = Vec::new();
    for operation in operations {
        match operation {
            Operation::CreateTable { table, columns, .. } => found.extend(
                columns
                    .iter()
                    .map(|column| (table.as_str(), column.name.as_str(), &column.ty)),
            ),
            Operation::AddColumn { table, column } => {
                found.push((table.as_str(), column.name.as_str(), &column.ty))
            }
            Operation::AlterColumnType { table, column, ty } => {
                found.push((table.as_str(), column.as_str(), ty))
            }
            _ => {}
        }
    }
    found.retain(|(_, _, ty)| ty.name == "timestamp");
    found
}

/// `(3)` of `timestamp(3) without time zone`; nothing when none is written.
fn precision(written: &str) -> String {
    match (written.find('('), written.find(')')) {
        (Some(open), Some(close)) if open < close => written[open..=close].replace(' ', ""),
        _ => String::new(),
    }
}

/// `sa.DateTime()` without `timezone=True` in an Alembic `upgrade()`.
fn check_alembic(context: &Context, findings: &mut Vec<Finding>) {
    let steps = alembic::upgrade_steps(context);
    for step in &steps.0 {
        for (table, column, ty) in naive_timestamps(&step.operations) {
            if is_history(context, table, column) {
                continue;
            }
            if step.sql.is_some() {
                findings.push(RULE.finding(
                    ty.range.clone(),
                    format!("`{column}` is `timestamp`, a time with no zone; `TIMESTAMPTZ` stores an instant"),
                ));
                continue;
            }
            let written = context.source.get(ty.range.clone()).unwrap_or("");
            let mut finding = RULE.finding(
                ty.range.clone(),
                format!("`{column}` is `{written}`, a time with no zone; `timezone=True` stores an instant"),
            );
            finding.fix = with_time_zone(written).map(|replacement| {
                Fix::unsafe_(
                    format!("Use `{replacement}`"),
                    vec![Edit::replace(ty.range.clone(), replacement)],
                )
            });
            findings.push(finding);
        }
    }
}

/// Whether a column is history in a migration: the workspace's schema now has it as
/// another type, or no longer has it.
fn is_history(context: &Context, table: &str, column: &str) -> bool {
    context.table(table).is_some_and(|now| {
        now.as_ref()
            .and_then(|now| now.column(column))
            .is_none_or(|now| now.ty != "timestamp")
    })
}

/// A SQLAlchemy type with `timezone=True`: `sa.DateTime` → `sa.DateTime(timezone=True)`,
/// `sa.DateTime()` → `sa.DateTime(timezone=True)`, `sa.TIMESTAMP(precision=3)` →
/// `sa.TIMESTAMP(precision=3, timezone=True)`, `timezone=False` → `timezone=True`.
fn with_time_zone(written: &str) -> Option<String> {
    if written.contains("timezone=False") {
        return Some(written.replacen("timezone=False", "timezone=True", 1));
    }
    if written.contains("timezone") {
        return None;
    }
    let Some(inside) = written.strip_suffix(')') else {
        return Some(format!("{written}(timezone=True)"));
    };
    let open = inside.find('(')?;
    let arguments = inside[open + 1..].trim_end();
    Some(if arguments.is_empty() {
        format!("{}timezone=True)", &inside[..=open])
    } else {
        let arguments = arguments.strip_suffix(',').unwrap_or(arguments);
        format!("{}{arguments}, timezone=True)", &inside[..=open])
    })
}
