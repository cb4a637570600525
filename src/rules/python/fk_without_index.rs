//! ## What it does
//! Finds SQLAlchemy foreign-key columns that no index leads with:
//! `Column(..., ForeignKey(...))` and `mapped_column(ForeignKey(...))` in declarative
//! models (also Flask-SQLAlchemy's `db.Column`/`db.ForeignKey`), and `Column("name",
//! ForeignKey(...))` inside `Table(...)`.
//!
//! A column is covered by `index=True`, `unique=True` or `primary_key=True`, or when it is
//! the first column of an `Index(...)`, `UniqueConstraint(...)` or
//! `PrimaryKeyConstraint(...)` in the model's `__table_args__`, in the `Table(...)`, or at
//! module level (`Index("ix_orders_user_id", Order.user_id)`).
//!
//! ## Why is this bad?
//! PostgreSQL indexes primary keys and unique constraints, not the referencing side of a
//! foreign key. Without an index, every join from the parent (`user.orders`), every
//! `WHERE user_id = ...`, and every `DELETE` or key update on the parent table (which
//! must check for referencing rows) scans the whole child table. It is invisible with
//! test data and a full-table scan per request in production.
//!
//! ## Example
//! ```python
//! class Order(Base):
//!     __tablename__ = "orders"
//!     id = Column(Integer, primary_key=True)
//!     user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
//! ```
//!
//! ## Use instead
//! ```python
//! class Order(Base):
//!     __tablename__ = "orders"
//!     id = Column(Integer, primary_key=True)
//!     user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
//! ```
//!
//! ## Fix safety
//! Safe: the fix adds `index=True` to the column. The program behaves the same; the next
//! Alembic autogenerate (or `create_all`) creates the index. On a large existing table,
//! create it with `postgresql_concurrently=True` in the migration to avoid locking
//! writes.
//!
//! ## Known problems
//! Indexes created elsewhere (another module, a raw SQL migration) are not seen: this
//! rule reads one file. Composite `ForeignKeyConstraint(...)`s are not checked.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{
    ModuleFacts, add_keyword_arguments, keyword_argument, positional_arguments, string_value,
};
use crate::language::Language;
use crate::rules::{
    Check, Context, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, any_in_tree,
    named_children, node_text,
};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "fk-without-index",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A SQLAlchemy foreign-key column with no index (PostgreSQL does not add one)",
    triggers: &["ForeignKey"],
    text_test: Some(mentions_columns),
    check: Check::Tree(check),
    reads: Projections::IMPORTS.and(Projections::INDEXES),
};

/// Constructs whose first column is indexed.
const INDEXING: &[&str] = &["Index", "UniqueConstraint", "PrimaryKeyConstraint"];

/// Where a column is declared.
enum Owner<'t> {
    /// A declarative model's class body.
    Model(Node<'t>),
    /// A `Table(...)` call.
    Table(Node<'t>),
}

/// The rule only looks at `ForeignKey`s inside `Column(...)`/`mapped_column(...)` (Django's
/// `models.ForeignKey` is another thing).
fn mentions_columns(text: &str) -> bool {
    text.contains("Column") || text.contains("mapped_column")
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        if last_name(site.call, source) != Some("ForeignKey")
            || site.parent.python_kind() != Kind::ArgumentList
        {
            continue;
        }
        let Some(column) = site.parent.parent().filter(|column| {
            matches!(last_name(*column, source), Some("Column" | "mapped_column"))
        }) else {
            continue;
        };
        let covered_by_itself = ["index", "unique", "primary_key"].iter().any(|keyword| {
            keyword_argument(column, keyword, source)
                .is_some_and(|value| node_text(value, source) == "True")
        });
        if covered_by_itself {
            continue;
        }
        let Some((name, owner)) = column_and_owner(column, source) else {
            continue;
        };
        if indexed_elsewhere(&owner, &name, facts, source) {
            continue;
        }
        let table = table_name(&owner, source).unwrap_or_else(|| "this table".to_string());
        let target = positional_arguments(site.call)
            .first()
            .map_or_else(String::new, |target| {
                string_value(*target, source)
                    .unwrap_or(node_text(*target, source))
                    .to_string()
            });
        let mut finding = RULE.finding(
            site.call.byte_range(),
            format!(
                "`{table}.{name}` references `{target}` with no index: PostgreSQL does not index foreign keys, so joins on it and deletes from the parent scan the whole table"
            ),
        );
        finding.fix = add_keyword_arguments(column, &["index=True".to_string()], source)
            .map(|edit| Fix::safe("Add `index=True` to the column", vec![edit]));
        findings.push(finding);
    }
}

