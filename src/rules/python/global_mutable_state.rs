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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::web::routes_of;
use super::{is_async_function, local_bindings, walk_local_scope};
use crate::language::Language;
use crate::rules::{
    Check, Context, Finding, FixAvailability, Rule, Severity, node_text, prefilter,
};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "global-mutable-state",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A module-level list/dict/set mutated in functions, or `global` in a handler or coroutine",
    triggers: &["global", "="],
    text_test: Some(may_share_state),
    check: Check::Tree(check),
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
    if text.contains("global") {
        return true;
    }
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.starts_with(|c: char| c.is_whitespace() || c == '#') {
            continue;
        }
        // The statement, with the lines its trailing backslashes continue it onto.
        let mut statement = line.to_string();
        while statement.trim_end().ends_with('\\') {
            let Some(next) = lines.next() else { break };
            statement.push_str(next);
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
    text.match_indices(name).any(|(start, _)| {
        let end = start + name.len();
        let whole_word = !text[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            && !text[end..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        whole_word && prefilter::after_gap(text, end).starts_with(['.', '['])
    })
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    let containers = facts.semantic.module_containers(context.root());
    if containers.is_empty() && !source.contains("global") {
        return;
    }
    let routers = context.routers();
    let handlers: std::collections::HashSet<usize> = context
        .top_level()
        .iter()
        .flat_map(|definition| routes_of(*definition, routers, source))
        .map(|route| route.function.id())
        .collect();
    for &function in &facts.functions {
        let handler = handlers.contains(&function.id());
        let asynchronous = is_async_function(function);
        let locals = local_bindings(function, source);
        let mut reported: Vec<String> = Vec::new();
        let returns_parameter = returns_first_parameter(function, source);
        walk_local_scope(function, |node| {
            if node.python_kind() == Kind::GlobalStatement && (handler || asynchronous) {
                let place = if handler {
                    "a request handler"
                } else {
                    "a coroutine"
                };
                findings.push(RULE.finding(
                    node.byte_range(),
                    format!(
                        "`{}` in {place}: every request shares and overwrites this value",
                        node_text(node, source)
                    ),
                ));
                return;
            }
            let Some(name) = mutated_global(node, source) else {
                return;
            };
            let Some((_, kind)) = containers.iter().find(|(container, _)| *container == name)
            else {
                return;
            };
            if locals.iter().any(|local| local == name)
                || reported.iter().any(|done| done == name)
                || returns_parameter
                || under_lock(node, function, source)
            {
                return;
            }
            reported.push(name.to_string());
            let function_name = function
                .field(Field::Name)
                .map_or("", |name| node_text(name, source));
            findings.push(RULE.finding(
                node.byte_range(),
                format!(
                    "`{name}` is a module-level {} mutated in `{function_name}`: every request and thread shares it, it grows for the life of the process, and each worker has its own copy",
                    kind.as_str()
                ),
            ));
        });
    }
}

/// The global a node mutates: `NAME.append(...)`, `NAME[k] = v`, `NAME[k] += v`,
/// `del NAME[k]`.
fn mutated_global<'s>(node: Node, source: &'s str) -> Option<&'s str> {
    let subscripted = |target: Node| -> Option<&'s str> {
        (target.python_kind() == Kind::Subscript)
            .then(|| target.field(Field::Value))
            .flatten()
            .filter(|value| value.python_kind() == Kind::Identifier)
            .map(|value| node_text(value, source))
    };
    match node.python_kind() {
        Kind::Call => {
            let function = node
                .field(Field::Function)
                .filter(|f| f.python_kind() == Kind::Attribute)?;
            let object = function
                .field(Field::Object)
                .filter(|o| o.python_kind() == Kind::Identifier)?;
            let method = node_text(function.field(Field::Attribute)?, source);
            MUTATORS
                .contains(&method)
                .then(|| node_text(object, source))
        }
        Kind::Assignment | Kind::AugmentedAssignment => subscripted(node.field(Field::Left)?),
        Kind::DeleteStatement => subscripted(node.named_child(0)?),
        _ => None,
    }
}

/// A registry decorator: `def register(fn): HANDLERS.append(fn); return fn`.
fn returns_first_parameter(function: Node, source: &str) -> bool {
    let Some(first) = function
        .field(Field::Parameters)
        .and_then(|parameters| parameters.named_child(0))
        .filter(|parameter| parameter.python_kind() == Kind::Identifier)
    else {
        return false;
    };
    let parameter = node_text(first, source);
    let Some(last) = function.field(Field::Body).and_then(|body| {
        let count = body.named_child_count();
        body.named_child(u32::try_from(count.checked_sub(1)?).ok()?)
    }) else {
        return false;
    };
    last.python_kind() == Kind::ReturnStatement
        && last
            .named_child(0)
            .is_some_and(|value| node_text(value, source) == parameter)
}

/// Inside `with <...lock...>:` within the function.
fn under_lock(node: Node, function: Node, source: &str) -> bool {
    let mut current = node.parent();
    while let Some(ancestor) = current {
        if ancestor.id() == function.id() {
            return false;
        }
        if ancestor.python_kind() == Kind::WithStatement {
            let header = node_text(ancestor, source)
                .lines()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if header.contains("lock") || header.contains("mutex") || header.contains("semaphore") {
                return true;
            }
        }
        current = ancestor.parent();
    }
    false
}
