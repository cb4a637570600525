//! Incremental auditing for the editor: after an edit, the rules run only over the
//! top-level definitions whose text changed; the findings of the others come from a
//! cache. On a 5,000-line module this is the difference between walking ~60,000 nodes
//! per keystroke and walking one function.
//!
//! Why reusing is sound: a finding inside a top-level `def` or `class` depends on the
//! text of that definition, on the settings and the file's line break, and on the
//! module's *projections* its rule reads (`rules::projections`): the imports (wherever
//! they are), the header where fixes insert imports, what module-level statements bind
//! to clients, sessions, loggers and containers, the apps and routers and the calls that
//! configure them, the indexes declared apart from their models, and which definitions
//! authenticate. The cache keeps each definition's findings under the hash of its text
//! (through the end of its last line), with offsets relative to its start, per rule;
//! each rule's findings hold while the hash of the projections it reads is unchanged.
//!
//! The projections are computed before any rule runs, from the statements every audit
//! walks and what is remembered of the skipped definitions, so they are the same
//! whatever is skipped. Then the rules whose key held run over the changed definitions
//! only, and the rules whose key changed run once over everything: no rule runs twice.
//! A fix edit outside its definition can only be kept if it lands in the header (part
//! of the header projection); a definition with any other edit is simply audited again
//! every time. `tests/incremental.rs` checks the result equals a full audit after random
//! edits, and after module-level edits of every projection to every rule's fixture.
//!
//! Statements outside definitions (imports, assignments, `if __name__ == ...`) are
//! audited every time; only the projections are read from them, so typing a constant, a
//! bare name or a blank line there keeps every definition's findings.

use std::collections::HashMap;
use std::hash::Hasher;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

use ruff_python_ast::Stmt;
use ruff_text_size::Ranged;
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use super::{audit, finish, run_rules, trigger_words_present, triggered_by_workspace};
use crate::config::Settings;
use crate::index::{WorkspaceLink, WorkspaceRead, WorkspaceView};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::python::helpers::called_name;
use crate::rules::python::module_scope::ModuleDefinition;
use crate::rules::python::{
    blocking_io_in_async, checker, exceptions, fk_without_index, header, missing_auth_dependency,
    module_scope, routes, session_shared_across_requests,
};
use crate::rules::rule_set::RuleSet;
use crate::rules::{Context, Coverage, Finding, Libraries, RuleId, line_end, newline_of};
use crate::semantic::python::bound_kinds::{ImportedKinds, ScopeKey};
use crate::semantic::python::kinds::BindingKind;
use crate::syntax::python_ast::source_range;
use crate::syntax::{Syntax, SyntaxItem};

/// What the last audit of one document learnt, kept between its versions.
#[derive(Debug, Default)]
pub struct AuditCache {
    /// Per rule (by `RuleId::index`), the hash of the projections its cached findings
    /// were computed under; `None` for a rule the last audit did not run. Every cached
    /// definition holds the findings of exactly the rules with a key.
    rule_keys: Vec<Option<u128>>,
    /// Top-level definitions by the hash of their text.
    definitions: HashMap<u128, Definition, TextHashes>,
    /// What the last audit ran.
    last_work: AuditWork,
    /// Which rules' trigger words each item's text holds, by the hash of that text.
    item_triggers: HashMap<u128, (RuleSet, RuleSet), TextHashes>,
    /// What the definitions in each item say about authentication
    /// (`missing_auth_dependency::authentication_said`), by the hash of the item's text.
    item_authenticating: HashMap<u128, Vec<Box<str>>, TextHashes>,
    /// What the findings kept rest on besides the module's projections.
    reads: Reads,
    /// The client libraries the module reached through imports at the last audit
    /// (workspace triggers ran by them).
    libraries: Libraries,
    /// Counts the times `reads` stopped holding: part of the key of every rule that
    /// reads kinds, so their cached findings go.
    reads_generation: u64,
}

/// The answers audits asked for since the cached findings were made: what names
/// imported from other modules hold, and what the module's getters return.
#[derive(Debug, Default)]
struct Reads {
    workspace: Vec<WorkspaceRead>,
    returns: Vec<(String, Option<BindingKind>)>,
}

