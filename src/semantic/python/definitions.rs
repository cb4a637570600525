//! The module's top-level functions and classes by name: what a rule reads when a
//! route's dependency is defined elsewhere in the file. Built once per audit from the
//! root's children (no walk into bodies).

use tree_sitter::Node;

use crate::rules::node_text;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

#[derive(Debug, Default)]
pub struct ModuleDefinitions<'t> {
    /// `(name, function_definition/class_definition node)`, sorted by name, in source
    /// order within a name (the last one wins in Python, but every one is kept: rules
    /// ask whether any of them does something). A sorted vector, not a map of vectors:
    /// it is built on every keystroke, and one allocation beats one per name.
    definitions: Vec<(&'t str, Node<'t>)>,
}

impl<'t> ModuleDefinitions<'t> {
    pub fn collect(top_level: &[Node<'t>], source: &'t str) -> ModuleDefinitions<'t> {
        let mut definitions: Vec<(&'t str, Node<'t>)> = top_level
            .iter()
            .filter_map(|&statement| {
                let definition = definition_of(statement)?;
                Some((
                    node_text(definition.field(Field::Name)?, source),
                    definition,
                ))
            })
            .collect();
        // Stable: definitions of one name stay in source order.
        definitions.sort_by_key(|(name, _)| *name);
        ModuleDefinitions { definitions }
    }

    /// The top-level functions and classes named `name`, in source order.
    pub fn named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Node<'t>> + 's {
        let first = self
            .definitions
            .partition_point(|(defined, _)| *defined < name);
        self.definitions[first..]
            .iter()
            .take_while(move |(defined, _)| *defined == name)
            .map(|(_, definition)| *definition)
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
