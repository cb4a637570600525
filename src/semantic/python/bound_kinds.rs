//! What kind of object (client, pipeline, session, factory, settings, container) each
//! name and `self.x` attribute of a module holds, on Ruff's tree: the half of the
//! semantic model the rules on it ask through `Checker::kind_of`, instead of walking the
//! module again.
//!
//! Kinds are found from assignments (`x = redis.Redis()`, `self.db = SessionLocal()`),
//! `with ... as x` items, annotated assignments and parameters annotated with a known
//! class. A binding of `self.x` belongs to the innermost class; other bindings to the
//! innermost function, else the class body, else the module.

use std::collections::HashMap;

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use super::imports::{Imports, dotted_name_of, qualified_name_of};
use super::kinds::{
    BindingKind, ContainerKind, SETTINGS_BASES, annotated_kind, constructed_kind,
    container_made_by, imported_kind, is_constructor_last_name,
};
use crate::rules::line_start;

/// A scope: the module, or a `def` or `class` by its node's address (stable while the
/// item's tree lives, which outlives every audit that reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeKey(usize);

impl ScopeKey {
    pub const MODULE: ScopeKey = ScopeKey(0);

    pub fn of<T>(node: &T) -> ScopeKey {
        ScopeKey(std::ptr::from_ref(node) as usize)
    }
}

/// The scopes a node sits in, for binding lookups: its functions (innermost first) and
/// its innermost class.
#[derive(Debug, Clone, Default)]
pub struct ScopeChain {
    pub functions: Vec<ScopeKey>,
    pub class: Option<ScopeKey>,
}

impl ScopeChain {
    /// Where a binding of `text` made here lives.
    fn binding_scope(&self, text: &str) -> ScopeKey {
        let innermost_function = self.functions.first().copied();
        if text.starts_with("self.") {
            return self
                .class
                .or(innermost_function)
                .unwrap_or(ScopeKey::MODULE);
        }
        // A name bound in a class body is a class attribute, not a module global.
        innermost_function
            .or(self.class)
            .unwrap_or(ScopeKey::MODULE)
    }

    /// Where a plain name used here is looked up: the enclosing functions, the class
    /// body when used directly in it (methods do not see class-body names), the module.
    fn lookup_scopes(&self) -> impl Iterator<Item = ScopeKey> + '_ {
        let class_body = self.class.filter(|_| self.functions.is_empty());
        self.functions
            .iter()
            .copied()
            .chain(class_body)
            .chain([ScopeKey::MODULE])
    }
}

/// Method calls that make a new object of a kind from one of another.
const DERIVING_METHODS: &[&str] = &["pipeline", "pubsub"];

#[derive(Debug, Default)]
pub struct BoundKinds {
    /// (scope, dotted target name) → what the latest binding holds.
    kinds: HashMap<(ScopeKey, String), BindingKind>,
    /// The module's classes whose instances are settings (`class Settings(BaseSettings)`).
    settings_classes: Vec<String>,
}

/// A statement or parameter that may bind a kind, where it stands, and its scopes.
struct Site<'t> {
    binding: Binding<'t>,
    /// Byte offset of the statement.
    at: usize,
    scopes: ScopeChain,
}

enum Binding<'t> {
    /// `target = value`, `target: annotation = value`, `target: annotation`.
    Assignment {
        target: &'t Expr,
        value: Option<&'t Expr>,
        annotation: Option<&'t Expr>,
    },
    /// `with value as target`.
    With { target: &'t Expr, value: &'t Expr },
    /// `name: annotation` among a function's parameters.
    Parameter { name: &'t str, annotation: &'t Expr },
}

