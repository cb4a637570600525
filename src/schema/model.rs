//! The schema of a whole workspace: the operations of every file that describes it
//! (`FileSchema`), applied file by file in path order, as tables with their columns,
//! keys and the columns indexes lead with. What rules ask of another file's tables.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::from_alembic::Revision;
use super::revisions::Revisions;
use super::{KeyKind, Operation};
use crate::language::Language;
use crate::syntax::Syntax;

/// What one file says about the schema: its operations, with the file's offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSchema {
    pub operations: Vec<Operation>,
    /// A hash of `operations` (what tells that a new text changed nothing).
    pub fingerprint: u64,
    /// The xxh3 of the text they were read from: an audit of that same text needs no
    /// reading of its own (`rules::sql::table`).
    pub source: u128,
    /// The Alembic revision an Alembic migration is (its operations are `upgrade()`'s).
    pub revision: Option<Revision>,
    /// The module declares a model whose table name cannot be read (its base makes
    /// `__tablename__`).
    pub unnamed_models: bool,
}

impl FileSchema {
    /// The schema a SQL file's text describes.
    pub fn of_sql(text: &str) -> FileSchema {
        match Syntax::parse(Language::Sql, text) {
            Some(syntax) => FileSchema::of_sql_parsed(text, &syntax),
            None => FileSchema::default(),
        }
    }

    /// `of_sql` of a text already split into items (an open document's).
    pub fn of_sql_parsed(text: &str, syntax: &Syntax) -> FileSchema {
        FileSchema::new(sql_operations(text, syntax)).read_from(text)
    }

    pub fn new(operations: Vec<Operation>) -> FileSchema {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        operations.hash(&mut hasher);
        FileSchema {
            fingerprint: hasher.finish(),
            operations,
            source: 0,
            revision: None,
            unnamed_models: false,
        }
    }

    /// These operations, from a module that declares a model whose table name cannot
    /// be read (`unnamed`).
    pub fn with_unnamed_models(mut self, unnamed: bool) -> FileSchema {
        if unnamed {
            self.fingerprint = self.fingerprint.wrapping_add(1);
        }
        self.unnamed_models = unnamed;
        self
    }

    /// These operations as the `upgrade()` of the Alembic migration `revision`.
    pub fn of_revision(mut self, revision: Revision) -> FileSchema {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.fingerprint.hash(&mut hasher);
        revision.hash(&mut hasher);
        self.fingerprint = hasher.finish();
        self.revision = Some(revision);
        self
    }

    /// These operations, as read from `text`.
    pub fn read_from(mut self, text: &str) -> FileSchema {
        self.source = xxhash_rust::xxh3::xxh3_128(text.as_bytes());
        self
    }

    /// Whether it says nothing: no operation, no revision of a migration chain, no
    /// model whose table name cannot be read.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty() && self.revision.is_none() && !self.unnamed_models
    }
}

/// The operations of a SQL text already split into items, at the text's offsets, in
/// order (no fingerprint: `rules::sql` reads its own file's this way per audit).
pub fn sql_operations(text: &str, syntax: &Syntax) -> Vec<Operation> {
    syntax
        .items()
        .iter()
        .flat_map(|item| {
            item.sql(text).statements.iter().flat_map(move |statement| {
                let at = item.range.start + statement.range.start;
                statement
                    .schema
                    .operations
                    .iter()
                    .map(move |operation| operation.clone().shifted(at))
            })
        })
        .collect()
}

/// Where something is written: a file and a byte range of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub path: Arc<Path>,
    pub range: Range<usize>,
}

