//! The values bound to plain names in each scope (`name = value`, `with value as
//! name`), collected during the one walk that builds the module's facts.
//!
//! A binding belongs to the innermost function, lambda or class around it, else to the
//! module; a lookup names a function or the module (`enclosing_scope`). Names bound in a
//! class body are class attributes, so a lookup never finds them: the same rule as
//! `walk_local_scope`, which leaves out nested bodies.

use std::collections::HashMap;

use tree_sitter::Node;

use crate::rules::node_text;
use crate::rules::python::binding_of;
use crate::syntax::python_fields::{Kind, PythonNode};

#[derive(Debug, Default)]
pub struct ScopedBindings<'t> {
    /// Scope node id → name → the values bound to it there, in source order.
    values: HashMap<usize, HashMap<Box<str>, Vec<Node<'t>>>>,
}

impl<'t> ScopedBindings<'t> {
    /// Record `node` if it binds a plain name. `scope` is the innermost function,
    /// lambda or class around it, or the module's root.
    pub fn record(&mut self, node: Node<'t>, scope: Node<'t>, source: &str) {
        let Some((target, value)) = binding_of(node) else {
            return;
        };
        if target.python_kind() != Kind::Identifier {
            return;
        }
        let name: Box<str> = node_text(target, source).into();
        self.values
            .entry(scope.id())
            .or_default()
            .entry(name)
            .or_default()
            .push(value);
    }

    /// The values `scope` (a function or the module) binds to `name`, in source order;
    /// nested scopes are not included.
    pub fn values_bound(&self, scope: Node, name: &str) -> &[Node<'t>] {
        self.values
            .get(&scope.id())
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }

    /// The calls whose results `scope` binds to `name`, in source order.
    pub fn calls_bound(&self, scope: Node, name: &str) -> impl Iterator<Item = Node<'t>> + '_ {
        self.values_bound(scope, name)
            .iter()
            .copied()
            .filter(|value| value.python_kind() == Kind::Call)
    }
}
