//! Python's field ids and node kind names, looked up once from the grammar: rules read
//! a child by a typed `Field`, never by a field name looked up (a linear string search
//! in tree-sitter) on every call, and a node's kind from a table (tree-sitter's own
//! `kind()` measures and validates the C string every time). A misspelt field does
//! not compile; a field the grammar lacks fails `every_field_is_in_the_grammar`.

use std::num::NonZeroU16;
use std::sync::LazyLock;

use tree_sitter::Node;

use crate::language::Language;

/// The fields of Python's grammar that the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Alias,
    Arguments,
    Attribute,
    Body,
    Condition,
    Definition,
    Expression,
    Function,
    Key,
    Left,
    ModuleName,
    Name,
    Object,
    Operator,
    Parameters,
    Right,
    Subscript,
    Type,
    Value,
}

impl Field {
    pub const ALL: [Field; 19] = [
        Field::Alias,
        Field::Arguments,
        Field::Attribute,
        Field::Body,
        Field::Condition,
        Field::Definition,
        Field::Expression,
        Field::Function,
        Field::Key,
        Field::Left,
        Field::ModuleName,
        Field::Name,
        Field::Object,
        Field::Operator,
        Field::Parameters,
        Field::Right,
        Field::Subscript,
        Field::Type,
        Field::Value,
    ];

    /// The field's name in the grammar.
    pub fn name(self) -> &'static str {
        match self {
            Field::Alias => "alias",
            Field::Arguments => "arguments",
            Field::Attribute => "attribute",
            Field::Body => "body",
            Field::Condition => "condition",
            Field::Definition => "definition",
            Field::Expression => "expression",
            Field::Function => "function",
            Field::Key => "key",
            Field::Left => "left",
            Field::ModuleName => "module_name",
            Field::Name => "name",
            Field::Object => "object",
            Field::Operator => "operator",
            Field::Parameters => "parameters",
            Field::Right => "right",
            Field::Subscript => "subscript",
            Field::Type => "type",
            Field::Value => "value",
        }
    }

    fn id(self) -> Option<NonZeroU16> {
        FIELD_IDS[self as usize]
    }
}

static FIELD_IDS: LazyLock<[Option<NonZeroU16>; Field::ALL.len()]> = LazyLock::new(|| {
    let grammar = Language::Python.grammar();
    Field::ALL.map(|field| grammar.field_id_for_name(field.name()))
});

/// The name of every node kind of Python's grammar, by kind id.
static KIND_NAMES: LazyLock<Vec<Box<str>>> = LazyLock::new(|| {
    let grammar = Language::Python.grammar();
    let mut names = Vec::with_capacity(grammar.node_kind_count());
    for id in 0..grammar.node_kind_count() {
        let name = u16::try_from(id)
            .ok()
            .and_then(|id| grammar.node_kind_for_id(id))
            .unwrap_or("");
        names.push(Box::from(name));
    }
    names
});

/// Reading a Python node by `Field` and kind name.
pub trait PythonNode<'t> {
    /// The child in `field`, as `Node::child_by_field_name` would give it.
    fn field(&self, field: Field) -> Option<Node<'t>>;

    /// The node's kind, as `Node::kind` gives it, from a table.
    fn kind_name(&self) -> &'static str;
}

impl<'t> PythonNode<'t> for Node<'t> {
    fn field(&self, field: Field) -> Option<Node<'t>> {
        self.child_by_field_id(field.id()?.get())
    }

    fn kind_name(&self) -> &'static str {
        match KIND_NAMES.get(usize::from(self.kind_id())) {
            Some(name) => name,
            // Error nodes have a kind id past the grammar's own.
            None if self.is_error() => "ERROR",
            None => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_in_the_grammar() {
        for (index, field) in Field::ALL.into_iter().enumerate() {
            assert!(
                field.id().is_some(),
                "{} is no field of the Python grammar",
                field.name()
            );
            assert_eq!(field as usize, index, "Field::ALL is in declaration order");
        }
    }

    #[test]
    fn a_field_reads_what_its_name_reads() {
        let syntax =
            crate::syntax::Syntax::parse(Language::Python, "x = f(a).b\n").expect("parses");
        let statement = syntax.top_level()[0];
        let assignment = statement.named_child(0).expect("assignment");
        for field in Field::ALL {
            assert_eq!(
                assignment.field(field),
                assignment.child_by_field_name(field.name())
            );
        }
        assert_eq!(
            assignment.field(Field::Left).map(|left| left.kind()),
            Some("identifier")
        );
    }

    #[test]
    fn kind_names_are_the_kinds() {
        let text = "@d\nasync def f(x: int = 1, *a, **k) -> None:\n    y = [i async for i in x if i]\n    return f'{y!r}' + b'z'\nclass (:\n  = )\n";
        let syntax = crate::syntax::Syntax::parse(Language::Python, text).expect("parses");
        let mut seen = 0;
        for root in syntax.roots() {
            crate::rules::walk_tree(root, |node| {
                assert_eq!(node.kind_name(), node.kind());
                seen += 1;
            });
        }
        assert!(seen > 50);
    }
}
