//! Compose files' front end: YAML files named `compose*.y(a)ml` or
//! `docker-compose*.y(a)ml` (other YAML is not ours), `#` comments, and the file as one
//! item, parsed incrementally by tree-sitter-yaml.

use super::front_end::{CommentSyntax, FrontEnd, Items};

pub struct Compose;

static COMMENTS: CommentSyntax = CommentSyntax {
    line: &["#"],
    block: &[],
    trailing: true,
};

impl FrontEnd for Compose {
    fn language_ids(&self) -> &'static [&'static str] {
        &["dockercompose", "docker-compose", "yaml.docker-compose"]
    }

    fn claims_file_name(&self, lower_name: &str) -> bool {
        let is_yaml = lower_name.ends_with(".yml") || lower_name.ends_with(".yaml");
        is_yaml && (lower_name.starts_with("docker-compose") || lower_name.starts_with("compose"))
    }

    fn comments(&self) -> &'static CommentSyntax {
        &COMMENTS
    }

    fn items(&self) -> Items {
        Items::Whole
    }

    fn grammar(&self) -> Option<tree_sitter::Language> {
        Some(tree_sitter_yaml::LANGUAGE.into())
    }
}
