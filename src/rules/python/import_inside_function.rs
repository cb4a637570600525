//! ## What it does
//! Finds `import` and `from ... import` statements inside function bodies.
//!
//! Only where a reviewer would ask for a change. These are fine and not reported:
//! - imports under `if TYPE_CHECKING:`;
//! - optional dependencies: imports inside a `try` that handles `ImportError`, and
//!   imports of a module that the project does not require (one that no dependency
//!   of `pyproject.toml`'s `[project]` or `[tool.poetry]`, or of its runtime
//!   requirements files, provides: an extra, a development tool), which may be absent;
//! - imports with a comment on their line or the line above that says why (any
//!   comment that mentions `circular`, `cycle`, `lazy`, `optional`, `slow` or
//!   `startup`);
//! - imports of a module of the workspace that imports this one back, directly or
//!   through others: at module level they would make an import cycle, which the import
//!   in the function breaks (where the workspace is read: `check`, and the editor once
//!   its first scan is done);
//! - tests (`test_*.py`, `*_test.py`, `conftest.py`, files under `tests/`);
//! - commands, which import what they run when they run so that `--help` and the
//!   other commands start fast: the modules of the project's console scripts
//!   (`[project.scripts]`), `cli.py`, `__main__.py`, `manage.py`, files under `cli/`,
//!   `commands/`, `management/`, `scripts/` or `bin/`, modules with an
//!   `if __name__ == "__main__":` block, and Click or Typer commands
//!   (`@<group>.command(...)`, `@<group>.group(...)`, `@<app>.callback(...)`).
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
//! Whether an import is deliberate is read from comments, the project's declared
//! requirements and the import cycles of the workspace only. A cycle counts imports
//! inside functions too, so an import that another function-level import makes part
//! of a cycle is not reported either. A distribution whose module has an unrelated
//! name (`Pillow` provides `PIL`) is known from a short list: an import of another
//! such module counts as optional. A project whose dependencies `setup.py` computes
//! declares none that can be read: nothing is taken as optional there.

use crate::index::import_scan::scan_imports;
use crate::rules::projections::Projections;
use crate::rules::python::file_kind::{is_command_module, is_test_file};
use crate::semantic::python::bound_kinds::ImportedKinds;
use std::ops::Range;

use crate::language::Language;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity, TextContext, line_start};
use crate::syntax::python_statements::{Statement, starts_with_word, statements};

pub const RULE: Rule = Rule {
    id: "import-inside-function",
    languages: &[Language::Python],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::None,
    summary: "An import inside a function body that nothing explains (a comment, an import cycle, an optional dependency, a test or a command)",
    triggers: &["import"],
    python_triggers: None,
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
    // Tests import what one test needs where it needs it (fixtures, side effects).
    if is_test_file(context.path) {
        return;
    }
    // A command imports what it runs when it runs, so that `--help` and the other
    // commands start fast.
    let workspace = context.imported.as_deref();
    if is_command_module(context.path, context.source)
        || workspace.is_some_and(|workspace| workspace.runs_as_command() == Some(true))
    {
        return;
    }
    let mut comments = Comments {
        context,
        whole_text: None,
    };
    for range in context.ranges() {
        // Most items import nothing, or only at module level (the text test of one item).
        if may_import_in_function(&context.source[range.clone()]) {
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
        if is_command_function(source, &statements, function) {
            continue;
        }
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
        // An optional dependency (one the project does not require) is imported where
        // it is used, because it may be absent.
        if workspace.is_some_and(|workspace| {
            let imports = scan_imports(text);
            imports
                .iter()
                .any(|import| workspace.imports_back(import) == Some(true))
                || (!imports.is_empty()
                    && imports
                        .iter()
                        .all(|import| workspace.imports_optional(import) == Some(true)))
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

/// Whether the function `function` (a statement's index), or one it is nested in, is
/// a command of Click or Typer: decorated `@<group>.command(...)`, `@<group>.group(...)`,
/// `@<app>.callback(...)` or `@click.<anything>`.
fn is_command_function(source: &str, statements: &[Statement], function: usize) -> bool {
    let mut at = Some(function);
    while let Some(index) = at {
        let header = &statements[index];
        let text = &source[header.range.clone()];
        let is_function = starts_with_word(text, "def") || starts_with_word(text, "async");
        if is_function && decorators_above(source, header.range.start).any(is_command_decorator) {
            return true;
        }
        at = header.parent;
    }
    false
}

/// The decorator lines right above the line at `start` (a decorator's call may span
/// lines: those below its `@` line are passed over), innermost first.
fn decorators_above(source: &str, start: usize) -> impl Iterator<Item = &str> {
    let mut line_begins = line_start(source, start);
    std::iter::from_fn(move || {
        while line_begins > 0 {
            let previous = line_start(source, line_begins - 1);
            let line = source[previous..line_begins].trim();
            line_begins = previous;
            if line.starts_with('@') {
                return Some(line);
            }
            // A blank line or a header ends the decorators; other lines continue a call.
            if line.is_empty() || line.ends_with(':') {
                return None;
            }
        }
        None
    })
}

fn is_command_decorator(decorator: &str) -> bool {
    let name = decorator[1..]
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    name.starts_with("click.")
        || name.starts_with("typer.")
        || [".command", ".group", ".callback"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
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
