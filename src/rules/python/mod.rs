//! Python rules and the helpers they share: name resolution through imports, scopes,
//! statements and call arguments. Helpers read the tree only; they never report.

pub mod bind_all_interfaces;
pub mod blocking_io_in_async;
pub mod broad_except;
pub mod checker;
pub mod cors_wildcard_credentials;
pub mod db_pool_without_timeout;
pub mod debug_in_production;
pub mod exceptions;
pub mod file_kind;
pub mod fk_without_index;
pub mod global_mutable_state;
pub mod hardcoded_secret;
pub mod header;
pub mod helpers;
pub mod http_without_timeout;
pub mod import_inside_function;
pub mod missing_auth_dependency;
pub mod missing_rollback;
pub mod module_scope;
pub mod n_plus_one_query;
pub mod pubsub_without_reconnect;
pub mod redis_client_without_timeout;
pub mod redis_key_without_ttl;
pub mod redis_keys_command;
pub mod redis_race_condition;
pub mod redis_silent_failure;
pub mod routes;
pub mod session_shared_across_requests;
pub mod sleep_in_test;
pub mod sql;
pub mod sql_injection;
pub mod sql_syntax_in_python;
pub mod stdlib;
pub mod swallowed_exception;
pub mod type_ignore_without_reason;
pub mod web;

use tree_sitter::Node;

use super::ancestry::Ancestry;
use super::{Coverage, indentation_at, line_end, line_start, node_text, walk_tree};
use crate::semantic::python::definitions::definition_of;
use crate::semantic::python::imports::{Imports, import_bindings};
use crate::semantic::python::{Scopes, SemanticModel};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

/// What the Python rules need to know about a whole module, collected once per audit
/// by a single walk over the tree (each tree-sitter traversal or query costs a full
/// pass, ~7 ms on a 5,000-line module, so rules share one instead of one each). The
/// walk hands each node to the list of its kind that rules read (calls, `except`
/// clauses, strings, functions) and builds the semantic model (imports among it); a rule reads
/// those lists, never the whole module again.
pub struct ModuleFacts<'t> {
    /// What names are imported as and what each scope binds them to.
    pub semantic: SemanticModel<'t>,
    pub ancestry: Ancestry<'t>,
    /// Every call in the module, in source order.
    pub calls: Vec<CallSite<'t>>,
    /// Every `except` clause, in source order.
    pub handlers: Vec<Node<'t>>,
    /// Every string literal (f-strings and parts of concatenations too), in source order.
    pub strings: Vec<Node<'t>>,
    /// Every `def` (methods and nested functions too), in source order.
    pub functions: Vec<Node<'t>>,
}

/// A call and the context the walk knew it in.
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'t> {
    pub call: Node<'t>,
    pub parent: Node<'t>,
    /// The innermost `def`, `lambda` or `class` around the call (`None` at module level).
    pub scope: Option<Node<'t>>,
}

impl CallSite<'_> {
    /// `receiver.method(...)`: the method's name, when the callee is an attribute.
    pub fn method<'s>(&self, source: &'s str) -> Option<&'s str> {
        let function = self.call.field(Field::Function)?;
        (function.python_kind() == Kind::Attribute).then_some(())?;
        Some(node_text(function.field(Field::Attribute)?, source))
    }

    pub fn receiver(&self) -> Option<Node<'_>> {
        self.call.field(Field::Function)?.field(Field::Object)
    }
}

