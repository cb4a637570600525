//! What kind of object (client, pipeline, session, factory, settings, container) each
//! name and `self.x` attribute of a module holds, on Ruff's tree: the half of the
//! semantic model the rules on it ask through `Checker::kind_of`, instead of walking the
//! module again.
//!
//! Kinds are found from assignments (`x = redis.Redis()`, `self.db = SessionLocal()`,
//! `x = client`), `with ... as x` items, annotated assignments, parameters annotated
//! with a known class or given by `Depends(getter)`, and what top-level getters return.
//! A binding of `self.x` belongs to the innermost class; other bindings to the
//! innermost function, else the class body, else the module.
//!
//! A binding whose kind the module alone does not settle (`x = imported_client`,
//! `db = get_db()`) is kept as a `Value` and settled when a rule asks: through the
//! module's own getters, or through the workspace (`ImportedKinds`), which answers for
//! names imported from other modules. The same `Value`s are what the workspace index
//! keeps of each module (`index::python_facts`), and `settle` reads both.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt};
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::Ranged;

use super::imports::{
    Imports, dotted_name_of, imported_target_of, qualified_name_of, qualified_name_of_dotted,
};
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
const DERIVING_METHODS: &[&str] = &["pipeline", "pubsub", "cursor", "connect", "begin"];

/// How many steps a chain of values may take (`a = b`, `b = get()`, `get` returns an
/// imported name, ...) before it is given up: chains loop in broken and cyclic code.
pub const MAX_VALUE_STEPS: u8 = 32;

/// What a binding holds when its kind is not settled by the module alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Kind(BindingKind),
    /// A module-level name of this module (a variable or a function).
    Local(Box<str>),
    /// A name imported from another module, as the module's imports resolve it
    /// (relative targets keep their dots: `..core.cache.client`).
    Imported(Box<str>),
    /// What calling the value gives: a function's return, a factory's session.
    Call(Box<Value>),
}

/// What other modules tell about the names a module imports.
pub trait ImportedKinds {
    /// The kind the imported `target` (as `Value::Imported` holds it) holds, or with
    /// `call` what calling it gives.
    fn kind_of_imported(&self, target: &str, call: bool) -> Option<BindingKind>;

    /// Whether the imported FastAPI dependency, dependency alias or router `target`
    /// authenticates (`rules::python::dependencies`), following the dependencies it
    /// takes from module to module; `None` when it is no module's name of the workspace.
    fn dependency_authenticates(&self, _target: &str) -> Option<bool> {
        None
    }

    /// Whether the app or router `router` (a name of this module, made here or
    /// imported) is included by some module with an authenticating dependency, or into
    /// an app or router that has one; `None` until every module that includes routers
    /// is known.
    fn router_guarded(&self, _router: &str) -> Option<bool> {
        None
    }

    /// The name outside the workspace that the imported `target` stands for, followed
    /// through the workspace's modules that import it and export it again (`CacheError`
    /// of `app.cache`, which has `from redis.exceptions import RedisError as
    /// CacheError`: `redis.exceptions.RedisError`); `target` itself when no module of
    /// the workspace holds it, `None` when one defines it.
    fn origin_outside(&self, _target: &str) -> Option<Box<str>> {
        None
    }

    /// Whether a module that `import` (an import statement of this module) names
    /// imports this module back, directly or through others: an import cycle. `None`
    /// until the workspace's imports are all known.
    fn imports_back(&self, _import: &crate::index::import_scan::ImportedModule) -> Option<bool> {
        None
    }

    /// Whether `import` (an import statement of this module) takes an optional
    /// dependency: outside the standard library and the workspace, and not among what
    /// the module's project requires. `None` when those requirements are not known.
    fn imports_optional(
        &self,
        _import: &crate::index::import_scan::ImportedModule,
    ) -> Option<bool> {
        None
    }

    /// Whether this module is one that its project's console scripts run; `None` when
    /// not known.
    fn runs_as_command(&self) -> Option<bool> {
        None
    }

