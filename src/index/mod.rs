//! The workspace index: facts of every module, by its path (read again when its text
//! changes), and the answers to what a name imported from one module holds in another.
//!
//! Facts are read from one file's text alone (`python_facts`), so a file's facts
//! change only when its text does; answers are worked out when asked by following
//! facts from module to module, as Python would import them (`module_path`), so they
//! never depend on the order in which files were read. `check` asks for facts as
//! audits need them; the server reads every file of its workspace folders up front and
//! keeps the facts of open documents in step with their unsaved text.
//!
//! Each kind of fact is a module of its own (`python_facts` today); trees are never
//! kept here, only facts.

pub mod import_scan;
pub mod manifest;
pub mod module_path;
pub mod python_facts;
pub mod walk;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::DashMap;

use crate::rules::Libraries;
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::{
    ImportedKinds, MAX_VALUE_STEPS, Namespace, Value, derived_kind, settle,
};
use import_scan::{ImportedModule, libraries_of, scan_imports};
use manifest::{MANIFEST_FILES, Manifest, is_runtime_requirements};
use module_path::{ImportRoots, ModuleLocation, import_roots, module_files};
use python_facts::PythonFacts;

use crate::schema::KeyKind;
use crate::schema::model::{FileSchema, SchemaModel, Table};

/// One indexed file's facts. They are read again whenever its text changes (an edit
/// of the open document, a change on disk), so the path's entry always holds the
/// facts of its current text.
#[derive(Debug)]
pub struct IndexedFile {
    pub facts: PythonFacts,
    /// `facts.fingerprint()`, kept.
    pub fingerprint: u64,
}

/// A map keyed by a path's bytes (hashing a `Path` walks its components: it showed in
/// profiles of `check`).
type PathMap<V> = DashMap<Box<[u8]>, V, rustc_hash::FxBuildHasher>;

