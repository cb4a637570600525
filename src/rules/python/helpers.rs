//! Helpers over Ruff's tree that the Python rules share: call arguments and the
//! values of literals.

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Arguments, Expr, ExprCall, Keyword, Stmt};
use ruff_text_size::Ranged;

use super::checker::{Checker, Parent, STACK_GROWTH, STACK_RED_ZONE};
use crate::rules::{Edit, indentation_at, line_end, line_start, newline_of};

/// The edit that removes the argument at `index` (in source order) of `arguments`, with
/// the comma that separates it; `None` when a comment stands in what would go.
pub fn remove_argument(checker: &Checker, arguments: &Arguments, index: usize) -> Option<Edit> {
    let all: Vec<_> = arguments
        .iter_source_order()
        .map(|argument| checker.range(&argument))
        .collect();
    let argument = all.get(index)?.clone();
    let range = if let Some(next) = all.get(index + 1) {
        // `a, debug=True, b` -> `a, b`: up to the next argument.
        argument.start..next.start
    } else if let Some(previous) = index.checked_sub(1).and_then(|i| all.get(i)) {
        // The last one: from the end of the previous argument (its comma goes too).
        previous.end..argument.end
    } else {
        // The only one: `f(debug=True,)` -> `f()`.
        let close = checker.range(arguments).end.checked_sub(1)?;
        argument.start..close.max(argument.end)
    };
    if checker.source.get(range.clone())?.contains('#') {
        return None; // a comment in between would go with it
    }
    Some(Edit::replace(range, ""))
}

/// The keyword argument `name=` of a call, with its index among the arguments in
/// source order (what `remove_argument` takes).
pub fn keyword_with_index<'a>(
    arguments: &'a Arguments,
    name: &str,
) -> Option<(usize, &'a Keyword)> {
    arguments
        .iter_source_order()
        .enumerate()
        .find_map(|(index, argument)| match argument {
            ruff_python_ast::ArgOrKeyword::Keyword(keyword)
                if keyword.arg.as_ref().is_some_and(|arg| arg.as_str() == name) =>
            {
                Some((index, keyword))
            }
            _ => None,
        })
}

/// The value of a plain string literal (not an f-string, bytes, or an implicit
/// concatenation of several).
pub fn string_value(expression: &Expr) -> Option<&str> {
    match expression {
        Expr::StringLiteral(literal) if !literal.value.is_implicit_concatenated() => {
            Some(literal.value.to_str())
        }
        _ => None,
    }
}

/// The literal `True`.
pub fn is_true(expression: &Expr) -> bool {
    matches!(expression, Expr::BooleanLiteral(literal) if literal.value)
}

/// `receiver.name(...)`: the method's name, when the callee is an attribute.
pub fn method_name(call: &ruff_python_ast::ExprCall) -> Option<&str> {
    match &*call.func {
        Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
        _ => None,
    }
}

/// `**kwargs` among the arguments: any keyword may come through it.
pub fn has_dictionary_splat(arguments: &Arguments) -> bool {
    arguments
        .keywords
        .iter()
        .any(|keyword| keyword.arg.is_none())
}

/// The edit that adds `keywords` (`name=value` each) at the end of a call's arguments,
/// in the call's layout: one per line when its arguments are (with a trailing comma),
/// else after the last argument. `None` for a call whose parentheses are not both
/// there, or whose only argument is a bare generator (`f(x for x in y)`).
pub fn add_keyword_arguments(
    checker: &Checker,
    arguments: &Arguments,
    keywords: &[String],
) -> Option<Edit> {
    let source = checker.source;
    let range = checker.range(arguments);
    if keywords.is_empty() || !source.get(range.clone())?.ends_with(')') {
        return None;
    }
    let close = range.end - 1;
    if let [Expr::Generator(generator)] = &*arguments.args
        && !generator.parenthesized
    {
        return None;
    }
    let joined = keywords.join(", ");
    let Some(last) = arguments.iter_source_order().last() else {
        return Some(Edit::insert(close, joined));
    };
    let last = checker.range(&last);
    let after_last = source.get(last.end..close)?;
    let trailing_comma = after_last.trim_start().starts_with(',');
    let one_per_line =
        source.get(range.start..last.start)?.contains('\n') && after_last.contains('\n');
    if one_per_line && trailing_comma {
        let indentation = indentation_at(source, last.start);
        let newline = newline_of(source);
        let lines: String = keywords
            .iter()
            .map(|keyword| format!("{newline}{indentation}{keyword},"))
            .collect();
        let comma = last.end + after_last.find(',')? + 1;
        // At the end of the comma's line, after any comment that ends it.
        return Some(Edit::insert(line_end(source, comma), lines));
    }
    Some(Edit::insert(last.end, format!(", {joined}")))
}