    /// What the workspace's schema says of the table `name` (`Some(None)`: no file
    /// creates it); `None` while the schema is not known.
    fn table(&self, _name: &str) -> Option<Option<std::sync::Arc<crate::schema::model::Table>>> {
        None
    }

    /// The xxh3 of the text of this file whose schema the workspace holds (not a
    /// read: the answer only spares work that would give the same result).
    fn schema_source(&self) -> Option<u128> {
        None
    }

    /// Every column the table `name` ever had in the workspace's files, whatever later
    /// drops or renames did (`Some(None)`: no file ever creates it); `None` while the
    /// schema is not known.
    fn table_history(&self, _name: &str) -> Option<Option<Vec<String>>> {
        None
    }

    /// The kinds of the schema's single-column primary keys, by table (integers and
    /// UUIDs); `None` while the schema is not known.
    fn key_kinds(&self) -> Option<Vec<(String, crate::schema::KeyKind)>> {
        None
    }

    /// What the workspace's migrations and models each say of the table `name`;
    /// `None` while the schema is not known, or when the workspace has no Alembic
    /// migration.
    fn table_drift(&self, _name: &str) -> Option<crate::schema::model::TableDrift> {
        None
    }

    /// What breaks the Alembic chain at this migration, whose revision is `current`;
    /// `None` while the schema is not known.
    fn revision_chain(
        &self,
        _current: &crate::schema::from_alembic::Revision,
    ) -> Option<Vec<crate::schema::revisions::ChainProblem>> {
        None
    }
}

/// A module's names as `settle` reads them.
pub trait Namespace {
    /// What the module-level `name` holds, when it is a variable.
    fn variable(&self, name: &str) -> Option<Value>;
    /// What calling the module-level function `name` gives (`Some(None)`: a function
    /// whose return is unknown; `None`: no such function).
    fn function_return(&self, name: &str) -> Option<Option<Value>>;
    /// `ImportedKinds::kind_of_imported`, for the module.
    fn imported(&self, target: &str, call: bool) -> Option<BindingKind>;
}

/// The kind `value` settles to in `namespace`, following at most `steps` more steps.
pub fn settle(namespace: &impl Namespace, value: &Value, steps: u8) -> Option<BindingKind> {
    let steps = steps.checked_sub(1)?;
    match value {
        Value::Kind(kind) => Some(*kind),
        Value::Local(name) => settle(namespace, &namespace.variable(name)?, steps),
        Value::Imported(target) => namespace.imported(target, false),
        Value::Call(callee) => match &**callee {
            Value::Local(name) => match namespace.function_return(name) {
                Some(returned) => settle(namespace, &returned?, steps),
                // A name bound to a callable: calling what it holds (an imported
                // getter re-exported under this name, a session factory).
                None => settle(
                    namespace,
                    &Value::Call(Box::new(namespace.variable(name)?)),
                    steps,
                ),
            },
            Value::Imported(target) => namespace.imported(target, true),
            Value::Kind(kind) => called(*kind),
            made @ Value::Call(_) => called(settle(namespace, made, steps)?),
        },
    }
}

/// What calling an object of `kind` gives: a session, of a session factory.
fn called(kind: BindingKind) -> Option<BindingKind> {
    match kind {
        BindingKind::SessionFactory { asynchronous } => Some(BindingKind::Session { asynchronous }),
        _ => None,
    }
}

#[derive(Default)]
pub struct BoundKinds<'t> {
    /// (scope, dotted target name) → what the latest binding holds.
    kinds: HashMap<(ScopeKey, String), BindingKind>,
    /// (scope, dotted target name) → a value settled when asked, for a binding whose
    /// latest kind the module alone does not tell.
    pending: HashMap<(ScopeKey, String), Value>,
    /// The module's top-level functions by name (the latest definition wins).
    functions: HashMap<&'t str, &'t StmtFunctionDef>,
    /// What calling each top-level function gives, worked out when first asked.
    returns: RefCell<HashMap<String, Option<Value>>>,
    /// The module's classes whose instances are settings (`class Settings(BaseSettings)`).
    settings_classes: Vec<String>,
    /// How many `kind_returned_by` calls are under way (they nest through getters).
    returns_in_progress: std::cell::Cell<u8>,
    /// While bindings are collected: what getters return and what the workspace holds
    /// is not asked then (most bindings are never looked up); such bindings are kept
    /// as `Value`s and settled when a rule asks.
    collecting: std::cell::Cell<bool>,
    /// The workspace's answers for imported names, when the audit has a workspace.
    imported: Option<Rc<dyn ImportedKinds>>,
    /// The top-level functions whose returns lookups read, with what they settled to:
    /// the editor checks these still hold before it reuses findings elsewhere.
    return_reads: RefCell<Vec<(String, Option<BindingKind>)>>,
}

