//! Where Python code hands SQL to a database, and how that SQL was written: shared by
//! `sql-injection` (SQL built from values) and `sql-syntax-in-python` (SQL literals
//! PostgreSQL would reject). Reads the tree only.

use tree_sitter::Node;

use super::{CallSite, ModuleFacts, enclosing_scope, keyword_argument, positional_arguments};
use crate::rules::node_text;
use crate::semantic::python::imports::qualified_name;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

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
    "REVOKE", "MERGE", "COPY", "EXPLAIN", "CALL", "UPSERT", "REPLACE",
];

/// A call that runs or wraps SQL, and the argument holding it.
#[derive(Clone, Copy)]
pub struct SqlSink<'t> {
    pub call: Node<'t>,
    pub sql: Node<'t>,
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
    pub fn of(site: &CallSite<'t>, source: &str, facts: &ModuleFacts) -> Option<SqlSink<'t>> {
        let function = site.call.field(Field::Function)?;
        let kind = if site
            .method(source)
            .is_some_and(|method| EXECUTING_METHODS.contains(&method))
        {
            SinkKind::Method
        } else if qualified_name(function, source, &facts.semantic.imports)
            .is_some_and(|name| SQL_TEXT_FUNCTIONS.contains(&name.as_str()))
        {
            SinkKind::Text
        } else {
            return None;
        };
        let sql = positional_arguments(site.call)
            .first()
            .copied()
            .or_else(|| {
                ["sql", "query", "statement", "operation", "raw_query"]
                    .iter()
                    .find_map(|keyword| keyword_argument(site.call, keyword, source))
            })?;
        Some(SqlSink {
            call: site.call,
            sql,
            kind,
        })
    }

    /// `cursor.execute` for messages.
    pub fn name(&self, source: &str) -> String {
        self.call
            .field(Field::Function)
            .map_or_else(String::new, |function| {
                node_text(function, source).to_string()
            })
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
    FString(Node<'t>),
    /// `"... %s ..." % values`: the operation, its format string and its values.
    Percent(Node<'t>, Node<'t>, Node<'t>),
    /// `"...".format(...)`: the call and its format string.
    Format(Node<'t>, Node<'t>),
    /// `"..." + x + "..."`: the operation and its first string.
    Concatenation(Node<'t>, Node<'t>),
}

impl<'t> Built<'t> {
    /// The node to point at and to replace.
    pub fn node(&self) -> Node<'t> {
        match self {
            Built::FString(node)
            | Built::Percent(node, ..)
            | Built::Format(node, _)
            | Built::Concatenation(node, _) => *node,
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

    /// The literal text the SQL starts with.
    pub fn leading_text<'s>(&self, source: &'s str) -> &'s str {
        match self {
            Built::FString(string) => fstring_head(*string, source),
            Built::Percent(_, format, _)
            | Built::Format(_, format)
            | Built::Concatenation(_, format) => string_body(*format, source),
        }
    }
}

/// How `expression` builds a string from run-time values, if it does; an identifier is
/// followed to its last plain assignment in the same function.
pub fn built_sql<'t>(
    expression: Node<'t>,
    facts: &ModuleFacts<'t>,
    source: &str,
) -> Option<Built<'t>> {
    if let Some(built) = built_directly(expression, source) {
        return Some(built);
    }
    if expression.python_kind() != Kind::Identifier {
        return None;
    }
    let name = node_text(expression, source);
    let ancestors = facts.ancestry.ancestors(expression);
    let scope = enclosing_scope(&ancestors)?;
    let mut last = None;
    facts.walk_scope(scope, |node| {
        if node.python_kind() != Kind::Assignment || node.start_byte() >= expression.start_byte() {
            return;
        }
        let assigns_name = node.field(Field::Left).is_some_and(|left| {
            left.python_kind() == Kind::Identifier && node_text(left, source) == name
        });
        if assigns_name {
            last = node.field(Field::Right);
        }
    });
    built_directly(last?, source)
}

