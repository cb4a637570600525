//! `stackaudit check [PATH...]`: walk the paths (respecting .gitignore and `exclude`),
//! audit files in parallel, optionally fix them in place, and report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::xxh3_128;

use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::audit::{audit_text, audit_text_in_workspace};
use crate::cli::cache::{CACHE_FOLDER, CheckCache, WorkspaceUse};
use crate::config::{Options, Settings, discover};
use crate::document::source_text::SourceEncoding;
use crate::document::{parser_limits, source_text};
use crate::fix::fix_all_in_workspace;
use crate::index::import_scan::{
    imports_migration_library, includes_routers, libraries_of, scan_imports,
};
use crate::index::walk::walk_files_in_parallel;
use crate::index::{ImportingModule, WorkspaceIndex, WorkspaceLink, WorkspaceRead, WorkspaceView};
use crate::language::Language;
use crate::rules::{Finding, Libraries};
use crate::schema;
use crate::schema::model::FileSchema;

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub fix: bool,
    pub unsafe_fixes: bool,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    /// Neither read nor write the cache (`--no-cache`).
    pub no_cache: bool,
}

/// The findings of one file, with the text they refer to.
#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub language: Language,
    pub source: String,
    pub findings: Vec<Finding>,
    pub fixes_applied: usize,
}

#[derive(Debug, Default)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    pub files_audited: usize,
    /// Files that could not be read or are not UTF-8, with why (already on stderr).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Settings from the config file found from the first path (or the current directory)
/// upwards, with command-line overrides on top; returns the directory that `exclude`
/// globs are relative to.
pub fn load_settings(options: &CheckOptions) -> Result<(Settings, PathBuf), String> {
    for (flag, ids) in [("--select", &options.select), ("--ignore", &options.ignore)] {
        if ids.iter().flatten().any(|id| id.trim().is_empty()) {
            return Err(format!(
                "{flag} takes rule ids separated by commas, and one of them is empty (see `stackaudit rules`)"
            ));
        }
    }
    let cwd = std::env::current_dir()
        .map_err(|error| format!("cannot read the current directory: {error}"))?;
    // Without `.` components, so messages name `/p/stackaudit.toml`, not `/p/./stackaudit.toml`.
    let cwd: PathBuf = cwd.components().collect();
    let start = match options.paths.first() {
        Some(path) if path.is_dir() => cwd.join(path).components().collect(),
        Some(path) => cwd
            .join(path)
            .parent()
            .map_or(cwd.clone(), Path::to_path_buf),
        None => cwd.clone(),
    };
    let loaded = discover(&start).map_err(|error| error.to_string())?;
    let root = loaded
        .path
        .as_ref()
        .and_then(|path| path.parent())
        .map_or(cwd.clone(), Path::to_path_buf);
    let overrides = Options {
        select: options.select.clone(),
        ignore: options.ignore.clone(),
        ..Options::default()
    };
    let settings = Settings::from_options(loaded.options.overlay(overrides))?;
    Ok((settings, root))
}

enum Outcome {
    /// With what to cache, when its findings were computed (not read from the cache).
    Report(FileReport, Option<Computed>),
    Skipped(PathBuf, String),
}

