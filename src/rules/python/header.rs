//! Where a fix adds an import: the module's leading block of imports, comments and
//! docstring, and the place in it that keeps an isort-sorted header sorted.

use std::ops::Range;

use ruff_python_ast::{Expr, Stmt};

use super::checker::Checker;
use super::stdlib;
use crate::rules::Context;
use crate::rules::{Edit, line_end, line_start, newline_of};
use crate::syntax::python_ast::source_range;

/// An import of the module's leading block, as isort groups them.
pub struct HeaderImport {
    pub range: Range<usize>,
    group: ImportGroup,
    /// `import x` (true) or `from x import y`: isort puts the first kind first in a group.
    plain: bool,
    /// The first module it names, lower-cased (isort compares case-insensitively).
    module: String,
}

#[derive(PartialEq, Eq)]
enum ImportGroup {
    Future,
    Stdlib,
    /// Third-party, first-party and relative imports: all of them after the stdlib.
    Other,
}

impl HeaderImport {
    /// `module` as written (`a.b`, `a.b as c`, `.pkg`); `__future__` for a future import.
    pub fn new(range: Range<usize>, plain: bool, module: &str) -> HeaderImport {
        let module = module
            .split(" as ")
            .next()
            .unwrap_or(module)
            .trim()
            .to_lowercase();
        let group = if module == "__future__" {
            ImportGroup::Future
        } else if stdlib::is_stdlib_module(&module) {
            ImportGroup::Stdlib
        } else {
            ImportGroup::Other
        };
        HeaderImport {
            range,
            group,
            plain,
            module,
        }
    }
}

/// `import {module}` (a standard-library module) where isort and Ruff's `I001` put it,
/// so a sorted header stays sorted: among the stdlib group's `import` lines in
/// alphabetical order, before its `from` lines, or as a new group after `__future__`
/// imports and before the others. A header that is not sorted gets it at the first
/// place that reads in order. `imports` are the header's, `insertion_point` where a
/// new line goes when it has none (`None`: the top of the file).
pub fn sorted_import_edit(
    source: &str,
    imports: &[HeaderImport],
    insertion_point: Option<usize>,
    module: &str,
) -> Edit {
    let newline = newline_of(source);
    let line = format!("import {module}");
    let before = |import: &HeaderImport, text: String| {
        Edit::insert(line_start(source, import.range.start), text)
    };
    let after = |import: &HeaderImport, text: String| {
        Edit::insert(line_end(source, import.range.end), text)
    };
    let stdlib: Vec<&HeaderImport> = imports
        .iter()
        .filter(|import| import.group == ImportGroup::Stdlib)
        .collect();
    let plain: Vec<&&HeaderImport> = stdlib.iter().filter(|import| import.plain).collect();
    let wanted = module.to_lowercase();
    if let Some(next) = plain.iter().find(|import| import.module > wanted) {
        return before(next, format!("{line}{newline}"));
    }
    if let Some(last) = plain.last() {
        return after(last, format!("{newline}{line}"));
    }
    if let Some(first_from) = stdlib.first() {
        return before(first_from, format!("{line}{newline}"));
    }
    if let Some(first_other) = imports
        .iter()
        .find(|import| import.group == ImportGroup::Other)
    {
        return before(first_other, format!("{line}{newline}{newline}"));
    }
    if let Some(last_future) = imports.last() {
        return after(last_future, format!("{newline}{newline}{line}"));
    }
    match insertion_point {
        Some(at) => Edit::insert(at, format!("{newline}{line}")),
        None => Edit::insert(0, format!("{line}{newline}")),
    }
}

/// The edit that makes sure `module` is imported (on Ruff's tree), and the local name
/// to call it by.
pub fn ensure_module_import(checker: &Checker, module: &str) -> (String, Option<Edit>) {
    if let Some(local) = checker.imports().local_name_of_module(module) {
        return (local.to_string(), None);
    }
    let (imports, insertion_point) = header(checker.context());
    (
        module.to_string(),
        Some(sorted_import_edit(
            checker.source,
            &imports,
            insertion_point,
            module,
        )),
    )
}

