//! ## What it does
//! Finds database sessions and connections created once, at module level, and used inside
//! request handlers (FastAPI/Starlette routes, Flask views): `db = SessionLocal()`,
//! `session = Session(engine)`, `AsyncSession(engine)`, `sessionmaker(...)()`,
//! `conn = engine.connect()`, `psycopg2.connect(...)`, `psycopg.connect(...)`,
//! `asyncpg`-style pools excepted. A factory counts when it is bound in the module to
//! `sessionmaker(...)`/`async_sessionmaker(...)`, or imported under a name ending in
//! `Session`/`SessionLocal`.
//!
//! `scoped_session(...)` (one session per thread) and sessions created inside the handler
//! or by a dependency are fine.
//!
//! ## Why is this bad?
//! A SQLAlchemy session is a unit of work for one request: it is not thread-safe, and
//! `AsyncSession` is not safe across concurrent tasks. Shared by every request, one
//! request's failed flush poisons the session for all others ("This Session's transaction
//! has been rolled back"), uncommitted changes of one user are committed by another, and
//! identity-map caching serves stale rows. A single shared DB-API connection serialises
//! every request and dies for all of them at once.
//!
//! ## Example
//! ```python
//! db = SessionLocal()
//!
//! @app.get("/orders/{order_id}")
//! def read_order(order_id: int):
//!     return db.get(Order, order_id)
//! ```
//!
//! ## Use instead
//! ```python
//! def get_db():
//!     with SessionLocal() as db:
//!         yield db
//!
//! @app.get("/orders/{order_id}")
//! def read_order(order_id: int, db: Session = Depends(get_db)):
//!     return db.get(Order, order_id)
//! ```
//!
//! ## Fix safety
//! No fix: the session's lifetime has to move into a dependency or the handler.
//!
//! ## Known problems
//! Sessions created in another module and imported here are not seen; handlers are found
//! by their route decorators.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::web::routes_of;
use super::{local_bindings, top_level_assignment, walk_local_scope};
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::semantic::python::imports::{Imports, qualified_name};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "session-shared-across-requests",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::None,
    summary: "A module-level DB session or connection used by request handlers",
    triggers: &["session", "connect"],
    text_test: Some(super::web::mentions_route_decorator),
    check: Check::Tree(check),
    reads: Projections::IMPORTS
        .and(Projections::CLIENTS)
        .and(Projections::ROUTERS),
};

/// Calls that open a connection or a session directly.
pub const OPENERS: &[&str] = &[
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlmodel.Session",
    "psycopg2.connect",
    "psycopg.connect",
    "pymysql.connect",
    "MySQLdb.connect",
];

/// Factories whose call makes a session.
pub const FACTORY_MAKERS: &[&str] = &[
    "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker",
];

pub const ENGINE_MAKERS: &[&str] = &[
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.ext.asyncio.create_async_engine",
    "sqlmodel.create_engine",
];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    let shared = shared_sessions(context.top_level(), source, &facts.semantic.imports);
    if shared.is_empty() {
        return;
    }
    let routers = context.routers();
    for &definition in context.top_level() {
        if context.coverage.skips(definition) {
            continue;
        }
        for route in routes_of(definition, routers, source) {
            let locals = local_bindings(route.function, source);
            let mut reported: Vec<&str> = Vec::new();
            walk_local_scope(route.function, |node| {
                if node.python_kind() != Kind::Identifier {
                    return;
                }
                let name = node_text(node, source);
                let Some((_, how)) = shared.iter().find(|(shared, _)| shared == name) else {
                    return;
                };
                if locals.iter().any(|local| local == name)
                    || reported.contains(&name)
                    || !is_use(node)
                {
                    return;
                }
                reported.push(name);
                findings.push(RULE.finding(
                    node.byte_range(),
                    format!(
                        "`{name}` is one {how} created at import time and shared by every request: concurrent requests interleave on it, and one failure breaks it for all"
                    ),
                ));
            });
        }
    }
}

/// Module-level names bound to a session or connection, with what they are.
fn shared_sessions(
    top_level: &[Node],
    source: &str,
    imports: &Imports,
) -> Vec<(String, &'static str)> {
    let mut factories: Vec<String> = imports
        .ordered()
        .iter()
        .filter(|(_, local, _)| local.ends_with("Session") || local.ends_with("SessionLocal"))
        .map(|(_, local, _)| local.clone())
        .collect();
    let mut engines: Vec<String> = Vec::new();
    let mut shared = Vec::new();
    for statement in top_level {
        let Some((target, value)) = top_level_assignment(*statement) else {
            continue;
        };
        let value = if value.python_kind() == Kind::Await {
            value.named_child(0).unwrap_or(value)
        } else {
            value
        };
        if target.python_kind() != Kind::Identifier || value.python_kind() != Kind::Call {
            continue;
        }
        let name = node_text(target, source).to_string();
        let Some(function) = value.field(Field::Function) else {
            continue;
        };
        let callee = qualified_name(function, source, imports);
        let callee_text = node_text(function, source);
        if let Some(callee) = callee.as_deref() {
            if FACTORY_MAKERS.contains(&callee) {
                factories.push(name);
                continue;
            }
            if ENGINE_MAKERS.contains(&callee) {
                engines.push(name);
                continue;
            }
        }
        let opened = if callee
            .as_deref()
            .is_some_and(|callee| OPENERS.contains(&callee))
        {
            Some(
                if callee.as_deref().is_some_and(|c| c.contains("Session")) {
                    "session"
                } else {
                    "connection"
                },
            )
        } else if factories.iter().any(|factory| factory == callee_text)
            || (function.python_kind() == Kind::Call
                && function
                    .field(Field::Function)
                    .and_then(|maker| qualified_name(maker, source, imports))
                    .is_some_and(|maker| FACTORY_MAKERS.contains(&maker.as_str())))
        {
            Some("session") // from a factory, or `sessionmaker(bind=engine)()`
        } else if callee_text
            .strip_suffix(".connect")
            .is_some_and(|engine| engines.iter().any(|known| known == engine))
        {
            Some("connection")
        } else {
            None
        };
        if let Some(how) = opened {
            shared.push((name, how));
        }
    }
    shared
}

/// An identifier that reads the name (not an attribute name or a keyword argument's name).
fn is_use(identifier: Node) -> bool {
    let Some(parent) = identifier.parent() else {
        return true;
    };
    let is_field = |field: Field| super::is_field_of(parent, field, identifier);
    match parent.python_kind() {
        Kind::Attribute => !is_field(Field::Attribute),
        Kind::KeywordArgument => !is_field(Field::Name),
        Kind::FunctionDefinition | Kind::Parameters => false,
        _ => true,
    }
}
