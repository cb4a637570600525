//! ## What it does
//! Finds FastAPI routes that should be authenticated and show no sign of it: routes
//! whose path (with its router's `prefix`) has an `admin` or `internal` segment, and
//! routes that change data (`POST`, `PUT`, `PATCH`, `DELETE`), when no dependency that
//! authenticates is attached to the route, its router, or the app.
//!
//! A dependency authenticates when it is a `Depends(...)`/`Security(...)` (in a
//! parameter's default or `Annotated[...]` type, an alias of one, or a `dependencies=[...]`
//! list on the route, on `APIRouter(...)`, on `FastAPI(...)` or on
//! `app.include_router(...)`) whose callable's name, or body when it is defined in the
//! same file, mentions `auth`, `user`, `token`, `permission`, `login`, `admin`, `jwt`,
//! `api_key`, `scope`, `role`, `credential`, `verify`, `signature` or `hmac`.
//!
//! ## Why is this bad?
//! FastAPI routes are public unless a dependency says otherwise, and nothing fails when
//! that dependency is forgotten: the endpoint works in every test, for every caller.
//! An unauthenticated `DELETE /orders/{id}` or `/admin/users` is found by scanners
//! quickly, and the first sign of it is data that changed when nobody logged in.
//!
//! ## Example
//! ```python
//! router = APIRouter(prefix="/admin")
//!
//! @router.delete("/users/{user_id}")
//! def delete_user(user_id: int, db: Session = Depends(get_db)):
//!     ...
//! ```
//!
//! ## Use instead
//! ```python
//! router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
//!
//! @router.delete("/users/{user_id}")
//! def delete_user(user_id: int, db: Session = Depends(get_db)):
//!     ...
//! ```
//!
//! ## Fix safety
//! No fix: which check a route needs is a decision about who may call it.
//!
//! Routes whose purpose is to authenticate are public by design and not reported: a path
//! segment for logging in, signing up or registering, getting or
//! refreshing a token, recovering or resetting a password, or an OAuth callback
//! (`/login/access-token`, `/users/signup`, `/reset-password/`), unless the route is
//! also under an admin/internal path. A parameter annotated with an alias imported by
//! name counts when the alias follows the convention for such aliases: a `Current...`
//! name (`current_user: CurrentUser`), or an auth-sounding name imported from a
//! dependencies or security module (`from app.api.deps import TokenDep`).
//!
//! ## Known problems
//! Authentication done in middleware, or by a router that another file includes with
//! dependencies, is not seen from this file: silence those routes with
//! `# stackaudit: ignore[missing-auth-dependency]`, or add the dependency to the router
//! here. Public write endpoints other than the authentication ones (webhooks with
//! signatures checked in the body) are reported too. Flask views are not checked.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::web::{Route, Routers, routes_of};
use super::{ModuleFacts, keyword_argument, positional_arguments, string_value};
use crate::language::Language;
use crate::rules::{
    Check, Context, Finding, FixAvailability, Rule, Severity, any_in_tree, node_text, walk_tree,
};
use crate::semantic::python::ModuleDefinitions;
use crate::semantic::python::imports::qualified_name;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "missing-auth-dependency",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A FastAPI admin/internal or data-changing route with no authentication dependency",
    triggers: &["fastapi"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS
        .and(Projections::ROUTERS)
        .and(Projections::AUTH_CALLABLES),
};

/// Words in a dependency's name or body that mean it checks who is calling.
const AUTH_WORDS: &[&str] = &[
    "auth",
    "user",
    "token",
    "permission",
    "login",
    "admin",
    "jwt",
    "api_key",
    "apikey",
    "scope",
    "role",
    "credential",
    "verify",
    "principal",
    "oauth",
    "signature",
    "hmac",
];

const WRITE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let source = context.source;
    let facts = context.python_facts();
    if !facts.semantic.imports.imports_module("fastapi") {
        return;
    }
    let module = Module {
        root: context.root(),
        source,
        facts,
        routers: context.routers(),
        definitions: context.module_definitions(),
        router_facts: Default::default(),
    };
    // Routes are top-level decorated functions; what a route reads elsewhere in the
    // module (its router, `include_router` calls, dependencies defined here) is part of
    // the incremental audit's module context, so a skipped definition keeps its findings.
    for &definition in context.top_level() {
        if context.coverage.skips(definition) {
            continue;
        }
        for route in routes_of(definition, module.routers, source) {
            if let Some(finding) = check_route(&module, &route) {
                findings.push(finding);
            }
        }
    }
}

