//! ## What it does
//! Finds database connection pools built without the settings that bound how long a
//! request waits for a connection and that keep dead connections out of the pool:
//! - SQLAlchemy `create_engine(...)` / `create_async_engine(...)` (also from `sqlmodel`)
//!   without `pool_timeout=` or without `pool_pre_ping=`;
//! - `asyncpg.create_pool(...)` with neither `timeout=` nor `command_timeout=`;
//! - psycopg 3's `psycopg_pool.ConnectionPool(...)` / `AsyncConnectionPool(...)` without
//!   `timeout=`.
//!
//! Engines for SQLite (a literal `sqlite` URL) and engines given a pool class that does
//! not queue (`NullPool`, `StaticPool`, `SingletonThreadPool`, `AssertionPool`) are fine.
//!
//! Engines and pools of tests, of Alembic (modules that import `alembic`, such as
//! `env.py`) and of commands (`cli.py`, `manage.py`, `scripts/`, a `__main__` block) are
//! not checked: they live for one run and no request waits on them.
//!
//! ## Why is this bad?
//! When every pooled connection is busy (a slow query, a traffic spike, a leaked session),
//! new requests queue for one. Without a stated bound they wait SQLAlchemy's implicit
//! 30 s, or psycopg's 30 s, and asyncpg queries without `command_timeout` never time out
//! at all; requests pile up behind the pool instead of failing fast, and the service
//! stops answering health checks. Without `pool_pre_ping`, connections that the
//! database, PgBouncer or a load balancer closed while idle stay in the pool and fail
//! the first request that gets them after a restart or failover.
//!
//! ## Example
//! ```python
//! from sqlalchemy import create_engine
//!
//! engine = create_engine(DATABASE_URL, pool_size=10)
//! ```
//!
//! ## Use instead
//! ```python
//! from sqlalchemy import create_engine
//!
//! engine = create_engine(DATABASE_URL, pool_size=10, pool_timeout=10, pool_pre_ping=True)
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix adds the missing arguments (`pool_timeout=10`, `pool_pre_ping=True`;
//! `command_timeout=30` for asyncpg; `timeout=10` for psycopg pools). Requests that used
//! to wait longer for a connection now fail after 10 s, and pre-ping costs one round
//! trip per checkout. Calls that pass `**kwargs` are not reported.
//!
//! ## Known problems
//! The URL is only read when it is a literal, so a SQLite engine built from a variable is
//! reported. Settings applied later (`engine.pool` replaced, `execution_options`) are not
//! seen.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::helpers::{add_keyword_arguments, has_dictionary_splat};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};
use crate::semantic::python::imports::qualified_name_of;

pub const RULE: Rule = Rule {
    id: "db-pool-without-timeout",
    languages: &[Language::Python],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A database pool with no checkout timeout or pre-ping (SQLAlchemy, asyncpg, psycopg)",
    triggers: &[
        "create_engine",
        "create_async_engine",
        "create_pool",
        "ConnectionPool",
    ],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

const ENGINE_FACTORIES: &[&str] = &[
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.ext.asyncio.create_async_engine",
    "sqlmodel.create_engine",
];

const PSYCOPG_POOLS: &[&str] = &[
    "psycopg_pool.ConnectionPool",
    "psycopg_pool.AsyncConnectionPool",
    "psycopg_pool.NullConnectionPool",
    "psycopg_pool.AsyncNullConnectionPool",
];

/// Pool classes that never make a request wait for a connection.
const NON_QUEUEING_POOLS: &[&str] = &[
    "NullPool",
    "StaticPool",
    "SingletonThreadPool",
    "AssertionPool",
];

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    // Engines of tests, of Alembic's `env.py` and of commands live for one run; no
    // request waits on their pools.
    if checker.in_test_file()
        || checker.imports().imports_module("alembic")
        || checker.in_command_module()
    {
        return;
    }
    let Some(name) = qualified_name_of(&call.func, checker.imports()) else {
        return;
    };
    let arguments = &call.arguments;
    if has_dictionary_splat(arguments) {
        return;
    }
    let has = |keyword: &str| arguments.find_keyword(keyword).is_some();
    let (missing, consequence): (Vec<&str>, &str) = if ENGINE_FACTORIES.contains(&name.as_str()) {
        if is_sqlite_or_unpooled(checker, call) {
            return;
        }
        let missing: Vec<&str> = ["pool_timeout", "pool_pre_ping"]
            .into_iter()
            .filter(|keyword| !has(keyword))
            .collect();
        let consequence = match missing.as_slice() {
            ["pool_timeout"] => "a request waits an implicit 30 s for a free connection",
            ["pool_pre_ping"] => {
                "connections the server dropped while idle fail the first request that gets them"
            }
            _ => {
                "a request waits an implicit 30 s for a free connection, and connections dropped while idle fail on first use"
            }
        };
        (missing, consequence)
    } else if name == "asyncpg.create_pool" {
        if has("timeout") || has("command_timeout") {
            return;
        }
        (vec!["command_timeout"], "its queries never time out")
    } else if PSYCOPG_POOLS.contains(&name.as_str()) {
        (
            vec!["timeout"]
                .into_iter()
                .filter(|keyword| !has(keyword))
                .collect(),
            "a request waits an implicit 30 s for a free connection",
        )
    } else {
        return;
    };
    if missing.is_empty() {
        return;
    }
    let listed = missing
        .iter()
        .map(|keyword| format!("`{keyword}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let mut finding = RULE.finding(
        checker.range(&*call.func),
        format!("`{name}` has no {listed}: {consequence}"),
    );
    let added: Vec<String> = missing
        .iter()
        .map(|keyword| fixed_argument(keyword))
        .collect();
    finding.fix = add_keyword_arguments(checker, arguments, &added)
        .map(|edit| Fix::unsafe_(format!("Add `{}`", added.join(", ")), vec![edit]));
    findings.push(finding);
}

fn fixed_argument(keyword: &str) -> String {
    match keyword {
        "pool_pre_ping" => "pool_pre_ping=True".to_string(),
        "command_timeout" => "command_timeout=30".to_string(),
        other => format!("{other}=10"),
    }
}

/// A literal SQLite URL, or a pool class that never queues requests.
fn is_sqlite_or_unpooled(checker: &Checker, call: &ExprCall) -> bool {
    let arguments = &call.arguments;
    let url = arguments
        .args
        .first()
        .or_else(|| arguments.find_keyword("url").map(|keyword| &keyword.value));
    let sqlite = url.is_some_and(|url| {
        matches!(url, Expr::StringLiteral(_) | Expr::FString(_))
            && checker
                .text(url)
                .trim_start_matches(|c: char| c.is_ascii_alphabetic() && c != 's')
                .trim_start_matches(['"', '\''])
                .starts_with("sqlite")
    });
    let unpooled = arguments.find_keyword("poolclass").is_some_and(|class| {
        let text = checker.text(&class.value);
        let last = text.rsplit('.').next().unwrap_or(text);
        NON_QUEUEING_POOLS.contains(&last)
    });
    sqlite || unpooled
}