impl<'t> ModuleFacts<'t> {
    pub fn collect(syntax: &'t crate::syntax::Syntax, source: &str) -> ModuleFacts<'t> {
        ModuleFacts::collect_partial(syntax.root(), &syntax.top_level(), source, Coverage::WHOLE)
    }

    /// Facts of the statements `coverage` does not skip, plus the imports it remembers
    /// of the skipped ones (imports anywhere count module-wide).
    pub fn collect_partial(
        root: Node<'t>,
        top_level: &[Node<'t>],
        source: &str,
        coverage: &Coverage,
    ) -> ModuleFacts<'t> {
        let mut import_statements = Vec::new();
        let mut binding_sites = Vec::new();
        let mut calls = Vec::new();
        let mut handlers = Vec::new();
        let mut strings = Vec::new();
        let mut functions = Vec::new();
        let mut bindings_by_scope = crate::semantic::python::ScopedBindings::default();
        let skip = |node: Node| !coverage.skipped.is_empty() && coverage.skips(node);
        walk_with_scopes(root, top_level, skip, |node, parent, scopes| {
            if matches!(node.python_kind(), Kind::Assignment | Kind::AsPattern) {
                bindings_by_scope.record(node, scopes.last().copied().unwrap_or(root), source);
            }
            match node.python_kind() {
                Kind::ImportStatement | Kind::ImportFromStatement => import_statements.push(node),
                Kind::Assignment
                | Kind::WithItem
                | Kind::TypedParameter
                | Kind::TypedDefaultParameter => {
                    binding_sites.push((node, Scopes::from_stack(scopes, root)));
                }
                Kind::ExceptClause => handlers.push(node),
                Kind::String => strings.push(node),
                Kind::FunctionDefinition => functions.push(node),
                Kind::Call => {
                    if let Some(parent) = parent {
                        calls.push(CallSite {
                            call: node,
                            parent,
                            scope: scopes.last().copied(),
                        });
                    }
                }
                _ => {}
            }
        });
        let mut bindings: Vec<(usize, String, String)> = import_statements
            .iter()
            .flat_map(|statement| {
                import_bindings(*statement, source)
                    .into_iter()
                    .map(|(local, target)| (statement.start_byte(), local, target))
            })
            .collect();
        bindings.extend(coverage.remembered_imports.iter().cloned());
        // Stable: the bindings of one statement keep their order.
        bindings.sort_by_key(|(position, _, _)| *position);
        let imports = Imports::from_bindings(bindings);
        ModuleFacts {
            semantic: SemanticModel::new(
                imports,
                bindings_by_scope,
                &binding_sites,
                top_level,
                source,
            ),
            ancestry: Ancestry::with_top_level(root, top_level.to_vec()),
            calls,
            handlers,
            strings,
            functions,
        }
    }
}

impl<'t> ModuleFacts<'t> {
    /// The calls made at module level outside definitions (not in a decorator, a
    /// class's bases or a body), in source order. `top_level` is the module's.
    pub fn module_level_calls(&self, top_level: &[Node<'t>]) -> Vec<Node<'t>> {
        let definitions: Vec<std::ops::Range<usize>> = top_level
            .iter()
            .filter(|statement| definition_of(**statement).is_some())
            .map(|statement| statement.byte_range())
            .collect();
        let in_definition = |at: usize| {
            let index = definitions.partition_point(|range| range.end <= at);
            definitions
                .get(index)
                .is_some_and(|range| range.start <= at)
        };
        self.calls
            .iter()
            .filter(|site| site.scope.is_none() && !in_definition(site.call.start_byte()))
            .map(|site| site.call)
            .collect()
    }

    /// `walk_local_scope_in` for a scope that may be the module: a module's statements
    /// stand in several items (`syntax`), so its scope is walked statement by statement.
    pub fn walk_scope_in(
        &self,
        scope: Node<'t>,
        bytes: std::ops::Range<usize>,
        mut visit: impl FnMut(Node<'t>),
    ) {
        if scope.id() != self.ancestry.root().id() {
            return walk_local_scope_in(scope, bytes, visit);
        }
        visit(scope);
        for &statement in self.ancestry.top_level() {
            let nested_scope = matches!(
                statement.python_kind(),
                Kind::FunctionDefinition | Kind::Lambda | Kind::ClassDefinition
            );
            if !nested_scope
                && statement.end_byte() >= bytes.start
                && statement.start_byte() < bytes.end
            {
                walk_local_scope_in(statement, bytes.clone(), &mut visit);
            }
        }
    }

    /// `walk_local_scope` for a scope that may be the module (see `walk_scope_in`).
    pub fn walk_scope(&self, scope: Node<'t>, visit: impl FnMut(Node<'t>)) {
        self.walk_scope_in(scope, 0..usize::MAX, visit);
    }
}

/// Pre-order walk that tells `visit` each node's parent and the `def`/`lambda`/`class`
/// nodes around it, outermost first. Iterative (deep nesting must not overflow the stack).
/// `top_level` are the root's children (callers already have them: listing them again
/// costs a cursor step per statement); those for which `skip_top_level` is true are
/// neither visited nor entered.
pub fn walk_with_scopes<'t>(
    root: Node<'t>,
    top_level: &[Node<'t>],
    skip_top_level: impl Fn(Node<'t>) -> bool,
    mut visit: impl FnMut(Node<'t>, Option<Node<'t>>, &[Node<'t>]),
) {
    visit(root, None, &[]);
    // `path[d]` is the node at depth `d` on the way down; scopes carry their depth.
    let mut path: Vec<Node<'t>> = Vec::new();
    let mut scopes: Vec<(usize, Node<'t>)> = Vec::new();
    let mut scope_nodes: Vec<Node<'t>> = Vec::new();
    for &statement in top_level {
        if skip_top_level(statement) {
            continue;
        }
        path.clear();
        path.push(root);
        scopes.clear();
        scope_nodes.clear();
        let mut cursor = statement.walk();
        let mut depth = 1;
        'statement: loop {
            let node = cursor.node();
            path.truncate(depth);
            while scopes
                .last()
                .is_some_and(|(scope_depth, _)| *scope_depth >= depth)
            {
                scopes.pop();
                scope_nodes.pop();
            }
            visit(node, path.last().copied(), &scope_nodes);
            path.push(node);
            if matches!(
                node.python_kind(),
                Kind::FunctionDefinition | Kind::Lambda | Kind::ClassDefinition
            ) {
                scopes.push((depth, node));
                scope_nodes.push(node);
            }
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            loop {
                if depth == 1 {
                    break 'statement; // back at the statement: its subtree is done
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    break 'statement;
                }
                depth -= 1;
            }
        }
    }
}

pub fn is_async_function(function: Node) -> bool {
    function.python_kind() == Kind::FunctionDefinition
        && function
            .child(0)
            .is_some_and(|first| first.python_kind() == Kind::AsyncKeyword)
}

// The helpers below take a node's `ancestors` (outermost first, from `Ancestry`)
// instead of climbing with `Node::parent`, which is slow on wide trees.

/// Where local names live: the innermost function among `ancestors`, else the module.
pub fn enclosing_scope<'t>(ancestors: &[Node<'t>]) -> Option<Node<'t>> {
    let function = ancestors
        .iter()
        .rev()
        .find(|node| node.python_kind() == Kind::FunctionDefinition);
    function.or(ancestors.first()).copied()
}

pub fn enclosing_class<'t>(ancestors: &[Node<'t>]) -> Option<Node<'t>> {
    ancestors
        .iter()
        .rev()
        .find(|node| node.python_kind() == Kind::ClassDefinition)
        .copied()
}