impl BoundKinds {
    /// From the module's items (`(start, statements)`, in order): every statement for
    /// which `covered` (given its offset) holds is read for bindings; class headers are
    /// read in every item (what the model says of module names must not depend on what
    /// an incremental audit skips).
    pub fn collect(
        items: &[(usize, &[Stmt])],
        covered: impl Fn(usize) -> bool,
        imports: &Imports,
        source: &str,
    ) -> BoundKinds {
        let mut model = BoundKinds {
            kinds: HashMap::new(),
            settings_classes: settings_classes(items, imports),
        };
        let mut collector = SiteCollector {
            base: 0,
            scopes: ScopeChain::default(),
            sites: Vec::new(),
        };
        for &(base, statements) in items {
            collector.base = base;
            for statement in statements {
                if covered(base + usize::from(statement.start())) {
                    collector.visit_stmt(statement);
                }
            }
        }
        // Two passes, so a pipeline or session made from a client or factory bound
        // later in the file still resolves.
        for _ in 0..2 {
            for site in &collector.sites {
                let Some((target, kind)) =
                    model.binding_made_by(&site.binding, &site.scopes, imports)
                else {
                    continue;
                };
                let scope = site.scopes.binding_scope(&target);
                // Containers matter as module state only: a statement of the module
                // itself, at column 0 (not indented code error recovery left there).
                if matches!(kind, BindingKind::Container(_))
                    && (scope != ScopeKey::MODULE || line_start(source, site.at) != site.at)
                {
                    continue;
                }
                model.kinds.insert((scope, target), kind);
            }
        }
        model
    }

    /// The names one scope binds to objects of a known kind, sorted.
    pub fn kinds_bound_in(&self, scope: ScopeKey) -> Vec<(&str, BindingKind)> {
        let mut names: Vec<(&str, BindingKind)> = self
            .kinds
            .iter()
            .filter(|((bound_in, _), _)| *bound_in == scope)
            .map(|((_, name), kind)| (name.as_str(), *kind))
            .collect();
        names.sort_by_key(|(name, _)| *name);
        names
    }

