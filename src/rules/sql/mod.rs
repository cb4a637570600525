//! Rules for SQL files (PostgreSQL), and what they share: the statements of every
//! item (read once per item, `syntax::sql_statements`) and whether a file is written
//! for another database.

pub mod mysql_syntax_in_postgres;
pub mod sql_syntax_error;

use std::path::Path;

use crate::rules::Context;
use crate::syntax::sql_statements::SqlStatement;

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
