//! ## What it does
//! Finds literal secrets in a Dockerfile's `ENV`/`ARG` or a compose file's
//! `environment:`: variables whose name has the word PASSWORD, PASSWD, SECRET, TOKEN,
//! APIKEY, CREDENTIAL, AUTH or DSN, or API_KEY, PRIVATE_KEY, ACCESS_KEY (whole words:
//! `MAX_TOKENS` and `SUPERTOKENS_URI` are not secrets), PASS or PWD last, or a last
//! word KEY with a value that looks like a generated key (`SIGNING_KEY`); and
//! connection URLs with an inline password (`scheme://user:pass@host`) under any name.
//! A URL with no credentials is not a secret under any name. In compose, the literal
//! default of `${NAME:-default}` (or `${NAME-default}`) is judged the same way and
//! reported as a warning; `${NAME:?message}` has none. Entries reached through YAML
//! anchors (`environment: *common-env`, `<<: *common-env`, `<<: [*a, *b]`) are judged
//! too, each literal once, reported where the anchor holds it.
//!
//! Substitutions (`${VAR}`, `$VAR`), empty values, `ARG NAME` without a default,
//! values that point at files (`*_FILE=/run/secrets/...`) and settings about secrets
//! rather than secrets (`TOKEN_TTL=3600`, `AUTH_ENABLED=true`) are fine.
//!
//! ## Why is this bad?
//! A value in a Dockerfile is baked into an image layer and its history, where anyone
//! who can pull the image reads it with `docker history` or `docker inspect`; a value
//! in a compose file lives in the repository and every clone, CI log and fork of it.
//! Rotating a leaked password means finding every copy.
//!
//! ## Example
//! ```dockerfile
//! ENV DATABASE_URL=postgres://app:hunter2@db/app
//! ARG NPM_TOKEN=npm_Xb3...
//! ```
//! ```yaml
//! services:
//!   db:
//!     environment:
//!       POSTGRES_PASSWORD: hunter2
//! ```
//!
//! ## Use instead
//! ```dockerfile
//! # DATABASE_URL is given when the container starts: `docker run -e DATABASE_URL`
//! # or compose `environment:`; the image holds no value for it.
//! ARG NPM_TOKEN
//! # build-time secrets never belong in ARG either:
//! RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci
//! ```
//! ```yaml
//! services:
//!   db:
//!     environment:
//!       POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}   # value in an untracked .env
//! ```
//!
//! ## Fix safety
//! Unsafe: the literal is removed, so the value must come from elsewhere afterwards.
//! In compose files the literal becomes `${NAME}`, read from the environment or an
//! untracked `.env` next to the compose file. In Dockerfiles the `NAME=literal` entry
//! of `ENV` is removed (the whole instruction when it sets nothing else): pass the value
//! when the container starts (compose `environment:`, `docker run -e NAME`, or a
//! BuildKit secret mount). It does not become `ENV NAME=${NAME}`, which with no `ARG
//! NAME` bakes an empty value into an image that looks configured. `ARG NAME=literal`
//! loses its default (pass `--build-arg NAME`). For
//! secrets needed only while building, prefer `RUN --mount=type=secret`: build args
//! are still recorded in the image history.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use crate::language::Language;
use crate::rules::query::{LazyQuery, captured, compile_with_captures};
use crate::rules::secrets::{
    has_inline_password, is_address, is_key_name, is_secret_name, looks_like_key, names_itself,
};
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, line_end,
    line_start, named_children, node_text, walk_tree,
};