impl Reads {
    /// Whether every answer is still the same.
    fn hold(&self, context: &Context, workspace: Option<&WorkspaceView>) -> bool {
        let workspace_holds = match workspace {
            Some(workspace) => self
                .workspace
                .iter()
                .all(|read| read.holds(&workspace.index, &workspace.module)),
            None => self.workspace.is_empty(),
        };
        if !workspace_holds {
            return false;
        }
        if self.returns.is_empty() {
            return true;
        }
        let kinds = checker::module_kinds(context);
        let imports = checker::module_imports(context);
        self.returns
            .iter()
            .all(|(name, kind)| kinds.kind_returned_by(name, imports) == *kind)
    }

    fn add_returns(&mut self, context: &Context) {
        if context.ruff_kinds.get().is_none() {
            return; // no rule asked what anything holds
        }
        for read in checker::module_kinds(context).return_reads() {
            if !self.returns.contains(&read) {
                self.returns.push(read);
            }
        }
    }

    fn add_workspace(&mut self, reads: Vec<WorkspaceRead>) {
        if self.workspace.is_empty() {
            // One audit's reads are each asked once already (`WorkspaceLink::reads`).
            self.workspace = reads;
            return;
        }
        let known: std::collections::HashSet<WorkspaceRead, rustc_hash::FxBuildHasher> =
            self.workspace.iter().cloned().collect();
        self.workspace
            .extend(reads.into_iter().filter(|read| !known.contains(read)));
    }
}

/// The work one incremental audit did, as counts (the work-count tests read them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AuditWork {
    /// Top-level definitions in the module (those with syntax errors too, which are
    /// never cached and so always re-audited).
    pub definitions: usize,
    /// Of those, the ones at least one rule ran over again.
    pub reaudited: usize,
    /// `(definition, rule)` pairs that ran: a rule over a definition it had findings
    /// for already counts once per definition.
    pub rule_runs: usize,
}

/// The map's keys are already good hashes (xxh3 of the text): use their bits as they are
/// instead of hashing them again.
type TextHashes = std::hash::BuildHasherDefault<KeyBits>;

#[derive(Default)]
struct KeyBits(u64);

impl Hasher for KeyBits {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }
}

/// What a definition's audit found, relative to its start.
#[derive(Debug, Default)]
struct Definition {
    findings: Vec<Relocatable>,
}

/// A finding whose range, and fix edits not marked `absolute`, are relative to the
/// start of its definition.
#[derive(Debug)]
struct Relocatable {
    rule: Option<RuleId>,
    finding: Finding,
    absolute_edits: Vec<bool>,
}

impl AuditCache {
    /// Whether the last audit's findings still stand for the workspace as `view` sees
    /// it now: every answer it read of other modules is the same, and the module
    /// reaches the same client libraries.
    pub fn workspace_still_reads(&self, view: &WorkspaceView) -> bool {
        self.libraries == view.libraries
            && self
                .reads
                .workspace
                .iter()
                .all(|read| read.holds(&view.index, &view.module))
    }

    /// How many top-level definitions the last audit reused whole (no rule ran over
    /// them again), of how many.
    pub fn last_reuse(&self) -> (usize, usize) {
        let work = self.last_work;
        (work.definitions - work.reaudited, work.definitions)
    }

    /// Let go of what only the next audit of an edit reuses (each definition's
    /// findings, each item's trigger words), keeping what says whether the last
    /// audit's findings still stand for the workspace (`workspace_still_reads`). The
    /// server does this for documents nobody edits: with hundreds open, the reuse of
    /// all of them costs more memory than their text. The next audit runs every rule
    /// over everything, as a first audit does.
    pub fn forget_reuse(&mut self) {
        *self = AuditCache {
            reads: std::mem::take(&mut self.reads),
            libraries: self.libraries,
            reads_generation: self.reads_generation,
            ..AuditCache::default()
        };
    }

    /// What the last audit ran.
    pub fn last_work(&self) -> AuditWork {
        self.last_work
    }

    /// Audit `source` (whose tree is `tree`), reusing what this cache knows; the result
    /// equals `audit::audit` on the same input.
    pub fn audit(
        &mut self,
        language: Language,
        source: &str,
        syntax: &Syntax,
        settings: &Settings,
        path: Option<&Path>,
    ) -> Vec<Finding> {
        self.audit_in_workspace(language, source, syntax, settings, path, None)
    }

