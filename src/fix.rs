//! Applying fixes: choosing a set of non-overlapping edits, applying them, fixing a
//! whole file until it is stable, and rendering a fix as before/after lines.

use std::ops::Range;
use std::path::Path;

use std::rc::Rc;
use std::sync::Arc;

use crate::audit::{audit_text, audit_text_in_workspace};
use crate::config::Settings;
use crate::document::parser_limits;
use crate::index::{WorkspaceLink, WorkspaceView};
use crate::language::Language;
use crate::rules::{Applicability, Edit, Fix, line_end, line_start};

/// Rounds of fix-then-re-audit before giving up on a file that does not converge.
pub const MAX_FIX_ROUNDS: usize = 10;

fn conflicts(a: &Edit, b: &Edit) -> bool {
    if a == b {
        return false; // the same edit from two fixes (an `import asyncio`) is applied once
    }
    let overlap = a.range.start < b.range.end && b.range.start < a.range.end;
    let either_empty = a.range.is_empty() || b.range.is_empty();
    let touch = a.range.start <= b.range.end && b.range.start <= a.range.end;
    overlap || (either_empty && touch)
}

/// The edits of every fix that fits with the fixes taken before it, in source order,
/// with duplicates removed.
pub fn compatible_edits<'a>(fixes: impl IntoIterator<Item = &'a Fix>) -> Vec<Edit> {
    let mut taken: Vec<Edit> = Vec::new();
    for fix in fixes {
        let fits = fix
            .edits
            .iter()
            .all(|edit| taken.iter().all(|other| !conflicts(edit, other)));
        if fits {
            for edit in &fix.edits {
                if !taken.contains(edit) {
                    taken.push(edit.clone());
                }
            }
        }
    }
    taken.sort_by_key(|edit| (edit.range.start, edit.range.end));
    taken
}

/// Apply non-overlapping edits (any order) to `source`.
pub fn apply_edits(source: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut out = String::with_capacity(source.len());
    let mut cursor = 0;
    for edit in sorted {
        let (Some(kept), true) = (
            source.get(cursor..edit.range.start),
            edit.range.start >= cursor,
        ) else {
            continue;
        };
        out.push_str(kept);
        out.push_str(&edit.content);
        cursor = edit.range.end.min(source.len());
    }
    out.push_str(source.get(cursor..).unwrap_or(""));
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedText {
    pub text: String,
    /// Fixes applied over all rounds.
    pub applied: usize,
    /// Rounds of fix-then-re-audit that changed the text (a fix can reveal another).
    pub rounds: usize,
    /// Whether the last round found nothing more to fix.
    pub converged: bool,
}

/// Apply every fix of `applicability` or safer, re-auditing after each round until no
/// fix applies (at most `MAX_FIX_ROUNDS`).
pub fn fix_all(
    language: Language,
    source: &str,
    settings: &Settings,
    include_unsafe: bool,
    path: Option<&Path>,
) -> FixedText {
    fix_rounds(source, include_unsafe, |text| {
        audit_text(language, text, settings, path)
    })
}

/// `fix_all` of a file of a workspace: each round audits it as `check` and the editor
/// do (`audit_text_in_workspace`), so findings that rest on other modules (a client made
/// elsewhere) are fixed too.
pub fn fix_all_in_workspace(
    language: Language,
    source: &str,
    settings: &Settings,
    include_unsafe: bool,
    path: Option<&Path>,
    workspace: &WorkspaceView,
) -> FixedText {
    fix_rounds(source, include_unsafe, |text| {
        // Fixed text may nest deeper than the parser allows: then it is audited alone.
        if parser_limits::check(language, [text.as_bytes()]).is_err() {
            return audit_text(language, text, settings, path);
        }
        let link = Rc::new(WorkspaceLink::new(
            Arc::clone(&workspace.index),
            workspace.module.clone(),
        ));
        audit_text_in_workspace(language, text, settings, path, link, workspace.libraries)
    })
}

/// Fix what `audit` finds, and audit again, until no fix applies (at most
/// `MAX_FIX_ROUNDS` rounds).
fn fix_rounds(
    source: &str,
    include_unsafe: bool,
    audit: impl Fn(&str) -> Vec<crate::rules::Finding>,
) -> FixedText {
    let mut text = source.to_string();
    let mut applied = 0;
    for rounds in 0..MAX_FIX_ROUNDS {
        let findings = audit(&text);
        let fixes: Vec<&Fix> = findings
            .iter()
            .filter_map(|finding| finding.fix.as_ref())
            .filter(|fix| include_unsafe || fix.applicability == Applicability::Safe)
            .collect();
        if fixes.is_empty() {
            return FixedText {
                text,
                applied,
                rounds,
                converged: true,
            };
        }
        let edits = compatible_edits(fixes.iter().copied());
        let next = apply_edits(&text, &edits);
        if next == text {
            return FixedText {
                text,
                applied,
                rounds,
                converged: true,
            };
        }
        applied += fixes
            .iter()
            .filter(|fix| fix.edits.iter().all(|edit| edits.contains(edit)))
            .count();
        text = next;
    }
    FixedText {
        text,
        applied,
        rounds: MAX_FIX_ROUNDS,
        converged: false,
    }
}

/// The whole lines each group of nearby edits touches, before and after applying
/// them: one `(before, after)` hunk per group, in source order.
pub fn before_after(source: &str, edits: &[Edit]) -> Vec<(String, String)> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut groups: Vec<(Range<usize>, Vec<&Edit>)> = Vec::new();
    for edit in sorted {
        let region = line_start(source, edit.range.start)..line_end(source, edit.range.end);
        match groups.last_mut() {
            // Edits on the same or adjacent lines share a hunk.
            Some((current, members)) if region.start <= current.end + 1 => {
                current.end = current.end.max(region.end);
                members.push(edit);
            }
            _ => groups.push((region, vec![edit])),
        }
    }
    groups
        .into_iter()
        .map(|(region, members)| {
            let before = source.get(region.clone()).unwrap_or("").to_string();
            let shifted: Vec<Edit> = members
                .iter()
                .map(|edit| {
                    let start = edit.range.start.saturating_sub(region.start);
                    let end = edit.range.end.saturating_sub(region.start);
                    Edit::replace(start..end, edit.content.clone())
                })
                .collect();
            let after = apply_edits(&before, &shifted);
            (before, after)
        })
        .collect()
}