impl std::fmt::Debug for BoundKinds<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BoundKinds")
            .field("kinds", &self.kinds)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
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
    /// `name: annotation = default` among a function's parameters (one at least).
    Parameter {
        name: &'t str,
        annotation: Option<&'t Expr>,
        default: Option<&'t Expr>,
    },
}

impl<'t> BoundKinds<'t> {
    /// From the module's items (`(start, statements)`, in order): every statement for
    /// which `covered` (given its offset) holds is read for bindings; class headers and
    /// top-level `def`s are read in every item (what the model says of module names
    /// must not depend on what an incremental audit skips). `imported` answers for
    /// names other modules of the workspace define.
    pub fn collect(
        items: &[(usize, &'t [Stmt])],
        covered: impl Fn(usize) -> bool,
        imports: &Imports,
        source: &str,
        imported: Option<Rc<dyn ImportedKinds>>,
    ) -> BoundKinds<'t> {
        let mut model = BoundKinds {
            settings_classes: settings_classes(items, imports),
            functions: top_level_functions(items),
            imported,
            ..BoundKinds::default()
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
        model.collecting.set(true);
        for _ in 0..2 {
            for site in &collector.sites {
                let Some((target, value)) =
                    model.binding_made_by(&site.binding, &site.scopes, imports)
                else {
                    continue;
                };
                let scope = site.scopes.binding_scope(&target);
                let key = (scope, target);
                let Value::Kind(kind) = value else {
                    // A later binding of a known kind is not undone by an unknown one
                    // read in the second pass (it was read in the first). Names bound in
                    // a class body (model fields, constants) are not looked up through
                    // values: they are many, and no rule reads them.
                    let class_body = site.scopes.functions.is_empty()
                        && site.scopes.class == Some(scope)
                        && !key.1.starts_with("self.");
                    if !class_body && !model.kinds.contains_key(&key) {
                        model.pending.insert(key, value);
                    }
                    continue;
                };
                // Containers matter as module state only: a statement of the module
                // itself, at column 0 (not indented code error recovery left there).
                if matches!(kind, BindingKind::Container(_))
                    && (scope != ScopeKey::MODULE || line_start(source, site.at) != site.at)
                {
                    continue;
                }
                model.pending.remove(&key);
                model.kinds.insert(key, kind);
            }
        }
        model.collecting.set(false);
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

    /// The names one scope binds to values the module alone does not settle, sorted.
    pub fn values_bound_in(&self, scope: ScopeKey) -> Vec<(&str, &Value)> {
        let mut names: Vec<(&str, &Value)> = self
            .pending
            .iter()
            .filter(|((bound_in, _), _)| *bound_in == scope)
            .map(|((_, name), value)| (name.as_str(), value))
            .collect();
        names.sort_by_key(|(name, _)| *name);
        names
    }

    /// The module's top-level functions, by name.
    pub fn top_level_functions(&self) -> impl Iterator<Item = (&'t str, &'t StmtFunctionDef)> {
        self.functions
            .iter()
            .map(|(name, function)| (*name, *function))
    }

    /// The top-level functions whose returns lookups have read so far, with what each
    /// settled to.
    pub fn return_reads(&self) -> Vec<(String, Option<BindingKind>)> {
        self.return_reads.borrow().clone()
    }

    /// What calling the top-level function `name` gives now (as `return_reads` has it).
    pub fn kind_returned_by(&self, name: &str, imports: &Imports) -> Option<BindingKind> {
        // Getters that call each other (or themselves) come back here: give up as a
        // chain of values does.
        let depth = self.returns_in_progress.get();
        if depth >= MAX_VALUE_STEPS {
            return None;
        }
        self.returns_in_progress.set(depth + 1);
        let kind = self
            .function_return_value(name, imports)
            .and_then(|returned| settle(&self.namespace(imports), &returned, MAX_VALUE_STEPS));
        self.returns_in_progress.set(depth);
        self.return_reads
            .borrow_mut()
            .push((name.to_string(), kind));
        kind
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

    /// The module as `settle` reads it.
    fn namespace<'m>(&'m self, imports: &'m Imports) -> ModuleNamespace<'m, 't> {
        ModuleNamespace {
            kinds: self,
            imports,
        }
    }

    /// What a call makes when its callee is a known constructor, a name bound to a
    /// session factory (`SessionLocal()`), a getter of the module or one imported.
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
                if matches!(kind, BindingKind::DatabaseEngine { .. }) && connects_elsewhere(call) {
                    return Some(BindingKind::OtherDatabase);
                }
                return Some(kind);
            }
            if self.is_settings_class(&name) {
                return Some(BindingKind::Settings);
            }
        }
        if let Some(kind) = self.bound_kind(&call.func, scopes, imports) {
            return called(kind);
        }
        if self.collecting.get() {
            return None;
        }
        let callee = dotted_name_of(&call.func)?;
        if !callee.contains('.') && self.functions.contains_key(callee.as_str()) {
            return self.kind_returned_by(&callee, imports);
        }
        let imported = self.imported.as_ref()?;
        let head = callee.split('.').next().unwrap_or(&callee);
        imports.resolve(head)?;
        imported.kind_of_imported(&qualified_name_of_dotted(&callee, imports)?, true)
    }

