//! ## What it does
//! Finds FastAPI routes that should be authenticated and show no sign of it: routes
//! whose path (with its router's `prefix`) has an `admin` or `internal` segment, and
//! routes that change data (`POST`, `PUT`, `PATCH`, `DELETE`), when no dependency that
//! authenticates is attached to the route, its router, or the app.
//!
//! A dependency authenticates when it is a `Depends(...)`/`Security(...)` (in a
//! parameter's default or `Annotated[...]` type, an alias of one, or a `dependencies=[...]`
//! list on the route, on `APIRouter(...)`, on `FastAPI(...)` or on
//! `app.include_router(...)`) whose callable's name or body says so, word by word
//! (`auth...`, `oauth2...`, `jwt`, `token`, `permission...`, `login`, `admin`, `scope`,
//! `role`, `credential...`, `verify`, `password`, `signature`, `hmac`, `api key`,
//! `current user`; `user` alone is not: `get_user_repo` opens a repository), or which
//! itself takes a dependency that authenticates (a service factory that takes the
//! current user). An instance (`Depends(Gate(...))`, or a module-level `writer =
//! Gate(...)`) is judged by its class or factory. Dependencies, aliases and routers
//! imported from other modules of the workspace are judged by their definitions
//! there, followed from module to module, whether imported by name (`CurrentUser`) or
//! read through their module (`auth.BenefitsWrite`); and a router that any module
//! includes with an authenticating dependency (`app.include_router(items.router,
//! dependencies=[...])`), or into an app or router that has one, is authenticated.
//!
//! A route that checks its caller itself is authenticated too, as webhooks and cookie
//! sessions do: its body, or a function of the module it calls, verifies a signature
//! or token (`verify_signature(...)`, `hmac.compare_digest(...)`, `wh.verify(...)`,
//! Stripe's `construct_event`, `jwt.decode`), or turns callers away with a 401 or 403
//! (`raise HTTPException(status.HTTP_401_UNAUTHORIZED)`, an `Unauthorized` error).
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
//! name that the workspace cannot judge (no workspace, an alias of a library) counts
//! when it follows the convention for such aliases: a `Current...` name, or an
//! auth-sounding name imported from a dependencies or security module
//! (`from app.api.deps import TokenDep`).
//!
//! ## Known problems
//! Authentication done in middleware is not seen: silence those routes with
//! `# stackaudit: ignore[missing-auth-dependency]`. Routers included with dependencies
//! by another module are seen where the workspace is read (`check`, the editor once
//! its first scan is done), not when a single file is audited alone. A route module
//! that imports nothing from `fastapi` (its router made elsewhere) is not checked.
//! A check of the caller is read in the route and the module's functions it calls,
//! not in functions of other modules (a service's `verify_signature` counts by its
//! name, not by its body). Flask views are not checked.

use std::cell::RefCell;
use std::collections::HashMap;

use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};

use super::checker::{Checker, Hooks};
use super::dependencies::{Dependencies, mentions_auth};
use super::helpers::{AnyNode, any_node, any_node_in, string_value};
use super::module_scope::{ModuleDefinition, module_scope};
use super::routes::{Route, includes_router, is_fastapi_app, routers, routes_of};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::semantic::python::imports::{dotted_name_of, imported_target_of};

pub const RULE: Rule = Rule {
    id: "missing-auth-dependency",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: true,
    fix: FixAvailability::None,
    summary: "A FastAPI admin/internal or data-changing route with no authentication dependency",
    triggers: &["fastapi"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        function: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS
        .and(Projections::ROUTERS)
        .and(Projections::AUTH_CALLABLES)
        .and(Projections::WORKSPACE),
};

const WRITE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];

/// Each router's prefix and whether it is authenticated, by name, worked out once per
/// audit: each reads every configuring call, and a module has hundreds of routes on a
/// few routers.
#[derive(Default)]
struct RouterFacts(RefCell<HashMap<String, (String, bool)>>);

fn check<'c>(
    checker: &Checker<'c, '_>,
    function: &'c StmtFunctionDef,
    findings: &mut Vec<Finding>,
) {
    if !checker.imports().imports_module("fastapi") {
        return;
    }
    let routes = routes_of(checker, function);
    if routes.is_empty() {
        return;
    }
    let known = checker.context().memo(RouterFacts::default);
    for route in routes {
        if let Some(finding) = check_route(checker, &known, &route) {
            findings.push(finding);
        }
    }
}

