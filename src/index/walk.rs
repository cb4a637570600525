//! The files of a workspace that stackaudit audits, as `check` and the server's index
//! find them: supported languages only, `.gitignore` and `exclude` respected, links
//! not followed.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::language::Language;

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
    each_named_path(paths, &mut take, |path, base, take| {
        for entry in walker(path).build() {
            if let Some((walked, absolute, language)) =
                file_to_take(entry, path, base, settings, root)
            {
                take(walked, absolute, language);
            }
        }
    });
    seen.len()
}

/// `walk_files` on several threads (`threads`), which call `found` as they meet
/// files, in no particular order. Directories are read and ignore files matched in
/// parallel: on a large tree, a walk on one thread took as long as a quarter of the
/// whole audit.
pub fn walk_files_in_parallel(
    paths: &[PathBuf],
    settings: &Settings,
    root: &Path,
    threads: usize,
    found: impl Fn(PathBuf, PathBuf, Language) + Sync,
) -> usize {
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    let mut take = |path: PathBuf, absolute: PathBuf, language: Language| {
        let first = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(absolute.clone());
        if first {
            found(path, absolute, language);
        }
    };
    each_named_path(paths, &mut take, |path, base, take| {
        // Shared by the walk's threads.
        let take = &*take;
        walker(path).threads(threads).build_parallel().run(|| {
            Box::new(move |entry| {
                if let Some((walked, absolute, language)) =
                    file_to_take(entry, path, base, settings, root)
                {
                    take(walked, absolute, language);
                }
                ignore::WalkState::Continue
            })
        });
    });
    seen.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
}

/// Each of `paths`: a file named is taken as it is, when of a supported language; a
/// directory is handed to `walk_directory` with its absolute form, to take its files.
fn each_named_path<T: FnMut(PathBuf, PathBuf, Language)>(
    paths: &[PathBuf],
    take: &mut T,
    mut walk_directory: impl FnMut(&Path, &Path, &mut T),
) {
    for path in paths {
        let base = absolute_of(path);
        if !path.is_file() {
            walk_directory(path, &base, take);
        } else if let Some(language) = Language::from_path(path) {
            take(path.clone(), base, language);
        }
    }
}

/// One `absolute` per path named, not per file: it reads the current directory.
fn absolute_of(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A walk of the directory `path`: .gitignore respected even outside a repository,
/// links not followed.
fn walker(path: &Path) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(path);
    builder.require_git(false).follow_links(false);
    builder
}

/// What the walk of `path` (whose absolute form is `base`) takes of `entry`: a file
/// of a supported language that `exclude` leaves in, as walked and as an absolute
/// path, with its language.
fn file_to_take(
    entry: Result<ignore::DirEntry, ignore::Error>,
    path: &Path,
    base: &Path,
    settings: &Settings,
    root: &Path,
) -> Option<(PathBuf, PathBuf, Language)> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(error) => {
            eprintln!("stackaudit: warning: {error}");
            return None;
        }
    };
    if !entry.file_type().is_some_and(|kind| kind.is_file()) {
        return None;
    }
    let language = Language::from_path(entry.path())?;
    let below_path = entry.path().strip_prefix(path).unwrap_or(entry.path());
    let absolute = base.join(below_path);
    let relative = absolute.strip_prefix(root).unwrap_or(&absolute);
    if settings.is_excluded(relative) {
        return None;
    }
    Some((entry.into_path(), absolute, language))
}