/// The simple statement that holds `node` (the child of a `block` or `module`).
pub fn statement_of<'t>(node: Node<'t>, ancestors: &[Node<'t>]) -> Option<Node<'t>> {
    let container = ancestors
        .iter()
        .rposition(|ancestor| matches!(ancestor.python_kind(), Kind::Block | Kind::Module))?;
    Some(ancestors.get(container + 1).copied().unwrap_or(node))
}

/// Visit `scope` (a function or the module) and everything in it except the bodies of
/// nested functions, lambdas and classes, which have scopes of their own.
pub fn walk_local_scope<'t>(scope: Node<'t>, visit: impl FnMut(Node<'t>)) {
    walk_local_scope_from(scope, 0, visit);
}

/// `walk_local_scope`, skipping subtrees that end before byte `from`.
pub fn walk_local_scope_from<'t>(scope: Node<'t>, from: usize, visit: impl FnMut(Node<'t>)) {
    walk_local_scope_in(scope, from..usize::MAX, visit);
}

/// `walk_local_scope`, skipping subtrees that lie wholly outside `bytes`.
pub fn walk_local_scope_in<'t>(
    scope: Node<'t>,
    bytes: std::ops::Range<usize>,
    mut visit: impl FnMut(Node<'t>),
) {
    // A module node holds one item only: its scope is walked through `ModuleFacts`.
    debug_assert!(
        scope.python_kind() != Kind::Module,
        "walk the module's scope with ModuleFacts::walk_scope_in"
    );
    let mut stack = vec![scope];
    while let Some(node) = stack.pop() {
        visit(node);
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            let nested_scope = matches!(
                child.python_kind(),
                Kind::FunctionDefinition | Kind::Lambda | Kind::ClassDefinition
            );
            if !nested_scope && child.end_byte() >= bytes.start && child.start_byte() < bytes.end {
                stack.push(child);
            }
        }
    }
}

pub fn is_awaited(ancestors: &[Node]) -> bool {
    ancestors
        .last()
        .is_some_and(|parent| parent.python_kind() == Kind::Await)
}