    /// `audit` of a module of a workspace: names it imports from other modules are
    /// settled by `workspace`'s index, and findings that rest on what other modules (or
    /// the module's own getters) said are kept only while they still say it.
    pub fn audit_in_workspace(
        &mut self,
        language: Language,
        source: &str,
        syntax: &Syntax,
        settings: &Settings,
        path: Option<&Path>,
        workspace: Option<&WorkspaceView>,
    ) -> Vec<Finding> {
        if language != Language::Python {
            // Audited whole; what it read of the workspace (a SQL file reads the schema)
            // is kept, so a change elsewhere audits it again.
            *self = AuditCache::default();
            let Some(workspace) = workspace else {
                return audit(language, source, syntax, settings, path);
            };
            let link = Rc::new(WorkspaceLink::new(
                workspace.index.clone(),
                workspace.module.clone(),
            ));
            let imported = Some(link.clone() as Rc<dyn ImportedKinds>);
            let findings =
                super::audit_in_workspace(language, source, syntax, settings, path, imported);
            self.reads.add_workspace(link.reads());
            self.libraries = workspace.libraries;
            return findings;
        }
        let link = workspace.map(|workspace| {
            Rc::new(WorkspaceLink::new(
                workspace.index.clone(),
                workspace.module.clone(),
            ))
        });
        let libraries = workspace.map_or(Libraries::NONE, |workspace| workspace.libraries);
        let imported = link
            .clone()
            .map(|link| (link as Rc<dyn ImportedKinds>, libraries));
        self.libraries = libraries;
        let triggered = self.triggered_rules(language, source, syntax, settings, libraries);
        if triggered.is_empty() {
            *self = AuditCache {
                item_triggers: std::mem::take(&mut self.item_triggers),
                item_authenticating: std::mem::take(&mut self.item_authenticating),
                reads_generation: self.reads_generation,
                libraries: self.libraries,
                ..AuditCache::default()
            };
            return Vec::new();
        }
        // A definition in an item with a syntax error is neither reused nor cached:
        // error recovery can read the same text differently depending on what follows
        // it (an `import` inside it may come and go), so its text does not determine its
        // findings. Nor is one that does not open its item (only broken code makes one):
        // rules that read the text read it item by item, from the item's start.
        let (definitions, uncacheable) = top_level_definitions(syntax, source);
        let definitions: Vec<(Range<usize>, u128)> = definitions
            .into_iter()
            .map(|range| {
                let hash = xxh3_128(source[extent(&range, source)].as_bytes());
                (range, hash)
            })
            .collect();

        let mut coverage = Coverage::default();
        for (range, hash) in &definitions {
            if self.definitions.contains_key(hash) {
                coverage.skipped.push(range.clone());
            }
        }
        // The projections are read from every item, whatever is skipped: the rules that
        // read one that changed run once, over everything.
        let optimistic =
            Context::with_coverage(source, syntax, language, &settings.rules, &coverage)
                .with_path(path)
                .with_workspace(imported.clone());
        // What the findings kept rest on, asked again: another module's facts, or a
        // getter of this one, may have changed. If any answer did, the rules that read
        // kinds run over everything.
        let reads_hold = self.reads.hold(&optimistic, workspace);
        if !reads_hold {
            self.reads = Reads::default();
            self.reads_generation += 1;
        }
        // Where fixes add imports: edits before it stay where they are when a
        // definition moves.
        let header_end = header::insertion_point(&optimistic).unwrap_or(0);
        // Which names a route's `Depends(...)` may resolve to here and authenticate
        // (`missing-auth-dependency`).
        let authenticating = if checker::module_imports(&optimistic).imports_module("fastapi") {
            self.authenticating_definitions(syntax, source)
        } else {
            Vec::new()
        };
        let mut projections = projection_hashes(&optimistic, &authenticating, header_end);
        // Answers of the workspace, and the libraries the module reaches through it
        // (`Checker::reaches`), count as what module-level names hold, and as what the
        // workspace told.
        for projection in [Projections::CLIENTS, Projections::WORKSPACE] {
            let hash = &mut projections[projection.index()];
            *hash = xxh3_128(
                &[
                    hash.to_le_bytes(),
                    u128::from(self.reads_generation).to_le_bytes(),
                    u128::from(libraries.0).to_le_bytes(),
                ]
                .concat(),
            );
        }
        let mut rule_keys = vec![None; RuleId::ALL.len()];
        // Rules whose cached findings still hold (they skip the cached definitions), and
        // rules that read a projection that changed (they run over everything).
        let (mut steady, mut stale) = (RuleSet::EMPTY, RuleSet::EMPTY);
        for (id, rule) in triggered.rules() {
            let key = rule_key(&projections, rule.reads, source, settings);
            rule_keys[id.index()] = Some(key);
            if self.rule_keys.get(id.index()).copied().flatten() == Some(key) {
                steady.insert(id);
            } else {
                stale.insert(id);
            }
        }
        let mut fresh = run_rules(&optimistic, steady);
        let rerun_everywhere = if coverage.skipped.is_empty() {
            // Nothing skipped (a first audit): the optimistic context covers all.
            fresh.extend(run_rules(&optimistic, stale));
            RuleSet::EMPTY
        } else if !stale.is_empty() {
            let whole =
                Context::with_coverage(source, syntax, language, &settings.rules, Coverage::WHOLE)
                    .with_path(path)
                    .with_workspace(imported.clone());
            fresh.extend(run_rules(&whole, stale));
            self.reads.add_returns(&whole);
            stale
        } else {
            RuleSet::EMPTY
        };
        self.reads.add_returns(&optimistic);
        if let Some(link) = &link {
            self.reads.add_workspace(link.reads());
        }
        let mut findings = Vec::with_capacity(fresh.len());
        let mut old_definitions = std::mem::take(&mut self.definitions);
        let mut new_definitions: HashMap<u128, Definition, TextHashes> =
            HashMap::with_capacity_and_hasher(definitions.len(), TextHashes::default());
        let mut fresh_by_definition: Vec<Vec<Finding>> = vec![Vec::new(); definitions.len()];
        for finding in fresh {
            match definition_holding(&definitions, finding.range.start) {
                Some(index) => fresh_by_definition[index].push(finding),
                None => findings.push(finding), // outside definitions: never cached
            }
        }
        // Definitions that are never cached are audited whole every time: they count as
        // re-audited by every rule that ran.
        let mut work = AuditWork {
            definitions: definitions.len() + uncacheable,
            reaudited: uncacheable,
            rule_runs: uncacheable * triggered.len(),
        };
        for ((statement, hash), fresh) in definitions.iter().zip(fresh_by_definition) {
            let range = extent(statement, source);
            let reused = coverage
                .skipped
                .binary_search_by_key(&statement.start, |skipped| skipped.start)
                .is_ok();
            // What ran here: every rule, or over a reused definition the rules that read
            // a changed projection. Other findings the run made in a reused definition
            // came from elsewhere and are among the cached ones (see the module docs).
            let (ran, fresh): (RuleSet, Vec<Finding>) = if reused {
                let fresh = fresh
                    .into_iter()
                    .filter(|finding| {
                        RuleId::from_id(finding.rule)
                            .is_some_and(|id| rerun_everywhere.contains(id))
                    })
                    .collect();
                (rerun_everywhere, fresh)
            } else {
                (triggered, fresh)
            };
            if !ran.is_empty() {
                work.reaudited += 1;
                work.rule_runs += ran.len();
            }
            // The record is moved, not copied; a second definition with the same text
            // finds it in the new map. It keeps the steady rules' findings (those of
            // rules that ran again here, or no longer run, go).
            let mut record = reused
                .then(|| {
                    old_definitions
                        .remove(hash)
                        .or_else(|| new_definitions.remove(hash))
                })
                .flatten()
                .unwrap_or_default();
            record
                .findings
                .retain(|cached| cached.rule.is_some_and(|id| steady.contains(id)));
            findings.extend(
                record
                    .findings
                    .iter()
                    .map(|cached| cached.placed_at(range.start)),
            );
            let relocatable: Option<Vec<Relocatable>> = fresh
                .iter()
                .map(|finding| Relocatable::new(finding, &range, header_end))
                .collect();
            // A finding whose fix cannot move with its definition: not cached.
            if let Some(relocatable) = relocatable {
                record.findings.extend(relocatable);
                new_definitions.insert(*hash, record);
            }
            findings.extend(fresh);
        }
        self.rule_keys = rule_keys;
        self.definitions = new_definitions;
        self.last_work = work;
        finish(findings, source, language)
    }
}

