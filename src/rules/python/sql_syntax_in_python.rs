//! ## What it does
//! Parses the SQL string literals that Python code runs (the first argument of
//! `execute`, `executemany`, `exec_driver_sql`, `text()`, `raw()`, asyncpg's `fetch*`,
//! given directly or through a variable assigned in the same function) as PostgreSQL,
//! with `sqlparser`, and reports the first error where it is in the Python string.
//! Placeholders are understood: `%s`, `%(name)s`, `:name`, `$1`.
//!
//! Modules that import `sqlite3` or a MySQL driver (`pymysql`, `MySQLdb`,
//! `mysql.connector`, `aiomysql`) are not talking to PostgreSQL and are skipped.
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
//! `sqlparser` accepts some syntax PostgreSQL rejects (and may, rarely, reject newer
//! PostgreSQL syntax). Literals with backslash escapes, implicitly concatenated literals,
//! SQL kept in module-level constants, and SQL built at run time (see `sql-injection`)
//! are not parsed.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use tree_sitter::Node;

use super::sql::{SinkKind, SqlSink, looks_like_sql};
use super::{enclosing_scope, string_value, walk_local_scope};
use crate::language::Language;
use crate::rules::{Context, Finding, FixAvailability, Rule, Severity, node_text};

pub const RULE: Rule = Rule {
    id: "sql-syntax-in-python",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::None,
    summary: "A SQL string literal run from Python that PostgreSQL would reject",
    triggers: &["execute", "text", "raw", "fetch"],
    text_test: Some(may_hold_sql_literal),
    whole_module: false,
    check,
};

/// Drivers of other databases: their SQL is not PostgreSQL's.
const OTHER_DATABASES: &[&str] = &[
    "sqlite3",
    "aiosqlite",
    "pymysql",
    "MySQLdb",
    "mysql",
    "aiomysql",
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
        .any(|database| facts.imports.imports_module(database));
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
        // `text()` only ever holds SQL; a method called `execute` may run anything, so
        // its string must at least start like a statement.
        let must_look_like_sql = sink.kind == SinkKind::Method;
        if let Some(finding) = check_literal(literal, source, must_look_like_sql) {
            findings.push(finding);
        }
    }
}

/// The plain string literal the SQL argument is, or was assigned from in this function.
fn literal_sql<'t>(
    argument: Node<'t>,
    facts: &super::ModuleFacts<'t>,
    source: &str,
) -> Option<Node<'t>> {
    if argument.kind() == "string" {
        return Some(argument);
    }
    if argument.kind() != "identifier" {
        return None;
    }
    let name = node_text(argument, source);
    let ancestors = facts.ancestry.ancestors(argument);
    let scope =
        enclosing_scope(&ancestors).filter(|scope| scope.kind() == "function_definition")?;
    let mut last = None;
    walk_local_scope(scope, |node| {
        if node.kind() == "assignment" && node.start_byte() < argument.start_byte() {
            let assigns = node
                .child_by_field_name("left")
                .is_some_and(|left| left.kind() == "identifier" && node_text(left, source) == name);
            if assigns {
                last = node.child_by_field_name("right");
            }
        }
    });
    last.filter(|value| value.kind() == "string")
}

fn check_literal(literal: Node, source: &str, must_look_like_sql: bool) -> Option<Finding> {
    let sql = string_value(literal, source)?;
    let prefix_is_raw = literal
        .named_child(0)
        .is_some_and(|start| node_text(start, source).to_ascii_lowercase().contains('r'));
    if (must_look_like_sql && !looks_like_sql(sql)) || (sql.contains('\\') && !prefix_is_raw) {
        return None;
    }
    let content_start = literal.named_child(0)?.end_byte();
    let error = match Parser::parse_sql(&PostgreSqlDialect {}, &with_postgres_placeholders(sql)) {
        Ok(_) => return None,
        Err(error) => error.to_string(),
    };
    let (problem, location) = split_location(&error);
    let problem = problem.replace("found: EOF", "but the statement ends there");
    // No location: the statement ended early; point at its last word.
    let offset = location
        .and_then(|(line, column)| offset_of(sql, line, column))
        .unwrap_or_else(|| {
            let code = sql.trim_end();
            code.char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(0, |(at, space)| at + space.len_utf8())
        });
    // Through the end of the token there (at least its first character).
    let rest = sql.get(offset..).unwrap_or("");
    let first_character = rest.chars().next().map_or(0, char::len_utf8);
    let token_length = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ')' | '(' | ';'))
        .unwrap_or(rest.len())
        .max(first_character);
    let start = content_start + offset;
    let end = (start + token_length)
        .min(content_start + sql.len())
        .max(start);
    Some(RULE.finding(
        start..end,
        format!("PostgreSQL would reject this SQL: {problem}"),
    ))
}

/// Placeholders of other styles rewritten, keeping every position, into ones the
/// PostgreSQL dialect parses: `%s` -> `$1`, `%(name)s` -> `$1` padded, `%%` -> `% `.
fn with_postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(stripped) = after.strip_prefix("%%") {
            out.push_str("% ");
            rest = stripped;
        } else if let Some(stripped) = after.strip_prefix("%s") {
            out.push_str("$1");
            rest = stripped;
        } else if let Some(close) = after.strip_prefix("%(").and_then(|inner| inner.find(")s")) {
            let length = close + 4; // `%(` + name + `)s`
            out.push_str("$1");
            out.push_str(&" ".repeat(length - 2));
            rest = &after[length..];
        } else {
            out.push('%');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `"Expected: X, found: Y at Line: 3, Column: 7"` -> (`"expected X, found Y"`, (3, 7)).
fn split_location(error: &str) -> (String, Option<(usize, usize)>) {
    let message = error
        .trim_start_matches("sql parser error: ")
        .trim_start_matches("sql tokenizer error: ");
    let Some((problem, location)) = message.rsplit_once(" at Line: ") else {
        return (message.replacen("Expected: ", "expected ", 1), None);
    };
    let parsed = location
        .split_once(", Column: ")
        .and_then(|(line, column)| Some((line.trim().parse().ok()?, column.trim().parse().ok()?)));
    (problem.replacen("Expected: ", "expected ", 1), parsed)
}

/// Byte offset of a 1-based line and character column in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line_text = text.get(line_start..)?;
    let within: usize = line_text
        .chars()
        .take(column.checked_sub(1)?)
        .map(char::len_utf8)
        .sum();
    let offset = line_start + within;
    (offset <= text.len()).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_positions() {
        let sql = "SELECT 1 WHERE a = %s AND b = %(name)s AND c LIKE 'x%%'";
        let rewritten = with_postgres_placeholders(sql);
        assert_eq!(rewritten.len(), sql.len());
        assert_eq!(
            rewritten,
            "SELECT 1 WHERE a = $1 AND b = $1       AND c LIKE 'x% '"
        );
    }

    #[test]
    fn locations_map_to_offsets() {
        assert_eq!(
            split_location(
                "sql parser error: Expected: an expression, found: ` at Line: 2, Column: 3"
            ),
            ("expected an expression, found: `".to_string(), Some((2, 3)))
        );
        assert_eq!(offset_of("ab\ncdé f", 2, 4), Some(7));
    }
}
