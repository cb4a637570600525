//! The Python rules that read Ruff's tree (`syntax::python_ast`), run together in one
//! traversal of each item: each rule names the node kinds it looks at (`Hooks`), and
//! the traversal hands every node of a kind to the rules that asked for it (Ruff's
//! `checkers/ast/analyze` works the same way). No rule walks the module on its own.
//!
//! Module-wide readings are worked out once per audit and kept on the `Context`
//! (imports, bound kinds; `module_scope`, `routes`), from each item's summary where one
//! is enough, so a keystroke reads the summaries of unchanged items, not their trees.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt as walk_statements};
use ruff_python_ast::visitor::{
    Visitor, walk_except_handler, walk_expr, walk_keyword, walk_parameter, walk_stmt,
};
use ruff_python_ast::{
    ExceptHandler, ExceptHandlerExceptHandler, Expr, ExprCall, ExprStringLiteral, Keyword,
    ParameterWithDefault, Parameters, Stmt, StmtClassDef, StmtFunctionDef,
};
use ruff_text_size::Ranged;

use super::helpers::calls_in_scope;
use crate::rules::rule_set::RuleSet;
use crate::rules::settings::RuleSettings;
use crate::rules::{Check, Context, Coverage, Finding, Libraries, RuleId};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::{BoundKinds, ScopeChain, ScopeKey};
use crate::semantic::python::imports::{
    Imports, dotted_name_of, import_bindings_of, qualified_name_of_dotted,
};
use crate::syntax::python_ast::ItemAst;

/// A rule's judgement of one node of kind `N`: it reports into the vector. The node
/// lives as long as the tree the checker walks, so a rule may keep both together.
pub type Hook<N> = for<'c> fn(&Checker<'c, '_>, &'c N, &mut Vec<Finding>);

/// A rule's judgement of one `except` clause, told whether its `try` is `try ... except*`.
pub type ExceptHook =
    for<'c> fn(&Checker<'c, '_>, &'c ExceptHandlerExceptHandler, bool, &mut Vec<Finding>);

/// The node kinds a rule looks at, each with the function that judges one node.
#[derive(Clone, Copy)]
pub struct Hooks {
    pub call: Option<Hook<ExprCall>>,
    pub except_handler: Option<ExceptHook>,
    /// A string literal (plain or implicitly concatenated; not f-strings or bytes).
    pub string: Option<Hook<ExprStringLiteral>>,
    /// A `def`, judged inside its own scope (what its body's names mean), before its
    /// parameters and body are walked.
    pub function: Option<Hook<StmtFunctionDef>>,
    /// For rules that judge what an item says itself: a test of an item's text that
    /// every item holding a finding passes (`ItemTest`).
    pub item_test: Option<ItemTest>,
}

/// Given the audit (once per audit: the module's text, what it imports and reaches), a
/// test of one item's text that every item holding a finding of a rule passes, or
/// `None` when the module lets a finding's evidence stand in another item. An item that
/// no running rule's test admits is neither parsed nor walked. What such a rule reads
/// of other items must come through the module-wide readings (imports, kinds, scope,
/// logger), which parse what they read.
pub type ItemTest = fn(module: &Context) -> Option<TextTest>;

/// A test of a text (a module's, an item's).
pub type TextTest = fn(&str) -> bool;

impl Hooks {
    pub const NONE: Hooks = Hooks {
        call: None,
        except_handler: None,
        string: None,
        function: None,
        item_test: None,
    };
}