fn key(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// Module files found by dotted name (and where the module's part of the name ends),
/// for one set of import roots.
type FoundModules = DashMap<Box<str>, Option<(Arc<Path>, usize)>, rustc_hash::FxBuildHasher>;

/// A module for `libraries_reached`: its path, the client libraries it imports itself,
/// and the module files it imports (`modules_imported`).
pub type ImportingModule = (PathBuf, Libraries, Vec<Arc<Path>>);

/// What `kind_of_imported` is asked: the asking module's roots, the absolute target,
/// and whether it is called.
type Question = (Box<[u8]>, Box<str>, bool);

/// What `dependency_authenticates` is asked: the asking module's roots and the
/// absolute target.
type AuthQuestion = (Box<[u8]>, Box<str>);

/// The facts of a workspace's modules, shared by every audit (any thread).
#[derive(Debug, Default)]
pub struct WorkspaceIndex {
    /// Files read so far: `None` for a path that holds no readable Python module.
    files: PathMap<Option<Arc<IndexedFile>>>,
    /// The unsaved text of documents open in the editor, which stands for their file.
    open: PathMap<Arc<str>>,
    /// What each folder read so far holds (`None`: it cannot be read), for
    /// the module, package and marker files that place modules: one read of a folder
    /// answers every question about its files (a lookup asks about several names in
    /// each folder, and most answers are no).
    folder_files: PathMap<Option<Arc<FolderEntries>>>,
    /// Where each module file sits among its project's packages.
    locations: PathMap<Arc<ModuleLocation>>,
    /// The import roots of each folder holding modules (`module_path::import_roots`).
    folder_roots: PathMap<Arc<ImportRoots>>,
    /// `find_module`'s answers, by the asking module's roots and the dotted name;
    /// cleared whenever a file comes or goes.
    modules_found: DashMap<Box<[u8]>, Arc<FoundModules>, rustc_hash::FxBuildHasher>,
    /// Answers to `kind_of_imported`, by the asking module's roots, the absolute
    /// target and whether it is called; cleared whenever any facts change.
    answers: DashMap<Question, Option<BindingKind>, rustc_hash::FxBuildHasher>,
    /// Answers to `dependency_authenticates`, by the asking module's roots and the
    /// absolute target; cleared with `answers`.
    auth_answers: DashMap<AuthQuestion, Option<bool>, rustc_hash::FxBuildHasher>,
    /// The modules whose text includes routers (`include_router`): those whose facts
    /// tell which routers are included with dependencies.
    includers: DashMap<Box<[u8]>, Arc<Path>, rustc_hash::FxBuildHasher>,
    /// Whether `includers` holds every such module of the workspace (once the first
    /// walk is done): until then, whether a router is included with dependencies
    /// somewhere is unknown.
    includers_complete: std::sync::atomic::AtomicBool,
    /// The routers included with authenticating dependencies (`guarded_routers`);
    /// cleared with `answers` and when `includers` change.
    guarded: std::sync::RwLock<Option<Arc<GuardedRouters>>>,
    /// The import cycles of the workspace's modules, once their imports are all known
    /// (`set_import_graph`).
    cycles: std::sync::RwLock<Option<Arc<ImportCycles>>>,
    /// What the project whose root is each folder declares (`manifest::Manifest`),
    /// by that folder; `None` for a folder that holds no manifest. Cleared when a
    /// manifest changes.
    manifests: PathMap<Option<Arc<Manifest>>>,
    /// What each file that describes the database schema says (SQL files), by path.
    schema_files: PathMap<(Arc<Path>, Arc<FileSchema>)>,
    /// Whether `schema_files` holds every such file of the workspace (once the first
    /// walk is done): until then, whether a table exists nowhere is unknown.
    schema_complete: std::sync::atomic::AtomicBool,
    /// The workspace's schema, built from `schema_files` when first asked; cleared
    /// whenever one of them changes.
    schema: std::sync::RwLock<Option<Arc<SchemaModel>>>,
}

/// Each module that is part of an import cycle, with the cycle's number: two modules
/// with one number import each other, directly or through others.
pub type ImportCycles = std::collections::HashMap<Box<[u8]>, usize, rustc_hash::FxBuildHasher>;

/// A router where it is made: its module's path and its name there.
pub type RouterOrigin = (Arc<Path>, Box<str>);

/// The routers that some module includes with an authenticating dependency, or into an
/// app or router that has one, followed through includes of includes.
pub type GuardedRouters = std::collections::HashSet<RouterOrigin, rustc_hash::FxBuildHasher>;

impl WorkspaceIndex {
    pub fn new() -> WorkspaceIndex {
        WorkspaceIndex::default()
    }

    /// The facts of the Python module at `path` (absolute), read on first ask.
    pub fn file(&self, path: &Path) -> Option<Arc<IndexedFile>> {
        if let Some(known) = self.files.get(key(path)) {
            return known.clone();
        }
        let read = self.read(path);
        // Two threads may read one file at once: both read the same facts.
        self.files.insert(key(path).into(), read.clone());
        read
    }

    fn read(&self, path: &Path) -> Option<Arc<IndexedFile>> {
        let text: Arc<str> = match self.open.get(key(path)) {
            Some(open) => open.clone(),
            None => {
                let bytes = std::fs::read(path).ok()?;
                String::from_utf8(bytes).ok()?.into()
            }
        };
        Some(Arc::new(IndexedFile::read(&text)))
    }

    /// An open document's unsaved `text` stands for the file at `path`, with `file`
    /// its facts (`IndexedFile::read`, worked out off the index). Returns whether its
    /// facts differ from what the index held.
    pub fn put_open(&self, path: &Path, text: Arc<str>, file: IndexedFile) -> bool {
        let before = self.file(path).map(|known| known.fingerprint);
        if before.is_none() {
            // A module new to the workspace (not on disk yet).
            self.modules_found.clear();
            self.forget_folder_of(path);
        }
        self.open.insert(key(path).into(), text);
        let changed = before != Some(file.fingerprint);
        self.files.insert(key(path).into(), Some(Arc::new(file)));
        if changed {
            self.forget_answers();
        }
        changed
    }

    /// Whether the facts of the module at `path` were read (an audit asked about a
    /// name it defines): until then, a new text of it needs no facts read.
    pub fn facts_were_read(&self, path: &Path) -> bool {
        self.files.contains_key(key(path))
    }

    /// `put_open` of a module whose facts nobody has read (`facts_were_read`): they are
    /// read from `text` when first asked. Returns whether facts that an audit may have
    /// read meanwhile were dropped.
    pub fn put_open_unread(&self, path: &Path, text: Arc<str>) -> bool {
        if !self.exists(path) {
            // A module new to the workspace (not on disk yet).
            self.modules_found.clear();
            self.forget_folder_of(path);
        }
        self.open.insert(key(path).into(), text);
        let dropped = self.files.remove(key(path)).is_some();
        if dropped {
            self.forget_answers();
        }
        dropped
    }

    /// The document at `path` was closed: its file on disk stands for it again.
    /// Returns whether its facts changed.
    pub fn close(&self, path: &Path) -> bool {
        let before = self.file(path).map(|file| file.fingerprint);
        self.open.remove(key(path));
        self.files.remove(key(path));
        let changed = before != self.file(path).map(|file| file.fingerprint);
        if changed {
            self.forget_answers();
        }
        changed
    }

    /// The file at `path` changed on disk (made, changed or deleted). Returns whether
    /// what the index says of it changed.
    pub fn file_changed_on_disk(&self, path: &Path) -> bool {
        let before = self
            .files
            .get(key(path))
            .map(|known| known.as_ref().map(|file| file.fingerprint));
        self.forget_folder_of(path);
        // A module file came or went: names may resolve to other files now.
        self.modules_found.clear();
        if is_placing_file(path) {
            // A package or project marker came or went: modules may sit elsewhere now.
            self.locations.clear();
            self.folder_roots.clear();
            self.folder_files.clear();
        }
        if is_manifest_file(path) {
            // What projects require may differ now: asked again.
            self.manifests.clear();
            if path.extension().is_none_or(|extension| extension != "py") {
                self.forget_answers();
                return true;
            }
        }
        if self.open.contains_key(key(path)) {
            return false;
        }
        self.files.remove(key(path));
        let now = self.file(path).map(|file| file.fingerprint);
        let changed = before != Some(now) || is_placing_file(path);
        if changed {
            self.forget_answers();
        }
        changed
    }

    fn exists(&self, path: &Path) -> bool {
        if self.open.contains_key(key(path)) {
            return true;
        }
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return path.is_file();
        };
        self.folder_entries(folder)
            .is_some_and(|entries| entries.files.contains(name.as_encoded_bytes()))
    }

    /// What `folder` holds, read on first ask; `None` when it cannot be read. A folder
    /// its parent does not list is not opened (most module lookups ask
    /// for folders that do not exist: `os/`, `typing/` under each import root).
    fn folder_entries(&self, folder: &Path) -> Option<Arc<FolderEntries>> {
        if let Some(known) = self.folder_files.get(key(folder)) {
            return known.clone();
        }
        let listed = match (folder.parent(), folder.file_name()) {
            (Some(parent), Some(name)) => self
                .folder_entries(parent)
                .map(|entries| entries.folders.contains(name.as_encoded_bytes())),
            _ => None,
        };
        let read = if listed == Some(false) {
            None
        } else {
            read_folder(folder)
        };
        self.folder_files.insert(key(folder).into(), read.clone());
        read
    }

    /// A file came or went at `path`: its folder, and the folders above (a new folder
    /// may have come with it), are read again when next asked.
    fn forget_folder_of(&self, path: &Path) {
        for folder in path.ancestors().skip(1) {
            self.folder_files.remove(key(folder));
        }
    }

    /// Where the module at `path` sits.
    pub fn location(&self, path: &Path) -> Arc<ModuleLocation> {
        if let Some(known) = self.locations.get(key(path)) {
            return known.clone();
        }
        // Every module of a folder has the folder's roots: worked out once per folder.
        let folder = path.parent().unwrap_or(Path::new("/"));
        let roots = match self.folder_roots.get(key(folder)) {
            Some(known) => known.clone(),
            None => {
                let roots = Arc::new(ImportRoots::new(import_roots(folder, &|candidate| {
                    self.exists(candidate)
                })));
                self.folder_roots
                    .insert(key(folder).into(), Arc::clone(&roots));
                roots
            }
        };
        let location = Arc::new(ModuleLocation::in_roots(path, roots));
        self.locations.insert(key(path).into(), location.clone());
        location
    }

    /// What the name `target` (as the module at `importer` wrote it) holds, or with
    /// `call` what calling it gives.
    pub fn kind_of_imported(
        &self,
        importer: &Path,
        target: &str,
        call: bool,
    ) -> Option<BindingKind> {
        let location = self.location(importer);
        let absolute = location.absolute(target)?;
        let question = (location.roots.key.clone(), absolute.into_boxed_str(), call);
        if let Some(known) = self.answers.get(&question) {
            return *known;
        }
        let answer = self.kind_in(&location, &question.1, call, MAX_VALUE_STEPS);
        self.answers.insert(question, answer);
        answer
    }

    /// Whether the FastAPI dependency, alias or router `target` (as the module at
    /// `importer` wrote it) authenticates: its own guard does, or a dependency it takes,
    /// followed from module to module. `None` when `target` names nothing the
    /// workspace's modules define.
    pub fn dependency_authenticates(&self, importer: &Path, target: &str) -> Option<bool> {
        let location = self.location(importer);
        let absolute = location.absolute(target)?;
        let question = (location.roots.key.clone(), absolute.into_boxed_str());
        if let Some(known) = self.auth_answers.get(&question) {
            return *known;
        }
        let answer = self.authenticates_in(&location, &question.1, MAX_VALUE_STEPS);
        self.auth_answers.insert(question, answer);
        answer
    }

    /// `dependency_authenticates` of the absolute dotted `absolute`, for a module at
    /// `location`, following at most `steps` more steps.
    fn authenticates_in(
        &self,
        location: &ModuleLocation,
        absolute: &str,
        steps: u8,
    ) -> Option<bool> {
        let steps = steps.checked_sub(1)?;
        let (module, name) = self.top_level_name(location, absolute)?;
        self.name_authenticates(&module, name, steps)
    }

    /// The module file and the top-level name there that the absolute dotted
    /// `absolute` stands for (`None` for a module itself, an attribute of a name, or
    /// nothing of the workspace).
    fn top_level_name<'d>(
        &self,
        location: &ModuleLocation,
        absolute: &'d str,
    ) -> Option<(Arc<Path>, &'d str)> {
        let (module, name) = self.find_module(location, absolute)?;
        (!name.is_empty() && !name.contains('.')).then_some((module, name))
    }

    /// Whether the top-level `name` of the module at `module` authenticates.
    fn name_authenticates(&self, module: &Path, name: &str, steps: u8) -> Option<bool> {
        let steps = steps.checked_sub(1)?;
        let file = self.file(module)?;
        let facts = &file.facts;
        if let Some(guard) = facts.guards.get(name) {
            return Some(
                guard.authenticates
                    || guard
                        .depends_on
                        .iter()
                        .any(|value| self.value_authenticates(module, value, steps) == Some(true)),
            );
        }
        match facts.variables.get(name)? {
            // An instance made at module level (`writer = Authenticator(...)`) is judged
            // by its class or factory.
            value @ (Value::Local(_) | Value::Imported(_) | Value::Call(_)) => {
                self.value_authenticates(module, value, steps)
            }
            _ => None,
        }
    }

    /// Whether what `value` (of the module at `module`) names authenticates.
    fn value_authenticates(&self, module: &Path, value: &Value, steps: u8) -> Option<bool> {
        match value {
            Value::Local(name) => self.name_authenticates(module, name, steps),
            Value::Imported(target) => {
                let location = self.location(module);
                let absolute = location.absolute(target)?;
                self.authenticates_in(&location, &absolute, steps)
            }
            // An instance authenticates as its class does.
            Value::Call(callee) => self.value_authenticates(module, callee, steps),
            Value::Kind(_) => None,
        }
    }

    /// The name outside the workspace that the imported `target` (as the module at
    /// `importer` wrote it) stands for, followed through the modules of the workspace
    /// that import it and export it again; `None` when a module of the workspace
    /// defines it (or it leads nowhere).
    pub fn origin_outside(&self, importer: &Path, target: &str) -> Option<Box<str>> {
        let location = self.location(importer);
        let absolute = location.absolute(target)?;
        self.origin_outside_in(&location, &absolute, MAX_VALUE_STEPS)
    }

    fn origin_outside_in(
        &self,
        location: &ModuleLocation,
        absolute: &str,
        steps: u8,
    ) -> Option<Box<str>> {
        let steps = steps.checked_sub(1)?;
        let Some((module, name)) = self.find_module(location, absolute) else {
            return Some(absolute.into()); // no module of the workspace: a library's
        };
        if name.is_empty() || name.contains('.') {
            return None;
        }
        let file = self.file(&module)?;
        let Value::Imported(target) = file.facts.variables.get(name)? else {
            return None;
        };
        let location = self.location(&module);
        let absolute = location.absolute(target)?;
        self.origin_outside_in(&location, &absolute, steps)
    }

    fn forget_answers(&self) {
        self.answers.clear();
        self.auth_answers.clear();
        self.forget_guarded();
    }

    fn forget_guarded(&self) {
        if let Ok(mut guarded) = self.guarded.write() {
            *guarded = None;
        }
    }

    /// Whether the module at `path` includes routers (its text says `include_router`).
    pub fn set_includes_routers(&self, path: &Path, includes: bool) {
        let changed = if includes {
            self.includers
                .insert(key(path).into(), Arc::from(path))
                .is_none()
        } else {
            self.includers.remove(key(path)).is_some()
        };
        if changed {
            self.forget_guarded();
        }
    }

    /// Every module that includes routers has been told (`set_includes_routers`): the
    /// first walk of the workspace is done.
    pub fn includers_complete(&self) {
        self.includers_complete
            .store(true, std::sync::atomic::Ordering::Release);
        self.forget_guarded();
    }

    /// Whether the router `router` (a name of the module at `module`, made there or
    /// imported) is included somewhere with an authenticating dependency, or into an
    /// app or router that has one. `None` until every module that includes routers is
    /// known.
    pub fn router_guarded(&self, module: &Path, router: &str) -> Option<bool> {
        let guarded = self.guarded_routers()?;
        let origin = self.origin_of(module, router, MAX_VALUE_STEPS)?;
        Some(guarded.contains(&origin))
    }

    fn guarded_routers(&self) -> Option<Arc<GuardedRouters>> {
        if !self
            .includers_complete
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return None;
        }
        if let Some(known) = self.guarded.read().ok()?.as_ref() {
            return Some(Arc::clone(known));
        }
        let computed = Arc::new(self.compute_guarded_routers());
        if let Ok(mut guarded) = self.guarded.write() {
            *guarded = Some(Arc::clone(&computed));
        }
        Some(computed)
    }

    /// Read every include of every module that includes routers: a router is guarded
    /// when an include of it adds an authenticating dependency, or when the app or
    /// router it is included into authenticates by its own dependencies or is guarded.
    fn compute_guarded_routers(&self) -> GuardedRouters {
        let mut includers: Vec<Arc<Path>> = self
            .includers
            .iter()
            .map(|entry| Arc::clone(entry.value()))
            .collect();
        includers.sort();
        // (into, included, whether the include's own dependencies authenticate)
        let mut edges: Vec<(Option<RouterOrigin>, RouterOrigin, bool)> = Vec::new();
        for module in &includers {
            let Some(file) = self.file(module) else {
                continue;
            };
            for include in &file.facts.includes {
                let Some(router) = self.value_origin(module, &include.router) else {
                    continue;
                };
                let into = include
                    .into
                    .as_ref()
                    .and_then(|into| self.value_origin(module, into));
                let guard = &include.guard;
                let authenticates = guard.authenticates
                    || guard.depends_on.iter().any(|value| {
                        self.value_authenticates(module, value, MAX_VALUE_STEPS) == Some(true)
                    });
                edges.push((into, router, authenticates));
            }
        }
        let mut guarded = GuardedRouters::default();
        for (into, router, authenticates) in &edges {
            if *authenticates {
                guarded.insert(router.clone());
            }
            // An app or router whose own dependencies authenticate guards what it includes.
            if let Some(into) = into
                && self.origin_authenticates(into) == Some(true)
            {
                guarded.insert(into.clone());
            }
        }
        // Includes of includes: to the fixed point.
        loop {
            let before = guarded.len();
            for (into, router, _) in &edges {
                if into.as_ref().is_some_and(|into| guarded.contains(into)) {
                    guarded.insert(router.clone());
                }
            }
            if guarded.len() == before {
                return guarded;
            }
        }
    }

    /// Whether the app or router at `origin` authenticates by its own dependencies.
    fn origin_authenticates(&self, origin: &RouterOrigin) -> Option<bool> {
        self.name_authenticates(&origin.0, &origin.1, MAX_VALUE_STEPS)
    }

    /// Where the name `name` of the module at `module` is made: followed through
    /// imports and plain assignments to the module that binds it otherwise.
    fn origin_of(&self, module: &Path, name: &str, steps: u8) -> Option<RouterOrigin> {
        let steps = steps.checked_sub(1)?;
        let file = self.file(module)?;
        match file.facts.variables.get(name) {
            Some(value @ (Value::Local(_) | Value::Imported(_))) => {
                self.value_origin_within(module, value, steps)
            }
            _ => Some((Arc::from(module), name.into())),
        }
    }

    /// `origin_of` what `value` (of the module at `module`) names.
    fn value_origin(&self, module: &Path, value: &Value) -> Option<RouterOrigin> {
        self.value_origin_within(module, value, MAX_VALUE_STEPS)
    }

    fn value_origin_within(&self, module: &Path, value: &Value, steps: u8) -> Option<RouterOrigin> {
        let steps = steps.checked_sub(1)?;
        match value {
            Value::Local(name) => self.origin_of(module, name, steps),
            Value::Imported(target) => {
                let location = self.location(module);
                let absolute = location.absolute(target)?;
                let (file, name) = self.top_level_name(&location, &absolute)?;
                self.origin_of(&file, name, steps)
            }
            _ => None,
        }
    }

    fn kind_at(&self, importer: &Path, target: &str, call: bool, steps: u8) -> Option<BindingKind> {
        let location = self.location(importer);
        let absolute = location.absolute(target)?;
        self.kind_in(&location, &absolute, call, steps)
    }

    /// What the absolute dotted `absolute` holds (or gives when called) for a module at
    /// `location`, following at most `steps` more steps.
    fn kind_in(
        &self,
        location: &ModuleLocation,
        absolute: &str,
        call: bool,
        steps: u8,
    ) -> Option<BindingKind> {
        let steps = steps.checked_sub(1)?;
        // A method that derives an object of a known kind from another, called on an
        // imported name (`warehouse.duck.cursor()`, `cache.client.pipeline()`).
        if call
            && let Some((owner, method)) = absolute.rsplit_once('.')
            && let Some(kind) = self
                .top_level_name(location, owner)
                .and_then(|_| self.kind_in(location, owner, false, steps))
        {
            return derived_kind(kind, method);
        }
        // A module itself, or an attribute of a name (`settings.redis`): no kind.
        let (module, name) = self.top_level_name(location, absolute)?;
        let file = self.file(&module)?;
        let namespace = FileNamespace {
            index: self,
            path: &module,
            facts: &file.facts,
            steps,
        };
        let local = Value::Local(name.into());
        let value = if call {
            Value::Call(Box::new(local))
        } else {
            local
        };
        settle(&namespace, &value, steps)
    }

    /// The module file that holds the longest leading part of `dotted` under the first
    /// of `roots` that has one, and what of `dotted` is left (`""` for a module itself).
    fn find_module<'d>(
        &self,
        location: &ModuleLocation,
        dotted: &'d str,
    ) -> Option<(Arc<Path>, &'d str)> {
        // Modules import the same modules over and over (`django.db.models`): the
        // answers are kept per set of roots, and asked without allocating.
        let known = self
            .modules_found
            .get(&*location.roots.key)
            .map(|known| known.clone());
        let known = known.unwrap_or_else(|| {
            let known: Arc<FoundModules> = Arc::default();
            self.modules_found
                .entry(location.roots.key.clone())
                .or_insert(known)
                .clone()
        });
        let found = match known.get(dotted) {
            Some(found) => found.clone(),
            None => {
                let found = self.search_module(&location.roots.folders, dotted);
                known.insert(dotted.into(), found.clone());
                found
            }
        };
        let (file, end) = found?;
        Some((file, dotted.get(end + 1..).unwrap_or("")))
    }

    /// `find_module` without the memo: the file, and where the module's name ends.
    fn search_module(&self, roots: &[PathBuf], dotted: &str) -> Option<(Arc<Path>, usize)> {
        let mut end = dotted.len();
        loop {
            let module = &dotted[..end];
            for root in roots {
                for file in module_files(root, module) {
                    if self.exists(&file) {
                        return Some((Arc::from(file), end));
                    }
                }
            }
            end = module.rfind('.')?;
        }
    }
}