/// A table as the workspace's files leave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    pub name: String,
    /// Every `CREATE TABLE` of it.
    pub created: Vec<Place>,
    pub columns: Vec<TableColumn>,
    /// Its primary key's columns (empty: none is declared).
    pub primary_key: Vec<String>,
    /// The first column of each index, primary key and unique constraint.
    pub index_leads: Vec<String>,
    /// A partition or copy of another table (`PARTITION OF`, `LIKE`): its columns and
    /// keys come from there.
    pub derived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableColumn {
    pub name: String,
    /// PostgreSQL's name of its type (`integer`, `uuid`, `serial`).
    pub ty: String,
    pub key_kind: KeyKind,
    pub place: Place,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&TableColumn> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The column of a single-column primary key.
    pub fn key_column(&self) -> Option<&TableColumn> {
        match &self.primary_key[..] {
            [only] => self.column(only),
            _ => None,
        }
    }

    /// This table as the workspace has it, with what `local` (the same table as one
    /// file's current text has it) says taking precedence: its columns and key, and
    /// its indexes added.
    pub fn overlaid_by(&self, local: &Table) -> Table {
        let mut merged = self.clone();
        for column in &local.columns {
            merged.columns.retain(|kept| kept.name != column.name);
            merged.columns.push(column.clone());
        }
        if !local.primary_key.is_empty() {
            merged.primary_key = local.primary_key.clone();
        }
        for lead in &local.index_leads {
            if !merged.index_leads.contains(lead) {
                merged.index_leads.push(lead.clone());
            }
        }
        merged.derived |= local.derived;
        merged
    }

    /// This table with the indexes `local` has added to its own.
    pub fn with_index_leads_of(&self, local: &Table) -> Table {
        let mut merged = self.clone();
        for lead in &local.index_leads {
            if !merged.index_leads.contains(lead) {
                merged.index_leads.push(lead.clone());
            }
        }
        merged
    }

    /// A migration tool's own table (`schema_migrations`, `alembic_version`,
    /// `flyway_schema_history`, `storage.migrations`): its key says nothing of the
    /// schema's design.
    pub fn is_bookkeeping(&self) -> bool {
        let name = self.name.rsplit('.').next().unwrap_or(&self.name);
        name == "migrations"
            || name.ends_with("_migrations")
            || name.starts_with("schema_version")
            || name == "alembic_version"
            || name == "flyway_schema_history"
    }

    /// Whether every file that creates it is a test's (a copy of another service's
    /// schema, a fixture: `test/db/auth.sql`): no part of the project's own design. The
    /// file's folder and the one above it are read, not the whole path (the project
    /// itself may sit in a folder named `tests`).
    pub fn only_in_tests(&self) -> bool {
        !self.created.is_empty()
            && self.created.iter().all(|place| {
                place.path.ancestors().skip(1).take(2).any(|folder| {
                    folder.file_name().is_some_and(|name| {
                        matches!(
                            name.to_string_lossy().to_ascii_lowercase().as_str(),
                            "test" | "tests" | "testdata" | "fixtures" | "spec"
                        )
                    })
                })
            })
    }

    /// A hash of what it holds (what a workspace read records).
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// Every table of the workspace.
#[derive(Debug, Default)]
pub struct SchemaModel {
    tables: HashMap<String, Arc<Table>>,
    /// Each table's `Table::fingerprint`, worked out once.
    fingerprints: HashMap<String, u64>,
    /// Every table that some file creates (or renames a table to), with every column
    /// it ever had, whatever later operations drop or rename: a migration history
    /// refers to tables and columns as they were when it was written.
    ever: HashMap<String, History>,
    /// `tables`' and `ever`'s keys by the name alone.
    unqualified: (Unqualified, Unqualified),
    /// Some model's table name cannot be read (a `declared_attr` `__tablename__` of
    /// its base): a table no file is seen to create may still be made.
    unnamed_models: bool,
    /// Every Alembic migration's revision.
    revisions: Revisions,
    /// What the migrations and the models each make of the tables (when the workspace
    /// has Alembic migrations).
    drift: Option<Drift>,
}

/// The tables as the migrations leave them (Alembic migrations and SQL files, in the
/// order they run) and as the SQLAlchemy models declare them, apart: what
/// `migration-model-drift` compares.
#[derive(Debug, Default)]
pub struct Drift {
    migrated: HashMap<String, Vec<String>>,
    /// Every table the migrations alter, one of them creates: they build the schema
    /// from nothing (else it was made another way, `create_all` or a dump, and what
    /// they do not create says nothing).
    migrations_build_schema: bool,
    /// Each table's columns, and whether the models leave them open (a base class may
    /// declare more).
    modelled: HashMap<String, (Vec<String>, bool)>,
    /// `migrated`'s and `modelled`'s keys by the name alone.
    unqualified: (Unqualified, Unqualified),
}

/// What the migrations and the models each say of one table (`Drift`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableDrift {
    /// The columns the migrations leave it with (`None`: no migration creates it).
    pub migrated: Option<Vec<String>>,
    /// The columns the models give it, and whether a base class may give more
    /// (`None`: no model maps it).
    pub modelled: Option<(Vec<String>, bool)>,
    /// The migrations build the whole schema (`Drift::migrations_build_schema`).
    pub migrations_build_schema: bool,
}