/// One edit turning `old` into `new`: the span between their common prefix and suffix.
pub fn minimal_edit(old: &str, new: &str) -> Option<Edit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(Edit::replace(
        prefix..old.len() - suffix,
        &new[prefix..new.len() - suffix],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_fixes_are_left_for_the_next_round() {
        let first = Fix::safe("a", vec![Edit::replace(0..3, "x")]);
        let second = Fix::safe("b", vec![Edit::replace(2..4, "y")]);
        let third = Fix::safe("c", vec![Edit::insert(10, "z"), Edit::insert(0, "")]);
        let edits = compatible_edits([&first, &second, &third]);
        assert_eq!(edits, vec![Edit::replace(0..3, "x")]);
    }

    #[test]
    fn identical_edits_apply_once() {
        let import = Edit::insert(0, "import asyncio\n");
        let a = Fix::safe("a", vec![Edit::replace(5..6, "x"), import.clone()]);
        let b = Fix::safe("b", vec![Edit::replace(8..9, "y"), import.clone()]);
        let edits = compatible_edits([&a, &b]);
        assert_eq!(
            apply_edits("0123456789", &edits),
            "import asyncio\n01234x67y9"
        );
    }

    #[test]
    fn minimal_edit_keeps_multibyte_boundaries() {
        let edit = minimal_edit("a😀b", "a😃b").expect("differs");
        assert_eq!(edit, Edit::replace(1..5, "😃"));
        assert_eq!(minimal_edit("same", "same"), None);
    }

    #[test]
    fn before_after_shows_whole_lines() {
        let source = "one\n  two = 2\nthree\n";
        let hunks = before_after(
            source,
            &[Edit::replace(12..13, "3"), Edit::insert(19, "\nfour")],
        );
        assert_eq!(
            hunks,
            vec![(
                "  two = 2\nthree".to_string(),
                "  two = 3\nthree\nfour".to_string()
            )]
        );
        let apart = before_after(
            "a\nb\nc\nd\n",
            &[Edit::replace(0..1, "A"), Edit::replace(6..7, "D")],
        );
        assert_eq!(
            apart,
            vec![
                ("a".to_string(), "A".to_string()),
                ("d".to_string(), "D".to_string())
            ]
        );
    }
}
