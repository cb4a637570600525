//! ## What it does
//! Finds foreign keys in `.sql` files (`REFERENCES t (col)`, `FOREIGN KEY ...
//! REFERENCES`, `ALTER TABLE ... ADD FOREIGN KEY`) naming a table that nothing in the
//! workspace creates (no SQL file, and no SQLAlchemy or SQLModel model), or a column
//! that table does not have; and the same of SQLAlchemy's `ForeignKey("t.c")` (and
//! SQLModel's `Field(foreign_key="t.c")`) in models, and of the foreign keys of an
//! Alembic migration's `upgrade()` (`sa.ForeignKey`, `sa.ForeignKeyConstraint`,
//! `op.create_foreign_key`). Alembic migrations create tables too. Models in tests are
//! not judged.
//!
//! The workspace's schema is read once every SQL file and model is known (in the
//! editor, after the first scan of the workspace). A reference to a table in another schema that no
//! file creates (`auth.users` of Supabase, an extension's) is not reported: that schema
//! is made elsewhere. Tables that are partitions or copies (`PARTITION OF`, `LIKE`) are
//! not checked for columns.
//!
//! ## Why is this bad?
//! PostgreSQL rejects the statement (`relation "campaigns" does not exist`) when it
//! runs, which for a seed script or migration is the first deploy to a fresh database:
//! schemas assembled from several files (or from another project) lose a table, or
//! reference it by a name it never had (`user` for `users`).
//!
//! ## Example
//! ```sql
//! -- schema/orders.sql; no file creates `customers`
//! CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id));
//! ```
//!
//! ## Use instead
//! ```sql
//! -- schema/customers.sql
//! CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);
//! ```
//!
//! ## Fix safety
//! There is no fix: the table may be missing, or the reference misspelt.

use crate::language::Language;
use crate::rules::alembic;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::{Operation, Reference};

use super::foreign_keys::foreign_keys;
use super::{table, table_history};

pub const RULE: Rule = Rule {
    id: "missing-referenced-table",
    languages: &[Language::Sql, Language::Python],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "A foreign key to a table no SQL file, migration or model of the workspace creates, or to a column it lacks",
    triggers: &["references"],
    // In Python: SQLAlchemy/SQLModel models and Alembic migrations (the words
    // `migration-model-drift` searches too), not Django's `models.ForeignKey`.
    python_triggers: Some(&["sqlalchemy", "sqlmodel", "db.column", "down_revision"]),
    text_test: Some(|text| {
        use crate::rules::prefilter::contains;
        (contains(text, "ForeignKey") || contains(text, "foreign_key"))
            && (crate::schema::from_models::may_declare_tables(text.as_bytes())
                || alembic::may_be_migration(text))
    }),
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::WORKSPACE.and(Projections::MIGRATION),
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if context.language == Language::Python {
        return check_python(context, findings);
    }
    if !super::describes_current_schema(context.path) {
        return;
    }
    for foreign_key in &foreign_keys(context).0 {
        let reference = &foreign_key.references;
        // Tables and columns as any file ever had them: a migration refers to the
        // schema of its day, which later migrations rename and drop.
        let Some(history) = table_history(context, &reference.table) else {
            return; // the schema is not known yet
        };
        let now = || table(context, &reference.table).flatten();
        judge(reference, history, now, findings);
    }
}

/// `ForeignKey("t.c")` (and SQLModel's `Field(foreign_key="t.c")`) in SQLAlchemy
/// models, and in an Alembic `upgrade()`'s columns, `ForeignKeyConstraint`s and
/// `op.create_foreign_key`.
fn check_python(context: &Context, findings: &mut Vec<Finding>) {
    if crate::rules::python::file_kind::is_test_file(context.path) {
        return;
    }
    let (steps, models);
    let operations: Box<dyn Iterator<Item = &Operation>> = if alembic::is_migration(context) {
        steps = alembic::upgrade_steps(context);
        Box::new(steps.0.iter().flat_map(|step| &step.operations))
    } else {
        models = super::model_tables(context);
        Box::new(models.operations.iter())
    };
    for reference in operations.flat_map(references) {
        let Some(history) = context.table_history(&reference.table) else {
            return; // the schema is not known yet
        };
        let now = || context.table(&reference.table).flatten();
        judge(reference, history, now, findings);
    }
}

/// What an operation's foreign keys reference.
fn references(operation: &Operation) -> Vec<&Reference> {
    match operation {
        Operation::CreateTable {
            columns,
            foreign_keys,
            ..
        } => columns
            .iter()
            .filter_map(|column| column.references.as_ref())
            .chain(foreign_keys.iter().map(|key| &key.references))
            .collect(),
        Operation::AddColumn { column, .. } => column.references.iter().collect(),
        Operation::AddForeignKey { foreign_key, .. } => vec![&foreign_key.references],
        _ => Vec::new(),
    }
}

/// Report `reference` when no file ever creates its table (`history` is `None`), or
/// its table never had one of its columns; `now` is the table as the workspace leaves
/// it.
fn judge(
    reference: &Reference,
    history: Option<Vec<String>>,
    now: impl FnOnce() -> Option<std::sync::Arc<crate::schema::model::Table>>,
    findings: &mut Vec<Finding>,
) {
    let Some(columns) = history else {
        let elsewhere = !reference.schema.is_empty() && reference.schema != "public";
        if !elsewhere {
            findings.push(RULE.finding(
                reference.range.clone(),
                format!(
                    "`{}` is referenced here, but no SQL file, migration or model of the workspace creates it",
                    reference.table
                ),
            ));
        }
        return;
    };
    let now = now();
    if now.as_ref().is_some_and(|table| table.derived) || columns.is_empty() {
        return;
    }
    // The columns as the table has them now, in their order (else as it had them).
    let shown: Vec<&str> = match &now {
        Some(table) => table
            .columns
            .iter()
            .map(|column| column.name.as_str())
            .collect(),
        None => columns.iter().map(String::as_str).collect(),
    };
    for column in &reference.columns {
        if columns.contains(column) {
            continue;
        }
        findings.push(RULE.finding(
            reference.range.clone(),
            format!(
                "`{}` has no column `{column}` (its columns: {})",
                reference.table,
                crate::rules::shorten(&shown.join(", "), 80)
            ),
        ));
    }
}
