//! The semantic model of one Python module: what its names are imported as, the values
//! each scope binds to plain names, and the kind of object (client, pipeline, session,
//! factory) that names, `self.x` attributes and annotated parameters hold. Built from
//! the one walk that collects the module's facts; rules ask it what an expression is
//! (`kind_of`, `resolve_qualified_name`) instead of walking the module again.
//!
//! Kinds are found from assignments (`x = redis.Redis()`, `self.db = SessionLocal()`),
//! `with ... as x` items, and parameters annotated with a known class. A binding of
//! `self.x` belongs to the class; other bindings to the innermost function, else the
//! class body, else the module (see `Scopes`).

use std::collections::HashMap;

use tree_sitter::Node;

use super::bindings::ScopedBindings;
use super::definitions::definition_of;
use super::imports::{Imports, dotted_name, qualified_name};
use super::kinds::{
    BindingKind, ContainerKind, SETTINGS_BASES, annotated_kind, constructed_kind,
    container_made_by, imported_kind, is_constructor_last_name,
};
use crate::rules::python::{enclosing_class, keyword_argument};
use crate::rules::{line_start, node_text};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub struct SemanticModel<'t> {
    pub imports: Imports,
    /// The values each scope binds to plain names.
    pub bindings: ScopedBindings<'t>,
    /// (scope node id, dotted target name) → what the latest binding holds.
    kinds: HashMap<(usize, String), BindingKind>,
    /// The module's classes whose instances are settings (`class Settings(BaseSettings)`).
    settings_classes: Vec<String>,
}

/// The scopes a node sits in, innermost function first, for binding lookups.
pub struct Scopes<'t> {
    functions: Vec<Node<'t>>,
    class: Option<Node<'t>>,
    module: Option<Node<'t>>,
}

impl<'t> Scopes<'t> {
    /// From a walk's stack of `def`/`lambda`/`class` nodes, outermost first.
    pub fn from_stack(stack: &[Node<'t>], root: Node<'t>) -> Scopes<'t> {
        let chain: Vec<Node<'t>> = std::iter::once(root).chain(stack.iter().copied()).collect();
        Scopes::of(&chain)
    }

