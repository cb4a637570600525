//! Where Python code hands SQL to a database, and how that SQL was written: shared by
//! `sql-injection` (SQL built from values) and `sql-syntax-in-python` (SQL literals
//! PostgreSQL would reject). Reads Ruff's tree only.

use std::ops::Range;

use ruff_python_ast::{
    Expr, ExprBinOp, ExprCall, ExprFString, ExprStringLiteral, InterpolatedStringElement, Operator,
};

use super::checker::Checker;
use super::helpers::{last_assignment, method_name};
use crate::semantic::python::imports::qualified_name_of;

/// Methods that run the SQL in their first argument, on whatever receiver: DB-API
/// cursors, SQLAlchemy sessions/connections/engines, asyncpg connections and pools,
/// Django managers (`raw`).
const EXECUTING_METHODS: &[&str] = &[
    "execute",
    "executemany",
    "exec_driver_sql",
    "raw",
    "fetch",
    "fetchrow",
    "fetchval",
];

/// Functions that wrap SQL text.
const SQL_TEXT_FUNCTIONS: &[&str] = &[
    "sqlalchemy.text",
    "sqlalchemy.sql.text",
    "sqlalchemy.sql.expression.text",
    "sqlmodel.text",
];

/// Words a statement starts with.
const SQL_VERBS: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT",
    "REVOKE", "MERGE", "COPY", "EXPLAIN", "CALL", "UPSERT", "REPLACE", "SET", "SHOW", "COMMENT",
    "VACUUM", "ANALYZE", "REINDEX", "REFRESH", "LOCK", "ATTACH", "DETACH", "INSTALL", "LOAD",
    "PRAGMA", "DESCRIBE",
];

/// A call that runs or wraps SQL, and the argument holding it.
#[derive(Clone, Copy)]
pub struct SqlSink<'t> {
    pub call: &'t ExprCall,
    pub sql: &'t Expr,
    pub kind: SinkKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SinkKind {
    /// `text(...)` and friends.
    Text,
    /// `<receiver>.<method>(...)`.
    Method,
}

impl<'t> SqlSink<'t> {
    pub fn of(checker: &Checker, call: &'t ExprCall) -> Option<SqlSink<'t>> {
        let kind = if method_name(call).is_some_and(|method| EXECUTING_METHODS.contains(&method)) {
            SinkKind::Method
        } else if may_name_text(&call.func, checker)
            && qualified_name_of(&call.func, checker.imports())
                .is_some_and(|name| SQL_TEXT_FUNCTIONS.contains(&name.as_str()))
        {
            SinkKind::Text
        } else {
            return None;
        };
        let arguments = &call.arguments;
        let sql = arguments
            .args
            .iter()
            .find(|argument| !argument.is_starred_expr())
            .or_else(|| {
                ["sql", "query", "statement", "operation", "raw_query"]
                    .iter()
                    .find_map(|keyword| arguments.find_keyword(keyword))
                    .map(|keyword| &keyword.value)
            })?;
        Some(SqlSink { call, sql, kind })
    }

    /// `cursor.execute` for messages.
    pub fn name<'s>(&self, checker: &Checker<'_, 's>) -> &'s str {
        checker.text(&*self.call.func)
    }
}

/// Whether a callee may be one of `SQL_TEXT_FUNCTIONS`, told without building its
/// qualified name (every call of a module is asked, twice): `<module>.text`, or a name
/// imported from somewhere as `text` or under another name.
fn may_name_text(callee: &Expr, checker: &Checker) -> bool {
    match callee {
        Expr::Attribute(attribute) => attribute.attr.as_str() == "text",
        Expr::Name(name) => checker
            .imports()
            .resolve(name.id.as_str())
            .is_some_and(|target| target.ends_with(".text")),
        _ => false,
    }
}

/// Whether a piece of literal text starts like a SQL statement.
pub fn looks_like_sql(text: &str) -> bool {
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let word: String = start
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    SQL_VERBS.iter().any(|verb| word.eq_ignore_ascii_case(verb))
        && start[word.len()..].starts_with(|c: char| c.is_whitespace() || c == '(' || c == '*')
}

/// How a SQL argument was written when it is built from values at run time.
#[derive(Debug)]
pub enum Built<'t> {
    /// `f"... {x} ..."`: the f-string.
    FString(&'t ExprFString),
    /// `"... %s ..." % values`: the operation, its format string and its values.
    Percent(&'t ExprBinOp, &'t ExprStringLiteral, &'t Expr),
    /// `"...".format(...)`: the call and its format string.
    Format(&'t ExprCall, &'t ExprStringLiteral),
    /// `"..." + x + "..."`: the operation and its first string.
    Concatenation(&'t ExprBinOp, &'t Expr),
}

impl Built<'_> {
    /// Where to point and what to replace; `base` is where its item starts.
    pub fn range(&self, checker: &Checker, base: usize) -> Range<usize> {
        match self {
            Built::FString(string) => checker.range_at(base, *string),
            Built::Percent(operation, ..) | Built::Concatenation(operation, _) => {
                checker.range_at(base, *operation)
            }
            Built::Format(call, _) => checker.range_at(base, *call),
        }
    }

    pub fn how(&self) -> &'static str {
        match self {
            Built::FString(_) => "an f-string",
            Built::Percent(..) => "`%` formatting",
            Built::Format(..) => "`.format()`",
            Built::Concatenation(..) => "string concatenation",
        }
    }

