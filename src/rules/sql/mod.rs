//! Rules for SQL files (PostgreSQL), and what they share: the statements of every
//! item (read once per item, `syntax::sql_statements`), what kind of file a path is
//! (a migration, a down migration, a reset script, SQL for another database), and the
//! workspace's tables as an audit sees them (asked once per audit, with the file's own
//! unsaved text laid over them).

pub mod create_index_not_concurrently;
pub mod delete_without_where;
pub mod destructive_migration;
pub mod fk_type_mismatch;
pub mod foreign_keys;
pub mod inconsistent_id_types;
pub mod missing_primary_key;
pub mod missing_referenced_table;
pub mod mysql_syntax_in_postgres;
pub mod prefer_timestamptz;
pub mod sql_syntax_error;
pub mod update_without_where;

use std::collections::HashMap;
use std::path::Path;

use crate::rules::Context;
use crate::schema::model::{SchemaModel, Table, sql_operations};
use crate::schema::{Operation, is_versioned};
use crate::syntax::sql_statements::SqlStatement;

pub use crate::schema::is_down_migration;

/// Each statement of the file with the offset its item starts at (statement ranges
/// are the item's).
pub fn statements<'c>(context: &'c Context) -> impl Iterator<Item = (usize, &'c SqlStatement)> {
    context.syntax.items().iter().flat_map(move |item| {
        item.sql(context.source)
            .statements
            .iter()
            .map(move |statement| (item.range.start, statement))
    })
}

