//! The database schema as the project's files describe it: what each statement of a
//! `.sql` file (`from_sql`), each SQLAlchemy model (`from_models`) and each Alembic
//! migration's `upgrade()` (`from_alembic`) does to tables, columns, keys and indexes,
//! as a list of operations in text order. The workspace index keeps each file's
//! operations (and each migration's revision) and applies them, migrations in revision
//! order, to know what tables exist; rules read both.
//!
//! Names are as PostgreSQL folds them (`Users` → `users`, `"Users"` stays), with their
//! schema when it is not `public` (`app.users`, `qualified_name`); a name without one
//! finds the table in whichever schema holds it (`model::SchemaModel::table`).

pub mod from_alembic;
pub mod from_models;
pub mod from_sql;
pub mod model;
pub mod revisions;

use std::ops::Range;
use std::path::Path;

use crate::language::Language;
use crate::syntax::Syntax;
use model::FileSchema;

/// Whether a Python module may say something about the schema, by its path, its text
/// and its imports: it may declare models (`imports_database`: SQLAlchemy or
/// SQLModel), or be an Alembic migration, which imports Alembic or SQLAlchemy
/// (`imports_migration_library`; a plugin system's migration may take `op` as a
/// parameter and import `sqlalchemy` alone). The others are not parsed for it, nor
/// searched for a migration's marks.
pub fn python_may_describe(
    path: &Path,
    text: &[u8],
    imports_database: bool,
    imports_migration_library: bool,
) -> bool {
    from_models::can_declare_tables(text, imports_database)
        || from_alembic::in_versions_folder(path)
        || imports_migration_library && from_alembic::may_be_migration(text)
}

/// What the Python module at `path` says about the schema: an Alembic migration's
/// revision and what its `upgrade()` does, or else the tables its models declare.
/// `syntax` is the module's when it is split into items already (an open document's).
pub fn of_python(path: &Path, text: &str, syntax: Option<&Syntax>) -> FileSchema {
    if from_alembic::is_migration(Some(path), text) {
        let parsed;
        let syntax = match syntax {
            Some(syntax) => syntax,
            None => match Syntax::parse(Language::Python, text) {
                Some(syntax) => {
                    parsed = syntax;
                    &parsed
                }
                None => return FileSchema::default(),
            },
        };
        return from_alembic::file_schema(text, syntax).unwrap_or_default();
    }
    match syntax {
        Some(syntax) => from_models::read_parsed(text, syntax),
        None => from_models::read(text),
    }
}

/// The key the schema model gives a table: `schema.name` in a schema other than
/// `public`, else the name alone (a table is mostly named without its schema, which
/// the search path supplies).
pub fn qualified_name(schema: &str, name: &str) -> String {
    if schema.is_empty() || schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

/// Whether the SQL file at `path` undoes a migration (`*.down.sql`, Diesel's
/// `down.sql`, Flyway's `U3__name.sql`): it restores an older schema, so what it
/// declares is not the schema, and rules do not judge it as new design.
pub fn is_down_migration(path: Option<&std::path::Path>) -> bool {
    let Some(name) = path.and_then(std::path::Path::file_name) else {
        return false;
    };
    let name = name.to_string_lossy().to_ascii_lowercase();
    name == "down.sql"
        || name.ends_with(".down.sql")
        || name.ends_with("_down.sql")
        || is_versioned(&name, 'u')
}

/// Flyway's `V12__name.sql` (`prefix` `v`) or `U12__name.sql` (`u`), lower-cased.
pub fn is_versioned(name: &str, prefix: char) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.split_once("__"))
        .is_some_and(|(version, _)| {
            !version.is_empty()
                && version
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        })
}

/// A column's type, as written and as the family the rules compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnType {
    /// PostgreSQL's name for it, lower case, without modifiers (`integer`, `bigint`,
    /// `uuid`, `varchar`, `timestamp`, `timestamptz`, `serial`).
    pub name: String,
    /// Where it is written (offsets of the file or statement that holds it).
    pub range: Range<usize>,
}

/// What kind of key a column's type makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// `serial`/`bigserial`, identity columns, `integer`/`bigint`/`smallint`.
    Integer,
    Uuid,
    Text,
    Other,
}

impl ColumnType {
    pub fn key_kind(&self) -> KeyKind {
        match self.name.as_str() {
            "integer" | "bigint" | "smallint" | "serial" | "bigserial" | "smallserial" => {
                KeyKind::Integer
            }
            "uuid" => KeyKind::Uuid,
            "text" | "varchar" | "char" | "citext" => KeyKind::Text,
            _ => KeyKind::Other,
        }
    }

