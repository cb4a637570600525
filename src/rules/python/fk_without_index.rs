//! ## What it does
//! Finds SQLAlchemy foreign-key columns that no index leads with:
//! `Column(..., ForeignKey(...))` and `mapped_column(ForeignKey(...))` in declarative
//! models (also Flask-SQLAlchemy's `db.Column`/`db.ForeignKey`), `Column("name",
//! ForeignKey(...))` inside `Table(...)`, and SQLModel's `Field(foreign_key="user.id")`.
//!
//! A column is covered by `index=True`, `unique=True` or `primary_key=True`, or when it is
//! the first column of an `Index(...)`, `UniqueConstraint(...)` or
//! `PrimaryKeyConstraint(...)` in the model's `__table_args__`, in the `Table(...)`, or at
//! module level (`Index("ix_orders_user_id", Order.user_id)`).
//!
//! Alembic migrations (modules that take `op` from `alembic`) are not checked: the
//! models some declare are snapshots for a data migration, not the schema.
//!
//! In `.sql` files: a column's `REFERENCES`, a table's `FOREIGN KEY (...)` and `ALTER
//! TABLE ... ADD FOREIGN KEY` whose first column no index of the workspace leads with
//! (a `CREATE INDEX`, primary key or unique constraint in any SQL file), once every
//! SQL file of the workspace is known. The fix adds `CREATE INDEX table_column_idx ON
//! table (column);` after the statement.
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
//! writes. In SQL, the fix adds a `CREATE INDEX` statement after the one that declares
//! the key; in a migration on an existing table, build it `CONCURRENTLY`
//! (`create-index-not-concurrently` says so).
//!
//! ## Known problems
//! In Python, indexes created elsewhere (another module, a raw SQL migration) are not
//! seen yet. Composite `ForeignKeyConstraint(...)`s are not checked.

use ruff_python_ast::{Expr, ExprCall, Stmt, StmtClassDef};

use super::checker::{Checker, Hooks, Parent};
use super::helpers::{
    AnyNode, add_keyword_arguments, any_node, any_node_in, calls_in_scope, is_true, string_value,
};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "fk-without-index",
    languages: &[Language::Python, Language::Sql],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A SQLAlchemy foreign-key column with no index (PostgreSQL does not add one)",
    triggers: &["ForeignKey", "foreign_key", "references"],
    python_triggers: None,
    text_test: Some(mentions_columns),
    workspace_trigger: None,
    check: Check::AstAndTree(
        Hooks {
            call: Some(check),
            ..Hooks::NONE
        },
        crate::rules::sql::foreign_keys::fk_without_index,
    ),
    reads: Projections::IMPORTS.and(Projections::INDEXES),
};

/// Constructs whose first column is indexed.
const INDEXING: &[&str] = &["Index", "UniqueConstraint", "PrimaryKeyConstraint"];

/// Where a column is declared.
enum Owner<'t> {
    /// A declarative model's class body.
    Model(&'t StmtClassDef),
    /// A `Table(...)` call.
    Table(&'t ExprCall),
}

/// The rule only looks at `ForeignKey`s inside `Column(...)`/`mapped_column(...)` (Django's
/// `models.ForeignKey` is another thing).
fn mentions_columns(text: &str) -> bool {
    text.contains("Column")
        || text.contains("mapped_column")
        // SQLModel's `Field(foreign_key=...)`.
        || crate::rules::prefilter::places_of(text, "foreign_key").any(|at| {
            crate::rules::prefilter::after_gap(text, at + "foreign_key".len()).starts_with('=')
        })
}

fn check<'c>(checker: &Checker<'c, '_>, foreign_key: &'c ExprCall, findings: &mut Vec<Finding>) {
    // A migration's tables are a snapshot of their time; its indexes are its own ops.
    if checker.in_migration() {
        return;
    }
    if last_name(foreign_key) == Some("Field") {
        check_sqlmodel_field(checker, foreign_key, findings);
        return;
    }
    if last_name(foreign_key) != Some("ForeignKey") {
        return;
    }
    // A positional argument of `Column(...)` / `mapped_column(...)`.
    let ancestors = checker.ancestors();
    let Some(Parent::Expression(Expr::Call(column))) = ancestors.last() else {
        return;
    };
    let is_argument =
        column.arguments.args.iter().any(
            |argument| matches!(argument, Expr::Call(call) if std::ptr::eq(call, foreign_key)),
        );
    if !is_argument || !matches!(last_name(column), Some("Column" | "mapped_column")) {
        return;
    }
    if covered_by_itself(column) {
        return;
    }
    let explicit_name = column
        .arguments
        .args
        .first()
        .and_then(string_value)
        .map(str::to_string);
    let Some((name, owner)) = column_and_owner(
        checker,
        column,
        explicit_name,
        &ancestors[..ancestors.len() - 1],
    ) else {
        return;
    };
    let target = foreign_key.arguments.args.first();
    report(
        checker,
        foreign_key,
        column,
        &name,
        &owner,
        target,
        findings,
    );
}