/// A node that holds the one being judged, as `Checker::parent` tells it.
#[derive(Debug, Clone, Copy)]
pub enum Parent<'s> {
    Statement(&'s Stmt),
    Expression(&'s Expr),
    /// `name=value` in a call (the value stands under it).
    Keyword(&'s Keyword),
    /// A parameter with a default (the default stands under it).
    Parameter(&'s ParameterWithDefault),
}

/// What a rule's hook reads besides its node: the source, where the current item
/// stands in it, the module's imports and the file's settings.
pub struct Checker<'c, 'a> {
    pub source: &'a str,
    pub settings: &'a RuleSettings,
    pub path: Option<&'a Path>,
    context: &'c Context<'a>,
    /// Where the item being traversed starts: its tree's offsets are from there.
    base: usize,
    /// The module, then each function, lambda and class around the node being judged.
    scopes: Vec<Scope<'c>>,
    /// The nodes that hold the one being judged, outermost first.
    parents: Vec<Parent<'c>>,
}

/// A scope the traversal is in, and how many `while` loops of it hold the node.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'s> {
    pub kind: ScopeKind<'s>,
    pub whiles: usize,
}

#[derive(Debug, Clone, Copy)]
pub enum ScopeKind<'s> {
    Module,
    /// A `def` (its decorators stand outside it; its parameters inside).
    Function(&'s StmtFunctionDef),
    Lambda,
    /// A `class` (its bases and body).
    Class(&'s StmtClassDef),
}

impl<'c, 'a> Checker<'c, 'a> {
    /// The byte range of `node` in the source: a node of the item being traversed (for
    /// one found in another item through `module_bodies`, see `range_at`).
    pub fn range(&self, node: &impl Ranged) -> Range<usize> {
        self.range_at(self.base, node)
    }

    /// The byte range of `node` of the item that starts at byte `base`.
    pub fn range_at(&self, base: usize, node: &impl Ranged) -> Range<usize> {
        crate::syntax::python_ast::source_range(base, node)
    }

    /// The node that directly holds the one being judged (`None` for a top-level
    /// statement).
    pub fn parent(&self) -> Option<Parent<'c>> {
        self.parents.last().copied()
    }

    /// The nodes that hold the one being judged, outermost first (its parent last).
    pub fn ancestors(&self) -> &[Parent<'c>] {
        &self.parents
    }

    /// The innermost scope around the node being judged.
    pub fn scope(&self) -> Scope<'c> {
        self.scopes.last().copied().unwrap_or(Scope {
            kind: ScopeKind::Module,
            whiles: 0,
        })
    }

    /// The source text of `node` of the item being traversed (empty if the tree and text
    /// disagree: never panics).
    pub fn text(&self, node: &impl Ranged) -> &'a str {
        self.source.get(self.range(node)).unwrap_or("")
    }

    /// Whether the module reaches one of `libraries`: through the workspace's imports
    /// where the audit knows them, else by its own imports. Rules that judge common
    /// method names by what their receiver holds ask this first: working out what a
    /// module's names hold costs more than the rule.
    pub fn reaches(&self, libraries: Libraries) -> bool {
        reaches(self.context, libraries)
    }

    /// What `expression` holds where the node being judged stands, when it is of a
    /// known kind (a Redis client, a session, ...).
    pub fn kind_of(&self, expression: &Expr) -> Option<BindingKind> {
        let kinds = module_kinds(self.context);
        kinds.kind_of(expression, &self.scope_chain(), self.imports())
    }

    /// The scopes of the node being judged, as binding lookups read them.
    pub fn scope_chain(&self) -> ScopeChain {
        let mut chain = ScopeChain::default();
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Function(function) => chain.functions.push(ScopeKey::of(function)),
                ScopeKind::Class(class) if chain.class.is_none() => {
                    chain.class = Some(ScopeKey::of(class));
                }
                _ => {}
            }
        }
        chain
    }

    /// The innermost `def` around the node being judged (through lambdas and classes).
    pub fn enclosing_function(&self) -> Option<&'c StmtFunctionDef> {
        self.scopes.iter().rev().find_map(|scope| match scope.kind {
            ScopeKind::Function(function) => Some(function),
            _ => None,
        })
    }

    /// Where the item being traversed starts (offsets of its tree are from there).
    /// The innermost class whose body holds the walk, through the methods in it (the
    /// class of `super().__init__(...)` in its `__init__`).
    pub fn enclosing_class(&self) -> Option<&'c StmtClassDef> {
        self.scopes.iter().rev().find_map(|scope| match scope.kind {
            ScopeKind::Class(class) => Some(class),
            _ => None,
        })
    }

    pub fn base(&self) -> usize {
        self.base
    }

    /// Each item's statements (skipped ones too) with where the item starts, in order.
    pub fn module_bodies(&self) -> Vec<(usize, &'c [Stmt])> {
        module_bodies(self.context)
    }

    /// The audit's context (for the module-wide readings that take one).
    pub fn context(&self) -> &'c Context<'a> {
        self.context
    }

    /// What each imported name stands for, module-wide (`module_imports`).
    pub fn imports(&self) -> &Imports {
        module_imports(self.context)
    }

    /// The fully qualified name `expression` stands for (`qualified_name_of`), followed
    /// where the audit has a workspace through the modules that export a name of one of
    /// `libraries` again (`Cache.from_url`, with `from app.compat import Cache` and
    /// `from redis import Redis as Cache` in `app/compat.py`: `redis.Redis.from_url`).
    /// A module that reaches none of them (`reaches`) imports no such name: the
    /// workspace is not asked (its answers read other modules' facts).
    pub fn qualified_name_from(&self, expression: &Expr, libraries: Libraries) -> Option<String> {
        let dotted = dotted_name_of(expression)?;
        let local = qualified_name_of_dotted(&dotted, self.imports())?;
        let Some(workspace) = self.context.imported.as_ref() else {
            return Some(local);
        };
        if !self.reaches(libraries) {
            return Some(local);
        }
        let head = dotted.split('.').next().unwrap_or(&dotted);
        let Some(imported) = self.imports().resolve(head) else {
            return Some(local); // a name of this module, or a builtin
        };
        // The import names a module (`compat.Cache`: the name after it is what may be
        // exported again) or a name whose attributes are used (`Cache.from_url`).
        let after_module = local[imported.len()..]
            .strip_prefix('.')
            .map(|rest| imported.len() + 1 + rest.find('.').unwrap_or(rest.len()));
        for end in after_module.into_iter().chain([imported.len()]) {
            if let Some(origin) = workspace.origin_outside(&local[..end]) {
                return Some(format!("{origin}{}", &local[end..]));
            }
        }
        Some(local)
    }

    /// Whether the module is an Alembic migration (it takes `op` from `alembic`): one-off
    /// code, run once by the migration tool, whose models are snapshots of their time.
    pub fn in_migration(&self) -> bool {
        self.imports().resolve("op") == Some("alembic.op")
    }

    /// Whether the module runs as a command (`file_kind::is_command_module`), worked out
    /// once per audit: it reads the whole text, and rules ask at every call they judge.
    pub fn in_command_module(&self) -> bool {
        struct InCommandModule(bool);
        self.context
            .memo(|| InCommandModule(super::file_kind::is_command_module(self.path, self.source)))
            .0
    }

    /// Whether the module is a test (`file_kind::is_test_file`), worked out once per
    /// audit: rules ask at every string or call they judge.
    pub fn in_test_file(&self) -> bool {
        struct InTestFile(bool);
        self.context
            .memo(|| InTestFile(super::file_kind::is_test_file(self.path)))
            .0
    }
}

