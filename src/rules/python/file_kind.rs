//! What kind of file a path names, for rules whose findings depend on it. Paths are
//! below the project root (the CLI and the server strip it), so the directories a
//! project sits in never count.

use std::path::Path;

fn stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("")
}

fn directories(path: &Path) -> impl Iterator<Item = &str> {
    path.parent()
        .into_iter()
        .flat_map(Path::components)
        .filter_map(|component| component.as_os_str().to_str())
}

/// pytest's and unittest's conventions: `test_*.py`, `*_test.py`, `conftest.py`, or
/// anything under a `tests`/`test` directory.
pub fn is_test_file(path: Option<&Path>) -> bool {
    let Some(path) = path else { return false };
    let stem = stem(path);
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
        || directories(path).any(|directory| matches!(directory, "tests" | "test"))
}

/// Scripts meant for a developer's machine: `dev.py`, `local.py`, `run_dev.py`,
/// `devserver.py`, `*_dev.py`, `manage.py`, anything under `dev/` or `scripts/dev*`,
/// and test files.
pub fn is_dev_entrypoint(path: Option<&Path>) -> bool {
    let Some(file) = path else { return false };
    let stem = stem(file);
    is_test_file(path)
        || matches!(
            stem,
            "dev" | "local" | "devserver" | "run_dev" | "rundev" | "manage" | "debug"
        )
        || stem.starts_with("dev_")
        || stem.ends_with("_dev")
        || stem.ends_with("_local")
        || directories(file).any(|directory| matches!(directory, "dev" | "devtools"))
}

/// What a container runs to start the service: `*entrypoint*.py`, gunicorn's config,
/// or files under `docker/`, `deploy/` or `container/`.
pub fn is_container_entrypoint(path: Option<&Path>) -> bool {
    let Some(path) = path else { return false };
    let stem = stem(path);
    stem.contains("entrypoint")
        || matches!(stem, "gunicorn.conf" | "gunicorn_conf" | "gunicorn_config")
        || directories(path).any(|directory| {
            matches!(
                directory,
                "docker" | "deploy" | "deployment" | "container" | "containers"
            )
        })
}

/// Files that run as commands, by name: `cli.py`, `__main__.py`, `manage.py`, modules
/// under `cli/`, `commands/`, `management/`, `scripts/` or `bin/`, and modules that run
/// code under `if __name__ == "__main__":`.
pub fn is_command_module(path: Option<&Path>, source: &str) -> bool {
    is_command_path(path)
        || memchr::memmem::find_iter(source.as_bytes(), b"__main__").any(|at| {
            let line_begins = crate::rules::line_start(source, at);
            let line = &source[line_begins..];
            line.starts_with("if __name__")
                || line.starts_with("if \"__main__\"")
                || line.starts_with("if '__main__'")
        })
}

/// Files that run as commands by their name alone (`is_command_module` without the
/// `__main__` block).
pub fn is_command_path(path: Option<&Path>) -> bool {
    path.is_some_and(|path| {
        matches!(stem(path), "cli" | "__main__" | "manage" | "commands")
            || directories(path).any(|folder| {
                matches!(
                    folder,
                    "cli" | "commands" | "management" | "scripts" | "bin"
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> (bool, bool, bool) {
        let path = Some(Path::new(path));
        (
            is_test_file(path),
            is_dev_entrypoint(path),
            is_container_entrypoint(path),
        )
    }

    #[test]
    fn paths_are_classified_by_name_and_directory() {
        assert_eq!(kind("tests/api/test_orders.py"), (true, true, false));
        assert_eq!(kind("app/orders_test.py"), (true, true, false));
        assert_eq!(kind("conftest.py"), (true, true, false));
        assert_eq!(kind("app/main.py"), (false, false, false));
        assert_eq!(kind("app/testing_utils.py"), (false, false, false));
        assert_eq!(kind("scripts/run_dev.py"), (false, true, false));
        assert_eq!(kind("dev.py"), (false, true, false));
        assert_eq!(kind("docker/entrypoint.py"), (false, false, true));
        assert_eq!(kind("gunicorn.conf.py"), (false, false, true));
        assert_eq!(kind("app/docker_entrypoint.py"), (false, false, true));
        assert!(!is_test_file(None));
    }
}