impl Drift {
    /// A hash of `of_table(name)`, worked out without copying it.
    pub fn fingerprint_of(&self, name: &str) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.migrated(name).hash(&mut hasher);
        self.modelled(name).hash(&mut hasher);
        self.migrations_build_schema.hash(&mut hasher);
        hasher.finish()
    }

    /// What the migrations and the models each say of the table `name`.
    pub fn of_table(&self, name: &str) -> TableDrift {
        TableDrift {
            migrated: self.migrated(name).map(<[String]>::to_vec),
            modelled: self
                .modelled(name)
                .map(|(columns, open)| (columns.to_vec(), open)),
            migrations_build_schema: self.migrations_build_schema,
        }
    }

    /// The files in run order, split into the migrations' tables and the models'.
    fn of(ordered: &[&(Arc<Path>, Arc<FileSchema>)]) -> Drift {
        let is_model = |path: &Path, file: &FileSchema| {
            file.revision.is_none() && path.extension().is_some_and(|extension| extension == "py")
        };
        let tables_of = |models: bool| {
            SchemaModel::applying(
                ordered
                    .iter()
                    .filter(move |(path, file)| is_model(path, file) == models)
                    .flat_map(|(path, file)| {
                        file.operations
                            .iter()
                            .map(move |operation| (path, operation))
                    }),
            )
            .tables
        };
        let columns = |table: &Table| {
            let mut names: Vec<String> = table
                .columns
                .iter()
                .map(|column| column.name.clone())
                .collect();
            names.sort();
            names
        };
        let mut created: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut altered: Vec<&str> = Vec::new();
        for (path, file) in ordered {
            if is_model(path, file) {
                continue;
            }
            for operation in &file.operations {
                match operation {
                    Operation::CreateTable { table, .. } => {
                        created.insert(table);
                    }
                    Operation::RenameTable { from, to, .. } => {
                        altered.push(from);
                        created.insert(to);
                    }
                    Operation::AddColumn { table, .. }
                    | Operation::DropColumn { table, .. }
                    | Operation::AlterColumnType { table, .. }
                    | Operation::RenameColumn { table, .. }
                    | Operation::AddForeignKey { table, .. } => altered.push(table),
                    _ => {}
                }
            }
        }
        let migrations_build_schema = altered.iter().all(|table| created.contains(table));
        let migrated: HashMap<String, Vec<String>> = tables_of(false)
            .into_iter()
            .map(|(name, table)| (name, columns(&table)))
            .collect();
        let modelled: HashMap<String, (Vec<String>, bool)> = tables_of(true)
            .into_iter()
            .map(|(name, table)| (name, (columns(&table), table.derived)))
            .collect();
        Drift {
            migrations_build_schema,
            unqualified: (
                Unqualified::of(migrated.keys()),
                Unqualified::of(modelled.keys()),
            ),
            migrated,
            modelled,
        }
    }

    /// The columns the migrations leave the table `name` with, sorted; `None` when no
    /// migration creates it.
    pub fn migrated(&self, name: &str) -> Option<&[String]> {
        self.migrated
            .get(name)
            .or_else(|| self.unqualified.0.find(&self.migrated, name))
            .map(Vec::as_slice)
    }

    /// The columns the models give the table `name`, sorted, and whether a base class
    /// may give it more; `None` when no model maps it.
    pub fn modelled(&self, name: &str) -> Option<(&[String], bool)> {
        self.modelled
            .get(name)
            .or_else(|| self.unqualified.1.find(&self.modelled, name))
            .map(|(columns, open)| (columns.as_slice(), *open))
    }
}

impl SchemaModel {
    /// Apply the operations of `files` (given in path order), file by file: Alembic
    /// migrations in the order their revisions run, in the places the path order gives
    /// migrations; the others in path order.
    pub fn build(files: &[(Arc<Path>, Arc<FileSchema>)]) -> SchemaModel {
        let revisions = Revisions::new(files.iter().filter_map(|(path, file)| {
            file.revision
                .clone()
                .map(|revision| (Arc::clone(path), revision))
        }));
        let mut ordered: Vec<&(Arc<Path>, Arc<FileSchema>)> = files.iter().collect();
        if !revisions.is_empty() {
            let by_path: HashMap<&Path, &(Arc<Path>, Arc<FileSchema>)> =
                files.iter().map(|file| (&*file.0, file)).collect();
            let mut in_run_order = revisions
                .run_order()
                .into_iter()
                .filter_map(|path| by_path.get(&*path).copied());
            for slot in &mut ordered {
                if slot.1.revision.is_some()
                    && let Some(next) = in_run_order.next()
                {
                    *slot = next;
                }
            }
        }
        let drift = (!revisions.is_empty()).then(|| Drift::of(&ordered));
        let operations = ordered.into_iter().flat_map(|(path, file)| {
            file.operations
                .iter()
                .map(move |operation| (path, operation))
        });
        let mut model = SchemaModel::applying(operations);
        model.unnamed_models = files.iter().any(|(_, file)| file.unnamed_models);
        model.revisions = revisions;
        model.drift = drift;
        model.fingerprints = model
            .tables
            .iter()
            .map(|(name, table)| (name.clone(), table.fingerprint()))
            .collect();
        model
    }