/// Each item's statements (skipped ones too) with where the item starts, in order;
/// items too deep to parse have none.
pub fn module_bodies<'a>(context: &Context<'a>) -> Vec<(usize, &'a [Stmt])> {
    context
        .syntax
        .items()
        .iter()
        .filter_map(|item| Some((item.range.start, &item.python_ast(context.source)?.body[..])))
        .collect()
}

/// What the module-wide readings take from one item, computed once and kept with its
/// tree, so a keystroke reads the summaries of unchanged items instead of their trees.
pub struct ItemSummary {
    /// `(offset from the item's start, local name, target)` of its imports, nested
    /// ones too, in order.
    pub imports: Vec<(usize, String, String)>,
    /// `name = callee(...)` among its top-level statements: the name and the callee's
    /// dotted name, in order.
    pub assigned_calls: Vec<(String, String)>,
    /// The calls of its module scope (not in the bodies of definitions): the callee's
    /// last name and the call's range from the item's start, in order.
    pub module_calls: Vec<(String, Range<usize>)>,
}

/// Each item's summary (`ItemSummary`) with where the item starts, in order; items too
/// deep to parse have none.
pub fn item_summaries<'c>(context: &'c Context) -> impl Iterator<Item = (usize, &'c ItemSummary)> {
    items_with_summaries(context).map(|(base, _, summary)| (base, summary))
}

/// Each item's tree and summary with where the item starts, in order; items too deep
/// to parse have none.
pub fn items_with_summaries<'a>(
    context: &Context<'a>,
) -> impl Iterator<Item = (usize, &'a ItemAst, &'a ItemSummary)> + use<'a> {
    items_with_summaries_where(context, |_| true)
}

/// `items_with_summaries` of the items whose text `keep` lets through (the others are
/// not parsed for it).
fn items_with_summaries_where<'a>(
    context: &Context<'a>,
    keep: fn(&str) -> bool,
) -> impl Iterator<Item = (usize, &'a ItemAst, &'a ItemSummary)> + use<'a> {
    let (syntax, source) = (context.syntax, context.source);
    syntax.items().iter().filter_map(move |item| {
        if !keep(source.get(item.range.clone()).unwrap_or_default()) {
            return None;
        }
        let ast = item.python_ast(source)?;
        Some((item.range.start, ast, ast.summary(summarize)?))
    })
}