/// Whether the SQL file at `path` is a migration: it stands in a migrations folder
/// (`migrations/`, `migrate/`, Alembic's `versions/`), or is named as Flyway
/// (`V3__add_orders.sql`) or golang-migrate/dbmate (`0003_add_orders.up.sql`) name
/// theirs. A down migration (`*.down.sql`, Flyway's undo `U3__...`) undoes one and is
/// not counted: destroying what the up migration made is its job.
pub fn is_migration(path: Option<&Path>) -> bool {
    let Some(path) = path else {
        return false;
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if is_down_migration(Some(path)) {
        return false;
    }
    let in_folder = path.parent().is_some_and(|folder| {
        folder.iter().any(|part| {
            matches!(
                part.to_string_lossy().to_ascii_lowercase().as_str(),
                "migrations" | "migration" | "migrate" | "versions" | "schema_migrations"
            )
        })
    });
    in_folder || name.ends_with(".up.sql") || is_versioned(&name, 'v')
}

/// Whether a statement before `before` (a byte offset of the file) creates `table`.
pub fn tables_created_before(context: &Context, before: usize) -> CreatedBefore {
    CreatedBefore {
        created: created_tables(context),
        before,
    }
}

/// The tables a file creates, each with where its `CREATE TABLE` starts: worked out
/// once per audit.
struct CreatedTables(Vec<(usize, String)>);

fn created_tables(context: &Context) -> std::rc::Rc<CreatedTables> {
    context.memo(|| {
        CreatedTables(
            statements(context)
                .flat_map(|(item_start, statement)| {
                    statement.schema.operations.iter().filter_map(
                        move |operation| match operation {
                            Operation::CreateTable { table, .. } => {
                                Some((item_start + statement.range.start, table.clone()))
                            }
                            _ => None,
                        },
                    )
                })
                .collect(),
        )
    })
}

/// The tables created before a point of the file (`tables_created_before`).
pub struct CreatedBefore {
    created: std::rc::Rc<CreatedTables>,
    before: usize,
}

impl CreatedBefore {
    pub fn contains(&self, table: &str) -> bool {
        self.created
            .0
            .iter()
            .any(|(at, created)| *at < self.before && created == table)
    }
}

/// Whether `range` (of this file) is where `table` is first created in the workspace:
/// findings about a table are reported once, there. The file must be the first to
/// create it, and `range` its first `CREATE TABLE` of it in the text as it is now (the
/// index may hold an older text's offsets).
pub fn first_created_here(
    context: &Context,
    table: &Table,
    range: &std::ops::Range<usize>,
) -> bool {
    let Some(first) = table.created.first() else {
        return false;
    };
    let same_file = context.path.is_none_or(|path| first.path.ends_with(path));
    let first_here = local_schema(context)
        .table(&table.name)
        .and_then(|local| local.created.first())
        .is_some_and(|local| local.range == *range);
    same_file && first_here
}

/// The tables a Python module's models declare (`from_models`), as its text is now:
/// read once per audit (two rules read them).
pub fn model_tables(context: &Context) -> std::rc::Rc<crate::schema::model::FileSchema> {
    context.memo(|| crate::schema::from_models::read_parsed(context.source, context.syntax))
}

/// The schema this file's own text describes, as it is now: worked out once per audit.
fn local_schema(context: &Context) -> std::rc::Rc<SchemaModel> {
    context.memo(|| {
        let operations = sql_operations(context.source, context.syntax);
        let path: std::sync::Arc<Path> =
            std::sync::Arc::from(context.path.unwrap_or(Path::new("")));
        SchemaModel::of_file(&path, &operations)
    })
}

/// Every column the table `name` ever had, in the workspace's files or in this file's
/// text as it is now: `Some(None)` when none creates it, `None` while the workspace's
/// schema is not known.
pub fn table_history(context: &Context, name: &str) -> Option<Option<Vec<String>>> {
    let lookups = lookups(context);
    if let Some(known) = lookups.histories.borrow().get(name) {
        return known.clone();
    }
    let answer = look_up_history(context, name);
    lookups
        .histories
        .borrow_mut()
        .insert(name.to_string(), answer.clone());
    answer
}

fn look_up_history(context: &Context, name: &str) -> Option<Option<Vec<String>>> {
    let workspace = context.table_history(name)?;
    if schema_is_current(context) {
        return Some(workspace);
    }
    let local = local_schema(context).history(name);
    Some(match (workspace, local) {
        (None, local) => local,
        (workspace, None) => workspace,
        (Some(mut workspace), Some(local)) => {
            workspace.extend(local);
            workspace.sort();
            workspace.dedup();
            Some(workspace)
        }
    })
}

/// What the workspace's schema says of the table `name`, with what this file's text
/// says now laid over it (the index holds the file's facts as of its last pause, or of
/// the text before a fix): `Some(None)` when no file creates it, `None` while the
/// workspace's schema is not known.
pub fn table(context: &Context, name: &str) -> Option<Option<std::sync::Arc<Table>>> {
    let lookups = lookups(context);
    if let Some(known) = lookups.tables.borrow().get(name) {
        return known.clone();
    }
    let answer = look_up_table(context, name);
    lookups
        .tables
        .borrow_mut()
        .insert(name.to_string(), answer.clone());
    answer
}

/// What this audit has asked of the schema, each table once: rules ask about the same
/// few tables for every foreign key.
#[derive(Default)]
struct Lookups {
    tables: std::cell::RefCell<HashMap<String, Option<Option<std::sync::Arc<Table>>>>>,
    histories: std::cell::RefCell<HashMap<String, Option<Option<Vec<String>>>>>,
}

fn lookups(context: &Context) -> std::rc::Rc<Lookups> {
    context.memo(Lookups::default)
}

/// Whether the workspace's schema already holds this file's text as it is now: then
/// what it says needs no overlay. Worked out once per audit.
fn schema_is_current(context: &Context) -> bool {
    struct Current(bool);
    context.memo(|| Current(context.schema_is_current())).0
}

fn look_up_table(context: &Context, name: &str) -> Option<Option<std::sync::Arc<Table>>> {
    let workspace = context.table(name)?;
    if schema_is_current(context) {
        return Some(workspace);
    }
    let local = local_schema(context).table(name).cloned();
    // A migration is history: the schema its successors leave is the truth (a table it
    // makes may have been dropped or renamed since), but the indexes its own text adds
    // count at once (a fix that adds one must see it).
    if is_migration(context.path) {
        return Some(workspace.map(|workspace| match local {
            Some(local) => std::sync::Arc::new(workspace.with_index_leads_of(&local)),
            None => workspace,
        }));
    }
    Some(match (workspace, local) {
        (None, local) => local,
        (workspace, None) => workspace,
        (Some(workspace), Some(local)) => Some(std::sync::Arc::new(workspace.overlaid_by(&local))),
    })
}

/// Whether the file at `path` exists to reset data: seeds, fixtures, tests, and
/// scripts named for resetting or cleaning up (`reset.sql`, `teardown.sql`), where
/// emptying a table is the point.
pub fn resets_data(path: Option<&Path>) -> bool {
    let Some(path) = path else {
        return false;
    };
    let folders = path.parent().into_iter().flat_map(Path::iter).any(|part| {
        matches!(
            part.to_string_lossy().to_ascii_lowercase().as_str(),
            "seed" | "seeds" | "seeders" | "fixtures" | "test" | "tests" | "testdata"
        )
    });
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    folders
        || [
            "seed", "reset", "teardown", "cleanup", "clean_up", "truncate", "fixture", "test",
        ]
        .iter()
        .any(|word| stem.contains(word))
}

/// From the statement's first token through the name `table` after it (`DELETE FROM
/// app.sessions`): where findings about a whole statement point.
pub fn head_through(statement: &SqlStatement, item: &str, table: &str) -> std::ops::Range<usize> {
    let text = statement.text(item);
    let tokens = &statement.tokens;
    let start = tokens.first().map_or(0, |token| token.range.start);
    let end = tokens
        .iter()
        .find(|token| token.is_name() && token.name(text) == table)
        .or(tokens.get(1))
        .map_or(text.len(), |token| token.range.end);
    start..end.max(start)
}

/// Whether the file at `path` says what the project's PostgreSQL schema is or does:
/// not SQL for another database, and not a down migration (which restores an older
/// schema). The rules about design, data and the schema judge only these.
pub fn describes_current_schema(path: Option<&Path>) -> bool {
    !is_for_another_database(path) && !is_down_migration(path)
}

/// Databases whose SQL is not PostgreSQL's, as file and folder names spell them.
const OTHER_DIALECTS: &[&str] = &[
    "mysql",
    "mariadb",
    "sqlite",
    "mssql",
    "sqlserver",
    "tsql",
    "oracle",
    "plsql",
    "snowflake",
    "bigquery",
    "clickhouse",
    "duckdb",
    "redshift",
    "hive",
    "spark",
    "trino",
    "presto",
    "athena",
    "db2",
    "teradata",
    "h2",
    "hsqldb",
    "derby",
    "cockroach",
];

/// Whether the file at `path` is written for another database, as its name or a
/// folder's says (`migrations/mysql/001.sql`, `schema.sqlite.sql`): its SQL is not
/// judged by PostgreSQL's grammar.
pub fn is_for_another_database(path: Option<&Path>) -> bool {
    let Some(path) = path else {
        return false;
    };
    path.iter().any(|part| {
        let part = part.to_string_lossy().to_ascii_lowercase();
        part.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| {
                OTHER_DIALECTS.iter().any(|dialect| {
                    word == *dialect
                        || word
                            .strip_prefix(dialect)
                            .is_some_and(|rest| rest.bytes().all(|byte| byte.is_ascii_digit()))
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_read_from_folder_and_file_names() {
        for path in [
            "db/migrations/0001_init.sql",
            "alembic/versions/abc_add_orders.sql",
            "sql/V3__add_orders.sql",
            "db/0004_add_orders.up.sql",
            "migrations/2024-01-01-000000_add_orders/up.sql",
        ] {
            assert!(is_migration(Some(Path::new(path))), "{path}");
        }
        for path in [
            "db/schema.sql",
            "db/migrations/0004_add_orders.down.sql",
            "migrations/2024-01-01-000000_add_orders/down.sql",
            "sql/U3__add_orders.sql",
            "seeds/version.sql",
        ] {
            assert!(!is_migration(Some(Path::new(path))), "{path}");
        }
    }

    #[test]
    fn another_database_is_read_from_file_and_folder_names() {
        for path in [
            "db/mysql/schema.sql",
            "schema.sqlite3.sql",
            "migrations/mysql8/001_init.sql",
            "warehouse/snowflake-views.sql",
        ] {
            assert!(is_for_another_database(Some(Path::new(path))), "{path}");
        }
        for path in [
            "db/schema.sql",
            "archive/old.sql",
            "postgres/init.sql",
            "sparkle.sql",
        ] {
            assert!(!is_for_another_database(Some(Path::new(path))), "{path}");
        }
    }
}