impl AuditCache {
    /// What the top-level functions and classes say about authentication, in order,
    /// read per item and remembered by the item's hash (a keystroke reads the item it
    /// changed, not every definition's body).
    fn authenticating_definitions(&mut self, syntax: &Syntax, source: &str) -> Vec<Box<str>> {
        let mut names = Vec::new();
        for_each_item_remembered(&mut self.item_authenticating, syntax, |item| {
            let Some(ast) = item.python_ast(source) else {
                return Vec::new();
            };
            ast.body
                .iter()
                .filter_map(|statement| {
                    let definition = ModuleDefinition {
                        base: item.range.start,
                        statement,
                    };
                    missing_auth_dependency::authentication_said(&definition, source)
                })
                .collect()
        })
        .for_each(|found| names.extend(found.iter().cloned()));
        names
    }

    /// The enabled rules whose trigger words the text holds, from each item's words,
    /// remembered by the item's hash: a keystroke scans the item it changed, not the
    /// module. Rules' text tests are not applied: they only spare the CLI a parse, and
    /// they never change what a rule finds (`audit_without_prefilter` is the same).
    fn triggered_rules(
        &mut self,
        language: Language,
        source: &str,
        syntax: &Syntax,
        settings: &Settings,
        libraries: Libraries,
    ) -> RuleSet {
        let mut triggered = RuleSet::EMPTY;
        let mut by_workspace = RuleSet::EMPTY;
        for_each_item_remembered(&mut self.item_triggers, syntax, |item| {
            let text = source.get(item.range.clone()).unwrap_or("");
            (
                trigger_words_present(language, text),
                triggered_by_workspace(language, text, settings, RuleSet::EMPTY, Libraries::ALL),
            )
        })
        .for_each(|(words, workspace)| {
            triggered = triggered.union(*words);
            by_workspace = by_workspace.union(*workspace);
        });
        // Workspace triggers count where the module reaches the library they name.
        let by_workspace = by_workspace.retain(|_, rule| {
            rule.workspace_trigger
                .is_some_and(|trigger| trigger.libraries.intersects(libraries))
        });
        // In a generated file, the security rules only: when its header changes, the
        // rules that come back have no key and run over everything.
        triggered
            .union(by_workspace)
            .intersection(settings.rules.enabled_for(language, source))
    }
}