fn summarize(ast: &ItemAst) -> ItemSummary {
    let mut imports = Vec::new();
    let mut collector = ImportCollector {
        base: 0,
        bindings: &mut imports,
    };
    collector.visit_body(&ast.body);
    let assigned_calls = ast
        .body
        .iter()
        .filter_map(|statement| {
            let Stmt::Assign(assignment) = statement else {
                return None;
            };
            let ([Expr::Name(target)], Expr::Call(call)) =
                (assignment.targets.as_slice(), &*assignment.value)
            else {
                return None;
            };
            Some((target.id.to_string(), dotted_name_of(&call.func)?))
        })
        .collect();
    let module_calls = calls_in_scope(&ast.body)
        .into_iter()
        .filter_map(|call| {
            let last = match &*call.func {
                Expr::Name(name) => name.id.as_str(),
                Expr::Attribute(attribute) => attribute.attr.as_str(),
                _ => return None,
            };
            Some((
                last.to_string(),
                crate::syntax::python_ast::source_range(0, call),
            ))
        })
        .collect();
    ItemSummary {
        imports,
        assigned_calls,
        module_calls,
    }
}

/// `Checker::reaches`.
fn reaches(context: &Context, libraries: Libraries) -> bool {
    context.libraries.intersects(libraries)
        || libraries
            .packages()
            .any(|package| module_imports(context).imports_module(package))
}

/// Whether the module may reach one of `libraries` (`Checker::reaches` admits no
/// module this turns away): for what a rule works out once per audit (`ItemTest`), by
/// the text, which must name a package it imports.
pub fn may_reach(context: &Context, libraries: Libraries) -> bool {
    context.libraries.intersects(libraries)
        || libraries.packages().any(|package| {
            memchr::memmem::find(context.source.as_bytes(), package.as_bytes()).is_some()
        })
}

/// What each imported name of the module stands for (imports inside functions too),
/// read from every item, skipped or not (from the items' summaries): this needs no
/// memory of what skipped items held (which the tree-sitter reading of a broken item
/// may disagree with). Read once per audit.
pub fn module_imports<'c>(context: &'c Context) -> &'c Imports {
    context.ruff_imports.get_or_init(|| {
        let mut bindings = Vec::new();
        // An item without the word imports nothing: it need not be parsed for this.
        let says_import = |text: &str| memchr::memmem::find(text.as_bytes(), b"import").is_some();
        for (base, _, summary) in items_with_summaries_where(context, says_import) {
            bindings.extend(
                summary
                    .imports
                    .iter()
                    .map(|(at, local, target)| (base + at, local.clone(), target.clone())),
            );
        }
        Imports::from_bindings(bindings)
    })
}

/// What names and `self.x` attributes of the module hold (`BoundKinds`), from the
/// statements the audit covers. Read once per audit.
pub fn module_kinds<'c, 'a>(context: &'c Context<'a>) -> &'c BoundKinds<'a> {
    context.ruff_kinds.get_or_init(|| {
        let skipped = &context.coverage.skipped;
        BoundKinds::collect(
            &module_bodies(context),
            |at| {
                skipped
                    .binary_search_by_key(&at, |range| range.start)
                    .is_err()
            },
            module_imports(context),
            context.source,
            context.imported.clone(),
        )
    })
}

struct ImportCollector<'b> {
    base: usize,
    bindings: &'b mut Vec<(usize, String, String)>,
}

impl<'s> StatementVisitor<'s> for ImportCollector<'_> {
    fn visit_stmt(&mut self, statement: &'s Stmt) {
        if matches!(statement, Stmt::Import(_) | Stmt::ImportFrom(_)) {
            let at = self.base + usize::from(statement.start());
            self.bindings.extend(
                import_bindings_of(statement)
                    .into_iter()
                    .map(|(local, target)| (at, local, target)),
            );
        } else {
            walk_statements(self, statement);
        }
    }
}

/// The statements of `body` (an item's, which starts at byte `base`) that the audit
/// covers: not one it skips.
fn covered_statements<'c>(
    coverage: &'c Coverage,
    base: usize,
    body: &'c [Stmt],
) -> impl Iterator<Item = &'c Stmt> {
    body.iter().filter(move |statement| {
        let start = base + usize::from(statement.start());
        coverage.skipped.is_empty()
            || coverage
                .skipped
                .binary_search_by_key(&start, |range| range.start)
                .is_err()
    })
}