pub fn run_check(
    options: &CheckOptions,
    settings: &Settings,
    root: &Path,
) -> Result<CheckReport, String> {
    let paths = if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    if let Some(missing) = paths.iter().find(|path| !path.exists()) {
        return Err(format!("{}: no such file or directory", missing.display()));
    }
    let mut cache = (!options.no_cache).then(|| {
        let folder = settings
            .cache_dir
            .as_ref()
            .map_or_else(|| root.join(CACHE_FOLDER), |folder| root.join(folder));
        CheckCache::open(&folder, settings.rules.fingerprint())
    });
    // What modules import from each other: facts are read from a file the first time
    // an audit asks about a name it defines, and kept for the run.
    let index = Arc::new(WorkspaceIndex::new());
    // The first pass reads what each Python module imports, on the walk's threads as
    // they meet files (as many as the audit's thread pool has). Every audit then knows
    // the whole import graph: which libraries a module reaches through others, which
    // imports close a cycle, which routers are included with dependencies. Nothing is
    // audited twice, and no finding depends on file order.
    let scanned = Mutex::new(Vec::new());
    let kept = AtomicUsize::new(0);
    let threads = rayon::current_num_threads();
    let found = walk_files_in_parallel(
        &paths,
        settings,
        root,
        threads,
        |path, absolute, language| {
            let file = FileToCheck {
                path,
                absolute,
                language,
            };
            let scan = scan_file(file, root, cache.as_ref(), &index, &kept);
            scanned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(scan);
        },
    );
    let mut scanned = scanned
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The walk's threads meet files in no set order; the graph is built in one.
    scanned.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    index.includers_complete();
    index.schema_complete();
    let importing: Vec<ImportingModule> = scanned
        .iter_mut()
        .filter_map(|scan| scan.importing.take())
        .collect();
    let _ = index.set_import_graph(&importing);
    let workspace = Workspace {
        index: &index,
        libraries: index.libraries_reached(importing),
    };
    // In path order, as the scans are.
    let outcomes: Vec<Outcome> = scanned
        .into_par_iter()
        .map(|scan| check_file(scan, settings, options, root, cache.as_ref(), &workspace))
        .collect();
    let mut report = CheckReport {
        files_audited: found,
        ..CheckReport::default()
    };
    let mut audited_now = 0;
    for outcome in outcomes {
        match outcome {
            Outcome::Report(file, computed) => {
                if let (Some(cache), Some(computed)) = (cache.as_mut(), computed) {
                    let Computed {
                        key,
                        hash,
                        reads,
                        workspace,
                    } = computed;
                    cache.insert(key, hash, &file.findings, reads, workspace);
                    audited_now += 1;
                }
                report.files.push(file);
            }
            Outcome::Skipped(path, why) => {
                eprintln!("stackaudit: {}: {why}; skipped", path.display());
                report.skipped.push((path, why));
            }
        }
    }
    report.files_audited -= report.skipped.len();
    if report.files_audited == 0 {
        return Err(nothing_audited(&paths, found));
    }
    if let Some(cache) = cache.filter(|_| audited_now > 0) {
        cache.save();
    }
    Ok(report)
}

/// Why a run audited no file: a check that looked at nothing must not pass.
fn nothing_audited(paths: &[PathBuf], found: usize) -> String {
    if found > 0 {
        let files = if found == 1 {
            "the one file"
        } else {
            "every file"
        };
        return format!("nothing was audited: {files} found was skipped (see above)");
    }
    let paths: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!(
        "nothing to audit in {}: no Python file, Dockerfile, compose file or SQL file (see `exclude` and .gitignore)",
        paths.join(", ")
    )
}

/// What the cache keeps of a file audited now: its path below the root, the hash of
/// its bytes, and how its audit used the workspace.
struct Computed {
    key: String,
    hash: u128,
    reads: Vec<WorkspaceRead>,
    workspace: WorkspaceUse,
}

/// A file the walk found: as named, as an absolute path, and its language.
#[derive(Clone)]
struct FileToCheck {
    path: PathBuf,
    absolute: PathBuf,
    language: Language,
}

/// A file as the first pass left it.
struct Scanned {
    file: FileToCheck,
    /// For a Python module: the hash of the bytes scanned, and what they import.
    imports: Option<(u128, WorkspaceUse)>,
    /// For a SQL file: the hash of the bytes scanned (the index was told its schema).
    sql_hash: Option<u128>,
    /// Its place in the import graph, until the graph is built.
    importing: Option<ImportingModule>,
    /// The bytes scanned (those `imports` hashes), kept for the second pass while the
    /// sources kept stay within `KEPT_SOURCES_BUDGET`.
    bytes: Option<Vec<u8>>,
}