impl WorkspaceIndex {
    /// What the file at `path` says about the schema now (`None`: nothing, or it is
    /// gone). Returns whether that differs from what the index held.
    pub fn set_file_schema(&self, path: &Path, schema: Option<FileSchema>) -> bool {
        // A down migration restores an older schema: no part of the current one.
        let schema = schema
            .filter(|schema| !schema.is_empty() && !crate::schema::is_down_migration(Some(path)));
        let before = self
            .schema_files
            .get(key(path))
            .map(|known| known.1.fingerprint);
        if before == schema.as_ref().map(|schema| schema.fingerprint) {
            // The same schema from a new text (a comment typed): keep which text it is.
            if let (Some(schema), Some(mut known)) = (schema, self.schema_files.get_mut(key(path)))
            {
                known.1 = Arc::new(schema);
            }
            return false;
        }
        match schema {
            Some(schema) => {
                self.schema_files
                    .insert(key(path).into(), (Arc::from(path), Arc::new(schema)));
            }
            None => {
                self.schema_files.remove(key(path));
            }
        }
        if let Ok(mut model) = self.schema.write() {
            *model = None;
        }
        true
    }

    /// The xxh3 of the text whose schema the index holds for the file at `path`.
    pub fn schema_source_of(&self, path: &Path) -> Option<u128> {
        self.schema_files.get(key(path)).map(|known| known.1.source)
    }

