//! ## What it does
//! Finds state shared by every request through module globals:
//! - a module-level list, dict or set (a literal, a comprehension, `list()`, `dict()`,
//!   `set()`, `defaultdict(...)`, `OrderedDict()`, `Counter()`, `deque()`) mutated inside
//!   a function: `CACHE[key] = value`, `del CACHE[key]`, `SEEN.add(x)`,
//!   `EVENTS.append(e)`, `.update()`, `.pop()`, `.clear()`, ...;
//! - a `global` statement in a request handler or in an `async def`.
//!
//! Mutations under a `with` whose context manager is a lock, and registry decorators
//! (functions that add their argument to a module list and return it, run at import
//! time) are fine.
//!
//! ## Why is this bad?
//! Module globals live as long as the worker process and are shared by every request it
//! serves, on every thread. Without a lock, concurrent updates race; a cache dict grows
//! without bound until the worker is killed for memory; and each worker process (and each
//! replica) has its own copy, so what one request stored is missing for the next one that
//! lands elsewhere. `global` in a handler or coroutine makes one request's data another's.
//!
//! ## Example
//! ```python
//! RATES = {}
//!
//! def rate_for(currency):
//!     if currency not in RATES:
//!         RATES[currency] = fetch_rate(currency)
//!     return RATES[currency]
//! ```
//!
//! ## Use instead
//! ```python
//! @functools.lru_cache(maxsize=256)
//! def rate_for(currency):
//!     return fetch_rate(currency)
//! ```
//! or keep shared state in Redis or the database, or guard it with a lock.
//!
//! ## Fix safety
//! No fix: where the state should live depends on what it is for.
//!
//! ## Known problems
//! A mutation through another name (`cache = CACHE; cache[k] = v`) or through a function
//! of another module is not followed. A global that is only mutated at start-up from a
//! function is reported.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ExprContext, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

use super::checker::{Checker, Hooks, STACK_GROWTH, STACK_RED_ZONE, module_kinds};
use super::routes::routes_of;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity, prefilter};
use crate::semantic::python::bound_kinds::ScopeKey;
use crate::semantic::python::kinds::{BindingKind, ContainerKind};

pub const RULE: Rule = Rule {
    id: "global-mutable-state",
    languages: &[Language::Python],
    default_severity: Severity::Info,
    security: false,
    fix: FixAvailability::None,
    summary: "A module-level list/dict/set mutated in functions, or `global` in a handler or coroutine",
    // Every module has an `=`: as a trigger word it spared no parse and cost the word
    // scan a match per assignment. The text test does the filtering.
    triggers: &[],
    python_triggers: None,
    text_test: Some(may_share_state),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        function: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS
        .and(Projections::MUTABLE_GLOBALS)
        .and(Projections::ROUTERS),
};

const MUTATORS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "update",
    "add",
    "discard",
    "setdefault",
    "popitem",
    "appendleft",
    "extendleft",
    "popleft",
    "sort",
    "reverse",
    "__setitem__",
    "__delitem__",
];

/// Container values a module-level assignment may start with.
const CONTAINER_STARTS: &[&str] = &[
    "[",
    "{",
    "set",
    "dict",
    "list",
    "defaultdict",
    "OrderedDict",
    "Counter",
    "deque",
    "collections",
];

