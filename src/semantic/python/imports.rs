//! Names bound by imports and what they stand for, and the fully qualified name of a
//! dotted expression resolved through them (`rq.get` -> `requests.get`).

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{Expr, Stmt};

/// Local names bound by imports, mapped to what they stand for:
/// `import requests as rq` gives `rq -> requests`, `from time import sleep` gives
/// `sleep -> time.sleep`, `import os.path` gives `os -> os`.
#[derive(Debug, Default)]
pub struct Imports {
    bindings: HashMap<String, String>,
    ordered: Vec<(usize, String, String)>,
    /// Every module a target is in or is (`a`, `a.b`, `a.b.c` of `a.b.c`): rules ask
    /// `imports_module` at every node of some kinds.
    modules: rustc_hash::FxHashSet<String>,
}

impl Imports {
    /// From `(position, local, target)` bindings in source order (a later import of a
    /// name wins, as in Python). Imports anywhere in the module count, function-level
    /// ones too: tracking them per scope gains little for these rules.
    pub fn from_bindings(ordered: Vec<(usize, String, String)>) -> Imports {
        let bindings = ordered
            .iter()
            .map(|(_, local, target)| (local.clone(), target.clone()))
            .collect();
        let mut modules = rustc_hash::FxHashSet::default();
        for (_, _, target) in &ordered {
            for (at, _) in target.match_indices('.') {
                modules.insert(target[..at].to_string());
            }
            modules.insert(target.clone());
        }
        Imports {
            bindings,
            ordered,
            modules,
        }
    }

    /// Every binding with the position of its statement, in source order.
    pub fn ordered(&self) -> &[(usize, String, String)] {
        &self.ordered
    }

    pub fn resolve(&self, local: &str) -> Option<&str> {
        self.bindings.get(local).map(String::as_str)
    }

    /// Whether anything is imported from `module` or a submodule of it (`flask`,
    /// `flask.json`, `from flask import Flask`).
    pub fn imports_module(&self, module: &str) -> bool {
        self.modules.contains(module)
    }

    /// The local name under which `module` itself is imported (`import asyncio as aio`).
    pub fn local_name_of_module(&self, module: &str) -> Option<&str> {
        // The latest import of it whose name nothing rebound since (deterministic, unlike
        // the map's order).
        self.ordered
            .iter()
            .rev()
            .find(|(_, local, target)| target == module && self.resolve(local) == Some(module))
            .map(|(_, local, _)| local.as_str())
    }
}

/// `(local name, target)` of each name one import statement binds.
pub fn import_bindings_of(statement: &Stmt) -> Vec<(String, String)> {
    match statement {
        Stmt::Import(import) => import
            .names
            .iter()
            .map(|alias| match &alias.asname {
                Some(local) => (local.to_string(), alias.name.to_string()),
                None => {
                    let first = alias.name.split('.').next().unwrap_or(&alias.name);
                    (first.to_string(), first.to_string())
                }
            })
            .collect(),
        Stmt::ImportFrom(import) => {
            // As written: `from ..pkg import x` targets `..pkg.x`, `from . import x` `.x`
            // (the dots count the levels, as in `ModuleLocation::absolute`).
            let dots = ".".repeat(import.level as usize);
            let module = match &import.module {
                Some(module) => format!("{dots}{module}."),
                None if import.level > 0 => dots,
                None => return Vec::new(),
            };
            import
                .names
                .iter()
                .filter(|alias| alias.name.as_str() != "*")
                .map(|alias| {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    (local.to_string(), format!("{module}{}", alias.name))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// `dotted_name` of an expression of Ruff's tree.
pub fn dotted_name_of(expression: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = expression;
    while let Expr::Attribute(attribute) = current {
        parts.push(attribute.attr.as_str());
        current = &attribute.value;
    }
    let Expr::Name(name) = current else {
        return None;
    };
    parts.push(name.id.as_str());
    parts.reverse();
    Some(parts.join("."))
}

/// `qualified_name` of an expression of Ruff's tree.
pub fn qualified_name_of(expression: &Expr, imports: &Imports) -> Option<String> {
    qualified_name_of_dotted(&dotted_name_of(expression)?, imports)
}

/// What the dotted name as written stands for when its first part is an imported name
/// (`deps.get_user` -> `app.api.deps.get_user`); `None` when it is not (a name of the
/// module itself, a builtin).
pub fn imported_target_of(dotted: &str, imports: &Imports) -> Option<String> {
    let head = dotted.split('.').next().unwrap_or(dotted);
    imports.resolve(head)?;
    qualified_name_of_dotted(dotted, imports)
}

/// The fully qualified name of a dotted name as written (`rq.get` -> `requests.get`),
/// as `qualified_name` resolves it.
pub fn qualified_name_of_dotted(dotted: &str, imports: &Imports) -> Option<String> {
    let Some((head, rest)) = dotted.split_once('.') else {
        return Some(imports.resolve(dotted).unwrap_or(dotted).to_string());
    };
    let resolved = imports.resolve(head)?;
    Some(format!("{resolved}.{rest}"))
}
