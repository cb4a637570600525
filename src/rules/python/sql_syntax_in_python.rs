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
//! `postgresql_where`. Modules that import the driver of another database (`sqlite3`,
//! MySQL drivers, DuckDB, ClickHouse, Snowflake, SQL Server, Oracle) are skipped.
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
//! Only the grammar is checked: unknown tables, columns and functions are the server's
//! to find. Literals with backslash escapes, implicitly concatenated literals, SQL kept
//! in module-level constants, and SQL built at run time (see `sql-injection`) are not
//! parsed.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::sql::SqlSink;
use super::{enclosing_scope, string_value, walk_local_scope};
use crate::language::Language;
use crate::rules::postgres::first_rejection;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "sql-syntax-in-python",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::None,
    summary: "A SQL string literal run from Python that PostgreSQL would reject",
    triggers: &["execute", "text", "raw", "fetch"],
    text_test: Some(may_hold_sql_literal),
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
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
    text.contains("sqlalchemy")
        || text.contains("sqlmodel")
        || (super::sql::may_run_sql(text) && super::sql::mentions_sql_string(text))
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    let other_database = OTHER_DATABASES
        .iter()
        .any(|database| facts.semantic.imports.imports_module(database));
    if other_database {
        return;
    }
    for site in &facts.calls {
        let Some(sink) = SqlSink::of(site, source, facts) else {
            continue;
        };
        let Some(literal) = literal_sql(sink.sql, facts, source) else {
            continue;
        };
        if is_expression_argument(sink.call, source) {
            continue;
        }
        if let Some(finding) = check_literal(literal, source) {
            findings.push(finding);
        }
    }
}

/// `server_default=text("now()")` and the like: an expression by where it stands.
fn is_expression_argument(call: Node, source: &str) -> bool {
    call.parent()
        .filter(|parent| parent.python_kind() == Kind::KeywordArgument)
        .and_then(|argument| argument.field(Field::Name))
        .is_some_and(|name| EXPRESSION_KEYWORDS.contains(&node_text(name, source)))
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
fn literal_sql<'t>(
    argument: Node<'t>,
    facts: &super::ModuleFacts<'t>,
    source: &str,
) -> Option<Node<'t>> {
    if argument.python_kind() == Kind::String {
        return Some(argument);
    }
    if argument.python_kind() != Kind::Identifier {
        return None;
    }
    let name = node_text(argument, source);
    let ancestors = facts.ancestry.ancestors(argument);
    let scope = enclosing_scope(&ancestors)
        .filter(|scope| scope.python_kind() == Kind::FunctionDefinition)?;
    let mut last = None;
    walk_local_scope(scope, |node| {
        if node.python_kind() == Kind::Assignment && node.start_byte() < argument.start_byte() {
            let assigns = node.field(Field::Left).is_some_and(|left| {
                left.python_kind() == Kind::Identifier && node_text(left, source) == name
            });
            if assigns {
                last = node.field(Field::Right);
            }
        }
    });
    last.filter(|value| value.python_kind() == Kind::String)
}

fn check_literal(literal: Node, source: &str) -> Option<Finding> {
    let sql = string_value(literal, source)?;
    let prefix_is_raw = literal
        .named_child(0)
        .is_some_and(|start| node_text(start, source).to_ascii_lowercase().contains('r'));
    // Escapes make the string's text differ from the source's, and so every offset.
    if !starts_like_a_statement(sql) || (sql.contains('\\') && !prefix_is_raw) {
        return None;
    }
    let rejection = first_rejection(sql)?;
    let content_start = literal.named_child(0)?.end_byte();
    let start = content_start + rejection.range.start;
    let end = (content_start + rejection.range.end).max(start);
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