    /// The kind bound to a plain name or a `self.x` attribute, or to an imported name.
    fn bound_kind(
        &self,
        expression: &Expr,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<BindingKind> {
        let text = dotted_name_of(expression)?;
        let in_scopes: Vec<ScopeKey> = if text.starts_with("self.") {
            vec![scopes.class?]
        } else {
            scopes.lookup_scopes().collect()
        };
        let key = (ScopeKey::MODULE, text);
        let mut key = key;
        for scope in in_scopes {
            key.0 = scope;
            if let Some(kind) = self.kinds.get(&key) {
                return Some(*kind);
            }
            if let Some(value) = self.pending.get(&key) {
                if self.collecting.get() {
                    return None;
                }
                return settle(&self.namespace(imports), value, MAX_VALUE_STEPS);
            }
        }
        let text = key.1;
        if text.starts_with("self.") {
            return None;
        }
        // An object a library makes, imported by name (`from django.conf import
        // settings`), or one another module of the workspace makes.
        let head = text.split('.').next().unwrap_or(&text);
        imports.resolve(head)?;
        let qualified = qualified_name_of_dotted(&text, imports)?;
        if let Some(kind) = imported_kind(&qualified) {
            return Some(kind);
        }
        if self.collecting.get() {
            return None;
        }
        self.imported.as_ref()?.kind_of_imported(&qualified, false)
    }

    /// The dotted target a site binds and what it holds.
    fn binding_made_by(
        &self,
        binding: &Binding,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<(String, Value)> {
        match binding {
            Binding::Assignment {
                target,
                value,
                annotation,
            } => {
                let target = dotted_name_of(target)?;
                let kind = value.and_then(|value| self.kind_of_value(value, scopes, imports));
                // `x: Redis = make()` declares what the call alone does not show.
                let kind = kind.or_else(|| self.annotation_kind((*annotation)?, imports));
                if let Some(kind) = kind {
                    return Some((target, Value::Kind(kind)));
                }
                Some((target, self.symbolic_value((*value)?, scopes, imports)?))
            }
            Binding::With { target, value } => {
                let target = dotted_name_of(target)?;
                if let Some(kind) = self.kind_of_value(value, scopes, imports) {
                    return Some((target, Value::Kind(kind)));
                }
                Some((target, self.symbolic_value(value, scopes, imports)?))
            }
            Binding::Parameter {
                name,
                annotation,
                default,
            } => {
                if let Some(kind) =
                    annotation.and_then(|annotation| self.annotation_kind(annotation, imports))
                {
                    return Some((name.to_string(), Value::Kind(kind)));
                }
                // `r = Depends(get_redis)`: what the dependency gives.
                let dependency = depended_on((*default)?, imports)?;
                let value = match self.kind_of(dependency, scopes, imports) {
                    Some(kind) => Value::Kind(called(kind)?),
                    None => {
                        Value::Call(Box::new(self.symbolic_value(dependency, scopes, imports)?))
                    }
                };
                Some((name.to_string(), value))
            }
        }
    }

    /// What the value of an assignment or `with` item evaluates to: an object made by
    /// a call, a container, or what a name already holds (`x = client`).
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
            Expr::Name(_) | Expr::Attribute(_) => return self.kind_of(value, scopes, imports),
            Expr::List(_) | Expr::ListComp(_) => Some(ContainerKind::List),
            Expr::Dict(_) | Expr::DictComp(_) => Some(ContainerKind::Dict),
            Expr::Set(_) | Expr::SetComp(_) => Some(ContainerKind::Set),
            _ => None,
        };
        container.map(BindingKind::Container)
    }