    /// The schema one file's operations describe, without fingerprints (an audit's
    /// view of its own text: `rules::sql`).
    pub fn of_file(path: &Arc<Path>, operations: &[Operation]) -> SchemaModel {
        SchemaModel::applying(operations.iter().map(|operation| (path, operation)))
    }

    fn applying<'o>(
        operations: impl Iterator<Item = (&'o Arc<Path>, &'o Operation)>,
    ) -> SchemaModel {
        let mut tables: HashMap<String, Table> = HashMap::new();
        let mut ever: HashMap<String, History> = HashMap::new();
        for (path, operation) in operations {
            remember(&mut ever, operation);
            apply(&mut tables, path, operation);
        }
        let fingerprints = HashMap::new();
        SchemaModel {
            unqualified: (Unqualified::of(tables.keys()), Unqualified::of(ever.keys())),
            tables: tables
                .into_iter()
                .map(|(name, table)| (name, Arc::new(table)))
                .collect(),
            fingerprints,
            ever,
            unnamed_models: false,
            revisions: Revisions::default(),
            drift: None,
        }
    }

    /// The tables as migrations and as models have them, apart; `None` when the
    /// workspace has no Alembic migration.
    pub fn drift(&self) -> Option<&Drift> {
        self.drift.as_ref()
    }

    /// The workspace's Alembic revisions.
    pub fn revisions(&self) -> &Revisions {
        &self.revisions
    }

    /// The `Table::fingerprint` of the table `name` stands for.
    pub fn fingerprint_of(&self, name: &str) -> Option<u64> {
        let table = self.table(name)?;
        self.fingerprints.get(&table.name).copied()
    }

    /// Every column the table `name` ever had, sorted; `None` when no file ever
    /// creates it (names are found as `table` finds them). Empty when the table exists
    /// but its columns are not all known: files only alter it, or a model whose table
    /// name cannot be read may make it.
    pub fn history(&self, name: &str) -> Option<Vec<String>> {
        let Some(history) = self
            .ever
            .get(name)
            .or_else(|| self.unqualified.1.find(&self.ever, name))
        else {
            return self.unnamed_models.then(Vec::new);
        };
        if !history.created {
            return Some(Vec::new());
        }
        let mut columns: Vec<String> = history.columns.iter().cloned().collect();
        columns.sort();
        Some(columns)
    }

    /// The table a name (as `qualified_name` writes it) stands for: a name without a
    /// schema finds a table of that name in another schema when `public` has none (the
    /// search path may hold it), as long as only one schema has one.
    pub fn table(&self, name: &str) -> Option<&Arc<Table>> {
        self.tables
            .get(name)
            .or_else(|| self.unqualified.0.find(&self.tables, name))
    }

    pub fn tables(&self) -> impl Iterator<Item = &Arc<Table>> {
        self.tables.values()
    }

    /// The kind of each table's single-column primary key whose kind is an integer
    /// or a UUID, sorted by table.
    pub fn key_kinds(&self) -> Vec<(String, KeyKind)> {
        let mut kinds: Vec<(String, KeyKind)> = self
            .tables
            .values()
            .filter(|table| !table.is_bookkeeping() && !table.only_in_tests())
            .filter_map(|table| {
                let kind = table.key_column()?.key_kind;
                matches!(kind, KeyKind::Integer | KeyKind::Uuid).then(|| (table.name.clone(), kind))
            })
            .collect();
        kinds.sort();
        kinds
    }
}

/// The columns a table ever had (`SchemaModel::ever`).
#[derive(Debug, Default, Clone)]
struct History {
    columns: std::collections::HashSet<String>,
    /// Some file creates it (else files only alter it: its first columns are unknown).
    created: bool,
}