/// How many bytes of sources the first pass keeps for the second, which reads the
/// others again: all of most projects' (Django's Python is 16.6 MiB), so each file is read
/// once, and a bound on the memory that costs for larger trees.
const KEPT_SOURCES_BUDGET: usize = 32 << 20;

/// The first pass over a file: for a Python module, what it imports (from the cache
/// when its bytes are those cached), which the index is told, and its bytes while
/// `kept` (the bytes kept so far) allows. A file that cannot be read or decoded is left
/// to the second pass, which says why it is skipped.
fn scan_file(
    file: FileToCheck,
    root: &Path,
    cache: Option<&CheckCache>,
    index: &WorkspaceIndex,
    kept: &AtomicUsize,
) -> Scanned {
    let mut scanned = Scanned {
        file,
        imports: None,
        sql_hash: None,
        importing: None,
        bytes: None,
    };
    if scanned.file.language == Language::Sql {
        scan_sql_file(&mut scanned, index, kept);
        return scanned;
    }
    if scanned.file.language != Language::Python {
        return scanned;
    }
    let Ok(mut bytes) = std::fs::read(&scanned.file.path) else {
        return scanned;
    };
    let hash = xxh3_128(&bytes);
    let key = cache_key(&scanned.file, root);
    let used = match cache.and_then(|cache| cache.workspace_use(&key, hash)) {
        Some(used) => {
            // The tables its models declare are read whether or not its imports are
            // cached: the schema is every file's.
            let database = libraries_of(&used.imports).intersects(Libraries::DATABASE);
            let path = &scanned.file.absolute;
            let migrating = imports_migration_library(&used.imports);
            if schema::python_may_describe(path, &bytes, database, migrating)
                && let Ok((source, _)) = source_text::decode(Language::Python, bytes.clone())
            {
                index.set_file_schema(path, Some(schema::of_python(path, &source, None)));
            }
            used.clone()
        }
        None => {
            let Ok((source, encoding)) = source_text::decode(Language::Python, bytes) else {
                return scanned;
            };
            let used = imports_of(&source);
            let database = libraries_of(&used.imports).intersects(Libraries::DATABASE);
            let path = &scanned.file.absolute;
            let migrating = imports_migration_library(&used.imports);
            if schema::python_may_describe(path, source.as_bytes(), database, migrating) {
                index.set_file_schema(path, Some(schema::of_python(path, &source, None)));
            }
            // UTF-8 decodes in place: the text is the bytes. (Others are read again.)
            bytes = match encoding {
                SourceEncoding::Utf8 => source.into_bytes(),
                _ => Vec::new(),
            };
            used
        }
    };
    let size = bytes.len();
    if size > 0 && kept.fetch_add(size, Ordering::Relaxed) + size <= KEPT_SOURCES_BUDGET {
        scanned.bytes = Some(bytes);
    } else if size > 0 {
        kept.fetch_sub(size, Ordering::Relaxed);
    }
    let module = &scanned.file.absolute;
    index.set_includes_routers(module, used.includes_routers);
    let files = index.modules_imported(module, &used.imports);
    scanned.importing = Some((module.clone(), libraries_of(&used.imports), files));
    scanned.imports = Some((hash, used));
    scanned
}

/// The first pass over a SQL file: the index is told what it says about the schema,
/// and its bytes are kept for the second pass while `kept` allows.
fn scan_sql_file(scanned: &mut Scanned, index: &WorkspaceIndex, kept: &AtomicUsize) {
    let Ok(bytes) = std::fs::read(&scanned.file.path) else {
        return;
    };
    let hash = xxh3_128(&bytes);
    let Ok((source, _)) = source_text::decode(Language::Sql, bytes) else {
        return;
    };
    if parser_limits::check(Language::Sql, [source.as_bytes()]).is_ok() {
        index.set_file_schema(&scanned.file.absolute, Some(FileSchema::of_sql(&source)));
    }
    let bytes = source.into_bytes();
    let size = bytes.len();
    if size > 0 && kept.fetch_add(size, Ordering::Relaxed) + size <= KEPT_SOURCES_BUDGET {
        scanned.bytes = Some(bytes);
    } else if size > 0 {
        kept.fetch_sub(size, Ordering::Relaxed);
    }
    scanned.sql_hash = Some(hash);
}

