//! Python's field ids and node kinds, looked up once from the grammar: rules read a
//! child by a typed `Field`, never by a field name looked up (a linear string search in
//! tree-sitter) on every call, and a node's kind as a typed `Kind` from a table indexed
//! by kind id (tree-sitter's own `kind()` measures and validates the C string every
//! time). A misspelt field or kind does not compile; one the grammar lacks fails
//! `every_field_is_in_the_grammar` or `every_kind_is_in_the_grammar`.

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
    Superclasses,
    Type,
    Value,
}

impl Field {
    pub const ALL: [Field; 20] = [
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
        Field::Superclasses,
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
            Field::Superclasses => "superclasses",
            Field::Type => "type",
            Field::Value => "value",
        }
    }

    fn id(self) -> Option<NonZeroU16> {
        FIELD_IDS[self as usize]
    }
}

/// The node kinds of Python's grammar that the rules read: named nodes by their name in
/// CamelCase, anonymous tokens by what they are. A misspelt kind does not compile; a
/// kind the grammar lacks fails `every_kind_is_in_the_grammar`. `Other` is any kind
/// not listed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    AliasedImport,
    ArgumentList,
    AsPattern,
    AsPatternTarget,
    Assignment,
    Attribute,
    AugmentedAssignment,
    Await,
    BinaryOperator,
    Block,
    Call,
    ClassDefinition,
    Comment,
    ContinueStatement,
    DecoratedDefinition,
    Decorator,
    DefaultParameter,
    DeleteStatement,
    Dictionary,
    DictionaryComprehension,
    DictionarySplat,
    DictionarySplatPattern,
    DottedName,
    Ellipsis,
    ExceptClause,
    ExpressionStatement,
    Float,
    FinallyClause,
    ForInClause,
    ForStatement,
    FunctionDefinition,
    FutureImportStatement,
    GlobalStatement,
    Identifier,
    IfStatement,
    ImportFromStatement,
    ImportStatement,
    Integer,
    Interpolation,
    KeywordArgument,
    Lambda,
    List,
    ListComprehension,
    ListPattern,
    ListSplat,
    ListSplatPattern,
    Module,
    NamedExpression,
    NonlocalStatement,
    Pair,
    Parameters,
    ParenthesizedExpression,
    ParenthesizedListSplat,
    PassStatement,
    PatternList,
    RaiseStatement,
    ReturnStatement,
    Set,
    SetComprehension,
    String,
    StringContent,
    StringEnd,
    StringStart,
    Subscript,
    TryStatement,
    Tuple,
    TuplePattern,
    TypedDefaultParameter,
    TypedParameter,
    WhileStatement,
    WithClause,
    WithItem,
    WithStatement,
    Error,
    AsyncKeyword,
    ExceptKeyword,
    Colon,
    CloseParen,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 78] = [
        Kind::AliasedImport,
        Kind::ArgumentList,
        Kind::AsPattern,
        Kind::AsPatternTarget,
        Kind::Assignment,
        Kind::Attribute,
        Kind::AugmentedAssignment,
        Kind::Await,
        Kind::BinaryOperator,
        Kind::Block,
        Kind::Call,
        Kind::ClassDefinition,
        Kind::Comment,
        Kind::ContinueStatement,
        Kind::DecoratedDefinition,
        Kind::Decorator,
        Kind::DefaultParameter,
        Kind::DeleteStatement,
        Kind::Dictionary,
        Kind::DictionaryComprehension,
        Kind::DictionarySplat,
        Kind::DictionarySplatPattern,
        Kind::DottedName,
        Kind::Ellipsis,
        Kind::ExceptClause,
        Kind::ExpressionStatement,
        Kind::Float,
        Kind::FinallyClause,
        Kind::ForInClause,
        Kind::ForStatement,
        Kind::FunctionDefinition,
        Kind::FutureImportStatement,
        Kind::GlobalStatement,
        Kind::Identifier,
        Kind::IfStatement,
        Kind::ImportFromStatement,
        Kind::ImportStatement,
        Kind::Integer,
        Kind::Interpolation,
        Kind::KeywordArgument,
        Kind::Lambda,
        Kind::List,
        Kind::ListComprehension,
        Kind::ListPattern,
        Kind::ListSplat,
        Kind::ListSplatPattern,
        Kind::Module,
        Kind::NamedExpression,
        Kind::NonlocalStatement,
        Kind::Pair,
        Kind::Parameters,
        Kind::ParenthesizedExpression,
        Kind::ParenthesizedListSplat,
        Kind::PassStatement,
        Kind::PatternList,
        Kind::RaiseStatement,
        Kind::ReturnStatement,
        Kind::Set,
        Kind::SetComprehension,
        Kind::String,
        Kind::StringContent,
        Kind::StringEnd,
        Kind::StringStart,
        Kind::Subscript,
        Kind::TryStatement,
        Kind::Tuple,
        Kind::TuplePattern,
        Kind::TypedDefaultParameter,
        Kind::TypedParameter,
        Kind::WhileStatement,
        Kind::WithClause,
        Kind::WithItem,
        Kind::WithStatement,
        Kind::Error,
        Kind::AsyncKeyword,
        Kind::ExceptKeyword,
        Kind::Colon,
        Kind::CloseParen,
    ];

    /// The kind's name in the grammar, and whether it names a node (not a token).
    pub fn grammar_name(self) -> (&'static str, bool) {
        match self {
            Kind::AliasedImport => ("aliased_import", true),
            Kind::ArgumentList => ("argument_list", true),
            Kind::AsPattern => ("as_pattern", true),
            Kind::AsPatternTarget => ("as_pattern_target", true),
            Kind::Assignment => ("assignment", true),
            Kind::Attribute => ("attribute", true),
            Kind::AugmentedAssignment => ("augmented_assignment", true),
            Kind::Await => ("await", true),
            Kind::BinaryOperator => ("binary_operator", true),
            Kind::Block => ("block", true),
            Kind::Call => ("call", true),
            Kind::ClassDefinition => ("class_definition", true),
            Kind::Comment => ("comment", true),
            Kind::ContinueStatement => ("continue_statement", true),
            Kind::DecoratedDefinition => ("decorated_definition", true),
            Kind::Decorator => ("decorator", true),
            Kind::DefaultParameter => ("default_parameter", true),
            Kind::DeleteStatement => ("delete_statement", true),
            Kind::Dictionary => ("dictionary", true),
            Kind::DictionaryComprehension => ("dictionary_comprehension", true),
            Kind::DictionarySplat => ("dictionary_splat", true),
            Kind::DictionarySplatPattern => ("dictionary_splat_pattern", true),
            Kind::DottedName => ("dotted_name", true),
            Kind::Ellipsis => ("ellipsis", true),
            Kind::ExceptClause => ("except_clause", true),
            Kind::ExpressionStatement => ("expression_statement", true),
            Kind::Float => ("float", true),
            Kind::FinallyClause => ("finally_clause", true),
            Kind::ForInClause => ("for_in_clause", true),
            Kind::ForStatement => ("for_statement", true),
            Kind::FunctionDefinition => ("function_definition", true),
            Kind::FutureImportStatement => ("future_import_statement", true),
            Kind::GlobalStatement => ("global_statement", true),
            Kind::Identifier => ("identifier", true),
            Kind::IfStatement => ("if_statement", true),
            Kind::ImportFromStatement => ("import_from_statement", true),
            Kind::ImportStatement => ("import_statement", true),
            Kind::Integer => ("integer", true),
            Kind::Interpolation => ("interpolation", true),
            Kind::KeywordArgument => ("keyword_argument", true),
            Kind::Lambda => ("lambda", true),
            Kind::List => ("list", true),
            Kind::ListComprehension => ("list_comprehension", true),
            Kind::ListPattern => ("list_pattern", true),
            Kind::ListSplat => ("list_splat", true),
            Kind::ListSplatPattern => ("list_splat_pattern", true),
            Kind::Module => ("module", true),
            Kind::NamedExpression => ("named_expression", true),
            Kind::NonlocalStatement => ("nonlocal_statement", true),
            Kind::Pair => ("pair", true),
            Kind::Parameters => ("parameters", true),
            Kind::ParenthesizedExpression => ("parenthesized_expression", true),
            Kind::ParenthesizedListSplat => ("parenthesized_list_splat", true),
            Kind::PassStatement => ("pass_statement", true),
            Kind::PatternList => ("pattern_list", true),
            Kind::RaiseStatement => ("raise_statement", true),
            Kind::ReturnStatement => ("return_statement", true),
            Kind::Set => ("set", true),
            Kind::SetComprehension => ("set_comprehension", true),
            Kind::String => ("string", true),
            Kind::StringContent => ("string_content", true),
            Kind::StringEnd => ("string_end", true),
            Kind::StringStart => ("string_start", true),
            Kind::Subscript => ("subscript", true),
            Kind::TryStatement => ("try_statement", true),
            Kind::Tuple => ("tuple", true),
            Kind::TuplePattern => ("tuple_pattern", true),
            Kind::TypedDefaultParameter => ("typed_default_parameter", true),
            Kind::TypedParameter => ("typed_parameter", true),
            Kind::WhileStatement => ("while_statement", true),
            Kind::WithClause => ("with_clause", true),
            Kind::WithItem => ("with_item", true),
            Kind::WithStatement => ("with_statement", true),
            Kind::Error => ("ERROR", true),
            Kind::AsyncKeyword => ("async", false),
            Kind::ExceptKeyword => ("except", false),
            Kind::Colon => (":", false),
            Kind::CloseParen => (")", false),
            Kind::Other => ("", false),
        }
    }
}

