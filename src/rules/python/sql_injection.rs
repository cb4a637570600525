//! ## What it does
//! Finds SQL built from run-time values with an f-string, `%` formatting, `.format()` or
//! `+`, and passed to something that runs it: `cursor.execute`/`executemany`,
//! `session.execute`, `engine.execute`, `connection.exec_driver_sql`, SQLAlchemy's
//! `text()`, Django's `Model.objects.raw()`, and asyncpg's `fetch`/`fetchrow`/
//! `fetchval`/`execute`. The SQL may be built on the spot or in a variable assigned
//! earlier in the same function. Only strings that start like a SQL statement count,
//! and f-strings whose fields are all UPPER_CASE constants or numbers are fine.
//!
//! ## Why is this bad?
//! A value spliced into SQL text becomes SQL: a user name like `x' OR '1'='1` reads
//! every row, and `'; DROP TABLE orders; --` does worse. Escaping by hand misses cases.
//! Bound parameters send values separately from the statement, so no value can change
//! what the statement does (and the database can reuse the plan).
//!
//! ## Example
//! ```python
//! def find_user(session, email):
//!     return session.execute(text(f"SELECT * FROM users WHERE email = '{email}'"))
//!
//! def find_order(cursor, order_id):
//!     cursor.execute("SELECT * FROM orders WHERE id = %s" % order_id)
//! ```
//!
//! ## Use instead
//! ```python
//! def find_user(session, email):
//!     return session.execute(text("SELECT * FROM users WHERE email = :email").bindparams(email=email))
//!
//! def find_order(cursor, order_id):
//!     cursor.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
//! ```
//!
//! ## Fix safety
//! Unsafe: the values become bound parameters, so their types reach the database as
//! they are (a number stays a number instead of becoming text), which can change how
//! the query compares them. The fix is offered when every field is a plain name or
//! attribute (`{email}`, `{user.id}`) standing where a value may (after `=`, `<`, `>`,
//! `LIKE`, `LIMIT`, `OFFSET`, or in a `VALUES` list), with the quotes around it removed:
//! - `text(f"...")` becomes `text("... :name").bindparams(name=name)`;
//! - DB-API calls get `%s` placeholders and a tuple of values (psycopg, psycopg2,
//!   PyMySQL, MySQLdb, Django's `raw`), or `?` for `sqlite3`;
//! - asyncpg calls get `$1, $2, ...` and the values as extra arguments;
//! - `"... %s" % values` on a `%s` driver becomes `"... %s", values`.
//!
//! Which style applies is read from the module's imports; when they do not say (or say
//! two things), there is no fix. Table and column names cannot be parameters: build
//! them from an allow-list instead.
//!
//! ## Known problems
//! SQL assembled across functions, or in a variable changed after its assignment
//! (`query += ...`), is not followed.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::sql::{
    Built, SinkKind, SqlSink, built_sql, interpolations, looks_like_sql, string_body,
};
use super::{ModuleFacts, positional_arguments};
use crate::language::Language;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, node_text,
};
use crate::semantic::python::imports::dotted_name;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "sql-injection",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "SQL built from values with an f-string, `%`, `.format()` or `+` and then run",
    triggers: &[
        "select", "insert", "update", "delete", "with", "create", "alter", "drop", "truncate",
        "grant", "revoke", "merge", "copy", "explain", "call", "upsert", "replace",
    ],
    text_test: Some(may_build_sql),
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

fn may_build_sql(text: &str) -> bool {
    super::sql::may_run_sql(text) && super::sql::mentions_sql_string(text)
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let Some(sink) = SqlSink::of(site, source, facts) else {
            continue;
        };
        let Some(built) = built_sql(sink.sql, facts, source) else {
            continue;
        };
        if !looks_like_sql(built.leading_text(source)) || only_constants(&built, source) {
            continue;
        }
        let node = built.node();
        let mut finding = RULE.finding(
            node.byte_range(),
            format!(
                "SQL built with {} is passed to `{}`: a value containing a quote can change the query (SQL injection); pass values as bound parameters",
                built.how(),
                sink.name(source)
            ),
        );
        // Fix only what is built in place: the call is where the parameters go.
        if node.id() == sink.sql.id() {
            finding.fix = bound_parameters(&sink, &built, facts, source)
                .map(|edits| Fix::unsafe_("Pass the values as bound parameters", edits));
        }
        findings.push(finding);
    }
}

