//! The facts the workspace keeps of one Python module, read from its text alone: what
//! each top-level name holds, what each top-level function returns, what each class
//! binds to `self.x`, and which modules it imports. Values the module cannot settle
//! alone (an imported name, a call of one) are kept as `Value`s, settled when another
//! module asks (`index::WorkspaceIndex`), so one file's facts never depend on another's.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use ruff_python_ast::Stmt;

use crate::language::Language;
use crate::rules::Context;
use crate::rules::python::checker::{module_bodies, module_imports, module_kinds};
use crate::semantic::python::bound_kinds::{ScopeKey, Value};
use crate::semantic::python::imports::import_bindings_of;
use crate::syntax::Syntax;

/// What one module exports, as far as its text tells.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct PythonFacts {
    /// Top-level variables (imported names too) and what they hold, by name.
    pub variables: BTreeMap<Box<str>, Value>,
    /// Top-level functions and what a call gives (`None`: unknown), by name.
    pub functions: BTreeMap<Box<str>, Option<Value>>,
    /// Classes and what their methods bind to `self.x`, by class and attribute.
    pub attributes: BTreeMap<Box<str>, BTreeMap<Box<str>, Value>>,
    /// Modules whose names `from module import *` brings in, as written.
    pub star_imports: Vec<Box<str>>,
    /// Every module its top-level statements import, as written (`..core`, `redis`).
    pub imported_modules: Vec<Box<str>>,
}

impl PythonFacts {
    /// The facts of the module whose text is `source`.
    pub fn of(source: &str) -> PythonFacts {
        let Some(syntax) = Syntax::parse(Language::Python, source) else {
            return PythonFacts::default();
        };
        PythonFacts::of_parsed(source, &syntax)
    }

    /// The facts of a module already parsed.
    pub fn of_parsed(source: &str, syntax: &Syntax) -> PythonFacts {
        // Facts read no rule's settings.
        static SETTINGS: std::sync::LazyLock<crate::config::Settings> =
            std::sync::LazyLock::new(crate::config::Settings::default);
        let context = Context::new(source, syntax, Language::Python, &SETTINGS.rules);
        let imports = module_imports(&context);
        let kinds = module_kinds(&context);
        let mut facts = PythonFacts::default();
        for (_, statements) in module_bodies(&context) {
            for statement in top_level_statements(statements) {
                facts.read_statement(statement);
            }
        }
        for (name, kind) in kinds.kinds_bound_in(ScopeKey::MODULE) {
            facts.variables.insert(name.into(), Value::Kind(kind));
        }
        for (name, value) in kinds.values_bound_in(ScopeKey::MODULE) {
            facts.variables.insert(name.into(), value.clone());
        }
        for (name, function) in kinds.top_level_functions() {
            facts.variables.remove(name);
            facts
                .functions
                .insert(name.into(), kinds.return_value(function, imports));
        }
        for (_, statements) in module_bodies(&context) {
            for statement in statements {
                let Stmt::ClassDef(class) = statement else {
                    continue;
                };
                let scope = ScopeKey::of(class);
                let mut attributes: BTreeMap<Box<str>, Value> = kinds
                    .values_bound_in(scope)
                    .into_iter()
                    .map(|(name, value)| (name.into(), value.clone()))
                    .collect();
                for (name, kind) in kinds.kinds_bound_in(scope) {
                    attributes.insert(name.into(), Value::Kind(kind));
                }
                attributes.retain(|name, _| name.starts_with("self."));
                if !attributes.is_empty() {
                    facts
                        .attributes
                        .insert(class.name.as_str().into(), attributes);
                }
            }
        }
        facts
    }

