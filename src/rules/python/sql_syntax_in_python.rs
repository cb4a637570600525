//! ## What it does
//! Parses the SQL statements that Python code runs as string literals (the first
//! argument of `execute`, `executemany`, `exec_driver_sql`, `text()`, `raw()`, asyncpg's
//! `fetch*`, given directly or through a variable assigned in the same function) with
//! PostgreSQL's own grammar (libpg_query, the server's parser), and reports the first
//! statement the server would reject, at the token where it stops. Placeholders of
//! every driver style parse: `:name`, `%s`, `%(name)s`, `$1`, `?` and expanding
//! `IN :ids`.
//!
//! Only statements are judged: a string that starts with no statement keyword is an
//! expression (`text("now()")`, `text("'{}'::jsonb")`), and so is every `text()` given
//! as `server_default`, `server_onupdate`, `default`, `onupdate`, `index_where` or
//! `postgresql_where`. SQL that runs on another database is not PostgreSQL's and is not
//! judged: modules that import the driver of another database (`sqlite3`, MySQL
//! drivers, DuckDB, ClickHouse, Snowflake, BigQuery, SQL Server, Oracle, Trino,
//! Databricks, Athena, Netezza) are skipped, and so are calls on a connection, client
//! or cursor of one made in another module (`from app.warehouse import duck`, where
//! `duck = duckdb.connect(...)`), which the workspace index follows, and on a SQLAlchemy
//! engine whose URL literal names another database (`create_engine("sqlite:///...")`)
//! or the connections it makes. Nor is SQL in a branch taken for another database (`if
//! url.startswith("mysql"):`, the `else` of `if url.startswith("postgres"):`), or in a
//! module that imports from a module named for one (`app.query_runner.duckdb`).
//!
//! ## Why is this bad?
//! SQL in a string is invisible to the Python tools: a typo (`SELEC`), MySQL syntax in a
//! PostgreSQL project (backtick quoting, `LIMIT 10, 20`, `AUTO_INCREMENT`) or a clause cut
//! short by an edit only fails when that code path runs, often in production, often in
//! an error handler nobody tested.
//!
//! ## Example
//! ```python
//! cursor.execute("SELECT `id`, `email` FROM users LIMIT 10, 20")
//! ```
//!
//! ## Use instead
//! ```python
//! cursor.execute('SELECT "id", "email" FROM users LIMIT 20 OFFSET 10')
//! ```
//!
//! ## Fix safety
//! No fix: the intended SQL is not known.
//!
//! ## Known problems
//! Sessions made from an engine of another database (`sessionmaker(bind=engine)`),
//! and engines whose URL comes from settings, are judged as PostgreSQL's. Only the
//! grammar is checked: unknown tables, columns and functions are the server's
//! to find. Literals with backslash escapes, implicitly concatenated literals, SQL kept
//! in module-level constants, and SQL built at run time (see `sql-injection`) are not
//! parsed.

use ruff_python_ast::{Expr, ExprCall, ExprStringLiteral};

use super::checker::{Checker, Hooks, Parent};
use super::helpers::last_assignment;
use super::sql::{SqlSink, body_range};
use crate::language::Language;
use crate::rules::postgres::first_rejection;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::semantic::python::BindingKind;
use ruff_python_ast::Stmt;

