//! The workspace index in the server: every folder is indexed in the background after
//! `initialized` (with `$/progress` where the client shows it: what each module imports
//! and which client libraries it reaches; facts are read on first ask), the facts of open
//! documents follow their unsaved text, and files changed on disk (`workspace/
//! didChangeWatchedFiles`) are read again. When facts change, the open documents whose
//! last audit read a changed answer, or whose reach of client libraries changed, are
//! audited again and published; the others are left alone.
//!
//! Facts of an edited document are worked out after its own diagnostics are published,
//! on the blocking pool, so a keystroke's publish never waits for them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::*;

use super::{Backend, OpenDocument, pull, settings, sync};
use crate::index::import_scan::{
    ImportedModule, imports_migration_library, includes_routers, libraries_of, scan_imports,
};
use crate::index::walk::walk_files;
use crate::index::{IndexedFile, WorkspaceView};
use crate::language::Language;
use crate::rules::Libraries;
use crate::schema;
use crate::schema::model::FileSchema;

/// What the workspace's modules import: per module, its import statements, the
/// libraries it imports itself and the module files it imports. Held while what each
/// module reaches is worked out again (which may read files); audits read only the
/// result (`Backend::libraries_reached`), so a keystroke never waits for that.
#[derive(Debug, Default)]
pub(crate) struct ImportGraph {
    modules: HashMap<PathBuf, ModuleImports>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModuleImports {
    statements: Vec<ImportedModule>,
    libraries: Libraries,
    files: Vec<Arc<Path>>,
    /// Whether it includes routers (`import_scan::includes_routers`).
    includes_routers: bool,
}

impl ModuleImports {
    /// What the module at `path`, whose text is `text`, imports.
    fn read(backend: &Backend, path: &Path, text: &str) -> ModuleImports {
        let statements = scan_imports(text);
        ModuleImports {
            libraries: libraries_of(&statements),
            files: backend.index.modules_imported(path, &statements),
            statements,
            includes_routers: includes_routers(text),
        }
    }
}

/// The most modules the first scan reads up front (a workspace opened on a home
/// folder must not keep the server busy for minutes).
const MAX_INDEXED_MODULES: usize = 100_000;

/// Every file `check` would audit in the workspace `folders` worth indexing, with its
/// language (each folder's `.gitignore` and the settings' `exclude` respected).
pub(super) fn walk_folders(
    folders: &[PathBuf],
    settings: &crate::config::Settings,
    mut visit: impl FnMut(PathBuf, Language),
) {
    for folder in folders.iter().filter(|folder| worth_indexing(folder)) {
        walk_files(
            std::slice::from_ref(folder),
            settings,
            folder,
            |_, absolute, language| visit(absolute, language),
        );
    }
}

/// Whether `folder` is a project to index: not the file system's root or the user's
/// home folder (an editor started there with no project sends it as the root).
fn worth_indexing(folder: &Path) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let worth = folder.parent().is_some() && home.as_deref() != Some(folder);
    if !worth {
        tracing::info!(folder = %folder.display(), "not indexed: not a project folder");
    }
    worth
}

/// Reads of open documents' facts that may run at once (one per core).
static FACTS_READERS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        )
    });

/// How long an edited document must rest before its facts are read again: typing
/// reads them once per pause, not once per keystroke.
const FACTS_AFTER_QUIET: std::time::Duration = std::time::Duration::from_millis(20);

impl Backend {
    /// Whether a document open in the editor stands for the file at `absolute` (its
    /// unsaved text, not the disk, is what the index holds of it).
    fn is_open(&self, absolute: &Path) -> bool {
        self.documents
            .iter()
            .any(|open| open.absolute.as_deref() == Some(absolute))
    }