    /// Every file that describes the schema has been told (`set_file_schema`): the
    /// first walk of the workspace is done.
    pub fn schema_complete(&self) {
        self.schema_complete
            .store(true, std::sync::atomic::Ordering::Release);
        if let Ok(mut model) = self.schema.write() {
            *model = None;
        }
    }

    /// The workspace's schema; `None` until every file that describes it is known.
    pub fn schema(&self) -> Option<Arc<SchemaModel>> {
        if !self
            .schema_complete
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return None;
        }
        if let Some(known) = self.schema.read().ok()?.as_ref() {
            return Some(Arc::clone(known));
        }
        let mut files: Vec<(Arc<Path>, Arc<FileSchema>)> = self
            .schema_files
            .iter()
            .map(|entry| entry.value().clone())
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let built = Arc::new(SchemaModel::build(&files));
        if let Ok(mut model) = self.schema.write() {
            *model = Some(Arc::clone(&built));
        }
        Some(built)
    }

    /// The client libraries each of `modules` can reach through imports: those it
    /// imports itself, and those any workspace module it imports can reach. Each module
    /// comes with its own libraries and the module files it imports
    /// (`modules_imported`); a module imported but not among them is read here.
    /// Cycles of imports are followed to their fixed point.
    pub fn libraries_reached(&self, modules: Vec<ImportingModule>) -> HashMap<PathBuf, Libraries> {
        // By the path's bytes: hashing a `Path` walks its components.
        let mut order: HashMap<Box<[u8]>, usize, rustc_hash::FxBuildHasher> =
            HashMap::with_capacity_and_hasher(modules.len(), rustc_hash::FxBuildHasher);
        for (at, (path, _, _)) in modules.iter().enumerate() {
            order.insert(key(path).into(), at);
        }
        let mut nodes = modules;
        let mut next = 0;
        while next < nodes.len() {
            let unknown: Vec<Arc<Path>> = nodes[next]
                .2
                .iter()
                .filter(|dependency| !order.contains_key(key(dependency)))
                .cloned()
                .collect();
            for dependency in unknown {
                let text = self
                    .open
                    .get(key(&dependency))
                    .map(|text| text.to_string())
                    .or_else(|| std::fs::read_to_string(&dependency).ok())
                    .unwrap_or_default();
                let imports = scan_imports(&text);
                let dependencies = self.modules_imported(&dependency, &imports);
                order.insert(key(&dependency).into(), nodes.len());
                nodes.push((
                    dependency.to_path_buf(),
                    libraries_of(&imports),
                    dependencies,
                ));
            }
            next += 1;
        }
        // Each library spreads from the modules that import it to their importers,
        // and theirs: one walk of the reversed imports per module that imports one.
        let mut importers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (at, (_, _, dependencies)) in nodes.iter().enumerate() {
            for dependency in dependencies {
                if let Some(&imported) = order.get(key(dependency)) {
                    importers[imported].push(at);
                }
            }
        }
        let mut reached: Vec<Libraries> =
            nodes.iter().map(|(_, libraries, _)| *libraries).collect();
        let mut pending: Vec<usize> = (0..nodes.len())
            .filter(|at| reached[*at] != Libraries::NONE)
            .collect();
        while let Some(at) = pending.pop() {
            for &importer in &importers[at] {
                let now = reached[importer].and(reached[at]);
                if now != reached[importer] {
                    reached[importer] = now;
                    pending.push(importer);
                }
            }
        }
        nodes
            .into_iter()
            .zip(reached)
            .map(|((path, _, _), libraries)| (path, libraries))
            .collect()
    }

    /// Every module of the workspace and the module files it imports (top-level and
    /// inside functions) are known now: work out its import cycles. Returns whether
    /// they differ from those known before.
    pub fn set_import_graph(&self, modules: &[ImportingModule]) -> bool {
        let mut order: HashMap<&[u8], usize, rustc_hash::FxBuildHasher> =
            HashMap::with_capacity_and_hasher(modules.len(), rustc_hash::FxBuildHasher);
        for (at, (path, _, _)) in modules.iter().enumerate() {
            order.insert(key(path), at);
        }
        let edges: Vec<Vec<usize>> = modules
            .iter()
            .map(|(_, _, files)| {
                files
                    .iter()
                    .filter_map(|file| order.get(key(file)).copied())
                    .collect()
            })
            .collect();
        let component = strongly_connected_components(&edges);
        let mut sizes = vec![0usize; modules.len()];
        for &number in &component {
            sizes[number] += 1;
        }
        let cycles: ImportCycles = modules
            .iter()
            .zip(&component)
            .filter(|(_, number)| sizes[**number] > 1)
            .map(|((path, _, _), number)| (key(path).into(), *number))
            .collect();
        let Ok(mut known) = self.cycles.write() else {
            return false;
        };
        // Cycle numbers depend on the order modules come in: compare who is with whom.
        let changed = known
            .as_ref()
            .is_none_or(|before| cycle_partners(before) != cycle_partners(&cycles));
        *known = Some(Arc::new(cycles));
        changed
    }

    /// Whether a module that `import` (an import statement of the module at
    /// `importer`) names imports it back, directly or through others. `None` until the
    /// workspace's imports are all known (`set_import_graph`).
    pub fn imports_back(&self, importer: &Path, import: &ImportedModule) -> Option<bool> {
        let cycles = self.cycles.read().ok()?.clone()?;
        let Some(own) = cycles.get(key(importer)) else {
            return Some(false);
        };
        let files = self.modules_imported(importer, std::slice::from_ref(import));
        Some(files.iter().any(|file| cycles.get(key(file)) == Some(own)))
    }

    /// Whether `import` (an import statement of the module at `importer`) takes an
    /// optional dependency: a module outside the standard library and the workspace
    /// that the importer's project does not require (`manifest::Manifest`). `None`
    /// when the project's requirements are unknown.
    pub fn imports_optional(&self, importer: &Path, import: &ImportedModule) -> Option<bool> {
        let top = import.module.split('.').next().unwrap_or("");
        if top.is_empty() || crate::rules::python::stdlib::is_stdlib_module(top) {
            // Relative imports are the project's own.
            return Some(false);
        }
        if !self
            .modules_imported(importer, std::slice::from_ref(import))
            .is_empty()
        {
            return Some(false);
        }
        let manifest = self.manifest_of(importer)?;
        manifest.requires(top).map(|required| !required)
    }

    /// Whether the module at `module` is one that its project's console scripts run
    /// (`[project.scripts]`, `[tool.poetry.scripts]`).
    pub fn runs_as_command(&self, module: &Path) -> bool {
        let Some(manifest) = self.manifest_of(module) else {
            return false;
        };
        let location = self.location(module);
        manifest
            .script_modules
            .iter()
            .any(|script| **script == *location.name)
    }

    /// The declarations of the project the file at `path` belongs to: those of the
    /// nearest folder above it that holds a manifest (`manifest::MANIFEST_FILES`, or
    /// requirements files).
    pub fn manifest_of(&self, path: &Path) -> Option<Arc<Manifest>> {
        for folder in path.ancestors().skip(1) {
            let known = self.manifests.get(key(folder)).map(|known| known.clone());
            let manifest = known.unwrap_or_else(|| {
                let read = self.read_manifest(folder);
                self.manifests.insert(key(folder).into(), read.clone());
                read
            });
            if manifest.is_some() {
                return manifest;
            }
        }
        None
    }

    /// The manifest of a project whose root is `folder`, or `None` when it holds none.
    fn read_manifest(&self, folder: &Path) -> Option<Arc<Manifest>> {
        let entries = self.folder_entries(folder)?;
        let is_requirements = |name: &&str| {
            name.starts_with("requirements") && (name.ends_with(".txt") || name.ends_with(".in"))
        };
        let names = |entries: &FolderEntries| -> Vec<String> {
            entries
                .files
                .iter()
                .filter_map(|name| std::str::from_utf8(name).ok())
                .map(str::to_string)
                .collect()
        };
        let mut requirement_files: Vec<PathBuf> = names(&entries)
            .iter()
            .filter(|name| is_requirements(&name.as_str()))
            .map(|name| folder.join(name))
            .collect();
        if entries.folders.contains(&b"requirements"[..]) {
            let nested = folder.join("requirements");
            if let Some(listed) = self.folder_entries(&nested) {
                requirement_files.extend(
                    names(&listed)
                        .iter()
                        .filter(|name| is_runtime_requirements(name))
                        .map(|name| nested.join(name)),
                );
            }
        }
        let has_manifest = MANIFEST_FILES
            .iter()
            .any(|name| entries.files.contains(name.as_bytes()));
        if !has_manifest && requirement_files.is_empty() {
            return None;
        }
        requirement_files.sort();
        let pyproject = std::fs::read_to_string(folder.join("pyproject.toml")).ok();
        let requirements: Vec<(String, String)> = requirement_files
            .iter()
            .filter_map(|path| {
                let name = path.file_name()?.to_str()?.to_string();
                Some((name, std::fs::read_to_string(path).ok()?))
            })
            .collect();
        Some(Arc::new(Manifest::read(
            pyproject.as_deref(),
            &requirements,
        )))
    }

    /// The workspace's module files that `imports` (those of the module at
    /// `importer`) name: each module, and each name taken from one that is a module.
    pub fn modules_imported(&self, importer: &Path, imports: &[ImportedModule]) -> Vec<Arc<Path>> {
        let location = self.location(importer);
        let mut found = Vec::new();
        for import in imports {
            let Some(module) = location.absolute(&import.module) else {
                continue;
            };
            let Some((file, rest)) = self.find_module(&location, &module) else {
                continue;
            };
            // Only a package has submodules to take by name (`from app import cache`).
            let is_package = rest.is_empty() && file.ends_with("__init__.py");
            if *file != *importer {
                found.push(file);
            }
            if !is_package {
                continue;
            }
            for name in &import.names {
                let target = format!("{module}.{name}");
                if let Some((file, "")) = self.find_module(&location, &target)
                    && *file != *importer
                {
                    found.push(file);
                }
            }
        }
        found
    }
}

