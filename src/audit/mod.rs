//! Runs the enabled rules of a language over one source: a rule that panics is caught
//! and logged (once per rule) and the other rules' findings still come back; severity
//! overrides and suppression comments are applied here, once, for every front end.
//! `incremental` re-audits only the statements an edit changed.

pub mod incremental;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::rc::Rc;
use std::sync::{LazyLock, Mutex};

use crate::config::Settings;
use crate::document::parse_text;
use crate::language::Language;
use crate::rules::rule_set::RuleSet;
use crate::rules::settings::RuleSettings;
use crate::rules::{Check, Context, Finding, Libraries, RuleId, TextContext};
use crate::semantic::python::bound_kinds::ImportedKinds;
use crate::suppression::{is_suppressed, may_suppress};
use crate::syntax::Syntax;

/// Rules that have panicked in this process, so each is logged once, not per keystroke.
static PANICKED_RULES: LazyLock<Mutex<HashSet<&'static str>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// `path` is where the file lives, when known: some rules depend on what kind of file it
/// is (a test, a development entry point).
pub fn audit(
    language: Language,
    source: &str,
    syntax: &Syntax,
    settings: &Settings,
    path: Option<&Path>,
) -> Vec<Finding> {
    let triggered = triggered_rules(language, source, settings);
    audit_triggered(language, source, syntax, settings, path, triggered)
}

/// `audit` of a file of a workspace whose rules read other files through `imported`
/// (the schema, for SQL files); the editor's audit of a language with no incremental
/// audit of its own.
pub fn audit_in_workspace(
    language: Language,
    source: &str,
    syntax: &Syntax,
    settings: &Settings,
    path: Option<&Path>,
    imported: Option<Rc<dyn ImportedKinds>>,
) -> Vec<Finding> {
    let triggered = triggered_rules(language, source, settings);
    let context = Context::new(source, syntax, language, &settings.rules)
        .with_path(path)
        .with_workspace(imported.map(|imported| (imported, Libraries::NONE)));
    finish(run_rules(&context, triggered), source, language)
}

/// `audit` of the rules `triggered` already says may fire (`triggered_rules`).
fn audit_triggered(
    language: Language,
    source: &str,
    syntax: &Syntax,
    settings: &Settings,
    path: Option<&Path>,
    triggered: RuleSet,
) -> Vec<Finding> {
    let context = Context::new(source, syntax, language, &settings.rules).with_path(path);
    finish(run_rules(&context, triggered), source, language)
}

/// `audit` with every rule of the language run, whatever the text's trigger words, and
/// every item walked, whatever the rules' item tests: what the prefilters must never
/// change (tests compare the two).
pub fn audit_without_prefilter(
    language: Language,
    source: &str,
    syntax: &Syntax,
    settings: &Settings,
    path: Option<&Path>,
) -> Vec<Finding> {
    let context = Context::new(source, syntax, language, &settings.rules)
        .with_path(path)
        .without_item_tests();
    let all = RuleSet::from_fn(|rule| rule.applies_to(language));
    finish(run_rules(&context, all), source, language)
}

/// The findings of every enabled rule whose trigger words `triggered` says are present,
/// with configured severities; suppression comments are not applied yet.
fn run_rules(context: &Context, triggered: RuleSet) -> Vec<Finding> {
    run_rules_reading(&Inputs::Tree(context), triggered)
}

/// What the rules of one audit read: a parsed source, or (when only text rules may
/// fire) the text alone.
enum Inputs<'c, 'a> {
    Tree(&'c Context<'a>),
    Text(TextContext<'a>),
}

impl<'a> Inputs<'_, 'a> {
    /// The audit's text, language and settings.
    fn parts(&self) -> (&'a str, Language, &'a RuleSettings) {
        match self {
            Inputs::Tree(context) => (context.source, context.language, context.settings),
            Inputs::Text(text) => (text.source, text.language, text.settings),
        }
    }
}