/// One enabled rule in the traversal: what it found so far, whether it failed, its
/// item test in this module, and whether the item being walked passed it.
struct Running {
    id: RuleId,
    hooks: Hooks,
    found: Vec<Finding>,
    failed: bool,
    item_test: Option<TextTest>,
    admitted: bool,
}

/// Run the rules of `rules` that read Ruff's tree over what `context` covers, in one
/// traversal. Returns each rule's findings; a rule that panics is logged (once per
/// process) and returns none, and the others carry on.
pub fn run(context: &Context, rules: RuleSet) -> Vec<(RuleId, Vec<Finding>)> {
    let mut running: Vec<Running> = rules
        .rules()
        .filter_map(|(id, rule)| match rule.check {
            Check::Ast(hooks) | Check::AstAndTree(hooks, _) => Some(Running {
                id,
                hooks,
                found: Vec::new(),
                failed: false,
                item_test: hooks
                    .item_test
                    .filter(|_| context.item_tests)
                    .and_then(|test| test(context)),
                admitted: true,
            }),
            _ => None,
        })
        .collect();
    if running.is_empty() {
        return Vec::new();
    }
    // Test builds: a source may ask a rule to panic, as a bug in it would.
    #[cfg(feature = "fault-injection")]
    if crate::audit::asks_for_faults(context.source) {
        for rule in &mut running {
            let id = rule.id.rule().id;
            let outcome = crate::audit::in_rule(|| {
                catch_unwind(|| crate::audit::inject_fault(id, context.source))
            });
            if let Err(panic) = outcome {
                crate::audit::log_rule_failure_once(id, panic.as_ref());
                rule.failed = true;
            }
        }
    }
    let checker = Checker {
        source: context.source,
        settings: context.settings,
        path: context.path,
        context,
        base: 0,
        scopes: Vec::new(),
        parents: Vec::new(),
    };
    let mut traversal = Traversal {
        checker,
        running: &mut running,
        star_try: false,
    };
    let whole = context.coverage.skipped.is_empty();
    for item in context.syntax.items() {
        let text = context.source.get(item.range.clone()).unwrap_or_default();
        // A whole audit tests an item before it is parsed. An incremental one skips most
        // items, whose trees it has: it tests only the items it walks.
        if whole && !traversal.admit(text) {
            continue;
        }
        let Some(ast) = item.python_ast(context.source) else {
            continue;
        };
        let base = item.range.start;
        let mut covered = covered_statements(context.coverage, base, &ast.body).peekable();
        if covered.peek().is_none() || (!whole && !traversal.admit(text)) {
            continue;
        }
        traversal.checker.base = base;
        for statement in covered {
            traversal.visit_stmt(statement);
        }
    }
    running
        .into_iter()
        .filter(|rule| !rule.failed)
        .map(|rule| (rule.id, rule.found))
        .collect()
}

struct Traversal<'c, 'a> {
    checker: Checker<'c, 'a>,
    running: &'c mut [Running],
    /// Inside the handlers of a `try ... except*`.
    star_try: bool,
}