    /// The values it splices into the text: an f-string's fields, `%`'s values (each of
    /// a tuple), `.format()`'s arguments, the operands of `+` that are not literals.
    pub fn spliced_values(&self) -> Vec<&Expr> {
        match self {
            Built::FString(string) => single_fstring(string)
                .into_iter()
                .flat_map(|single| single.elements.iter())
                .filter_map(|element| match element {
                    InterpolatedStringElement::Interpolation(field) => Some(&*field.expression),
                    InterpolatedStringElement::Literal(_) => None,
                })
                .collect(),
            Built::Percent(_, _, values) => match values {
                Expr::Tuple(tuple) => tuple.elts.iter().collect(),
                other => vec![*other],
            },
            Built::Format(call, _) => call
                .arguments
                .args
                .iter()
                .chain(call.arguments.keywords.iter().map(|keyword| &keyword.value))
                .collect(),
            Built::Concatenation(operation, _) => concatenated_operands(operation)
                .into_iter()
                .filter(|leaf| !matches!(leaf, Expr::StringLiteral(_)))
                .collect(),
        }
    }

    /// The literal text the SQL starts with, as written; `base` is where its item starts.
    pub fn leading_text<'s>(&self, checker: &Checker<'_, 's>, base: usize) -> &'s str {
        match self {
            Built::FString(string) => fstring_head(checker, string, base),
            Built::Percent(_, format, _) | Built::Format(_, format) => {
                string_body(checker, checker.range_at(base, *format))
            }
            Built::Concatenation(_, first) => string_body(checker, checker.range_at(base, *first)),
        }
    }
}

/// How `expression` builds a string from run-time values, if it does, and where the
/// item of what builds it starts; a name is followed to its last plain assignment
/// before it in the same function (or module, where that is another item).
pub fn built_sql<'t>(
    checker: &Checker<'t, '_>,
    expression: &'t Expr,
) -> Option<(Built<'t>, usize)> {
    if let Some(built) = built_directly(expression) {
        return Some((built, checker.base()));
    }
    let Expr::Name(name) = expression else {
        return None;
    };
    let assigned = last_assignment(checker, &name.id, checker.range(expression).start, true)?;
    Some((built_directly(assigned.value)?, assigned.base))
}

/// The f-string of an expression that is one f-string, not an implicit concatenation.
pub fn single_fstring(string: &ExprFString) -> Option<&ruff_python_ast::FString> {
    match string.value.as_slice() {
        [ruff_python_ast::FStringPart::FString(single)] => Some(single),
        _ => None,
    }
}

/// A single f-string part with a replacement field (not an implicit concatenation).
pub fn interpolated(expression: &Expr) -> Option<&ExprFString> {
    let Expr::FString(string) = expression else {
        return None;
    };
    single_fstring(string)?
        .elements
        .iter()
        .any(|element| matches!(element, InterpolatedStringElement::Interpolation(_)))
        .then_some(string)
}

