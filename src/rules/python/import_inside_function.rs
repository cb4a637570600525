//! ## What it does
//! Finds `import` and `from ... import` statements inside function bodies.
//!
//! Imports under `if TYPE_CHECKING:`, imports of optional dependencies (inside a `try`
//! that handles `ImportError`), and imports with a comment on their line or the line
//! above that says why (a circular import, a slow or optional module: any comment that
//! mentions `circular`, `cycle`, `lazy`, `optional`, `slow` or `startup`) are fine. So
//! are imports of a module of the workspace that imports this one back, directly or
//! through others: at module level they would make an import cycle, which the import
//! in the function breaks (where the workspace is read: `check`, and the editor once
//! its first scan is done).
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
//! Whether an import is deliberate is read from comments, and from the import cycles of
//! the workspace, only. A cycle counts imports inside functions too, so an import that
//! another function-level import makes part of a cycle is not reported either.

use crate::index::import_scan::scan_imports;
use crate::rules::projections::Projections;
use crate::semantic::python::bound_kinds::ImportedKinds;
use std::ops::Range;

use crate::language::Language;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity, TextContext, line_start};
use crate::syntax::python_statements::{starts_with_word, statements};

pub const RULE: Rule = Rule {
    id: "import-inside-function",
    languages: &[Language::Python],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::None,
    summary: "An import inside a function body, with no comment saying why",
    triggers: &["import"],
    text_test: Some(may_import_in_function),
    workspace_trigger: None,
    check: Check::Text(check),
    reads: Projections::WORKSPACE,
};

/// Whether an `import` may sit in a function body: on some line, `import` is not part of
/// a statement that starts the line at column 0 (`import x`, `from x import y`), unless
/// that line continues the one before it (a trailing backslash). Module-level imports
/// alone (most files) need no parse.
fn may_import_in_function(text: &str) -> bool {
    let bytes = text.as_bytes();
    // From each `import`, to the line it is on (most lines hold none).
    memchr::memmem::find_iter(bytes, b"import").any(|at| {
        let start = line_start(text, at);
        let line = &bytes[start..];
        let starts_statement = line.starts_with(b"import") || line.starts_with(b"from");
        // The line before ends in a backslash (before any `\r`).
        let continued = start > 0 && {
            let mut previous = &bytes[..start - 1];
            while let Some(rest) = previous.strip_suffix(b"\r") {
                previous = rest;
            }
            previous.ends_with(b"\\")
        };
        continued || !starts_statement
    })
}

/// Words of a comment that explain a deliberate local import.
const REASONS: &[&str] = &[
    "circular", "cycle", "cyclic", "lazy", "lazily", "optional", "slow", "startup", "start-up",
];

/// Read from the module's statements as the text gives them (no parse): each import's
/// enclosing function, and the `if TYPE_CHECKING:` and `try` headers in between.
fn check(context: &TextContext, findings: &mut Vec<Finding>) {
    let mut comments = Comments {
        context,
        whole_text: None,
    };
    for range in context.ranges() {
        // Most items import nothing, or only at module level (the text test of one item).
        if may_import_in_function(&context.source[range.clone()]) {
            let workspace = context.imported.as_deref();
            check_range(
                context.source,
                range.clone(),
                &mut comments,
                workspace,
                findings,
            );
        }
    }
}

/// The comments an import's explanation may stand in, read when one is needed.
struct Comments<'c, 'a> {
    context: &'c TextContext<'a>,
    whole_text: Option<Vec<Range<usize>>>,
}

impl Comments<'_, '_> {
    /// Those of the whole text, read once.
    fn of_whole_text(&mut self) -> &[Range<usize>] {
        self.whole_text
            .get_or_insert_with(|| self.context.comments())
    }

    /// Those of the item `range` (an item starts where a statement may, so its text
    /// alone tells its comments).
    fn of_item(&self, range: &Range<usize>) -> Vec<Range<usize>> {
        let front_end = self.context.language.front_end();
        front_end.comment_ranges(self.context.source, range.clone())
    }
}