/// Whether `call` is the whole of its statement (`f()` or `await f()` on its own),
/// alone on its line(s), so a fix may put lines before or after it.
pub fn is_standalone_statement<'t>(
    call: Node<'t>,
    ancestors: &[Node<'t>],
    source: &str,
) -> Option<Node<'t>> {
    let statement = statement_of(call, ancestors)?;
    if statement.python_kind() != Kind::ExpressionStatement {
        return None;
    }
    let expression = statement.named_child(0)?;
    let is_call = expression.id() == call.id()
        || (expression.python_kind() == Kind::Await
            && expression
                .named_child(0)
                .is_some_and(|inner| inner.id() == call.id()));
    if !is_call || statement.named_child_count() != 1 {
        return None;
    }
    let before = source.get(line_start(source, statement.start_byte())..statement.start_byte())?;
    let after = source.get(statement.end_byte()..line_end(source, statement.end_byte()))?;
    let after = after.trim_start();
    (before.trim().is_empty() && (after.is_empty() || after.starts_with('#'))).then_some(statement)
}

/// Positional (non-keyword, non-splat) arguments of a call.
pub fn positional_arguments(call: Node) -> Vec<Node> {
    let Some(arguments) = call.field(Field::Arguments) else {
        return Vec::new();
    };
    if arguments.python_kind() != Kind::ArgumentList {
        return Vec::new();
    }
    let mut cursor = arguments.walk();
    arguments
        .named_children(&mut cursor)
        .filter(|argument| {
            !matches!(
                argument.python_kind(),
                Kind::KeywordArgument
                    | Kind::ListSplat
                    | Kind::DictionarySplat
                    | Kind::Comment
                    | Kind::ParenthesizedListSplat
            )
        })
        .collect()
}

/// The value of keyword argument `name=` of a call.
pub fn keyword_argument<'t>(call: Node<'t>, name: &str, source: &str) -> Option<Node<'t>> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let found = arguments.named_children(&mut cursor).find(|argument| {
        argument.python_kind() == Kind::KeywordArgument
            && argument
                .field(Field::Name)
                .is_some_and(|key| node_text(key, source) == name)
    });
    found?.field(Field::Value)
}

/// One indentation step in the style of the file around `byte`.
pub fn indent_unit(source: &str, byte: usize) -> &'static str {
    if indentation_at(source, byte).contains('\t') {
        "\t"
    } else {
        "    "
    }
}

/// Whether the subtree of `node` holds a call `<receiver>.<method>()`.
pub fn contains_method_call(node: Node, source: &str, receiver: &str, method: &str) -> bool {
    let mut found = false;
    walk_tree(node, |candidate| {
        if found || candidate.python_kind() != Kind::Call {
            return;
        }
        let Some(function) = candidate.field(Field::Function) else {
            return;
        };
        if function.python_kind() != Kind::Attribute {
            return;
        }
        let (Some(object), Some(attribute)) = (
            function.field(Field::Object),
            function.field(Field::Attribute),
        ) else {
            return;
        };
        found = node_text(attribute, source) == method
            && same_expression(node_text(object, source), receiver);
    });
    found
}

/// Two expressions' texts are the same once white space is ignored.
pub fn same_expression(left: &str, right: &str) -> bool {
    left.split_whitespace().eq(right.split_whitespace())
        || left
            .chars()
            .filter(|c| !c.is_whitespace())
            .eq(right.chars().filter(|c| !c.is_whitespace()))
}

/// Where a new import line goes: the end of the line of the last import (or of the
/// docstring) in the module's leading block of imports, comments and docstring; `None`
/// when the module does not open with one (then the import goes first).
pub fn import_insertion_point(top_level: &[Node], source: &str) -> Option<usize> {
    let mut insert_at = None;
    for &statement in top_level.iter().filter(|statement| statement.is_named()) {
        match statement.python_kind() {
            Kind::ImportStatement | Kind::ImportFromStatement | Kind::FutureImportStatement => {
                insert_at = Some(statement.end_byte());
            }
            Kind::Comment => {}
            Kind::ExpressionStatement
                if insert_at.is_none()
                    && statement.start_byte() == first_statement_start(top_level)
                    && statement
                        .named_child(0)
                        .is_some_and(|e| e.python_kind() == Kind::String) =>
            {
                insert_at = Some(statement.end_byte()); // after the module docstring
            }
            _ => break,
        }
    }
    insert_at.map(|at| line_end(source, at))
}

