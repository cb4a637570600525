//! The command line: `check`, `rules` and `rule`. Errors are one line on stderr with
//! exit code 2; findings give exit code 1.

pub mod cache;
pub mod check;
pub mod output;

use std::io::Write;

use crate::rules::{ALL_RULES, Rule, rule_by_id};

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

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
    let fix_width = ALL_RULES
        .iter()
        .map(|rule| rule.fix.label().len())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:20}  {:8}  {:fix_width$}  summary",
        "id", "languages", "severity", "fix"
    )?;
    for rule in ALL_RULES {
        writeln!(
            out,
            "{:width$}  {:20}  {:8}  {:fix_width$}  {}",
            rule.id,
            languages_of(rule),
            rule.default_severity.as_str(),
            rule.fix.label(),
            rule.summary
        )?;
    }
    Ok(())
}

/// A rule's documentation as Markdown, with its title at heading `level`.
pub fn rule_markdown(rule: &Rule, level: usize) -> String {
    let title = "#".repeat(level);
    // The rule's own sections sit one level below its title.
    let docs = rule.docs().replace("\n## ", &format!("\n{title}# "));
    let docs = docs
        .strip_prefix("## ")
        .map_or(docs.clone(), |rest| format!("{title}# {rest}"));
    format!(
        "{title} {}\n\n{}.\n\nLanguages: {}. Default severity: {}. Fix: {}.\n\n{docs}\n",
        rule.id,
        rule.summary,
        languages_of(rule),
        rule.default_severity.as_str(),
        rule.fix.label(),
    )
}

/// `docs/rules.md`: every rule's documentation, the target of diagnostics' links.
pub fn rules_reference() -> String {
    let mut out = String::from(
        "# stackaudit rules\n\n<!-- Generated from the rules' doc comments by `UPDATE_DOCS=1 cargo test --test docs`; do not edit. -->\n\n",
    );
    for rule in ALL_RULES {
        out.push_str(&format!(
            "- [`{}`](#{}): {}\n",
            rule.id, rule.id, rule.summary
        ));
    }
    for rule in ALL_RULES {
        out.push('\n');
        out.push_str(&rule_markdown(rule, 2));
    }
    out
}

/// `stackaudit rule <id>`: the rule's documentation as Markdown.
pub fn show_rule(id: &str, out: &mut impl Write) -> Result<(), String> {
    let rule =
        rule_by_id(id).ok_or_else(|| format!("unknown rule `{id}` (see `stackaudit rules`)"))?;
    out.write_all(rule_markdown(rule, 1).as_bytes())
        .map_err(|error| error.to_string())
}