/// SQLModel's `owner_id: int = Field(foreign_key="user.id")` in a model's body: the
/// column is named by the attribute.
fn check_sqlmodel_field<'c>(
    checker: &Checker<'c, '_>,
    field: &'c ExprCall,
    findings: &mut Vec<Finding>,
) {
    let Some(target) = field.arguments.find_keyword("foreign_key") else {
        return;
    };
    if target.value.is_none_literal_expr() || covered_by_itself(field) {
        return;
    }
    let Some((name, owner)) = column_and_owner(checker, field, None, checker.ancestors()) else {
        return;
    };
    report(
        checker,
        field,
        field,
        &name,
        &owner,
        Some(&target.value),
        findings,
    );
}

/// `index=True`, `unique=True` or `primary_key=True` on the column itself.
fn covered_by_itself(column: &ExprCall) -> bool {
    ["index", "unique", "primary_key"].iter().any(|keyword| {
        column
            .arguments
            .find_keyword(keyword)
            .is_some_and(|value| is_true(&value.value))
    })
}

/// The finding on `reported` (the `ForeignKey(...)`, or SQLModel's `Field(...)`) for the
/// column `name` that `column` declares, unless an index elsewhere leads with it.
fn report(
    checker: &Checker,
    reported: &ExprCall,
    column: &ExprCall,
    name: &str,
    owner: &Owner,
    target: Option<&Expr>,
    findings: &mut Vec<Finding>,
) {
    if indexed_elsewhere(checker, owner, name) {
        return;
    }
    let table = table_name(owner).unwrap_or_else(|| "this table".to_string());
    let target = target.map_or_else(String::new, |target| {
        string_value(target)
            .unwrap_or(checker.text(target))
            .to_string()
    });
    let mut finding = RULE.finding(
        checker.range(reported),
        format!(
            "`{table}.{name}` references `{target}` with no index: PostgreSQL does not index foreign keys, so joins on it and deletes from the parent scan the whole table"
        ),
    );
    finding.fix = add_keyword_arguments(checker, &column.arguments, &["index=True".to_string()])
        .map(|edit| Fix::safe("Add `index=True` to the column", vec![edit]));
    findings.push(finding);
}

/// `Column` for `Column(...)`, `sa.Column(...)`, `db.Column(...)`.
fn last_name(call: &ExprCall) -> Option<&str> {
    match &*call.func {
        Expr::Name(name) => Some(name.id.as_str()),
        Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
        _ => None,
    }
}

/// The column's name and where it is declared; `around` are the nodes that hold the
/// column's call, outermost first.
fn column_and_owner<'c>(
    checker: &Checker,
    column: &ExprCall,
    explicit_name: Option<String>,
    around: &[Parent<'c>],
) -> Option<(String, Owner<'c>)> {
    let (holder, outer) = match around {
        [.., outer, holder] => (holder, Some(outer)),
        [holder] => (holder, None),
        [] => return None,
    };
    // `user_id = Column(...)` (or `user_id: Mapped[int] = mapped_column(...)`), directly
    // in a class body.
    let target = match holder {
        Parent::Statement(Stmt::Assign(assignment)) => match assignment.targets.as_slice() {
            [target] => Some(target),
            _ => None,
        },
        Parent::Statement(Stmt::AnnAssign(assignment)) => Some(&*assignment.target),
        _ => None,
    };
    if let Some(target) = target {
        let Some(Parent::Statement(Stmt::ClassDef(class))) = outer else {
            return None;
        };
        let attribute = checker.text(target).to_string();
        return Some((explicit_name.unwrap_or(attribute), Owner::Model(class)));
    }
    // A positional argument of `Table(...)`.
    let Parent::Expression(Expr::Call(table)) = holder else {
        return None;
    };
    let is_argument = table
        .arguments
        .args
        .iter()
        .any(|argument| matches!(argument, Expr::Call(call) if std::ptr::eq(call, column)));
    (is_argument && last_name(table) == Some("Table"))
        .then_some(())
        .and(Some((explicit_name?, Owner::Table(table))))
}