/// What `read` says of each item of `syntax`, in order, from `remembered` (by the hash
/// of the item's text) where it is there. Afterwards `remembered` holds the current
/// items only.
fn for_each_item_remembered<'c, T>(
    remembered: &'c mut HashMap<u128, T, TextHashes>,
    syntax: &Syntax,
    mut read: impl FnMut(&SyntaxItem) -> T,
) -> impl Iterator<Item = &'c T> {
    let mut known = std::mem::take(remembered);
    for item in syntax.items() {
        remembered
            .entry(item.hash)
            .or_insert_with(|| known.remove(&item.hash).unwrap_or_else(|| read(item)));
    }
    let remembered: &'c HashMap<u128, T, TextHashes> = remembered;
    syntax
        .items()
        .iter()
        .filter_map(move |item| remembered.get(&item.hash))
}

/// The top-level `def`s and `class`es of every item, as Ruff reads them, in order: the
/// byte ranges of those whose findings may be cached, and how many others there are
/// (in an item with a syntax error, or not what opens their item).
fn top_level_definitions(syntax: &Syntax, source: &str) -> (Vec<Range<usize>>, usize) {
    let mut cacheable = Vec::new();
    let mut uncacheable = 0;
    for item in syntax.items() {
        let Some(ast) = item.python_ast(source) else {
            continue;
        };
        for (index, statement) in ast.body.iter().enumerate() {
            if !matches!(statement, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                continue;
            }
            let range = source_range(item.range.start, statement);
            // Only blank lines and comments before it (not a line continuation, which
            // the text rules read differently).
            let opens_item = index == 0
                && source
                    .get(item.range.start..range.start)
                    .is_some_and(|before| {
                        before.split(['\n', '\r']).all(|line| {
                            line.trim().is_empty() || line.trim_start().starts_with('#')
                        })
                    });
            if ast.has_error || !opens_item {
                uncacheable += 1;
                continue;
            }
            cacheable.push(range);
        }
    }
    (cacheable, uncacheable)
}

