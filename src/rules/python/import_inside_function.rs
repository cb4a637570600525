//! ## What it does
//! Finds `import` and `from ... import` statements inside function bodies.
//!
//! Imports under `if TYPE_CHECKING:`, imports of optional dependencies (inside a `try`
//! that handles `ImportError`), and imports with a comment on their line or the line
//! above that says why (a circular import, a slow or optional module: any comment that
//! mentions `circular`, `cycle`, `lazy`, `optional`, `slow` or `startup`) are fine.
//!
//! ## Why is this bad?
//! An import inside a function hides a dependency from readers and tools, runs the
//! import machinery (a dictionary lookup and a lock) on every call, moves import errors
//! from start-up to the first request that reaches that line, and often papers over a
//! circular import that would be better fixed. When it is deliberate, a comment saying
//! so keeps the next reader from "tidying" it into a cycle.
//!
//! ## Example
//! ```python
//! def export_orders(orders):
//!     import csv
//!     ...
//! ```
//!
//! ## Use instead
//! ```python
//! import csv
//!
//! def export_orders(orders):
//!     ...
//! ```
//! or, when it must stay: `import app.models  # circular: models imports this module`.
//!
//! ## Fix safety
//! No fix: moving an import to module level can create an import cycle or slow start-up.
//!
//! ## Known problems
//! Whether an import is deliberate is read from comments only.

use tree_sitter::Node;

use crate::language::Language;
use crate::rules::{
    Check, Context, Finding, FixAvailability, Rule, Severity, line_start, node_text,
};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "import-inside-function",
    languages: &[Language::Python],
    default_severity: Severity::Info,
    fix: FixAvailability::None,
    summary: "An import inside a function body, with no comment saying why",
    triggers: &["import"],
    text_test: Some(may_import_in_function),
    check: Check::Tree(check),
};

/// Whether an `import` may sit in a function body: on some line, `import` is not part of
/// a statement that starts the line at column 0 (`import x`, `from x import y`), unless
/// that line continues the one before it (a trailing backslash). Module-level imports
/// alone (most files) need no parse.
fn may_import_in_function(text: &str) -> bool {
    let mut previous_continues = false;
    for line in text.split('\n') {
        let continued = std::mem::replace(
            &mut previous_continues,
            line.trim_end_matches('\r').ends_with('\\'),
        );
        if !line.contains("import") {
            continue;
        }
        let starts_statement = line.starts_with("import") || line.starts_with("from");
        if continued || !starts_statement {
            return true;
        }
    }
    false
}

/// Words of a comment that explain a deliberate local import.
const REASONS: &[&str] = &[
    "circular", "cycle", "cyclic", "lazy", "lazily", "optional", "slow", "startup", "start-up",
];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for &statement in &facts.import_statements {
        let ancestors = facts.ancestry.ancestors(statement);
        let Some(function) = ancestors
            .iter()
            .rev()
            .find(|node| node.python_kind() == Kind::FunctionDefinition)
        else {
            continue;
        };
        let inside: Vec<Node> = ancestors
            .iter()
            .skip_while(|node| node.id() != function.id())
            .copied()
            .collect();
        if inside.iter().any(|node| {
            is_type_checking_block(*node, source) || handles_import_error(*node, source)
        }) || explained(facts, statement, source)
        {
            continue;
        }
        let name = function
            .field(Field::Name)
            .map_or("", |name| node_text(name, source));
        let first_line = node_text(statement, source).lines().next().unwrap_or("");
        findings.push(RULE.finding(
            statement.byte_range(),
            format!(
                "`{first_line}` inside `{name}` hides a dependency and runs on every call; import at module level, or say why in a comment"
            ),
        ));
    }
}

/// `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`).
fn is_type_checking_block(node: Node, source: &str) -> bool {
    node.python_kind() == Kind::IfStatement
        && node
            .field(Field::Condition)
            .is_some_and(|condition| node_text(condition, source).ends_with("TYPE_CHECKING"))
}

/// A `try` with an `except ImportError`/`ModuleNotFoundError` handler.
fn handles_import_error(node: Node, source: &str) -> bool {
    if node.python_kind() != Kind::TryStatement {
        return false;
    }
    let mut cursor = node.walk();
    node.children(&mut cursor).any(|clause| {
        clause.python_kind() == Kind::ExceptClause && {
            let header = node_text(clause, source).lines().next().unwrap_or("");
            header.contains("ImportError") || header.contains("ModuleNotFoundError")
        }
    })
}

/// A comment on the import's first line, or alone on the line above, gives a reason.
fn explained(facts: &super::ModuleFacts, statement: Node, source: &str) -> bool {
    let line = line_start(source, statement.start_byte());
    let previous_line = line_start(source, line.saturating_sub(1));
    let end_line = crate::rules::line_end(source, statement.end_byte());
    let first = facts
        .comments
        .partition_point(|comment| comment.start_byte() < previous_line);
    facts.comments[first..]
        .iter()
        .take_while(|comment| comment.start_byte() <= end_line)
        .any(|comment| {
            let text = node_text(*comment, source).to_ascii_lowercase();
            REASONS.iter().any(|reason| text.contains(reason))
        })
}
