//! Request handlers on Ruff's tree: functions that a web framework calls once per
//! request (FastAPI and Starlette routes, Flask views), and what their routers add
//! (prefixes, dependencies). Shared by the rules about per-request state and
//! authentication.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, StmtFunctionDef};

use super::checker::{Checker, items_with_summaries, module_imports, module_kinds};
use super::helpers::{calls_in_scope, string_value};
use super::module_scope::module_scope;
use crate::rules::Context;
use crate::semantic::python::Imports;
use crate::semantic::python::bound_kinds::{ScopeChain, ScopeKey};
use crate::semantic::python::imports::qualified_name_of;

/// Decorator methods that register a route, and the HTTP method they imply.
pub const ROUTE_DECORATORS: &[(&str, Option<&str>)] = &[
    ("get", Some("GET")),
    ("post", Some("POST")),
    ("put", Some("PUT")),
    ("patch", Some("PATCH")),
    ("delete", Some("DELETE")),
    ("head", Some("HEAD")),
    ("options", Some("OPTIONS")),
    ("api_route", None),
    ("route", None),
    ("websocket", Some("WEBSOCKET")),
];

/// Names conventionally given to an app or router made in another module.
const CONVENTIONAL_ROUTER_NAMES: &[&str] = &[
    "app",
    "router",
    "api",
    "api_router",
    "bp",
    "blueprint",
    "admin_router",
];

/// A function registered as a request handler.
pub struct Route<'t> {
    pub function: &'t StmtFunctionDef,
    /// The decorator's call (`@router.post("/orders", ...)`).
    pub decorator: &'t ExprCall,
    /// The name of the app or router it is registered on (`router`).
    pub router: &'t str,
    /// `GET`, `POST`, ...; several for `api_route(methods=[...])`.
    pub methods: Vec<String>,
    /// The path as written on the route.
    pub path: String,
}

/// The routes the `def` being judged registers (usually one); none unless it is a
/// top-level function (handlers are registered where the module is imported).
pub fn routes_of<'t>(checker: &Checker<'t, '_>, function: &'t StmtFunctionDef) -> Vec<Route<'t>> {
    if checker.ancestors().len() != 1 || function.decorator_list.is_empty() {
        return Vec::new();
    }
    let routers = routers(checker.context());
    let mut routes = Vec::new();
    for decorator in &function.decorator_list {
        let Expr::Call(call) = &decorator.expression else {
            continue;
        };
        let Expr::Attribute(callee) = &*call.func else {
            continue;
        };
        let Expr::Name(router) = &*callee.value else {
            continue;
        };
        let Some((_, implied)) = ROUTE_DECORATORS
            .iter()
            .find(|(name, _)| *name == callee.attr.as_str())
        else {
            continue;
        };
        if !routers.is_router(router.id.as_str()) {
            continue;
        }
        let arguments = &call.arguments;
        let path = arguments
            .args
            .first()
            .or_else(|| arguments.find_keyword("path").map(|keyword| &keyword.value))
            .or_else(|| arguments.find_keyword("rule").map(|keyword| &keyword.value))
            .and_then(string_value)
            .unwrap_or("")
            .to_string();
        let methods = match implied {
            Some(method) => vec![(*method).to_string()],
            None => listed_methods(call),
        };
        routes.push(Route {
            function,
            decorator: call,
            router: router.id.as_str(),
            methods,
            path,
        });
    }
    routes
}

/// `methods=["GET", "POST"]`; Flask's and Starlette's default is GET.
fn listed_methods(call: &ExprCall) -> Vec<String> {
    let Some(listed) = call.arguments.find_keyword("methods") else {
        return vec!["GET".to_string()];
    };
    let elements: &[Expr] = match &listed.value {
        Expr::List(list) => &list.elts,
        Expr::Tuple(tuple) => &tuple.elts,
        Expr::Set(set) => &set.elts,
        _ => &[],
    };
    elements
        .iter()
        .filter_map(string_value)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The module's apps and routers, read once per audit.
#[derive(Debug, Default)]
pub struct Routers<'a> {
    /// Module-level names bound to an app or router constructor, with the last call
    /// that made each and where its item starts.
    constructors: HashMap<&'a str, (usize, &'a ExprCall)>,
    /// The module-level calls that configure routers, with where their items start:
    /// `include_router(...)` and the app's constructor, in source order.
    pub configuring_calls: Vec<(usize, &'a ExprCall)>,
}