pub const RULE: Rule = Rule {
    id: "sql-syntax-in-python",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "A SQL string literal run from Python that PostgreSQL would reject",
    triggers: &["execute", "text", "raw", "fetch"],
    python_triggers: None,
    text_test: Some(may_hold_sql_literal),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// Drivers of other databases: their SQL is not PostgreSQL's.
const OTHER_DATABASES: &[&str] = &[
    "sqlite3",
    "aiosqlite",
    "pymysql",
    "MySQLdb",
    "mysql",
    "aiomysql",
    "duckdb",
    "clickhouse_driver",
    "clickhouse_connect",
    "snowflake",
    "pyodbc",
    "pymssql",
    "oracledb",
    "cx_Oracle",
    "google.cloud.bigquery",
    "trino",
    "databricks",
    "pyathena",
    "nzpy",
    "teradatasql",
];

/// Keyword arguments whose `text()` is a SQL expression, never a statement.
const EXPRESSION_KEYWORDS: &[&str] = &[
    "server_default",
    "server_onupdate",
    "default",
    "onupdate",
    "index_where",
    "postgresql_where",
    "sqlite_where",
];

/// Words a PostgreSQL statement starts with (after comments and an opening parenthesis).
const STATEMENT_KEYWORDS: &[&str] = &[
    "ABORT",
    "ALTER",
    "ANALYZE",
    "BEGIN",
    "CALL",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTER",
    "COMMENT",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DISCARD",
    "DO",
    "DROP",
    "END",
    "EXECUTE",
    "EXPLAIN",
    "FETCH",
    "GRANT",
    "IMPORT",
    "INSERT",
    "LISTEN",
    "LOAD",
    "LOCK",
    "MERGE",
    "MOVE",
    "NOTIFY",
    "PREPARE",
    "REASSIGN",
    "REFRESH",
    "REINDEX",
    "RELEASE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SECURITY",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "TABLE",
    "TRUNCATE",
    "UNLISTEN",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "WITH",
];

/// `text()` comes from SQLAlchemy (or SQLModel) and holds SQL whatever it says; other
/// sinks only get strings that start like a statement.
fn may_hold_sql_literal(text: &str) -> bool {
    crate::rules::prefilter::contains(text, "sqlalchemy")
        || crate::rules::prefilter::contains(text, "sqlmodel")
        || (super::sql::may_run_sql(text) && super::sql::mentions_sql_string(text))
}

fn check<'c>(checker: &Checker<'c, '_>, call: &'c ExprCall, findings: &mut Vec<Finding>) {
    // Most calls run no SQL: asked first.
    let Some(sink) = SqlSink::of(checker, call) else {
        return;
    };
    let imports = checker.imports();
    if OTHER_DATABASES
        .iter()
        .any(|database| imports.imports_module(database))
        || imports_a_dialects_module(checker)
    {
        return;
    }
    let Some(literal) = literal_sql(checker, sink.sql) else {
        return;
    };
    if is_expression_argument(checker) {
        return;
    }
    // What the connection is costs a lookup of the module's bindings: asked only of
    // SQL that PostgreSQL rejects (rare).
    if let Some(finding) = check_literal(checker, literal)
        && !runs_on_another_database(checker, call)
        && !in_another_dialects_branch(checker, call)
    {
        findings.push(finding);
    }
}

/// Whether the SQL of `call` runs on a connection of another database, wherever it was
/// made (this module or another, through the workspace): `conn.execute(...)` on a
/// `duckdb.connect()`, a cursor of a `sqlite3` connection, and `text(...)` handed to
/// one.
fn runs_on_another_database(checker: &Checker, call: &ExprCall) -> bool {
    let other_database = |runner: &ExprCall| match &*runner.func {
        Expr::Attribute(method) => {
            checker.kind_of(&method.value) == Some(BindingKind::OtherDatabase)
        }
        _ => false,
    };
    other_database(call)
        || checker.ancestors().iter().rev().any(|parent| {
            matches!(parent, Parent::Expression(Expr::Call(runner)) if other_database(runner))
        })
}

/// Words that name a database other than PostgreSQL, in a branch's test or a module's
/// path.
const OTHER_DIALECT_WORDS: &[&str] = &[
    "mysql",
    "mariadb",
    "sqlite",
    "mssql",
    "oracle",
    "duckdb",
    "clickhouse",
    "snowflake",
    "bigquery",
];

/// Whether the module imports from a module named for another database
/// (`from app.query_runner.duckdb import DuckDB`): its SQL is that database's.
fn imports_a_dialects_module(checker: &Checker) -> bool {
    checker.imports().ordered().iter().any(|(_, _, target)| {
        target
            .split('.')
            .any(|part| OTHER_DIALECT_WORDS.contains(&part.to_ascii_lowercase().as_str()))
    })
}

/// Whether `call` stands in a branch taken for another database: `if
/// url.startswith("mysql"):`, `if dialect.name == "sqlite":`, or the `else` of `if
/// url.startswith("postgres"):`.
fn in_another_dialects_branch(checker: &Checker, call: &ExprCall) -> bool {
    let at = checker.range(call).start;
    let mentions = |test: &Expr, words: &[&str]| {
        let text = checker.text(test).to_ascii_lowercase();
        words.iter().any(|word| text.contains(word))
    };
    checker.ancestors().iter().any(|parent| {
        let Parent::Statement(Stmt::If(branch)) = parent else {
            return false;
        };
        let in_body = |body: &[Stmt]| {
            body.first().zip(body.last()).is_some_and(|(first, last)| {
                checker.range(first).start <= at && at < checker.range(last).end
            })
        };
        if in_body(&branch.body) {
            return mentions(&branch.test, OTHER_DIALECT_WORDS);
        }
        let mut tests_before = vec![&*branch.test];
        for clause in &branch.elif_else_clauses {
            if in_body(&clause.body) {
                return match &clause.test {
                    Some(test) => mentions(test, OTHER_DIALECT_WORDS),
                    None => tests_before
                        .iter()
                        .any(|test| mentions(test, &["postgres", "psycopg", "asyncpg"])),
                };
            }
            tests_before.extend(clause.test.as_ref());
        }
        false
    })
}