    /// From a node's ancestors, outermost first.
    pub fn of(ancestors: &[Node<'t>]) -> Scopes<'t> {
        let functions = ancestors
            .iter()
            .rev()
            .filter(|node| node.python_kind() == Kind::FunctionDefinition)
            .copied()
            .collect();
        Scopes {
            functions,
            class: enclosing_class(ancestors),
            module: ancestors.first().copied(),
        }
    }

    /// Where a binding of `text` made here lives.
    fn binding_scope(&self, text: &str) -> Option<Node<'t>> {
        if text.starts_with("self.") {
            return self
                .class
                .or_else(|| self.functions.first().copied())
                .or(self.module);
        }
        // A name bound in a class body is a class attribute, not a module global.
        self.functions
            .first()
            .copied()
            .or(self.class)
            .or(self.module)
    }

    /// Where a plain name used here is looked up: the enclosing functions, the class
    /// body when used directly in it (methods do not see class-body names), the module.
    fn lookup_scopes(&self) -> impl Iterator<Item = Node<'t>> + '_ {
        let class_body = self.class.filter(|_| self.functions.is_empty());
        self.functions
            .iter()
            .copied()
            .chain(class_body)
            .chain(self.module)
    }
}

/// A node that may bind a kind (an assignment, a `with` item, an annotated parameter)
/// with the scopes it was made in; the walk collects them, the model reads them.
pub type BindingSite<'t> = (Node<'t>, Scopes<'t>);

/// Method calls that make a new object of a kind from one of another.
const DERIVING_METHODS: &[&str] = &["pipeline", "pubsub"];

impl<'t> SemanticModel<'t> {
    /// `top_level` are the module's statements (read for class headers only, so skipped
    /// definitions count too: what the model says of module names must not depend on
    /// what an incremental audit skips).
    pub fn new(
        imports: Imports,
        bindings: ScopedBindings<'t>,
        sites: &[BindingSite<'t>],
        top_level: &[Node<'t>],
        source: &str,
    ) -> SemanticModel<'t> {
        let mut model = SemanticModel {
            imports,
            bindings,
            kinds: HashMap::new(),
            settings_classes: Vec::new(),
        };
        model.settings_classes = model.settings_classes_of(top_level, source);
        // Two passes, so a pipeline or session made from a client or factory bound
        // later in the file still resolves.
        for _ in 0..2 {
            for (node, scopes) in sites {
                let Some((target, kind)) = model.binding_made_by(*node, scopes, source) else {
                    continue;
                };
                // Keyed as `bound_kind` looks it up: by dotted name (`x`, `self.x`).
                let Some(text) = dotted_name(target, source) else {
                    continue;
                };
                let Some(scope) = scopes.binding_scope(&text) else {
                    continue;
                };
                // Containers matter as module state only: a statement of the module
                // itself, at column 0 (not indented code error recovery left there).
                if matches!(kind, BindingKind::Container(_))
                    && (Some(scope) != scopes.module
                        || line_start(source, node.start_byte()) != node.start_byte())
                {
                    continue;
                }
                model.kinds.insert((scope.id(), text), kind);
            }
        }
        model
    }

    /// The fully qualified name of a dotted expression (`rq.get` -> `requests.get`).
    pub fn resolve_qualified_name(&self, expression: Node, source: &str) -> Option<String> {
        qualified_name(expression, source, &self.imports)
    }

    /// The module-level names bound to mutable containers, with the container's kind,
    /// sorted by name.
    pub fn module_containers(&self, root: Node) -> Vec<(&str, ContainerKind)> {
        self.kinds_bound_in(root.id())
            .into_iter()
            .filter_map(|(name, kind)| match kind {
                BindingKind::Container(container) => Some((name, container)),
                _ => None,
            })
            .collect()
    }

    /// The module's classes whose bases make them settings, in source order: a base
    /// that resolves to `pydantic_settings.BaseSettings` (or pydantic 1's), or a
    /// settings class defined above.
    fn settings_classes_of(&self, top_level: &[Node], source: &str) -> Vec<String> {
        let mut classes: Vec<String> = Vec::new();
        for statement in top_level {
            let Some(class) = definition_of(*statement)
                .filter(|definition| definition.python_kind() == Kind::ClassDefinition)
            else {
                continue;
            };
            let Some(bases) = class.field(Field::Superclasses) else {
                continue;
            };
            let mut cursor = bases.walk();
            let is_settings = bases.named_children(&mut cursor).any(|base| {
                self.resolve_qualified_name(base, source)
                    .is_some_and(|name| {
                        SETTINGS_BASES.contains(&name.as_str()) || classes.contains(&name)
                    })
            });
            if let Some(name) = class.field(Field::Name).filter(|_| is_settings) {
                classes.push(node_text(name, source).to_string());
            }
        }
        classes
    }

    /// Whether a fully qualified name is one of the module's settings classes.
    fn is_settings_class(&self, name: &str) -> bool {
        self.settings_classes.iter().any(|class| class == name)
    }

    /// The names one scope (by its node id) binds to objects of a known kind, sorted.
    pub fn kinds_bound_in(&self, scope_id: usize) -> Vec<(&str, BindingKind)> {
        let mut names: Vec<(&str, BindingKind)> = self
            .kinds
            .iter()
            .filter(|((scope, _), _)| *scope == scope_id)
            .map(|((_, name), kind)| (name.as_str(), *kind))
            .collect();
        names.sort_by_key(|(name, _)| *name);
        names
    }

    /// What `expression` holds, when it is of a known kind; `scopes` are those of the
    /// statement it appears in.
    pub fn kind_of(&self, expression: Node, scopes: &Scopes, source: &str) -> Option<BindingKind> {
        // A loop, not recursion: parentheses and `.pipeline()` calls can nest thousands
        // deep, and each level would be a stack frame.
        let mut expression = expression;
        // Methods applied to what the loop finds, outermost last.
        let mut derived: Vec<&str> = Vec::new();
        let found = loop {
            match expression.python_kind() {
                Kind::ParenthesizedExpression | Kind::Await => {
                    expression = expression.named_child(0)?
                }
                Kind::Call => {
                    let function = expression.field(Field::Function)?;
                    if let Some(kind) = self.constructed(expression, function, scopes, source) {
                        break kind;
                    }
                    let method = function
                        .field(Field::Attribute)
                        .filter(|_| function.python_kind() == Kind::Attribute)
                        .map(|method| node_text(method, source))
                        .filter(|method| DERIVING_METHODS.contains(method))?;
                    derived.push(method);
                    expression = function.field(Field::Object)?;
                }
                _ => break self.bound_kind(expression, scopes, source)?,
            }
        };
        derived
            .iter()
            .rev()
            .try_fold(found, |kind, method| derived_kind(kind, method))
    }

    /// Whether `expression` could hold an object of a known kind, judged from its shape
    /// alone, before its scopes are worked out: the result of a call can only when the
    /// call makes one. (A chain like `r.set(..).set(..)` is then looked up once, not
    /// once per link.)
    pub fn may_hold_kind(expression: Node, source: &str) -> bool {
        let mut expression = expression;
        while matches!(
            expression.python_kind(),
            Kind::ParenthesizedExpression | Kind::Await
        ) {
            let Some(inner) = expression.named_child(0) else {
                return false;
            };
            expression = inner;
        }
        if expression.python_kind() != Kind::Call {
            return true;
        }
        let Some(function) = expression.field(Field::Function) else {
            return false;
        };
        match function.python_kind() {
            Kind::Identifier => true, // a constructor imported under any name, or a factory
            Kind::Attribute => {
                let Some(name) = function.field(Field::Attribute) else {
                    return false;
                };
                let name = node_text(name, source);
                // `self.session_factory()`: a factory kept on the instance.
                let on_self = function
                    .field(Field::Object)
                    .is_some_and(|object| node_text(object, source) == "self");
                DERIVING_METHODS.contains(&name) || is_constructor_last_name(name) || on_self
            }
            _ => false,
        }
    }

    /// What a call makes when its callee is a known constructor, or a name bound to a
    /// session factory (`SessionLocal()`).
    fn constructed(
        &self,
        call: Node,
        function: Node,
        scopes: &Scopes,
        source: &str,
    ) -> Option<BindingKind> {
        if let Some(name) = self.resolve_qualified_name(function, source) {
            let class_argument =
                keyword_argument(call, "class_", source).map(|class| node_text(class, source));
            if let Some(kind) = constructed_kind(&name, class_argument) {
                return Some(kind);
            }
            if self.is_settings_class(&name) {
                return Some(BindingKind::Settings);
            }
        }
        match self.bound_kind(function, scopes, source)? {
            BindingKind::SessionFactory { asynchronous } => {
                Some(BindingKind::Session { asynchronous })
            }
            _ => None,
        }
    }

    /// The kind bound to a plain name or a `self.x` attribute.
    fn bound_kind(&self, expression: Node, scopes: &Scopes, source: &str) -> Option<BindingKind> {
        // A dotted name only: its text is short, while the text of a long chain of
        // calls is not (copying it once per link would be quadratic).
        let text = dotted_name(expression, source)?;
        if text.starts_with("self.") {
            return self.kinds.get(&(scopes.class?.id(), text)).copied();
        }
        let bound = scopes
            .lookup_scopes()
            .find_map(|scope| self.kinds.get(&(scope.id(), text.clone())));
        // An object a library makes, imported by name (`from django.conf import settings`).
        bound.copied().or_else(|| {
            self.imports
                .resolve(&text)
                .filter(|qualified| qualified.contains('.'))
                .and_then(imported_kind)
        })
    }

    /// The target an assignment, `with ... as` or annotated parameter binds to an
    /// object of a known kind, and that kind.
    fn binding_made_by<'n>(
        &self,
        node: Node<'n>,
        scopes: &Scopes,
        source: &str,
    ) -> Option<(Node<'n>, BindingKind)> {
        match node.python_kind() {
            Kind::Assignment => {
                let target = node.field(Field::Left)?;
                let kind = match node.field(Field::Right) {
                    Some(value) => self.kind_of_value(value, scopes, source),
                    None => None,
                };
                // `x: Redis = make()` declares what the call alone does not show.
                let kind =
                    kind.or_else(|| self.annotation_kind(node.field(Field::Type)?, source))?;
                Some((target, kind))
            }
            Kind::WithItem => {
                let value = node
                    .field(Field::Value)
                    .filter(|value| value.python_kind() == Kind::AsPattern)?;
                let target = value.field(Field::Alias)?.named_child(0)?;
                Some((
                    target,
                    self.kind_of_value(value.named_child(0)?, scopes, source)?,
                ))
            }
            _ => {
                let name = node.field(Field::Name).or_else(|| node.named_child(0))?;
                Some((
                    name,
                    self.annotation_kind(node.field(Field::Type)?, source)?,
                ))
            }
        }
    }

