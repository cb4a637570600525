//! The tables a Python module's SQLAlchemy models declare, as schema operations:
//! declarative classes (`__tablename__`, `Mapped[...]`/`mapped_column`, `Column`),
//! Flask-SQLAlchemy's `db.Model` (named after the class, in snake case), SQLModel's
//! `table=True` classes (the class name, lower-cased; `Field(primary_key=...,
//! foreign_key="t.c")`), and Core's `Table("name", metadata, Column(...), ...)`.
//!
//! Read from Ruff's tree of each top-level statement; the module is parsed only when
//! its text can declare a table (`may_declare_tables`).

use std::ops::Range;

use ruff_python_ast::{Expr, ExprCall, Keyword, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use super::model::FileSchema;
use super::{Column, ColumnType, ForeignKey, Operation, Reference, qualified_name};
use crate::language::Language;
use crate::syntax::Syntax;

/// Whether a module can declare a table, by what it imports and its text: it imports
/// SQLAlchemy or SQLModel (`imports_database`) or uses Flask-SQLAlchemy's `db.Model`,
/// and its text has a marker of a declaration (`may_declare_tables`). Most modules are
/// told by their imports alone, with no scan of their text.
pub fn can_declare_tables(text: &[u8], imports_database: bool) -> bool {
    (imports_database || memchr::memmem::find(text, b"db.Model").is_some())
        && may_declare_tables(text)
}

/// Whether a text has a marker of a table's declaration (the others are not parsed
/// for it): `__tablename__`, `table=True`, `db.Model` or `Table(`, each as a name of
/// its own (`sa.Table(` but not `CreateTable(`, `table=True` but not
/// `editable=True`).
pub fn may_declare_tables(text: &[u8]) -> bool {
    ["__tablename__", "table=True", "db.Model", "Table("]
        .iter()
        .any(|marker| {
            memchr::memmem::find_iter(text, marker.as_bytes()).any(|at| {
                at == 0 || !(text[at - 1].is_ascii_alphanumeric() || text[at - 1] == b'_')
            })
        })
}

/// The tables the module whose text is `text` declares.
pub fn read(text: &str) -> FileSchema {
    if !may_declare_tables(text.as_bytes()) {
        return FileSchema::default();
    }
    match Syntax::parse(Language::Python, text) {
        Some(syntax) => read_parsed(text, &syntax),
        None => FileSchema::default(),
    }
}

/// `read` of a module already split into items (an open document's: the items it has
/// parsed already are not parsed again).
pub fn read_parsed(text: &str, syntax: &Syntax) -> FileSchema {
    if !may_declare_tables(text.as_bytes()) {
        return FileSchema::default();
    }
    let mut operations = Vec::new();
    let mut unnamed_models = false;
    for item in syntax.items() {
        // Only the statements that can declare a table are parsed.
        let declares = text
            .get(item.range.clone())
            .is_some_and(|item| may_declare_tables(item.as_bytes()));
        let Some(ast) = item.python_ast(text).filter(|_| declares) else {
            continue;
        };
        let at = |node: &dyn Ranged| {
            let range = node.range();
            item.range.start + usize::from(range.start())
                ..item.range.start + usize::from(range.end())
        };
        for statement in &ast.body {
            match statement {
                Stmt::ClassDef(class) => {
                    unnamed_models |= names_tables(class);
                    operations.extend(model_class(class, &at));
                }
                Stmt::Assign(assign) => {
                    if let Expr::Call(call) = &*assign.value {
                        operations.extend(core_table(call, &at));
                    }
                }
                _ => {}
            }
        }
    }
    FileSchema::new(operations).with_unnamed_models(unnamed_models)
}

/// Whether a class makes its subclasses' table names (`@declared_attr def
/// __tablename__(cls)` on a declarative base): the models that derive from it name
/// no table that can be read.
fn names_tables(class: &StmtClassDef) -> bool {
    class.body.iter().any(|statement| {
        matches!(statement, Stmt::FunctionDef(function) if function.name.as_str() == "__tablename__")
    })
}

/// The index a column's `index=True` asks for, where the column is written.
pub(super) fn index_of_column(table: &str, column: &Column) -> Operation {
    Operation::CreateIndex {
        table: table.to_string(),
        range: column.range.clone(),
        columns: vec![column.name.clone()],
        unique: false,
        concurrently: false,
    }
}

pub(super) type At<'a> = &'a dyn Fn(&dyn Ranged) -> Range<usize>;

/// A model class's table, when it maps one.
fn model_class(class: &StmtClassDef, at: At) -> Vec<Operation> {
    let mut table_name = None;
    let mut abstract_class = false;
    // Single-table inheritance: a subclass with a `polymorphic_identity` shares its
    // parent's table; a class with `polymorphic_on` has subclasses that add columns.
    let mut polymorphic_identity = false;
    let mut polymorphic_on = false;
    for statement in &class.body {
        let (target, value) = match statement {
            Stmt::Assign(assign) => (assign.targets.first(), Some(&*assign.value)),
            Stmt::AnnAssign(assign) => (Some(&*assign.target), assign.value.as_deref()),
            _ => continue,
        };
        match (target.and_then(name_of), value) {
            (Some("__tablename__"), Some(value)) => {
                table_name = string_of(value).map(str::to_string)
            }
            (Some("__abstract__"), Some(Expr::BooleanLiteral(literal))) => {
                abstract_class = literal.value
            }
            (Some("__mapper_args__"), Some(Expr::Dict(arguments))) => {
                for item in &arguments.items {
                    match item.key.as_ref().and_then(string_of) {
                        Some("polymorphic_identity") => polymorphic_identity = true,
                        Some("polymorphic_on") => polymorphic_on = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let arguments = class.arguments.as_deref();
    let sqlmodel_table = arguments.is_some_and(|arguments| {
        arguments.keywords.iter().any(|keyword| {
            keyword
                .arg
                .as_ref()
                .is_some_and(|arg| arg.as_str() == "table")
                && matches!(&keyword.value, Expr::BooleanLiteral(literal) if literal.value)
        })
    });
    // Flask-SQLAlchemy's `db.Model` (Django's `models.Model` is not SQLAlchemy's).
    let flask_model = arguments.is_some_and(|arguments| {
        arguments.args.iter().any(|base| {
            matches!(base, Expr::Attribute(attribute)
                if attribute.attr.as_str() == "Model"
                    && matches!(&*attribute.value, Expr::Name(name) if name.id.as_str() == "db"))
        })
    });
    let name = match table_name {
        Some(name) => name,
        None if sqlmodel_table => class.name.as_str().to_ascii_lowercase(),
        None if flask_model => snake_case(class.name.as_str()),
        None => return Vec::new(),
    };
    if abstract_class {
        return Vec::new();
    }
    let table = table_key(&name);
    let mut columns = Vec::new();
    let mut operations = Vec::new();
    for statement in &class.body {
        let (target, annotation, value) = match statement {
            Stmt::Assign(assign) => (assign.targets.first(), None, Some(&*assign.value)),
            Stmt::AnnAssign(assign) => (
                Some(&*assign.target),
                Some(&*assign.annotation),
                assign.value.as_deref(),
            ),
            _ => continue,
        };
        let Some(target) = target else { continue };
        let Some(attribute) = name_of(target).filter(|name| !name.starts_with("__")) else {
            continue;
        };
        let Some(column) = model_column(attribute, target, annotation, value, sqlmodel_table, at)
        else {
            continue;
        };
        if column.1 {
            operations.push(index_of_column(&table, &column.0));
        }
        columns.push(column.0);
    }
    // A subclass in single-table inheritance maps its parent's table.
    if polymorphic_identity
        && columns.iter().all(|column| !column.primary_key)
        && inherits_columns(class)
    {
        return operations;
    }
    // Columns a base class declares (a mixin's timestamps, an abstract base's `id`) are
    // not read, nor those subclasses add: such a table's columns are open.
    let derived = inherits_columns(class)
        || polymorphic_on
        || !columns.iter().any(|column| column.primary_key);
    operations.insert(
        0,
        Operation::CreateTable {
            table,
            range: at(&class.name),
            columns,
            primary_key: Vec::new(),
            unique: Vec::new(),
            foreign_keys: Vec::new(),
            derived,
            temporary: false,
        },
    );
    operations
}

/// Whether a model class has a base that may declare columns: any base but the
/// declarative base itself (`Base`, `db.Model`, `SQLModel`, `DeclarativeBase`, ...).
fn inherits_columns(class: &StmtClassDef) -> bool {
    const DECLARATIVE: &[&str] = &[
        "Base",
        "Model",
        "SQLModel",
        "DeclarativeBase",
        "DeclarativeBaseNoMeta",
        "AsyncAttrs",
        "MappedAsDataclass",
    ];
    class.arguments.as_deref().is_some_and(|arguments| {
        arguments
            .args
            .iter()
            .any(|base| last_name(base).is_none_or(|name| !DECLARATIVE.contains(&name)))
    })
}

/// A class attribute that maps a column, and whether it asks for an index
/// (`index=True`).
fn model_column(
    attribute: &str,
    target: &Expr,
    annotation: Option<&Expr>,
    value: Option<&Expr>,
    sqlmodel_table: bool,
    at: At,
) -> Option<(Column, bool)> {
    let call = match value {
        Some(Expr::Call(call)) => Some(call),
        _ => None,
    };
    let callee = call.and_then(|call| last_name(&call.func));
    let annotated = annotation.and_then(mapped_type);
    let is_column_call = matches!(callee, Some("Column" | "mapped_column" | "Field"))
        && (callee != Some("Field") || sqlmodel_table);
    let is_column = match (callee, annotation) {
        _ if is_column_call => true,
        // `relationship(...)`, `Relationship(...)`, `column_property(...)`, ...
        (Some(_), _) => false,
        // `name: Mapped[int]` (declarative), `name: int = None` (SQLModel).
        (None, Some(annotation)) => {
            is_mapped(annotation) && annotated.is_some() || sqlmodel_table && annotated.is_some()
        }
        (None, None) => false,
    };
    if !is_column {
        return None;
    }
    let mut name = attribute.to_string();
    let mut ty = annotated.unwrap_or_default();
    let mut column = Column {
        name: String::new(),
        ty: ColumnType {
            name: String::new(),
            range: at(annotation.unwrap_or(target)),
        },
        range: at(target),
        primary_key: false,
        unique: false,
        identity: false,
        references: None,
    };
    let mut indexed = false;
    if let Some(call) = call {
        for (position, argument) in call.arguments.args.iter().enumerate() {
            match argument {
                // `Column("user_id", ...)`: the column's own name.
                Expr::StringLiteral(literal) if position == 0 => {
                    name = literal.value.to_str().to_string()
                }
                Expr::Call(inner) if last_name(&inner.func) == Some("ForeignKey") => {
                    column.references = inner
                        .arguments
                        .args
                        .first()
                        .and_then(|target| reference(target, at));
                }
                other => {
                    if let Some(sql) = sql_type(other) {
                        ty = sql;
                        column.ty.range = at(other);
                    }
                }
            }
        }
        for keyword in &call.arguments.keywords {
            let Some(arg) = keyword.arg.as_ref().map(|arg| arg.as_str()) else {
                continue;
            };
            match arg {
                // `mapped_column(Integer, name="fee_percent")`: the column's own name.
                "name" => {
                    if let Some(own) = string_of(&keyword.value) {
                        name = own.to_string();
                    }
                }
                "primary_key" => column.primary_key = is_true(keyword),
                "unique" => column.unique = is_true(keyword),
                "index" => indexed = is_true(keyword),
                "foreign_key" => column.references = reference(&keyword.value, at),
                "type_" | "sa_type" => {
                    if let Some(sql) = sql_type(&keyword.value) {
                        ty = sql;
                    }
                }
                _ => {}
            }
        }
    }
    column.name = name;
    column.ty.name = ty;
    Some((column, indexed))
}

/// `Table("name", metadata, Column(...), ..., schema="app")`.
fn core_table(call: &ExprCall, at: At) -> Vec<Operation> {
    if last_name(&call.func) != Some("Table") {
        return Vec::new();
    }
    table_of_call(call, at)
}

/// The table a call shaped as `Table("name", ..., Column(...), ...,
/// PrimaryKeyConstraint(...), ForeignKeyConstraint([...], [...]), schema=...)` makes:
/// Core's `Table` and Alembic's `op.create_table` alike.
pub(super) fn table_of_call(call: &ExprCall, at: At) -> Vec<Operation> {
    let Some(name_argument) = call.arguments.args.first() else {
        return Vec::new();
    };
    let Some(name) = string_of(name_argument) else {
        return Vec::new();
    };
    let schema = call
        .arguments
        .keywords
        .iter()
        .find(|keyword| {
            keyword
                .arg
                .as_ref()
                .is_some_and(|arg| arg.as_str() == "schema")
        })
        .and_then(|keyword| string_of(&keyword.value))
        .unwrap_or("");
    let table = qualified_name(schema, name);
    let mut columns = Vec::new();
    let mut operations = Vec::new();
    let mut primary_key = Vec::new();
    let mut unique = Vec::new();
    let mut foreign_keys = Vec::new();
    for argument in &call.arguments.args[1..] {
        let Expr::Call(column_call) = argument else {
            continue;
        };
        match last_name(&column_call.func) {
            Some("Column") => {}
            Some("PrimaryKeyConstraint") => {
                primary_key = strings_of(&column_call.arguments.args);
                continue;
            }
            Some("UniqueConstraint") => {
                unique.push(strings_of(&column_call.arguments.args));
                continue;
            }
            Some("ForeignKeyConstraint") => {
                foreign_keys.extend(foreign_key_constraint(column_call, at));
                continue;
            }
            _ => continue,
        }
        let Some(column_name) = column_call.arguments.args.first().and_then(string_of) else {
            continue;
        };
        let value = Expr::Call(column_call.clone());
        let Some((column, indexed)) =
            model_column(column_name, argument, None, Some(&value), false, at)
        else {
            continue;
        };
        if indexed {
            operations.push(index_of_column(&table, &column));
        }
        columns.push(column);
    }
    operations.insert(
        0,
        Operation::CreateTable {
            table,
            range: at(name_argument),
            columns,
            primary_key,
            unique,
            foreign_keys,
            derived: false,
            temporary: false,
        },
    );
    operations
}

/// `Column("name", Type, ...)` (`sa.Column`), as a column and whether it asks for an
/// index.
pub(super) fn column_of_call(call: &ExprCall, at: At) -> Option<(Column, bool)> {
    if last_name(&call.func) != Some("Column") {
        return None;
    }
    let name = call.arguments.args.first().and_then(string_of)?;
    let target = call.arguments.args.first()?;
    let value = Expr::Call(call.clone());
    model_column(name, target, None, Some(&value), false, at)
}

/// The strings of a list of arguments (`PrimaryKeyConstraint("id", "tenant")`), or of
/// the list they hold (`["id", "tenant"]`).
pub(super) fn strings_of(arguments: &[Expr]) -> Vec<String> {
    arguments
        .iter()
        .flat_map(|argument| match argument {
            Expr::List(list) => list.elts.iter().filter_map(string_of).collect(),
            Expr::Tuple(tuple) => tuple.elts.iter().filter_map(string_of).collect(),
            other => string_of(other).into_iter().collect::<Vec<_>>(),
        })
        .map(str::to_string)
        .collect()
}

/// `ForeignKeyConstraint(["user_id"], ["users.id"])`.
fn foreign_key_constraint(call: &ExprCall, at: At) -> Option<ForeignKey> {
    let [local, remote, ..] = &call.arguments.args[..] else {
        return None;
    };
    let columns = strings_of(std::slice::from_ref(local));
    let Expr::List(remote_list) = remote else {
        return None;
    };
    let first = remote_list.elts.first()?;
    let mut references = reference(first, at)?;
    references.columns = strings_of(std::slice::from_ref(remote))
        .iter()
        .filter_map(|target| target.rsplit('.').next().map(str::to_string))
        .collect();
    Some(ForeignKey {
        columns,
        references,
        range: at(call),
    })
}

/// `"users.id"` (or `"app.users.id"`) as a reference, pointed at the string.
fn reference(target: &Expr, at: At) -> Option<Reference> {
    let text = string_of(target)?;
    let mut parts: Vec<&str> = text.split('.').collect();
    let column = parts.pop()?;
    let table = parts.pop()?;
    let schema = parts.pop().unwrap_or("");
    Some(Reference {
        table: qualified_name(schema, table),
        schema: schema.to_string(),
        columns: vec![column.to_string()],
        range: at(target),
    })
}

/// PostgreSQL's name for a SQLAlchemy type (`Integer`, `sa.String(50)`,
/// `DateTime(timezone=True)`, `postgresql.UUID(as_uuid=True)`).
pub(super) fn sql_type(expression: &Expr) -> Option<String> {
    let (name, call) = match expression {
        Expr::Call(call) => (last_name(&call.func)?, Some(call)),
        other => (last_name(other)?, None),
    };
    let with_zone = call.is_some_and(|call| {
        call.arguments.keywords.iter().any(|keyword| {
            keyword
                .arg
                .as_ref()
                .is_some_and(|arg| arg.as_str() == "timezone")
                && is_true(keyword)
        })
    });
    Some(
        match name {
            "Integer" | "INTEGER" | "INT" => "integer",
            "BigInteger" | "BIGINT" => "bigint",
            "SmallInteger" | "SMALLINT" => "smallint",
            "String" | "Unicode" | "VARCHAR" | "NVARCHAR" => "varchar",
            "Text" | "UnicodeText" | "TEXT" | "AutoString" => "text",
            "UUID" | "Uuid" => "uuid",
            "DateTime" | "TIMESTAMP" if with_zone => "timestamptz",
            "DateTime" | "TIMESTAMP" | "DATETIME" => "timestamp",
            "Date" | "DATE" => "date",
            "Boolean" | "BOOLEAN" => "boolean",
            "Numeric" | "DECIMAL" | "NUMERIC" => "numeric",
            "Float" | "FLOAT" | "Double" | "DOUBLE_PRECISION" => "double precision",
            "JSON" => "json",
            "JSONB" => "jsonb",
            "LargeBinary" | "BYTEA" => "bytea",
            "Enum" => "enum",
            _ => return None,
        }
        .to_string(),
    )
}

/// The column type a `Mapped[...]` (or SQLModel) annotation stands for; `None` for a
/// relationship (`Mapped["User"]`, `Mapped[list[Order]]`) or anything unknown.
fn mapped_type(annotation: &Expr) -> Option<String> {
    let inner = match annotation {
        Expr::Subscript(subscript) if last_name(&subscript.value) == Some("Mapped") => {
            &*subscript.slice
        }
        other => other,
    };
    // `Optional[int]`, `int | None`.
    let inner = match inner {
        Expr::Subscript(subscript) if last_name(&subscript.value) == Some("Optional") => {
            &*subscript.slice
        }
        Expr::BinOp(union) if matches!(&*union.right, Expr::NoneLiteral(_)) => &*union.left,
        other => other,
    };
    Some(
        match last_name(inner)? {
            "int" => "integer",
            "str" => "varchar",
            "bool" => "boolean",
            "float" => "double precision",
            "datetime" => "timestamp",
            "date" => "date",
            "UUID" => "uuid",
            "Decimal" => "numeric",
            "bytes" => "bytea",
            "dict" => "json",
            _ => return None,
        }
        .to_string(),
    )
}

fn is_mapped(annotation: &Expr) -> bool {
    matches!(annotation, Expr::Subscript(subscript) if last_name(&subscript.value) == Some("Mapped"))
}

fn name_of(target: &Expr) -> Option<&str> {
    match target {
        Expr::Name(name) => Some(name.id.as_str()),
        _ => None,
    }
}

/// The last name of `a.b.c` or `c`.
pub(super) fn last_name(expression: &Expr) -> Option<&str> {
    match expression {
        Expr::Name(name) => Some(name.id.as_str()),
        Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
        _ => None,
    }
}

pub(super) fn string_of(expression: &Expr) -> Option<&str> {
    match expression {
        Expr::StringLiteral(literal) if !literal.value.is_implicit_concatenated() => {
            Some(literal.value.to_str())
        }
        _ => None,
    }
}

fn is_true(keyword: &Keyword) -> bool {
    matches!(&keyword.value, Expr::BooleanLiteral(literal) if literal.value)
}

/// A table key as written in `__tablename__` (PostgreSQL keeps a model's case: the
/// name is quoted in the DDL SQLAlchemy emits).
fn table_key(name: &str) -> String {
    name.to_string()
}

/// `OrderItem` → `order_item` (Flask-SQLAlchemy's default table name).
fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    let characters: Vec<char> = name.chars().collect();
    for (index, character) in characters.iter().enumerate() {
        if character.is_uppercase() && index > 0 {
            let after_lower =
                characters[index - 1].is_lowercase() || characters[index - 1].is_ascii_digit();
            let before_lower = characters
                .get(index + 1)
                .is_some_and(|next| next.is_lowercase());
            if after_lower || (before_lower && characters[index - 1].is_uppercase()) {
                snake.push('_');
            }
        }
        snake.extend(character.to_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column as the test compares it: name, type, primary key, referenced table.
    type ColumnSummary = (String, String, bool, Option<String>);

    fn tables(text: &str) -> Vec<(String, Vec<ColumnSummary>)> {
        read(text)
            .operations
            .into_iter()
            .filter_map(|operation| match operation {
                Operation::CreateTable { table, columns, .. } => Some((
                    table,
                    columns
                        .into_iter()
                        .map(|column| {
                            (
                                column.name,
                                column.ty.name,
                                column.primary_key,
                                column.references.map(|reference| reference.table),
                            )
                        })
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn declarative_flask_sqlmodel_and_core_tables() {
        let text = r#"
class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    team_id = Column(UUID(as_uuid=True), ForeignKey("teams.id"), index=True)
    orders: Mapped[list["Order"]] = relationship(back_populates="user")
    created: Mapped[datetime]

class OrderItem(db.Model):
    id = db.Column(db.Integer, primary_key=True)

class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(back_populates="heroes")

class HeroBase(SQLModel):
    name: str

class Article(models.Model):
    title = models.CharField(max_length=200)

audit = Table("audit_log", metadata, Column("id", BigInteger, primary_key=True), schema="ops")
"#;
        let found = tables(text);
        let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["users", "order_item", "hero", "ops.audit_log"]);
        assert_eq!(
            found[0].1,
            [
                ("id".into(), "integer".into(), true, None),
                ("email".into(), "varchar".into(), false, None),
                ("team_id".into(), "uuid".into(), false, Some("teams".into())),
                ("created".into(), "timestamp".into(), false, None),
            ]
        );
        assert_eq!(
            found[2].1,
            [
                ("id".into(), "integer".into(), true, None),
                (
                    "team_id".into(),
                    "integer".into(),
                    false,
                    Some("team".into())
                ),
            ]
        );
        assert_eq!(snake_case("HTTPRequestLog"), "http_request_log");
    }

    /// Single-table inheritance, columns named apart from their attribute, and a base
    /// that names its subclasses' tables.
    #[test]
    fn inheritance_column_names_and_unnamed_models() {
        let text = r#"
class Base(DeclarativeBase):
    @declared_attr.directive
    def __tablename__(cls):
        return cls.__name__.lower()


class Comment(Base):
    __tablename__ = "comments"
    __mapper_args__ = {"polymorphic_on": "type"}
    id = Column(Integer, primary_key=True)
    type = Column(String(20))


class PageComment(Comment):
    __tablename__ = "comments"
    __mapper_args__ = {"polymorphic_identity": "page"}


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    _fee: Mapped[int] = mapped_column(Integer, name="fee_percent")
"#;
        let schema = read(text);
        assert!(schema.unnamed_models);
        let tables: Vec<(String, Vec<String>, bool)> = schema
            .operations
            .iter()
            .filter_map(|operation| match operation {
                Operation::CreateTable {
                    table,
                    columns,
                    derived,
                    ..
                } => Some((
                    table.clone(),
                    columns.iter().map(|column| column.name.clone()).collect(),
                    *derived,
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            tables,
            [
                (
                    "comments".to_string(),
                    vec!["id".to_string(), "type".to_string()],
                    true
                ),
                (
                    "accounts".to_string(),
                    vec!["id".to_string(), "fee_percent".to_string()],
                    false
                ),
            ]
        );
    }
}
