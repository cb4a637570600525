//! Which language a document is written in, from an LSP `languageId` or a file name.
//!
//! Adding a language is one variant here, its front end (`syntax::front_end`) and its
//! rules: everything else (document store, incremental parsing, suppressions, CLI
//! walking) keys off `Language` and asks its front end.

use std::path::Path;

use crate::syntax::compose::Compose;
use crate::syntax::dockerfile::Dockerfile;
use crate::syntax::front_end::FrontEnd;
use crate::syntax::python::Python;
use crate::syntax::sql::Sql;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Python,
    Dockerfile,
    Compose,
    Sql,
}

impl Language {
    pub const ALL: &'static [Language] = &[
        Language::Python,
        Language::Dockerfile,
        Language::Compose,
        Language::Sql,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Dockerfile => "dockerfile",
            Language::Compose => "compose",
            Language::Sql => "sql",
        }
    }

    /// What reads this language: detection, comments, items and parser.
    pub fn front_end(self) -> &'static dyn FrontEnd {
        match self {
            Language::Python => &Python,
            Language::Dockerfile => &Dockerfile,
            Language::Compose => &Compose,
            Language::Sql => &Sql,
        }
    }

    pub fn grammar(self) -> Option<tree_sitter::Language> {
        self.front_end().grammar()
    }

    /// Detect from a file name alone (the CLI has nothing else).
    pub fn from_path(path: &Path) -> Option<Language> {
        let lower = path.file_name()?.to_str()?.to_ascii_lowercase();
        Language::ALL
            .iter()
            .copied()
            .find(|language| language.front_end().claims_file_name(&lower))
    }

    /// Detect from an LSP `languageId`, falling back to the file name of the URI path
    /// (a `yaml` document is only audited when its name says it is a compose file).
    pub fn detect(language_id: &str, path: Option<&Path>) -> Option<Language> {
        Language::ALL
            .iter()
            .copied()
            .find(|language| language.front_end().language_ids().contains(&language_id))
            .or_else(|| path.and_then(Language::from_path))
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
