//! The `check` cache: each file's findings, kept between runs so an unchanged tree is
//! not audited again (Ruff's `crates/ruff/src/cache.rs` is the model).
//!
//! One JSON file per key under the cache folder (`.stackaudit_cache/` at the project
//! root, or the `cache-dir` setting), named after what the findings depend on besides
//! the files themselves: the tool's version, a hash of the sources it was built from
//! (`build.rs`), and a stable fingerprint of the settings. Inside it, each file (by its
//! path below the project root) has the xxh3 hash of its bytes and its findings; a file
//! whose bytes changed is audited again. The folder holds a `.gitignore` of `*`, so it
//! never shows up in `git status`. `rm -rf .stackaudit_cache` clears it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::index::WorkspaceRead;
use crate::index::import_scan::ImportedModule;
use crate::rules::{Finding, Fix, Severity, rule_by_id};

/// The folder's name at the project root, as Ruff's `.ruff_cache`.
pub const CACHE_FOLDER: &str = ".stackaudit_cache";

/// What a cache file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    files: HashMap<String, CachedFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedFile {
    /// xxh3-128 of the file's bytes, in hex.
    hash: String,
    findings: Vec<CachedFinding>,
    /// What the audit asked other modules (`index::WorkspaceRead`): the findings hold
    /// while the workspace answers the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    workspace_reads: Vec<WorkspaceRead>,
    #[serde(default)]
    workspace: WorkspaceUse,
}

/// How a file's audit used the workspace beyond the answers it read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceUse {
    /// What the file imports (`import_scan`): whether other files' rules run depends
    /// on which libraries modules reach through imports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<ImportedModule>,
    /// The client libraries it reached through imports when audited: rules that judge
    /// objects made elsewhere ran by them (`workspace_trigger`).
    pub workspace_libraries: u8,
    /// Whether its text includes routers (`include_router`): which routers are
    /// included with dependencies is read from such modules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub includes_routers: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedFinding {
    rule: String,
    range: Range<usize>,
    message: Arc<str>,
    severity: Severity,
    fix: Option<Fix>,
}

/// The cache of one run: read once before the files are audited, written once after.
#[derive(Debug)]
pub struct CheckCache {
    path: PathBuf,
    /// The identity of the build that reads and writes it.
    build: String,
    contents: Contents,
}

impl CheckCache {
    /// The cache under `folder` for settings whose fingerprint is `settings_key`; empty
    /// when nothing was cached under this key (or the file is unreadable: a cache that
    /// cannot be read is only slower, never an error).
    pub fn open(folder: &Path, settings_key: u64) -> CheckCache {
        CheckCache::open_for_build(folder, settings_key, BUILD)
    }

    /// `open` for a given build identity (tests show a new build reads nothing old).
    pub fn open_for_build(folder: &Path, settings_key: u64, build: &str) -> CheckCache {
        let path = folder.join(format!("{build}-{settings_key:016x}.json"));
        let contents = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        CheckCache {
            path,
            build: build.to_string(),
            contents,
        }
    }

    /// The findings cached for `file` (its path below the project root) when its bytes
    /// still hash to `hash` and every answer of the workspace its audit read
    /// `still_holds`, with how it used the workspace.
    pub fn findings(
        &self,
        file: &str,
        hash: u128,
        still_holds: impl FnMut(&WorkspaceRead) -> bool,
    ) -> Option<(Vec<Finding>, WorkspaceUse)> {
        let cached = self.contents.files.get(file)?;
        if cached.hash != hex(hash) || !cached.workspace_reads.iter().all(still_holds) {
            return None;
        }
        let findings = cached
            .findings
            .iter()
            .map(|finding| {
                Some(Finding {
                    rule: rule_by_id(&finding.rule)?.id,
                    range: finding.range.clone(),
                    message: finding.message.clone(),
                    severity: finding.severity,
                    fix: finding.fix.clone(),
                })
            })
            .collect::<Option<Vec<Finding>>>()?;
        Some((findings, cached.workspace.clone()))
    }

    /// How the audit cached for `file` used the workspace (what the module imports),
    /// when its bytes still hash to `hash`, whatever its findings rest on.
    pub fn workspace_use(&self, file: &str, hash: u128) -> Option<&WorkspaceUse> {
        let cached = self.contents.files.get(file)?;
        (cached.hash == hex(hash)).then_some(&cached.workspace)
    }

    pub fn insert(
        &mut self,
        file: String,
        hash: u128,
        findings: &[Finding],
        workspace_reads: Vec<WorkspaceRead>,
        workspace: WorkspaceUse,
    ) {
        let findings = findings
            .iter()
            .map(|finding| CachedFinding {
                rule: finding.rule.to_string(),
                range: finding.range.clone(),
                message: finding.message.clone(),
                severity: finding.severity,
                fix: finding.fix.clone(),
            })
            .collect();
        let entry = CachedFile {
            hash: hex(hash),
            findings,
            workspace_reads,
            workspace,
        };
        self.contents.files.insert(file, entry);
    }

