//! ## What it does
//! Reports, as information, the tables whose primary key is of the minority kind when
//! the workspace's schema mixes integer keys (`serial`, `bigserial`, identity columns,
//! `integer`, `bigint`) and `uuid` keys. Each such table is reported once, at its key
//! where the table is first created. A schema split evenly is not reported.
//!
//! ## Why is this bad?
//! Mixed key kinds are the common trace of a schema assembled from several sources
//! (`SERIAL` ids in one file, `UUID`s in another). Every foreign key between the two
//! camps must get its type right (`fk-type-mismatch`), APIs expose two shapes of id,
//! and code that assumes one kind (`int(id)`, routes typed `{id:int}`) breaks on the
//! other.
//!
//! ## Example
//! ```sql
//! CREATE TABLE users (id serial PRIMARY KEY);
//! CREATE TABLE teams (id serial PRIMARY KEY);
//! CREATE TABLE invites (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE invites (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
//! ```
//!
//! ## Fix safety
//! There is no fix: a key's kind is a design decision.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::{KeyKind, Operation};

use super::{first_created_here, statements};

pub const RULE: Rule = Rule {
    id: "inconsistent-id-types",
    languages: &[Language::Sql],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::None,
    summary: "Primary keys of mixed kinds (integers and UUIDs) across the schema, once per minority table",
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
    let mut created_here = Vec::new();
    for (item_start, statement) in statements(context) {
        let start = item_start + statement.range.start;
        for operation in &statement.schema.operations {
            if let Operation::CreateTable {
                table,
                range,
                temporary: false,
                ..
            } = operation
            {
                created_here.push((table, start + range.start..start + range.end));
            }
        }
    }
    if created_here.is_empty() {
        return;
    }
    let Some(kinds) = context.key_kinds() else {
        return;
    };
    let count = |kind: KeyKind| kinds.iter().filter(|(_, each)| *each == kind).count();
    let (integers, uuids) = (count(KeyKind::Integer), count(KeyKind::Uuid));
    let (minority, majority, majority_count) = match integers.cmp(&uuids) {
        std::cmp::Ordering::Greater if uuids > 0 => (KeyKind::Uuid, "integer", integers),
        std::cmp::Ordering::Less if integers > 0 => (KeyKind::Integer, "UUID", uuids),
        _ => return,
    };
    let examples: Vec<&str> = kinds
        .iter()
        .filter(|(_, kind)| *kind != minority)
        .map(|(table, _)| table.as_str())
        .take(3)
        .collect();
    for (table, range) in created_here {
        if !kinds
            .iter()
            .any(|(name, kind)| name == table && *kind == minority)
        {
            continue;
        }
        let Some(Some(known)) = super::table(context, table) else {
            continue;
        };
        if !first_created_here(context, &known, &range) {
            continue;
        }
        let (key, ty) = known.key_column().map_or(("", ""), |column| {
            (column.name.as_str(), column.ty.as_str())
        });
        // At the key's column when this file declares it, else the table's name.
        let at = known
            .key_column()
            .filter(|column| {
                context
                    .path
                    .is_none_or(|path| column.place.path.ends_with(path))
            })
            .map_or(range, |column| column.place.range.clone());
        findings.push(RULE.finding(
            at,
            format!(
                "`{table}.{key}` is a `{ty}` key, while {majority_count} of the schema's {} keyed tables use {majority} keys (`{}`, ...)",
                integers + uuids,
                examples.join("`, `")
            ),
        ));
    }
}
