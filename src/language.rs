//! Which language a document is written in, from an LSP `languageId` or a file name,
//! and the tree-sitter grammar that parses it.
//!
//! Adding a language is one variant here plus its rules: everything else (document
//! store, incremental parsing, suppressions, CLI walking) keys off `Language`.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Python,
    Dockerfile,
    Compose,
}

impl Language {
    pub const ALL: &'static [Language] =
        &[Language::Python, Language::Dockerfile, Language::Compose];

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Dockerfile => "dockerfile",
            Language::Compose => "compose",
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::Dockerfile => tree_sitter_containerfile::LANGUAGE.into(),
            Language::Compose => tree_sitter_yaml::LANGUAGE.into(),
        }
    }

    /// The line comment that starts a suppression, and whether it may trail code on the
    /// same line (a `#` inside a Dockerfile instruction is part of its arguments).
    pub fn allows_trailing_comment(self) -> bool {
        match self {
            Language::Python | Language::Compose => true,
            Language::Dockerfile => false,
        }
    }

    /// Detect from a file name alone (the CLI has nothing else).
    pub fn from_path(path: &Path) -> Option<Language> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".py") || lower.ends_with(".pyi") {
            return Some(Language::Python);
        }
        if lower == "dockerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
            || lower == "containerfile"
            || lower.starts_with("containerfile.")
        {
            return Some(Language::Dockerfile);
        }
        let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
        if is_yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose")) {
            return Some(Language::Compose);
        }
        None
    }

    /// Detect from an LSP `languageId`, falling back to the file name of the URI path
    /// (a `yaml` document is only audited when its name says it is a compose file).
    pub fn detect(language_id: &str, path: Option<&Path>) -> Option<Language> {
        let by_name = path.and_then(Language::from_path);
        match language_id {
            "python" => Some(Language::Python),
            "dockerfile" | "containerfile" => Some(Language::Dockerfile),
            "dockercompose" | "docker-compose" | "yaml.docker-compose" => Some(Language::Compose),
            _ => by_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_file_name() {
        let cases = [
            ("app/main.py", Some(Language::Python)),
            ("stubs/x.pyi", Some(Language::Python)),
            ("Dockerfile", Some(Language::Dockerfile)),
            ("Dockerfile.prod", Some(Language::Dockerfile)),
            ("api.dockerfile", Some(Language::Dockerfile)),
            ("Containerfile", Some(Language::Dockerfile)),
            ("docker-compose.yml", Some(Language::Compose)),
            ("docker-compose.override.yaml", Some(Language::Compose)),
            ("compose.yaml", Some(Language::Compose)),
            ("config.yaml", None),
            ("main.rs", None),
        ];
        for (name, expected) in cases {
            assert_eq!(Language::from_path(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn detects_by_language_id_then_name() {
        assert_eq!(Language::detect("python", None), Some(Language::Python));
        assert_eq!(
            Language::detect("dockercompose", None),
            Some(Language::Compose)
        );
        assert_eq!(
            Language::detect("yaml", Some(Path::new("/p/compose.yml"))),
            Some(Language::Compose)
        );
        assert_eq!(Language::detect("yaml", Some(Path::new("/p/ci.yml"))), None);
    }
}
