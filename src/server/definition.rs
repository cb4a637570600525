//! Where a table is made: `textDocument/definition` on a table's name in SQL (a
//! `REFERENCES` target, `CREATE INDEX ... ON t`, `DROP TABLE t`) or in a model's
//! `ForeignKey("t.c")` / `Field(foreign_key="t.c")` jumps to every `CREATE TABLE` or
//! model that makes it, in any file of the workspace; the hover on the same name says
//! where it is made and what columns it has.

use std::ops::Range;
use std::path::Path;

use ropey::Rope;
use tower_lsp_server::ls_types::*;

use super::Snapshot;
use crate::document::position::{Encoding, offset_of, range_of};
use crate::language::Language;
use crate::schema::model::{Place, Table};
use crate::schema::{Operation, from_alembic, from_models};

/// The table whose name stands under the cursor, and where that name is written.
pub(super) fn table_under_cursor(
    snapshot: &Snapshot,
    position: Position,
) -> Option<(String, Range<usize>)> {
    let document = &snapshot.open.document;
    let offset = offset_of(&document.rope, position, snapshot.encoding);
    let text = document.text();
    let syntax = document.syntax_or_parse()?;
    let names: Vec<(String, Range<usize>)> = match document.language {
        Language::Sql => crate::schema::model::FileSchema::of_sql_parsed(&text, &syntax)
            .operations
            .iter()
            .flat_map(table_names)
            .collect(),
        // An Alembic migration: the tables its `op.*` calls name, and the references
        // of the columns they make.
        Language::Python
            if from_alembic::is_migration(snapshot.open.absolute.as_deref(), &text) =>
        {
            from_alembic::upgrade_steps(&text, &syntax)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|step| {
                    let references: Vec<(String, Range<usize>)> =
                        step.operations.iter().flat_map(references_of).collect();
                    step.tables.into_iter().chain(references)
                })
                .collect()
        }
        Language::Python => from_models::read_parsed(&text, &syntax)
            .operations
            .iter()
            .flat_map(table_names)
            .collect(),
        _ => return None,
    };
    // The innermost name holding the cursor (a reference inside a table's call).
    names
        .into_iter()
        .filter(|(_, range)| range.start <= offset && offset <= range.end)
        .min_by_key(|(_, range)| range.len())
}

/// The tables an operation's foreign keys reference, each with where it is written.
fn references_of(operation: &Operation) -> Vec<(String, Range<usize>)> {
    table_names(operation)
        .into_iter()
        .filter(|(table, _)| match operation {
            Operation::CreateTable { table: own, .. } => table != own,
            Operation::CreateIndex { .. } | Operation::DropTable { .. } => false,
            _ => true,
        })
        .collect()
}

/// The table names an operation writes, each with where it is written.
fn table_names(operation: &Operation) -> Vec<(String, Range<usize>)> {
    let mut names = Vec::new();
    match operation {
        Operation::CreateTable {
            table,
            range,
            columns,
            foreign_keys,
            ..
        } => {
            names.push((table.clone(), range.clone()));
            for column in columns {
                if let Some(reference) = &column.references {
                    names.push((reference.table.clone(), reference.range.clone()));
                }
            }
            for foreign_key in foreign_keys {
                let reference = &foreign_key.references;
                names.push((reference.table.clone(), reference.range.clone()));
            }
        }
        Operation::AddColumn { column, .. } => {
            if let Some(reference) = &column.references {
                names.push((reference.table.clone(), reference.range.clone()));
            }
        }
        Operation::AddForeignKey { foreign_key, .. } => {
            let reference = &foreign_key.references;
            names.push((reference.table.clone(), reference.range.clone()));
        }
        Operation::CreateIndex { table, range, .. } | Operation::DropTable { table, range } => {
            names.push((table.clone(), range.clone()));
        }
        _ => {}
    }
    names
}

/// The table `name` as the workspace's schema has it.
fn table_named(snapshot: &Snapshot, name: &str) -> Option<std::sync::Arc<Table>> {
    let workspace = snapshot.workspace.as_ref()?;
    workspace.index.schema()?.table(name).cloned()
}

pub(super) fn goto_definition(
    snapshot: &Snapshot,
    params: GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let (name, _) = table_under_cursor(snapshot, params.text_document_position_params.position)?;
    let table = table_named(snapshot, &name)?;
    let locations: Vec<Location> = table
        .created
        .iter()
        .filter_map(|place| location_of(place, snapshot.encoding))
        .collect();
    match locations.len() {
        0 => None,
        1 => locations
            .into_iter()
            .next()
            .map(GotoDefinitionResponse::Scalar),
        _ => Some(GotoDefinitionResponse::Array(locations)),
    }
}

/// The hover over a table's name: where it is made, and its columns.
pub(super) fn hover(snapshot: &Snapshot, position: Position) -> Option<Hover> {
    let (name, range) = table_under_cursor(snapshot, position)?;
    let table = table_named(snapshot, &name)?;
    let here = snapshot
        .workspace
        .as_ref()
        .map(|workspace| workspace.module.clone());
    let places: Vec<String> = table
        .created
        .iter()
        .map(|place| {
            let line = line_of(place);
            let shown = here.as_deref().map_or(place.path.to_path_buf(), |here| {
                below_common_folder(&place.path, here)
            });
            format!("`{}` line {line}", shown.display())
        })
        .collect();
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let key = if table.primary_key.contains(&column.name) {
                ", primary key"
            } else {
                ""
            };
            format!("- `{}` {}{key}", column.name, column.ty)
        })
        .collect();
    let value = format!(
        "**table `{}`**, made in {}\n\n{}",
        table.name,
        places.join(", "),
        columns.join("\n")
    );
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range_of(
            &snapshot.open.document.rope,
            range,
            snapshot.encoding,
        )),
    })
}

/// `path` below the deepest folder it shares with `other` (`db/schema/001.sql` of a
/// file in `db/seeds/`).
fn below_common_folder(path: &Path, other: &Path) -> std::path::PathBuf {
    let common = path
        .ancestors()
        .skip(1)
        .find(|folder| other.starts_with(folder))
        .unwrap_or(Path::new(""));
    path.strip_prefix(common).unwrap_or(path).to_path_buf()
}

/// The 1-based line of a place, read from its file.
fn line_of(place: &Place) -> usize {
    std::fs::read_to_string(&place.path)
        .ok()
        .and_then(|text| {
            text.get(..place.range.start)
                .map(|before| before.lines().count().max(1))
        })
        .unwrap_or(1)
}

/// A place as an LSP location, its range read from the file on disk.
fn location_of(place: &Place, encoding: Encoding) -> Option<Location> {
    let text = std::fs::read_to_string(&place.path).ok()?;
    let rope = Rope::from_str(&text);
    let range = place.range.start.min(text.len())..place.range.end.min(text.len());
    Some(Location {
        uri: Uri::from_file_path(&place.path)?,
        range: range_of(&rope, range, encoding),
    })
}
