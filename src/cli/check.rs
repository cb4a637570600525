//! `stackaudit check [PATH...]`: walk the paths (respecting .gitignore and `exclude`),
//! audit files in parallel, optionally fix them in place, and report.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::xxh3_128;

use crate::audit::{audit_text, audit_text_in_workspace, audit_text_within_limits};
use crate::cli::cache::{CACHE_FOLDER, CheckCache};
use crate::config::{Options, Settings, discover};
use crate::document::{parser_limits, source_text};
use crate::fix::fix_all;
use crate::index::{WorkspaceIndex, WorkspaceLink, WorkspaceRead};
use crate::language::Language;
use crate::rules::Finding;

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

/// Walk `paths` and hand each file to audit to `found` as soon as the walk meets it:
/// supported languages only, .gitignore respected, symlinks not followed, `exclude`
/// applied, each file once. Paths named explicitly are always taken. `found` gets the
/// path as walked and its absolute form (what `exclude` and the rules judge, below
/// `root`). Returns how many files it handed on.
pub fn walk_files(
    paths: &[PathBuf],
    settings: &Settings,
    root: &Path,
    mut found: impl FnMut(PathBuf, PathBuf, Language),
) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut take = |path: PathBuf, absolute: PathBuf, language: Language| {
        if seen.insert(absolute.clone()) {
            found(path, absolute, language);
        }
    };
    for path in paths {
        // One `absolute` per path named, not per file: it reads the current directory.
        let base = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        if path.is_file() {
            if let Some(language) = Language::from_path(path) {
                take(path.clone(), base, language);
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .require_git(false)
            .follow_links(false)
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    eprintln!("stackaudit: warning: {error}");
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            let Some(language) = Language::from_path(entry.path()) else {
                continue;
            };
            let below_path = entry.path().strip_prefix(path).unwrap_or(entry.path());
            let absolute = base.join(below_path);
            let relative = absolute.strip_prefix(root).unwrap_or(&absolute);
            if settings.is_excluded(relative) {
                continue;
            }
            take(entry.into_path(), absolute, language);
        }
    }
    seen.len()
}

enum Outcome {
    /// With what to cache: the file's path below the root, the hash of its bytes and
    /// what its audit asked the workspace, when its findings were computed (not read
    /// from the cache).
    Report(FileReport, Option<(String, u128, Vec<WorkspaceRead>)>),
    Skipped(PathBuf, String),
}

impl Outcome {
    fn path(&self) -> &Path {
        match self {
            Outcome::Report(file, _) => &file.path,
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
    // Files are audited while the walk goes on (it reads directories; the audit is
    // CPU-bound), each as a task of the thread pool; reported in path order.
    let outcomes = Mutex::new(Vec::new());
    let mut found = 0;
    rayon::scope(|scope| {
        let (outcomes, cache, index) = (&outcomes, cache.as_ref(), &index);
        found = walk_files(&paths, settings, root, |path, absolute, language| {
            scope.spawn(move |_| {
                let file = FileToCheck {
                    path: &path,
                    absolute: &absolute,
                    language,
                };
                let outcome = check_file(file, settings, options, root, cache, index);
                outcomes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(outcome);
            });
        });
    });
    let mut outcomes = outcomes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    outcomes.sort_by(|a, b| a.path().cmp(b.path()));
    let mut report = CheckReport {
        files_audited: found,
        ..CheckReport::default()
    };
    let mut audited_now = 0;
    for outcome in outcomes {
        match outcome {
            Outcome::Report(file, computed) => {
                if let (Some(cache), Some((key, hash, reads))) = (cache.as_mut(), computed) {
                    cache.insert(key, hash, &file.findings, reads);
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
    eprintln!("INDEXED {}", index.indexed_paths().len());
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

/// A file the walk found: as named, as an absolute path, and its language.
struct FileToCheck<'p> {
    path: &'p Path,
    absolute: &'p Path,
    language: Language,
}

fn check_file(
    file: FileToCheck,
    settings: &Settings,
    options: &CheckOptions,
    root: &Path,
    cache: Option<&CheckCache>,
    index: &Arc<WorkspaceIndex>,
) -> Outcome {
    let FileToCheck {
        path,
        absolute,
        language,
    } = file;
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
    let cached = cache
        .filter(|_| !options.fix)
        .and_then(|cache| cache.findings(&key, hash, |read| read.holds(index, absolute)));
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
        let fixed = fix_all(
            language,
            &source,
            settings,
            options.unsafe_fixes,
            Some(relative),
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
    let findings = match (within_limits, language) {
        (false, _) => audit_text(language, &source, settings, Some(relative)),
        (true, Language::Python) => {
            audit_text_in_workspace(language, &source, settings, Some(relative), link.clone())
        }
        (true, _) => audit_text_within_limits(language, &source, settings, Some(relative)),
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
    Outcome::Report(report, hash.map(|hash| (key, hash, link.reads())))
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