    /// What the value of an assignment or `with` item evaluates to: an object made by
    /// a call (a bare name is not followed: `x = y` leaves `x` unknown).
    fn kind_of_value(&self, value: Node, scopes: &Scopes, source: &str) -> Option<BindingKind> {
        let call = if value.python_kind() == Kind::Await {
            value.named_child(0)?
        } else {
            value
        };
        let container = match call.python_kind() {
            Kind::Call => {
                let made = call
                    .field(Field::Function)
                    .and_then(|function| self.resolve_qualified_name(function, source))
                    .and_then(|name| container_made_by(&name));
                if made.is_none() {
                    return self.kind_of(call, scopes, source);
                }
                made
            }
            Kind::List | Kind::ListComprehension => Some(ContainerKind::List),
            Kind::Dictionary | Kind::DictionaryComprehension => Some(ContainerKind::Dict),
            Kind::Set | Kind::SetComprehension => Some(ContainerKind::Set),
            _ => None,
        };
        container.map(BindingKind::Container)
    }

    /// The kind an annotation declares: `Redis`, `redis.Redis`, `"Redis"`,
    /// `Optional[AsyncSession]`, `Session | None`, `Annotated[Session, Depends(...)]`.
    /// Looks at each outermost name (not inside an attribute chain) and each string.
    fn annotation_kind(&self, annotation: Node, source: &str) -> Option<BindingKind> {
        let mut stack = vec![annotation];
        while let Some(node) = stack.pop() {
            let name = match node.python_kind() {
                Kind::Identifier | Kind::Attribute => self
                    .resolve_qualified_name(node, source)
                    .or_else(|| dotted_name(node, source)),
                Kind::StringContent => {
                    let text = node_text(node, source);
                    let head = text.split('.').next().unwrap_or(text);
                    let resolved = self.imports.resolve(head).unwrap_or(head);
                    Some(format!("{resolved}{}", &text[head.len()..]))
                }
                // Arguments of a call (`Depends(get_db)`) say nothing about the type.
                Kind::Call => continue,
                _ => {
                    let mut cursor = node.walk();
                    stack.extend(node.named_children(&mut cursor));
                    continue;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_text;
    use crate::language::Language;
    use crate::rules::python::ModuleFacts;

    /// The kinds a module binds at module level, as `(name, kind)` sorted by name.
    fn module_kinds(source: &str) -> Vec<(String, BindingKind)> {
        let syntax = parse_text(Language::Python, source).expect("parses");
        let facts = ModuleFacts::collect(&syntax, source);
        facts
            .semantic
            .kinds_bound_in(syntax.root().id())
            .into_iter()
            .map(|(name, kind)| (name.to_string(), kind))
            .collect()
    }

    #[test]
    fn settings_objects_are_known_by_class_constructor_and_import() {
        let source = crate::semantic::python::test_modules::SETTINGS;
        assert_eq!(
            module_kinds(source),
            [
                ("config".to_string(), BindingKind::Settings),
                ("settings".to_string(), BindingKind::Settings),
                ("test_settings".to_string(), BindingKind::Settings),
            ]
        );
        // An imported settings object, and a parameter annotated with a settings class.
        let syntax = parse_text(Language::Python, source).expect("parses");
        let facts = ModuleFacts::collect(&syntax, source);
        let root = syntax.root();
        let scopes = Scopes::of(&[root]);
        let name = |text: &str| {
            let at = source.rfind(text).expect("name in source");
            syntax
                .item_at(at)
                .tree
                .root_node()
                .descendant_for_byte_range(at, at + text.len())
                .expect("node")
        };
        assert_eq!(
            facts
                .semantic
                .kind_of(name("django_settings"), &scopes, source),
            Some(BindingKind::Settings)
        );
        assert_eq!(facts.semantic.kind_of(name("plain"), &scopes, source), None);

        let annotated = "from pydantic_settings import BaseSettings\n\n\nclass AppSettings(BaseSettings):\n    pass\n\n\ndef handler(options: AppSettings):\n    return options\n";
        let syntax = parse_text(Language::Python, annotated).expect("parses");
        let facts = ModuleFacts::collect(&syntax, annotated);
        let at = annotated.rfind("options").expect("use");
        let used = syntax
            .item_at(at)
            .tree
            .root_node()
            .descendant_for_byte_range(at, at + "options".len())
            .expect("node");
        let ancestors = facts.ancestry.ancestors(used);
        assert_eq!(
            facts
                .semantic
                .kind_of(used, &Scopes::of(&ancestors), annotated),
            Some(BindingKind::Settings)
        );
    }

    #[test]
    fn module_containers_are_statements_at_column_zero() {
        let source = crate::semantic::python::test_modules::CONTAINERS;
        let syntax = parse_text(Language::Python, source).expect("parses");
        let facts = ModuleFacts::collect(&syntax, source);
        assert_eq!(
            facts.semantic.module_containers(syntax.root()),
            [
                ("CACHE", ContainerKind::Dict),
                ("COUNTS", ContainerKind::Dict),
                ("NAMES", ContainerKind::List),
                ("QUEUE", ContainerKind::List),
                ("SEEN", ContainerKind::Set),
            ]
        );
    }
}
