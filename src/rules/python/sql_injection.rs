//! ## What it does
//! Finds SQL built from run-time values with an f-string, `%` formatting, `.format()` or
//! `+`, and passed to something that runs it: `cursor.execute`/`executemany`,
//! `session.execute`, `engine.execute`, `connection.exec_driver_sql`, SQLAlchemy's
//! `text()`, Django's `Model.objects.raw()`, and asyncpg's `fetch`/`fetchrow`/
//! `fetchval`/`execute`. The SQL may be built on the spot or in a variable assigned
//! earlier in the same function. What `text()` wraps is SQL whatever it starts with (a
//! fragment such as `text(f"path <@ '{path}'::ltree")`); what other calls run counts
//! when it starts like a statement (`SELECT`, `SET`, `INSTALL`, `PRAGMA`, ...).
//!
//! Only values that may carry a quote are reported: those that come from a
//! parameter, request data, their attributes, or a call. Safe values, followed through
//! the function's assignments, are: literals, UPPER_CASE constants, what `int()`,
//! `float()`, `len()` and `uuid.UUID()` give, `range`/`enumerate` counters and loops
//! over literal collections, arithmetic on safe values (`{i + 1}`), strings joined from
//! safe pieces (`", ".join(f":id{i}" for i in range(n))`), and identifier quoting
//! (`quote_ident`, psycopg's `sql.Identifier`, SQLAlchemy's `quoted_name`), parameters
//! annotated `int`, `UUID`, `date` or `ZoneInfo` (and their attributes), class
//! constants (`cls._threshold`) and an `Enum`'s `self.value`.
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
//! (`query += ...`), is not followed. A value checked against an allow-list before it
//! is spliced (`if column not in ALLOWED: raise`) is still reported: silence it with a
//! comment that says so.

use std::ops::Range;

use ruff_python_ast::{ExprCall, ExprFString, InterpolatedStringElement};

use super::checker::{Checker, Hooks};
use super::helpers::method_name;
use super::provenance::all_safe;
use super::sql::{
    Built, SinkKind, SqlSink, body_range, built_sql, looks_like_sql, single_fstring, string_body,
};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};
use crate::semantic::python::imports::dotted_name_of;

