//! Rendering a check report: the default text format (grouped per file, with the
//! offending line and carets) and Ruff-shaped JSON.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::check::{CheckReport, FileReport};
use crate::document::position::{Encoding, PositionSweep};
use crate::rules::{Applicability, Severity, line_end, line_start, rule_by_id};

fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let relative = cwd
        .as_ref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let text = relative.display().to_string();
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

pub fn write_text(report: &CheckReport, out: &mut impl Write) -> std::io::Result<()> {
    let mut counts = [0usize; 4];
    let (mut fixable_safe, mut fixable_unsafe, mut files_with_findings, mut fixed) = (0, 0, 0, 0);
    for file in &report.files {
        fixed += file.fixes_applied;
        if file.findings.is_empty() {
            continue;
        }
        if files_with_findings > 0 {
            writeln!(out)?;
        }
        files_with_findings += 1;
        write_file(file, out)?;
        for finding in &file.findings {
            counts[finding.severity as usize] += 1;
            match finding.fix.as_ref().map(|fix| fix.applicability) {
                Some(Applicability::Safe) => fixable_safe += 1,
                Some(Applicability::Unsafe) => fixable_unsafe += 1,
                None => {}
            }
        }
    }
    let total: usize = counts.iter().sum();
    if files_with_findings > 0 {
        writeln!(out)?;
    }
    if fixed > 0 {
        writeln!(out, "Fixed {fixed} finding{}.", plural(fixed))?;
    }
    if total == 0 {
        return writeln!(
            out,
            "All checks passed ({} file{} audited).",
            report.files_audited,
            plural(report.files_audited)
        );
    }
    let by_severity: Vec<String> = [
        Severity::Error,
        Severity::Warning,
        Severity::Info,
        Severity::Hint,
    ]
    .iter()
    .filter(|severity| counts[**severity as usize] > 0)
    .map(|severity| {
        format!(
            "{} {}{}",
            counts[*severity as usize],
            severity.as_str(),
            plural(counts[*severity as usize])
        )
    })
    .collect();
    write!(
        out,
        "Found {total} finding{} ({}) in {files_with_findings} of {} file{}.",
        plural(total),
        by_severity.join(", "),
        report.files_audited,
        plural(report.files_audited)
    )?;
    if fixable_safe > 0 {
        write!(out, " [*] {fixable_safe} fixable with `--fix`.")?;
    }
    if fixable_unsafe > 0 {
        write!(out, " {fixable_unsafe} more with `--fix --unsafe-fixes`.")?;
    }
    writeln!(out)
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn write_file(file: &FileReport, out: &mut impl Write) -> std::io::Result<()> {
    let path = display_path(&file.path);
    // Columns in characters; findings come in source order, so one sweep places them.
    let mut positions = PositionSweep::new(&file.source, Encoding::Utf32);
    for finding in &file.findings {
        let start = positions.position(finding.range.start);
        let (line, column) = (start.line + 1, start.character + 1);
        let marker = if finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
        {
            " [*]"
        } else {
            ""
        };
        // ty's concise form: the severity shows the user's `[severity]` overrides too.
        writeln!(
            out,
            "{path}:{line}:{column}: {}[{}]{marker} {}",
            finding.severity.as_str(),
            finding.rule,
            finding.message
        )?;
        let start = line_start(&file.source, finding.range.start);
        let end = line_end(&file.source, finding.range.start);
        let text = file.source.get(start..end).unwrap_or("");
        let underline_end = finding.range.end.clamp(finding.range.start, end);
        let snippet = Snippet::of(text, finding.range.start - start, underline_end - start);
        let gutter = line.to_string().len();
        writeln!(out, "{line} | {}", snippet.text)?;
        writeln!(
            out,
            "{:gutter$} | {}{}",
            "",
            snippet.padding,
            "^".repeat(snippet.carets)
        )?;
    }
    Ok(())
}

/// Lines longer than this are shown as a window around the finding.
const SNIPPET_CHARS: usize = 160;
/// How much of a long line to show before the finding.
const SNIPPET_CONTEXT_CHARS: usize = 40;

/// What to print of the line holding a finding: the line, or for a long one (minified
/// or generated code) a window around the finding with `…` where it was cut, and the
/// carets under the finding.
#[derive(Debug, PartialEq, Eq)]
struct Snippet {
    text: String,
    padding: String,
    carets: usize,
}

impl Snippet {
    /// `from..to` is the underlined part, in bytes of `line`.
    fn of(line: &str, from: usize, to: usize) -> Snippet {
        let before = line.get(..from).unwrap_or("");
        let underlined = line.get(from..to).unwrap_or("");
        let blank = |text: &str| -> String {
            text.chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect()
        };
        let carets = underlined.chars().count().max(1);
        let total = line.chars().count();
        if total <= SNIPPET_CHARS {
            return Snippet {
                text: line.to_string(),
                padding: blank(before),
                carets,
            };
        }
        let chars_before = before.chars().count();
        let first = chars_before.saturating_sub(SNIPPET_CONTEXT_CHARS);
        let last = (first + SNIPPET_CHARS).min(total);
        let (cut_before, cut_after) = (first > 0, last < total);
        let shown: String = line.chars().skip(first).take(last - first).collect();
        let lead: String = before.chars().skip(first).collect();
        Snippet {
            text: format!(
                "{}{shown}{}",
                if cut_before { "…" } else { "" },
                if cut_after { "…" } else { "" }
            ),
            padding: format!("{}{}", if cut_before { " " } else { "" }, blank(&lead)),
            carets: carets.min(last - chars_before).max(1),
        }
    }
}

pub fn write_json(report: &CheckReport, out: &mut impl Write) -> std::io::Result<()> {
    let mut entries = Vec::new();
    for file in &report.files {
        let filename = display_path(&file.path);
        // 1-based rows and character columns; findings and their edits each swept in order.
        let location = |position: tower_lsp_server::ls_types::Position| json!({ "row": position.line + 1, "column": position.character + 1 });
        let mut finding_positions = PositionSweep::new(&file.source, Encoding::Utf32);
        let mut edit_positions = PositionSweep::new(&file.source, Encoding::Utf32);
        for finding in &file.findings {
            let fix = finding.fix.as_ref().map_or(Value::Null, |fix| {
                json!({
                    "applicability": fix.applicability,
                    "message": fix.title,
                    "edits": fix.edits.iter().map(|edit| {
                        let range = edit_positions.range(edit.range.clone());
                        json!({
                            "content": edit.content,
                            "location": location(range.start),
                            "end_location": location(range.end),
                        })
                    }).collect::<Vec<_>>(),
                })
            });
            let range = finding_positions.range(finding.range.clone());
            entries.push(json!({
                "code": finding.rule,
                "filename": filename,
                "location": location(range.start),
                "end_location": location(range.end),
                "message": finding.message,
                "severity": finding.severity,
                "fix": fix,
                "url": rule_by_id(finding.rule).map(|rule| rule.url()),
            }));
        }
    }
    serde_json::to_writer_pretty(&mut *out, &entries)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_shown_whole() {
        let snippet = Snippet::of("\tx = time.sleep(1)", 5, 18);
        assert_eq!(
            snippet,
            Snippet {
                text: "\tx = time.sleep(1)".to_string(),
                padding: "\t    ".to_string(),
                carets: 13
            }
        );
    }

    #[test]
    fn long_lines_show_a_window_around_the_finding() {
        let line = format!(
            "x = [{}]; time.sleep(1); y = [{}]",
            "1, ".repeat(300),
            "2, ".repeat(300)
        );
        let from = line.find("time").expect("present");
        let snippet = Snippet::of(&line, from, from + "time.sleep(1)".len());
        assert_eq!(snippet.text.chars().count(), 1 + SNIPPET_CHARS + 1);
        assert!(snippet.text.starts_with("… 1, 1, "), "{}", snippet.text);
        assert!(snippet.text.ends_with(", 2…"), "{}", snippet.text);
        // The carets sit under `time.sleep(1)` in the window.
        let column = snippet.padding.chars().count();
        let under: String = snippet
            .text
            .chars()
            .skip(column)
            .take(snippet.carets)
            .collect();
        assert_eq!(under, "time.sleep(1)");
        // A finding longer than the window is underlined to the window's end.
        let whole = Snippet::of(&line, 0, line.len());
        assert_eq!(whole.carets, SNIPPET_CHARS);
        assert!(!whole.text.starts_with('…'));
    }
}