/// An f-string whose fields are all constants (`{TABLE}`, `{10}`): not user input.
fn only_constants(built: &Built, source: &str) -> bool {
    let Built::FString(string) = built else {
        return false;
    };
    interpolations(*string).iter().all(|field| {
        field.field(Field::Expression).is_some_and(|expression| {
            let text = node_text(expression, source);
            matches!(expression.python_kind(), Kind::Integer | Kind::Float)
                || (expression.python_kind() == Kind::Identifier
                    && text.chars().any(|c| c.is_ascii_uppercase())
                    && !text.chars().any(|c| c.is_ascii_lowercase()))
        })
    })
}

/// How placeholders are written for the library that runs the SQL.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    /// SQLAlchemy `text()`: `:name`, values through `.bindparams(name=...)`.
    Named,
    /// DB-API "format": `%s`, values as a tuple (a list for Django's `raw`).
    Format,
    /// sqlite3: `?`, values as a tuple.
    Qmark,
    /// asyncpg: `$1`, values as extra arguments.
    Numbered,
}

fn style_of(sink: &SqlSink, facts: &ModuleFacts, source: &str) -> Option<Style> {
    if sink.kind == SinkKind::Text {
        return Some(Style::Named);
    }
    let imported = |module: &str| facts.semantic.imports.imports_module(module);
    let method = sink
        .call
        .field(Field::Function)
        .and_then(|function| function.field(Field::Attribute))
        .map_or("", |method| node_text(method, source));
    let format_driver = ["psycopg2", "psycopg", "pymysql", "MySQLdb"]
        .iter()
        .any(|m| imported(m));
    let (asyncpg, sqlite) = (imported("asyncpg"), imported("sqlite3"));
    match method {
        "raw" => Some(Style::Format),
        "fetch" | "fetchrow" | "fetchval" => asyncpg.then_some(Style::Numbered),
        "execute" | "executemany" => match (format_driver, sqlite, asyncpg) {
            (true, false, false) => Some(Style::Format),
            (false, true, false) => Some(Style::Qmark),
            (false, false, true) if method == "execute" => Some(Style::Numbered),
            _ => None,
        },
        _ => None,
    }
}

