//! `stackaudit check [PATH...]`: walk the paths (respecting .gitignore and `exclude`),
//! audit files in parallel, optionally fix them in place, and report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::xxh3_128;

use rayon::iter::{IntoParallelRefMutIterator, ParallelIterator};

use crate::audit::{
    audit_rules_in_workspace, audit_text, audit_text_in_workspace, sort_findings,
    triggered_by_workspace, triggered_rules,
};
use crate::cli::cache::{CACHE_FOLDER, CheckCache, WorkspaceUse};
use crate::config::{Options, Settings, discover};
use crate::document::{parser_limits, source_text};
use crate::fix::fix_all_in_workspace;
use crate::index::import_scan::{ImportedModule, includes_routers, libraries_of, scan_imports};
use crate::index::walk::walk_files;
use crate::index::{ImportingModule, WorkspaceIndex, WorkspaceLink, WorkspaceRead, WorkspaceView};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::rule_set::RuleSet;
use crate::rules::{Finding, Libraries};

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
    /// With what to cache, when its findings were computed (not read from the cache),
    /// and what is left to do once the walk is done.
    Report(
        FileReport,
        Option<Computed>,
        Option<Box<WorkspaceRulesLater>>,
    ),
    /// To check once the walk is done (`--fix` on a file where workspace rules may run).
    Deferred(FileToCheck),
    Skipped(PathBuf, String),
}