/// Whether the text may hold a finding: a `global` statement, or a statement at column 0
/// that assigns something starting like a container (`X = {}`, `X: T = []`,
/// `X = dict()`) to a name that is followed by a dot or a subscript anywhere (a mutation
/// is `X.append(...)`, `X[k] = v` or `del X[k]`; a function above the assignment runs
/// after it).
fn may_share_state(text: &str) -> bool {
    if crate::rules::prefilter::contains(text, "global") {
        return true;
    }
    // `split_inclusive('\n')`, with the SIMD search for line breaks.
    let mut start = 0;
    let mut lines = std::iter::from_fn(|| {
        let rest = text.get(start..).filter(|rest| !rest.is_empty())?;
        let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |at| at + 1);
        start += end;
        Some(&rest[..end])
    });
    while let Some(line) = lines.next() {
        if line.starts_with(|c: char| c.is_whitespace() || c == '#') {
            continue;
        }
        // The statement, with the lines its trailing backslashes continue it onto (most
        // have none: no copy).
        let mut statement = std::borrow::Cow::Borrowed(line);
        while statement.trim_end().ends_with('\\') {
            let Some(next) = lines.next() else { break };
            statement.to_mut().push_str(next);
        }
        if !statement.contains('=') {
            continue;
        }
        let assigns_container = statement.match_indices('=').any(|(at, _)| {
            let before = statement[..at].chars().last();
            let after = statement[at + 1..].chars().next();
            let is_assignment =
                !matches!(before, Some('=' | '<' | '>' | '!' | ':')) && after != Some('=');
            is_assignment && {
                let value = prefilter::after_gap(&statement, at + 1);
                CONTAINER_STARTS
                    .iter()
                    .any(|start| value.starts_with(start))
            }
        });
        let name_length = statement
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(statement.len());
        // Several statements on the line: the first name is not necessarily the one.
        if assigns_container && statement.contains(';') {
            return true;
        }
        if assigns_container && name_length > 0 {
            let name = &statement[..name_length];
            if used_as_container(text, name) {
                return true;
            }
        }
    }
    false
}

/// `name` followed by a dot or a bracket somewhere in `text`.
fn used_as_container(text: &str, name: &str) -> bool {
    prefilter::places_of(text, name).any(|start| {
        let end = start + name.len();
        let whole_word = !text[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            && !text[end..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        whole_word && prefilter::after_gap(text, end).starts_with(['.', '['])
    })
}

/// The module-level names bound to mutable containers, worked out once per audit.
struct Containers(Vec<(String, ContainerKind)>);

fn check<'c>(
    checker: &Checker<'c, '_>,
    function: &'c StmtFunctionDef,
    findings: &mut Vec<Finding>,
) {
    let handler = !routes_of(checker, function).is_empty();
    let shares_globals = handler || function.is_async;
    let mut walk = FunctionWalk {
        locks_around: 0,
        globals: Vec::new(),
        declared_global: Vec::new(),
        mutations: Vec::new(),
        locals: function
            .parameters
            .iter()
            .map(|parameter| parameter.name().as_str())
            .collect(),
    };
    walk.visit_body(&function.body);
    if shares_globals {
        let place = if handler {
            "a request handler"
        } else {
            "a coroutine"
        };
        for statement in &walk.globals {
            findings.push(RULE.finding(
                checker.range(*statement),
                format!(
                    "`{}` in {place}: every request shares and overwrites this value",
                    checker.text(*statement)
                ),
            ));
        }
    }
    if returns_first_parameter(function) {
        return; // a registry decorator: `def register(fn): HANDLERS.append(fn); return fn`
    }
    let is_local =
        |name: &str| walk.locals.contains(&name) && !walk.declared_global.contains(&name);
    if walk.mutations.iter().all(|(name, _, _)| is_local(name)) {
        return;
    }
    // What module-level names hold is read from every binding of the module: only
    // once a function mutates a name it does not bind.
    let context = checker.context();
    let containers = context.memo(|| {
        Containers(
            module_kinds(context)
                .kinds_bound_in(ScopeKey::MODULE)
                .into_iter()
                .filter_map(|(name, kind)| match kind {
                    BindingKind::Container(container) => Some((name.to_string(), container)),
                    _ => None,
                })
                .collect(),
        )
    });
    let mut reported: Vec<&str> = Vec::new();
    for (name, at, under_lock) in walk.mutations {
        let Some((_, kind)) = containers.0.iter().find(|(container, _)| container == name) else {
            continue;
        };
        if is_local(name) || under_lock || reported.contains(&name) {
            continue;
        }
        reported.push(name);
        findings.push(RULE.finding(
            checker.range(&at),
            format!(
                "`{name}` is a module-level {} mutated in `{}`: every request and thread shares it, it grows for the life of the process, and each worker has its own copy",
                kind.as_str(),
                function.name.as_str()
            ),
        ));
    }
}

/// What one function's own scope does with module-level names, in source order.
struct FunctionWalk<'t> {
    /// How many `with <lock>:` blocks hold the node being read.
    locks_around: usize,
    globals: Vec<&'t Stmt>,
    declared_global: Vec<&'t str>,
    /// The name a node mutates, where that node is, and whether a lock is held there.
    mutations: Vec<(&'t str, TextRange, bool)>,
    /// Parameters and names the function binds.
    locals: Vec<&'t str>,
}

impl<'t> Visitor<'t> for FunctionWalk<'t> {
    fn visit_stmt(&mut self, statement: &'t Stmt) {
        let mutated = match statement {
            // Scopes of their own: what runs here is their decorators, and no more is
            // read of them.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            Stmt::Global(global) => {
                self.globals.push(statement);
                self.declared_global
                    .extend(global.names.iter().map(|name| name.as_str()));
                None
            }
            Stmt::Assign(assignment) => assignment.targets.first().and_then(subscripted_name),
            Stmt::AugAssign(assignment) => subscripted_name(&assignment.target),
            Stmt::Delete(delete) => delete.targets.first().and_then(subscripted_name),
            _ => None,
        };
        if let Some(name) = mutated {
            self.mutations
                .push((name, statement.range(), self.locks_around > 0));
        }
        let locking = match statement {
            Stmt::With(with) => with.items.iter().any(|item| {
                let text = expression_names(&item.context_expr).to_ascii_lowercase();
                ["lock", "mutex", "semaphore"]
                    .iter()
                    .any(|word| text.contains(word))
            }),
            _ => false,
        };
        self.locks_around += usize::from(locking);
        walk_stmt(self, statement);
        self.locks_around -= usize::from(locking);
    }

    fn visit_expr(&mut self, expression: &'t Expr) {
        match expression {
            Expr::Lambda(_) => return,
            Expr::Name(name) if name.ctx == ExprContext::Store => {
                self.locals.push(name.id.as_str());
            }
            Expr::Call(call) => {
                if let Expr::Attribute(method) = &*call.func
                    && let Expr::Name(object) = &*method.value
                    && MUTATORS.contains(&method.attr.as_str())
                {
                    self.mutations.push((
                        object.id.as_str(),
                        expression.range(),
                        self.locks_around > 0,
                    ));
                }
            }
            _ => {}
        }
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || walk_expr(self, expression));
    }
}

