//! The foreign keys a SQL file declares (column `REFERENCES`, table-level `FOREIGN
//! KEY`, `ALTER TABLE ... ADD FOREIGN KEY`), at the file's offsets: what the rules
//! that judge them against the workspace's schema read. Also `fk-without-index`'s
//! check of SQL files (the rule itself, with its docs, is `python::fk_without_index`).

use std::ops::Range;

use crate::rules::{Context, Edit, Finding, Fix, newline_of};
use crate::schema::{Operation, Reference};

use super::statements;

/// A foreign key of the file.
pub struct ForeignKeyUse {
    /// The referencing table and its columns.
    pub table: String,
    pub columns: Vec<String>,
    /// The referencing columns' types, where the statement declares them.
    pub types: Vec<Option<(String, Range<usize>)>>,
    /// What it references; `references.range` is the file's.
    pub references: Reference,
    /// Where it is written: the referencing column, or the constraint.
    pub range: Range<usize>,
    /// Where the statement that declares it ends (after its `;`).
    pub statement_end: usize,
}

/// Every foreign key the file declares, in text order: worked out once per audit (three
/// rules read them).
pub fn foreign_keys(context: &Context) -> std::rc::Rc<ForeignKeys> {
    context.memo(|| ForeignKeys(read_foreign_keys(context)))
}

/// The foreign keys of a file (`foreign_keys`).
pub struct ForeignKeys(pub Vec<ForeignKeyUse>);

fn read_foreign_keys(context: &Context) -> Vec<ForeignKeyUse> {
    let mut found = Vec::new();
    for (item_start, statement) in statements(context) {
        let start = item_start + statement.range.start;
        let statement_end = statement
            .terminator
            .map_or(item_start + statement.range.end, |terminator| {
                item_start + terminator + 1
            });
        let at = |range: &Range<usize>| start + range.start..start + range.end;
        let placed = |reference: &Reference| Reference {
            range: at(&reference.range),
            ..reference.clone()
        };
        for operation in &statement.schema.operations {
            let (table, columns, foreign_keys) = match operation {
                Operation::CreateTable {
                    table,
                    columns,
                    foreign_keys,
                    ..
                } => (table, &columns[..], &foreign_keys[..]),
                Operation::AddColumn { table, column } => {
                    (table, std::slice::from_ref(column), &[][..])
                }
                Operation::AddForeignKey { table, foreign_key } => {
                    (table, &[][..], std::slice::from_ref(foreign_key))
                }
                _ => continue,
            };
            for column in columns {
                let Some(reference) = &column.references else {
                    continue;
                };
                found.push(ForeignKeyUse {
                    table: table.clone(),
                    columns: vec![column.name.clone()],
                    types: vec![Some((column.ty.stored().to_string(), at(&column.ty.range)))],
                    references: placed(reference),
                    range: at(&column.range),
                    statement_end,
                });
            }
            for foreign_key in foreign_keys {
                let types = foreign_key
                    .columns
                    .iter()
                    .map(|name| {
                        columns
                            .iter()
                            .find(|column| column.name == *name)
                            .map(|column| (column.ty.stored().to_string(), at(&column.ty.range)))
                    })
                    .collect();
                found.push(ForeignKeyUse {
                    table: table.clone(),
                    columns: foreign_key.columns.clone(),
                    types,
                    references: placed(&foreign_key.references),
                    range: at(&foreign_key.range),
                    statement_end,
                });
            }
        }
    }
    found
}

/// `fk-without-index` in a SQL file: a foreign key whose first column no index of the
/// workspace leads with; fix: `CREATE INDEX` after the statement.
pub fn fk_without_index(context: &Context, findings: &mut Vec<Finding>) {
    if !super::describes_current_schema(context.path) {
        return;
    }
    let newline = newline_of(context.source);
    for foreign_key in &foreign_keys(context).0 {
        let Some(first) = foreign_key.columns.first() else {
            continue;
        };
        let Some(Some(table)) = super::table(context, &foreign_key.table) else {
            continue;
        };
        // A column the schema no longer has (a later migration renamed or dropped it)
        // is history: its index is no one's concern now.
        if table.derived
            || table.column(first).is_none()
            || table.index_leads.iter().any(|lead| lead == first)
        {
            continue;
        }
        let index = format!(
            "CREATE INDEX {} ON {} ({});",
            crate::syntax::sql_mysql::pg_identifier(&format!("{}_{first}_idx", foreign_key.table)),
            crate::syntax::sql_mysql::pg_identifier(&foreign_key.table),
            crate::syntax::sql_mysql::pg_identifier(first),
        );
        let mut finding = crate::rules::python::fk_without_index::RULE.finding(
            foreign_key.range.clone(),
            format!(
                "`{}.{first}` references `{}` but no index leads with it: deleting or updating a `{}` row scans `{}`, and joins on it cannot use an index",
                foreign_key.table, foreign_key.references.table, foreign_key.references.table, foreign_key.table
            ),
        );
        finding.fix = Some(Fix::safe(
            format!("Add `{index}` after the statement"),
            vec![Edit::insert(
                foreign_key.statement_end,
                format!("{newline}{index}"),
            )],
        ));
        findings.push(finding);
    }
}