/// A definition's text as far as its findings can depend on it: through the end of
/// its last line, where a fix may insert a line after the last statement (a comment or
/// white space there moves that insertion).
fn extent(definition: &Range<usize>, source: &str) -> Range<usize> {
    definition.start..line_end(source, definition.end)
}

/// Index of the definition whose range holds `offset` (definitions are in order).
fn definition_holding(definitions: &[(Range<usize>, u128)], offset: usize) -> Option<usize> {
    let index = definitions.partition_point(|(range, _)| range.end <= offset);
    definitions
        .get(index)
        .filter(|(range, _)| range.start <= offset)
        .map(|_| index)
}

/// The hash of each projection (`Projections::EACH` order) of the module: everything
/// outside a definition that findings inside one may depend on, as the rules read it.
/// `context` is the optimistic one: what it works out (imports, kinds, routers) the
/// steady rules then read, so it is computed once. A constant's value, a bare
/// expression, a half-typed name at module level add nothing, so typing them keeps every
/// definition's cached findings.
fn projection_hashes(
    context: &Context,
    authenticating: &[Box<str>],
    header_end: usize,
) -> [u128; Projections::EACH.len()] {
    let source = context.source;
    let mut hashers: [Xxh3; Projections::EACH.len()] = std::array::from_fn(|_| Xxh3::new());
    let text_at = |base: usize, node: &dyn Ranged| {
        source.get(source_range(base, &node.range())).unwrap_or("")
    };

    let header = &mut hashers[Projections::HEADER.index()];
    header.update(source.get(..header_end).unwrap_or("").as_bytes());
    header.write_usize(header_end);

    let imports = &mut hashers[Projections::IMPORTS.index()];
    for (_, local, target) in checker::module_imports(context).ordered() {
        imports.update(local.as_bytes());
        imports.write_u8(0);
        imports.update(target.as_bytes());
        imports.write_u8(0);
    }

    // What module-level names hold (clients, sessions, apps and routers, containers).
    let kinds = checker::module_kinds(context).kinds_bound_in(ScopeKey::MODULE);
    for (name, kind) in kinds {
        let projection = match kind {
            BindingKind::WebApp | BindingKind::Router => Projections::ROUTERS,
            BindingKind::Container(_) => Projections::MUTABLE_GLOBALS,
            _ => Projections::CLIENTS,
        };
        let hasher = &mut hashers[projection.index()];
        hasher.update(name.as_bytes());
        hasher.write_u8(kind.code());
    }

    let clients = &mut hashers[Projections::CLIENTS.index()];
    // What module-level names hold that the module alone does not settle (`client =
    // imported_client`, `db = get_db()`): settled when asked, by the reads above.
    for (name, value) in checker::module_kinds(context).values_bound_in(ScopeKey::MODULE) {
        clients.update(name.as_bytes());
        std::hash::Hash::hash(value, clients);
    }
    clients.update(
        exceptions::module_logger(context)
            .unwrap_or_default()
            .as_bytes(),
    );
    clients.write_u8(0);
    // Module-level paths (`blocking-io-in-async` judges `UPLOADS.open()`), in order.
    let mut paths: Vec<String> = blocking_io_in_async::module_paths(context)
        .iter()
        .cloned()
        .collect();
    paths.sort_unstable();
    for path in paths {
        clients.update(path.as_bytes());
        clients.write_u8(0);
    }
    for (name, how) in &session_shared_across_requests::shared_sessions(context).0 {
        clients.update(name.as_bytes());
        clients.write_u8(0);
        clients.update(how.as_bytes());
        clients.write_u8(0);
    }

    let module_scope = module_scope::module_scope(context);
    let auth = &mut hashers[Projections::AUTH_CALLABLES.index()];
    for name in authenticating {
        auth.update(name.as_bytes());
        auth.write_u8(0);
    }
    for assignment in &module_scope.assignments {
        let value = text_at(assignment.base, assignment.value);
        // Aliases of dependencies (`CurrentUser = Annotated[..., Depends(...)]`).
        if value.contains("Depends") || value.contains("Security") {
            let auth = &mut hashers[Projections::AUTH_CALLABLES.index()];
            auth.update(assignment.name.as_bytes());
            auth.write_u8(0);
            auth.update(value.as_bytes());
            auth.write_u8(0);
        }
        // What rules look up by name in the module scope whatever its kind: a
        // `.pubsub()` of an unknown client, a session.
        if let Some(call) = assignment.called()
            && called_name(call).is_some_and(|name| SCOPE_LOOKUPS.contains(&name))
        {
            let clients = &mut hashers[Projections::CLIENTS.index()];
            clients.update(assignment.name.as_bytes());
            clients.write_u8(0);
            clients.update(text_at(assignment.base, &*call.func).as_bytes());
            clients.write_u8(0);
        }
    }

    let routers = &mut hashers[Projections::ROUTERS.index()];
    for (name, base, call) in routes::routers(context).read_by_routes() {
        routers.update(name.as_bytes());
        routers.write_u8(0);
        routers.update(text_at(base, call).as_bytes());
        routers.write_u8(0);
    }

    // An Alembic migration's two functions, each by its text (the module's
    // top-level `def upgrade` / `def downgrade`).
    // And whether the module is a migration at all (its `revision` lines).
    let migration = &mut hashers[Projections::MIGRATION.index()];
    migration.write_u8(u8::from(crate::rules::alembic::is_migration(context)));
    for item in context.syntax.items() {
        let text = source.get(item.range.clone()).unwrap_or("");
        if text.starts_with("def upgrade") || text.starts_with("def downgrade") {
            migration.update(text.as_bytes());
            migration.write_u8(0);
        }
    }

    let indexes = &mut hashers[Projections::INDEXES.index()];
    for call in fk_without_index::module_level_index_calls(context) {
        indexes.update(source.get(call).unwrap_or("").as_bytes());
        indexes.write_u8(0);
    }
    hashers.map(|hasher| hasher.digest128())
}