    /// What `expression` holds, when it is of a known kind; `scopes` are those of the
    /// statement it appears in.
    pub fn kind_of(
        &self,
        expression: &Expr,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<BindingKind> {
        // A loop, not recursion: `.pipeline()` calls can nest thousands deep.
        let mut expression = expression;
        // Methods applied to what the loop finds, outermost last.
        let mut derived: Vec<&str> = Vec::new();
        let found = loop {
            match expression {
                Expr::Await(awaited) => expression = &awaited.value,
                Expr::Call(call) => {
                    if let Some(kind) = self.constructed(call, scopes, imports) {
                        break kind;
                    }
                    let Expr::Attribute(method) = &*call.func else {
                        return None;
                    };
                    if !DERIVING_METHODS.contains(&method.attr.as_str()) {
                        return None;
                    }
                    derived.push(method.attr.as_str());
                    expression = &method.value;
                }
                _ => break self.bound_kind(expression, scopes, imports)?,
            }
        };
        derived
            .iter()
            .rev()
            .try_fold(found, |kind, method| derived_kind(kind, method))
    }

    /// Whether `expression` could hold an object of a known kind, judged from its shape
    /// alone: the result of a call can only when the call makes one.
    pub fn may_hold_kind(expression: &Expr) -> bool {
        let mut expression = expression;
        while let Expr::Await(awaited) = expression {
            expression = &awaited.value;
        }
        let Expr::Call(call) = expression else {
            return true;
        };
        match &*call.func {
            Expr::Name(_) => true, // a constructor imported under any name, or a factory
            Expr::Attribute(attribute) => {
                let name = attribute.attr.as_str();
                // `self.session_factory()`: a factory kept on the instance.
                let on_self =
                    matches!(&*attribute.value, Expr::Name(object) if object.id.as_str() == "self");
                DERIVING_METHODS.contains(&name) || is_constructor_last_name(name) || on_self
            }
            _ => false,
        }
    }

    fn is_settings_class(&self, name: &str) -> bool {
        self.settings_classes.iter().any(|class| class == name)
    }

    /// What a call makes when its callee is a known constructor, or a name bound to a
    /// session factory (`SessionLocal()`).
    fn constructed(
        &self,
        call: &ruff_python_ast::ExprCall,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<BindingKind> {
        if let Some(name) = qualified_name_of(&call.func, imports) {
            let class_argument = call
                .arguments
                .find_keyword("class_")
                .and_then(|class| dotted_name_of(&class.value));
            if let Some(kind) = constructed_kind(&name, class_argument.as_deref()) {
                return Some(kind);
            }
            if self.is_settings_class(&name) {
                return Some(BindingKind::Settings);
            }
        }
        match self.bound_kind(&call.func, scopes, imports)? {
            BindingKind::SessionFactory { asynchronous } => {
                Some(BindingKind::Session { asynchronous })
            }
            _ => None,
        }
    }

    /// The kind bound to a plain name or a `self.x` attribute.
    fn bound_kind(
        &self,
        expression: &Expr,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<BindingKind> {
        let text = dotted_name_of(expression)?;
        if text.starts_with("self.") {
            return self.kinds.get(&(scopes.class?, text)).copied();
        }
        let bound = scopes
            .lookup_scopes()
            .find_map(|scope| self.kinds.get(&(scope, text.clone())));
        // An object a library makes, imported by name (`from django.conf import settings`).
        bound.copied().or_else(|| {
            imports
                .resolve(&text)
                .filter(|qualified| qualified.contains('.'))
                .and_then(imported_kind)
        })
    }

    /// The dotted target a site binds to an object of a known kind, and that kind.
    fn binding_made_by(
        &self,
        binding: &Binding,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<(String, BindingKind)> {
        match binding {
            Binding::Assignment {
                target,
                value,
                annotation,
            } => {
                let kind = value.and_then(|value| self.kind_of_value(value, scopes, imports));
                // `x: Redis = make()` declares what the call alone does not show.
                let kind = kind.or_else(|| self.annotation_kind((*annotation)?, imports))?;
                Some((dotted_name_of(target)?, kind))
            }
            Binding::With { target, value } => Some((
                dotted_name_of(target)?,
                self.kind_of_value(value, scopes, imports)?,
            )),
            Binding::Parameter { name, annotation } => {
                Some((name.to_string(), self.annotation_kind(annotation, imports)?))
            }
        }
    }

    /// What the value of an assignment or `with` item evaluates to: an object made by
    /// a call, or a container (a bare name is not followed: `x = y` leaves `x` unknown).
    fn kind_of_value(
        &self,
        value: &Expr,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<BindingKind> {
        let value = match value {
            Expr::Await(awaited) => &*awaited.value,
            other => other,
        };
        let container = match value {
            Expr::Call(call) => {
                let made = qualified_name_of(&call.func, imports)
                    .and_then(|name| container_made_by(&name));
                if made.is_none() {
                    return self.kind_of(value, scopes, imports);
                }
                made
            }
            Expr::List(_) | Expr::ListComp(_) => Some(ContainerKind::List),
            Expr::Dict(_) | Expr::DictComp(_) => Some(ContainerKind::Dict),
            Expr::Set(_) | Expr::SetComp(_) => Some(ContainerKind::Set),
            _ => None,
        };
        container.map(BindingKind::Container)
    }

    /// The kind an annotation declares: `Redis`, `redis.Redis`, `"Redis"`,
    /// `Optional[AsyncSession]`, `Session | None`, `Annotated[Session, Depends(...)]`.
    /// Looks at each outermost name (not inside an attribute chain) and each string.
    fn annotation_kind(&self, annotation: &Expr, imports: &Imports) -> Option<BindingKind> {
        let mut stack = vec![annotation];
        while let Some(node) = stack.pop() {
            let name = match node {
                Expr::Name(_) | Expr::Attribute(_) => {
                    qualified_name_of(node, imports).or_else(|| dotted_name_of(node))
                }
                Expr::StringLiteral(string) => {
                    let text = string.value.to_str();
                    let head = text.split('.').next().unwrap_or(text);
                    let resolved = imports.resolve(head).unwrap_or(head);
                    Some(format!("{resolved}{}", &text[head.len()..]))
                }
                Expr::Subscript(subscript) => {
                    stack.extend([&*subscript.slice, &*subscript.value]);
                    continue;
                }
                Expr::BinOp(operation) => {
                    stack.extend([&*operation.right, &*operation.left]);
                    continue;
                }
                Expr::Tuple(tuple) => {
                    stack.extend(tuple.elts.iter().rev());
                    continue;
                }
                // Arguments of a call (`Depends(get_db)`) say nothing about the type.
                _ => continue,
            };
            if let Some(kind) = name.as_deref().and_then(annotated_kind) {
                return Some(kind);
            }
            if name
                .as_deref()
                .is_some_and(|name| self.is_settings_class(name))
            {
                return Some(BindingKind::Settings);
            }
        }
        None
    }
}

/// The module's classes whose bases make them settings, in source order: a base that
/// resolves to `pydantic_settings.BaseSettings` (or pydantic 1's), or a settings class
/// defined above.
fn settings_classes(items: &[(usize, &[Stmt])], imports: &Imports) -> Vec<String> {
    let mut classes: Vec<String> = Vec::new();
    for statement in items.iter().flat_map(|(_, statements)| statements.iter()) {
        let Stmt::ClassDef(class) = statement else {
            continue;
        };
        let is_settings = class.bases().iter().any(|base| {
            qualified_name_of(base, imports).is_some_and(|name| {
                SETTINGS_BASES.contains(&name.as_str()) || classes.contains(&name)
            })
        });
        if is_settings {
            classes.push(class.name.to_string());
        }
    }
    classes
}

/// What `method` called on an object of `kind` makes: a pipeline of a Redis client or
/// pipeline, a publish/subscribe handle of a client.
fn derived_kind(kind: BindingKind, method: &str) -> Option<BindingKind> {
    match (kind, method) {
        (
            BindingKind::RedisClient { asynchronous } | BindingKind::RedisPipeline { asynchronous },
            "pipeline",
        ) => Some(BindingKind::RedisPipeline { asynchronous }),
        (BindingKind::RedisClient { .. }, "pubsub") => Some(BindingKind::RedisPubSub),
        _ => None,
    }
}

/// Collects binding sites with the scopes they stand in.
struct SiteCollector<'t> {
    base: usize,
    scopes: ScopeChain,
    sites: Vec<Site<'t>>,
}

impl SiteCollector<'_> {
    fn at(&self, statement: &Stmt) -> usize {
        self.base + usize::from(statement.start())
    }
}

impl<'t> StatementVisitor<'t> for SiteCollector<'t> {
    fn visit_stmt(&mut self, statement: &'t Stmt) {
        let at = self.at(statement);
        let scopes = self.scopes.clone();
        match statement {
            Stmt::Assign(assignment) => {
                // `a = b = make()`: the name nearest the value, as the grammar nests it.
                if let Some(target) = assignment.targets.last() {
                    self.sites.push(Site {
                        binding: Binding::Assignment {
                            target,
                            value: Some(&assignment.value),
                            annotation: None,
                        },
                        at,
                        scopes,
                    });
                }
            }
            Stmt::AnnAssign(assignment) => self.sites.push(Site {
                binding: Binding::Assignment {
                    target: &assignment.target,
                    value: assignment.value.as_deref(),
                    annotation: Some(&assignment.annotation),
                },
                at,
                scopes,
            }),
            Stmt::With(with) => {
                for item in &with.items {
                    if let Some(target) = &item.optional_vars {
                        self.sites.push(Site {
                            binding: Binding::With {
                                target,
                                value: &item.context_expr,
                            },
                            at,
                            scopes: scopes.clone(),
                        });
                    }
                }
                walk_stmt(self, statement);
            }
            Stmt::FunctionDef(function) => {
                self.scopes.functions.insert(0, ScopeKey::of(function));
                let inner = self.scopes.clone();
                for parameter in function.parameters.iter() {
                    let parameter = parameter.as_parameter();
                    if let Some(annotation) = &parameter.annotation {
                        self.sites.push(Site {
                            binding: Binding::Parameter {
                                name: parameter.name.as_str(),
                                annotation,
                            },
                            at,
                            scopes: inner.clone(),
                        });
                    }
                }
                walk_stmt(self, statement);
                self.scopes.functions.remove(0);
            }
            Stmt::ClassDef(class) => {
                let outer = self.scopes.class.replace(ScopeKey::of(class));
                walk_stmt(self, statement);
                self.scopes.class = outer;
            }
            _ => walk_stmt(self, statement),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::python::imports::import_bindings_of;
    use crate::syntax::python_ast::parse_item;

    fn imports_of(body: &[Stmt]) -> Imports {
        Imports::from_bindings(
            body.iter()
                .flat_map(|statement| {
                    import_bindings_of(statement)
                        .into_iter()
                        .map(|(local, target)| (usize::from(statement.start()), local, target))
                })
                .collect(),
        )
    }

    /// The kinds a module binds at module level, sorted by name, and what an expression
    /// at module level holds.
    fn module_kinds(source: &str) -> (Vec<(String, BindingKind)>, BoundKinds, Imports) {
        let item = parse_item(source).expect("parses");
        let imports = imports_of(&item.body);
        let kinds = BoundKinds::collect(&[(0, &item.body[..])], |_| true, &imports, source);
        let bound = kinds
            .kinds_bound_in(ScopeKey::MODULE)
            .into_iter()
            .map(|(name, kind)| (name.to_string(), kind))
            .collect();
        (bound, kinds, imports)
    }

    #[test]
    fn settings_objects_are_known_by_class_constructor_and_import() {
        let source = crate::semantic::python::test_modules::SETTINGS;
        let (bound, kinds, imports) = module_kinds(source);
        assert_eq!(
            bound,
            [
                ("config".to_string(), BindingKind::Settings),
                ("settings".to_string(), BindingKind::Settings),
                ("test_settings".to_string(), BindingKind::Settings),
            ]
        );
        let name = |text: &str| {
            ruff_python_parser::parse_expression(text)
                .expect("parses")
                .into_expr()
        };
        let module = ScopeChain::default();
        assert_eq!(
            kinds.kind_of(&name("django_settings"), &module, &imports),
            Some(BindingKind::Settings)
        );
        assert_eq!(kinds.kind_of(&name("plain"), &module, &imports), None);
    }

    #[test]
    fn module_containers_are_statements_at_column_zero() {
        let source = crate::semantic::python::test_modules::CONTAINERS;
        let (bound, ..) = module_kinds(source);
        let containers: Vec<(&str, ContainerKind)> = bound
            .iter()
            .filter_map(|(name, kind)| match kind {
                BindingKind::Container(container) => Some((name.as_str(), *container)),
                _ => None,
            })
            .collect();
        assert_eq!(
            containers,
            [
                ("CACHE", ContainerKind::Dict),
                ("COUNTS", ContainerKind::Dict),
                ("NAMES", ContainerKind::List),
                ("QUEUE", ContainerKind::List),
                ("SEEN", ContainerKind::Set),
            ]
        );
    }

    /// `self.x` belongs to the class, a parameter to its function, and a pipeline made
    /// from a client bound later in the file still resolves.
    #[test]
    fn bindings_belong_to_their_scopes() {
        let source = "\
import redis
from sqlalchemy.orm import Session


def pipe():
    return client.pipeline()


class Store:
    def __init__(self):
        self.cache = redis.Redis()

    def handle(self, db: Session):
        return db


client = redis.Redis()
";
        let item = parse_item(source).expect("parses");
        let imports = imports_of(&item.body);
        let kinds = BoundKinds::collect(&[(0, &item.body[..])], |_| true, &imports, source);
        let sync_client = BindingKind::RedisClient {
            asynchronous: false,
        };
        assert_eq!(
            kinds.kinds_bound_in(ScopeKey::MODULE),
            [("client", sync_client)]
        );
        let Stmt::ClassDef(class) = &item.body[3] else {
            panic!("a class");
        };
        let Stmt::FunctionDef(handle) = &class.body[1] else {
            panic!("a method");
        };
        assert_eq!(
            kinds.kinds_bound_in(ScopeKey::of(class)),
            [("self.cache", sync_client)]
        );
        assert_eq!(
            kinds.kinds_bound_in(ScopeKey::of(handle)),
            [(
                "db",
                BindingKind::Session {
                    asynchronous: false
                }
            )]
        );
        let expression = |text: &str| {
            ruff_python_parser::parse_expression(text)
                .expect("parses")
                .into_expr()
        };
        assert_eq!(
            kinds.kind_of(
                &expression("client.pipeline()"),
                &ScopeChain::default(),
                &imports
            ),
            Some(BindingKind::RedisPipeline {
                asynchronous: false
            })
        );
    }
}