fn check_range(
    source: &str,
    range: Range<usize>,
    comments: &mut Comments,
    workspace: Option<&dyn ImportedKinds>,
    findings: &mut Vec<Finding>,
) {
    let mut item_comments: Option<Vec<Range<usize>>> = None;
    let statements = statements(source, range.clone());
    let header = |index: usize| &source[statements[index].range.clone()];
    for statement in &statements {
        let text = &source[statement.range.clone()];
        let is_import = starts_with_word(text, "import") || is_from_import(text);
        if statement.is_header || !is_import {
            continue;
        }
        // The headers around it, innermost first, up to the innermost function.
        let mut around = Vec::new();
        let mut parent = statement.parent;
        let mut function = None;
        while let Some(at) = parent {
            let text = header(at);
            if starts_with_word(text, "def")
                || (starts_with_word(text, "async")
                    && starts_with_word(text["async".len()..].trim_start(), "def"))
            {
                function = Some(at);
                break;
            }
            around.push(at);
            parent = statements[at].parent;
        }
        let Some(function) = function else {
            continue;
        };
        let exempt = around.iter().any(|&at| {
            let text = header(at);
            let type_checking = starts_with_word(text, "if")
                && text["if".len()..text.len() - 1]
                    .trim()
                    .ends_with("TYPE_CHECKING");
            let handles_import_error = starts_with_word(text, "try")
                && statements.iter().any(|clause| {
                    clause.parent == Some(at) && clause.is_header && {
                        let clause_text = &source[clause.range.start..];
                        let first_line = clause_text.lines().next().unwrap_or("");
                        starts_with_word(clause_text, "except")
                            && (first_line.contains("ImportError")
                                || first_line.contains("ModuleNotFoundError"))
                    }
                });
            type_checking || handles_import_error
        });
        if exempt {
            continue;
        }
        // The line above the item's first stands in the item before it.
        let on_first_line = line_start(source, statement.range.start) <= range.start;
        let nearby = if on_first_line {
            comments.of_whole_text()
        } else {
            item_comments.get_or_insert_with(|| comments.of_item(&range))
        };
        if explained_by(nearby, statement.range.clone(), source) {
            continue;
        }
        // A module that imports this one back: importing it at module level would be
        // an import cycle, which the import in the function breaks.
        if workspace.is_some_and(|workspace| {
            scan_imports(text)
                .iter()
                .any(|import| workspace.imports_back(import) == Some(true))
        }) {
            continue;
        }
        let definition = header(function);
        let after_def = definition
            .strip_prefix("async")
            .map_or(definition, str::trim_start)
            .trim_start_matches("def")
            .trim_start();
        let name_end = after_def
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after_def.len());
        let name = &after_def[..name_end];
        let first_line = text.lines().next().unwrap_or("");
        findings.push(RULE.finding(
            statement.range.clone(),
            format!(
                "`{first_line}` inside `{name}` hides a dependency and runs on every call; import at module level, or say why in a comment"
            ),
        ));
    }
}

/// `from <module> import ...` (not `from __future__ import`, a statement of its own).
fn is_from_import(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("from")
        .filter(|_| starts_with_word(text, "from"))
    else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t', '\\', '\r', '\n']);
    let module_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let after = rest[module_end..].trim_start_matches([' ', '\t', '\\', '\r', '\n']);
    module_end > 0 && &rest[..module_end] != "__future__" && starts_with_word(after, "import")
}

/// A comment on the import's first line, or alone on the line above, gives a reason.
fn explained_by(comments: &[Range<usize>], statement: Range<usize>, source: &str) -> bool {
    let line = line_start(source, statement.start);
    let previous_line = line_start(source, line.saturating_sub(1));
    let end_line = crate::rules::line_end(source, statement.end);
    let first = comments.partition_point(|comment| comment.start < previous_line);
    comments[first..]
        .iter()
        .take_while(|comment| comment.start <= end_line)
        .any(|comment| {
            let text = source[comment.clone()].to_ascii_lowercase();
            REASONS.iter().any(|reason| text.contains(reason))
        })
}
