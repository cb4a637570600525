//! What an `except` clause catches and what its body does with the error: shared by the
//! rules about swallowed, broad and silent handlers. Reads the tree only.

use ruff_python_ast::ExceptHandlerExceptHandler;
use tree_sitter::Node;

use super::checker::Checker;

use super::{ModuleFacts, ensure_module_import};
use crate::rules::{
    Edit, any_in_tree, indentation_at, line_start, named_children, newline_of, node_text,
};
use crate::semantic::python::imports::{Imports, qualified_name};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

/// Calls that report an error somewhere a person will see it: logging methods
/// (`logger.exception`, `logging.error`, `log.warning`, ...), Sentry's capture
/// functions, `traceback.print_exc` and `warnings.warn`.
const REPORTING_CALLS: &[&str] = &[
    "exception",
    "error",
    "warning",
    "warn",
    "critical",
    "fatal",
    "log",
    "info",
    "debug",
    "capture_exception",
    "capture_message",
    "print_exc",
    "print_exception",
];

/// Calls that end the process or the request, so nothing is swallowed.
const TERMINATING_CALLS: &[&str] = &["exit", "_exit", "abort"];

pub struct Handler<'t> {
    pub clause: Node<'t>,
    /// What the clause names (`ValueError`, a tuple, ...); `None` for a bare `except:`.
    pub caught: Option<Node<'t>>,
    /// `e` in `except ValueError as e`.
    pub bound: Option<Node<'t>>,
    pub body: Node<'t>,
}

impl<'t> Handler<'t> {
    pub fn of(clause: Node<'t>) -> Option<Handler<'t>> {
        let children = named_children(clause);
        let body = children
            .iter()
            .rev()
            .find(|child| child.python_kind() == Kind::Block)
            .copied()?;
        let value = clause.field(Field::Value);
        let (caught, bound) = match value {
            Some(pattern) if pattern.python_kind() == Kind::AsPattern => {
                let alias = pattern.field(Field::Alias);
                let bound = alias.and_then(|alias| alias.named_child(0).or(Some(alias)));
                (pattern.named_child(0), bound)
            }
            Some(value) => (Some(value), None),
            None => (None, None),
        };
        Some(Handler {
            clause,
            caught,
            bound,
            body,
        })
    }

    /// The `except ...` header, where findings point.
    pub fn header_range(&self) -> std::ops::Range<usize> {
        let start = self.clause.start_byte();
        let end = self
            .clause
            .field(Field::Value)
            .map_or(start + "except".len(), |value| value.end_byte());
        start..end.min(self.body.start_byte()).max(start)
    }

    /// The exception types the clause names, flattened out of a tuple.
    pub fn caught_types(&self) -> Vec<Node<'t>> {
        match self.caught {
            Some(tuple)
                if matches!(
                    tuple.python_kind(),
                    Kind::Tuple | Kind::ParenthesizedExpression
                ) =>
            {
                named_children(tuple)
                    .into_iter()
                    .filter(|child| child.python_kind() != Kind::Comment)
                    .collect()
            }
            Some(single) => vec![single],
            None => Vec::new(),
        }
    }

    /// `except:` and nothing else (no type; not broken code with junk before the colon,
    /// which the prefilter relies on).
    pub fn is_bare(&self, source: &str) -> bool {
        let keyword = self
            .clause
            .child(0)
            .filter(|keyword| keyword.python_kind() == Kind::ExceptKeyword);
        self.caught.is_none()
            && keyword.is_some_and(|keyword| {
                crate::rules::prefilter::after_gap(source, keyword.end_byte()).starts_with(':')
            })
    }

    /// Bare, or naming `Exception`/`BaseException`: catches errors the code did not plan for.
    pub fn is_broad(&self, source: &str, imports: &Imports) -> bool {
        self.is_bare(source)
            || self.caught_types().into_iter().any(|caught| {
                qualified_name(caught, source, imports).is_some_and(|name| {
                    matches!(
                        name.as_str(),
                        "Exception"
                            | "BaseException"
                            | "builtins.Exception"
                            | "builtins.BaseException"
                    )
                })
            })
    }

    /// The body's statements, without comments.
    pub fn statements(&self) -> Vec<Node<'t>> {
        named_children(self.body)
            .into_iter()
            .filter(|statement| statement.python_kind() != Kind::Comment)
            .collect()
    }

    /// The body only says "ignore it": `pass`, `continue`, `...` (and nothing else).
    pub fn only_ignores(&self) -> bool {
        self.statements()
            .iter()
            .all(|statement| match statement.python_kind() {
                Kind::PassStatement | Kind::ContinueStatement => true,
                Kind::ExpressionStatement => statement
                    .named_child(0)
                    .is_some_and(|expression| expression.python_kind() == Kind::Ellipsis),
                _ => false,
            })
    }

    /// The body raises, reports the error (a logging call, Sentry, a traceback), uses the
    /// bound exception, or ends the process.
    pub fn handles_error(&self, source: &str) -> bool {
        let bound = self.bound.map(|bound| node_text(bound, source));
        any_in_tree(self.body, |node| match node.python_kind() {
            Kind::RaiseStatement => true,
            Kind::Identifier => bound.is_some_and(|bound| node_text(node, source) == bound),
            Kind::Call => called_name(node, source).is_some_and(|name| {
                REPORTING_CALLS.contains(&name) || TERMINATING_CALLS.contains(&name)
            }),
            _ => false,
        })
    }
}

/// The name of the innermost `def` around `node`.
pub fn enclosing_function_name<'s>(
    facts: &ModuleFacts,
    node: Node,
    source: &'s str,
) -> Option<&'s str> {
    let ancestors = facts.ancestry.ancestors(node);
    let function = ancestors
        .iter()
        .rev()
        .find(|ancestor| ancestor.python_kind() == Kind::FunctionDefinition)?;
    Some(node_text(function.field(Field::Name)?, source))
}