/// `NAME` of a target `NAME[key]`.
fn subscripted_name(target: &Expr) -> Option<&str> {
    match target {
        Expr::Subscript(subscript) => match &*subscript.value {
            Expr::Name(name) => Some(name.id.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// The names and attribute names of an expression, joined (`self._lock.acquire`), as a
/// `with` item's locking is judged by them. A loop: chains can be thousands long.
fn expression_names(expression: &Expr) -> String {
    let mut parts = Vec::new();
    let mut current = expression;
    loop {
        current = match current {
            Expr::Name(name) => {
                parts.push(name.id.as_str());
                break;
            }
            Expr::Attribute(attribute) => {
                parts.push(attribute.attr.as_str());
                &attribute.value
            }
            Expr::Call(call) => &call.func,
            Expr::Await(awaited) => &awaited.value,
            _ => break,
        };
    }
    parts.reverse();
    parts.join(".")
}

/// A registry decorator: `def register(fn): HANDLERS.append(fn); return fn`.
fn returns_first_parameter(function: &StmtFunctionDef) -> bool {
    let parameters = &function.parameters;
    let Some(first) = parameters.posonlyargs.iter().chain(&parameters.args).next() else {
        return false;
    };
    matches!(
        function.body.last(),
        Some(Stmt::Return(ruff_python_ast::StmtReturn { value: Some(value), .. }))
            if matches!(&**value, Expr::Name(name) if name.id.as_str() == first.parameter.name.as_str())
    )
}