    /// Write the cache (and the folder's `.gitignore`). A failure is reported on stderr
    /// and otherwise ignored: the findings of this run are already right.
    pub fn save(&self) {
        let written = self
            .path
            .parent()
            .map_or(Ok(()), |folder| {
                std::fs::create_dir_all(folder)?;
                let ignore = folder.join(".gitignore");
                if !ignore.exists() {
                    std::fs::write(ignore, "# Made by stackaudit; safe to delete.\n*\n")?;
                }
                Ok(())
            })
            .and_then(|()| {
                let bytes = serde_json::to_vec(&self.contents).map_err(std::io::Error::other)?;
                write_replacing(&self.path, &bytes)
            });
        if written.is_ok() {
            self.remove_other_builds();
        }
        if let Err(error) = written {
            eprintln!(
                "stackaudit: warning: cache not written to {}: {error}",
                self.path.display()
            );
        }
    }
}

impl CheckCache {
    /// Delete what other builds cached in the folder (each upgrade would otherwise
    /// leave a file as large as the project's findings behind). This build's files
    /// for other settings stay.
    fn remove_other_builds(&self) {
        let Some(folder) = self.path.parent() else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let own = format!("{}-", self.build);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let made_by_a_build = name.starts_with('v') && name.ends_with(".json");
            if made_by_a_build && !name.starts_with(&own) {
                // Another run may be removing it at the same time: no error.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The identity of this build: version and a hash of its sources.
const BUILD: &str = concat!(
    "v",
    env!("CARGO_PKG_VERSION"),
    "-",
    env!("STACKAUDIT_BUILD_ID")
);

fn hex(hash: u128) -> String {
    format!("{hash:032x}")
}

/// Write through a temporary file and a rename: two runs at once never leave a torn file.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(bytes)?;
    // Readable like any other file the run writes (a temporary file starts as 0600),
    // so a cache shared between users or CI steps can be read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(message: &str) -> Finding {
        Finding {
            rule: "blocking-io-in-async",
            range: 3..9,
            message: message.into(),
            severity: Severity::Warning,
            fix: None,
        }
    }

    /// A cache of `build` for settings `settings` under `folder` holding one finding
    /// of `app.py` (bytes hashing to 42).
    fn with_one_finding(folder: &Path, settings: u64, build: &str) -> CheckCache {
        let mut cache = CheckCache::open_for_build(folder, settings, build);
        cache.insert(
            "app.py".into(),
            42,
            &[finding("cached")],
            Vec::new(),
            WorkspaceUse::default(),
        );
        cache
    }

    /// Saving removes what other builds cached, and keeps this build's files for
    /// other settings.
    #[test]
    fn a_new_build_removes_the_caches_of_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (build, settings) in [("v1-a", 7), ("v1-a", 8), ("v1-b", 7)] {
            with_one_finding(dir.path(), settings, build).save();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("readable")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".gitignore", "v1-b-0000000000000007.json"],
            "only the newest build's cache is left"
        );
    }

    #[test]
    fn findings_come_back_only_for_the_same_bytes_settings_and_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        with_one_finding(dir.path(), 7, "v1-a").save();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).expect("gitignore"),
            "# Made by stackaudit; safe to delete.\n*\n"
        );

        let same = CheckCache::open_for_build(dir.path(), 7, "v1-a");
        assert_eq!(
            same.findings("app.py", 42, |_| true),
            Some((vec![finding("cached")], WorkspaceUse::default()))
        );
        // Other bytes, another file, other settings, another build: nothing.
        assert_eq!(same.findings("app.py", 43, |_| true), None);
        assert_eq!(same.findings("other.py", 42, |_| true), None);
        assert_eq!(
            CheckCache::open_for_build(dir.path(), 8, "v1-a").findings("app.py", 42, |_| true),
            None
        );
        assert_eq!(
            CheckCache::open_for_build(dir.path(), 7, "v2-a").findings("app.py", 42, |_| true),
            None
        );
        assert_eq!(
            CheckCache::open_for_build(dir.path(), 7, "v1-b").findings("app.py", 42, |_| true),
            None
        );
    }

    #[test]
    fn an_unreadable_cache_is_an_empty_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("v1-a-0000000000000007.json"), "{not json").expect("write");
        let cache = CheckCache::open_for_build(dir.path(), 7, "v1-a");
        assert_eq!(cache.findings("app.py", 42, |_| true), None);
    }
}
