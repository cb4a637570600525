//! `textDocument/codeAction`: a quick fix per finding that has one, an "Ignore <rule>
//! on this line" per finding, and `source.fixAll.stackaudit` applying every safe fix.

use std::collections::HashMap;

use tower_lsp_server::ls_types::*;

use super::capabilities::FIX_ALL_KIND;
use super::diagnostics::{rule_of, to_diagnostic};
use super::sync::current_findings;
use super::{OpenDocument, Snapshot};
use crate::document::position::{Encoding, offset_of, range_of};
use crate::fix::{fix_all, fix_all_in_workspace, minimal_edit};
use crate::rules::{Applicability, Finding};
use crate::suppression::ignore_edit;

fn wants(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|requested| {
        kind.as_str() == requested.as_str()
            || kind
                .as_str()
                .starts_with(&format!("{}.", requested.as_str()))
    })
}

fn workspace_edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

pub(super) fn code_action(
    snapshot: &Snapshot,
    lazy_fix_all: bool,
    params: CodeActionParams,
) -> CodeActionResponse {
    let uri = &params.text_document.uri;
    let (open, encoding) = (&snapshot.open, snapshot.encoding);
    let only = params.context.only.as_deref();
    let mut actions = Vec::new();
    if wants(only, &CodeActionKind::QUICKFIX) {
        for diagnostic in diagnostics_in_scope(snapshot, &params) {
            let Some(rule) = rule_of(&diagnostic) else {
                continue;
            };
            let findings = current_findings(open, &snapshot.settings, snapshot.workspace.as_ref());
            actions.extend(quick_fixes(
                open, &findings, uri, diagnostic, rule, encoding,
            ));
        }
    }
    if wants(only, &FIX_ALL_KIND) {
        actions.extend(fix_all_action(snapshot, uri, lazy_fix_all));
    }
    actions
        .into_iter()
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}

/// The client's stackaudit diagnostics for the range, or, when it sent none (some
/// clients do not), ours that intersect the range.
fn diagnostics_in_scope(snapshot: &Snapshot, params: &CodeActionParams) -> Vec<Diagnostic> {
    let (open, encoding) = (&snapshot.open, snapshot.encoding);
    let sent: Vec<Diagnostic> = params
        .context
        .diagnostics
        .iter()
        .filter(|diagnostic| rule_of(diagnostic).is_some())
        .cloned()
        .collect();
    if !sent.is_empty() {
        return sent;
    }
    let document = &open.document;
    let start = offset_of(&document.rope, params.range.start, encoding);
    let end = offset_of(&document.rope, params.range.end, encoding);
    current_findings(open, &snapshot.settings, snapshot.workspace.as_ref())
        .iter()
        .filter(|finding| finding.range.start <= end && start <= finding.range.end)
        .map(|finding| to_diagnostic(finding, &document.rope, encoding))
        .collect()
}

fn quick_fixes(
    open: &OpenDocument,
    findings: &[Finding],
    uri: &Uri,
    diagnostic: Diagnostic,
    rule: &'static str,
    encoding: Encoding,
) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    let rope = &open.document.rope;
    // The finding this diagnostic shows: same rule, same place in the current text (a
    // diagnostic of an older version whose range still names one gets the current fix).
    let fix = findings
        .iter()
        .find(|finding| {
            finding.rule == rule
                && range_of(rope, finding.range.clone(), encoding) == diagnostic.range
        })
        .and_then(|finding| finding.fix.as_ref());
    if let Some(fix) = fix {
        let edits = fix
            .edits
            .iter()
            .map(|edit| {
                TextEdit::new(
                    range_of(rope, edit.range.clone(), encoding),
                    edit.content.to_string(),
                )
            })
            .collect();
        let is_safe = fix.applicability == Applicability::Safe;
        let title = if is_safe {
            fix.title.to_string()
        } else {
            format!("{} (unsafe)", fix.title)
        };
        actions.push(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(workspace_edit(uri, edits)),
            is_preferred: Some(is_safe),
            ..CodeAction::default()
        });
    }
    let document = &open.document;
    let text = document.text();
    let start = offset_of(&document.rope, diagnostic.range.start, encoding);
    let trailing_ok = !line_ends_inside_multiline_token(document, &text, start);
    let edit = ignore_edit(&text, document.language, rule, start, trailing_ok);
    let text_edit = TextEdit::new(
        range_of(&document.rope, edit.range, encoding),
        edit.content.to_string(),
    );
    actions.push(CodeAction {
        title: format!("Ignore {rule} on this line"),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(workspace_edit(uri, vec![text_edit])),
        ..CodeAction::default()
    });
    actions
}