/// Where a new import line goes on Ruff's tree (see `header`).
pub fn insertion_point(context: &Context) -> Option<usize> {
    header(context).1
}

/// The module's header on Ruff's tree: its imports, and where a new import line goes
/// (the end of the line of the last import or of the docstring; `None` when the module
/// does not open with them).
fn header(context: &Context) -> (Vec<HeaderImport>, Option<usize>) {
    let mut imports = Vec::new();
    let mut insert_at = None;
    let mut first = true;
    // Lazily, item by item: the header ends at the first other statement.
    let statements = context
        .syntax
        .items()
        .iter()
        .filter_map(|item| Some((item.range.start, item.python_ast(context.source)?)))
        .flat_map(|(base, ast)| {
            ast.body
                .iter()
                .map(move |statement| (statement, source_range(base, statement)))
        });
    for (statement, range) in statements {
        let (plain, module) = match statement {
            Stmt::Import(import) => (
                true,
                import.names.first().map(|alias| alias.name.to_string()),
            ),
            Stmt::ImportFrom(import) => (
                false,
                Some(format!(
                    "{}{}",
                    ".".repeat(import.level as usize),
                    import.module.as_ref().map_or("", |module| module.as_str())
                )),
            ),
            // The module's docstring.
            Stmt::Expr(expression)
                if first && matches!(*expression.value, Expr::StringLiteral(_)) =>
            {
                insert_at = Some(range.end);
                first = false;
                continue;
            }
            _ => break,
        };
        first = false;
        insert_at = Some(range.end);
        if let Some(module) = module {
            imports.push(HeaderImport::new(range, plain, &module));
        }
    }
    (imports, insert_at.map(|at| line_end(context.source, at)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_text;
    use crate::fix::apply_edits;
    use crate::language::Language;

    /// `source` with `import {module}` added where the fix would add it.
    fn with_import(source: &str, module: &str) -> String {
        let syntax = parse_text(Language::Python, source).expect("parses");
        let settings = crate::config::Settings::default();
        let context = Context::new(source, &syntax, Language::Python, &settings.rules);
        let (imports, insertion_point) = header(&context);
        let edit = sorted_import_edit(source, &imports, insertion_point, module);
        apply_edits(source, &[edit])
    }

    #[test]
    fn added_imports_keep_an_isort_header_sorted() {
        let cases = [
            // Among the stdlib `import` lines, alphabetically.
            (
                "import os\nimport time\n\nx = 1\n",
                "asyncio",
                "import asyncio\nimport os\nimport time\n\nx = 1\n",
            ),
            (
                "import asyncio\nimport time\n",
                "logging",
                "import asyncio\nimport logging\nimport time\n",
            ),
            ("import json\n", "os", "import json\nimport os\n"),
            // Before the group's `from` lines.
            (
                "import json\nfrom pathlib import Path\n\nimport httpx\n",
                "os",
                "import json\nimport os\nfrom pathlib import Path\n\nimport httpx\n",
            ),
            (
                "from time import sleep\n",
                "asyncio",
                "import asyncio\nfrom time import sleep\n",
            ),
            // A new stdlib group before third-party and local imports.
            (
                "import redis\nfrom . import db\n",
                "os",
                "import os\n\nimport redis\nfrom . import db\n",
            ),
            (
                "\"\"\"Docs.\"\"\"\nfrom __future__ import annotations\n\nimport fastapi\n",
                "logging",
                "\"\"\"Docs.\"\"\"\nfrom __future__ import annotations\n\nimport logging\n\nimport fastapi\n",
            ),
            // After `__future__` alone, and after a docstring with no imports.
            (
                "from __future__ import annotations\n\nx = 1\n",
                "os",
                "from __future__ import annotations\n\nimport os\n\nx = 1\n",
            ),
            (
                "\"\"\"Docs.\"\"\"\n\nx = 1\n",
                "os",
                "\"\"\"Docs.\"\"\"\nimport os\n\nx = 1\n",
            ),
            ("x = 1\n", "os", "import os\nx = 1\n"),
        ];
        for (source, module, expected) in cases {
            assert_eq!(
                with_import(source, module),
                expected,
                "{source:?} + {module}"
            );
        }
    }
}