    /// What `value` holds in terms the module cannot settle alone: an imported name, a
    /// module-level name, or a call of one (`get_db()`, `deps.get_redis()`).
    fn symbolic_value(
        &self,
        value: &Expr,
        scopes: &ScopeChain,
        imports: &Imports,
    ) -> Option<Value> {
        match value {
            Expr::Await(awaited) => self.symbolic_value(&awaited.value, scopes, imports),
            Expr::Call(call) => Some(Value::Call(Box::new(
                self.symbolic_value(&call.func, scopes, imports)?,
            ))),
            Expr::Name(_) | Expr::Attribute(_) => {
                let dotted = dotted_name_of(value)?;
                if let Some(target) = imported_target_of(&dotted, imports) {
                    return Some(Value::Imported(target.into()));
                }
                // A module-level name, read from where the module binds it.
                let module_level = !dotted.contains('.')
                    && (self.functions.contains_key(dotted.as_str())
                        || self.kinds.contains_key(&(ScopeKey::MODULE, dotted.clone()))
                        || self
                            .pending
                            .contains_key(&(ScopeKey::MODULE, dotted.clone())));
                let shadowed = scopes.functions.iter().any(|scope| {
                    self.kinds.contains_key(&(*scope, dotted.clone()))
                        || self.pending.contains_key(&(*scope, dotted.clone()))
                });
                (module_level && !shadowed).then(|| Value::Local(dotted.into()))
            }
            _ => None,
        }
    }

