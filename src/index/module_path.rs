//! Where Python would find a module, as the interpreter run from the project's root
//! would: a file's import roots, its dotted module name, and the files a dotted name
//! may live in. Reads only the file system's layout (which files exist), through the
//! caller's `exists`, so the server can answer from its overlay of open documents.

use std::path::{Path, PathBuf};

/// Files whose folder is a project's root: Python is run from there.
const PROJECT_MARKERS: &[&str] = &["pyproject.toml", "setup.py", "setup.cfg", "alembic.ini"];

/// The folders a module's absolute imports are searched from, in order: the project's
/// root (its `src/` first when the file is under it), then the parent of the file's
/// top-most package when that differs. Shared by every module of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportRoots {
    pub folders: Vec<PathBuf>,
    /// `folders` as one key (modules with the same roots resolve a name alike).
    pub key: Box<[u8]>,
}

impl ImportRoots {
    pub fn new(folders: Vec<PathBuf>) -> ImportRoots {
        let key = folders
            .iter()
            .flat_map(|root| root.as_os_str().as_encoded_bytes().iter().chain(b"\0"))
            .copied()
            .collect();
        ImportRoots { folders, key }
    }
}

/// Where a module file sits among the packages of its project.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleLocation {
    pub roots: std::sync::Arc<ImportRoots>,
    /// Its dotted name below the first root it is under (`app.api.deps`); empty when
    /// it is under none.
    pub name: String,
    /// Whether it is a package's `__init__.py` (its relative imports start in itself).
    pub is_package: bool,
}

impl ModuleLocation {
    /// The location of the Python file at `path` (absolute), judged from which marker
    /// files and `__init__.py` files `exists`.
    pub fn of(path: &Path, exists: &impl Fn(&Path) -> bool) -> ModuleLocation {
        let folder = path.parent().unwrap_or(Path::new("/"));
        let roots = ImportRoots::new(import_roots(folder, exists));
        ModuleLocation::in_roots(path, std::sync::Arc::new(roots))
    }

    /// The location of the Python file at `path`, whose folder's import roots are
    /// `roots` (`import_roots`).
    pub fn in_roots(path: &Path, roots: std::sync::Arc<ImportRoots>) -> ModuleLocation {
        let is_package = path.file_name().is_some_and(|name| name == "__init__.py");
        let name = roots
            .folders
            .iter()
            .find_map(|root| dotted_name_below(root, path, is_package))
            .unwrap_or_default();
        ModuleLocation {
            roots,
            name,
            is_package,
        }
    }

    /// The package relative imports start from at `level` dots (`from . import x` is
    /// level 1), or `None` when the dots climb above the top-level package.
    fn package_at_level(&self, level: usize) -> Option<String> {
        let mut parts: Vec<&str> = self
            .name
            .split('.')
            .filter(|part| !part.is_empty())
            .collect();
        // A module's own package is its name without its last part; a package's is itself.
        let climb = if self.is_package { level - 1 } else { level };
        if climb > parts.len() {
            return None;
        }
        parts.truncate(parts.len() - climb);
        Some(parts.join("."))
    }

    /// `target` (as an import wrote it, `..core.redis.client` or `app.core.client`)
    /// as an absolute dotted name, or `None` when its dots climb too high.
    pub fn absolute(&self, target: &str) -> Option<String> {
        let level = target.bytes().take_while(|byte| *byte == b'.').count();
        if level == 0 {
            return Some(target.to_string());
        }
        let package = self.package_at_level(level)?;
        let rest = &target[level..];
        Some(match (package.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_string(),
            (false, true) => package,
            (false, false) => format!("{package}.{rest}"),
        })
    }
}

/// The folders absolute imports of a module in `folder` are searched from, in order:
/// the project's root (its `src/` first when `folder` is under it), then the parent of
/// the folder's top-most package when that differs.
pub fn import_roots(folder: &Path, exists: &impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(project) = folder.ancestors().find(|candidate| {
        PROJECT_MARKERS
            .iter()
            .any(|marker| exists(&candidate.join(marker)))
    }) {
        let source_layout = project.join("src");
        if folder.starts_with(&source_layout) {
            roots.push(source_layout);
        }
        roots.push(project.to_path_buf());
    }
    // The parent of the top-most folder of the chain of packages holding the folder.
    let mut top_package_parent = folder;
    while exists(&top_package_parent.join("__init__.py")) {
        match top_package_parent.parent() {
            Some(parent) => top_package_parent = parent,
            None => break,
        }
    }
    if !roots.iter().any(|root| root == top_package_parent) {
        roots.push(top_package_parent.to_path_buf());
    }
    roots
}

/// The dotted module name of `path` below `root` (`root/app/api/deps.py` is
/// `app.api.deps`; `root/app/__init__.py` is `app`).
fn dotted_name_below(root: &Path, path: &Path, is_package: bool) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop()?;
    if !is_package {
        parts.push(file.strip_suffix(".py")?.to_string());
    }
    Some(parts.join("."))
}

/// The files that may hold the module `dotted` below `root`: `a/b.py`, then the
/// package `a/b/__init__.py` (a package and a module of one name: the package wins in
/// Python, but a project holds one or the other).
pub fn module_files(root: &Path, dotted: &str) -> [PathBuf; 2] {
    let mut folder = root.to_path_buf();
    for part in dotted.split('.') {
        folder.push(part);
    }
    let package = folder.join("__init__.py");
    folder.set_extension("py");
    [package, folder]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn layout(files: &[&str]) -> impl Fn(&Path) -> bool {
        let files: HashSet<PathBuf> = files.iter().map(PathBuf::from).collect();
        move |path: &Path| files.contains(path)
    }

    #[test]
    fn a_project_marker_makes_the_root() {
        let exists = layout(&[
            "/w/backend/pyproject.toml",
            "/w/backend/app/__init__.py",
            "/w/backend/app/api/__init__.py",
        ]);
        let deps = ModuleLocation::of(Path::new("/w/backend/app/api/deps.py"), &exists);
        assert_eq!(deps.roots.folders, [PathBuf::from("/w/backend")]);
        assert_eq!(deps.name, "app.api.deps");
        assert_eq!(
            deps.absolute(".cache.client").as_deref(),
            Some("app.api.cache.client")
        );
        assert_eq!(deps.absolute("..core").as_deref(), Some("app.core"));
        assert_eq!(deps.absolute("....x"), None);
        let package = ModuleLocation::of(Path::new("/w/backend/app/__init__.py"), &exists);
        assert_eq!(package.name, "app");
        assert_eq!(
            package.absolute(".cache.client").as_deref(),
            Some("app.cache.client")
        );
    }

    #[test]
    fn a_src_layout_and_a_project_without_markers() {
        let exists = layout(&["/w/pyproject.toml", "/w/src/pkg/__init__.py"]);
        let module = ModuleLocation::of(Path::new("/w/src/pkg/store.py"), &exists);
        assert_eq!(module.roots.folders[0], PathBuf::from("/w/src"));
        assert_eq!(module.name, "pkg.store");

        let exists = layout(&["/w/svc/app/__init__.py"]);
        let module = ModuleLocation::of(Path::new("/w/svc/app/main.py"), &exists);
        assert_eq!(module.roots.folders, [PathBuf::from("/w/svc")]);
        assert_eq!(module.name, "app.main");
    }

    #[test]
    fn module_files_are_a_module_then_a_package() {
        assert_eq!(
            module_files(Path::new("/w"), "app.cache"),
            [
                PathBuf::from("/w/app/cache/__init__.py"),
                PathBuf::from("/w/app/cache.py")
            ]
        );
    }
}