fn run_rules_reading(inputs: &Inputs, triggered: RuleSet) -> Vec<Finding> {
    let (source, language, settings) = inputs.parts();
    // Generated files get the security rules only (unless the settings say all).
    let enabled = settings.enabled_for(language, source);
    // The text rules' view of a parsed source, made when the first one runs.
    let mut text_of_tree: Option<TextContext> = None;
    let mut findings = Vec::new();
    // Test builds: one scan of the text, not one per rule (`cargo bench` builds with
    // this feature too, and a scan per rule per keystroke showed in its figures).
    #[cfg(feature = "fault-injection")]
    let (source, _, _) = inputs.parts();
    #[cfg(feature = "fault-injection")]
    let asks_for_faults = asks_for_faults(source);
    // Rules that read Ruff's tree run together, in one traversal (`checker`).
    let mut on_ruff_tree = RuleSet::EMPTY;
    for (id, rule) in triggered
        .rules()
        .filter(|(id, rule)| rule.applies_to(language) && enabled.contains(*id))
    {
        let check = rule.check.for_language(language);
        if let Check::Ast(_) = check {
            on_ruff_tree.insert(id);
            continue;
        }
        let mut found = Vec::new();
        IN_RULE.set(true);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(feature = "fault-injection")]
            if asks_for_faults {
                inject_fault(rule.id, source);
            }
            match (check, inputs) {
                (Check::Tree(check), Inputs::Tree(context)) => check(context, &mut found),
                (Check::Text(check), Inputs::Text(text)) => check(text, &mut found),
                (Check::Text(check), Inputs::Tree(context)) => check(
                    text_of_tree.get_or_insert_with(|| context.text_context()),
                    &mut found,
                ),
                // A tree rule with no tree: the caller parses whenever one is triggered.
                (Check::Tree(_), Inputs::Text(_)) => {}
                (Check::Ast(_) | Check::AstAndTree(..), _) => {
                    unreachable!("run in one traversal below, or made a tree check")
                }
            }
        }));
        IN_RULE.set(false);
        if let Err(panic) = outcome {
            log_rule_failure_once(rule.id, panic.as_ref());
            continue;
        }
        add_with_configured_severity(&mut findings, settings, id, found);
    }
    if let (Inputs::Tree(context), false) = (inputs, on_ruff_tree.is_empty()) {
        for (id, found) in crate::rules::python::checker::run(context, on_ruff_tree) {
            add_with_configured_severity(&mut findings, settings, id, found);
        }
    }
    findings
}

/// A configured severity applies to all of a rule's findings; otherwise each keeps its
/// own (a rule may report a milder case below its default).
fn add_with_configured_severity(
    findings: &mut Vec<Finding>,
    settings: &RuleSettings,
    id: RuleId,
    found: Vec<Finding>,
) {
    match settings.configured_severity(id) {
        Some(severity) => findings.extend(found.into_iter().map(|finding| Finding {
            severity,
            ..finding
        })),
        None => findings.extend(found),
    }
}

/// Run `f` as a rule's code: a panic inside it is reported by the audit
/// (`panic_is_reported_by_audit`), not by the process's hook.
pub(crate) fn in_rule<T>(f: impl FnOnce() -> T) -> T {
    IN_RULE.set(true);
    let result = f();
    IN_RULE.set(false);
    result
}

thread_local! {
    /// Set while a rule runs on this thread: a panic there is caught and reported here.
    static IN_RULE: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic inside a rule happened (from the panic hook).
    static RULE_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// For the process's panic hook: whether this panic happened inside a rule, so the
/// audit catches it and logs it (once per rule, not per keystroke). Keeps its location
/// for that log line.
pub fn panic_is_reported_by_audit(info: &std::panic::PanicHookInfo) -> bool {
    if !IN_RULE.get() {
        return false;
    }
    let location = info
        .location()
        .map(|at| format!("{}:{}", at.file(), at.line()));
    RULE_PANIC_LOCATION.set(location);
    true
}

/// Test builds: a source that asks for it makes `rule` panic, as a bug in it would.
#[cfg(feature = "fault-injection")]
const FAULT_MARKER: &str = "stackaudit-fault: panic in ";

/// Test builds: whether a source asks for any fault (one scan of the text, so the
/// per-rule checks run only where one is asked for: `cargo bench` builds with this
/// feature too).
#[cfg(feature = "fault-injection")]
pub(crate) fn asks_for_faults(source: &str) -> bool {
    crate::rules::prefilter::contains(source, FAULT_MARKER)
}

#[cfg(feature = "fault-injection")]
pub(crate) fn inject_fault(rule: &str, source: &str) {
    if source.contains(&format!("{FAULT_MARKER}{rule}")) {
        panic!("fault injected into {rule}");
    }
}

pub(crate) fn log_rule_failure_once(rule: &'static str, panic: &(dyn std::any::Any + Send)) {
    let location = RULE_PANIC_LOCATION.take().unwrap_or_default();
    let first_time = PANICKED_RULES
        .lock()
        .map(|mut seen| seen.insert(rule))
        .unwrap_or(false);
    if first_time {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(rule, %reason, %location, "rule failed; its findings are skipped, other rules still run");
    }
}

/// Drop suppressed findings and put the rest in source order.
fn finish(mut findings: Vec<Finding>, source: &str, language: Language) -> Vec<Finding> {
    if may_suppress(source) {
        findings
            .retain(|finding| !is_suppressed(source, language, finding.rule, finding.range.start));
    }
    sort_findings(&mut findings);
    findings
}

/// Findings in source order (by range, then rule), as every audit returns them.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
}

