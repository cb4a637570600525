//! ## What it does
//! Finds CORS configurations that let any website make credentialed requests:
//! Starlette/FastAPI's `CORSMiddleware` (through `app.add_middleware(...)`,
//! `Middleware(...)`, `CORSMiddleware(app, ...)`, or `super().__init__(...)` in a
//! subclass of it) with `allow_origins=["*"]` (or `allow_origin_regex=".*"`) and
//! `allow_credentials=True`, and flask-cors's `CORS(...)`/`@cross_origin(...)` with
//! `supports_credentials=True` and `origins` left at its default `"*"` or set to it.
//!
//! A wildcard origin without credentials is reported as information: it is right for a
//! public, read-only API and wrong for most others.
//!
//! ## Why is this bad?
//! Browsers refuse `Access-Control-Allow-Origin: *` on credentialed requests, so both
//! libraries answer them by echoing the caller's `Origin` instead. The result: any page
//! on the internet that a logged-in user visits can call the API with the user's cookies
//! and read the answers — their orders, their profile, their CSRF token.
//!
//! ## Example
//! ```python
//! app.add_middleware(
//!     CORSMiddleware,
//!     allow_origins=["*"],
//!     allow_credentials=True,
//! )
//! ```
//!
//! ## Use instead
//! ```python
//! app.add_middleware(
//!     CORSMiddleware,
//!     allow_origins=["https://shop.example.com"],
//!     allow_credentials=True,
//! )
//! ```
//!
//! ## Fix safety
//! No fix: only you know which origins your front ends are served from.
//!
//! ## Known problems
//! Origins read from settings (`allow_origins=settings.CORS_ORIGINS`) are not followed;
//! a wildcard that reaches the middleware that way is not reported.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::helpers::{is_true, method_name, string_value};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::semantic::python::imports::qualified_name_of;

pub const RULE: Rule = Rule {
    id: "cors-wildcard-credentials",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: true,
    fix: FixAvailability::None,
    summary: "CORS that allows any origin with credentials (any site can act as the user)",
    triggers: &["CORS"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    let imports = checker.imports();
    let keyword = |name: &str| call.arguments.find_keyword(name);
    let name = qualified_name_of(&call.func, imports).unwrap_or_default();
    let is_flask_cors = matches!(name.as_str(), "flask_cors.CORS" | "flask_cors.cross_origin");
    let is_cors_middleware = |expression: &Expr| {
        qualified_name_of(expression, imports)
            .is_some_and(|middleware| middleware.ends_with("CORSMiddleware"))
    };
    let configures_middleware =
        method_name(call) == Some("add_middleware") || name.ends_with("middleware.Middleware");
    let is_starlette_cors = (configures_middleware
        && call.arguments.args.first().is_some_and(is_cors_middleware))
        // `CORSMiddleware(app, ...)`, wrapping an app by hand.
        || name.ends_with("CORSMiddleware")
        // `super().__init__(app, ...)` in a subclass of it.
        || (is_super_init(call)
            && checker.enclosing_class().is_some_and(|class| {
                class.bases().iter().any(is_cors_middleware)
            }));
    let (origins, credentials) = if is_starlette_cors {
        let origins = keyword("allow_origins")
            .map(|origins| &origins.value)
            .filter(|origins| lists_wildcard(origins))
            .or_else(|| {
                keyword("allow_origin_regex")
                    .map(|regex| &regex.value)
                    .filter(|regex| matches!(string_value(regex), Some(".*" | "^.*$" | ".+")))
            });
        (origins, keyword("allow_credentials"))
    } else if is_flask_cors {
        // flask-cors allows every origin unless told otherwise.
        let origins = match keyword("origins") {
            Some(origins) => lists_wildcard(&origins.value).then_some(&origins.value),
            None if keyword("resources").is_none() => Some(&*call.func),
            None => None,
        };
        (origins, keyword("supports_credentials"))
    } else {
        return;
    };
    let Some(origins) = origins else {
        return;
    };
    let finding = match credentials.filter(|credentials| is_true(&credentials.value)) {
        Some(credentials) => RULE.finding(
            checker.range(origins),
            format!(
                "CORS allows every origin with `{}`: any website a logged-in user visits can call this API as them and read the answers",
                checker.text(credentials)
            ),
        ),
        None => {
            let mut finding = RULE.finding(
                checker.range(origins),
                "CORS allows every origin: right for a public, read-only API; list your front ends' origins otherwise",
            );
            finding.severity = Severity::Info;
            finding
        }
    };
    findings.push(finding);
}

/// `"*"`, `["*"]`, `("*",)`, `["https://a", "*"]`.
fn lists_wildcard(origins: &Expr) -> bool {
    match origins {
        Expr::List(list) => list.elts.iter().any(|item| string_value(item) == Some("*")),
        Expr::Tuple(tuple) => tuple
            .elts
            .iter()
            .any(|item| string_value(item) == Some("*")),
        Expr::Set(set) => set.elts.iter().any(|item| string_value(item) == Some("*")),
        _ => string_value(origins) == Some("*"),
    }
}

/// `super().__init__(...)`.
fn is_super_init(call: &ExprCall) -> bool {
    let Expr::Attribute(method) = &*call.func else {
        return false;
    };
    method.attr.as_str() == "__init__"
        && matches!(&*method.value, Expr::Call(inner)
            if matches!(&*inner.func, Expr::Name(name) if name.id.as_str() == "super"))
}