/// The last name of a call's callee: `exception` for `logger.exception(...)`.
pub fn called_name<'s>(call: Node, source: &'s str) -> Option<&'s str> {
    let function = call.field(Field::Function)?;
    let name = match function.python_kind() {
        Kind::Attribute => function.field(Field::Attribute)?,
        Kind::Identifier => function,
        _ => return None,
    };
    Some(node_text(name, source))
}

/// A call that logs the current exception with its traceback, for a fix, and the edit
/// that imports `logging` when the module has no logger of its own.
pub fn log_exception_call(
    facts: &ModuleFacts,
    source: &str,
    message: &str,
) -> (String, Option<Edit>) {
    let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
    let top_level = facts.ancestry.top_level();
    if let Some(logger) = module_logger(top_level, source, &facts.semantic.imports) {
        return (format!("{logger}.exception(\"{escaped}\")"), None);
    }
    let (logging, import) =
        ensure_module_import(top_level, source, &facts.semantic.imports, "logging");
    (format!("{logging}.exception(\"{escaped}\")"), import)
}

/// The calls that make a module's logger.
pub const LOGGER_FACTORIES: &[&str] = &[
    "logging.getLogger",
    "structlog.get_logger",
    "structlog.getLogger",
];

/// A module-level name bound to `logging.getLogger(...)` (or structlog's `get_logger`),
/// or loguru's `logger` imported by name.
pub fn module_logger<'s>(
    top_level: &[Node],
    source: &'s str,
    imports: &'s Imports,
) -> Option<&'s str> {
    if imports.resolve("logger") == Some("loguru.logger") {
        return Some("logger");
    }
    top_level.iter().rev().find_map(|&statement| {
        let assignment = statement
            .named_child(0)
            .filter(|_| statement.python_kind() == Kind::ExpressionStatement)?;
        if assignment.python_kind() != Kind::Assignment {
            return None;
        }
        let target = assignment
            .field(Field::Left)
            .filter(|left| left.python_kind() == Kind::Identifier)?;
        let value = assignment
            .field(Field::Right)
            .filter(|right| right.python_kind() == Kind::Call)?;
        let factory = qualified_name(value.field(Field::Function)?, source, imports)?;
        LOGGER_FACTORIES
            .contains(&factory.as_str())
            .then(|| node_text(target, source))
    })
}

/// The edit that makes `log_call` the handler's first statement (in place of a lone
/// `pass` or `...`).
pub fn log_first(handler: &Handler, log_call: &str, source: &str) -> Option<Edit> {
    let statements = handler.statements();
    let first: Node = *statements.first()?;
    let lone_placeholder = statements.len() == 1
        && (first.python_kind() == Kind::PassStatement
            || (first.python_kind() == Kind::ExpressionStatement
                && first
                    .named_child(0)
                    .is_some_and(|e| e.python_kind() == Kind::Ellipsis)));
    if lone_placeholder {
        return Some(Edit::replace(first.byte_range(), log_call));
    }
    let same_line_as_header =
        line_start(source, first.start_byte()) == line_start(source, handler.clause.start_byte());
    if same_line_as_header {
        return Some(Edit::insert(first.start_byte(), format!("{log_call}; ")));
    }
    let indentation = indentation_at(source, first.start_byte());
    let before = source.get(line_start(source, first.start_byte())..first.start_byte())?;
    if !before.trim().is_empty() {
        return None; // something else shares the line: leave it to the user
    }
    Some(Edit::insert(
        first.start_byte(),
        format!("{log_call}{}{indentation}", newline_of(source)),
    ))
}

/// Whether the text may have a bare `except:` (any spacing before the colon).
pub fn mentions_bare_except(text: &str) -> bool {
    text.match_indices("except").any(|(at, _)| {
        crate::rules::prefilter::after_gap(text, at + "except".len()).starts_with(':')
    })
}

/// The safe fix that logs the caught exception first thing in the handler:
/// `<logger>.exception("<what> in <function>")`, importing `logging` when the module has
/// no logger of its own.
pub fn log_exception_fix(
    handler: &Handler,
    facts: &ModuleFacts,
    source: &str,
    what: &str,
) -> Option<crate::rules::Fix> {
    let place = enclosing_function_name(facts, handler.clause, source)
        .map(|name| format!(" in {name}"))
        .unwrap_or_default();
    let (log_call, import) = log_exception_call(facts, source, &format!("{what}{place}"));
    let edit = log_first(handler, &log_call, source)?;
    let logger = log_call.split('(').next().unwrap_or("logging.exception");
    Some(crate::rules::Fix::safe(
        format!("Log the error with `{logger}`"),
        import.into_iter().chain([edit]).collect(),
    ))
}

/// The `except ...` header of a clause of Ruff's tree, where findings point: from the
/// keyword to the end of what it names (a closing parenthesis too, which Ruff's range of
/// a parenthesized name leaves out), or the keyword alone.
pub fn header_range(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
) -> std::ops::Range<usize> {
    let start = checker.range(clause).start;
    let named = clause
        .name
        .as_ref()
        .map(|name| checker.range(name).end)
        .or_else(|| {
            clause
                .type_
                .as_deref()
                .map(|caught| checker.range(caught).end)
        });
    let Some(mut end) = named else {
        return start..start + "except".len();
    };
    while let Some(rest) = checker.source.get(end..) {
        let after = rest.trim_start();
        if !after.starts_with(')') {
            break;
        }
        end += rest.len() - after.len() + 1;
    }
    let body = clause
        .body
        .first()
        .map_or(end, |first| checker.range(first).start);
    start..end.min(body).max(start)
}
