//! The workspace index: facts of every module, keyed by its path and the hash of its
//! text, and the answers to what a name imported from one module holds in another.
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

pub mod module_path;
pub mod python_facts;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::DashMap;

use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::{
    ImportedKinds, MAX_VALUE_STEPS, Namespace, Value, settle,
};
use module_path::{ModuleLocation, module_files};
use python_facts::PythonFacts;

/// One indexed file: the hash of the text its facts were read from, and the facts.
#[derive(Debug)]
pub struct IndexedFile {
    pub path: PathBuf,
    pub text_hash: u128,
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

/// The facts of a workspace's modules, shared by every audit (any thread).
#[derive(Debug, Default)]
pub struct WorkspaceIndex {
    /// Files read so far: `None` for a path that holds no readable Python module.
    files: PathMap<Option<Arc<IndexedFile>>>,
    /// The unsaved text of documents open in the editor, which stands for their file.
    open: PathMap<Arc<str>>,
    /// Whether a path is a file, for the marker and package files that place modules.
    existence: PathMap<bool>,
    /// Where each module file sits among its project's packages.
    locations: PathMap<Arc<ModuleLocation>>,
    /// Answers to `kind_of_imported`, by the asking module's roots, the absolute
    /// target and whether it is called; cleared whenever any facts change.
    answers: DashMap<(Box<[u8]>, Box<str>, bool), Option<BindingKind>, rustc_hash::FxBuildHasher>,
}

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
        Some(Arc::new(IndexedFile::of(path, &text)))
    }

    /// The facts of `path` read from `text` (the server's parse of an open document
    /// gives them; this keeps them), returning whether they differ from what the index
    /// held.
    pub fn set_open_text(&self, path: &Path, text: Arc<str>) -> bool {
        let before = self.file(path).map(|file| file.fingerprint);
        self.open.insert(key(path).into(), text.clone());
        let now = Arc::new(IndexedFile::of(path, &text));
        let changed = before != Some(now.fingerprint);
        self.files.insert(key(path).into(), Some(now));
        if changed {
            self.answers.clear();
        }
        changed
    }

    /// The document at `path` was closed: its file on disk stands for it again.
    /// Returns whether its facts changed.
    pub fn close(&self, path: &Path) -> bool {
        let before = self.file(path).map(|file| file.fingerprint);
        self.open.remove(key(path));
        self.files.remove(key(path));
        let changed = before != self.file(path).map(|file| file.fingerprint);
        if changed {
            self.answers.clear();
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
        self.existence.remove(key(path));
        if is_placing_file(path) {
            // A package or project marker came or went: modules may sit elsewhere now.
            self.locations.clear();
            self.existence.clear();
        }
        if self.open.contains_key(key(path)) {
            return false;
        }
        self.files.remove(key(path));
        let now = self.file(path).map(|file| file.fingerprint);
        let changed = before != Some(now) || is_placing_file(path);
        if changed {
            self.answers.clear();
        }
        changed
    }

    /// Every path the index holds facts for, sorted.
    pub fn indexed_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self
            .files
            .iter()
            .filter_map(|entry| entry.value().as_ref().map(|file| file.path.clone()))
            .collect();
        paths.sort();
        paths
    }

    fn exists(&self, path: &Path) -> bool {
        if self.open.contains_key(key(path)) {
            return true;
        }
        if let Some(known) = self.existence.get(key(path)) {
            return *known;
        }
        let exists = path.is_file();
        self.existence.insert(key(path).into(), exists);
        exists
    }

    /// Where the module at `path` sits.
    pub fn location(&self, path: &Path) -> Arc<ModuleLocation> {
        if let Some(known) = self.locations.get(key(path)) {
            return known.clone();
        }
        let location = Arc::new(ModuleLocation::of(path, &|candidate| {
            self.exists(candidate)
        }));
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
        let question = (location.roots_key.clone(), absolute.into_boxed_str(), call);
        if let Some(known) = self.answers.get(&question) {
            return *known;
        }
        let answer = self.kind_in(&location, &question.1, call, MAX_VALUE_STEPS);
        self.answers.insert(question, answer);
        answer
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
        let (module, name) = self.find_module(&location.roots, absolute)?;
        // A module itself, or an attribute of a name (`settings.redis`): no kind.
        if name.is_empty() || name.contains('.') {
            return None;
        }
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
    fn find_module<'d>(&self, roots: &[PathBuf], dotted: &'d str) -> Option<(PathBuf, &'d str)> {
        let mut end = dotted.len();
        loop {
            let module = &dotted[..end];
            for root in roots {
                for file in module_files(root, module) {
                    if self.exists(&file) {
                        let rest = dotted.get(end + 1..).unwrap_or("");
                        return Some((file, rest));
                    }
                }
            }
            end = module.rfind('.')?;
        }
    }
}

/// A package's `__init__.py` or a file that marks a project's root.
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
    fn of(path: &Path, text: &str) -> IndexedFile {
        let facts = PythonFacts::of(text);
        IndexedFile {
            path: path.to_path_buf(),
            text_hash: xxhash_rust::xxh3::xxh3_128(text.as_bytes()),
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
            let (file, rest) = self.index.find_module(&location.roots, &absolute)?;
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

/// An audit's view of the workspace: its index, the file being audited, and a record
/// of what it asked (so the editor can tell when an answer it used has changed).
pub struct WorkspaceLink {
    index: Arc<WorkspaceIndex>,
    importer: PathBuf,
    reads: RefCell<Vec<WorkspaceRead>>,
}

/// One question an audit asked the workspace, and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceRead {
    pub target: Box<str>,
    pub call: bool,
    /// `BindingKind::code` of the answer, or `None`.
    pub answer: Option<u8>,
}

impl WorkspaceLink {
    pub fn new(index: Arc<WorkspaceIndex>, importer: PathBuf) -> WorkspaceLink {
        WorkspaceLink {
            index,
            importer,
            reads: RefCell::new(Vec::new()),
        }
    }

    /// What the audit asked, each question once, in the order first asked.
    pub fn reads(&self) -> Vec<WorkspaceRead> {
        let mut seen = std::collections::HashSet::new();
        self.reads
            .borrow()
            .iter()
            .filter(|read| seen.insert((*read).clone()))
            .cloned()
            .collect()
    }
}

impl ImportedKinds for WorkspaceLink {
    fn kind_of_imported(&self, target: &str, call: bool) -> Option<BindingKind> {
        let kind = self.index.kind_of_imported(&self.importer, target, call);
        self.reads.borrow_mut().push(WorkspaceRead {
            target: target.into(),
            call,
            answer: kind.map(BindingKind::code),
        });
        kind
    }
}

impl WorkspaceRead {
    /// Whether the index still answers this question the same way for `importer`.
    pub fn holds(&self, index: &WorkspaceIndex, importer: &Path) -> bool {
        index
            .kind_of_imported(importer, &self.target, self.call)
            .map(BindingKind::code)
            == self.answer
    }
}