/// A node of a statement's subtree, as `any_node` hands it over.
#[derive(Clone, Copy)]
pub enum AnyNode<'t> {
    Statement(&'t Stmt),
    Expression(&'t Expr),
}

/// Whether any statement or expression in `body` (nested ones too, bodies of nested
/// definitions included) satisfies `predicate`. The walk grows its stack as it goes
/// (expressions nest once per operator), and stops looking once one does.
pub fn any_node<'t>(body: &'t [Stmt], predicate: impl FnMut(AnyNode<'t>) -> bool) -> bool {
    let mut search = Search {
        predicate,
        found: false,
    };
    search.visit_body(body);
    search.found
}

struct Search<P> {
    predicate: P,
    found: bool,
}

impl<'t, P: FnMut(AnyNode<'t>) -> bool> Visitor<'t> for Search<P> {
    fn visit_stmt(&mut self, statement: &'t Stmt) {
        if self.found {
            return;
        }
        self.found = (self.predicate)(AnyNode::Statement(statement));
        if !self.found {
            walk_stmt(self, statement);
        }
    }

    fn visit_expr(&mut self, expression: &'t Expr) {
        if self.found {
            return;
        }
        self.found = (self.predicate)(AnyNode::Expression(expression));
        if !self.found {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || walk_expr(self, expression));
        }
    }
}

/// The last name of a call's callee: `exception` for `logger.exception(...)`.
pub fn called_name(call: &ExprCall) -> Option<&str> {
    match &*call.func {
        Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
        Expr::Name(name) => Some(name.id.as_str()),
        _ => None,
    }
}

/// Every `name = value` (and `with value as name`) of the scope of the node being
/// judged, with its offset, in source order: its innermost function's own statements,
/// and (when `module_too`) the module's, or the module's alone outside functions.
/// Nested functions and classes are scopes of their own and are not read.
pub fn assignments_to<'c>(
    checker: &Checker<'c, '_>,
    name: &str,
    module_too: bool,
) -> Vec<Assigned<'c>> {
    let mut finder = AssignmentsTo {
        name,
        base: checker.base(),
        found: Vec::new(),
    };
    let function = checker.enclosing_function();
    if let Some(function) = function {
        finder.visit_body(&function.body);
    }
    if function.is_none() || module_too {
        for (base, body) in checker.module_bodies() {
            finder.base = base;
            finder.visit_body(body);
        }
    }
    finder.found
}

/// A value bound to a name, where its statement stands, and where its item starts
/// (for `Checker::range_at`: it may be another item than the one being traversed).
#[derive(Clone, Copy)]
pub struct Assigned<'c> {
    pub at: usize,
    pub base: usize,
    pub value: &'c Expr,
}

/// The last `name = value` before byte `before` in the scope of the node being judged:
/// its innermost function, else (when `module_too`) the module.
pub fn last_assignment<'c>(
    checker: &Checker<'c, '_>,
    name: &str,
    before: usize,
    module_too: bool,
) -> Option<Assigned<'c>> {
    if checker.enclosing_function().is_none() && !module_too {
        return None;
    }
    // In a function, only its own assignments count.
    assignments_to(checker, name, false)
        .into_iter()
        .filter(|assigned| assigned.at < before)
        .max_by_key(|assigned| assigned.at)
}

struct AssignmentsTo<'n, 'c> {
    name: &'n str,
    /// Where the statements being read start counting from.
    base: usize,
    found: Vec<Assigned<'c>>,
}

impl<'c> StatementVisitor<'c> for AssignmentsTo<'_, 'c> {
    fn visit_stmt(&mut self, statement: &'c Stmt) {
        match statement {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::Assign(assignment) => {
                let assigns_name = matches!(
                    assignment.targets.as_slice(),
                    [Expr::Name(target)] if target.id.as_str() == self.name
                );
                if assigns_name {
                    self.found.push(Assigned {
                        at: self.base + usize::from(statement.start()),
                        base: self.base,
                        value: &assignment.value,
                    });
                }
            }
            // `with value as name`.
            Stmt::With(with) => {
                let at = self.base + usize::from(statement.start());
                for item in &with.items {
                    if matches!(item.optional_vars.as_deref(), Some(Expr::Name(target)) if target.id.as_str() == self.name)
                    {
                        self.found.push(Assigned {
                            at,
                            base: self.base,
                            value: &item.context_expr,
                        });
                    }
                }
                statement_visitor::walk_stmt(self, statement);
            }
            _ => statement_visitor::walk_stmt(self, statement),
        }
    }
}