    /// What an audit of the module at `absolute` reads of the workspace.
    pub(crate) fn workspace_view(&self, absolute: &Path) -> WorkspaceView {
        let libraries = self
            .libraries_reached
            .read()
            .map(|reached| reached.get(absolute).copied().unwrap_or_default())
            .unwrap_or_default();
        WorkspaceView {
            index: Arc::clone(&self.index),
            module: absolute.to_path_buf(),
            libraries,
        }
    }

    /// Record what `module` imports now (`None`: it is gone); with `files_moved`, a
    /// module file came or went, so every module's imports are resolved again.
    /// Returns whether what any module reaches, or the import cycles, changed.
    fn set_imports(
        &self,
        module: &Path,
        imports: Option<ModuleImports>,
        files_moved: bool,
    ) -> bool {
        let Ok(mut graph) = self.imports.lock() else {
            return false;
        };
        let before = graph.modules.get(module).cloned();
        if before == imports && !files_moved {
            return false;
        }
        self.index.set_includes_routers(
            module,
            imports
                .as_ref()
                .is_some_and(|imports| imports.includes_routers),
        );
        match imports {
            Some(imports) => graph.modules.insert(module.to_path_buf(), imports),
            None => graph.modules.remove(module),
        };
        if files_moved {
            use rayon::iter::{IntoParallelRefMutIterator, ParallelIterator};
            graph.modules.par_iter_mut().for_each(|(path, imports)| {
                imports.files = self.index.modules_imported(path, &imports.statements);
            });
        }
        let modules: Vec<_> = graph
            .modules
            .iter()
            .map(|(path, imports)| (path.clone(), imports.libraries, imports.files.clone()))
            .collect();
        let cycles_changed = self.index.set_import_graph(&modules);
        let reached = self.index.libraries_reached(modules);
        self.publish_reached(reached) || cycles_changed
    }

    /// Make `reached` what audits read; whether it differs from what they read before.
    fn publish_reached(&self, reached: HashMap<PathBuf, Libraries>) -> bool {
        let Ok(mut current) = self.libraries_reached.write() else {
            return false;
        };
        let changed = **current != reached;
        *current = Arc::new(reached);
        changed
    }
}

/// Index every workspace folder in the background, then audit again the open
/// documents that what the index learnt changes.
pub(super) fn start_indexing(backend: &Backend) {
    let Some(backend) = backend.handle() else {
        return;
    };
    tokio::spawn(async move {
        index_workspace(&backend).await;
        pull::workspace_indexed(&backend);
        audit_dependents(&backend).await;
    });
}

async fn index_workspace(backend: &Arc<Backend>) {
    let folders = backend.folders();
    if folders.is_empty() {
        // No folder to scan: the open documents are the whole workspace.
        backend.index.schema_complete();
        return;
    }
    let progress = ProgressReporter::begin(backend).await;
    let settings = backend.settings();
    let done = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let indexing = {
        let (backend, done, total) = (Arc::clone(backend), Arc::clone(&done), Arc::clone(&total));
        tokio::task::spawn_blocking(move || {
            let mut files = Vec::new();
            let mut sql_files = Vec::new();
            walk_folders(&folders, &settings, |absolute, language| {
                if language == Language::Python && files.len() < MAX_INDEXED_MODULES {
                    files.push(absolute);
                } else if language == Language::Sql && sql_files.len() < MAX_INDEXED_MODULES {
                    sql_files.push(absolute);
                }
            });
            read_schemas(&backend, sql_files);
            if files.len() == MAX_INDEXED_MODULES {
                tracing::warn!(
                    "more than {MAX_INDEXED_MODULES} Python modules in the workspace; the rest are read when an audit asks about them"
                );
            }
            total.store(files.len(), Ordering::Relaxed);
            read_modules(&backend, files, &done)
        })
    };
    tokio::pin!(indexing);
    let modules = loop {
        tokio::select! {
            read = &mut indexing => break read.unwrap_or_default(),
            () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                progress.report(done.load(Ordering::Relaxed), total.load(Ordering::Relaxed)).await;
            }
        }
    };
    let count = modules.len();
    if let Ok(mut graph) = backend.imports.lock() {
        let listed: Vec<_> = modules
            .iter()
            .map(|(path, imports)| (path.clone(), imports.libraries, imports.files.clone()))
            .collect();
        let _ = backend.index.set_import_graph(&listed);
        backend.publish_reached(backend.index.libraries_reached(listed));
        for (path, imports) in &modules {
            backend
                .index
                .set_includes_routers(path, imports.includes_routers);
        }
        graph.modules = modules.into_iter().collect();
    }
    // Which routers are included with dependencies, and which tables exist, can be
    // told now.
    backend.index.includers_complete();
    backend.index.schema_complete();
    tracing::info!(modules = count, "workspace indexed");
    progress.end(count).await;
}

