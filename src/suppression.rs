//! `# stackaudit: ignore[rule-a, rule-b]` (or a bare `# stackaudit: ignore` for every
//! rule) on a finding's line, or alone on the line above it, silences the finding. The
//! comment is written the language's way (its front end's `CommentSyntax`: `#`, `--`,
//! `//`, `/* */`, `{/* */}`); where comments cannot trail code (Dockerfiles), only the
//! line above counts.

use crate::language::Language;
use crate::rules::{Edit, line_end, line_start};
use crate::syntax::front_end::CommentSyntax;

const MARKER: &str = "stackaudit: ignore";

/// The rules a comment in `line` silences: `Some(None)` for all, `Some(Some(ids))`.
fn suppressed_rules<'l>(
    line: &'l str,
    comments: &CommentSyntax,
    whole_line_only: bool,
) -> Option<Option<Vec<&'l str>>> {
    let at = line.find(MARKER)?;
    let opener = opening_comment(&line[..at], comments)?;
    if whole_line_only && !line[..opener].trim().is_empty() {
        return None;
    }
    let rest = &line[at + MARKER.len()..];
    let Some(list) = rest.strip_prefix('[') else {
        return Some(None);
    };
    let list = list.split(']').next().unwrap_or(list);
    Some(Some(
        list.split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .collect(),
    ))
}

/// Where the comment opener stands whose comment the marker opens: only the opener and
/// white space may stand between them.
fn opening_comment(before_marker: &str, comments: &CommentSyntax) -> Option<usize> {
    let openers = comments
        .line
        .iter()
        .chain(comments.block.iter().map(|(open, _)| open));
    openers
        .filter_map(|opener| {
            let at = before_marker.rfind(opener)?;
            let between = &before_marker[at + opener.len()..];
            between.trim().is_empty().then_some(at)
        })
        // `{/*` rather than the `/*` inside it.
        .min()
}

fn line_silences(line: &str, rule: &str, comments: &CommentSyntax, whole_line_only: bool) -> bool {
    match suppressed_rules(line, comments, whole_line_only) {
        Some(None) => true,
        Some(Some(ids)) => ids.contains(&rule),
        None => false,
    }
}

/// Whether `source` has any suppression comment at all: one scan of the text, so files
/// without one (most) skip the per-finding line checks.
pub fn may_suppress(source: &str) -> bool {
    crate::rules::prefilter::contains(source, MARKER)
}

/// Whether a finding of `rule` starting at byte `start` is suppressed.
pub fn is_suppressed(source: &str, language: Language, rule: &str, start: usize) -> bool {
    is_suppressed_in(source, language.front_end().comments(), rule, start)
}

fn is_suppressed_in(source: &str, comments: &CommentSyntax, rule: &str, start: usize) -> bool {
    let this_line_start = line_start(source, start);
    let this_line = source
        .get(this_line_start..line_end(source, start))
        .unwrap_or("");
    if comments.trailing && line_silences(this_line, rule, comments, false) {
        return true;
    }
    if this_line_start == 0 {
        return false;
    }
    let previous_start = line_start(source, this_line_start - 1);
    let previous = source
        .get(previous_start..line_end(source, previous_start))
        .unwrap_or("");
    line_silences(previous, rule, comments, true)
}

/// The edit behind "Ignore <rule> on this line": a trailing comment where the language
/// allows one and `trailing_ok` (the line does not end inside a multi-line token), else
/// a comment line above with the same indentation. An existing list is extended.
pub fn ignore_edit(
    source: &str,
    language: Language,
    rule: &str,
    start: usize,
    trailing_ok: bool,
) -> Edit {
    ignore_edit_in(
        source,
        language.front_end().comments(),
        rule,
        start,
        trailing_ok,
    )
}

fn ignore_edit_in(
    source: &str,
    comments: &CommentSyntax,
    rule: &str,
    start: usize,
    trailing_ok: bool,
) -> Edit {
    let this_line_start = line_start(source, start);
    let this_line_end = line_end(source, start);
    let this_line = source.get(this_line_start..this_line_end).unwrap_or("");
    let (open, close) = comments.new_comment();
    let close = if close.is_empty() {
        String::new()
    } else {
        format!(" {close}")
    };
    if comments.trailing && trailing_ok {
        if let Some(edit) = extend_existing(this_line, this_line_start, rule, comments, false) {
            return edit;
        }
        return Edit::insert(this_line_end, format!("  {open} {MARKER}[{rule}]{close}"));
    }
    if this_line_start > 0 {
        let previous_start = line_start(source, this_line_start - 1);
        let previous = source
            .get(previous_start..line_end(source, previous_start))
            .unwrap_or("");
        if let Some(edit) = extend_existing(previous, previous_start, rule, comments, true) {
            return edit;
        }
    }
    let indentation = &this_line[..this_line.len() - this_line.trim_start().len()];
    let newline = crate::rules::newline_of(source);
    Edit::insert(
        this_line_start,
        format!("{indentation}{open} {MARKER}[{rule}]{close}{newline}"),
    )
}