pub const RULE: Rule = Rule {
    id: "docker-hardcoded-secret",
    languages: &[Language::Dockerfile, Language::Compose],
    default_severity: Severity::Error,
    security: true,
    fix: FixAvailability::Always(FixSafety::Unsafe),
    summary: "A literal secret in a Dockerfile ENV/ARG or a compose `environment:`",
    triggers: &["env", "arg", "environment"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::NONE,
};

static DOCKERFILE_QUERY: LazyQuery<1> = LazyQuery::new(|| {
    compile_with_captures(
        Language::Dockerfile,
        include_str!("../../../queries/dockerfile/docker-hardcoded-secret.scm"),
        ["pair"],
    )
});

static COMPOSE_QUERY: LazyQuery<1> = LazyQuery::new(|| {
    compile_with_captures(
        Language::Compose,
        include_str!("../../../queries/compose/docker-hardcoded-secret.scm"),
        ["environment"],
    )
});

fn check(context: &Context, findings: &mut Vec<Finding>) {
    match context.language {
        Language::Dockerfile => check_dockerfile(context, findings),
        Language::Compose => check_compose(context, findings),
        Language::Python | Language::Sql => {}
    }
}

/// Why a name/value pair is a hardcoded secret, for the message.
fn secret_reason(name: &str, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || value.contains('$') {
        return None;
    }
    let is_switch = ["true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|switch| value.eq_ignore_ascii_case(switch));
    if has_inline_password(value) {
        return Some("a connection URL with an inline password");
    }
    let secret = is_secret_name(name) || (is_key_name(name) && looks_like_key(value));
    (secret && !is_switch && !is_address(value) && !names_itself(name, value))
        .then_some("a literal secret")
}

/// A value that is one substitution with a literal default, `${NAME:-default}` or
/// `${NAME-default}`: the variable's name, the default, and where the default starts
/// and the `:-`/`-` before it starts in the value. `${NAME:?message}` has no default
/// (compose stops when the variable is unset).
fn substitution_default(value: &str) -> Option<(&str, &str, usize, usize)> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let name_end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let (variable, rest) = inner.split_at(name_end);
    let operator = if rest.starts_with(":-") {
        2
    } else if rest.starts_with('-') {
        1
    } else {
        return None;
    };
    let default = &rest[operator..];
    // A nested substitution is not a literal.
    if default.contains(['$', '{', '}']) || variable.is_empty() {
        return None;
    }
    let operator_start = 2 + name_end;
    Some((variable, default, operator_start + operator, operator_start))
}

/// The finding for the literal default of `${NAME:-default}` under `name`, at the
/// default (`value_start` is where the value starts in the source): a warning, since
/// the variable usually is set; the fix makes compose stop when it is not.
fn default_finding(name: &str, value: &str, value_start: usize) -> Option<Finding> {
    let (variable, default, default_start, operator_start) = substitution_default(value)?;
    let reason = secret_reason(name, default)?;
    let start = value_start + default_start;
    let mut finding = RULE.finding(
        start..start + default.len(),
        format!(
            "`{name}` falls back to {reason} when `{variable}` is unset; anyone who can read the repository knows the fallback"
        ),
    );
    finding.severity = Severity::Warning;
    let operator = value_start + operator_start;
    finding.fix = Some(Fix::unsafe_(
        format!(
            "Require `{variable}` instead (`${{{variable}:?...}}`: compose stops when it is unset)"
        ),
        vec![Edit::replace(
            operator..start + default.len(),
            format!(":?set {variable}"),
        )],
    ));
    Some(finding)
}

fn message(name: &str, reason: &str) -> String {
    format!("`{name}` holds {reason}; it ends up in the image or the repository for anyone to read")
}

fn check_dockerfile(context: &Context, findings: &mut Vec<Finding>) {
    let (query, [pair_index]) = DOCKERFILE_QUERY.get();
    let source = context.source;
    let Some(root) = context.root() else {
        return;
    };
    query.for_each_match(root, source, |found| {
        let Some(pair) = captured(found, *pair_index) else {
            return;
        };
        let Some(name) = pair.child_by_field_name("name") else {
            return;
        };
        let field = if pair.kind() == "arg_pair" {
            "default"
        } else {
            "value"
        };
        let mut cursor = pair.walk();
        let values: Vec<Node> = pair.children_by_field_name(field, &mut cursor).collect();
        let (Some(first), Some(last)) = (values.first(), values.last()) else {
            return;
        };
        let value_range = first.start_byte()..last.end_byte();
        let raw_value = source.get(value_range.clone()).unwrap_or("");
        let name_text = node_text(name, source);
        let Some(reason) = secret_reason(name_text, unquote(raw_value)) else {
            return;
        };
        let mut finding = RULE.finding(value_range.clone(), message(name_text, reason));
        finding.fix = Some(if pair.kind() == "arg_pair" {
            // `ARG NAME=literal` -> `ARG NAME`: the value comes from `--build-arg`.
            Fix::unsafe_(
                format!("Remove the default of `{name_text}` (pass it with `--build-arg`)"),
                vec![Edit::replace(name.end_byte()..value_range.end, "")],
            )
        } else {
            // Not `ENV NAME=${NAME}`: with no `ARG NAME` that is an empty value in an
            // image that looks configured. Without the entry, a missing value shows.
            Fix::unsafe_(
                format!(
                    "Remove `{name_text}` from the image (pass it at run time: compose `environment:`, `docker run -e`, or a BuildKit secret mount)"
                ),
                vec![remove_env_entry(source, pair)],
            )
        });
        findings.push(finding);
    });
}

/// Delete one `NAME=value` of an `ENV` instruction, or the whole instruction (and its
/// line break) when it sets nothing else.
fn remove_env_entry(source: &str, pair: Node) -> Edit {
    let siblings: Vec<Node> = pair.parent().map_or_else(Vec::new, |instruction| {
        named_children(instruction)
            .into_iter()
            .filter(|child| child.kind() == "env_pair")
            .collect()
    });
    let index = siblings
        .iter()
        .position(|sibling| sibling.id() == pair.id());
    let range = match index {
        Some(index) if siblings.len() > 1 => match siblings.get(index + 1) {
            // Up to the next entry, so `ENV A=1 \` + `B=2` keeps `ENV B=2` tidy.
            Some(next) => pair.start_byte()..next.start_byte(),
            None => siblings[index - 1].end_byte()..pair.end_byte(),
        },
        _ => {
            let instruction = pair.parent().unwrap_or(pair);
            let end = line_end(source, instruction.end_byte());
            let after_break = match source.get(end..) {
                Some(rest) if rest.starts_with("\r\n") => end + 2,
                Some(rest) if rest.starts_with('\n') => end + 1,
                _ => end,
            };
            line_start(source, instruction.start_byte())..after_break
        }
    };
    Edit::replace(range, "")
}

fn unquote(text: &str) -> &str {
    let trimmed = text.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = trimmed
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    trimmed
}

fn check_compose(context: &Context, findings: &mut Vec<Finding>) {
    let (query, [environment_index]) = COMPOSE_QUERY.get();
    let Some(root) = context.root() else {
        return;
    };
    let anchors = anchors_of(root, context.source);
    let mut found = Vec::new();
    query.for_each_match(root, context.source, |matched| {
        if let Some(environment) = captured(matched, *environment_index) {
            check_environment(context, &anchors, environment, 0, &mut found);
        }
    });
    // An anchor's literal reached through several aliases is one finding.
    found.sort_by_key(|finding: &Finding| (finding.range.start, finding.range.end));
    found.dedup_by_key(|finding| finding.range.clone());
    findings.extend(found);
}

/// How many aliases and merge keys (`<<: *env`) are followed into one another.
const MAX_ALIAS_DEPTH: u8 = 8;

/// The entries of an `environment:` value: a mapping or a list, written in place or
/// reached through an alias (`environment: *common-env`), with the mappings that merge
/// keys bring in (`<<: *common-env`). Findings stand at the literal, in the anchor.
fn check_environment(
    context: &Context,
    anchors: &Anchors,
    environment: Node,
    depth: u8,
    findings: &mut Vec<Finding>,
) {
    if depth > MAX_ALIAS_DEPTH {
        return;
    }
    let Some(collection) = unwrap_node(environment) else {
        return;
    };
    match collection.kind() {
        "alias" => {
            if let Some(anchored) = anchors.resolve(collection, context.source) {
                check_environment(context, anchors, anchored, depth + 1, findings);
            }
        }
        "block_mapping" | "flow_mapping" => {
            let mut cursor = collection.walk();
            for pair in collection.named_children(&mut cursor) {
                let merged = pair
                    .child_by_field_name("key")
                    .is_some_and(|key| node_text(key, context.source).trim() == "<<");
                match (merged, pair.child_by_field_name("value")) {
                    (true, Some(value)) => {
                        check_merged(context, anchors, value, depth + 1, findings);
                    }
                    (false, _) => check_compose_pair(context, pair, findings),
                    (true, None) => {}
                }
            }
        }
        "block_sequence" | "flow_sequence" => {
            for item in sequence_items(collection) {
                if let Some(scalar) = scalar_of(item) {
                    check_compose_list_item(context, scalar, findings);
                }
            }
        }
        _ => {}
    }
}

/// The value of a merge key: one alias, or a list of them (`<<: [*base, *extra]`).
fn check_merged(
    context: &Context,
    anchors: &Anchors,
    value: Node,
    depth: u8,
    findings: &mut Vec<Finding>,
) {
    let Some(inner) = unwrap_node(value) else {
        return;
    };
    if matches!(inner.kind(), "block_sequence" | "flow_sequence") {
        for item in sequence_items(inner) {
            check_environment(context, anchors, item, depth, findings);
        }
    } else {
        check_environment(context, anchors, value, depth, findings);
    }
}

/// The items of a block or flow sequence, past the `- ` of block items.
fn sequence_items(sequence: Node) -> Vec<Node> {
    named_children(sequence)
        .into_iter()
        .filter_map(|item| {
            if item.kind() == "block_sequence_item" {
                item.named_child(0)
            } else {
                Some(item)
            }
        })
        .collect()
}

/// The nodes a compose file anchors (`&name`), by name: the last one of a name wins,
/// as YAML's aliases refer to the nearest anchor before them.
struct Anchors<'t>(Vec<(&'t str, Node<'t>)>);

impl<'t> Anchors<'t> {
    /// The anchored node an `alias` node names.
    fn resolve(&self, alias: Node, source: &str) -> Option<Node<'t>> {
        let name = node_text(alias, source).trim().strip_prefix('*')?;
        self.0
            .iter()
            .rev()
            .filter(|(_, node)| node.start_byte() < alias.start_byte())
            .find(|(anchor, _)| *anchor == name)
            .map(|(_, node)| *node)
    }
}