/// Tell the index what each SQL file says about the schema, in parallel.
fn read_schemas(backend: &Backend, files: Vec<PathBuf>) {
    use rayon::iter::{IntoParallelIterator, ParallelIterator};
    files.into_par_iter().for_each(|path| {
        backend.index.set_file_schema(&path, schema_on_disk(&path));
    });
}

/// What the SQL file at `path` says about the schema, as it is on disk (`None`: gone,
/// unreadable, or too deep to parse).
fn schema_on_disk(path: &Path) -> Option<FileSchema> {
    let text = std::fs::read_to_string(path).ok()?;
    crate::document::parser_limits::check(Language::Sql, [text.as_bytes()]).ok()?;
    Some(FileSchema::of_sql(&text))
}

/// What the Python module at `path` says about the schema (its models, or the
/// Alembic migration it is), as it is on disk.
fn models_on_disk(path: &Path) -> Option<FileSchema> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(schema::of_python(path, &text, None))
}

/// Read the imports of each module, in parallel. Facts are read when an audit first
/// asks about a name a module defines (then kept by the text's hash): most modules'
/// names are never asked about, and reading facts is a parse.
fn read_modules(
    backend: &Backend,
    files: Vec<PathBuf>,
    done: &AtomicUsize,
) -> Vec<(PathBuf, ModuleImports)> {
    use rayon::iter::{IntoParallelIterator, ParallelIterator};
    files
        .into_par_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok();
            done.fetch_add(1, Ordering::Relaxed);
            let text = text?;
            let imports = ModuleImports::read(backend, &path, &text);
            let database = imports.libraries.intersects(Libraries::DATABASE);
            let migrating = imports_migration_library(&imports.statements);
            if schema::python_may_describe(&path, text.as_bytes(), database, migrating) {
                backend
                    .index
                    .set_file_schema(&path, Some(schema::of_python(&path, &text, None)));
            }
            Some((path, imports))
        })
        .collect()
}

/// `$/progress` of the first scan, when the client shows progress.
struct ProgressReporter<'b> {
    backend: &'b Backend,
    token: Option<ProgressToken>,
}

impl<'b> ProgressReporter<'b> {
    async fn begin(backend: &'b Backend) -> ProgressReporter<'b> {
        let mut reporter = ProgressReporter {
            backend,
            token: None,
        };
        if !backend.shows_progress.load(Ordering::SeqCst) {
            return reporter;
        }
        let token = ProgressToken::String("stackaudit/index".to_string());
        let created = backend
            .client
            .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: token.clone(),
            })
            .await;
        if let Err(error) = created {
            tracing::debug!(%error, "the client declined a progress token");
            return reporter;
        }
        reporter
            .send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title: "stackaudit: indexing the workspace".to_string(),
                cancellable: Some(false),
                message: None,
                percentage: Some(0),
            }))
            .await;
        reporter.token = Some(token);
        reporter
    }

    async fn report(&self, done: usize, total: usize) {
        if self.token.is_none() || total == 0 {
            return;
        }
        let percentage = u32::try_from(done * 100 / total).unwrap_or(100).min(100);
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(false),
            message: Some(format!("{done}/{total} modules")),
            percentage: Some(percentage),
        }))
        .await;
    }

    async fn end(&self, modules: usize) {
        if self.token.is_none() {
            return;
        }
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(format!("{modules} modules indexed")),
        }))
        .await;
    }

    async fn send(&self, value: WorkDoneProgress) {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => ProgressToken::String("stackaudit/index".to_string()),
        };
        self.backend
            .client
            .send_notification::<Progress>(ProgressParams {
                token,
                value: ProgressParamsValue::WorkDone(value),
            })
            .await;
    }
}