fn check_route(checker: &Checker, known: &RouterFacts, route: &Route) -> Option<Finding> {
    let router_name = route.router;
    let remembered = known.0.borrow().get(router_name).cloned();
    let (prefix, router_authenticated) = remembered.unwrap_or_else(|| {
        let facts = router_facts(checker, router_name);
        known
            .0
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
    let base = checker.base();
    let route_dependencies = route.decorator.arguments.find_keyword("dependencies");
    let authenticated = router_authenticated
        || route_dependencies.is_some_and(|list| has_auth_dependency(checker, base, &list.value))
        || parameters_authenticate(checker, route.function)
        || checks_caller_itself(checker, &route.function.body, true);
    // Included with an authenticating dependency by another module (or by this one
    // into an app or router that has one).
    if authenticated || router_guarded_where_included(checker, router_name) {
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
    let places = if constructor_is_app(checker, router_name) {
        "on the route or the app".to_string()
    } else {
        format!("on the route, `{router_name}` or the app")
    };
    Some(RULE.finding(
        checker.range(route.decorator),
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

/// Whether a route's body checks its caller itself, as webhooks and cookie sessions do:
/// it verifies a signature or token (`verify_signature(...)`, `hmac.compare_digest(...)`,
/// `wh.verify(...)`, `stripe.Webhook.construct_event(...)`, `jwt.decode(...)`), or turns
/// callers away (`raise HTTPException(401)`, `status.HTTP_403_FORBIDDEN`, an
/// `Unauthorized` error). With `follow`, the functions of this module that it calls are
/// read too (one level: `_verify_webhook(body, headers)`).
fn checks_caller_itself(checker: &Checker, body: &[Stmt], follow: bool) -> bool {
    any_node(body, |node| match node {
        AnyNode::Expression(Expr::Call(call)) => {
            let callee = dotted_name_of(&call.func).unwrap_or_default();
            if is_verifying_call(checker, &callee) {
                return true;
            }
            follow
                && !callee.contains('.')
                && module_scope(checker.context())
                    .definitions_named(&callee)
                    .iter()
                    .any(|definition| match definition.statement {
                        Stmt::FunctionDef(helper) => {
                            checks_caller_itself(checker, &helper.body, false)
                        }
                        _ => false,
                    })
        }
        AnyNode::Statement(Stmt::Raise(raise)) => {
            raise.exc.as_deref().is_some_and(refuses_the_caller)
        }
        _ => false,
    })
}

/// A call that verifies who sent a request: by name (`verify...`, `..._verify`,
/// `...signature...`, `authenticate...`), a library's check (`hmac.compare_digest`,
/// `secrets.compare_digest`, Stripe's `construct_event`, itsdangerous' `unsign`), or
/// `jwt.decode` (PyJWT, python-jose).
fn is_verifying_call(checker: &Checker, callee: &str) -> bool {
    let last = callee
        .rsplit('.')
        .next()
        .unwrap_or(callee)
        .to_ascii_lowercase();
    last.contains("signature")
        || last.starts_with("verify")
        || last.ends_with("verify")
        || last.starts_with("authenticate")
        || matches!(
            last.as_str(),
            "compare_digest" | "construct_event" | "unsign"
        )
        || (last == "decode"
            && imported_target_of(callee, checker.imports())
                .is_some_and(|target| target.starts_with("jwt.") || target.starts_with("jose.")))
}

/// An exception that turns the caller away: an HTTP 401 or 403, or an error named so
/// (`Unauthorized`, `Forbidden`, `NotPermitted`, `PermissionDenied`, `InvalidSignature`).
fn refuses_the_caller(exception: &Expr) -> bool {
    let (name, call) = match exception {
        Expr::Call(call) => (dotted_name_of(&call.func), Some(call)),
        other => (dotted_name_of(other), None),
    };
    let name = name.unwrap_or_default().to_ascii_lowercase();
    let named = [
        "unauthori",
        "forbidden",
        "notpermitted",
        "permissiondenied",
        "invalidsignature",
    ]
    .iter()
    .any(|word| name.contains(word));
    named
        || call.is_some_and(|call| {
            let arguments = &call.arguments;
            let values = arguments
                .args
                .iter()
                .chain(arguments.keywords.iter().map(|keyword| &keyword.value));
            values.into_iter().any(|value| {
                any_node_in(value, |node| match node {
                    AnyNode::Expression(Expr::NumberLiteral(number)) => {
                        matches!(
                            number.value.as_int().and_then(|int| int.as_u16()),
                            Some(401 | 403)
                        )
                    }
                    AnyNode::Expression(Expr::Attribute(attribute)) => {
                        let status = attribute.attr.as_str();
                        status.contains("401")
                            || status.contains("403")
                            || matches!(status, "UNAUTHORIZED" | "FORBIDDEN")
                    }
                    _ => false,
                })
            })
        })
}

fn constructor_is_app(checker: &Checker, router: &str) -> bool {
    routers(checker.context())
        .constructor(router)
        .is_some_and(|(_, call)| is_fastapi_app(call, checker.imports()))
}

/// The prefix a router's routes get in this file, and whether the router (or the app,
/// or its `include_router` here) carries an authenticating dependency.
fn router_facts(checker: &Checker, router: &str) -> (String, bool) {
    let routers = routers(checker.context());
    let mut prefix = String::new();
    let mut authenticated = false;
    if let Some((base, constructor)) = routers.constructor(router) {
        let arguments = &constructor.arguments;
        prefix = arguments
            .find_keyword("prefix")
            .and_then(|keyword| string_value(&keyword.value))
            .unwrap_or("")
            .to_string();
        authenticated |= arguments
            .find_keyword("dependencies")
            .is_some_and(|list| has_auth_dependency(checker, base, &list.value));
    } else if let Some(target) = imported_target_of(router, checker.imports()) {
        // A router made in another module, with its dependencies there.
        authenticated |= workspace_says_authenticates(checker, &target) == Some(true);
    }
    // `app.include_router(router, prefix=..., dependencies=[...])` and the app's own.
    for &(base, call) in &routers.configuring_calls {
        let arguments = &call.arguments;
        let dependencies = arguments.find_keyword("dependencies");
        let includes_this = includes_router(call)
            && matches!(arguments.args.first(), Some(Expr::Name(name)) if name.id.as_str() == router);
        if includes_this {
            if let Some(included) = arguments
                .find_keyword("prefix")
                .and_then(|keyword| string_value(&keyword.value))
            {
                prefix = format!("{included}{prefix}");
            }
            authenticated |=
                dependencies.is_some_and(|list| has_auth_dependency(checker, base, &list.value));
        }
        if is_fastapi_app(call, checker.imports()) {
            authenticated |=
                dependencies.is_some_and(|list| has_auth_dependency(checker, base, &list.value));
        }
    }
    (prefix, authenticated)
}

/// Whether any `Depends(x)`/`Security(x)` inside `expression` (of the item that starts
/// at `base`) authenticates.
fn has_auth_dependency(checker: &Checker, base: usize, expression: &Expr) -> bool {
    dependencies_authenticate(
        checker,
        base,
        &Dependencies::in_expression(expression),
        &mut Vec::new(),
    )
}

/// Whether `dependencies` (of the item that starts at `base`) hold a `Security(...)` or
/// a callable that authenticates. `seen` holds the module's definitions being judged
/// already (a dependency that depends on itself authenticates no more for it).
fn dependencies_authenticate(
    checker: &Checker,
    base: usize,
    dependencies: &Dependencies,
    seen: &mut Vec<String>,
) -> bool {
    dependencies.security
        || dependencies
            .callables
            .iter()
            .any(|callable| callable_authenticates(checker, base, callable, seen))
}

/// The callable's text mentions auth (`get_current_user`, `auth.verify`), or what it
/// names authenticates: a function or class of this module by its body or the
/// dependencies it takes, one of another module as the workspace tells.
fn callable_authenticates(
    checker: &Checker,
    base: usize,
    callable: &Expr,
    seen: &mut Vec<String>,
) -> bool {
    let text = checker
        .source
        .get(checker.range_at(base, callable))
        .unwrap_or("");
    if mentions_auth(text) {
        return true;
    }
    // An instance (`Depends(RateLimiter(...))`) is judged by its class.
    let named = match callable {
        Expr::Call(call) => &*call.func,
        other => other,
    };
    let Some(dotted) = dotted_name_of(named) else {
        return false;
    };
    if let Some(target) = imported_target_of(&dotted, checker.imports()) {
        return workspace_says_authenticates(checker, &target) == Some(true);
    }
    if dotted.contains('.') || seen.contains(&dotted) {
        return false;
    }
    seen.push(dotted.clone());
    module_scope(checker.context())
        .definitions_named(&dotted)
        .iter()
        .any(|definition| definition_authenticates(checker, definition, seen))
}

/// A top-level function or class of this module authenticates: its body mentions
/// authentication, or a function takes a dependency that authenticates.
fn definition_authenticates(
    checker: &Checker,
    definition: &ModuleDefinition,
    seen: &mut Vec<String>,
) -> bool {
    if body_authenticates(definition, checker.source) {
        return true;
    }
    let Stmt::FunctionDef(function) = definition.statement else {
        return false;
    };
    let dependencies = Dependencies::of_parameters(function);
    dependencies_authenticate(checker, definition.base, &dependencies, seen)
}

/// Whether the workspace knows `router` (a name of this module) to be included with an
/// authenticating dependency somewhere.
fn router_guarded_where_included(checker: &Checker, router: &str) -> bool {
    checker
        .context()
        .imported
        .as_ref()
        .and_then(|workspace| workspace.router_guarded(router))
        == Some(true)
}

/// Whether the dependency, alias or router `target` (imported) authenticates, as the
/// workspace tells (`None`: no workspace, or it is not a module of the workspace).
fn workspace_says_authenticates(checker: &Checker, target: &str) -> Option<bool> {
    checker
        .context()
        .imported
        .as_ref()?
        .dependency_authenticates(target)
}

/// What a top-level definition says about authentication as `definition_authenticates`
/// reads it, for the editor's projection of the module (a route in an unchanged
/// definition is judged again when this changes): `name` when its body mentions
/// authentication, `name(d1, d2)` with the dependencies a function takes otherwise;
/// `None` for one that says nothing.
pub fn authentication_said(definition: &ModuleDefinition, source: &str) -> Option<Box<str>> {
    let name = definition.name()?;
    if body_authenticates(definition, source) {
        return Some(name.into());
    }
    let Stmt::FunctionDef(function) = definition.statement else {
        return None;
    };
    let dependencies = Dependencies::of_parameters(function);
    if dependencies.is_empty() {
        return None;
    }
    let mut said = format!(
        "{name}({}",
        if dependencies.security {
            "Security"
        } else {
            ""
        }
    );
    for callable in &dependencies.callables {
        let range = ruff_text_size::Ranged::range(*callable);
        let at = definition.base + usize::from(range.start())
            ..definition.base + usize::from(range.end());
        said.push_str(", ");
        said.push_str(source.get(at).unwrap_or(""));
    }
    said.push(')');
    Some(said.into())
}

/// Whether a top-level function's or class's body mentions authentication.
fn body_authenticates(definition: &ModuleDefinition, source: &str) -> bool {
    definition
        .body_range()
        .and_then(|body| source.get(body))
        .is_some_and(mentions_auth)
}

/// A parameter whose default or annotation carries an authenticating dependency,
/// directly or through an alias (`CurrentUser = Annotated[User, Depends(...)]`).
fn parameters_authenticate(checker: &Checker, function: &StmtFunctionDef) -> bool {
    let base = checker.base();
    if dependencies_authenticate(
        checker,
        base,
        &Dependencies::of_parameters(function),
        &mut Vec::new(),
    ) {
        return true;
    }
    function.parameters.iter().any(|parameter| {
        parameter.annotation().is_some_and(|annotation| {
            // Aliases by name (`CurrentUser`) and through their module (`auth.Writer`).
            let mut aliases = Vec::new();
            any_node_in(annotation, |node| {
                match node {
                    AnyNode::Expression(Expr::Name(name)) => aliases.push(name.id.to_string()),
                    AnyNode::Expression(attribute @ Expr::Attribute(_)) => {
                        aliases.extend(dotted_name_of(attribute));
                    }
                    _ => {}
                }
                false
            });
            aliases
                .iter()
                .any(|alias| alias_authenticates(checker, alias))
        })
    })
}

/// `alias` is an `Annotated[..., Depends(...)]` alias that authenticates: defined in
/// this module, or imported and found so by the workspace. Where the workspace cannot
/// tell (no workspace, an alias of a library), an imported alias counts when it follows
/// the convention for such aliases: a `Current...` name, or an auth-sounding name from a
/// dependencies or security module (`from app.api.deps import CurrentUser, TokenDep`).
fn alias_authenticates(checker: &Checker, alias: &str) -> bool {
    let imported = if alias.contains('.') {
        imported_target_of(alias, checker.imports())
    } else {
        checker
            .imports()
            .resolve(alias)
            .filter(|qualified| qualified.contains('.'))
            .map(str::to_string)
    };
    if let Some(imported) = imported {
        let imported = imported.as_str();
        if let Some(known) = workspace_says_authenticates(checker, imported) {
            return known;
        }
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
    if alias.contains('.') {
        // An attribute of a name of this module: no alias.
        return false;
    }
    module_scope(checker.context())
        .values_of(alias)
        .any(|assignment| has_auth_dependency(checker, assignment.base, assignment.value))
}
