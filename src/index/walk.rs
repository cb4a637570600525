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