/// `server_default=text("now()")` and the like: an expression by where it stands (the
/// call being judged is the value of such a keyword argument).
fn is_expression_argument(checker: &Checker) -> bool {
    matches!(
        checker.parent(),
        Some(Parent::Keyword(keyword))
            if keyword.arg.as_ref().is_some_and(|name| EXPRESSION_KEYWORDS.contains(&name.as_str()))
    )
}

/// Whether `sql` starts with a statement keyword (after white space, comments and
/// opening parentheses): only statements are judged.
fn starts_like_a_statement(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(comment) = trimmed.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            rest = trimmed;
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let after = &rest[word.len()..];
    if !(after.is_empty() || after.starts_with(|c: char| !c.is_alphanumeric() && c != '_')) {
        return false;
    }
    STATEMENT_KEYWORDS
        .iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
        || is_misspelt_statement(&word, after)
}

/// `SELEC id FROM users`: a word one edit away from a long statement keyword, in a
/// string that goes on like a statement (`FROM`, `INTO`, `SET`, `VALUES`, `TABLE`). An
/// expression such as `created IS NOT NULL` has none of those.
fn is_misspelt_statement(word: &str, rest: &str) -> bool {
    let word = word.to_ascii_uppercase();
    let near_keyword = STATEMENT_KEYWORDS
        .iter()
        .filter(|keyword| keyword.len() >= 5)
        .any(|keyword| within_one_edit(&word, keyword));
    near_keyword
        && rest.split(|c: char| !c.is_ascii_alphabetic()).any(|next| {
            ["FROM", "INTO", "SET", "VALUES", "TABLE"]
                .iter()
                .any(|structure| next.eq_ignore_ascii_case(structure))
        })
}

/// One insertion, deletion or substitution turns `a` into `b` (ASCII).
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if longer.len() - shorter.len() > 1 {
        return false;
    }
    let prefix = shorter
        .iter()
        .zip(longer)
        .take_while(|(x, y)| x == y)
        .count();
    if prefix == shorter.len() {
        return true;
    }
    if shorter.len() == longer.len() {
        shorter[prefix + 1..] == longer[prefix + 1..]
    } else {
        shorter[prefix..] == longer[prefix + 1..]
    }
}

/// The plain string literal the SQL argument is, or was assigned from in this function.
fn literal_sql<'c>(checker: &Checker<'c, '_>, argument: &'c Expr) -> Option<&'c ExprStringLiteral> {
    let value = match argument {
        Expr::Name(name) => {
            // In the function: the item being traversed.
            last_assignment(checker, &name.id, checker.range(argument).start, false)?.value
        }
        _ => argument,
    };
    match value {
        Expr::StringLiteral(literal) if !literal.value.is_implicit_concatenated() => Some(literal),
        _ => None,
    }
}

fn check_literal(checker: &Checker, literal: &ExprStringLiteral) -> Option<Finding> {
    let range = checker.range(literal);
    let body = body_range(checker, range.clone());
    let sql = checker.source.get(body.clone())?;
    let prefix_is_raw = checker
        .source
        .get(range.start..body.start)
        .is_some_and(|prefix| prefix.to_ascii_lowercase().contains('r'));
    // Escapes make the string's text differ from the source's, and so every offset.
    if !starts_like_a_statement(sql) || (sql.contains('\\') && !prefix_is_raw) {
        return None;
    }
    let rejection = first_rejection(sql)?;
    let start = body.start + rejection.range.start;
    let end = (body.start + rejection.range.end).max(start);
    Some(RULE.finding(
        start..end,
        format!("PostgreSQL would reject this SQL: {}", rejection.message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statements_are_judged() {
        for statement in [
            "SELECT 1",
            "  (SELECT 1)",
            "-- why\nDELETE FROM t",
            "/* x */ with a as (select 1) select * from a",
            "vacuum",
        ] {
            assert!(starts_like_a_statement(statement), "{statement}");
        }
        assert!(starts_like_a_statement(
            "SELEC id FROM users WHERE id = :id"
        ));
        assert!(starts_like_a_statement("INSRT INTO t VALUES (1)"));
        for expression in [
            "created IS NOT NULL",
            "deleted_at IS NULL",
            "now()",
            "gen_random_uuid()",
            "'{}'::jsonb",
            "false",
            "turn_id IS NOT NULL",
            "(cursor_state ->> 'team_id')",
            "selected = true",
            "current_timestamp(0)",
        ] {
            assert!(!starts_like_a_statement(expression), "{expression}");
        }
    }
}