fn built_directly(expression: &Expr) -> Option<Built<'_>> {
    match expression {
        Expr::FString(_) => interpolated(expression).map(Built::FString),
        Expr::BinOp(operation) => match operation.op {
            Operator::Mod => match &*operation.left {
                Expr::StringLiteral(format) if !format.value.is_implicit_concatenated() => {
                    Some(Built::Percent(operation, format, &operation.right))
                }
                _ => None,
            },
            Operator::Add => {
                let leaves = concatenated(expression);
                let first_string = leaves.iter().find(|leaf| {
                    matches!(leaf, Expr::StringLiteral(s) if !s.value.is_implicit_concatenated())
                        || interpolated(leaf).is_some()
                })?;
                let dynamic = leaves
                    .iter()
                    .any(|leaf| !matches!(leaf, Expr::StringLiteral(_)));
                dynamic.then_some(Built::Concatenation(operation, first_string))
            }
            _ => None,
        },
        Expr::Call(call) => match &*call.func {
            Expr::Attribute(method) if method.attr.as_str() == "format" => match &*method.value {
                Expr::StringLiteral(format) if !format.value.is_implicit_concatenated() => {
                    Some(Built::Format(call, format))
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The operands of the chain of `+` that `operation` is.
fn concatenated_operands(operation: &ExprBinOp) -> Vec<&Expr> {
    let mut leaves = concatenated(&operation.left);
    leaves.extend(concatenated(&operation.right));
    leaves
}

/// The operands of a chain of `+`, left to right (iterative: chains can be long).
fn concatenated(expression: &Expr) -> Vec<&Expr> {
    let mut leaves = Vec::new();
    let mut stack = vec![expression];
    while let Some(node) = stack.pop() {
        match node {
            Expr::BinOp(operation) if operation.op == Operator::Add => {
                stack.push(&operation.right);
                stack.push(&operation.left);
            }
            _ => leaves.push(node),
        }
    }
    leaves
}

/// A string's text between its quotes, from its source range (a single literal).
pub fn string_body<'s>(checker: &Checker<'_, 's>, range: Range<usize>) -> &'s str {
    checker.source.get(body_range(checker, range)).unwrap_or("")
}

/// Where a string's text between its quotes stands, from the string's range (a single
/// literal: prefix, quotes, body, quotes).
pub fn body_range(checker: &Checker, range: Range<usize>) -> Range<usize> {
    let text = checker.source.get(range.clone()).unwrap_or("");
    let Some(quote_at) = text.find(['"', '\'']) else {
        return range.end..range.end;
    };
    let quote = &text[quote_at..];
    let quote_len = if quote.starts_with("\"\"\"") || quote.starts_with("'''") {
        3
    } else {
        1
    };
    let start = range.start + quote_at + quote_len;
    start..range.end.saturating_sub(quote_len).max(start)
}

/// An f-string's text from its opening quote to its first replacement field.
fn fstring_head<'s>(checker: &Checker<'_, 's>, string: &ExprFString, base: usize) -> &'s str {
    let body = body_range(checker, checker.range_at(base, string));
    let first_field = single_fstring(string).and_then(|single| {
        single.elements.iter().find_map(|element| match element {
            InterpolatedStringElement::Interpolation(field) => {
                Some(checker.range_at(base, field).start)
            }
            InterpolatedStringElement::Literal(_) => None,
        })
    });
    let whole = checker.source.get(body.clone()).unwrap_or("");
    match first_field {
        Some(first_field) => checker.source.get(body.start..first_field).unwrap_or(whole),
        None => whole,
    }
}

/// Whether the text may call something that runs SQL: a method of `EXECUTING_METHODS`,
/// or `text()` from SQLAlchemy (any import of it names the package).
pub fn may_run_sql(text: &str) -> bool {
    crate::rules::prefilter::contains(text, "sqlalchemy")
        || crate::rules::prefilter::contains(text, "sqlmodel")
        || crate::rules::prefilter::mentions_any_method_call(text, &EXECUTING_CALLS)
}

/// `EXECUTING_METHODS` as one matcher, so the text is read once for all of them.
static EXECUTING_CALLS: std::sync::LazyLock<crate::rules::prefilter::MethodNames> =
    std::sync::LazyLock::new(|| crate::rules::prefilter::MethodNames::new(EXECUTING_METHODS));

/// Whether some string in the text may start like a SQL statement: a quote, then white
/// space or `(`, then a verb (what `looks_like_sql` asks of a string's first literal text).
pub fn mentions_sql_string(text: &str) -> bool {
    text.match_indices(['"', '\''])
        .any(|(at, _)| looks_like_sql(&text[at + 1..]))
}