fn first_statement_start(top_level: &[Node]) -> usize {
    top_level
        .iter()
        .find(|child| child.is_named() && child.python_kind() != Kind::Comment)
        .map_or(0, |child| child.start_byte())
}

/// The text of a plain string literal between its quotes (`None` for f-strings with
/// replacement fields, byte strings and concatenations).
pub fn string_value<'s>(string: Node, source: &'s str) -> Option<&'s str> {
    if string.python_kind() != Kind::String {
        return None;
    }
    let mut cursor = string.walk();
    let children: Vec<Node> = string.named_children(&mut cursor).collect();
    if children
        .iter()
        .any(|child| child.python_kind() == Kind::Interpolation)
    {
        return None;
    }
    let start = children
        .iter()
        .find(|child| child.python_kind() == Kind::StringStart)?;
    let prefix = node_text(*start, source);
    if prefix.to_ascii_lowercase().contains('b') {
        return None;
    }
    let end = children
        .iter()
        .find(|child| child.python_kind() == Kind::StringEnd)?;
    source.get(start.end_byte()..end.start_byte())
}

/// `(target, value)` of a binding: `target = value` or `with value as target`.
pub fn binding_of(node: Node) -> Option<(Node, Node)> {
    match node.python_kind() {
        Kind::Assignment => Some((node.field(Field::Left)?, node.field(Field::Right)?)),
        Kind::AsPattern => {
            let alias = node.field(Field::Alias)?;
            Some((alias.named_child(0).unwrap_or(alias), node.named_child(0)?))
        }
        _ => None,
    }
}

/// Whether an identifier binds its name where it stands: an assignment, `for`, `with`
/// or walrus target, a parameter, a `global`/`nonlocal`, or an import.
pub fn is_binding_occurrence(identifier: Node) -> bool {
    let Some(parent) = identifier.parent() else {
        return false;
    };
    let is_field = |field: Field| is_field_of(parent, field, identifier);
    match parent.python_kind() {
        Kind::Assignment | Kind::AugmentedAssignment | Kind::ForStatement | Kind::ForInClause => {
            is_field(Field::Left)
        }
        Kind::NamedExpression | Kind::DefaultParameter | Kind::TypedDefaultParameter => {
            is_field(Field::Name)
        }
        Kind::AliasedImport => is_field(Field::Alias),
        Kind::AsPatternTarget
        | Kind::PatternList
        | Kind::TuplePattern
        | Kind::ListPattern
        | Kind::Parameters
        | Kind::TypedParameter
        | Kind::ListSplatPattern
        | Kind::DictionarySplatPattern
        | Kind::GlobalStatement
        | Kind::NonlocalStatement => true,
        Kind::DottedName => parent
            .parent()
            .is_some_and(|grand| grand.python_kind() == Kind::ImportStatement),
        _ => false,
    }
}

/// Whether `child` is the `field` child of `parent`.
pub fn is_field_of(parent: Node, field: Field, child: Node) -> bool {
    parent
        .field(field)
        .is_some_and(|found| found.id() == child.id())
}

/// The names a function binds itself, which hide module-level ones: its parameters and
/// the plain names it assigns (nested scopes not included).
pub fn local_bindings(function: Node, source: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(parameters) = function.field(Field::Parameters) {
        let mut cursor = parameters.walk();
        for parameter in parameters.named_children(&mut cursor) {
            let name = match parameter.python_kind() {
                Kind::Identifier => Some(parameter),
                _ => parameter
                    .field(Field::Name)
                    .or_else(|| parameter.named_child(0)),
            };
            if let Some(name) = name.filter(|name| name.python_kind() == Kind::Identifier) {
                names.push(node_text(name, source).to_string());
            }
        }
    }
    walk_local_scope(function, |node| {
        let target = (node.python_kind() == Kind::Assignment)
            .then(|| node.field(Field::Left))
            .flatten()
            .filter(|left| left.python_kind() == Kind::Identifier);
        if let Some(target) = target {
            names.push(node_text(target, source).to_string());
        }
    });
    names
}

/// `(target, value)` of a top-level statement that is a plain assignment (`x = ...`,
/// `x: T = ...`).
pub fn top_level_assignment(statement: Node) -> Option<(Node, Node)> {
    if statement.python_kind() != Kind::ExpressionStatement {
        return None;
    }
    let assignment = statement
        .named_child(0)
        .filter(|node| node.python_kind() == Kind::Assignment)?;
    Some((
        assignment.field(Field::Left)?,
        assignment.field(Field::Right)?,
    ))
}
