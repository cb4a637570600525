//! Rendering a check report: the default text format (grouped per file, with the
//! offending line and carets) and Ruff-shaped JSON.

use std::io::Write;
use std::path::Path;

use ropey::Rope;
use serde_json::{Value, json};

use super::check::{CheckReport, FileReport};
use crate::document::position::line_column_of;
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
    let rope = Rope::from_str(&file.source);
    let path = display_path(&file.path);
    for finding in &file.findings {
        let (line, column) = line_column_of(&rope, finding.range.start);
        let marker = if finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
        {
            " [*]"
        } else {
            ""
        };
        writeln!(
            out,
            "{path}:{line}:{column}: {}{marker} {}",
            finding.rule, finding.message
        )?;
        let start = line_start(&file.source, finding.range.start);
        let end = line_end(&file.source, finding.range.start);
        let text = file.source.get(start..end).unwrap_or("");
        let before = file.source.get(start..finding.range.start).unwrap_or("");
        let underlined = file
            .source
            .get(finding.range.start..finding.range.end.min(end))
            .unwrap_or("");
        let gutter = line.to_string().len();
        let padding: String = before
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(out, "{line} | {text}")?;
        writeln!(
            out,
            "{:gutter$} | {padding}{}",
            "",
            "^".repeat(underlined.chars().count().max(1))
        )?;
    }
    Ok(())
}

pub fn write_json(report: &CheckReport, out: &mut impl Write) -> std::io::Result<()> {
    let mut entries = Vec::new();
    for file in &report.files {
        let rope = Rope::from_str(&file.source);
        let filename = display_path(&file.path);
        let location = |byte: usize| {
            let (row, column) = line_column_of(&rope, byte);
            json!({ "row": row, "column": column })
        };
        for finding in &file.findings {
            let fix = finding.fix.as_ref().map_or(Value::Null, |fix| {
                json!({
                    "applicability": fix.applicability,
                    "message": fix.title,
                    "edits": fix.edits.iter().map(|edit| json!({
                        "content": edit.content,
                        "location": location(edit.range.start),
                        "end_location": location(edit.range.end),
                    })).collect::<Vec<_>>(),
                })
            });
            entries.push(json!({
                "code": finding.rule,
                "filename": filename,
                "location": location(finding.range.start),
                "end_location": location(finding.range.end),
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