fn built_directly<'t>(expression: Node<'t>, source: &str) -> Option<Built<'t>> {
    match expression.python_kind() {
        Kind::String if has_interpolation(expression) => Some(Built::FString(expression)),
        Kind::BinaryOperator => {
            let operator = expression.field(Field::Operator)?;
            let left = expression.field(Field::Left)?;
            let right = expression.field(Field::Right)?;
            match node_text(operator, source) {
                "%" if left.python_kind() == Kind::String => {
                    Some(Built::Percent(expression, left, right))
                }
                "+" => {
                    let leaves = concatenated(expression, source);
                    let first_string = leaves
                        .iter()
                        .find(|leaf| leaf.python_kind() == Kind::String)?;
                    let dynamic = leaves
                        .iter()
                        .any(|leaf| leaf.python_kind() != Kind::String || has_interpolation(*leaf));
                    dynamic.then_some(Built::Concatenation(expression, *first_string))
                }
                _ => None,
            }
        }
        Kind::Call => {
            let function = expression.field(Field::Function)?;
            let object = function.field(Field::Object)?;
            let method = function.field(Field::Attribute)?;
            (function.python_kind() == Kind::Attribute
                && object.python_kind() == Kind::String
                && node_text(method, source) == "format")
                .then_some(Built::Format(expression, object))
        }
        Kind::ParenthesizedExpression => built_directly(expression.named_child(0)?, source),
        _ => None,
    }
}

/// The operands of a chain of `+`, left to right (iterative: chains can be long).
fn concatenated<'t>(expression: Node<'t>, source: &str) -> Vec<Node<'t>> {
    let mut leaves = Vec::new();
    let mut stack = vec![expression];
    while let Some(node) = stack.pop() {
        let is_plus = node.python_kind() == Kind::BinaryOperator
            && node
                .field(Field::Operator)
                .is_some_and(|operator| node_text(operator, source) == "+");
        if is_plus {
            stack.extend(node.field(Field::Right));
            stack.extend(node.field(Field::Left));
        } else {
            leaves.push(node);
        }
    }
    leaves
}

pub fn has_interpolation(string: Node) -> bool {
    let mut cursor = string.walk();
    string
        .named_children(&mut cursor)
        .any(|child| child.python_kind() == Kind::Interpolation)
}

/// The interpolations of an f-string, in order.
pub fn interpolations(string: Node) -> Vec<Node> {
    let mut cursor = string.walk();
    string
        .named_children(&mut cursor)
        .filter(|child| child.python_kind() == Kind::Interpolation)
        .collect()
}

/// A string's text between its quotes.
pub fn string_body<'s>(string: Node, source: &'s str) -> &'s str {
    let mut cursor = string.walk();
    let children: Vec<Node> = string.named_children(&mut cursor).collect();
    let start = children
        .iter()
        .find(|child| child.python_kind() == Kind::StringStart);
    let end = children
        .iter()
        .rev()
        .find(|child| child.python_kind() == Kind::StringEnd);
    match (start, end) {
        (Some(start), Some(end)) => source.get(start.end_byte()..end.start_byte()).unwrap_or(""),
        _ => "",
    }
}

/// An f-string's text up to its first replacement field.
fn fstring_head<'s>(string: Node, source: &'s str) -> &'s str {
    let body = string_body(string, source);
    let Some(first) = interpolations(string).first().copied() else {
        return body;
    };
    let start = string
        .named_child(0)
        .map_or(string.start_byte(), |start| start.end_byte());
    source.get(start..first.start_byte()).unwrap_or(body)
}

/// Whether the text may call something that runs SQL: a method of `EXECUTING_METHODS`,
/// or `text()` from SQLAlchemy (any import of it names the package).
pub fn may_run_sql(text: &str) -> bool {
    text.contains("sqlalchemy")
        || text.contains("sqlmodel")
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
