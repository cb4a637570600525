//! ## What it does
//! Finds CORS configurations that let any website make credentialed requests:
//! Starlette/FastAPI's `CORSMiddleware` (through `app.add_middleware(...)` or
//! `Middleware(...)`) with `allow_origins=["*"]` (or `allow_origin_regex=".*"`) and
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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{keyword_argument, positional_arguments, string_value};
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::semantic::python::imports::qualified_name;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "cors-wildcard-credentials",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::None,
    summary: "CORS that allows any origin with credentials (any site can act as the user)",
    triggers: &["CORS"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let call = site.call;
        let Some(function) = call.field(Field::Function) else {
            continue;
        };
        let name = qualified_name(function, source, &facts.semantic.imports).unwrap_or_default();
        let is_flask_cors = matches!(name.as_str(), "flask_cors.CORS" | "flask_cors.cross_origin");
        let configures_middleware = site.method(source) == Some("add_middleware")
            || name.ends_with("middleware.Middleware");
        let is_starlette_cors = configures_middleware
            && positional_arguments(call)
                .first()
                .is_some_and(|middleware| {
                    qualified_name(*middleware, source, &facts.semantic.imports)
                        .is_some_and(|middleware| middleware.ends_with("CORSMiddleware"))
                });
        let (origins, credentials) = if is_starlette_cors {
            let origins = keyword_argument(call, "allow_origins", source)
                .filter(|origins| lists_wildcard(*origins, source))
                .or_else(|| {
                    keyword_argument(call, "allow_origin_regex", source).filter(|regex| {
                        matches!(string_value(*regex, source), Some(".*" | "^.*$" | ".+"))
                    })
                });
            (origins, keyword_argument(call, "allow_credentials", source))
        } else if is_flask_cors {
            // flask-cors allows every origin unless told otherwise.
            let origins = match keyword_argument(call, "origins", source) {
                Some(origins) => lists_wildcard(origins, source).then_some(origins),
                None if keyword_argument(call, "resources", source).is_none() => Some(function),
                None => None,
            };
            (
                origins,
                keyword_argument(call, "supports_credentials", source),
            )
        } else {
            continue;
        };
        let Some(origins) = origins else {
            continue;
        };
        let with_credentials = credentials.is_some_and(|value| node_text(value, source) == "True");
        let finding = if with_credentials {
            let credentials = credentials.map_or("", |value| {
                node_text(value.parent().unwrap_or(value), source)
            });
            RULE.finding(
                origins.byte_range(),
                format!(
                    "CORS allows every origin with `{credentials}`: any website a logged-in user visits can call this API as them and read the answers"
                ),
            )
        } else {
            let mut finding = RULE.finding(
                origins.byte_range(),
                "CORS allows every origin: right for a public, read-only API; list your front ends' origins otherwise",
            );
            finding.severity = Severity::Info;
            finding
        };
        findings.push(finding);
    }
}

/// `"*"`, `["*"]`, `("*",)`, `["https://a", "*"]`.
fn lists_wildcard(origins: Node, source: &str) -> bool {
    match origins.python_kind() {
        Kind::String => string_value(origins, source) == Some("*"),
        Kind::List | Kind::Tuple | Kind::Set => {
            let mut cursor = origins.walk();
            origins
                .named_children(&mut cursor)
                .any(|item| string_value(item, source) == Some("*"))
        }
        _ => false,
    }
}