/// The target of a `ReadAbout::Table` read: the table's name, then what the schema
/// says of it (`SchemaModel::fingerprint_of`; `None`: not known yet).
fn table_read(table: &str, schema: Option<&SchemaModel>) -> Box<str> {
    let answer = match schema.map(|schema| schema.fingerprint_of(table)) {
        None => "?".to_string(),
        Some(None) => "-".to_string(),
        Some(Some(fingerprint)) => format!("{fingerprint:x}"),
    };
    format!("{table} {answer}").into()
}

/// The target of a `ReadAbout::TableHistory` read.
fn history_read(table: &str, answer: Option<Option<&[String]>>) -> Box<str> {
    let answer = match answer {
        None => "?".to_string(),
        Some(None) => "-".to_string(),
        Some(Some(columns)) => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            columns.hash(&mut hasher);
            format!("{:x}", hasher.finish())
        }
    };
    format!("{table} {answer}").into()
}

/// The target of a `ReadAbout::KeyKinds` read.
fn key_kinds_read(kinds: Option<&[(String, KeyKind)]>) -> Box<str> {
    match kinds {
        None => "?".into(),
        Some(kinds) => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            kinds.hash(&mut hasher);
            format!("{:x}", hasher.finish()).into()
        }
    }
}

/// The target of a `ReadAbout::TableDrift` read: the table, then a hash of what the
/// migrations and models say of it (`?` while unknown, or with no Alembic migration).
fn drift_read(table: &str, schema: Option<&SchemaModel>) -> Box<str> {
    match schema.and_then(SchemaModel::drift) {
        None => format!("{table} ?").into(),
        Some(drift) => format!("{table} {:x}", drift.fingerprint_of(table)).into(),
    }
}

