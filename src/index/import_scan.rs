//! The modules a Python file imports, read from its text without parsing it: what
//! `check` needs of every file to know which modules can reach a client library
//! through imports (`ReachGraph`), at a fraction of a parse's cost.
//!
//! The scan reads statements that start a line with `import` or `from`, including
//! parenthesised name lists over several lines and backslash continuations. It may
//! read an import that is not one (in a docstring); the graph only grows from that,
//! and a larger graph only runs more rules, never hides a finding.

use crate::rules::{Libraries, line_end, line_start};

/// One module an import statement names: `from ..a.b import c` gives `..a.b` with
/// the name `c`; `import a.b as x` gives `a.b`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportedModule {
    /// The module as written, relative dots included.
    pub module: Box<str>,
    /// The names `from module import ...` takes (any may be a submodule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Box<str>>,
}

/// Whether `text` includes routers into apps or routers (`include_router`): the
/// modules whose facts tell which routers are included with dependencies.
pub fn includes_routers(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"include_router").is_some()
}

/// Every import statement of `text`, in order.
pub fn scan_imports(text: &str) -> Vec<ImportedModule> {
    let mut found = Vec::new();
    let mut line_seen = usize::MAX;
    for at in memchr::memmem::find_iter(text.as_bytes(), b"import") {
        let start = statement_start(text, line_start(text, at));
        if start == line_seen {
            continue;
        }
        line_seen = start;
        let statement = statement_from(text, start);
        let trimmed = statement.trim_start();
        if let Some(names) = keyword_rest(trimmed, "import") {
            for name in names.split(',') {
                let module = name.split_whitespace().next().unwrap_or("");
                if is_dotted_name(module) {
                    found.push(ImportedModule {
                        module: module.into(),
                        names: Vec::new(),
                    });
                }
            }
        } else if let Some(rest) = keyword_rest(trimmed, "from") {
            let Some((module, names)) = rest.split_once(" import") else {
                continue;
            };
            let module = module.trim();
            if !is_module_reference(module) {
                continue;
            }
            let names = names
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .filter_map(|name| name.split_whitespace().next())
                .filter(|name| is_dotted_name(name) && *name != "*")
                .map(Box::from)
                .collect();
            found.push(ImportedModule {
                module: module.into(),
                names,
            });
        }
    }
    found
}

/// The client libraries `imports` import directly (their top-level package).
pub fn libraries_of(imports: &[ImportedModule]) -> Libraries {
    imports
        .iter()
        .map(|import| Libraries::of_module(&import.module))
        .fold(Libraries::NONE, Libraries::and)
}

/// Whether `imports` take anything from Alembic or SQLAlchemy: an Alembic migration
/// imports one of them.
pub fn imports_migration_library(imports: &[ImportedModule]) -> bool {
    imports.iter().any(|import| {
        let top = import.module.split('.').next().unwrap_or("");
        top == "alembic" || top == "sqlalchemy"
    })
}

/// `text` after `keyword` and white space, when it starts with the keyword as a word.
fn keyword_rest<'t>(text: &'t str, keyword: &str) -> Option<&'t str> {
    let rest = text.strip_prefix(keyword)?;
    rest.starts_with([' ', '\t', '\\', '(']).then_some(rest)
}

/// Where the statement holding the line that starts at `start` starts: lines ended by
/// a backslash carry it on.
fn statement_start(text: &str, mut start: usize) -> usize {
    while start > 0 {
        let previous = line_start(text, start - 1);
        let line = text[previous..start].trim_end_matches(['\n', '\r']);
        if !line.ends_with('\\') {
            break;
        }
        start = previous;
    }
    start
}

/// The statement that starts at `start`: its line, joined with the lines a backslash
/// or an open parenthesis carries it onto (comments dropped). Most are one line, read
/// in place.
fn statement_from(text: &str, start: usize) -> std::borrow::Cow<'_, str> {
    let line = &text[start..line_end(text, start)];
    if !line.contains(['(', '\\', '#']) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut statement = String::new();
    let mut depth = 0usize;
    let mut from = start;
    loop {
        let end = line_end(text, from);
        let line = &text[from..end];
        let code = line.split('#').next().unwrap_or("");
        for byte in code.bytes() {
            match byte {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let continued = code.trim_end().ends_with('\\');
        statement.push_str(code.trim_end().trim_end_matches('\\'));
        statement.push(' ');
        // Past the end of the text, or past a line break: the next line.
        let next = text[end..]
            .find('\n')
            .map_or(text.len(), |offset| end + offset + 1);
        if (depth == 0 && !continued) || next >= text.len() || statement.len() > 64 * 1024 {
            return std::borrow::Cow::Owned(statement);
        }
        from = next;
    }
}

fn is_dotted_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// A module as `from` names it: dots, then a dotted name (or dots alone).
fn is_module_reference(module: &str) -> bool {
    let name = module.trim_start_matches('.');
    name.is_empty() && !module.is_empty() || is_dotted_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(text: &str) -> Vec<(String, Vec<String>)> {
        scan_imports(text)
            .into_iter()
            .map(|import| {
                (
                    import.module.to_string(),
                    import.names.iter().map(|name| name.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn statements_of_every_shape() {
        let text = "\
import os, redis.asyncio as aioredis
from ..core import (
    cache,  # the client
    settings,
)
from . import deps
from app.db \\
    import SessionLocal
x = 'import nothing'
    from pkg.sub import *
";
        assert_eq!(
            modules(text),
            [
                ("os".to_string(), vec![]),
                ("redis.asyncio".to_string(), vec![]),
                (
                    "..core".to_string(),
                    vec!["cache".to_string(), "settings".to_string()]
                ),
                (".".to_string(), vec!["deps".to_string()]),
                ("app.db".to_string(), vec!["SessionLocal".to_string()]),
                ("pkg.sub".to_string(), vec![]),
            ]
        );
        assert_eq!(libraries_of(&scan_imports(text)), Libraries::REDIS);
    }
}
