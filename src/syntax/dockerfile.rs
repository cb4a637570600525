//! Dockerfiles' (and Containerfiles') front end: whole-line `#` comments, and the file
//! as one item, parsed incrementally by tree-sitter-containerfile.

use super::front_end::{CommentSyntax, FrontEnd, Items};

pub struct Dockerfile;

static COMMENTS: CommentSyntax = CommentSyntax {
    line: &["#"],
    block: &[],
    // A `#` after an instruction is part of its arguments.
    trailing: false,
};

impl FrontEnd for Dockerfile {
    fn language_ids(&self) -> &'static [&'static str] {
        &["dockerfile", "containerfile"]
    }

    fn claims_file_name(&self, lower_name: &str) -> bool {
        lower_name == "dockerfile"
            || lower_name.starts_with("dockerfile.")
            || lower_name.ends_with(".dockerfile")
            || lower_name == "containerfile"
            || lower_name.starts_with("containerfile.")
    }

    fn comments(&self) -> &'static CommentSyntax {
        &COMMENTS
    }

    fn items(&self) -> Items {
        Items::Whole
    }

    fn grammar(&self) -> Option<tree_sitter::Language> {
        Some(tree_sitter_containerfile::LANGUAGE.into())
    }
}