fn bound_parameters(
    sink: &SqlSink,
    built: &Built,
    facts: &ModuleFacts,
    source: &str,
) -> Option<Vec<Edit>> {
    let style = style_of(sink, facts, source)?;
    // The SQL must be the call's only positional argument: the values go after it.
    if sink.kind == SinkKind::Method && positional_arguments(sink.call).len() != 1 {
        return None;
    }
    match built {
        Built::FString(string) => {
            let (literal, values) = parametrize(*string, style, source)?;
            let mut edits = vec![Edit::replace(string.byte_range(), literal)];
            let method = sink
                .call
                .field(Field::Function)
                .and_then(|f| f.field(Field::Attribute));
            let as_list = method.is_some_and(|method| node_text(method, source) == "raw");
            edits.push(match style {
                Style::Named => Edit::insert(
                    sink.call.end_byte(),
                    format!(
                        ".bindparams({})",
                        values
                            .iter()
                            .map(|(name, value)| format!("{name}={value}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Style::Format | Style::Qmark => Edit::insert(
                    string.end_byte(),
                    format!(", {}", sequence(&values, as_list)),
                ),
                Style::Numbered => Edit::insert(
                    string.end_byte(),
                    values
                        .iter()
                        .map(|(_, value)| format!(", {value}"))
                        .collect::<String>(),
                ),
            });
            Some(edits)
        }
        Built::Percent(_, format, values) if style == Style::Format => {
            let body = string_body(*format, source);
            let only_plain_s = body
                .replace("%%", "")
                .match_indices('%')
                .all(|(at, _)| body.replace("%%", "")[at..].starts_with("%s"));
            if !only_plain_s || body.contains("'%s'") || body.contains("\"%s\"") {
                return None;
            }
            let mut edits = vec![Edit::replace(format.end_byte()..values.start_byte(), ", ")];
            if values.python_kind() != Kind::Tuple {
                edits.push(Edit::insert(values.start_byte(), "("));
                edits.push(Edit::insert(values.end_byte(), ",)"));
            }
            Some(edits)
        }
        _ => None,
    }
}

fn sequence(values: &[(String, String)], as_list: bool) -> String {
    let items: Vec<&str> = values.iter().map(|(_, value)| value.as_str()).collect();
    match (as_list, items.as_slice()) {
        (true, _) => format!("[{}]", items.join(", ")),
        (false, [one]) => format!("({one},)"),
        (false, _) => format!("({})", items.join(", ")),
    }
}

/// The f-string as a plain literal with placeholders, and `(parameter name, value)` for
/// each distinct field; `None` when a field is not a plain name where a value may stand.
fn parametrize(
    string: Node,
    style: Style,
    source: &str,
) -> Option<(String, Vec<(String, String)>)> {
    let start = string
        .named_child(0)
        .filter(|start| start.python_kind() == Kind::StringStart)?;
    let end = string
        .named_child(string.named_child_count().checked_sub(1)? as u32)
        .filter(|end| end.python_kind() == Kind::StringEnd)?;
    let prefix = node_text(start, source).replace(['f', 'F'], "");
    let fields = interpolations(string);
    // The literal pieces around the fields, `{{`/`}}` unescaped.
    let mut pieces: Vec<String> = Vec::new();
    let mut at = start.end_byte();
    for field in &fields {
        pieces.push(unescape_braces(source.get(at..field.start_byte())?, style));
        at = field.end_byte();
    }
    pieces.push(unescape_braces(source.get(at..end.start_byte())?, style));

    let mut values: Vec<(String, String)> = Vec::new();
    let mut literal = prefix;
    for (index, field) in fields.iter().enumerate() {
        let expression = field.field(Field::Expression)?;
        if field.named_child_count() != 1 {
            return None; // `!r` or a format spec
        }
        let value = dotted_name(expression, source)?;
        let (before, after) = pieces.split_at_mut(index + 1);
        let (before, after) = (&mut before[index], &mut after[0]);
        if before.ends_with('\'') && after.starts_with('\'') {
            before.pop();
            after.remove(0);
        } else if before.ends_with('\'') || after.starts_with('\'') {
            return None; // inside a longer quoted text (`'%{q}%'`)
        }
        let sql_so_far = format!("{literal}{before}");
        if !value_position(&sql_so_far)
            || after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return None;
        }
        let name = parameter_name(&value, &values)?;
        let placeholder = match style {
            Style::Named => format!(":{name}"),
            Style::Format => "%s".to_string(),
            Style::Qmark => "?".to_string(),
            Style::Numbered => format!("${}", values.len() + 1),
        };
        literal.push_str(before);
        literal.push_str(&placeholder);
        let reused = style == Style::Named && values.iter().any(|(existing, _)| *existing == name);
        if !reused {
            values.push((name, value));
        }
    }
    literal.push_str(pieces.last()?);
    literal.push_str(node_text(end, source));
    Some((literal, values))
}

fn unescape_braces(text: &str, style: Style) -> String {
    let text = text.replace("{{", "{").replace("}}", "}");
    if style == Style::Format {
        text.replace('%', "%%")
    } else {
        text
    }
}

/// Whether the SQL written so far ends where a value may follow.
fn value_position(sql: &str) -> bool {
    let trimmed = sql.trim_end();
    if trimmed.ends_with(['=', '<', '>']) {
        return true;
    }
    if trimmed.ends_with(['(', ',']) {
        return trimmed.to_ascii_uppercase().contains("VALUES");
    }
    let last_word: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    ["LIKE", "ILIKE", "LIMIT", "OFFSET"]
        .iter()
        .any(|word| last_word.eq_ignore_ascii_case(word))
        && trimmed.len() > last_word.len()
}

/// `user.id` -> `user_id`; a name already used for another value gets a suffix.
fn parameter_name(value: &str, values: &[(String, String)]) -> Option<String> {
    let base = value.replace('.', "_");
    if let Some((name, _)) = values.iter().find(|(_, existing)| existing == value) {
        return Some(name.clone());
    }
    let mut name = base.clone();
    let mut suffix = 2;
    while values.iter().any(|(existing, _)| *existing == name) {
        name = format!("{base}_{suffix}");
        suffix += 1;
    }
    Some(name)
}