/// Last names of the calls whose results rules look up by name in any module-scope
/// binding (`http-without-timeout`'s sessions, `pubsub-without-reconnect`).
const SCOPE_LOOKUPS: &[&str] = &["Session", "session", "pubsub"];

/// The key a rule's cached findings hold under: the hashes of the projections it reads,
/// and what every rule's findings depend on (the settings, the file's line break).
fn rule_key(
    projections: &[u128; Projections::EACH.len()],
    reads: Projections,
    source: &str,
    settings: &Settings,
) -> u128 {
    let mut hasher = Xxh3::new();
    hasher.write_u64(settings.rules.fingerprint());
    hasher.update(newline_of(source).as_bytes());
    for projection in reads.each() {
        hasher.write_u128(projections[projection.index()]);
    }
    hasher.digest128()
}

impl Relocatable {
    /// `finding` (from `definition`) with offsets made relative; `None` when a fix edit
    /// lands outside both the definition and the header, where offsets can move.
    fn new(finding: &Finding, definition: &Range<usize>, header_end: usize) -> Option<Relocatable> {
        let inside =
            |range: &Range<usize>| definition.start <= range.start && range.end <= definition.end;
        if !inside(&finding.range) {
            return None;
        }
        let mut relative = finding.clone();
        let rule = RuleId::from_id(finding.rule);
        relative.range = shift_back(&finding.range, definition.start);
        let mut absolute_edits = Vec::new();
        if let Some(fix) = relative.fix.as_mut() {
            for edit in &mut fix.edits {
                if inside(&edit.range) {
                    edit.range = shift_back(&edit.range, definition.start);
                    absolute_edits.push(false);
                } else if edit.range.end <= header_end {
                    absolute_edits.push(true);
                } else {
                    return None;
                }
            }
        }
        Some(Relocatable {
            rule,
            finding: relative,
            absolute_edits,
        })
    }

    /// The finding for its definition starting at `start`.
    fn placed_at(&self, start: usize) -> Finding {
        let mut finding = self.finding.clone();
        finding.range = finding.range.start + start..finding.range.end + start;
        if let Some(fix) = finding.fix.as_mut() {
            for (edit, absolute) in fix.edits.iter_mut().zip(&self.absolute_edits) {
                if !absolute {
                    edit.range = edit.range.start + start..edit.range.end + start;
                }
            }
        }
        finding
    }
}

fn shift_back(range: &Range<usize>, by: usize) -> Range<usize> {
    range.start - by..range.end - by
}