pub const RULE: Rule = Rule {
    id: "sql-injection",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: true,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "SQL built from values with an f-string, `%`, `.format()` or `+` and then run",
    // What runs SQL (`may_run_sql`): the statement's verb varies too much to gate on.
    triggers: &[
        "sqlalchemy",
        "sqlmodel",
        "execute",
        "exec_driver_sql",
        "raw",
        "fetch",
    ],
    python_triggers: None,
    text_test: Some(may_build_sql),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

/// Something may run SQL, and some string starts like a statement or is wrapped in
/// `text(...)` (which may hold a fragment).
fn may_build_sql(text: &str) -> bool {
    super::sql::may_run_sql(text)
        && (super::sql::mentions_sql_string(text)
            || crate::rules::prefilter::contains(text, "text("))
}

fn check<'c>(checker: &Checker<'c, '_>, call: &'c ExprCall, findings: &mut Vec<Finding>) {
    let Some(sink) = SqlSink::of(checker, call) else {
        return;
    };
    let Some((built, base)) = built_sql(checker, sink.sql) else {
        return;
    };
    // What `text()` wraps is SQL whatever it starts with (a fragment: `'{x}'::ltree`);
    // what other calls run must start like a statement.
    let is_sql = sink.kind == SinkKind::Text || looks_like_sql(built.leading_text(checker, base));
    if !is_sql || all_safe(checker, built.spliced_values(), base) {
        return;
    }
    let range = built.range(checker, base);
    let mut finding = RULE.finding(
        range.clone(),
        format!(
            "SQL built with {} is passed to `{}`: a value containing a quote can change the query (SQL injection); pass values as bound parameters",
            built.how(),
            sink.name(checker)
        ),
    );
    // Fix only what is built in place: the call is where the parameters go.
    if range == checker.range(sink.sql) {
        finding.fix = bound_parameters(checker, &sink, &built)
            .map(|edits| Fix::unsafe_("Pass the values as bound parameters", edits));
    }
    findings.push(finding);
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

fn style_of(checker: &Checker, sink: &SqlSink) -> Option<Style> {
    if sink.kind == SinkKind::Text {
        return Some(Style::Named);
    }
    let imports = checker.imports();
    let imported = |module: &str| imports.imports_module(module);
    let method = method_name(sink.call).unwrap_or("");
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

fn bound_parameters(checker: &Checker, sink: &SqlSink, built: &Built) -> Option<Vec<Edit>> {
    let style = style_of(checker, sink)?;
    // The SQL must be the call's only positional argument: the values go after it.
    if sink.kind == SinkKind::Method && sink.call.arguments.args.len() != 1 {
        return None;
    }
    match built {
        Built::FString(string) => {
            let (literal, values) = parametrize(checker, string, style)?;
            let range = checker.range(*string);
            let mut edits = vec![Edit::replace(range.clone(), literal)];
            let as_list = method_name(sink.call) == Some("raw");
            edits.push(match style {
                Style::Named => Edit::insert(
                    checker.range(sink.call).end,
                    format!(
                        ".bindparams({})",
                        values
                            .iter()
                            .map(|(name, value)| format!("{name}={value}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Style::Format | Style::Qmark => {
                    Edit::insert(range.end, format!(", {}", sequence(&values, as_list)))
                }
                Style::Numbered => Edit::insert(
                    range.end,
                    values
                        .iter()
                        .map(|(_, value)| format!(", {value}"))
                        .collect::<String>(),
                ),
            });
            Some(edits)
        }
        Built::Percent(_, format, values) if style == Style::Format => {
            let body = string_body(checker, checker.range(*format));
            let only_plain_s = body
                .replace("%%", "")
                .match_indices('%')
                .all(|(at, _)| body.replace("%%", "")[at..].starts_with("%s"));
            if !only_plain_s || body.contains("'%s'") || body.contains("\"%s\"") {
                return None;
            }
            let values_range = checker.range(*values);
            let mut edits = vec![Edit::replace(
                checker.range(*format).end..values_range.start,
                ", ",
            )];
            if !values.is_tuple_expr() {
                edits.push(Edit::insert(values_range.start, "("));
                edits.push(Edit::insert(values_range.end, ",)"));
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
    checker: &Checker,
    string: &ExprFString,
    style: Style,
) -> Option<(String, Vec<(String, String)>)> {
    let source = checker.source;
    let range = checker.range(string);
    let Range {
        start: body_start,
        end: body_end,
    } = body_range(checker, range.clone());
    let prefix = source.get(range.start..body_start)?.replace(['f', 'F'], "");
    let closing = source.get(body_end..range.end)?;
    let fields: Vec<_> = single_fstring(string)?
        .elements
        .iter()
        .filter_map(|element| match element {
            InterpolatedStringElement::Interpolation(field) => Some(field),
            InterpolatedStringElement::Literal(_) => None,
        })
        .collect();
    // The literal pieces around the fields, `{{`/`}}` unescaped.
    let mut pieces: Vec<String> = Vec::new();
    let mut at = body_start;
    for field in &fields {
        let field_range = checker.range(*field);
        pieces.push(unescape_braces(source.get(at..field_range.start)?, style));
        at = field_range.end;
    }
    pieces.push(unescape_braces(source.get(at..body_end)?, style));

    let mut values: Vec<(String, String)> = Vec::new();
    let mut literal = prefix;
    for (index, field) in fields.iter().enumerate() {
        if field.conversion != ruff_python_ast::ConversionFlag::None
            || field.format_spec.is_some()
            || field.debug_text.is_some()
        {
            return None; // `!r`, `=` or a format spec
        }
        let value = dotted_name_of(&field.expression)?;
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
    literal.push_str(closing);
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