    /// What a top-level import statement binds.
    fn read_statement(&mut self, statement: &Stmt) {
        if let Stmt::ImportFrom(import) = statement
            && import.names.iter().any(|alias| alias.name.as_str() == "*")
        {
            let dots = ".".repeat(import.level as usize);
            let module = import.module.as_ref().map_or("", |module| module.as_str());
            self.star_imports.push(format!("{dots}{module}").into());
        }
        match statement {
            Stmt::Import(import) => {
                self.imported_modules
                    .extend(import.names.iter().map(|alias| alias.name.as_str().into()));
            }
            Stmt::ImportFrom(import) => {
                let dots = ".".repeat(import.level as usize);
                let module = import.module.as_ref().map_or("", |module| module.as_str());
                self.imported_modules.push(format!("{dots}{module}").into());
            }
            _ => return,
        }
        for (local, target) in import_bindings_of(statement) {
            self.variables
                .insert(local.into(), Value::Imported(target.into()));
        }
    }

    /// A hash of the facts: equal facts, equal hashes (what the server compares to
    /// know whether an edit changed what other modules read).
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// The statements that run at a module's top level: its own, and those inside its
/// top-level `if`, `try` and `with` blocks (`try: import x except ImportError: ...`).
fn top_level_statements(statements: &[Stmt]) -> Vec<&Stmt> {
    let mut found = Vec::new();
    let mut pending: Vec<&Stmt> = statements.iter().rev().collect();
    while let Some(statement) = pending.pop() {
        let nested: Vec<&[Stmt]> = match statement {
            Stmt::If(branch) => std::iter::once(&branch.body[..])
                .chain(
                    branch
                        .elif_else_clauses
                        .iter()
                        .map(|clause| &clause.body[..]),
                )
                .collect(),
            Stmt::Try(attempt) => {
                let mut bodies = vec![
                    &attempt.body[..],
                    &attempt.orelse[..],
                    &attempt.finalbody[..],
                ];
                bodies.extend(attempt.handlers.iter().map(|handler| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(handler) = handler;
                    &handler.body[..]
                }));
                bodies
            }
            Stmt::With(with) => vec![&with.body[..]],
            _ => {
                found.push(statement);
                continue;
            }
        };
        for body in nested.into_iter().rev() {
            pending.extend(body.iter().rev());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::python::BindingKind;

    #[test]
    fn facts_name_kinds_values_returns_and_attributes() {
        let facts = PythonFacts::of(
            "\
import redis
from .settings import settings
from ..db import SessionLocal as Factory
from app.models import *

client = redis.Redis(socket_timeout=1)
alias = client
shared = settings.redis


def get_client() -> redis.Redis:
    return make()


def get_db():
    with Factory() as db:
        yield db


def plain():
    return 1


class Store:
    def __init__(self, cache: redis.Redis, other):
        self.cache = cache
        self.other = other
        self.db = Factory()
",
        );
        let sync = Value::Kind(BindingKind::RedisClient {
            asynchronous: false,
        });
        assert_eq!(facts.variables.get("client"), Some(&sync));
        assert_eq!(facts.variables.get("alias"), Some(&sync));
        assert_eq!(
            facts.variables.get("shared"),
            Some(&Value::Imported(".settings.settings.redis".into()))
        );
        assert_eq!(facts.functions.get("get_client"), Some(&Some(sync.clone())));
        assert_eq!(
            facts.functions.get("get_db"),
            Some(&Some(Value::Call(Box::new(Value::Imported(
                "..db.SessionLocal".into()
            )))))
        );
        assert_eq!(facts.functions.get("plain"), Some(&None));
        let store = &facts.attributes["Store"];
        assert_eq!(store.get("self.cache"), Some(&sync));
        assert_eq!(store.get("self.other"), None);
        assert_eq!(
            store.get("self.db"),
            Some(&Value::Call(Box::new(Value::Imported(
                "..db.SessionLocal".into()
            ))))
        );
        assert_eq!(facts.star_imports, [Box::from("app.models")]);
        assert_eq!(
            facts.imported_modules,
            [
                Box::from("redis"),
                Box::from(".settings"),
                Box::from("..db"),
                Box::from("app.models")
            ]
        );
    }
}