    /// What calling the top-level function `name` gives, worked out once (its return
    /// annotation, else what its first `return` or `yield` gives).
    fn function_return_value(&self, name: &str, imports: &Imports) -> Option<Value> {
        if let Some(known) = self.returns.borrow().get(name) {
            return known.clone();
        }
        let function = self.functions.get(name)?;
        // A function whose return reads its own return (`return f()`) finds none.
        self.returns.borrow_mut().insert(name.to_string(), None);
        let value = self.return_value(function, imports);
        self.returns
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    /// What calling `function` gives, as far as its own text tells: its return
    /// annotation's kind, else what the first `return` or `yield` with a value holds,
    /// following names bound in the function (`with SessionLocal() as db: yield db`).
    pub fn return_value(&self, function: &StmtFunctionDef, imports: &Imports) -> Option<Value> {
        if let Some(kind) = function
            .returns
            .as_deref()
            .and_then(|annotation| self.annotation_kind(annotation, imports))
        {
            return Some(Value::Kind(kind));
        }
        let returned = first_returned(&function.body)?;
        self.value_in_function(function, returned, imports, MAX_VALUE_STEPS)
    }

    /// What `expression`, evaluated in `function`'s body, holds.
    fn value_in_function(
        &self,
        function: &StmtFunctionDef,
        expression: &Expr,
        imports: &Imports,
        steps: u8,
    ) -> Option<Value> {
        let steps = steps.checked_sub(1)?;
        let scopes = ScopeChain {
            functions: vec![ScopeKey::of(function)],
            class: None,
        };
        let expression = match expression {
            Expr::Await(awaited) => &*awaited.value,
            other => other,
        };
        if let Expr::Name(name) = expression {
            let name = name.id.as_str();
            if let Some(parameter) = function
                .parameters
                .iter()
                .find(|parameter| parameter.name().as_str() == name)
            {
                let binding = Binding::Parameter {
                    name,
                    annotation: parameter.annotation(),
                    default: parameter.default(),
                };
                return self
                    .binding_made_by(&binding, &scopes, imports)
                    .map(|(_, value)| value);
            }
            if let Some(bound) = last_binding_in(&function.body, name) {
                return self.value_in_function(function, bound, imports, steps);
            }
        }
        if let Some(kind) = self.kind_of_value(expression, &ScopeChain::default(), imports) {
            return Some(Value::Kind(kind));
        }
        self.symbolic_value(expression, &scopes, imports)
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

/// The module as `settle` reads it during an audit.
struct ModuleNamespace<'m, 't> {
    kinds: &'m BoundKinds<'t>,
    imports: &'m Imports,
}

impl Namespace for ModuleNamespace<'_, '_> {
    fn variable(&self, name: &str) -> Option<Value> {
        let key = (ScopeKey::MODULE, name.to_string());
        if let Some(kind) = self.kinds.kinds.get(&key) {
            return Some(Value::Kind(*kind));
        }
        self.kinds.pending.get(&key).cloned()
    }

    fn function_return(&self, name: &str) -> Option<Option<Value>> {
        self.kinds.functions.get(name)?;
        // Through `kind_returned_by`'s record, so the editor sees the read.
        let kind = self.kinds.kind_returned_by(name, self.imports);
        Some(kind.map(Value::Kind))
    }

    fn imported(&self, target: &str, call: bool) -> Option<BindingKind> {
        self.kinds.imported.as_ref()?.kind_of_imported(target, call)
    }
}

/// The module's top-level functions by name (the latest of a name wins).
fn top_level_functions<'t>(items: &[(usize, &'t [Stmt])]) -> HashMap<&'t str, &'t StmtFunctionDef> {
    items
        .iter()
        .flat_map(|(_, statements)| statements.iter())
        .filter_map(|statement| match statement {
            Stmt::FunctionDef(function) => Some((function.name.as_str(), function)),
            _ => None,
        })
        .collect()
}

/// The value of the first `return` or `yield` with one in `body`, outside nested
/// definitions.
fn first_returned(body: &[Stmt]) -> Option<&Expr> {
    struct Finder<'s> {
        found: Option<&'s Expr>,
    }
    impl<'s> StatementVisitor<'s> for Finder<'s> {
        fn visit_stmt(&mut self, statement: &'s Stmt) {
            if self.found.is_some() {
                return;
            }
            match statement {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(returned) => self.found = returned.value.as_deref(),
                Stmt::Expr(expression) => {
                    let yielded = match &*expression.value {
                        Expr::Yield(yielded) => yielded.value.as_deref(),
                        Expr::Await(awaited) => match &*awaited.value {
                            Expr::Yield(yielded) => yielded.value.as_deref(),
                            _ => None,
                        },
                        _ => None,
                    };
                    self.found = yielded;
                }
                _ => walk_stmt(self, statement),
            }
        }
    }
    let mut finder = Finder { found: None };
    finder.visit_body(body);
    finder.found
}