/// The target of a `ReadAbout::RevisionChain` read by the module at `importer`.
fn revisions_read(schema: Option<&SchemaModel>, importer: &Path) -> Box<str> {
    match schema {
        None => "?".into(),
        Some(schema) => format!("{:x}", schema.revisions().fingerprint_without(importer)).into(),
    }
}

/// The target of a `ReadAbout::Origin` read: the name asked about, then its answer.
fn origin_read(target: &str, origin: Option<&str>) -> Box<str> {
    format!("{target} {}", origin.unwrap_or("")).into()
}

/// The modules of each cycle, each sorted, in order (what `ImportCycles` says, whatever
/// the numbering).
fn cycle_partners(cycles: &ImportCycles) -> Vec<Vec<&[u8]>> {
    let mut groups: HashMap<usize, Vec<&[u8]>> = HashMap::new();
    for (path, number) in cycles {
        groups.entry(*number).or_default().push(path);
    }
    let mut groups: Vec<Vec<&[u8]>> = groups
        .into_values()
        .map(|mut group| {
            group.sort_unstable();
            group
        })
        .collect();
    groups.sort_unstable();
    groups
}

/// The strongly connected components of a graph given by each node's successors:
/// each node's component number (Tarjan's algorithm, with a stack of its own instead of
/// recursion: import chains run deep).
fn strongly_connected_components(edges: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let count = edges.len();
    let (mut index, mut low) = (vec![UNSEEN; count], vec![0; count]);
    let mut on_stack = vec![false; count];
    let mut component = vec![UNSEEN; count];
    let (mut stack, mut next_index, mut next_component) = (Vec::new(), 0, 0);
    for root in 0..count {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, how many of its successors were followed)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(node, followed)) = work.last() {
            if let Some(&next) = edges[node].get(followed) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[next] == UNSEEN {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// The names of the files (links to files too) and of the folders in a folder.
#[derive(Debug, Default)]
struct FolderEntries {
    files: std::collections::HashSet<Box<[u8]>, rustc_hash::FxBuildHasher>,
    folders: std::collections::HashSet<Box<[u8]>, rustc_hash::FxBuildHasher>,
}

/// What `folder` holds (nothing when there is no such folder), or `None` when it
/// cannot be read (what it holds is unknown).
fn read_folder(folder: &Path) -> Option<Arc<FolderEntries>> {
    let mut entries = FolderEntries::default();
    let listing = match std::fs::read_dir(folder) {
        Ok(listing) => listing,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Some(Arc::new(entries));
        }
        Err(_) => return None,
    };
    for entry in listing.flatten() {
        let kind = match entry.file_type() {
            Ok(kind) if kind.is_symlink() => {
                std::fs::metadata(entry.path()).map(|meta| meta.file_type())
            }
            other => other,
        };
        let name: Box<[u8]> = entry.file_name().as_encoded_bytes().into();
        match kind {
            Ok(kind) if kind.is_file() => {
                entries.files.insert(name);
            }
            Ok(kind) if kind.is_dir() => {
                entries.folders.insert(name);
            }
            _ => {}
        }
    }
    Some(Arc::new(entries))
}

/// A package's `__init__.py` or a file that marks a project's root.
/// Whether the file at `path` declares what a project requires (`manifest`).
pub fn is_manifest_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| {
            MANIFEST_FILES.contains(&name)
                || (name.ends_with(".txt") || name.ends_with(".in"))
                    && (name.starts_with("requirements")
                        || path
                            .parent()
                            .is_some_and(|folder| folder.ends_with("requirements")))
        })
}

fn is_placing_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| {
            matches!(
                name,
                "__init__.py" | "pyproject.toml" | "setup.py" | "setup.cfg" | "alembic.ini"
            )
        })
}