struct Module<'a, 't> {
    root: Node<'t>,
    source: &'a str,
    facts: &'a ModuleFacts<'t>,
    routers: &'a Routers<'t>,
    definitions: &'a ModuleDefinitions<'t>,
    /// `router_facts` per router name, worked out once per audit: each reads every
    /// module-level call, and a module has hundreds of routes on a few routers.
    router_facts: std::cell::RefCell<std::collections::HashMap<String, (String, bool)>>,
}

fn check_route(module: &Module, route: &Route) -> Option<Finding> {
    let source = module.source;
    let router_name = node_text(route.router, source);
    let known = module.router_facts.borrow().get(router_name).cloned();
    let (prefix, router_authenticated) = known.unwrap_or_else(|| {
        let facts = router_facts(module, router_name);
        module
            .router_facts
            .borrow_mut()
            .insert(router_name.to_string(), facts.clone());
        facts
    });
    let full_path = format!("{prefix}{}", route.path);
    let sensitive_path = full_path
        .split('/')
        .any(|segment| matches!(segment.to_ascii_lowercase().as_str(), "admin" | "internal"));
    let writes = route
        .methods
        .iter()
        .find(|method| WRITE_METHODS.contains(&method.as_str()));
    if !sensitive_path && writes.is_none() {
        return None;
    }
    // Log-in, token, sign-up and password-reset routes are how callers authenticate:
    // public by design (under admin/internal paths they are still judged).
    if !sensitive_path && authenticates_the_caller(&full_path) {
        return None;
    }
    let route_dependencies = keyword_argument(route.decorator, "dependencies", source);
    let authenticated = router_authenticated
        || route_dependencies.is_some_and(|list| has_auth_dependency(module, list))
        || parameters_authenticate(module, route.function);
    if authenticated {
        return None;
    }
    let method = writes.map_or_else(
        || route.methods.first().cloned().unwrap_or_default(),
        Clone::clone,
    );
    let why = if sensitive_path {
        "is an admin/internal route"
    } else {
        "changes data"
    };
    let places = if constructor_is_app(module, router_name) {
        "on the route or the app".to_string()
    } else {
        format!("on the route, `{router_name}` or the app")
    };
    Some(RULE.finding(
        route.decorator.byte_range(),
        format!(
            "`{method} {full_path}` {why} and no authentication dependency guards it ({places})"
        ),
    ))
}

/// Whether a segment of a route's path says it is where callers log in, sign up, get or
/// refresh a token, recover a password or come back from OAuth. (Function names are
/// not read: `create_api_token` is no log-in.)
fn authenticates_the_caller(path: &str) -> bool {
    path.split('/').any(|segment| {
        names_an_authentication_step(&segment.replace('_', "-").to_ascii_lowercase())
    })
}

/// `part` is lower case with `-` between words: `access-token`, `password-recovery`.
fn names_an_authentication_step(part: &str) -> bool {
    let words: Vec<&str> = part.split('-').filter(|word| !word.is_empty()).collect();
    let has = |word: &str| words.contains(&word);
    let follows = |first: &str, second: &str| {
        words
            .windows(2)
            .any(|pair| pair[0] == first && pair[1] == second)
    };
    let log_in = ["login", "signin", "logon", "authenticate"]
        .iter()
        .any(|word| has(word))
        || follows("log", "in")
        || follows("sign", "in");
    let sign_up = ["signup", "register", "registration"]
        .iter()
        .any(|word| has(word))
        || follows("sign", "up");
    // `token`, `access-token`, `refresh`: not `api-tokens`, which manages tokens.
    let token = words
        .last()
        .is_some_and(|last| matches!(*last, "token" | "refresh"));
    let password = has("password")
        && ["recovery", "recover", "reset", "forgot", "forgotten"]
            .iter()
            .any(|word| has(word));
    let oauth_callback = has("callback");
    log_in || sign_up || token || password || oauth_callback
}

fn constructor_is_app(module: &Module, router: &str) -> bool {
    module
        .routers
        .constructor(router)
        .and_then(|call| call.field(Field::Function))
        .and_then(|function| {
            qualified_name(function, module.source, &module.facts.semantic.imports)
        })
        .is_some_and(|name| name == "fastapi.FastAPI")
}