/// The value last bound to `name` in `body` (`name = value`, `with value as name`),
/// outside nested definitions, in source order.
fn last_binding_in<'s>(body: &'s [Stmt], name: &str) -> Option<&'s Expr> {
    struct Finder<'s, 'n> {
        name: &'n str,
        found: Option<&'s Expr>,
    }
    impl<'s> StatementVisitor<'s> for Finder<'s, '_> {
        fn visit_stmt(&mut self, statement: &'s Stmt) {
            let is_name = |target: &Expr| matches!(target, Expr::Name(bound) if bound.id.as_str() == self.name);
            match statement {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Assign(assignment) => {
                    if assignment.targets.iter().any(is_name) {
                        self.found = Some(&assignment.value);
                    }
                }
                Stmt::AnnAssign(assignment) => {
                    if let (true, Some(value)) = (is_name(&assignment.target), &assignment.value) {
                        self.found = Some(value);
                    }
                }
                Stmt::With(with) => {
                    for item in &with.items {
                        if item.optional_vars.as_deref().is_some_and(is_name) {
                            self.found = Some(&item.context_expr);
                        }
                    }
                    walk_stmt(self, statement);
                }
                _ => walk_stmt(self, statement),
            }
        }
    }
    let mut finder = Finder { name, found: None };
    finder.visit_body(body);
    finder.found
}

/// The dependency of a parameter's default `Depends(get_x)` (FastAPI's, however
/// imported), or `None` for any other default.
fn depended_on<'e>(default: &'e Expr, imports: &Imports) -> Option<&'e Expr> {
    let Expr::Call(call) = default else {
        return None;
    };
    let callee = qualified_name_of(&call.func, imports)?;
    if !matches!(
        callee.as_str(),
        "fastapi.Depends" | "fastapi.params.Depends"
    ) {
        return None;
    }
    call.arguments.args.first().or_else(|| {
        call.arguments
            .find_keyword("dependency")
            .map(|keyword| &keyword.value)
    })
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

/// Whether an engine's URL, written as a literal (`create_engine("sqlite:///app.db")`),
/// names a database other than PostgreSQL. A URL read from settings says nothing.
fn connects_elsewhere(call: &ruff_python_ast::ExprCall) -> bool {
    let url = call.arguments.args.first().or_else(|| {
        call.arguments
            .find_keyword("url")
            .map(|keyword| &keyword.value)
    });
    let Some(Expr::StringLiteral(url)) = url else {
        return false;
    };
    let url = url.value.to_str();
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let dialect = scheme
        .split('+')
        .next()
        .unwrap_or(scheme)
        .to_ascii_lowercase();
    !matches!(dialect.as_str(), "postgresql" | "postgres" | "cockroachdb")
}

/// What `method` called on an object of `kind` makes: a pipeline of a Redis client or
/// pipeline, a publish/subscribe handle of a client, a cursor or connection of another
/// database.
pub fn derived_kind(kind: BindingKind, method: &str) -> Option<BindingKind> {
    match (kind, method) {
        (
            BindingKind::RedisClient { asynchronous } | BindingKind::RedisPipeline { asynchronous },
            "pipeline",
        ) => Some(BindingKind::RedisPipeline { asynchronous }),
        (BindingKind::RedisClient { .. }, "pubsub") => Some(BindingKind::RedisPubSub),
        // Another database's cursors and connections speak its dialect too.
        (BindingKind::OtherDatabase, "cursor" | "connect" | "begin") => {
            Some(BindingKind::OtherDatabase)
        }
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
                    let (annotation, default) = (parameter.annotation(), parameter.default());
                    if annotation.is_some() || default.is_some() {
                        self.sites.push(Site {
                            binding: Binding::Parameter {
                                name: parameter.name().as_str(),
                                annotation,
                                default,
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
    fn module_kinds(source: &str) -> (Vec<(String, BindingKind)>, BoundKinds<'static>, Imports) {
        // The model borrows the tree; a test's tree may live as long as the test run.
        let item = Box::leak(Box::new(parse_item(source).expect("parses")));
        let imports = imports_of(&item.body);
        let kinds = BoundKinds::collect(&[(0, &item.body[..])], |_| true, &imports, source, None);
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
        let kinds = BoundKinds::collect(&[(0, &item.body[..])], |_| true, &imports, source, None);
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
