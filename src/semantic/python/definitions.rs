//! The module's top-level functions and classes by name: what a rule reads when a
//! route's dependency is defined elsewhere in the file. Built once per audit from the
//! root's children (no walk into bodies).

use std::collections::HashMap;

use tree_sitter::Node;

use crate::rules::node_text;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

#[derive(Debug, Default)]
pub struct ModuleDefinitions<'t> {
    /// Name → the `function_definition`/`class_definition` nodes (the last one wins in
    /// Python, but every one is kept: rules ask whether any of them does something).
    definitions: HashMap<&'t str, Vec<Node<'t>>>,
}

impl<'t> ModuleDefinitions<'t> {
    pub fn collect(top_level: &[Node<'t>], source: &'t str) -> ModuleDefinitions<'t> {
        let mut module = ModuleDefinitions::default();
        for &statement in top_level {
            let named = definition_of(statement)
                .and_then(|definition| Some((definition, definition.field(Field::Name)?)));
            if let Some((definition, name)) = named {
                module
                    .definitions
                    .entry(node_text(name, source))
                    .or_default()
                    .push(definition);
            }
        }
        module
    }

    /// The top-level functions and classes named `name`.
    pub fn named(&self, name: &str) -> &[Node<'t>] {
        self.definitions.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The function or class a top-level statement defines (under its decorators).
pub fn definition_of(statement: Node) -> Option<Node> {
    match statement.python_kind() {
        Kind::DecoratedDefinition => statement.field(Field::Definition),
        Kind::FunctionDefinition | Kind::ClassDefinition => Some(statement),
        _ => None,
    }
}
