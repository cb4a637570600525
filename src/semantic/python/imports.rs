//! Names bound by imports and what they stand for, and the fully qualified name of a
//! dotted expression resolved through them (`rq.get` -> `requests.get`).

use std::collections::HashMap;

use ruff_python_ast::{Expr, Stmt};
use tree_sitter::Node;

use crate::rules::node_text;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

/// Local names bound by imports, mapped to what they stand for:
/// `import requests as rq` gives `rq -> requests`, `from time import sleep` gives
/// `sleep -> time.sleep`, `import os.path` gives `os -> os`.
#[derive(Debug, Default)]
pub struct Imports {
    bindings: HashMap<String, String>,
    ordered: Vec<(usize, String, String)>,
}

/// `(local name, target)` of each name one import statement binds.
pub fn import_bindings(node: Node, source: &str) -> Vec<(String, String)> {
    let mut bindings = Vec::new();
    match node.python_kind() {
        Kind::ImportStatement => {
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                if let Some((module, alias)) = aliased(name) {
                    bindings.push((
                        node_text(alias, source).to_string(),
                        node_text(module, source).to_string(),
                    ));
                } else {
                    let dotted = node_text(name, source);
                    let first = dotted.split('.').next().unwrap_or(dotted);
                    bindings.push((first.to_string(), first.to_string()));
                }
            }
        }
        Kind::ImportFromStatement => {
            let Some(module) = node.field(Field::ModuleName) else {
                return bindings;
            };
            let module = node_text(module, source);
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                let (imported, local) = match aliased(name) {
                    Some((imported, alias)) => {
                        (node_text(imported, source), node_text(alias, source))
                    }
                    None => (node_text(name, source), node_text(name, source)),
                };
                bindings.push((local.to_string(), format!("{module}.{imported}")));
            }
        }
        _ => {}
    }
    bindings
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
        Imports { bindings, ordered }
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
        self.ordered.iter().any(|(_, _, target)| {
            target
                .strip_prefix(module)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
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

/// `(name, alias)` of an `x as y` import.
fn aliased(name: Node) -> Option<(Node, Node)> {
    if name.python_kind() != Kind::AliasedImport {
        return None;
    }
    Some((name.field(Field::Name)?, name.field(Field::Alias)?))
}

/// `a.b.c` for a chain of identifiers and attributes; `None` for anything else.
/// Iterative: a chain thousands of attributes long must not overflow the stack.
pub fn dotted_name(node: Node, source: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = node;
    while current.python_kind() == Kind::Attribute {
        parts.push(node_text(current.field(Field::Attribute)?, source));
        current = current.field(Field::Object)?;
    }
    if current.python_kind() != Kind::Identifier {
        return None;
    }
    parts.push(node_text(current, source));
    parts.reverse();
    Some(parts.join("."))
}

/// The fully qualified name of a dotted expression, with its first part resolved
/// through imports (`rq.get` -> `requests.get`). A dotted name whose first part is not
/// imported is a local value, not a module: `None`. A bare unimported name stays as
/// written (builtins such as `open`).
pub fn qualified_name(node: Node, source: &str, imports: &Imports) -> Option<String> {
    let dotted = dotted_name(node, source)?;
    let Some((head, rest)) = dotted.split_once('.') else {
        return Some(imports.resolve(&dotted).unwrap_or(&dotted).to_string());
    };
    let resolved = imports.resolve(head)?;
    Some(format!("{resolved}.{rest}"))
}

/// `import_bindings` of a statement of Ruff's tree (`python_ast`): `(local, target)`
/// of each name it binds, the same pairs as the tree-sitter reading gives.
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
            // As written: `from ..pkg import x` targets `..pkg.x`, `from . import x` `..x`.
            let module = match &import.module {
                Some(module) => format!("{}{module}", ".".repeat(import.level as usize)),
                None if import.level > 0 => ".".repeat(import.level as usize),
                None => return Vec::new(),
            };
            import
                .names
                .iter()
                .filter(|alias| alias.name.as_str() != "*")
                .map(|alias| {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    (local.to_string(), format!("{module}.{}", alias.name))
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

/// The fully qualified name of a dotted name as written (`rq.get` -> `requests.get`),
/// as `qualified_name` resolves it.
pub fn qualified_name_of_dotted(dotted: &str, imports: &Imports) -> Option<String> {
    let Some((head, rest)) = dotted.split_once('.') else {
        return Some(imports.resolve(dotted).unwrap_or(dotted).to_string());
    };
    let resolved = imports.resolve(head)?;
    Some(format!("{resolved}.{rest}"))
}
