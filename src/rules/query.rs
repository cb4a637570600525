//! Tree-sitter queries of the rules: `queries/<language>/<rule-id>.scm`, embedded at
//! build time, compiled once on first use, with capture indexes looked up once.
//!
//! Only `#eq?`, `#not-eq?`, `#match?`, `#any-of?` and friends are used; tree-sitter
//! applies those itself, so there are no custom predicates to check in Rust.

use std::sync::LazyLock;

use tree_sitter::{Node, Query, QueryCursor, QueryMatch, StreamingIterator};

use crate::language::Language;

pub struct RuleQuery {
    query: Query,
}

impl RuleQuery {
    /// Compile a query. Panics on a malformed query, which is a bug in this crate
    /// that `tests::every_query_compiles` catches before release.
    pub fn compile(language: Language, source: &str) -> RuleQuery {
        let Some(grammar) = language.grammar() else {
            panic!("{} has no tree-sitter grammar to query", language.name());
        };
        match Query::new(&grammar, source) {
            Ok(query) => RuleQuery { query },
            Err(error) => panic!("query for {} does not compile: {error}", language.name()),
        }
    }

    pub fn capture_index(&self, name: &str) -> u32 {
        self.query
            .capture_index_for_name(name)
            .unwrap_or_else(|| panic!("query has no capture @{name}"))
    }

    /// Call `visit` with every match under `root`.
    pub fn for_each_match<'t>(
        &self,
        root: Node<'t>,
        source: &str,
        mut visit: impl FnMut(&QueryMatch<'_, 't>),
    ) {
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&self.query, root, source.as_bytes());
        while let Some(found) = matches.next() {
            visit(found);
        }
    }
}

/// The first node captured as `index` in a match.
pub fn captured<'t>(found: &QueryMatch<'_, 't>, index: u32) -> Option<Node<'t>> {
    found.nodes_for_capture_index(index).next()
}

/// A query compiled on first use, with its capture indexes.
pub struct LazyQuery<const N: usize> {
    compiled: LazyLock<(RuleQuery, [u32; N])>,
}

impl<const N: usize> LazyQuery<N> {
    pub const fn new(init: fn() -> (RuleQuery, [u32; N])) -> Self {
        LazyQuery {
            compiled: LazyLock::new(init),
        }
    }
    pub fn get(&self) -> &(RuleQuery, [u32; N]) {
        &self.compiled
    }
}

/// Compile `source` and look up the named captures, in order.
pub fn compile_with_captures<const N: usize>(
    language: Language,
    source: &str,
    names: [&str; N],
) -> (RuleQuery, [u32; N]) {
    let query = RuleQuery::compile(language, source);
    let indexes = names.map(|name| query.capture_index(name));
    (query, indexes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `queries/<language>/` compiles for its language, so a bad query
    /// fails here rather than in a user's editor.
    #[test]
    fn every_query_compiles() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut compiled = 0;
        for folder in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let language = match folder.file_name().to_str() {
                Some("python") => Language::Python,
                Some("dockerfile") => Language::Dockerfile,
                Some("compose") => Language::Compose,
                other => panic!("queries/{other:?} is not a language"),
            };
            for file in std::fs::read_dir(folder.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let source = std::fs::read_to_string(file.path()).unwrap_or_default();
                assert!(
                    language
                        .grammar()
                        .is_some_and(|grammar| Query::new(&grammar, &source).is_ok()),
                    "{} does not compile",
                    file.path().display()
                );
                compiled += 1;
            }
        }
        assert!(compiled >= 2, "no queries found under {}", root.display());
    }
}