    /// The type a column referencing a key of this type stores (`serial` → `integer`).
    pub fn stored(&self) -> &str {
        match self.name.as_str() {
            "serial" => "integer",
            "bigserial" => "bigint",
            "smallserial" => "smallint",
            name => name,
        }
    }
}

/// A reference to a table's column (`REFERENCES users (id)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub table: String,
    /// The schema it names (`auth` of `auth.users`), empty when none.
    pub schema: String,
    /// The columns named (none: the referenced table's primary key).
    pub columns: Vec<String>,
    /// Where the referenced table's name is written.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// Where the column's name is written.
    pub range: Range<usize>,
    pub primary_key: bool,
    pub unique: bool,
    pub identity: bool,
    pub references: Option<Reference>,
}

/// A foreign key: columns of a table that reference another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references: Reference,
    /// Where the constraint (or the referencing column) is written.
    pub range: Range<usize>,
}

/// What one statement (or migration operation) does to the schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateTable {
        table: String,
        /// Where the table's name is written.
        range: Range<usize>,
        columns: Vec<Column>,
        /// Table-level `PRIMARY KEY (...)` columns (column-level ones are on the column).
        primary_key: Vec<String>,
        /// Table-level unique constraints' columns.
        unique: Vec<Vec<String>>,
        /// Table-level foreign keys (column-level ones are on the column).
        foreign_keys: Vec<ForeignKey>,
        /// A partition of another table (`PARTITION OF`), or a copy (`LIKE`): its
        /// columns are the other table's.
        derived: bool,
        /// `CREATE TEMPORARY TABLE`: gone with the session, no part of the schema.
        temporary: bool,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
        range: Range<usize>,
    },
    AlterColumnType {
        table: String,
        column: String,
        ty: ColumnType,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
        range: Range<usize>,
    },
    RenameTable {
        from: String,
        to: String,
        range: Range<usize>,
    },
    DropTable {
        table: String,
        range: Range<usize>,
    },
    CreateIndex {
        table: String,
        /// Where the table's name is written.
        range: Range<usize>,
        /// The indexed columns, in order (an expression ends the list).
        columns: Vec<String>,
        unique: bool,
        concurrently: bool,
    },
    AddPrimaryKey {
        table: String,
        columns: Vec<String>,
    },
    AddUnique {
        table: String,
        columns: Vec<String>,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
}

impl Operation {
    /// Every range it holds set to `range` (an operation read from a statement written
    /// for another, pointed at what it was read from).
    pub fn placed_at(self, range: Range<usize>) -> Operation {
        self.mapped(&|_| range.clone())
    }

    /// Every range it holds moved by `by` bytes (a statement's offsets made the file's).
    pub fn shifted(self, by: usize) -> Operation {
        self.mapped(&|range| range.start + by..range.end + by)
    }

    /// Every range it holds replaced by what `map` makes of it.
    fn mapped(mut self, map: &dyn Fn(&Range<usize>) -> Range<usize>) -> Operation {
        let shift = |range: &mut Range<usize>| *range = map(range);
        let shift_column = |column: &mut Column| {
            shift(&mut column.range);
            shift(&mut column.ty.range);
            if let Some(reference) = &mut column.references {
                shift(&mut reference.range);
            }
        };
        match &mut self {
            Operation::CreateTable {
                range,
                columns,
                foreign_keys,
                ..
            } => {
                shift(range);
                columns.iter_mut().for_each(shift_column);
                for foreign_key in foreign_keys {
                    shift(&mut foreign_key.range);
                    shift(&mut foreign_key.references.range);
                }
            }
            Operation::AddColumn { column, .. } => shift_column(column),
            Operation::AlterColumnType { ty, .. } => shift(&mut ty.range),
            Operation::DropColumn { range, .. }
            | Operation::RenameColumn { range, .. }
            | Operation::RenameTable { range, .. }
            | Operation::DropTable { range, .. }
            | Operation::CreateIndex { range, .. } => shift(range),
            Operation::AddForeignKey { foreign_key, .. } => {
                shift(&mut foreign_key.range);
                shift(&mut foreign_key.references.range);
            }
            Operation::AddPrimaryKey { .. } | Operation::AddUnique { .. } => {}
        }
        self
    }
}

/// What a statement does with rows (the rules about `DELETE`/`UPDATE` read it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RowChange {
    #[default]
    None,
    Delete {
        table: String,
        has_where: bool,
    },
    Update {
        table: String,
        /// The columns it sets.
        columns: Vec<String>,
        has_where: bool,
    },
    Truncate,
}