impl<'a> Routers<'a> {
    /// The call that made the module-level app or router `name`, and where its item
    /// starts.
    pub fn constructor(&self, name: &str) -> Option<(usize, &'a ExprCall)> {
        self.constructors.get(name).copied()
    }

    /// An app or router: a module-level name bound to a known constructor, or one of the
    /// conventional names when the binding is in another module.
    pub fn is_router(&self, name: &str) -> bool {
        self.constructors.contains_key(name) || CONVENTIONAL_ROUTER_NAMES.contains(&name)
    }

    /// What routes read of the rest of the module, as the editor hashes it: each
    /// constructor's name and call, by name, then the configuring calls in order, with
    /// where their items start.
    pub fn read_by_routes(&self) -> Vec<(&'a str, usize, &'a ExprCall)> {
        let mut constructors: Vec<(&'a str, usize, &'a ExprCall)> = self
            .constructors
            .iter()
            .map(|(name, (base, call))| (*name, *base, *call))
            .collect();
        constructors.sort_by_key(|(name, _, _)| *name);
        constructors
            .into_iter()
            .chain(
                self.configuring_calls
                    .iter()
                    .map(|(base, call)| ("", *base, *call)),
            )
            .collect()
    }

    fn collect(context: &Context<'a>) -> Routers<'a> {
        let imports = module_imports(context);
        let kinds = module_kinds(context);
        let module = ScopeChain::default();
        let routers_now: Vec<&str> = kinds
            .kinds_bound_in(ScopeKey::MODULE)
            .into_iter()
            .filter(|(_, kind)| kind.is_web_router())
            .map(|(name, _)| name)
            .collect();
        let mut constructors = HashMap::new();
        for assignment in &module_scope(context).assignments {
            if !routers_now.contains(&assignment.name) {
                continue;
            }
            let Some(call) = assignment.called() else {
                continue;
            };
            let makes_router = kinds
                .kind_of(assignment.value, &module, imports)
                .is_some_and(|kind| kind.is_web_router());
            if makes_router {
                constructors.insert(assignment.name, (assignment.base, call));
            }
        }
        let may_configure = |last: &str| {
            last == "include_router"
                || last == "FastAPI"
                || imports.resolve(last) == Some("fastapi.FastAPI")
        };
        let mut configuring_calls = Vec::new();
        for (base, ast, summary) in items_with_summaries(context) {
            if !summary
                .module_calls
                .iter()
                .any(|(last, _)| may_configure(last))
            {
                continue;
            }
            configuring_calls.extend(
                calls_in_scope(&ast.body)
                    .into_iter()
                    .filter(|call| includes_router(call) || is_fastapi_app(call, imports))
                    .map(|call| (base, call)),
            );
        }
        Routers {
            constructors,
            configuring_calls,
        }
    }
}

/// `FastAPI(...)`, under whatever name it is imported.
pub fn is_fastapi_app(call: &ExprCall, imports: &Imports) -> bool {
    qualified_name_of(&call.func, imports).is_some_and(|name| name == "fastapi.FastAPI")
}

/// `app.include_router(...)`.
pub fn includes_router(call: &ExprCall) -> bool {
    matches!(&*call.func, Expr::Attribute(attribute) if attribute.attr.as_str() == "include_router")
}

/// The module's apps and routers, read once per audit.
pub fn routers<'c, 'a>(context: &'c Context<'a>) -> &'c Routers<'a> {
    context
        .ruff_routers
        .get_or_init(|| Routers::collect(context))
}

/// Whether the text may decorate a function with a route: `@<name>.<route method>(`,
/// with any spacing.
pub fn mentions_route_decorator(text: &str) -> bool {
    use crate::rules::prefilter::after_gap;
    text.match_indices('@').any(|(at, _)| {
        let name = after_gap(text, at + 1);
        let identifier = name
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        if identifier == 0 {
            return false;
        }
        let start = text.len() - name.len() + identifier;
        let Some(method) = after_gap(text, start).strip_prefix('.') else {
            return false;
        };
        let method_start = text.len() - method.len();
        let method = after_gap(text, method_start);
        ROUTE_DECORATORS.iter().any(|(route, _)| {
            method
                .strip_prefix(route)
                .is_some_and(|rest| after_gap(text, text.len() - rest.len()).starts_with('('))
        })
    })
}