/// What a Python module's text imports, and whether it includes routers (the libraries
/// it reaches are set once the import graph tells them).
fn imports_of(source: &str) -> WorkspaceUse {
    WorkspaceUse {
        imports: scan_imports(source),
        includes_routers: includes_routers(source),
        workspace_libraries: 0,
    }
}

/// A file's path below the root, as rules see it (those that care what kind of file
/// it is, a test or an entry point, judge that path, not the directories the project
/// happens to sit in), and as the cache keys it.
fn relative_path<'f>(file: &'f FileToCheck, root: &Path) -> &'f Path {
    file.absolute.strip_prefix(root).unwrap_or(&file.path)
}

fn cache_key(file: &FileToCheck, root: &Path) -> String {
    relative_path(file, root).to_string_lossy().into_owned()
}

/// What a run knows of its workspace once the first pass is done.
struct Workspace<'i> {
    index: &'i Arc<WorkspaceIndex>,
    /// The client libraries each module reaches by imports.
    libraries: HashMap<PathBuf, Libraries>,
}

impl Workspace<'_> {
    /// The libraries `module` reaches.
    fn libraries_reached_by(&self, module: &Path) -> Libraries {
        self.libraries.get(module).copied().unwrap_or_default()
    }
}

/// The second pass over a file: its findings, from the cache while they hold, else
/// audited (and fixed with `--fix`) knowing the whole workspace.
fn check_file(
    scanned: Scanned,
    settings: &Settings,
    options: &CheckOptions,
    root: &Path,
    cache: Option<&CheckCache>,
    workspace: &Workspace,
) -> Outcome {
    let Scanned {
        file,
        imports,
        sql_hash,
        bytes,
        ..
    } = scanned;
    let (path, absolute, language) = (&file.path, &file.absolute, file.language);
    let index = workspace.index;
    let relative = relative_path(&file, root);
    // The bytes the first pass kept are those its hash is of.
    let scanned_hash = imports.as_ref().map(|(hash, _)| *hash).or(sql_hash);
    let (bytes, hash) = match (bytes, scanned_hash) {
        (Some(bytes), Some(hash)) => (bytes, hash),
        _ => match std::fs::read(path) {
            Ok(bytes) => {
                let hash = xxh3_128(&bytes);
                (bytes, hash)
            }
            Err(error) => {
                return Outcome::Skipped(path.to_path_buf(), format!("cannot read: {error}"));
            }
        },
    };
    // What the file held, to tell whether it changed before fixes are written over it.
    let original = options.fix.then(|| bytes.clone());
    let key = cache_key(&file, root);
    let reached = workspace.libraries_reached_by(absolute);
    // With `--fix` the file is fixed and audited afresh; the result is cached. Cached
    // findings hold while every answer of the workspace they rest on does, and, for a
    // Python module, the client libraries it reaches through imports (rules that judge
    // objects made in other modules run by them).
    let cached = cache
        .filter(|_| !options.fix)
        .and_then(|cache| cache.findings(&key, hash, |read| read.holds(index, absolute)))
        .filter(|(_, used)| language != Language::Python || used.workspace_libraries == reached.0)
        .map(|(findings, _)| findings);
    let (mut source, encoding) = match source_text::decode(language, bytes) {
        Ok(decoded) => decoded,
        Err(why) => return Outcome::Skipped(path.to_path_buf(), why),
    };
    if let Some(findings) = cached {
        let report = FileReport {
            path: path.to_path_buf(),
            language,
            source,
            findings,
            fixes_applied: 0,
        };
        return Outcome::Report(report, None);
    }
    if let Err(too_deep) = parser_limits::check(language, [source.as_bytes()]) {
        return Outcome::Skipped(path.to_path_buf(), too_deep.to_string());
    }
    let mut fixes_applied = 0;
    // Only a link named on the command line gets here (the walk does not follow links);
    // writing through it could reach outside the workspace, so its fixes are not written.
    let is_link = options.fix
        && std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if options.fix && is_link {
        eprintln!(
            "stackaudit: {}: a symbolic link; fixes are not written through links",
            path.display()
        );
    }
    if options.fix && !is_link {
        // Audited as the report will be, so findings that rest on other modules are
        // fixed too.
        let view = WorkspaceView {
            index: Arc::clone(index),
            module: absolute.clone(),
            libraries: reached,
        };
        let fixed = fix_all_in_workspace(
            language,
            &source,
            settings,
            options.unsafe_fixes,
            Some(relative),
            &view,
        );
        if fixed.text != source {
            let written = source_text::encode(&fixed.text, encoding).and_then(|new| {
                write_atomically(path, original.as_deref().unwrap_or_default(), &new)
                    .map_err(|error| error.to_string())
            });
            if let Err(error) = written {
                return Outcome::Skipped(path.to_path_buf(), format!("fixes not written: {error}"));
            }
            fixes_applied = fixed.applied;
            source = fixed.text;
        }
    }
    // The text passed the parser's limits above; text changed by fixes is checked again.
    let within_limits =
        fixes_applied == 0 || parser_limits::check(language, [source.as_bytes()]).is_ok();
    let link = Rc::new(WorkspaceLink::new(index.clone(), absolute.to_path_buf()));
    let findings = if within_limits {
        audit_text_in_workspace(
            language,
            &source,
            settings,
            Some(relative),
            link.clone(),
            reached,
        )
    } else {
        audit_text(language, &source, settings, Some(relative))
    };
    // What the cache keeps is keyed by the bytes now on disk (after any fixes).
    let hash = if fixes_applied > 0 {
        source_text::encode(&source, encoding)
            .map(|bytes| xxh3_128(&bytes))
            .ok()
    } else {
        Some(hash)
    };
    // What the module imports, as the first pass read it, unless it changed since
    // (or was fixed): the next run tells by it which libraries modules reach.
    let mut used = WorkspaceUse::default();
    if language == Language::Python {
        used = match imports {
            Some((scanned_hash, used)) if Some(scanned_hash) == hash => used,
            _ => imports_of(&source),
        };
        used.workspace_libraries = reached.0;
    }
    let report = FileReport {
        path: path.to_path_buf(),
        language,
        source,
        findings,
        fixes_applied,
    };
    let computed = hash.map(|hash| Computed {
        key,
        hash,
        reads: link.reads(),
        workspace: used,
    });
    Outcome::Report(report, computed)
}

