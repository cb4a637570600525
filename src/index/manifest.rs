//! What a Python project declares about itself: the distributions it needs at run
//! time, and the modules its console scripts run. Read from `pyproject.toml` (PEP 621
//! `[project]`, Poetry's `[tool.poetry]`) and from requirements files, so rules can
//! tell an optional dependency (imported where it is used, because it may be absent)
//! from a required one, and a command-line entry point from a library module.

use std::collections::HashSet;

/// Files that hold a project's declarations (the folder holding one is its root).
pub const MANIFEST_FILES: &[&str] = &[
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    "requirements.in",
    "Pipfile",
];

/// What one project declares.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The top-level modules its required distributions provide, as import names in
    /// lower case (`jose` for `python-jose`, `yaml` for `PyYAML`); `None` when it
    /// declares none that can be read (dependencies that `setup.py` computes, or kept
    /// as dynamic): then nothing is known to be optional.
    required: Option<HashSet<Box<str>>>,
    /// The dotted modules that its console scripts run (`app.cli` of
    /// `app = "app.cli:main"`).
    pub script_modules: Vec<Box<str>>,
}

impl Manifest {
    /// Whether the project declares a required distribution that provides the
    /// top-level module `module` (as imported); `None` when its requirements are not
    /// known.
    pub fn requires(&self, module: &str) -> Option<bool> {
        let required = self.required.as_ref()?;
        Some(required.contains(module.to_ascii_lowercase().as_str()))
    }

    /// Read `pyproject.toml`'s text (if any) and the runtime requirements files of the
    /// project (each `(name, text)`).
    pub fn read(pyproject: Option<&str>, requirements: &[(String, String)]) -> Manifest {
        let mut manifest = Manifest::default();
        if let Some(text) = pyproject {
            manifest.read_pyproject(text);
        }
        for (name, text) in requirements {
            if is_runtime_requirements(name) {
                let names = requirement_lines(text);
                manifest.add_required(names);
            }
        }
        manifest
    }

    fn add_required<'n>(&mut self, distributions: impl IntoIterator<Item = &'n str>) {
        let required = self.required.get_or_insert_with(HashSet::new);
        for distribution in distributions {
            required.extend(modules_of_distribution(distribution));
        }
    }

    fn read_pyproject(&mut self, text: &str) {
        let Ok(table) = text.parse::<toml::Table>() else {
            return;
        };
        let project = table.get("project").and_then(toml::Value::as_table);
        let poetry = table
            .get("tool")
            .and_then(|tool| tool.get("poetry"))
            .and_then(toml::Value::as_table);
        if let Some(dependencies) = project
            .and_then(|project| project.get("dependencies"))
            .and_then(toml::Value::as_array)
        {
            let names: Vec<&str> = dependencies
                .iter()
                .filter_map(toml::Value::as_str)
                .filter_map(requirement_name)
                .collect();
            self.add_required(names);
        }
        if let Some(dependencies) = poetry
            .and_then(|poetry| poetry.get("dependencies"))
            .and_then(toml::Value::as_table)
        {
            // `optional = true` marks a distribution that only an extra installs.
            let names: Vec<&str> = dependencies
                .iter()
                .filter(|(name, _)| *name != "python")
                .filter(|(_, spec)| {
                    spec.get("optional").and_then(toml::Value::as_bool) != Some(true)
                })
                .map(|(name, _)| name.as_str())
                .collect();
            self.add_required(names);
        }
        let scripts = [
            project.and_then(|project| project.get("scripts")),
            project.and_then(|project| project.get("gui-scripts")),
            poetry.and_then(|poetry| poetry.get("scripts")),
        ];
        for table in scripts
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_table)
        {
            for target in table.values() {
                // Poetry also allows `{ reference = "...", type = "console" }`.
                let target = target
                    .as_str()
                    .or_else(|| target.get("reference").and_then(toml::Value::as_str));
                if let Some(module) = target.and_then(|target| target.split(':').next()) {
                    self.script_modules.push(module.trim().into());
                }
            }
        }
    }
}

/// Requirements files that list what the project runs with, by name: not those of
/// development, tests, linting, documentation or CI (`requirements-dev.txt`,
/// `requirements/test.txt`).
pub fn is_runtime_requirements(name: &str) -> bool {
    const NOT_RUNTIME: &[&str] = &[
        "dev", "test", "tests", "testing", "lint", "linting", "doc", "docs", "ci", "typing",
        "types", "local", "mypy",
    ];
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower
        .strip_suffix(".txt")
        .or_else(|| lower.strip_suffix(".in"))
    else {
        return false;
    };
    !stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| NOT_RUNTIME.contains(&word))
}

/// The distribution names a requirements file lists (options, includes, URLs and
/// editable installs aside).
fn requirement_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or("").trim())
        .filter(|line| !line.is_empty() && !line.starts_with(['#', '-']))
        .filter_map(requirement_name)
        .collect()
}

/// The distribution a PEP 508 requirement names (`fastapi[all]>=0.110 ; python_version
/// >= "3.11"` → `fastapi`); `None` for a URL or a path.
fn requirement_name(requirement: &str) -> Option<&str> {
    let requirement = requirement.trim();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    let is_name = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !requirement[end..].trim_start().starts_with(['/', ':']);
    is_name.then_some(name)
}