fn anchors_of<'t>(root: Node<'t>, source: &'t str) -> Anchors<'t> {
    let mut anchors = Vec::new();
    // Most compose files have none.
    if !source.contains('&') {
        return Anchors(anchors);
    }
    walk_tree(root, |node| {
        if node.kind() == "anchor"
            && let (Some(name), Some(anchored)) = (
                node_text(node, source).trim().strip_prefix('&'),
                node.parent(),
            )
        {
            anchors.push((name, anchored));
        }
    });
    Anchors(anchors)
}

/// The collection or scalar under `block_node`/`flow_node` wrappers (past an anchor,
/// a tag or a comment).
fn unwrap_node(node: Node) -> Option<Node> {
    match node.kind() {
        "block_node" | "flow_node" => node
            .named_children(&mut node.walk())
            .find(|child| !matches!(child.kind(), "comment" | "anchor" | "tag")),
        _ => Some(node),
    }
}

fn scalar_of(node: Node) -> Option<Node> {
    let inner = unwrap_node(node)?;
    matches!(
        inner.kind(),
        "plain_scalar" | "double_quote_scalar" | "single_quote_scalar"
    )
    .then_some(inner)
}

/// `KEY: value` in an `environment:` mapping.
fn check_compose_pair(context: &Context, pair: Node, findings: &mut Vec<Finding>) {
    let source = context.source;
    let (Some(key), Some(value)) = (
        pair.child_by_field_name("key"),
        pair.child_by_field_name("value"),
    ) else {
        return;
    };
    let Some(value) = scalar_of(value) else {
        return;
    };
    let name = unquote(node_text(key, source));
    let raw = node_text(value, source);
    let unquoted = unquote(raw);
    let Some(reason) = secret_reason(name, unquoted) else {
        let quote = usize::from(value.kind() != "plain_scalar");
        findings.extend(default_finding(name, unquoted, value.start_byte() + quote));
        return;
    };
    let mut finding = RULE.finding(value.byte_range(), message(name, reason));
    let reference = format!("${{{name}}}");
    // Keep the scalar's quotes; in flow style (`{...}`) a bare `{` would end the mapping.
    let edit = if value.kind() == "plain_scalar" {
        let in_flow = pair.kind() == "flow_pair";
        Edit::replace(
            value.byte_range(),
            if in_flow {
                format!("\"{reference}\"")
            } else {
                reference
            },
        )
    } else {
        Edit::replace(
            value.start_byte() + 1..value.end_byte().saturating_sub(1),
            reference,
        )
    };
    finding.fix = Some(Fix::unsafe_(
        format!("Replace the literal with `${{{name}}}` (value from `.env`)"),
        vec![edit],
    ));
    findings.push(finding);
}