/// Whether the line holding `byte` ends inside a string or scalar that continues on the
/// next line, where a trailing comment would become part of the text.
fn line_ends_inside_multiline_token(
    document: &crate::document::Document,
    text: &str,
    byte: usize,
) -> bool {
    let Some(syntax) = document.syntax_or_parse() else {
        return false;
    };
    let end = crate::rules::line_end(text, byte);
    let item = syntax.item_at(end.saturating_sub(1));
    // Spans past the line's end, onto another line.
    let continues = |range: std::ops::Range<usize>| {
        range.start < end
            && range.end > end
            && text
                .get(range)
                .is_some_and(|token| token.contains(['\n', '\r']))
    };
    let Some(tree) = &item.tree else {
        return python_token_continues(text, item, continues);
    };
    // Only the node at the line's end and the nodes around it can span past it: look at
    // that chain, not the whole tree.
    let Some(mut node) = tree
        .root_node()
        .descendant_for_byte_range(end.saturating_sub(1), end)
    else {
        return false;
    };
    loop {
        let is_token = node.kind().contains("string") || node.kind().contains("scalar");
        if is_token && continues(node.byte_range()) {
            return true;
        }
        let Some(parent) = node.parent() else {
            return false;
        };
        node = parent;
    }
}

/// Whether a Python string of the item (a part of an implicit concatenation, or an
/// f-string or t-string whole, whose replacement fields may span lines) satisfies
/// `continues`.
fn python_token_continues(
    text: &str,
    item: &crate::syntax::SyntaxItem,
    continues: impl Fn(std::ops::Range<usize>) -> bool,
) -> bool {
    use crate::rules::python::helpers::{AnyNode, any_node};
    use crate::syntax::python_ast::source_range;
    use ruff_python_ast::Expr;
    let Some(ast) = item.python_ast(text) else {
        return false;
    };
    let base = item.range.start;
    use ruff_text_size::Ranged;
    let at = |range: ruff_text_size::TextRange| source_range(base, &range);
    any_node(&ast.body, |node| match node {
        AnyNode::Expression(expression) => match expression {
            Expr::StringLiteral(string) => {
                string.value.iter().any(|part| continues(at(part.range())))
            }
            Expr::BytesLiteral(bytes) => bytes.value.iter().any(|part| continues(at(part.range()))),
            Expr::FString(_) | Expr::TString(_) => continues(at(expression.range())),
            _ => false,
        },
        AnyNode::Statement(_) => false,
    })
}

const FIX_ALL_TITLE: &str = "Fix all safe stackaudit findings";

/// `source.fixAll.stackaudit`. Clients that resolve code actions get it without its
/// edit, which `resolve` computes when the user picks it: fixing a whole file is the
/// most expensive thing a code action request can do.
fn fix_all_action(snapshot: &Snapshot, uri: &Uri, lazy: bool) -> Option<CodeAction> {
    let has_safe_fix = current_findings(
        &snapshot.open,
        &snapshot.settings,
        snapshot.workspace.as_ref(),
    )
    .iter()
    .any(|finding| {
        finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
    });
    if !has_safe_fix {
        return None;
    }
    if lazy {
        return Some(CodeAction {
            title: FIX_ALL_TITLE.to_string(),
            kind: Some(FIX_ALL_KIND),
            data: Some(serde_json::json!({ "fixAll": uri.as_str() })),
            ..CodeAction::default()
        });
    }
    let edit = fix_all_edit(snapshot)?;
    Some(CodeAction {
        title: FIX_ALL_TITLE.to_string(),
        kind: Some(FIX_ALL_KIND),
        edit: Some(workspace_edit(uri, vec![edit])),
        ..CodeAction::default()
    })
}

fn fix_all_edit(snapshot: &Snapshot) -> Option<TextEdit> {
    let document = &snapshot.open.document;
    let text = document.text();
    let path = snapshot.open.path.as_deref();
    let fixed = match &snapshot.workspace {
        // As the document's own audit reads the workspace, so its findings that rest on
        // other modules are fixed too.
        Some(workspace) => fix_all_in_workspace(
            document.language,
            &text,
            &snapshot.settings,
            false,
            path,
            workspace,
        ),
        None => fix_all(document.language, &text, &snapshot.settings, false, path),
    };
    let edit = minimal_edit(&text, &fixed.text)?;
    Some(TextEdit::new(
        range_of(&document.rope, edit.range, snapshot.encoding),
        edit.content.to_string(),
    ))
}

/// The document a lazy fix-all action is for (`None` for other actions).
pub(super) fn fix_all_uri(action: &CodeAction) -> Option<Uri> {
    let uri = action.data.as_ref()?.get("fixAll")?.as_str()?;
    uri.parse::<Uri>().ok()
}

/// `codeAction/resolve` of a lazy fix-all: fill in its edit, from the document as it is
/// now.
pub(super) fn resolve(snapshot: &Snapshot, mut action: CodeAction) -> CodeAction {
    let Some(uri) = fix_all_uri(&action) else {
        return action;
    };
    let edits = fix_all_edit(snapshot).into_iter().collect();
    action.edit = Some(workspace_edit(&uri, edits));
    action
}