static FIELD_IDS: LazyLock<[Option<NonZeroU16>; Field::ALL.len()]> = LazyLock::new(|| {
    let grammar = Language::Python.grammar();
    Field::ALL.map(|field| grammar.field_id_for_name(field.name()))
});

/// The `Kind` of every node kind id of Python's grammar.
static KINDS: LazyLock<Vec<Kind>> = LazyLock::new(|| {
    let grammar = Language::Python.grammar();
    (0..grammar.node_kind_count())
        .map(|id| {
            let Ok(id) = u16::try_from(id) else {
                return Kind::Other;
            };
            let name = grammar.node_kind_for_id(id).unwrap_or("");
            let named = grammar.node_kind_is_named(id);
            Kind::ALL
                .into_iter()
                .find(|kind| kind.grammar_name() == (name, named))
                .unwrap_or(Kind::Other)
        })
        .collect()
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

    /// The node's kind, typed (`Kind::Other` for kinds the rules do not name).
    fn python_kind(&self) -> Kind;
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

    fn python_kind(&self) -> Kind {
        match KINDS.get(usize::from(self.kind_id())) {
            Some(kind) => *kind,
            // Error nodes have a kind id past the grammar's own.
            None if self.is_error() => Kind::Error,
            None => Kind::Other,
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
    fn every_kind_is_in_the_grammar() {
        let grammar = Language::Python.grammar();
        for kind in Kind::ALL {
            let (name, named) = kind.grammar_name();
            if kind == Kind::Error {
                continue; // tree-sitter's own, outside the grammar's ids
            }
            assert_ne!(
                grammar.id_for_node_kind(name, named),
                0,
                "{kind:?} ({name:?}, named: {named}) is no kind of the Python grammar"
            );
        }
    }

    #[test]
    fn typed_kinds_are_the_kinds() {
        let text = "@d\nasync def f(x: int = 1, *a, **k) -> None:\n    y = [i async for i in x if i]\n    try:\n        pass\n    except E:\n        return f'{y!r}' + b'z'\nclass (:\n  = )\n";
        let syntax = crate::syntax::Syntax::parse(Language::Python, text).expect("parses");
        let mut typed = 0;
        for root in syntax.roots() {
            crate::rules::walk_tree(root, |node| {
                let kind = node.python_kind();
                if kind == Kind::Other {
                    assert!(
                        !Kind::ALL
                            .iter()
                            .any(|listed| listed.grammar_name() == (node.kind(), node.is_named())),
                        "{} is listed but read as Other",
                        node.kind()
                    );
                } else {
                    assert_eq!(kind.grammar_name(), (node.kind(), node.is_named()));
                    typed += 1;
                }
            });
        }
        assert!(typed > 30, "{typed}");
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
