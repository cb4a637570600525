//! Request handlers: functions that a web framework calls once per request (FastAPI and
//! Starlette routes, Flask views), and what their routers add (prefixes, dependencies).
//! Shared by the rules about per-request state and authentication. Reads the tree only.

use tree_sitter::Node;

use std::collections::HashMap;

use super::routes::ROUTE_DECORATORS;
use super::{ModuleFacts, keyword_argument, positional_arguments, string_value};
use crate::rules::node_text;
use crate::semantic::python::{BindingKind, Scopes};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

/// A function registered as a request handler.
pub struct Route<'t> {
    pub function: Node<'t>,
    /// The decorator's call (`@router.post("/orders", ...)`).
    pub decorator: Node<'t>,
    /// The app or router it is registered on (`router`).
    pub router: Node<'t>,
    /// `GET`, `POST`, ...; several for `api_route(methods=[...])`.
    pub methods: Vec<String>,
    /// The path as written on the route.
    pub path: String,
}

/// The routes a decorated definition registers (usually one).
pub fn routes_of<'t>(definition: Node<'t>, routers: &Routers<'t>, source: &str) -> Vec<Route<'t>> {
    if definition.python_kind() != Kind::DecoratedDefinition {
        return Vec::new();
    }
    let Some(function) = definition
        .field(Field::Definition)
        .filter(|f| f.python_kind() == Kind::FunctionDefinition)
    else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    let mut cursor = definition.walk();
    for decorator in definition
        .children(&mut cursor)
        .filter(|child| child.python_kind() == Kind::Decorator)
    {
        let Some(call) = decorator
            .named_child(0)
            .filter(|call| call.python_kind() == Kind::Call)
        else {
            continue;
        };
        let Some(callee) = call
            .field(Field::Function)
            .filter(|f| f.python_kind() == Kind::Attribute)
        else {
            continue;
        };
        let (Some(router), Some(method)) =
            (callee.field(Field::Object), callee.field(Field::Attribute))
        else {
            continue;
        };
        let Some((_, implied)) = ROUTE_DECORATORS
            .iter()
            .find(|(name, _)| *name == node_text(method, source))
        else {
            continue;
        };
        if !routers.is_router(router, source) {
            continue;
        }
        let path = positional_arguments(call)
            .first()
            .copied()
            .or_else(|| keyword_argument(call, "path", source))
            .or_else(|| keyword_argument(call, "rule", source))
            .and_then(|path| string_value(path, source))
            .unwrap_or("")
            .to_string();
        let methods = match implied {
            Some(method) => vec![method.to_string()],
            None => listed_methods(call, source),
        };
        routes.push(Route {
            function,
            decorator: call,
            router,
            methods,
            path,
        });
    }
    routes
}

/// `methods=["GET", "POST"]`; Flask's and Starlette's default is GET.
fn listed_methods(call: Node, source: &str) -> Vec<String> {
    let Some(list) = keyword_argument(call, "methods", source) else {
        return vec!["GET".to_string()];
    };
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .filter_map(|item| string_value(item, source))
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The module's apps and routers, read once per audit: every lookup of a route's router
/// would otherwise walk the module again (routes times module statements per keystroke).
pub struct Routers<'t> {
    /// Module-level names bound to an app or router constructor, with the (last) call.
    constructors: HashMap<String, Node<'t>>,
    /// Every call made at module level (`app.include_router(...)`, `FastAPI(...)`).
    pub module_calls: Vec<Node<'t>>,
}

impl<'t> Routers<'t> {
    /// Read from the module's semantic model (which names hold an app or router, and
    /// the calls bound to them) and the calls its one walk found: nothing is walked
    /// again.
    pub fn collect(facts: &ModuleFacts<'t>, top_level: &[Node<'t>], source: &str) -> Routers<'t> {
        let root = facts.ancestry.root();
        let module = Scopes::of(&[root]);
        let semantic = &facts.semantic;
        let mut constructors = HashMap::new();
        for (name, kind) in semantic.kinds_bound_in(root.id()) {
            if !kind.is_web_router() || name.contains('.') {
                continue;
            }
            // The last call that made it (`app = FastAPI(...)`, not a later `app = wrap(app)`).
            let made_by = semantic
                .bindings
                .calls_bound(root, name)
                .filter(|call| {
                    semantic
                        .kind_of(*call, &module, source)
                        .is_some_and(BindingKind::is_web_router)
                })
                .last();
            if let Some(call) = made_by {
                constructors.insert(name.to_string(), call);
            }
        }
        Routers {
            constructors,
            // A route's decorator is read from the route itself.
            module_calls: facts.module_level_calls(top_level),
        }
    }

    /// The call that made the module-level app or router `name`.
    pub fn constructor(&self, name: &str) -> Option<Node<'t>> {
        self.constructors.get(name).copied()
    }

    /// An app or router: a module-level name bound to a known constructor, or one of the
    /// conventional names when the binding is in another module.
    fn is_router(&self, router: Node, source: &str) -> bool {
        if router.python_kind() != Kind::Identifier {
            return false;
        }
        let name = node_text(router, source);
        self.constructor(name).is_some()
            || matches!(
                name,
                "app" | "router" | "api" | "api_router" | "bp" | "blueprint" | "admin_router"
            )
    }
}