/// The text of an open document changed (or it was opened): once it rests, read its
/// facts and imports again, and audit the documents that depend on what changed.
pub(super) fn document_changed(backend: &Backend, uri: &Uri) {
    let Some(handle) = backend.handle() else {
        return;
    };
    let uri = uri.clone();
    let Some(edited) = backend.documents.get(&uri).map(|open| open.revision) else {
        return;
    };
    tokio::spawn(async move {
        tokio::time::sleep(FACTS_AFTER_QUIET).await;
        let current = |open: &OpenDocument| open.revision == edited;
        if !handle
            .documents
            .get(&uri)
            .is_some_and(|open| current(&open))
        {
            return; // edited again (or closed) meanwhile: that edit's task reads the facts
        }
        // A few documents' facts at a time: opening hundreds at once must not start a
        // blocking thread (with its stack and allocator cache) for each. The snapshot
        // is taken once it is this one's turn: a waiting task holding one would keep
        // the tree that the document itself has since dropped (`evict_idle_trees`).
        let Ok(_reading) = FACTS_READERS.acquire().await else {
            return;
        };
        let Some((document, absolute)) = handle.documents.get(&uri).and_then(|open| {
            let absolute = open.absolute.clone()?;
            (matches!(open.document.language, Language::Python | Language::Sql) && current(&open))
                .then(|| (open.document.clone(), absolute))
        }) else {
            return;
        };
        if document.language == Language::Sql {
            let read = tokio::task::spawn_blocking(move || {
                let text = document.text();
                document
                    .syntax
                    .as_ref()
                    .map(|syntax| FileSchema::of_sql_parsed(&text, syntax))
            });
            let Ok(schema) = read.await else {
                return;
            };
            if !handle
                .documents
                .get(&uri)
                .is_some_and(|open| current(&open))
            {
                return;
            }
            if handle.index.set_file_schema(&absolute, schema) {
                audit_dependents(&handle).await;
            }
            return;
        }
        let read = {
            let handle = Arc::clone(&handle);
            let absolute = Arc::clone(&absolute);
            tokio::task::spawn_blocking(move || {
                let text: Arc<str> = document.text().into();
                // Facts nobody asked for are read when first asked (opening hundreds of
                // documents parses none of them twice). Otherwise from the document's
                // own tree where it has one (its items' trees are shared with its
                // audits), else a parse.
                let file = handle.index.facts_were_read(&absolute).then(|| {
                    match document.syntax.as_ref() {
                        Some(syntax) => IndexedFile::from_parsed(&text, syntax),
                        None => IndexedFile::read(&text),
                    }
                });
                let imports = ModuleImports::read(&handle, &absolute, &text);
                let tables = schema::of_python(&absolute, &text, document.syntax.as_ref());
                (text, file, imports, tables)
            })
        };
        let Ok((text, file, imports, tables)) = read.await else {
            return;
        };
        {
            // Only the newest text's facts count (reads may finish out of order).
            let Some(mut open) = handle.documents.get_mut(&uri) else {
                return;
            };
            if open.revision < edited || open.facts_revision > edited {
                return;
            }
            open.facts_revision = edited;
        }
        let facts_changed = match file {
            Some(file) => handle.index.put_open(&absolute, text, file),
            None => handle.index.put_open_unread(&absolute, text),
        };
        let reach_changed = handle.set_imports(&absolute, Some(imports), false);
        let tables_changed = handle.index.set_file_schema(&absolute, Some(tables));
        if facts_changed || reach_changed || tables_changed {
            // The document itself too: what it reaches may have changed with its imports.
            audit_dependents(&handle).await;
        }
    });
}