impl Outcome {
    fn path(&self) -> &Path {
        match self {
            Outcome::Report(file, _, _) => &file.path,
            Outcome::Deferred(file) => &file.path,
            Outcome::Skipped(path, _) => path,
        }
    }
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
    let walking = Workspace {
        index: &index,
        imports: Mutex::new(Vec::new()),
        libraries: None,
    };
    // Files are audited while the walk goes on (it reads directories; the audit is
    // CPU-bound), each as a task of the thread pool; reported in path order.
    let outcomes = Mutex::new(Vec::new());
    let mut found = 0;
    let push = |outcome| {
        outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(outcome);
    };
    rayon::scope(|scope| {
        let (cache, walking, push) = (cache.as_ref(), &walking, &push);
        found = walk_files(&paths, settings, root, |path, absolute, language| {
            scope.spawn(move |_| {
                let file = FileToCheck {
                    path,
                    absolute,
                    language,
                };
                push(check_file(file, settings, options, root, cache, walking));
            });
        });
    });
    // Rules that judge objects made in other modules run where a module reaches the
    // library that makes them through imports, which is known once the walk is done.
    let imports = std::mem::take(
        &mut *walking
            .imports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    index.includers_complete();
    let _ = index.set_import_graph(&imports);
    let done = Workspace {
        libraries: Some(index.libraries_reached(imports)),
        ..walking
    };
    let mut outcomes = outcomes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    outcomes.par_iter_mut().for_each(|outcome| {
        let (file, redo) = match outcome {
            Outcome::Deferred(file) => (file.clone(), true),
            Outcome::Report(_, _, Some(later)) => {
                let absolute = &later.file.absolute;
                let libraries_moved = later
                    .cached_with
                    .is_some_and(|libraries| libraries != done.libraries_reached_by(absolute));
                // Which routers are included with dependencies, and which imports
                // close a cycle, is known only now: cached findings that rest on it
                // hold if its answers still do (a file audited now asks again below).
                let answers_changed = later
                    .deferred_reads
                    .iter()
                    .any(|read| !read.holds(&index, absolute));
                (later.file.clone(), libraries_moved || answers_changed)
            }
            _ => return,
        };
        if redo {
            *outcome = check_file(file, settings, options, root, cache.as_ref(), &done);
        } else if let Outcome::Report(report, computed, Some(later)) = outcome
            && later.cached_with.is_none()
        {
            // An audit that asked what only the whole workspace tells before it did:
            // the rules that read the workspace's answers run again.
            let asked_too_early = computed.as_ref().is_some_and(|computed| {
                computed
                    .reads
                    .iter()
                    .any(|read| read.answer.is_none() && read.about.waits_for_the_whole_workspace())
            });
            let again = if asked_too_early {
                triggered_rules(later.file.language, &report.source, settings)
                    .retain(|_, rule| rule.reads.contains(Projections::WORKSPACE))
            } else {
                RuleSet::EMPTY
            };
            run_workspace_rules(report, computed.as_mut(), later, settings, &done, again);
        }
    });
    outcomes.sort_by(|a, b| a.path().cmp(b.path()));
    let mut report = CheckReport {
        files_audited: found,
        ..CheckReport::default()
    };
    let mut audited_now = 0;
    for outcome in outcomes {
        match outcome {
            Outcome::Report(file, computed, _) => {
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
            // Every deferred file was checked after the walk.
            Outcome::Deferred(_) => {}
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
        "nothing to audit in {}: no Python file, Dockerfile or compose file (see `exclude` and .gitignore)",
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

/// A file on which rules that judge objects made in other modules may run: they run
/// once the walk tells which client libraries it reaches through imports.
struct WorkspaceRulesLater {
    file: FileToCheck,
    /// Its path below the root, as rules see it.
    relative: PathBuf,
    /// Where its findings came from the cache: the libraries they were found with.
    cached_with: Option<Libraries>,
    /// Answers its cached findings rest on that are known only once the walk is done
    /// (which routers other modules include with dependencies, import cycles).
    deferred_reads: Vec<WorkspaceRead>,
}

/// Run on a file audited during the walk the rules that judge objects made in other
/// modules which it may reach, and add their findings; and run `again` the rules that
/// asked what only the whole workspace tells before the walk was done, in place of
/// what they found then.
fn run_workspace_rules(
    report: &mut FileReport,
    mut computed: Option<&mut Computed>,
    later: &WorkspaceRulesLater,
    settings: &Settings,
    workspace: &Workspace,
    again: RuleSet,
) {
    let FileToCheck {
        absolute, language, ..
    } = &later.file;
    let reached = workspace.libraries_reached_by(absolute);
    let link = Rc::new(WorkspaceLink::new(
        workspace.index.clone(),
        absolute.clone(),
    ));
    // Most modules reach no client library: then no rule is a candidate, at no cost.
    let candidates =
        triggered_by_workspace(*language, &report.source, settings, RuleSet::EMPTY, reached);
    let (rules, again) = if candidates.is_empty() {
        (candidates, again)
    } else {
        let already = triggered_rules(*language, &report.source, settings);
        // The walk ran these knowing only the libraries the module imports itself:
        // where it reaches more through other modules, they may judge more
        // (`Checker::reaches`), so they run again.
        let own = libraries_of(&scan_imports(&report.source));
        let beyond = Libraries(reached.0 & !own.0);
        let widened = candidates.retain(|id, rule| {
            already.contains(id)
                && rule
                    .workspace_trigger
                    .is_some_and(|trigger| trigger.libraries.intersects(beyond))
        });
        (
            candidates.retain(|id, _| !already.contains(id)),
            again.union(widened),
        )
    };
    if !again.is_empty() {
        report
            .findings
            .retain(|finding| again.rules().all(|(_, rule)| rule.id != finding.rule));
        if let Some(computed) = computed.as_deref_mut() {
            computed.reads.retain(|read| {
                !(read.answer.is_none() && read.about.waits_for_the_whole_workspace())
            });
        }
    }
    let rules = rules.union(again);
    if !rules.is_empty() {
        let found = audit_rules_in_workspace(
            *language,
            &report.source,
            settings,
            Some(&later.relative),
            link.clone(),
            reached,
            rules,
        );
        report.findings.extend(found);
        sort_findings(&mut report.findings);
    }
    if let Some(computed) = computed {
        computed.workspace.workspace_libraries = reached.0;
        for read in link.reads() {
            if !computed.reads.contains(&read) {
                computed.reads.push(read);
            }
        }
    }
}

/// A file the walk found: as named, as an absolute path, and its language.
#[derive(Clone)]
struct FileToCheck {
    path: PathBuf,
    absolute: PathBuf,
    language: Language,
}

/// What a run knows of its workspace.
struct Workspace<'i> {
    index: &'i Arc<WorkspaceIndex>,
    /// While the walk goes on: each Python module read so far, the libraries it
    /// imports and the module files it imports.
    imports: Mutex<Vec<ImportingModule>>,
    /// Once the walk is done: the client libraries each module reaches by imports.
    libraries: Option<HashMap<PathBuf, Libraries>>,
}

impl Workspace<'_> {
    fn walk_done(&self) -> bool {
        self.libraries.is_some()
    }

    fn imports(&self, module: &Path, imports: &[ImportedModule], includes_routers: bool) {
        if self.walk_done() {
            return;
        }
        self.index.set_includes_routers(module, includes_routers);
        // Resolved here, in the file's task, while the walk goes on.
        let files = self.index.modules_imported(module, imports);
        let entry = (module.to_path_buf(), libraries_of(imports), files);
        self.imports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry);
    }

    /// The libraries `module` reaches (none while the walk goes on).
    fn libraries_reached_by(&self, module: &Path) -> Libraries {
        self.libraries
            .as_ref()
            .and_then(|reached| reached.get(module).copied())
            .unwrap_or_default()
    }
}

fn check_file(
    file: FileToCheck,
    settings: &Settings,
    options: &CheckOptions,
    root: &Path,
    cache: Option<&CheckCache>,
    workspace: &Workspace,
) -> Outcome {
    let (path, absolute, language) = (&file.path, &file.absolute, file.language);
    let index = workspace.index;
    // Rules that care what kind of file this is (a test, an entry point) judge its
    // path below the project, not the directories the project happens to sit in.
    let relative = absolute.strip_prefix(root).unwrap_or(path);
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return Outcome::Skipped(path.to_path_buf(), format!("cannot read: {error}")),
    };
    // What the file held, to tell whether it changed before fixes are written over it.
    let original = options.fix.then(|| bytes.clone());
    let hash = xxh3_128(&bytes);
    let key = relative.to_string_lossy().into_owned();
    // With `--fix` the file is fixed and audited afresh; the result is cached.
    let mut deferred_reads = Vec::new();
    let cached = cache.filter(|_| !options.fix).and_then(|cache| {
        cache.findings(&key, hash, |read| {
            if read.about.waits_for_the_whole_workspace() && !workspace.walk_done() {
                deferred_reads.push(read.clone());
                return true;
            }
            read.holds(index, absolute)
        })
    });
    // A Python module's cached findings hold while the client libraries it reaches
    // through imports do (known once the walk is done): rules that judge objects made
    // in other modules run by them.
    let mut cached_with = None;
    if let Some((_, used)) = &cached
        && language == Language::Python
    {
        workspace.imports(absolute, &used.imports, used.includes_routers);
        cached_with = Some(Libraries(used.workspace_libraries));
    }
    let cached = cached
        .filter(|_| {
            !workspace.walk_done()
                || cached_with
                    .is_none_or(|libraries| libraries == workspace.libraries_reached_by(absolute))
        })
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
        let later = cached_with
            .filter(|_| !workspace.walk_done())
            .map(|libraries| {
                Box::new(WorkspaceRulesLater {
                    relative: relative.to_path_buf(),
                    cached_with: Some(libraries),
                    deferred_reads,
                    file: file.clone(),
                })
            });
        return Outcome::Report(report, None, later);
    }
    if let Err(too_deep) = parser_limits::check(language, [source.as_bytes()]) {
        return Outcome::Skipped(path.to_path_buf(), too_deep.to_string());
    }
    let mut used = WorkspaceUse::default();
    let is_python = language == Language::Python;
    if is_python {
        used.imports = scan_imports(&source);
        used.includes_routers = includes_routers(&source);
        workspace.imports(absolute, &used.imports, used.includes_routers);
        // Fixes are written once, after the walk, when the file's rules are all known.
        if !workspace.walk_done() && options.fix {
            return Outcome::Deferred(file);
        }
        used.workspace_libraries = workspace.libraries_reached_by(absolute).0;
    }
    let later = (is_python && !workspace.walk_done()).then(|| {
        Box::new(WorkspaceRulesLater {
            relative: relative.to_path_buf(),
            cached_with: None,
            deferred_reads: Vec::new(),
            file: file.clone(),
        })
    });
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
            libraries: workspace.libraries_reached_by(absolute),
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
            workspace.libraries_reached_by(absolute),
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
    Outcome::Report(report, computed, later)
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
