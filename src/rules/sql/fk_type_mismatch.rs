//! ## What it does
//! Finds foreign-key columns in `.sql` files whose type differs from the key they
//! reference, as the workspace's schema has it: an `integer` column referencing a
//! `uuid` key, a `text` column referencing a `bigint`, or an `integer` referencing a
//! `bigint`/`bigserial` key (which it cannot hold past 2³¹). `serial` keys are read as
//! the `integer` they store (`bigserial` as `bigint`).
//!
//! ## Why is this bad?
//! PostgreSQL refuses a foreign key between types it cannot compare (`integer` to
//! `uuid`: the migration fails), and one between integers of different widths is
//! accepted until the referenced ids pass 2,147,483,647, when inserts start failing in
//! production. Mixed key types are also the common trace of a schema assembled from
//! two projects, one with `SERIAL` ids and one with `UUID`s.
//!
//! ## Example
//! ```sql
//! CREATE TABLE accounts (id uuid PRIMARY KEY);
//! CREATE TABLE invoices (id bigserial PRIMARY KEY, account_id integer REFERENCES accounts (id));
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE invoices (id bigserial PRIMARY KEY, account_id uuid REFERENCES accounts (id));
//! ```
//!
//! ## Fix safety
//! There is no fix: which side is right is for the author to say.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::{ColumnType, KeyKind};

use super::foreign_keys::foreign_keys;

pub const RULE: Rule = Rule {
    id: "fk-type-mismatch",
    languages: &[Language::Sql],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "A foreign-key column whose type differs from the key it references (`integer` → `uuid`)",
    triggers: &["references"],
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
    for foreign_key in &foreign_keys(context).0 {
        let reference = &foreign_key.references;
        let Some(Some(table)) = super::table(context, &reference.table) else {
            continue;
        };
        // The referenced columns: those named, else the primary key.
        let referenced: Vec<String> = if reference.columns.is_empty() {
            table.primary_key.clone()
        } else {
            reference.columns.clone()
        };
        for ((column, written), target) in foreign_key
            .columns
            .iter()
            .zip(&foreign_key.types)
            .zip(&referenced)
        {
            let (Some((written_type, range)), Some(target)) = (written, table.column(target))
            else {
                continue;
            };
            // The column as the schema has it now (a later migration may have changed
            // its type, or dropped it).
            let Some(Some(referencing)) = super::table(context, &foreign_key.table) else {
                continue;
            };
            let Some(now) = referencing.column(column) else {
                continue;
            };
            let ty = &if now.ty.is_empty() {
                written_type.clone()
            } else {
                stored(&now.ty)
            };
            let target_type = stored(&target.ty);
            if !mismatched(ty, &target_type) {
                continue;
            }
            findings.push(RULE.finding(
                range.clone(),
                format!(
                    "`{}.{column}` is `{ty}` but references `{}.{}`, which is `{target_type}`",
                    foreign_key.table, reference.table, target.name
                ),
            ));
        }
    }
}

/// The type a column referencing one of type `name` stores.
fn stored(name: &str) -> String {
    ColumnType {
        name: name.to_string(),
        range: 0..0,
    }
    .stored()
    .to_string()
}

/// Whether a referencing column of type `ty` cannot hold every key of type `target`.
fn mismatched(ty: &str, target: &str) -> bool {
    let kind = |name: &str| {
        ColumnType {
            name: name.to_string(),
            range: 0..0,
        }
        .key_kind()
    };
    match (kind(ty), kind(target)) {
        (KeyKind::Integer, KeyKind::Integer) => width(ty) < width(target),
        (KeyKind::Other, _) | (_, KeyKind::Other) => false,
        (KeyKind::Text, KeyKind::Text) => false,
        (a, b) => a != b,
    }
}

fn width(integer: &str) -> u8 {
    match integer {
        "smallint" => 2,
        "bigint" => 8,
        _ => 4,
    }
}