impl<'c> Traversal<'c, '_> {
    /// Mark which rules' item tests let the item whose text is `item` through; whether
    /// any rule still running did.
    fn admit(&mut self, item: &str) -> bool {
        let mut any = false;
        for rule in self.running.iter_mut() {
            rule.admitted = rule.item_test.is_none_or(|admits| admits(item));
            any |= rule.admitted && !rule.failed;
        }
        any
    }

    /// Walk inside a new scope.
    fn within(&mut self, kind: ScopeKind<'c>, walk: impl FnOnce(&mut Self)) {
        self.checker.scopes.push(Scope { kind, whiles: 0 });
        walk(self);
        self.checker.scopes.pop();
    }

    /// Walk a `while` statement (its test, body and `else`), counted in its scope.
    fn in_while(&mut self, walk: impl FnOnce(&mut Self)) {
        if self.checker.scopes.is_empty() {
            self.checker.scopes.push(Scope {
                kind: ScopeKind::Module,
                whiles: 0,
            });
        }
        let scope = self.checker.scopes.len() - 1;
        self.checker.scopes[scope].whiles += 1;
        walk(self);
        self.checker.scopes[scope].whiles -= 1;
    }

    /// Walk a statement's parts, in the scopes they belong to.
    fn walk_statement(&mut self, statement: &'c Stmt) {
        match statement {
            Stmt::Try(try_statement) => {
                let outer = std::mem::replace(&mut self.star_try, try_statement.is_star);
                walk_stmt(self, statement);
                self.star_try = outer;
            }
            // Decorators are evaluated outside the definition; the rest is inside it.
            Stmt::FunctionDef(function) => {
                for decorator in &function.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.within(ScopeKind::Function(function), |traversal| {
                    traversal.dispatch(
                        |hooks| hooks.function,
                        |hook, checker, found| hook(checker, function, found),
                    );
                    if let Some(type_params) = &function.type_params {
                        traversal.visit_type_params(type_params);
                    }
                    traversal.visit_parameters(&function.parameters);
                    if let Some(returns) = &function.returns {
                        traversal.visit_annotation(returns);
                    }
                    traversal.visit_body(&function.body);
                });
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.within(ScopeKind::Class(class), |traversal| {
                    if let Some(type_params) = &class.type_params {
                        traversal.visit_type_params(type_params);
                    }
                    if let Some(arguments) = &class.arguments {
                        traversal.visit_arguments(arguments);
                    }
                    traversal.visit_body(&class.body);
                });
            }
            Stmt::While(_) => {
                self.in_while(|traversal| walk_stmt(traversal, statement));
            }
            _ => stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || walk_stmt(self, statement)),
        }
    }

    /// Hand a node to every rule with a hook for its kind (`hook` picks it).
    fn dispatch<H: Copy>(
        &mut self,
        hook: impl Fn(&Hooks) -> Option<H>,
        call: impl Fn(H, &Checker, &mut Vec<Finding>),
    ) {
        for rule in self.running.iter_mut() {
            let Some(function) = hook(&rule.hooks).filter(|_| rule.admitted && !rule.failed) else {
                continue;
            };
            let outcome = crate::audit::in_rule(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    call(function, &self.checker, &mut rule.found)
                }))
            });
            if let Err(panic) = outcome {
                crate::audit::log_rule_failure_once(rule.id.rule().id, panic.as_ref());
                rule.failed = true;
                rule.found.clear();
            }
        }
    }
}

/// Stack left when a level of the walk grows it, and by how much: an expression nests
/// once per operator, so the walk recurses as deep as the statement is long
/// (`python_ast::MAX_STATEMENT_TOKENS`), and a debug build's frames are kilobytes.
pub const STACK_RED_ZONE: usize = 128 * 1024;
pub const STACK_GROWTH: usize = 4 * 1024 * 1024;

impl<'c> Visitor<'c> for Traversal<'c, '_> {
    fn visit_stmt(&mut self, statement: &'c Stmt) {
        self.checker.parents.push(Parent::Statement(statement));
        self.walk_statement(statement);
        self.checker.parents.pop();
    }

    fn visit_expr(&mut self, expression: &'c Expr) {
        match expression {
            Expr::Call(call) => self.dispatch(
                |hooks| hooks.call,
                |hook, checker, found| hook(checker, call, found),
            ),
            Expr::StringLiteral(string) => self.dispatch(
                |hooks| hooks.string,
                |hook, checker, found| hook(checker, string, found),
            ),
            _ => {}
        }
        self.checker.parents.push(Parent::Expression(expression));
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || {
            if let Expr::Lambda(_) = expression {
                self.within(ScopeKind::Lambda, |traversal| {
                    walk_expr(traversal, expression)
                });
            } else {
                walk_expr(self, expression);
            }
        });
        self.checker.parents.pop();
    }

    fn visit_keyword(&mut self, keyword: &'c Keyword) {
        self.checker.parents.push(Parent::Keyword(keyword));
        walk_keyword(self, keyword);
        self.checker.parents.pop();
    }

    /// As `walk_parameters` (defaults first, then annotations), with each default under
    /// its parameter.
    fn visit_parameters(&mut self, parameters: &'c Parameters) {
        for parameter in parameters.iter_non_variadic_params() {
            if let Some(default) = &parameter.default {
                self.checker.parents.push(Parent::Parameter(parameter));
                self.visit_expr(default);
                self.checker.parents.pop();
            }
        }
        for parameter in parameters.iter() {
            walk_parameter(self, parameter.as_parameter());
        }
    }

    fn visit_except_handler(&mut self, handler: &'c ExceptHandler) {
        let ExceptHandler::ExceptHandler(clause) = handler;
        let star = self.star_try;
        self.dispatch(
            |hooks| hooks.except_handler,
            |hook, checker, found| hook(checker, clause, star, found),
        );
        walk_except_handler(self, handler);
    }
}
