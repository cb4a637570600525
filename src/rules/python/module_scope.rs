//! The module scope on Ruff's tree, indexed once per audit: what each module-level
//! name is assigned, and the top-level functions and classes by name. Rules that ask
//! "what is `app`?" or "does `get_current_user` check anything?" look it up here
//! instead of walking the module again.
//!
//! Read from every item, skipped or not: what a definition's findings depend on in the
//! rest of the module must not depend on what an incremental audit skips.

use std::collections::HashMap;

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt};
use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use crate::rules::{Context, line_start};

/// A module-level `name = value` (or `name: T = value`, `type name = value`).
#[derive(Debug, Clone, Copy)]
pub struct ModuleAssignment<'a> {
    pub name: &'a str,
    /// Where its item starts (offsets of its tree are from there).
    pub base: usize,
    pub value: &'a Expr,
    /// A statement of the item itself, not nested in an `if`, `try` or `with`.
    pub direct: bool,
    /// The statement starts at column 0 (not an indented line error recovery left at
    /// the top level).
    pub at_column_zero: bool,
}

impl<'a> ModuleAssignment<'a> {
    /// The call the value is, `await`s aside (`x = Client()`, `x = await connect()`).
    pub fn called(&self) -> Option<&'a ExprCall> {
        let mut value = self.value;
        while let Expr::Await(awaited) = value {
            value = &awaited.value;
        }
        match value {
            Expr::Call(call) => Some(call),
            _ => None,
        }
    }
}

/// A top-level `def` or `class`, and where its item starts.
#[derive(Debug, Clone, Copy)]
pub struct ModuleDefinition<'a> {
    pub base: usize,
    pub statement: &'a Stmt,
}

impl<'a> ModuleDefinition<'a> {
    /// The function's or class's name.
    pub fn name(&self) -> Option<&'a str> {
        match self.statement {
            Stmt::FunctionDef(function) => Some(function.name.as_str()),
            Stmt::ClassDef(class) => Some(class.name.as_str()),
            _ => None,
        }
    }

    /// The byte range of its body in the source.
    pub fn body_range(&self) -> Option<std::ops::Range<usize>> {
        let body = match self.statement {
            Stmt::FunctionDef(function) => &function.body,
            Stmt::ClassDef(class) => &class.body,
            _ => return None,
        };
        let (first, last) = (body.first()?, body.last()?);
        Some(self.base + usize::from(first.start())..self.base + usize::from(last.end()))
    }
}

#[derive(Debug, Default)]
pub struct ModuleScope<'a> {
    /// In source order.
    pub assignments: Vec<ModuleAssignment<'a>>,
    definitions: HashMap<&'a str, Vec<ModuleDefinition<'a>>>,
}

impl<'a> ModuleScope<'a> {
    /// The top-level functions and classes called `name`, in source order.
    pub fn definitions_named(&self, name: &str) -> &[ModuleDefinition<'a>] {
        self.definitions.get(name).map_or(&[], Vec::as_slice)
    }

    /// The values assigned to `name` at module level, in source order.
    pub fn values_of<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s ModuleAssignment<'a>> {
        self.assignments
            .iter()
            .filter(move |assignment| assignment.name == name)
    }

    fn collect(context: &Context<'a>) -> ModuleScope<'a> {
        let mut collector = Collector {
            source: context.source,
            base: 0,
            depth: 0,
            scope: ModuleScope::default(),
        };
        for item in context.syntax.items() {
            let Some(ast) = item.python_ast(context.source) else {
                continue;
            };
            collector.base = item.range.start;
            for statement in &ast.body {
                collector.visit_stmt(statement);
            }
        }
        collector.scope
    }
}

/// The module scope of the audit's module, indexed once per audit.
pub fn module_scope<'c, 'a>(context: &'c Context<'a>) -> &'c ModuleScope<'a> {
    context
        .ruff_module_scope
        .get_or_init(|| ModuleScope::collect(context))
}

struct Collector<'s, 'a> {
    source: &'s str,
    base: usize,
    /// How many compound statements hold the statement being read.
    depth: usize,
    scope: ModuleScope<'a>,
}

impl<'a> StatementVisitor<'a> for Collector<'_, 'a> {
    fn visit_stmt(&mut self, statement: &'a Stmt) {
        let (name, value) = match statement {
            Stmt::FunctionDef(function) => {
                if self.depth == 0 {
                    self.record_definition(function.name.as_str(), statement);
                }
                return;
            }
            Stmt::ClassDef(class) => {
                if self.depth == 0 {
                    self.record_definition(class.name.as_str(), statement);
                }
                return;
            }
            Stmt::Assign(assignment) => match assignment.targets.as_slice() {
                [Expr::Name(target)] => (Some(target.id.as_str()), Some(&*assignment.value)),
                _ => (None, None),
            },
            Stmt::AnnAssign(assignment) => match (&*assignment.target, &assignment.value) {
                (Expr::Name(target), Some(value)) => (Some(target.id.as_str()), Some(&**value)),
                _ => (None, None),
            },
            // `type CurrentUser = Annotated[User, Depends(current_user)]`
            Stmt::TypeAlias(alias) => match &*alias.name {
                Expr::Name(target) => (Some(target.id.as_str()), Some(&*alias.value)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        if let (Some(name), Some(value)) = (name, value) {
            let at = self.base + usize::from(statement.start());
            self.scope.assignments.push(ModuleAssignment {
                name,
                base: self.base,
                value,
                direct: self.depth == 0,
                at_column_zero: line_start(self.source, at) == at,
            });
            return;
        }
        self.depth += 1;
        walk_stmt(self, statement);
        self.depth -= 1;
    }
}

impl<'a> Collector<'_, 'a> {
    fn record_definition(&mut self, name: &'a str, statement: &'a Stmt) {
        self.scope
            .definitions
            .entry(name)
            .or_default()
            .push(ModuleDefinition {
                base: self.base,
                statement,
            });
    }
}