/// The prefix a router's routes get in this file, and whether the router (or the app,
/// or its `include_router` here) carries an authenticating dependency.
fn router_facts(module: &Module, router: &str) -> (String, bool) {
    let source = module.source;
    let mut prefix = String::new();
    let mut authenticated = false;
    let constructor = module.routers.constructor(router);
    if let Some(constructor) = constructor {
        prefix = keyword_argument(constructor, "prefix", source)
            .and_then(|value| string_value(value, source))
            .unwrap_or("")
            .to_string();
        authenticated |= keyword_argument(constructor, "dependencies", source)
            .is_some_and(|list| has_auth_dependency(module, list));
    }
    // `app.include_router(router, prefix=..., dependencies=[...])` and the app's own.
    for &node in &module.routers.module_calls {
        let Some(function) = node.field(Field::Function) else {
            continue;
        };
        let callee = node_text(function, source);
        if callee.ends_with(".include_router")
            && positional_arguments(node)
                .first()
                .is_some_and(|first| node_text(*first, source) == router)
        {
            if let Some(included) = keyword_argument(node, "prefix", source)
                .and_then(|value| string_value(value, source))
            {
                prefix = format!("{included}{prefix}");
            }
            authenticated |= keyword_argument(node, "dependencies", source)
                .is_some_and(|list| has_auth_dependency(module, list));
        }
        let is_app = qualified_name(function, source, &module.facts.semantic.imports)
            .is_some_and(|name| name == "fastapi.FastAPI");
        if is_app {
            authenticated |= keyword_argument(node, "dependencies", source)
                .is_some_and(|list| has_auth_dependency(module, list));
        }
    }
    (prefix, authenticated)
}

/// Whether any `Depends(x)`/`Security(x)` inside `node` authenticates.
fn has_auth_dependency(module: &Module, node: Node) -> bool {
    any_in_tree(node, |candidate| {
        if candidate.python_kind() != Kind::Call {
            return false;
        }
        let Some(function) = candidate.field(Field::Function) else {
            return false;
        };
        let name = node_text(function, module.source);
        let last = name.rsplit('.').next().unwrap_or(name);
        // `Security(...)` with scopes, or any dependency whose callable looks like auth.
        last == "Security"
            || (last == "Depends"
                && positional_arguments(candidate)
                    .first()
                    .or(keyword_argument(candidate, "dependency", module.source).as_ref())
                    .is_some_and(|callable| callable_authenticates(module, *callable)))
    })
}

/// The callable's name mentions auth, or (when defined in this module) its body does.
fn callable_authenticates(module: &Module, callable: Node) -> bool {
    let text = node_text(callable, module.source);
    if mentions_auth(text) {
        return true;
    }
    let name = text
        .split('(')
        .next()
        .unwrap_or(text)
        .rsplit('.')
        .next()
        .unwrap_or(text);
    module.definitions.named(name).any(|definition| {
        definition
            .field(Field::Body)
            .is_some_and(|body| mentions_auth(node_text(body, module.source)))
    })
}

/// Whether a name or body mentions authentication (the incremental audit reads it too:
/// which of the module's definitions authenticate is part of its context).
/// One pass over the text with no copy: the incremental audit asks this of every
/// definition's body on each keystroke in a FastAPI module.
pub fn mentions_auth(text: &str) -> bool {
    static MATCHER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(AUTH_WORDS)
                .unwrap_or_else(|error| panic!("auth words build a matcher: {error}"))
        });
    MATCHER.is_match(text)
}

/// A parameter whose default or annotation carries an authenticating dependency,
/// directly or through a module-level alias (`CurrentUser = Annotated[User, Depends(...)]`).
fn parameters_authenticate(module: &Module, function: Node) -> bool {
    let Some(parameters) = function.field(Field::Parameters) else {
        return false;
    };
    if has_auth_dependency(module, parameters) {
        return true;
    }
    let mut cursor = parameters.walk();
    let annotations: Vec<Node> = parameters
        .named_children(&mut cursor)
        .filter_map(|parameter| parameter.field(Field::Type))
        .collect();
    annotations.into_iter().any(|annotation| {
        let mut aliases = Vec::new();
        walk_tree(annotation, |node| {
            if node.python_kind() == Kind::Identifier {
                aliases.push(node_text(node, module.source).to_string());
            }
        });
        aliases
            .iter()
            .any(|alias| alias_authenticates(module, alias))
    })
}

/// `alias` is an `Annotated[..., Depends(...)]` alias that authenticates: defined in
/// this module, or imported by name where the convention for such aliases holds (a
/// `Current...` name, or an auth-sounding name from a dependencies or security module:
/// `from app.api.deps import CurrentUser, TokenDep`).
fn alias_authenticates(module: &Module, alias: &str) -> bool {
    if let Some(imported) = module
        .facts
        .semantic
        .imports
        .resolve(alias)
        .filter(|qualified| qualified.contains('.'))
    {
        let (from, name) = imported.rsplit_once('.').unwrap_or(("", imported));
        let from_dependencies = from.split('.').any(|part| {
            matches!(
                part,
                "deps" | "dependencies" | "auth" | "security" | "authentication" | "permissions"
            )
        });
        let conventional = name.starts_with("Current") && name.len() > "Current".len();
        return conventional || (from_dependencies && mentions_auth(name));
    }
    module
        .facts
        .semantic
        .bindings
        .values_bound(module.root, alias)
        .iter()
        .any(|value| has_auth_dependency(module, *value))
}