/// Record the tables and columns `operation` makes (`SchemaModel::ever`).
fn remember(ever: &mut HashMap<String, History>, operation: &Operation) {
    match operation {
        Operation::CreateTable {
            table,
            columns,
            temporary: false,
            ..
        } => {
            let history = ever.entry(table.clone()).or_default();
            history.created = true;
            history
                .columns
                .extend(columns.iter().map(|column| column.name.clone()));
        }
        Operation::AddColumn { table, column } => {
            ever.entry(table.clone())
                .or_default()
                .columns
                .insert(column.name.clone());
        }
        Operation::RenameColumn { table, to, .. } => {
            ever.entry(table.clone())
                .or_default()
                .columns
                .insert(to.clone());
        }
        Operation::RenameTable { from, to, .. } => {
            let renamed = ever.get(from).cloned().unwrap_or_default();
            let history = ever.entry(to.clone()).or_default();
            history.created |= renamed.created;
            history.columns.extend(renamed.columns);
        }
        _ => {}
    }
}

/// A map's keys that name a schema (`auth.users`), by the name alone (`users`): what a
/// name written without its schema finds (`None`: more than one schema has one).
#[derive(Debug, Default)]
struct Unqualified(HashMap<String, Option<String>>);

impl Unqualified {
    fn of<'k>(keys: impl Iterator<Item = &'k String>) -> Unqualified {
        let mut names: HashMap<String, Option<String>> = HashMap::new();
        for key in keys {
            if let Some((_, name)) = key.rsplit_once('.') {
                names
                    .entry(name.to_string())
                    .and_modify(|found| *found = None)
                    .or_insert_with(|| Some(key.clone()));
            }
        }
        Unqualified(names)
    }

    /// `unqualified_match` in constant time.
    fn find<'t, T>(&self, map: &'t HashMap<String, T>, name: &str) -> Option<&'t T> {
        if name.contains('.') {
            return None;
        }
        map.get(self.0.get(name)?.as_ref()?)
    }
}

/// The one table of another schema named `name` (which has no schema itself).
fn unqualified_match<'t, T>(tables: &'t HashMap<String, T>, name: &str) -> Option<&'t T> {
    if name.contains('.') {
        return None;
    }
    let mut found = tables.iter().filter(|(key, _)| {
        key.rsplit_once('.')
            .is_some_and(|(_, unqualified)| unqualified == name)
    });
    let (_, first) = found.next()?;
    found.next().is_none().then_some(first)
}

/// The key of the table `name` stands for among `tables` (itself when none).
fn resolved(tables: &HashMap<String, Table>, name: &str) -> String {
    if tables.contains_key(name) {
        return name.to_string();
    }
    unqualified_match(tables, name).map_or_else(|| name.to_string(), |table| table.name.clone())
}

fn apply(tables: &mut HashMap<String, Table>, path: &Arc<Path>, operation: &Operation) {
    let place = |range: &Range<usize>| Place {
        path: Arc::clone(path),
        range: range.clone(),
    };
    match operation {
        Operation::CreateTable {
            table,
            range,
            columns,
            primary_key,
            unique,
            foreign_keys: _,
            derived,
            temporary: false,
        } => {
            let entry = tables.entry(table.clone()).or_insert_with(|| Table {
                name: table.clone(),
                created: Vec::new(),
                columns: Vec::new(),
                primary_key: Vec::new(),
                index_leads: Vec::new(),
                derived: false,
            });
            entry.created.push(place(range));
            entry.derived |= *derived;
            for column in columns {
                add_column(entry, path, column);
            }
            if !primary_key.is_empty() {
                entry.primary_key = primary_key.clone();
            }
            if let Some(first) = primary_key.first() {
                entry.index_leads.push(first.clone());
            }
            entry
                .index_leads
                .extend(unique.iter().filter_map(|columns| columns.first().cloned()));
        }
        Operation::AddColumn { table, column } => {
            if let Some(entry) = tables.get_mut(&resolved(tables, table)) {
                add_column(entry, path, column);
            }
        }
        Operation::DropColumn { table, column, .. } => {
            if let Some(entry) = tables.get_mut(&resolved(tables, table)) {
                entry.columns.retain(|kept| kept.name != *column);
            }
        }
        Operation::AlterColumnType { table, column, ty } => {
            if let Some(kept) = tables
                .get_mut(table)
                .and_then(|entry| entry.columns.iter_mut().find(|kept| kept.name == *column))
            {
                kept.ty = ty.name.clone();
                kept.key_kind = ty.key_kind();
            }
        }
        Operation::RenameColumn {
            table, from, to, ..
        } => {
            if let Some(entry) = tables.get_mut(&resolved(tables, table)) {
                for column in entry
                    .columns
                    .iter_mut()
                    .filter(|column| column.name == *from)
                {
                    column.name = to.clone();
                }
                for name in entry
                    .primary_key
                    .iter_mut()
                    .chain(entry.index_leads.iter_mut())
                    .filter(|name| *name == from)
                {
                    *name = to.clone();
                }
            }
        }
        Operation::RenameTable { from, to, .. } => {
            if let Some(mut entry) = tables.remove(&resolved(tables, from)) {
                entry.name = to.clone();
                tables.insert(to.clone(), entry);
            }
        }
        Operation::DropTable { table, .. } => {
            tables.remove(&resolved(tables, table));
        }
        Operation::CreateIndex { table, columns, .. } => {
            if let (Some(entry), Some(first)) =
                (tables.get_mut(&resolved(tables, table)), columns.first())
            {
                entry.index_leads.push(first.clone());
            }
        }
        Operation::AddPrimaryKey { table, columns } => {
            if let Some(entry) = tables.get_mut(&resolved(tables, table)) {
                entry.primary_key = columns.clone();
                entry.index_leads.extend(columns.first().cloned());
            }
        }
        Operation::AddUnique { table, columns } => {
            if let Some(entry) = tables.get_mut(&resolved(tables, table)) {
                entry.index_leads.extend(columns.first().cloned());
            }
        }
        Operation::AddForeignKey { .. } | Operation::CreateTable { .. } => {}
    }
}