/// The trigger words of one language's rules, each rule's words together.
struct Triggers {
    /// The rules with the same trigger words (the Redis rules share `redis`), and
    /// their words (places in `words`).
    groups: Vec<(RuleSet, Vec<usize>)>,
    /// A searcher for each word, in lower case (the text searched is lower-cased: ASCII
    /// case is ignored); a word of several groups is searched once.
    words: Vec<memchr::memmem::Finder<'static>>,
}

/// Per language, so a Python file is never searched for Dockerfile words.
static TRIGGERS: LazyLock<HashMap<Language, Triggers>> = LazyLock::new(|| {
    Language::ALL
        .iter()
        .map(|&language| {
            let mut groups: Vec<(RuleSet, &[&str])> = Vec::new();
            for &id in RuleId::ALL {
                let rule = id.rule();
                let triggers = rule.triggers_in(language);
                if !rule.applies_to(language) || triggers.is_empty() {
                    continue;
                }
                match groups.iter_mut().find(|(_, words)| *words == triggers) {
                    Some((rules, _)) => rules.insert(id),
                    None => {
                        let mut rules = RuleSet::EMPTY;
                        rules.insert(id);
                        groups.push((rules, triggers));
                    }
                }
            }
            let mut distinct: Vec<String> = Vec::new();
            let groups = groups
                .into_iter()
                .map(|(rules, words)| {
                    let places = words
                        .iter()
                        .map(|word| {
                            let word = word.to_ascii_lowercase();
                            match distinct.iter().position(|known| *known == word) {
                                Some(place) => place,
                                None => {
                                    distinct.push(word);
                                    distinct.len() - 1
                                }
                            }
                        })
                        .collect();
                    (rules, places)
                })
                .collect();
            let words = distinct
                .iter()
                .map(|word| memchr::memmem::Finder::new(word.as_bytes()).into_owned())
                .collect();
            (language, Triggers { groups, words })
        })
        .collect()
});

/// The rules that are enabled, apply to `language`, and whose trigger words `source`
/// contains (a rule without any can fire anywhere) and whose text test it passes. One
/// pass over the bytes for all rules, which stops once every rule is triggered; text
/// tests run only for enabled rules.
pub fn triggered_rules(language: Language, source: &str, settings: &Settings) -> RuleSet {
    let present = trigger_words_present(language, source);
    let enabled = settings.rules.enabled_for(language, source);
    present.retain(|id, rule| {
        enabled.contains(id)
            && (language != Language::Python
                || rule.text_test.is_none_or(|text_test| text_test(source)))
    })
}

/// The enabled rules of `language`, other than those `already` holds, whose
/// `workspace_trigger` admits `source` and names one of `libraries` (those the
/// workspace imports): where an audit reads the workspace, these run too (the objects
/// they judge may be made in another module).
pub fn triggered_by_workspace(
    language: Language,
    source: &str,
    settings: &Settings,
    already: RuleSet,
    libraries: Libraries,
) -> RuleSet {
    let mut triggered = RuleSet::EMPTY;
    for &id in RuleId::ALL {
        let rule = id.rule();
        if !already.contains(id)
            && rule.applies_to(language)
            && settings.rules.is_enabled(id)
            && rule.workspace_trigger.is_some_and(|trigger| {
                trigger.libraries.intersects(libraries) && (trigger.text)(source)
            })
        {
            triggered.insert(id);
        }
    }
    triggered
}

