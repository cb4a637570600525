//! The facts the workspace keeps of one Python module, read from its text alone: what
//! each top-level name holds, what each top-level function returns, what each class
//! binds to `self.x`, and which modules it imports. Values the module cannot settle
//! alone (an imported name, a call of one) are kept as `Value`s, settled when another
//! module asks (`index::WorkspaceIndex`), so one file's facts never depend on another's.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use crate::language::Language;
use crate::rules::Context;
use crate::rules::python::checker::{module_bodies, module_imports, module_kinds};
use crate::rules::python::dependencies::{Dependencies, mentions_auth};
use crate::rules::python::helpers::{AnyNode, any_node};
use crate::semantic::python::Imports;
use crate::semantic::python::bound_kinds::{ScopeKey, Value};
use crate::semantic::python::imports::{dotted_name_of, import_bindings_of, imported_target_of};
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
    /// What its top-level functions and classes, and the variables whose value names
    /// dependencies (aliases, routers made with `dependencies=[...]`), say about
    /// authentication, by name.
    pub guards: BTreeMap<Box<str>, Guard>,
    /// The routers it includes into apps and routers (`include_router`), anywhere in
    /// the module (app factories include them inside a function), in source order.
    pub includes: Vec<RouterInclude>,
}

/// `into.include_router(router, dependencies=[...])`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouterInclude {
    /// The app or router it is included into, when a plain name (`app`).
    pub into: Option<Value>,
    /// The router included (`items.router`, `router`).
    pub router: Value,
    /// The dependencies the include adds to every route of the router.
    pub guard: Guard,
}

/// What a FastAPI dependency, alias or router says about authentication, as its
/// module's text tells (`rules::python::dependencies`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct Guard {
    /// Its body (or a dependency's name it takes) mentions authentication, or it takes a
    /// `Security(...)`.
    pub authenticates: bool,
    /// The other dependencies it takes (`Depends(x)`): it authenticates when one does.
    pub depends_on: Vec<Value>,
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
        for (base, statements) in module_bodies(&context) {
            for statement in top_level_statements(statements) {
                facts.read_statement(statement);
                facts.read_guard(statement, source, base, imports);
            }
        }
        if super::import_scan::includes_routers(source) {
            for (base, statements) in module_bodies(&context) {
                facts.read_includes(statements, source, base, imports);
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

    /// What a top-level definition or assignment says about authentication.
    fn read_guard(&mut self, statement: &Stmt, source: &str, base: usize, imports: &Imports) {
        let text_of = |node: &dyn Ranged| {
            let range = node.range();
            source
                .get(base + usize::from(range.start())..base + usize::from(range.end()))
                .unwrap_or("")
        };
        let (name, guard) = match statement {
            Stmt::FunctionDef(function) => {
                let body = function.body.first().zip(function.body.last());
                let body_text = body.map_or("", |(first, last)| {
                    source
                        .get(base + usize::from(first.start())..base + usize::from(last.end()))
                        .unwrap_or("")
                });
                let mut guard = Guard {
                    authenticates: mentions_auth(body_text),
                    ..Guard::default()
                };
                if !guard.authenticates {
                    guard.add(&Dependencies::of_parameters(function), imports, &text_of);
                }
                (function.name.as_str(), guard)
            }
            Stmt::ClassDef(class) => {
                let body = class.body.first().zip(class.body.last());
                let authenticates = body.is_some_and(|(first, last)| {
                    source
                        .get(base + usize::from(first.start())..base + usize::from(last.end()))
                        .is_some_and(mentions_auth)
                });
                (
                    class.name.as_str(),
                    Guard {
                        authenticates,
                        ..Guard::default()
                    },
                )
            }
            Stmt::Assign(assign) => {
                let [Expr::Name(target)] = &assign.targets[..] else {
                    return;
                };
                let Some(guard) = Guard::of_value(&assign.value, imports, &text_of) else {
                    return;
                };
                (target.id.as_str(), guard)
            }
            Stmt::AnnAssign(assign) => {
                let (Expr::Name(target), Some(value)) = (&*assign.target, &assign.value) else {
                    return;
                };
                let Some(guard) = Guard::of_value(value, imports, &text_of) else {
                    return;
                };
                (target.id.as_str(), guard)
            }
            _ => return,
        };
        self.guards.insert(name.into(), guard);
    }

    /// The `include_router(...)` calls anywhere in `statements` (of the item that
    /// starts at `base`).
    fn read_includes(&mut self, statements: &[Stmt], source: &str, base: usize, imports: &Imports) {
        let text_of = |node: &dyn Ranged| {
            let range = node.range();
            source
                .get(base + usize::from(range.start())..base + usize::from(range.end()))
                .unwrap_or("")
        };
        any_node(statements, |node| {
            let AnyNode::Expression(Expr::Call(call)) = node else {
                return false;
            };
            let Expr::Attribute(callee) = &*call.func else {
                return false;
            };
            if callee.attr.as_str() != "include_router" {
                return false;
            }
            let arguments = &call.arguments;
            let included = arguments.args.first().or_else(|| {
                arguments
                    .find_keyword("router")
                    .map(|keyword| &keyword.value)
            });
            let Some(router) = included.and_then(|router| reference_value(router, imports)) else {
                return false;
            };
            let mut guard = Guard::default();
            if let Some(listed) = arguments.find_keyword("dependencies") {
                guard.add(
                    &Dependencies::in_expression(&listed.value),
                    imports,
                    &text_of,
                );
            }
            self.includes.push(RouterInclude {
                into: reference_value(&callee.value, imports),
                router,
                guard,
            });
            false
        });
    }

    /// A hash of the facts: equal facts, equal hashes (what the server compares to
    /// know whether an edit changed what other modules read).
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

impl Guard {
    /// The guard of a variable whose value names dependencies (`Annotated[User,
    /// Depends(get_user)]`, `APIRouter(dependencies=[...])`); `None` when it names none.
    fn of_value<'t>(
        value: &Expr,
        imports: &Imports,
        text_of: &dyn Fn(&dyn Ranged) -> &'t str,
    ) -> Option<Guard> {
        let dependencies = Dependencies::in_expression(value);
        if dependencies.is_empty() {
            return None;
        }
        let mut guard = Guard::default();
        guard.add(&dependencies, imports, text_of);
        Some(guard)
    }

    /// Take `dependencies`: a `Security(...)`, or a callable whose text mentions
    /// authentication, authenticates; the others are kept to follow.
    fn add<'t>(
        &mut self,
        dependencies: &Dependencies,
        imports: &Imports,
        text_of: &dyn Fn(&dyn Ranged) -> &'t str,
    ) {
        self.authenticates |= dependencies.security;
        for callable in &dependencies.callables {
            if mentions_auth(text_of(*callable)) {
                self.authenticates = true;
            } else if let Some(value) = reference_value(callable, imports) {
                self.depends_on.push(value);
            }
        }
        if self.authenticates {
            self.depends_on.clear();
        }
    }
}