fn extend_existing(
    line: &str,
    line_offset: usize,
    rule: &str,
    comments: &CommentSyntax,
    whole_line_only: bool,
) -> Option<Edit> {
    let Some(Some(_)) = suppressed_rules(line, comments, whole_line_only) else {
        return None;
    };
    let marker_at = line.find(MARKER)?;
    let close = line[marker_at..].find(']')? + marker_at;
    Some(Edit::insert(line_offset + close, format!(", {rule}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_line_above() {
        let source =
            "a = 1  # stackaudit: ignore[missing-rollback]\n# stackaudit: ignore\nb = 2\nc = 3\n";
        assert!(is_suppressed(
            source,
            Language::Python,
            "missing-rollback",
            0
        ));
        assert!(!is_suppressed(
            source,
            Language::Python,
            "blocking-io-in-async",
            0
        ));
        let b = source.find("b = 2").unwrap_or(0);
        assert!(is_suppressed(source, Language::Python, "anything", b));
        let c = source.find("c = 3").unwrap_or(0);
        assert!(!is_suppressed(source, Language::Python, "anything", c));
    }

    #[test]
    fn dockerfile_only_counts_the_line_above() {
        let source = "ENV A=1 # stackaudit: ignore\n# stackaudit: ignore[docker-hardcoded-secret]\nENV B=2\n";
        assert!(!is_suppressed(
            source,
            Language::Dockerfile,
            "docker-hardcoded-secret",
            4
        ));
        let b = source.find("ENV B").unwrap_or(0);
        assert!(is_suppressed(
            source,
            Language::Dockerfile,
            "docker-hardcoded-secret",
            b
        ));
    }

    /// Comment syntaxes of the front ends to come (SQL, TSX): the marker counts in
    /// their comments, and new suppressions are written in them.
    #[test]
    fn other_comment_syntaxes() {
        const SQL: CommentSyntax = CommentSyntax {
            line: &["--"],
            block: &[("/*", "*/")],
            trailing: true,
        };
        const TSX: CommentSyntax = CommentSyntax {
            line: &["//"],
            block: &[("{/*", "*/}"), ("/*", "*/")],
            trailing: true,
        };
        let sql = "SELECT 1; -- stackaudit: ignore[sql-rule]\n/* stackaudit: ignore */\nDROP TABLE t;\nSELECT '# stackaudit: ignore';\n";
        assert!(is_suppressed_in(sql, &SQL, "sql-rule", 0));
        assert!(!is_suppressed_in(sql, &SQL, "other-rule", 0));
        let drop = sql.find("DROP").unwrap_or(0);
        assert!(is_suppressed_in(sql, &SQL, "anything", drop));
        let quoted = sql.find("SELECT '#").unwrap_or(0);
        assert!(!is_suppressed_in(sql, &SQL, "anything", quoted));
        let tsx = "<div>\n  {/* stackaudit: ignore[tw-rule] */}\n  <p className=\"x\" />\n</div>\n";
        let p = tsx.find("<p").unwrap_or(0);
        assert!(is_suppressed_in(tsx, &TSX, "tw-rule", p));
        assert_eq!(
            ignore_edit_in("SELECT 1;\n", &SQL, "r", 0, true),
            Edit::insert(9, "  -- stackaudit: ignore[r]")
        );
        let block_only = CommentSyntax {
            line: &[],
            block: &[("{/*", "*/}")],
            trailing: false,
        };
        assert_eq!(
            ignore_edit_in("  <p />\n", &block_only, "r", 2, true),
            Edit::insert(0, "  {/* stackaudit: ignore[r] */}\n")
        );
    }

    #[test]
    fn ignore_edit_extends_an_existing_list() {
        let source = "x = f()  # stackaudit: ignore[a]\n";
        let edit = ignore_edit(source, Language::Python, "b", 4, true);
        assert_eq!(edit, Edit::insert(source.find(']').unwrap_or(0), ", b"));
        let fresh = ignore_edit("  ENV A=1\n", Language::Dockerfile, "r", 2, true);
        assert_eq!(fresh, Edit::insert(0, "  # stackaudit: ignore[r]\n"));
    }
}