/// `Column` for `Column(...)`, `sa.Column(...)`, `db.Column(...)`.
fn last_name<'s>(call: Node, source: &'s str) -> Option<&'s str> {
    let function = call.field(Field::Function)?;
    let name = match function.python_kind() {
        Kind::Identifier => function,
        Kind::Attribute => function.field(Field::Attribute)?,
        _ => return None,
    };
    Some(node_text(name, source))
}

/// The column's name and where it is declared.
fn column_and_owner<'t>(column: Node<'t>, source: &str) -> Option<(String, Owner<'t>)> {
    let explicit_name = positional_arguments(column)
        .first()
        .and_then(|first| string_value(*first, source))
        .map(str::to_string);
    let parent = column.parent()?;
    if parent.python_kind() == Kind::Assignment {
        // `user_id = Column(...)` in a class body: expression_statement > block > class.
        let class = parent.parent()?.parent()?.parent()?;
        if class.python_kind() != Kind::ClassDefinition {
            return None;
        }
        let attribute = node_text(parent.field(Field::Left)?, source).to_string();
        return Some((explicit_name.unwrap_or(attribute), Owner::Model(class)));
    }
    let table = parent.parent().filter(|call| {
        call.python_kind() == Kind::Call && last_name(*call, source) == Some("Table")
    })?;
    Some((explicit_name?, Owner::Table(table)))
}

fn table_name(owner: &Owner, source: &str) -> Option<String> {
    match owner {
        Owner::Table(table) => positional_arguments(*table)
            .first()
            .and_then(|name| string_value(*name, source))
            .map(str::to_string),
        Owner::Model(class) => {
            let body = class.field(Field::Body)?;
            named_children(body)
                .into_iter()
                .find_map(|statement| {
                    let assignment = statement
                        .named_child(0)
                        .filter(|a| a.python_kind() == Kind::Assignment)?;
                    let left = assignment.field(Field::Left)?;
                    (node_text(left, source) == "__tablename__")
                        .then(|| {
                            string_value(assignment.field(Field::Right)?, source)
                                .map(str::to_string)
                        })
                        .flatten()
                })
                .or_else(|| Some(node_text(class.field(Field::Name)?, source).to_string()))
        }
    }
}

/// An index or constraint that leads with the column: in the model's `__table_args__`,
/// in the `Table(...)`, or at module level on `Model.column`.
fn indexed_elsewhere(owner: &Owner, column: &str, facts: &ModuleFacts, source: &str) -> bool {
    let leads_with_column = |call: Node, qualified_by: Option<&str>| {
        INDEXING.contains(&last_name(call, source).unwrap_or(""))
            && leading_column(call, source, qualified_by).is_some_and(|leading| leading == column)
    };
    let scope = match owner {
        Owner::Model(class) => *class,
        Owner::Table(table) => *table,
    };
    if any_in_tree(scope, |node| {
        node.python_kind() == Kind::Call && leads_with_column(node, None)
    }) {
        return true;
    }
    // `Index("ix", Order.user_id)` at module level.
    let Owner::Model(class) = owner else {
        return false;
    };
    let class_name = class
        .field(Field::Name)
        .map_or("", |name| node_text(name, source));
    facts
        .calls
        .iter()
        .any(|site| site.scope.is_none() && leads_with_column(site.call, Some(class_name)))
}

/// The first column an index names: `"user_id"`, `user_id`, or `Order.user_id` (when
/// `qualified_by` is `Some("Order")`, only that form).
fn leading_column<'s>(call: Node, source: &'s str, qualified_by: Option<&str>) -> Option<&'s str> {
    let arguments = positional_arguments(call);
    // `Index(name, *columns)`; the constraints take columns first.
    let first_column = if last_name(call, source) == Some("Index") {
        arguments.get(1)
    } else {
        arguments.first()
    };
    let column = *first_column?;
    match (column.python_kind(), qualified_by) {
        (Kind::String, None) => string_value(column, source),
        (Kind::Identifier, None) => Some(node_text(column, source)),
        (Kind::Attribute, Some(class)) => {
            let object = column.field(Field::Object)?;
            (node_text(object, source) == class)
                .then(|| {
                    column
                        .field(Field::Attribute)
                        .map(|name| node_text(name, source))
                })
                .flatten()
        }
        _ => None,
    }
}