/// An open document was closed: its file on disk stands for it again.
pub(super) async fn document_closed(backend: &Backend, absolute: &Path) {
    if Language::from_path(absolute) == Some(Language::Sql) {
        if backend
            .index
            .set_file_schema(absolute, schema_on_disk(absolute))
        {
            audit_dependents(backend).await;
        }
        return;
    }
    let tables_changed = backend
        .index
        .set_file_schema(absolute, models_on_disk(absolute));
    if backend.index.close(absolute) | tables_changed {
        refresh_imports_from_disk(backend, absolute, false);
        audit_dependents(backend).await;
    }
}

/// Files changed on disk: configuration files are read again (settings), Python
/// modules read again by the index (made, changed or deleted).
pub(super) async fn did_change_watched_files(
    backend: &Backend,
    params: DidChangeWatchedFilesParams,
) {
    let mut settings_changed = false;
    let mut facts_changed = false;
    for change in &params.changes {
        let Some(path) = change.uri.to_file_path().map(|path| path.into_owned()) else {
            continue;
        };
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if name == "stackaudit.toml" || name == "pyproject.toml" {
            settings_changed = true;
        }
        if Language::from_path(&path) == Some(Language::Sql) && !backend.is_open(&path) {
            facts_changed |= backend.index.set_file_schema(&path, schema_on_disk(&path));
        }
        if name.ends_with(".py") && !backend.is_open(&path) {
            facts_changed |= backend.index.set_file_schema(&path, models_on_disk(&path));
        }
        if name.ends_with(".py") || crate::index::is_manifest_file(&path) {
            let changed = backend.index.file_changed_on_disk(&path);
            let moved = change.typ != FileChangeType::CHANGED;
            let reach_changed = refresh_imports_from_disk(backend, &path, moved);
            facts_changed |= changed || reach_changed;
        }
    }
    if settings_changed {
        settings::reload(backend).await;
    }
    if facts_changed {
        audit_dependents(backend).await;
    }
    // A file changed on disk changes its own report in the workspace pull.
    pull::reports_may_have_changed(backend, false);
}

/// Read what the module at `path` imports from disk (nothing, if it is gone); whether
/// what any module reaches changed.
fn refresh_imports_from_disk(backend: &Backend, path: &Path, files_moved: bool) -> bool {
    let imports = path
        .extension()
        .is_some_and(|extension| extension == "py")
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()
        .map(|text| ModuleImports::read(backend, path, &text));
    if imports.is_none()
        && !files_moved
        && !backend
            .imports
            .lock()
            .is_ok_and(|graph| graph.modules.contains_key(path))
    {
        return false;
    }
    backend.set_imports(path, imports, files_moved)
}

/// Audit again, and publish, the open documents whose last audit read an answer of
/// the index that changed, or which reach other client libraries now.
async fn audit_dependents(backend: &Backend) {
    let stale: Vec<Uri> = backend
        .documents
        .iter()
        .filter(|open| {
            let Some(absolute) = &open.absolute else {
                return false;
            };
            let view = backend.workspace_view(absolute);
            let cache = open
                .audit_cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            !cache.workspace_still_reads(&view)
        })
        .map(|open| open.key().clone())
        .collect();
    if backend.pull.client_pulls() {
        // Their next pull audits them again; unopened files may read what changed too,
        // which the workspace pull finds.
        sync::forget_findings(backend, &stale);
        pull::reports_may_have_changed(backend, !stale.is_empty());
        return;
    }
    for uri in stale {
        sync::audit_and_publish(backend, uri, None).await;
    }
}