/// The calls a function's own scope makes, in source order: not those inside nested
/// functions, lambdas or classes (their decorators are evaluated here, so theirs count).
pub fn calls_in_scope(body: &[Stmt]) -> Vec<&ExprCall> {
    let mut calls = Vec::new();
    walk_scope(body, |node| {
        if let AnyNode::Expression(Expr::Call(call)) = node {
            calls.push(call);
        }
    });
    calls
}

/// Hand `visit` every statement and expression of a scope's own body, in source order:
/// nested functions, lambdas and classes are scopes of their own, so only what is
/// evaluated here of them (their decorators, a class's bases) is handed over.
pub fn walk_scope<'t>(body: &'t [Stmt], visit: impl FnMut(AnyNode<'t>)) {
    let mut walk = ScopeWalk { visit };
    walk.visit_body(body);
}

struct ScopeWalk<V> {
    visit: V,
}

impl<'t, V: FnMut(AnyNode<'t>)> Visitor<'t> for ScopeWalk<V> {
    fn visit_stmt(&mut self, statement: &'t Stmt) {
        (self.visit)(AnyNode::Statement(statement));
        match statement {
            Stmt::FunctionDef(function) => {
                for decorator in &function.decorator_list {
                    self.visit_decorator(decorator);
                }
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
            }
            _ => walk_stmt(self, statement),
        }
    }

    fn visit_expr(&mut self, expression: &'t Expr) {
        (self.visit)(AnyNode::Expression(expression));
        if !matches!(expression, Expr::Lambda(_)) {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || walk_expr(self, expression));
        }
    }
}

/// `any_node` over one expression's subtree (itself included).
pub fn any_node_in<'t>(expression: &'t Expr, predicate: impl FnMut(AnyNode<'t>) -> bool) -> bool {
    let mut search = Search {
        predicate,
        found: false,
    };
    search.visit_expr(expression);
    search.found
}

/// The statement that is the call alone (`f()` or `await f()`), on lines of its own, so
/// a fix may put lines after it; and whether the call is awaited.
pub fn standalone_statement<'c>(
    checker: &Checker<'c, '_>,
    call: &ExprCall,
) -> Option<(&'c Stmt, bool)> {
    let ancestors = checker.ancestors();
    let (statement, awaited) = match ancestors {
        [
            ..,
            Parent::Statement(statement),
            Parent::Expression(Expr::Await(_)),
        ] => (*statement, true),
        [.., Parent::Statement(statement)] => (*statement, false),
        _ => return None,
    };
    let Stmt::Expr(expression) = statement else {
        return None;
    };
    let is_call =
        |expression: &Expr| matches!(expression, Expr::Call(inner) if std::ptr::eq(inner, call));
    let whole = match &*expression.value {
        Expr::Await(inner) if awaited => is_call(&inner.value),
        value => !awaited && is_call(value),
    };
    if !whole {
        return None;
    }
    let source = checker.source;
    let range = checker.range(statement);
    let before = source.get(line_start(source, range.start)..range.start)?;
    let after = source
        .get(range.end..line_end(source, range.end))?
        .trim_start();
    (before.trim().is_empty() && (after.is_empty() || after.starts_with('#')))
        .then_some((statement, awaited))
}

/// Whether the call being judged is what a `for` loop or a comprehension iterates over
/// (`for key in <call>`).
pub fn is_iterated(checker: &Checker, call: &ExprCall) -> bool {
    let is_call = |expression: &Expr| matches!(expression, Expr::Call(iterated) if std::ptr::eq(iterated, call));
    let generators = match checker.parent() {
        Some(Parent::Statement(Stmt::For(for_statement))) => return is_call(&for_statement.iter),
        Some(Parent::Expression(Expr::ListComp(comprehension))) => &comprehension.generators,
        Some(Parent::Expression(Expr::SetComp(comprehension))) => &comprehension.generators,
        Some(Parent::Expression(Expr::DictComp(comprehension))) => &comprehension.generators,
        Some(Parent::Expression(Expr::Generator(generator))) => &generator.generators,
        _ => return false,
    };
    generators.iter().any(|generator| is_call(&generator.iter))
}