/// Distributions whose top-level module has another name altogether.
const KNOWN_MODULES: &[(&str, &[&str])] = &[
    ("beautifulsoup4", &["bs4"]),
    ("pillow", &["pil"]),
    ("scikit_learn", &["sklearn"]),
    ("opencv_python", &["cv2"]),
    ("opencv_python_headless", &["cv2"]),
    ("protobuf", &["google"]),
    ("attrs", &["attr", "attrs"]),
    ("pymupdf", &["fitz", "pymupdf"]),
    ("setuptools", &["setuptools", "pkg_resources"]),
    ("dnspython", &["dns"]),
    ("pyjwt", &["jwt"]),
    ("pyyaml", &["yaml"]),
    ("ruamel_yaml", &["ruamel"]),
    ("msgpack_python", &["msgpack"]),
    ("pywin32", &["win32api", "win32con", "pywintypes"]),
    ("python_socketio", &["socketio"]),
    ("python_engineio", &["engineio"]),
    ("email_validator", &["email_validator"]),
    ("typing_extensions", &["typing_extensions"]),
    // Their own dependencies, which code imports as theirs.
    ("fastapi", &["fastapi", "starlette", "pydantic"]),
    ("sqlmodel", &["sqlmodel", "sqlalchemy", "pydantic"]),
    ("alembic", &["alembic", "sqlalchemy"]),
    ("pydantic_settings", &["pydantic_settings", "pydantic"]),
];

/// The import names (lower case) that the distribution `name` may provide: its
/// normalized name, that name without a `python`/`py` prefix or a `binary`/`cpu`
/// suffix, the first word of a namespace family (`google-cloud-storage` → `google`),
/// and the known exceptions.
fn modules_of_distribution(name: &str) -> Vec<Box<str>> {
    let normalized: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if matches!(c, '-' | '.') { '_' } else { c })
        .collect();
    let mut modules: Vec<Box<str>> = vec![normalized.as_str().into()];
    if let Some((_, known)) = KNOWN_MODULES
        .iter()
        .find(|(distribution, _)| *distribution == normalized)
    {
        modules.extend(known.iter().map(|module| Box::from(*module)));
    }
    let mut bare = normalized.as_str();
    for prefix in ["python_", "py_"] {
        bare = bare.strip_prefix(prefix).unwrap_or(bare);
    }
    for suffix in ["_binary", "_cpu", "_gpu", "_python", "_headless"] {
        bare = bare.strip_suffix(suffix).unwrap_or(bare);
    }
    modules.push(bare.into());
    if let Some(short) = bare.strip_prefix("py").filter(|short| short.len() >= 3) {
        modules.push(short.into());
    }
    if let Some((family, _)) = bare.split_once('_') {
        modules.push(family.into());
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep_621_and_poetry_dependencies_are_read_as_import_names() {
        let manifest = Manifest::read(
            Some(
                r#"
[project]
dependencies = ["fastapi[standard]>=0.110", "python-jose[cryptography]", "PyYAML ; python_version >= '3.9'", "psycopg2-binary", "google-cloud-storage"]
[project.optional-dependencies]
s3 = ["boto3"]
[project.scripts]
shop = "shop.cli:main"
[tool.poetry.dependencies]
python = "^3.11"
Pillow = "*"
weasyprint = { version = "*", optional = true }
"#,
            ),
            &[],
        );
        for module in [
            "fastapi",
            "starlette",
            "jose",
            "yaml",
            "psycopg2",
            "google",
            "PIL",
        ] {
            assert_eq!(manifest.requires(module), Some(true), "{module}");
        }
        for module in ["boto3", "weasyprint", "python", "numpy"] {
            assert_eq!(manifest.requires(module), Some(false), "{module}");
        }
        assert_eq!(manifest.script_modules, [Box::from("shop.cli")]);
    }

    #[test]
    fn runtime_requirements_files_are_read_and_dev_ones_are_not() {
        let requirements = [
            (
                "requirements.txt".to_string(),
                "-r base.in\n# pinned\nredis==5.0.1  # cache\n-e .\nhttps://example.com/x.whl\nrequests>=2\n"
                    .to_string(),
            ),
            ("requirements-dev.txt".to_string(), "pytest\n".to_string()),
        ];
        let manifest = Manifest::read(None, &requirements);
        assert_eq!(manifest.requires("redis"), Some(true));
        assert_eq!(manifest.requires("requests"), Some(true));
        assert_eq!(manifest.requires("pytest"), Some(false));
        assert!(is_runtime_requirements(
            "requirements/base.txt".rsplit('/').next().unwrap()
        ));
        assert!(!is_runtime_requirements("test.txt"));
    }

    #[test]
    fn a_project_without_readable_dependencies_knows_nothing_optional() {
        let manifest = Manifest::read(Some("[tool.ruff]\nline-length = 100\n"), &[]);
        assert_eq!(manifest.requires("boto3"), None);
    }
}