/// The rules that apply to `language` and one of whose trigger words `text` holds (a
/// rule without any always). No text tests, no settings. No trigger word spans a line
/// break, so over a text split at line starts this is the union of its parts' answers
/// (the editor keeps one per item).
pub fn trigger_words_present(language: Language, text: &str) -> RuleSet {
    let mut present =
        RuleSet::from_fn(|rule| rule.applies_to(language) && rule.triggers_in(language).is_empty());
    let Some(triggers) = TRIGGERS.get(&language) else {
        return present;
    };
    if triggers.groups.is_empty() {
        return present;
    }
    // A search per word, which stops at its first place, and none for a rule's other
    // words once one is found: common words are found near the top, and the rare ones
    // (`redis`, `fastapi`) read the text with a vectorized search. (One automaton over
    // all the words, ASCII case ignored, has no prefilter and walks every byte.)
    thread_local! {
        static LOWERED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    LOWERED.with_borrow_mut(|lowered| {
        lowered.clear();
        lowered.extend_from_slice(text.as_bytes());
        lowered.make_ascii_lowercase();
        // Each word's answer, once asked.
        let mut found: Vec<Option<bool>> = vec![None; triggers.words.len()];
        for (rules, words) in &triggers.groups {
            let mut is_found = |word: usize| {
                *found[word].get_or_insert_with(|| triggers.words[word].find(lowered).is_some())
            };
            if words.iter().any(|word| is_found(*word)) {
                present = present.union(*rules);
            }
        }
        // Keep a buffer for the next text, not the memory of a huge one.
        if lowered.capacity() > KEPT_LOWERED_BYTES {
            *lowered = Vec::new();
        }
    });
    present
}

/// The most bytes the buffer of `trigger_words_present` keeps between texts.
const KEPT_LOWERED_BYTES: usize = 4 << 20;

/// Parse and audit a whole text (the CLI, fix-all, tests). A text that no enabled
/// rule's trigger words and text tests admit is not parsed at all; the others are
/// scanned for them once.
pub fn audit_text(
    language: Language,
    source: &str,
    settings: &Settings,
    path: Option<&Path>,
) -> Vec<Finding> {
    parse_and_audit(language, source, settings, path, parse_text, None)
}

/// `audit_text` of a file of a workspace, in any language, as `check` and the
/// editor's workspace pull audit it: what names imported from other modules hold is
/// asked of `imported` (`index::WorkspaceLink`), and rules that judge objects made by
/// `libraries` (those the module reaches through imports) run where their
/// `workspace_trigger` admits the text (only Python rules read either).
/// `parser_limits::check` must have passed it.
pub fn audit_text_in_workspace(
    language: Language,
    source: &str,
    settings: &Settings,
    path: Option<&Path>,
    imported: Rc<dyn ImportedKinds>,
    libraries: Libraries,
) -> Vec<Finding> {
    parse_and_audit(
        language,
        source,
        settings,
        path,
        Syntax::parse_within_limits,
        Some((imported, libraries)),
    )
}

/// `audit_text` of a text that `parser_limits::check` has already passed: the CLI
/// checks each file once, before anything else, to report the ones it skips.
pub fn audit_text_within_limits(
    language: Language,
    source: &str,
    settings: &Settings,
    path: Option<&Path>,
) -> Vec<Finding> {
    parse_and_audit(
        language,
        source,
        settings,
        path,
        Syntax::parse_within_limits,
        None,
    )
}

/// The findings of `rules`, all of which read the text only: no parse.
fn audit_without_parse(
    language: Language,
    source: &str,
    settings: &Settings,
    path: Option<&Path>,
    imported: Option<Rc<dyn ImportedKinds>>,
    rules: RuleSet,
) -> Vec<Finding> {
    let mut text = TextContext::whole(source, language, &settings.rules, path);
    text.imported = imported;
    finish(
        run_rules_reading(&Inputs::Text(text), rules),
        source,
        language,
    )
}

fn parse_and_audit(
    language: Language,
    source: &str,
    settings: &Settings,
    path: Option<&Path>,
    parse: fn(Language, &str) -> Option<Syntax>,
    workspace: Option<(Rc<dyn ImportedKinds>, Libraries)>,
) -> Vec<Finding> {
    let mut triggered = triggered_rules(language, source, settings);
    if let Some((_, libraries)) = &workspace {
        let by_workspace =
            triggered_by_workspace(language, source, settings, triggered, *libraries);
        // In a generated file, the security rules only (as `triggered_rules`).
        let enabled = settings.rules.enabled_for(language, source);
        triggered = triggered.union(by_workspace.intersection(enabled));
    }
    if triggered.is_empty() {
        return Vec::new();
    }
    if triggered.rules().all(|(_, rule)| rule.reads_text_only()) {
        let imported = workspace.map(|(imported, _)| imported);
        return audit_without_parse(language, source, settings, path, imported, triggered);
    }
    let Some(syntax) = parse(language, source) else {
        return Vec::new();
    };
    let context = Context::new(source, &syntax, language, &settings.rules)
        .with_path(path)
        .with_workspace(workspace);
    finish(run_rules(&context, triggered), source, language)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser_runs_on_this_thread;

    fn triggered_ids(text: &str) -> Vec<&'static str> {
        trigger_words_present(Language::Python, text)
            .rules()
            .filter(|(_, rule)| !rule.triggers_in(Language::Python).is_empty())
            .map(|(_, rule)| rule.id)
            .collect()
    }

    /// Words that overlap in the text, or start at the same place, are all seen, in
    /// any ASCII case.
    #[test]
    fn trigger_words_that_overlap_are_all_found() {
        // `keys` ends inside `sleep`.
        assert_eq!(
            triggered_ids("KEYSLEEP"),
            ["redis-keys-command", "sleep-in-test"]
        );
        // `connect` (session-shared-across-requests) starts where `ConnectionPool`
        // (db-pool-without-timeout) does.
        assert_eq!(
            triggered_ids("ConnectionPool"),
            ["db-pool-without-timeout", "session-shared-across-requests"]
        );
        // `text` inside `context`, and nothing else.
        assert_eq!(triggered_ids("context"), ["sql-syntax-in-python"]);
        assert_eq!(triggered_ids(""), Vec::<&str>::new());
    }

    /// A file where only rules that read the text may fire is audited without a parse;
    /// one where a tree rule may fire is parsed, and the text rules still run.
    #[test]
    fn items_no_rule_admits_are_not_parsed() {
        let settings = Settings::from_options(crate::config::Options {
            select: Some(vec!["swallowed-exception".to_string()]),
            ..crate::config::Options::default()
        })
        .expect("settings");
        let quiet_items = "def quiet_{n}():\n    return {n}\n\n\n";
        let mut source = String::from("import logging\n\n\n");
        for n in 0..20 {
            source.push_str(&quiet_items.replace("{n}", &n.to_string()));
        }
        source.push_str("def logs():\n    try:\n        quiet_1()\n    except Exception:\n        logging.exception('failed')\n");
        let before = parser_runs_on_this_thread();
        let findings = audit_text(Language::Python, &source, &settings, None);
        // The item with the handler, and the one that imports (what names mean).
        assert_eq!(parser_runs_on_this_thread() - before, 2, "items parsed");
        assert_eq!(findings, []);

        // `Exception` under another name, from an item of its own: every item is walked.
        let renamed = format!(
            "from builtins import Exception as Oops\n\n\n{}",
            source
                .replace("except Exception", "except Oops")
                .replace("logging.exception('failed')", "pass")
        );
        let syntax = Syntax::parse(Language::Python, &renamed).expect("parses");
        let found = audit(Language::Python, &renamed, &syntax, &settings, None);
        let all = audit_without_prefilter(Language::Python, &renamed, &syntax, &settings, None);
        assert_eq!(found, all);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn text_rules_alone_need_no_parse() {
        let settings = Settings::default();
        let only_text = "import os\n\nx = os.environ  # type: ignore\n";
        let before = parser_runs_on_this_thread();
        let findings = audit_text(Language::Python, only_text, &settings, None);
        assert_eq!(parser_runs_on_this_thread(), before, "parsed");
        let rules: Vec<&str> = findings.iter().map(|finding| finding.rule).collect();
        assert_eq!(rules, ["type-ignore-without-reason"]);
        assert_eq!(&only_text[findings[0].range.clone()], "type: ignore");

        let with_tree_rule = format!("{only_text}try:\n    pass\nexcept:\n    pass\n");
        let findings = audit_text(Language::Python, &with_tree_rule, &settings, None);
        assert!(parser_runs_on_this_thread() > before, "not parsed");
        let mut rules: Vec<&str> = findings.iter().map(|finding| finding.rule).collect();
        rules.sort();
        rules.dedup();
        assert_eq!(
            rules,
            [
                "broad-except",
                "swallowed-exception",
                "type-ignore-without-reason"
            ]
        );
    }
}