/// Replace `path` with `new` through a temporary file in the same directory and a
/// rename, keeping permissions, unless the file changed since it was read as `old`.
pub fn write_atomically(path: &Path, old: &[u8], new: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let directory = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(new)?;
    temporary.as_file().sync_all()?;
    std::fs::set_permissions(temporary.path(), permissions)?;
    if std::fs::read(path)? != old {
        return Err(std::io::Error::other(
            "the file changed while it was being fixed",
        ));
    }
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_file_that_changed_since_it_was_read_is_not_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.py");
        std::fs::write(&path, "edited by someone else\n").expect("write");
        let error = write_atomically(&path, b"what we read\n", b"fixed\n").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the file changed while it was being fixed"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "edited by someone else\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|entry| entry.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("app.py")]);
    }

    #[test]
    fn a_fix_replaces_the_file_whole_and_keeps_its_permissions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.py");
        std::fs::write(&path, "old\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let before = std::fs::metadata(&path).expect("stat");
        write_atomically(&path, b"old\n", b"new\n").expect("written");
        let after = std::fs::metadata(&path).expect("stat");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new\n");
        assert_eq!(after.permissions().mode() & 0o777, 0o640);
        // A rename, not a rewrite in place: a reader never sees a half-written file.
        use std::os::unix::fs::MetadataExt;
        assert_ne!(before.ino(), after.ino());
    }
}