fn table_name(owner: &Owner) -> Option<String> {
    match owner {
        Owner::Table(table) => table
            .arguments
            .args
            .first()
            .and_then(string_value)
            .map(str::to_string),
        Owner::Model(class) => class
            .body
            .iter()
            .find_map(|statement| {
                let Stmt::Assign(assignment) = statement else {
                    return None;
                };
                let [Expr::Name(target)] = assignment.targets.as_slice() else {
                    return None;
                };
                (target.id.as_str() == "__tablename__")
                    .then(|| string_value(&assignment.value).map(str::to_string))
                    .flatten()
            })
            // SQLModel names a table after its class, in lower case.
            .or_else(|| {
                let sqlmodel_table = class
                    .arguments
                    .as_deref()
                    .and_then(|arguments| arguments.find_keyword("table"))
                    .is_some_and(|table| is_true(&table.value));
                Some(if sqlmodel_table {
                    class.name.to_lowercase()
                } else {
                    class.name.to_string()
                })
            }),
    }
}

/// An index or constraint that leads with the column: in the model's `__table_args__`,
/// in the `Table(...)`, or at module level on `Model.column`.
fn indexed_elsewhere(checker: &Checker, owner: &Owner, column: &str) -> bool {
    let leads_with_column = |call: &ExprCall, qualified_by: Option<&str>| {
        INDEXING.contains(&last_name(call).unwrap_or(""))
            && leading_column(call, qualified_by).is_some_and(|leading| leading == column)
    };
    let is_index = |node: AnyNode| matches!(node, AnyNode::Expression(Expr::Call(call)) if leads_with_column(call, None));
    let class = match owner {
        Owner::Model(class) => {
            if any_node(&class.body, is_index)
                || class
                    .arguments
                    .as_deref()
                    .is_some_and(|bases| bases.args.iter().any(|base| any_node_in(base, is_index)))
            {
                return true;
            }
            class
        }
        Owner::Table(table) => {
            return table
                .arguments
                .args
                .iter()
                .chain(
                    table
                        .arguments
                        .keywords
                        .iter()
                        .map(|keyword| &keyword.value),
                )
                .any(|argument| any_node_in(argument, is_index));
        }
    };
    // `Index("ix", Order.user_id)` at module level.
    checker.module_bodies().into_iter().any(|(_, body)| {
        calls_in_scope(body)
            .into_iter()
            .any(|call| leads_with_column(call, Some(class.name.as_str())))
    })
}

/// The first column an index names: `"user_id"`, `user_id`, or `Order.user_id` (when
/// `qualified_by` is `Some("Order")`, only that form).
fn leading_column(call: &ExprCall, qualified_by: Option<&str>) -> Option<String> {
    let arguments = &call.arguments.args;
    // `Index(name, *columns)`; the constraints take columns first.
    let first_column = if last_name(call) == Some("Index") {
        arguments.get(1)
    } else {
        arguments.first()
    };
    let column = first_column?;
    match (column, qualified_by) {
        (Expr::StringLiteral(_), None) => string_value(column).map(str::to_string),
        (Expr::Name(name), None) => Some(name.id.to_string()),
        // (The index may stand in another item: its text is not read.)
        (Expr::Attribute(attribute), Some(class)) => {
            matches!(&*attribute.value, Expr::Name(object) if object.id.as_str() == class)
                .then(|| attribute.attr.to_string())
        }
        _ => None,
    }
}

/// The byte ranges of the module-level calls that make an index or constraint (the
/// indexes `indexed_elsewhere` reads there), in order: what the editor hashes to know
/// when they change.
pub fn module_level_index_calls(context: &crate::rules::Context) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    for (base, summary) in super::checker::item_summaries(context) {
        found.extend(
            summary
                .module_calls
                .iter()
                .filter(|(last, _)| INDEXING.contains(&last.as_str()))
                .map(|(_, range)| base + range.start..base + range.end),
        );
    }
    found
}
