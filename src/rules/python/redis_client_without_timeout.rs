//! ## What it does
//! Finds Redis clients and connection pools built without `socket_timeout`:
//! `redis.Redis(...)`, `StrictRedis`, `RedisCluster`, `from_url(...)`, their
//! `redis.asyncio` twins, and `ConnectionPool`/`BlockingConnectionPool` (also
//! `.from_url`), with names resolved through imports, also where a module of the
//! workspace exports one of them again under any name (`from app.cache import Cache`).
//! A `socket_timeout=None` counts as none. Clients given a `connection_pool=` take
//! their sockets from that pool, which is where the timeout belongs, and a `from_url`
//! URL that sets `socket_timeout=` in its query string is fine.
//!
//! ## Why is this bad?
//! redis-py's default socket timeout is `None`: when Redis stops answering (a failover,
//! a network partition, a server stuck in a slow `KEYS *`), every command waits forever.
//! Each request that touches the cache hangs with it, worker threads or the event loop
//! fill up, and an outage of a cache turns into an outage of the whole service. With a
//! timeout the command raises `redis.TimeoutError`, which the code can handle (serve
//! without the cache, retry, fail fast).
//!
//! ## Example
//! ```python
//! import redis
//!
//! cache = redis.Redis(host="cache", port=6379)
//! ```
//!
//! ## Use instead
//! ```python
//! import redis
//!
//! cache = redis.Redis(host="cache", port=6379, socket_timeout=5, socket_connect_timeout=5)
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix adds `socket_timeout=5` and `socket_connect_timeout=5` (the missing
//! ones, or puts 5 in place of `None`), so commands that used to wait now raise `redis.TimeoutError` after 5 seconds;
//! pick a value that fits your slowest legitimate command (blocking `BLPOP`s need
//! their own). Calls that pass `**kwargs` are not reported.
//!
//! ## Known problems
//! `socket_connect_timeout` alone is not reported missing: redis-py uses `socket_timeout`
//! for connecting when it is not set. Timeouts set through a URL held in a variable or a
//! settings object cannot be seen, so `redis.from_url(settings.REDIS_URL)` is reported
//! even when that URL carries `?socket_timeout=5`.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::helpers::{add_keyword_arguments, has_dictionary_splat};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::imports::qualified_name_of;
use crate::semantic::python::kinds::{REDIS_POOL_CONSTRUCTORS, is_redis_client_constructor};

pub const RULE: Rule = Rule {
    id: "redis-client-without-timeout",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A Redis client or pool built without `socket_timeout`",
    triggers: &["redis"],
    python_triggers: None,
    text_test: None,
    // A client class that a module of the workspace exports again, under any name.
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| text.contains('('),
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

/// The seconds the fix sets for both timeouts.
const TIMEOUT_SECONDS: u64 = 5;

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    // Also a class or function of redis-py that a module of the workspace exports again.
    let Some(name) = checker
        .qualified_name_from(&call.func, Libraries::REDIS)
        .filter(|name| {
            is_redis_client_constructor(name) || REDIS_POOL_CONSTRUCTORS.contains(&name.as_str())
        })
    else {
        return;
    };
    let arguments = &call.arguments;
    if has_dictionary_splat(arguments) || arguments.find_keyword("connection_pool").is_some() {
        return;
    }
    let socket_timeout = arguments
        .find_keyword("socket_timeout")
        .map(|keyword| &keyword.value);
    if socket_timeout.is_some_and(|value| !value.is_none_literal_expr()) {
        return;
    }
    if name.ends_with("from_url") && url_sets_timeout(checker, call) {
        return;
    }
    // What another module exports again is named as written here, then as redis-py
    // names it.
    let shown = match qualified_name_of(&call.func, checker.imports()) {
        Some(imported) if imported != name => {
            format!("`{}` (`{name}`)", checker.text(&*call.func))
        }
        _ => format!("`{name}`"),
    };
    let mut finding = RULE.finding(
        checker.range(&*call.func),
        format!(
            "{shown} has no `socket_timeout`: when Redis stops answering, every command on it waits forever"
        ),
    );
    finding.fix = match socket_timeout {
        Some(none) => Some(Fix::unsafe_(
            format!("Set `socket_timeout={TIMEOUT_SECONDS}`"),
            vec![Edit::replace(
                checker.range(none),
                TIMEOUT_SECONDS.to_string(),
            )],
        )),
        None => {
            let mut missing = vec![format!("socket_timeout={TIMEOUT_SECONDS}")];
            if arguments.find_keyword("socket_connect_timeout").is_none() {
                missing.push(format!("socket_connect_timeout={TIMEOUT_SECONDS}"));
            }
            add_keyword_arguments(checker, arguments, &missing)
                .map(|edit| Fix::unsafe_(format!("Add `{}`", missing.join(", ")), vec![edit]))
        }
    };
    findings.push(finding);
}

/// `from_url("redis://...?socket_timeout=5")`: the URL literal sets the timeout.
fn url_sets_timeout(checker: &Checker, call: &ExprCall) -> bool {
    call.arguments
        .args
        .first()
        .or_else(|| {
            call.arguments
                .find_keyword("url")
                .map(|keyword| &keyword.value)
        })
        .is_some_and(|url| {
            matches!(url, Expr::StringLiteral(_) | Expr::FString(_))
                && checker.text(url).contains("socket_timeout=")
        })
}
