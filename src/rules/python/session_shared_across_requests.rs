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
//! A session made at import time in another module and imported here counts too, as
//! does one made here from a factory of another module (`db = make_session()`), as far
//! as the workspace tells (`scoped_session(...)` stays fine).
//!
//! ## Known problems
//! Handlers are found by their route decorators.

use ruff_python_ast::{Expr, ExprContext, StmtFunctionDef};

use super::checker::{Checker, Hooks, module_imports};
use super::helpers::{AnyNode, walk_scope};
use super::module_scope::module_scope;
use super::routes::routes_of;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Finding, FixAvailability, Libraries, Rule, Severity, WorkspaceTrigger,
};
use crate::semantic::python::BindingKind;
use crate::semantic::python::imports::{dotted_name_of, qualified_name_of};

pub const RULE: Rule = Rule {
    id: "session-shared-across-requests",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "A module-level DB session or connection used by request handlers",
    triggers: &["session", "connect"],
    python_triggers: None,
    text_test: Some(super::routes::mentions_route_decorator),
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::DATABASE,
        text: super::routes::mentions_route_decorator,
    }),
    check: Check::Ast(Hooks {
        function: Some(check),
        ..Hooks::NONE
    }),
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

fn check<'c>(
    checker: &Checker<'c, '_>,
    function: &'c StmtFunctionDef,
    findings: &mut Vec<Finding>,
) {
    if routes_of(checker, function).is_empty() {
        return;
    }
    let shared = shared_sessions(checker.context());
    let mut locals: Vec<&str> = function
        .parameters
        .iter()
        .map(|parameter| parameter.name().as_str())
        .collect();
    let mut uses = Vec::new();
    walk_scope(&function.body, |node| {
        if let AnyNode::Expression(expression @ Expr::Name(name)) = node {
            if name.ctx == ExprContext::Store {
                locals.push(name.id.as_str());
            } else {
                uses.push((name, expression));
            }
        }
    });
    let mut reported: Vec<&str> = Vec::new();
    for (name, expression) in uses {
        let name_text = name.id.as_str();
        if locals.contains(&name_text) || reported.contains(&name_text) {
            continue;
        }
        let known = shared
            .0
            .iter()
            .find(|(shared, _)| shared == name_text)
            .map(|(_, how)| *how);
        // A session made at import time in another module (or here, from a factory
        // made there), as the module and the workspace tell.
        let Some(how) = known.or_else(|| {
            matches!(
                checker.kind_of(expression),
                Some(BindingKind::Session { .. })
            )
            .then_some("session")
        }) else {
            continue;
        };
        reported.push(name_text);
        findings.push(RULE.finding(
            checker.range(name),
            format!(
                "`{name_text}` is one {how} created at import time and shared by every request: concurrent requests interleave on it, and one failure breaks it for all"
            ),
        ));
    }
}

/// Module-level names bound to a session or connection, with what they are: read from
/// the module's own statements (not those nested in an `if` or `try`), in order, so a
/// factory is known by the time a session is made from it. Worked out once per audit:
/// the editor hashes this list as part of the clients its definitions read, and the
/// rule reads it at every handler.
pub fn shared_sessions(context: &Context) -> std::rc::Rc<SharedSessions> {
    context.memo(|| SharedSessions(find_shared_sessions(context)))
}

/// Names bound to a shared session or connection, and which it is (its own type: the
/// `Context::memo` it is kept in is keyed by type).
pub struct SharedSessions(pub Vec<(String, &'static str)>);

fn find_shared_sessions(context: &Context) -> Vec<(String, &'static str)> {
    let imports = module_imports(context);
    let mut factories: Vec<String> = imports
        .ordered()
        .iter()
        .filter(|(_, local, _)| local.ends_with("Session") || local.ends_with("SessionLocal"))
        .map(|(_, local, _)| local.clone())
        .collect();
    let mut engines: Vec<String> = Vec::new();
    let mut shared = Vec::new();
    for assignment in &module_scope(context).assignments {
        if !assignment.direct {
            continue;
        }
        let Some(call) = assignment.called() else {
            continue;
        };
        let name = assignment.name.to_string();
        let callee = qualified_name_of(&call.func, imports);
        let callee = callee.as_deref();
        if callee.is_some_and(|callee| FACTORY_MAKERS.contains(&callee)) {
            factories.push(name);
            continue;
        }
        if callee.is_some_and(|callee| ENGINE_MAKERS.contains(&callee)) {
            engines.push(name);
            continue;
        }
        let callee_text = dotted_name_of(&call.func);
        let callee_text = callee_text.as_deref().unwrap_or("");
        // `sessionmaker(bind=engine)()`
        let made_by_new_factory = matches!(&*call.func, Expr::Call(maker)
            if qualified_name_of(&maker.func, imports)
                .is_some_and(|maker| FACTORY_MAKERS.contains(&maker.as_str())));
        let opened = if let Some(opener) = callee.filter(|callee| OPENERS.contains(callee)) {
            Some(if opener.contains("Session") {
                "session"
            } else {
                "connection"
            })
        } else if made_by_new_factory || factories.iter().any(|factory| factory == callee_text) {
            Some("session")
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