/// `- KEY=value` in an `environment:` list.
fn check_compose_list_item(context: &Context, scalar: Node, findings: &mut Vec<Finding>) {
    let source = context.source;
    let text = node_text(scalar, source);
    let quote_width = if scalar.kind() == "plain_scalar" {
        0
    } else {
        1
    };
    let Some(inner) = text.get(quote_width..text.len().saturating_sub(quote_width)) else {
        return;
    };
    let Some((name, value)) = inner.split_once('=') else {
        return;
    };
    let value_start = scalar.start_byte() + quote_width + name.len() + 1;
    let Some(reason) = secret_reason(name.trim(), value) else {
        findings.extend(default_finding(name.trim(), value, value_start));
        return;
    };
    let value_range = value_start..value_start + value.len();
    let name = name.trim();
    let mut finding = RULE.finding(value_range.clone(), message(name, reason));
    finding.fix = Some(Fix::unsafe_(
        format!("Replace the literal with `${{{name}}}` (value from `.env`)"),
        vec![Edit::replace(value_range, format!("${{{name}}}"))],
    ));
    findings.push(finding);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(is_secret_name("stripe_api_key"));
        assert!(is_secret_name("BASIC_AUTH"));
        assert!(is_secret_name("SENTRY_DSN"));
        assert!(!is_secret_name("AUTHOR"));
        assert!(!is_secret_name("TOKEN_TTL"));
        assert!(!is_secret_name("DB_PASSWORD_FILE"));
        assert!(has_inline_password("postgres://app:pw@db:5432/app"));
        assert!(!has_inline_password("postgres://app@db/app"));
        assert!(!has_inline_password("redis://db:6379/0"));
        assert_eq!(secret_reason("SECRET_KEY", "${SECRET_KEY}"), None);
        assert_eq!(secret_reason("SECRET_KEY", ""), None);
    }

    #[test]
    fn substitution_defaults() {
        assert_eq!(
            substitution_default("${DB_PASSWORD:-hunter2}"),
            Some(("DB_PASSWORD", "hunter2", 15, 13))
        );
        assert_eq!(
            substitution_default("${DB_PASSWORD-hunter2}"),
            Some(("DB_PASSWORD", "hunter2", 14, 13))
        );
        assert_eq!(substitution_default("${DB_PASSWORD:?set it}"), None);
        assert_eq!(substitution_default("${DB_PASSWORD}"), None);
        assert_eq!(substitution_default("${A:-${B}}"), None);
        assert_eq!(substitution_default("x${A:-b}"), None);
    }
}