fn add_column(table: &mut Table, path: &Arc<Path>, column: &super::Column) {
    if column.primary_key {
        table.primary_key = vec![column.name.clone()];
    }
    if column.primary_key || column.unique {
        table.index_leads.push(column.name.clone());
    }
    let ty = column.ty.name.clone();
    table.columns.retain(|kept| kept.name != column.name);
    table.columns.push(TableColumn {
        name: column.name.clone(),
        key_kind: column.ty.key_kind(),
        ty,
        place: Place {
            path: Arc::clone(path),
            range: column.range.clone(),
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_build_one_schema() {
        let users = FileSchema::of_sql(
            "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE);\nALTER TABLE users ADD COLUMN team_id uuid;\nCREATE INDEX ix_users_team ON users (team_id);\n",
        );
        let orders = FileSchema::of_sql(
            "CREATE TABLE orders (id uuid, user_id integer REFERENCES users (id));\nALTER TABLE orders ADD PRIMARY KEY (id);\nALTER TABLE users RENAME COLUMN email TO login;\nCREATE TABLE schema_migrations (version bigint PRIMARY KEY);\n",
        );
        let model = SchemaModel::build(&[
            (Arc::from(Path::new("a.sql")), Arc::new(users)),
            (Arc::from(Path::new("b.sql")), Arc::new(orders)),
        ]);
        let users = model.table("users").expect("users");
        let columns: Vec<(&str, &str)> = users
            .columns
            .iter()
            .map(|column| (column.name.as_str(), column.ty.as_str()))
            .collect();
        assert_eq!(
            columns,
            [("id", "serial"), ("login", "text"), ("team_id", "uuid")]
        );
        assert_eq!(users.index_leads, ["id", "login", "team_id"]);
        assert_eq!(model.table("orders").expect("orders").primary_key, ["id"]);
        assert_eq!(
            model.key_kinds(),
            [
                ("orders".to_string(), KeyKind::Uuid),
                ("users".to_string(), KeyKind::Integer)
            ]
        );
    }

    /// Alembic migrations run in revision order, whatever their file names say.
    #[test]
    fn migrations_apply_in_revision_order() {
        let migration = |text: &str| {
            let syntax = Syntax::parse(Language::Python, text).expect("parses");
            super::super::from_alembic::file_schema(text, &syntax).expect("a migration")
        };
        let renames = migration(
            "revision = \"2f\"\ndown_revision = \"1e\"\ndef upgrade():\n    op.rename_table(\"users\", \"accounts\")\n",
        );
        let creates = migration(
            "revision = \"1e\"\ndown_revision = None\ndef upgrade():\n    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n",
        );
        let model = SchemaModel::build(&[
            (
                Arc::from(Path::new("versions/2f_rename.py")),
                Arc::new(renames),
            ),
            (
                Arc::from(Path::new("versions/e1_create.py")),
                Arc::new(creates),
            ),
        ]);
        assert!(model.table("users").is_none());
        assert_eq!(
            model.table("accounts").expect("renamed").primary_key,
            ["id"]
        );
    }
}