impl IndexedFile {
    /// The facts of a module whose text is `text`.
    pub fn read(text: &str) -> IndexedFile {
        IndexedFile::with_facts(PythonFacts::of(text))
    }

    /// `read` of a text already parsed as `syntax`.
    pub fn from_parsed(text: &str, syntax: &crate::syntax::Syntax) -> IndexedFile {
        IndexedFile::with_facts(PythonFacts::of_parsed(text, syntax))
    }

    fn with_facts(facts: PythonFacts) -> IndexedFile {
        IndexedFile {
            fingerprint: facts.fingerprint(),
            facts,
        }
    }
}

/// One indexed module as `settle` reads it.
struct FileNamespace<'i> {
    index: &'i WorkspaceIndex,
    path: &'i Path,
    facts: &'i PythonFacts,
    steps: u8,
}

impl Namespace for FileNamespace<'_> {
    fn variable(&self, name: &str) -> Option<Value> {
        if let Some(value) = self.facts.variables.get(name) {
            return Some(value.clone());
        }
        // `from .models import *`: the first module starred that has the name.
        self.facts.star_imports.iter().find_map(|module| {
            let target = format!("{module}.{name}");
            let location = self.index.location(self.path);
            let absolute = location.absolute(&target)?;
            let (file, rest) = self.index.find_module(&location, &absolute)?;
            let facts = &self.index.file(&file)?.facts;
            (rest == name
                && (facts.variables.contains_key(name) || facts.functions.contains_key(name)))
            .then(|| Value::Imported(target.into()))
        })
    }

    fn function_return(&self, name: &str) -> Option<Option<Value>> {
        self.facts.functions.get(name).cloned()
    }

    fn imported(&self, target: &str, call: bool) -> Option<BindingKind> {
        self.index.kind_at(self.path, target, call, self.steps)
    }
}

/// What an editor's audit of one module reads of its workspace: the index, the
/// module's path, and the client libraries it reaches through imports.
#[derive(Clone)]
pub struct WorkspaceView {
    pub index: Arc<WorkspaceIndex>,
    pub module: PathBuf,
    pub libraries: Libraries,
}

/// An audit's view of the workspace: its index, the file being audited, and a record
/// of what it asked (so the editor can tell when an answer it used has changed).
pub struct WorkspaceLink {
    index: Arc<WorkspaceIndex>,
    importer: PathBuf,
    /// What was asked, each question once, in the order first asked.
    reads: RefCell<Vec<WorkspaceRead>>,
    asked: RefCell<std::collections::HashSet<WorkspaceRead, rustc_hash::FxBuildHasher>>,
}

/// One question an audit asked the workspace, and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceRead {
    pub target: Box<str>,
    pub call: bool,
    /// What was asked of `target`.
    #[serde(default)]
    pub about: ReadAbout,
    /// The answer: `BindingKind::code` of the kind, or `0`/`1` for no/yes; `None`
    /// when the workspace did not know.
    pub answer: Option<u8>,
}

/// What a `WorkspaceRead` asked.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ReadAbout {
    /// What the name holds (or gives when called: `call`).
    #[default]
    Kind,
    /// Whether the dependency, alias or router authenticates.
    Authenticates,
    /// Whether the router is included somewhere with an authenticating dependency.
    Guarded,
    /// Whether a module an import statement names imports the module back; `target`
    /// holds the module as written and the names taken (`module name,name`).
    ImportsBack,
    /// Whether an import statement takes an optional dependency; `target` as for
    /// `ImportsBack`.
    ImportsOptional,
    /// Whether the module is one that its project's console scripts run.
    RunsAsCommand,
    /// What name outside the workspace the imported name stands for; `target` holds
    /// the name and, after a space, that name (nothing when none: a module of the
    /// workspace defines it).
    Origin,
    /// What the workspace's schema says of a table; `target` holds the table's name
    /// and, after a space, `?` (the schema is not known yet), `-` (no such table) or a
    /// hash of what it holds.
    Table,
    /// The kinds of the schema's primary keys; `target` holds a hash of them (`?`
    /// while the schema is not known).
    KeyKinds,
    /// Every column a table ever had; `target` holds the table's name and, after a
    /// space, `?`, `-` (never created) or a hash of the columns.
    TableHistory,
    /// The Alembic revisions of the workspace but the importer's; `target` holds a
    /// hash of them (`?` while the schema is not known).
    RevisionChain,
    /// What the migrations and the models each say of a table; `target` holds the
    /// table's name and, after a space, `?` (not known, or no Alembic migration) or a
    /// hash of the answer.
    TableDrift,
}

impl WorkspaceLink {
    pub fn new(index: Arc<WorkspaceIndex>, importer: PathBuf) -> WorkspaceLink {
        WorkspaceLink {
            index,
            importer,
            reads: RefCell::new(Vec::new()),
            asked: RefCell::default(),
        }
    }

    /// What the audit asked, each question once, in the order first asked.
    pub fn reads(&self) -> Vec<WorkspaceRead> {
        self.reads.borrow().clone()
    }

    /// `record` a question answered yes or no, and give the answer back.
    fn record_yes_or_no(
        &self,
        target: Box<str>,
        about: ReadAbout,
        answer: Option<bool>,
    ) -> Option<bool> {
        self.record(WorkspaceRead {
            target,
            call: false,
            about,
            answer: answer.map(u8::from),
        });
        answer
    }

    /// Keep `read` unless it was asked already (rules ask the same names again and
    /// again: one audit asks hundreds of times about a handful of names).
    fn record(&self, read: WorkspaceRead) {
        if self.asked.borrow_mut().insert(read.clone()) {
            self.reads.borrow_mut().push(read);
        }
    }
}

impl ImportedKinds for WorkspaceLink {
    fn kind_of_imported(&self, target: &str, call: bool) -> Option<BindingKind> {
        let kind = self.index.kind_of_imported(&self.importer, target, call);
        self.record(WorkspaceRead {
            target: target.into(),
            call,
            about: ReadAbout::Kind,
            answer: kind.map(BindingKind::code),
        });
        kind
    }

    fn dependency_authenticates(&self, target: &str) -> Option<bool> {
        let answer = self.index.dependency_authenticates(&self.importer, target);
        self.record_yes_or_no(target.into(), ReadAbout::Authenticates, answer)
    }

    fn imports_back(&self, import: &ImportedModule) -> Option<bool> {
        let answer = self.index.imports_back(&self.importer, import);
        self.record_yes_or_no(import_read(import), ReadAbout::ImportsBack, answer)
    }

    fn imports_optional(&self, import: &ImportedModule) -> Option<bool> {
        let answer = self.index.imports_optional(&self.importer, import);
        self.record_yes_or_no(import_read(import), ReadAbout::ImportsOptional, answer)
    }

    fn runs_as_command(&self) -> Option<bool> {
        let answer = Some(self.index.runs_as_command(&self.importer));
        self.record_yes_or_no("".into(), ReadAbout::RunsAsCommand, answer)
    }

