//! The command line: `check`, `rules` and `rule`. Errors are one line on stderr with
//! exit code 2; findings give exit code 1.

pub mod check;
pub mod output;

use std::io::Write;

use crate::rules::{ALL_RULES, FixAvailability, Rule, rule_by_id};

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn fix_label(rule: &Rule) -> &'static str {
    match rule.fix {
        FixAvailability::Always => "yes",
        FixAvailability::Sometimes => "sometimes",
        FixAvailability::None => "no",
    }
}

fn languages_of(rule: &Rule) -> String {
    rule.languages
        .iter()
        .map(|language| language.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `stackaudit rules`: one row per rule.
pub fn list_rules(out: &mut impl Write) -> std::io::Result<()> {
    let width = ALL_RULES
        .iter()
        .map(|rule| rule.id.len())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:20}  {:8}  {:9}  summary",
        "id", "languages", "severity", "fix"
    )?;
    for rule in ALL_RULES {
        writeln!(
            out,
            "{:width$}  {:20}  {:8}  {:9}  {}",
            rule.id,
            languages_of(rule),
            rule.default_severity.as_str(),
            fix_label(rule),
            rule.summary
        )?;
    }
    Ok(())
}

/// `stackaudit rule <id>`: the rule's documentation as Markdown.
pub fn show_rule(id: &str, out: &mut impl Write) -> Result<(), String> {
    let rule =
        rule_by_id(id).ok_or_else(|| format!("unknown rule `{id}` (see `stackaudit rules`)"))?;
    let text = format!(
        "# {} ({})\n\nLanguages: {}. Default severity: {}. Fix: {}.\n\n{}\n",
        rule.id,
        rule.summary,
        languages_of(rule),
        rule.default_severity.as_str(),
        fix_label(rule),
        rule.docs()
    );
    out.write_all(text.as_bytes())
        .map_err(|error| error.to_string())
}