/// What a dependency's callable names: a name of this module, an imported one, or an
/// instance of either (`RateLimiter(...)`); `None` for anything else.
fn reference_value(expression: &Expr, imports: &Imports) -> Option<Value> {
    match expression {
        Expr::Call(call) => Some(Value::Call(Box::new(reference_value(&call.func, imports)?))),
        Expr::Name(_) | Expr::Attribute(_) => {
            let dotted = dotted_name_of(expression)?;
            if let Some(target) = imported_target_of(&dotted, imports) {
                return Some(Value::Imported(target.into()));
            }
            (!dotted.contains('.')).then(|| Value::Local(dotted.into()))
        }
        _ => None,
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

    #[test]
    fn guards_say_what_authenticates_and_what_to_follow() {
        let facts = PythonFacts::of(
            "\
from typing import Annotated
from fastapi import APIRouter, Depends, Security
from . import deps
from .sessions import require_session


def get_db():
    yield None


def get_service(context=Depends(require_session), db=Depends(deps.get_db)):
    return context


def get_viewer(token: str):
    return token


class Limiter:
    def __call__(self):
        return None


Scoped = Annotated[dict, Security(get_db, scopes=[\"read\"])]
ServiceDep = Annotated[dict, Depends(get_service)]
router = APIRouter(dependencies=[Depends(Limiter())])
plain = APIRouter()
",
        );
        let guard = |authenticates: bool, depends_on: Vec<Value>| Guard {
            authenticates,
            depends_on,
        };
        let local = |name: &str| Value::Local(name.into());
        let expected = [
            ("Limiter", guard(false, vec![])),
            ("Scoped", guard(true, vec![])),
            ("ServiceDep", guard(false, vec![local("get_service")])),
            ("get_db", guard(false, vec![])),
            (
                "get_service",
                guard(
                    false,
                    vec![
                        Value::Imported(".sessions.require_session".into()),
                        // `from . import deps`: the module of this package.
                        Value::Imported(".deps.get_db".into()),
                    ],
                ),
            ),
            ("get_viewer", guard(true, vec![])),
            (
                "router",
                guard(false, vec![Value::Call(Box::new(local("Limiter")))]),
            ),
        ];
        let found: Vec<(&str, Guard)> = facts
            .guards
            .iter()
            .map(|(name, guard)| (&**name, guard.clone()))
            .collect();
        assert_eq!(found, expected);
    }
}