    fn origin_outside(&self, target: &str) -> Option<Box<str>> {
        let origin = self.index.origin_outside(&self.importer, target);
        self.record(WorkspaceRead {
            target: origin_read(target, origin.as_deref()),
            call: false,
            about: ReadAbout::Origin,
            answer: origin.is_some().then_some(1),
        });
        origin
    }

    fn router_guarded(&self, router: &str) -> Option<bool> {
        let answer = self.index.router_guarded(&self.importer, router);
        self.record_yes_or_no(router.into(), ReadAbout::Guarded, answer)
    }

    fn table(&self, name: &str) -> Option<Option<Arc<Table>>> {
        let schema = self.index.schema();
        let answer = schema.as_ref().map(|schema| schema.table(name).cloned());
        self.record(WorkspaceRead {
            target: table_read(name, schema.as_deref()),
            call: false,
            about: ReadAbout::Table,
            answer: None,
        });
        answer
    }

    fn schema_source(&self) -> Option<u128> {
        self.index.schema_source_of(&self.importer)
    }

    fn table_history(&self, name: &str) -> Option<Option<Vec<String>>> {
        let history = self.index.schema().map(|schema| schema.history(name));
        self.record(WorkspaceRead {
            target: history_read(name, history.as_ref().map(Option::as_deref)),
            call: false,
            about: ReadAbout::TableHistory,
            answer: None,
        });
        history
    }

    fn table_drift(&self, name: &str) -> Option<crate::schema::model::TableDrift> {
        let schema = self.index.schema();
        let drift = schema
            .as_deref()
            .and_then(SchemaModel::drift)
            .map(|drift| drift.of_table(name));
        self.record(WorkspaceRead {
            target: drift_read(name, schema.as_deref()),
            call: false,
            about: ReadAbout::TableDrift,
            answer: None,
        });
        drift
    }

    fn revision_chain(
        &self,
        current: &crate::schema::from_alembic::Revision,
    ) -> Option<Vec<crate::schema::revisions::ChainProblem>> {
        let schema = self.index.schema();
        self.record(WorkspaceRead {
            target: revisions_read(schema.as_deref(), &self.importer),
            call: false,
            about: ReadAbout::RevisionChain,
            answer: None,
        });
        schema.map(|schema| schema.revisions().problems_of(&self.importer, current))
    }

    fn key_kinds(&self) -> Option<Vec<(String, KeyKind)>> {
        let kinds = self.index.schema().map(|schema| schema.key_kinds());
        self.record(WorkspaceRead {
            target: key_kinds_read(kinds.as_deref()),
            call: false,
            about: ReadAbout::KeyKinds,
            answer: None,
        });
        kinds
    }
}

/// An import statement as a `WorkspaceRead` names it: the module as written and the
/// names taken (`module name,name`).
fn import_read(import: &ImportedModule) -> Box<str> {
    format!("{} {}", import.module, import.names.join(",")).into()
}

/// The import statement that `import_read` wrote.
fn import_of_read(target: &str) -> ImportedModule {
    let (module, names) = target.split_once(' ').unwrap_or((target, ""));
    ImportedModule {
        module: module.into(),
        names: names
            .split(',')
            .filter(|name| !name.is_empty())
            .map(Box::from)
            .collect(),
    }
}

impl WorkspaceRead {
    /// Whether the index still answers this question the same way for `importer`.
    pub fn holds(&self, index: &WorkspaceIndex, importer: &Path) -> bool {
        let answer = match self.about {
            ReadAbout::Kind => index
                .kind_of_imported(importer, &self.target, self.call)
                .map(BindingKind::code),
            ReadAbout::Authenticates => index
                .dependency_authenticates(importer, &self.target)
                .map(u8::from),
            ReadAbout::Guarded => index.router_guarded(importer, &self.target).map(u8::from),
            ReadAbout::ImportsBack => index
                .imports_back(importer, &import_of_read(&self.target))
                .map(u8::from),
            ReadAbout::ImportsOptional => index
                .imports_optional(importer, &import_of_read(&self.target))
                .map(u8::from),
            ReadAbout::RunsAsCommand => Some(u8::from(index.runs_as_command(importer))),
            ReadAbout::Table => {
                let (table, _) = self.target.split_once(' ').unwrap_or((&self.target, ""));
                return *self.target == *table_read(table, index.schema().as_deref());
            }
            ReadAbout::TableHistory => {
                let (table, _) = self.target.split_once(' ').unwrap_or((&self.target, ""));
                let now = index.schema().map(|schema| schema.history(table));
                return *self.target == *history_read(table, now.as_ref().map(Option::as_deref));
            }
            ReadAbout::TableDrift => {
                let (table, _) = self.target.split_once(' ').unwrap_or((&self.target, ""));
                return *self.target == *drift_read(table, index.schema().as_deref());
            }
            ReadAbout::RevisionChain => {
                return *self.target == *revisions_read(index.schema().as_deref(), importer);
            }
            ReadAbout::KeyKinds => {
                let now = index.schema().map(|schema| schema.key_kinds());
                return *self.target == *key_kinds_read(now.as_deref());
            }
            ReadAbout::Origin => {
                // The answer is in the target, after the name asked about.
                let (target, _) = self.target.split_once(' ').unwrap_or((&self.target, ""));
                let now = index.origin_outside(importer, target);
                return *self.target == *origin_read(target, now.as_deref());
            }
        };
        answer == self.answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folders are read once and not opened below one that does not exist; a file made
    /// on disk in a new folder is found once the watcher tells of it.
    #[test]
    fn files_are_known_from_folder_listings_kept_in_step_with_the_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = WorkspaceIndex::new();
        let module = dir.path().join("app/cache/client.py");
        assert!(!index.exists(&module));
        assert!(!index.exists(&dir.path().join("app/cache/deeper/more.py")));
        std::fs::create_dir_all(module.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&module, "client = None\n").expect("write");
        // Not told yet: the listings read before stand.
        assert!(!index.exists(&module));
        index.file_changed_on_disk(&module);
        assert!(index.exists(&module));
        assert!(
            !index.exists(&dir.path().join("app/cache")),
            "a folder is no file"
        );
        std::fs::remove_file(&module).expect("remove");
        index.file_changed_on_disk(&module);
        assert!(!index.exists(&module));
    }

    /// Cycles of two, of three, a chain into a cycle and a module importing itself.
    #[test]
    fn strongly_connected_components_are_the_import_cycles() {
        // 0 <-> 1; 2 -> 3 -> 4 -> 2; 5 -> 0; 6 -> 6.
        let edges = vec![
            vec![1],
            vec![0],
            vec![3],
            vec![4],
            vec![2],
            vec![0],
            vec![6],
        ];
        let component = strongly_connected_components(&edges);
        assert_eq!(component[0], component[1]);
        assert_eq!(component[2], component[3]);
        assert_eq!(component[3], component[4]);
        assert_ne!(component[0], component[2]);
        assert_ne!(component[5], component[0]);
        assert_ne!(component[6], component[0]);
        assert_ne!(component[6], component[2]);
    }
}
