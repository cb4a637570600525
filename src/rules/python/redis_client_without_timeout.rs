//! ## What it does
//! Finds Redis clients and connection pools built without `socket_timeout`:
//! `redis.Redis(...)`, `StrictRedis`, `RedisCluster`, `from_url(...)`, their
//! `redis.asyncio` twins, and `ConnectionPool`/`BlockingConnectionPool` (also
//! `.from_url`), with names resolved through imports. A `socket_timeout=None` counts as
//! none. Clients given a `connection_pool=` take their sockets from that pool, which is
//! where the timeout belongs, and a `from_url` URL that sets `socket_timeout=` in its
//! query string is fine.
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

use super::{add_keyword_arguments, has_dictionary_splat, keyword_argument, positional_arguments};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, node_text,
};
use crate::semantic::python::imports::qualified_name;
use crate::semantic::python::kinds::{REDIS_POOL_CONSTRUCTORS, is_redis_client_constructor};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "redis-client-without-timeout",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A Redis client or pool built without `socket_timeout`",
    triggers: &["redis"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

/// The seconds the fix sets for both timeouts.
const TIMEOUT_SECONDS: u64 = 5;

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let Some(function) = site.call.field(Field::Function) else {
            continue;
        };
        let Some(name) = qualified_name(function, source, &facts.semantic.imports).filter(|name| {
            is_redis_client_constructor(name) || REDIS_POOL_CONSTRUCTORS.contains(&name.as_str())
        }) else {
            continue;
        };
        let call = site.call;
        if has_dictionary_splat(call) || keyword_argument(call, "connection_pool", source).is_some()
        {
            continue;
        }
        let socket_timeout = keyword_argument(call, "socket_timeout", source);
        if socket_timeout.is_some_and(|value| node_text(value, source) != "None") {
            continue;
        }
        if name.ends_with("from_url") && url_sets_timeout(call, source) {
            continue;
        }
        let mut finding = RULE.finding(
            function.byte_range(),
            format!(
                "`{name}` has no `socket_timeout`: when Redis stops answering, every command on it waits forever"
            ),
        );
        finding.fix = match socket_timeout {
            Some(none) => Some(Fix::unsafe_(
                format!("Set `socket_timeout={TIMEOUT_SECONDS}`"),
                vec![Edit::replace(
                    none.byte_range(),
                    TIMEOUT_SECONDS.to_string(),
                )],
            )),
            None => {
                let mut missing = vec![format!("socket_timeout={TIMEOUT_SECONDS}")];
                if keyword_argument(call, "socket_connect_timeout", source).is_none() {
                    missing.push(format!("socket_connect_timeout={TIMEOUT_SECONDS}"));
                }
                add_keyword_arguments(call, &missing, source)
                    .map(|edit| Fix::unsafe_(format!("Add `{}`", missing.join(", ")), vec![edit]))
            }
        };
        findings.push(finding);
    }
}

/// `from_url("redis://...?socket_timeout=5")`: the URL literal sets the timeout.
fn url_sets_timeout(call: tree_sitter::Node, source: &str) -> bool {
    positional_arguments(call)
        .first()
        .copied()
        .or_else(|| keyword_argument(call, "url", source))
        .is_some_and(|url| {
            url.python_kind() == Kind::String && node_text(url, source).contains("socket_timeout=")
        })
}
