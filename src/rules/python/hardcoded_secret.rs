//! ## What it does
//! Finds secrets written into Python source:
//! - string literals assigned to, passed as, or defaulted for a name that holds a secret,
//!   read as words in any case or style (`password`, `passwd`, `secret`, `token`,
//!   `api_key`, `private_key`, `access_key`, `credentials`, `auth`, `dsn`; `pass` or
//!   `pwd` last): `DB_PASSWORD = "..."`, `self.api_key = "..."`, `settings["SECRET_KEY"]
//!   = "..."`, `connect(password="...")`, `def login(token="...")`, `{"client_secret":
//!   "..."}`. A name that ends in `_KEY` (`SIGNING_KEY`) holds a secret when its value
//!   looks like a generated key (16 characters or more, mixed classes, random);
//!   `PUBLIC`, `PUBLISHABLE`, `SITE` and `TEST` keys do not;
//! - literal fallbacks for such a variable: `os.getenv("DB_PASSWORD", "...")`,
//!   `os.environ.get(...)`, `os.environ.setdefault(...)`, and the `default=` of a
//!   settings read (`config("ADMIN_PASSWORD", default="...")` of Starlette or
//!   python-decouple, environs' `env.str(...)`);
//! - connection URLs with an inline password (`postgresql://app:pw@db/app`) and
//!   Authorization header values (`"Bearer abc123..."`);
//! - literals shaped like a known credential whatever their name: AWS access key ids,
//!   Stripe live keys, GitHub and Slack tokens, JSON Web Tokens.
//!
//! The default of a field of a pydantic `BaseSettings` class (`JWT_SECRET: str =
//! "..."`) is reported as a warning: the environment overrides it, but a deployment
//! that forgets to set it runs with a value everyone can read.
//!
//! Names that configure or describe a secret rather than hold one (`TOKEN_TTL`,
//! `PASSWORD_FILE`, `tokenUrl`, `PASSWORD_RESET_SUBJECT`, `JWT_ALGORITHMS`), names where
//! the word is only a part (`MAX_TOKENS`, `AUTHOR`), placeholders (`""`, `"<token>"`,
//! `"${TOKEN}"`, `"xxxx"`, `"your-api-key"`, `"DummyKey"`, `"test"`, `"bar:bar"`,
//! `"xoxb-valid"`),
//! values of four characters or fewer (a marker such as `password="SSO"`, a field's
//! name), URLs with no credentials and paths (`"/api/v1/login"`) under any name, and
//! test files are not reported.
//!
//! ## Why is this bad?
//! A secret in the source is in every clone, fork, CI log and backup of the repository,
//! for as long as its history exists; rotating it means finding every copy. Leaked keys
//! are found by scanners within minutes of a push to a public repository.
//!
//! ## Example
//! ```python
//! STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
//! engine = create_engine(os.getenv("DATABASE_URL", "postgresql://app:hunter2@db/app"))
//! ```
//!
//! ## Use instead
//! ```python
//! STRIPE_KEY = os.environ["STRIPE_KEY"]
//! engine = create_engine(os.environ["DATABASE_URL"])
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix reads the value from the environment (`os.environ["NAME"]`, named
//! after the variable, adding `import os` when needed), so the program now fails at
//! start-up with a `KeyError` where the variable is not set. Rotate the leaked secret
//! too: it stays in the repository's history. JSON Web Tokens and values in dictionary
//! keys get no fix.
//!
//! ## Known problems
//! The name is read from the syntax around the literal; a secret passed positionally
//! (`connect("db", "hunter2")`) is only found when it has a known shape.

use ruff_python_ast::{Expr, ExprCall, ExprStringLiteral, Stmt};

use super::checker::{Checker, Hooks, Parent, ScopeKind, TextTest};
use super::header::ensure_module_import;
use super::helpers::string_value;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::secrets::{
    KNOWN_FORMAT_PREFIXES, SECRET_TRIGGERS, environment_variable_name, has_inline_password,
    is_address, is_key_name, is_placeholder, is_secret_name, known_format, looks_like_key,
    names_itself,
};
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, prefilter,
};
use crate::semantic::python::BindingKind;
use crate::semantic::python::imports::qualified_name_of;
use crate::semantic::python::kinds::SETTINGS_BASES;

pub const RULE: Rule = Rule {
    id: "hardcoded-secret",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: true,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A password, token or key written into Python source",
    triggers: SECRET_TRIGGERS,
    python_triggers: None,
    text_test: Some(may_hold_secret),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        string: Some(check),
        // What the text test looks for (a credential's shape, a name given a literal)
        // lies in the statement that holds the string; the shapes only where the
        // module has one.
        item_test: Some(|module| {
            Some(if has_known_format_or_scheme(module.source) {
                may_hold_secret as TextTest
            } else {
                may_name_or_embed_secret
            })
        }),
        ..Hooks::NONE
    }),
    // `CLIENTS`: which names are settings objects (`config("X", default=...)`).
    reads: Projections::IMPORTS
        .and(Projections::HEADER)
        .and(Projections::CLIENTS),
};

/// `os` functions whose second argument is a fallback for the variable named by the first.
const ENVIRONMENT_FALLBACKS: &[&str] = &["os.getenv", "os.environ.get", "os.environ.setdefault"];

/// What may stand between tokens (see `prefilter`), comments included.
const GAP: &str = r"(?:[\s\\\x00-\x1f\x7f$?!`]|[^\x00-\x7f]|#[^\n]*)*";

/// A name that may hold a secret, then (through a closing quote and bracket, an
/// annotation, `=`, `:`, `,` or `, default=`) a string literal: the shapes
/// `holder_of` reads. A name that ends in `_key` needs a literal of 16 characters
/// or more (`looks_like_key`).
static NAMED_LITERAL: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    // From the end of the name to a string literal's opening quote.
    let to_literal =
        format!(r#"["']?\]?{GAP}(?::[^=\n]*=|,{GAP}default{GAP}=|[=:,]){GAP}[rubf]{{0,2}}["']"#);
    regex::Regex::new(&format!(
        r#"(?i)(?:(?:passw|secret|token|api_?key|private_key|access_key|credential|auth|dsn)[a-z0-9_]*{to_literal}|_key{to_literal}\S{{16}})"#
    ))
    .ok()
});

/// The first bytes of every known credential format, and the Authorization schemes, as
/// one alternation of literals: the regex engine looks for them all in one vectorized
/// pass (four times faster over Django than a `memmem` search per word, which read a
/// text fifteen times where none is, as in most modules).
static FORMATS_AND_SCHEMES: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| {
        let words: Vec<String> = KNOWN_FORMAT_PREFIXES
            .iter()
            .chain(&["Bearer ", "Basic ", "Token "])
            .map(|word| regex::escape(word))
            .collect();
        regex::Regex::new(&words.join("|")).ok()
    });

/// Whether the text may hold a finding: a known credential shape, a URL with a
/// password, an Authorization value, or a secret-like name given a literal.
fn may_hold_secret(text: &str) -> bool {
    has_known_format_or_scheme(text) || may_name_or_embed_secret(text)
}

/// The first bytes of a known credential format, or an Authorization scheme.
fn has_known_format_or_scheme(text: &str) -> bool {
    // Without the pattern (it always compiles), every text may.
    FORMATS_AND_SCHEMES
        .as_ref()
        .is_none_or(|formats| formats.is_match(text))
}

/// A URL with a password, or a secret-like name given a literal.
fn may_name_or_embed_secret(text: &str) -> bool {
    prefilter::places_of(text, "://").any(|at| {
        let rest = &text[at + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        authority.find(':').is_some_and(|colon| authority[colon..].contains('@'))
    })
        // Without the pattern (it always compiles), every text may.
        || NAMED_LITERAL.as_ref().is_none_or(|pattern| pattern.is_match(text))
}

fn check(checker: &Checker, string: &ExprStringLiteral, findings: &mut Vec<Finding>) {
    if checker.in_test_file() {
        return;
    }
    // The parts of an implicit concatenation are judged one by one, as values alone.
    if string.value.is_implicit_concatenated() {
        for part in string.value.iter() {
            let range = checker.range(part);
            if let Some(finding) = check_literal(checker, range, &part.value, Holder::Other) {
                findings.push(finding);
            }
        }
        return;
    }
    let holder = holder_of(checker, string);
    if let Some(finding) = check_literal(
        checker,
        checker.range(string),
        string.value.to_str(),
        holder,
    ) {
        findings.push(finding);
    }
}

/// Where a literal stands, as far as secrets go.
enum Holder<'t> {
    /// Assigned to, passed as, or the default of this name.
    Named(String),
    /// The fallback in `os.getenv("NAME", literal)`: the call and the variable's name.
    Fallback(&'t ExprCall, String),
    /// A dictionary value under this key (no fix: the key is data, not a variable).
    DictionaryValue(String),
    /// A parameter's default (no fix: an environment lookup there runs at import time).
    ParameterDefault(String),
    /// The `default=` of a settings object's read (`config("NAME", default=...)`): no
    /// fix, the read already takes the environment first; the default should go.
    SettingDefault(String),
    /// The default of a field of a pydantic `BaseSettings` class (`SECRET: str =
    /// "..."`): the environment overrides it, so it is a fallback a deployment may
    /// forget to replace (a warning, no fix: the field should have no default).
    SettingsField(String),
    Other,
}

fn check_literal(
    checker: &Checker,
    literal: std::ops::Range<usize>,
    value: &str,
    holder: Holder,
) -> Option<Finding> {
    let (name, variable) = match &holder {
        Holder::Named(name) | Holder::DictionaryValue(name) | Holder::ParameterDefault(name) => {
            (Some(name.as_str()), Some(environment_variable_name(name)))
        }
        Holder::SettingDefault(variable) | Holder::SettingsField(variable) => {
            (Some(variable.as_str()), None)
        }
        Holder::Fallback(_, variable) => (Some(variable.as_str()), Some(variable.clone())),
        Holder::Other => (None, None),
    };
    let (reason, variable) = if let Some((what, format_variable)) = known_format(value) {
        // The format names the credential better than `token` or `api_key` does.
        (
            format!("a literal that looks like {what}"),
            format_variable.map(str::to_string),
        )
    } else if has_inline_password(value) {
        (
            "a connection URL with an inline password".to_string(),
            variable,
        )
    } else if is_header_credential(value) {
        (
            "a literal credential for an Authorization header".to_string(),
            None,
        )
    } else if name.is_some_and(|name| {
        is_secret_name(name) || (is_key_name(name) && looks_like_key(value))
    }) && !is_placeholder(value)
        && !is_switch(value)
        // Too short to be a credential anyone issues: a marker (`password="LDAP"`) or a
        // field's name (`"secret": "url"`).
        && value.chars().count() > 4
        // A URL without a password, or a path (`tokenUrl="/api/v1/login"`).
        && !is_address(value)
        // An enum member or a field name (`access_token = "access_token"`).
        && !name.is_some_and(|name| names_itself(name, value))
    {
        ("a literal secret".to_string(), variable)
    } else {
        return None;
    };
    let subject = name.map_or_else(|| "This string".to_string(), |name| format!("`{name}`"));
    let mut finding = if matches!(holder, Holder::SettingsField(_)) {
        let mut finding = RULE.finding(
            literal.clone(),
            format!(
                "{subject} defaults to {reason}: a deployment that does not set it runs with a value anyone who can read the repository knows; give the field no default"
            ),
        );
        finding.severity = Severity::Warning;
        finding
    } else {
        RULE.finding(
            literal.clone(),
            format!("{subject} holds {reason}; anyone who can read the repository can use it"),
        )
    };
    let fixable = matches!(
        holder,
        Holder::Named(_) | Holder::Fallback(..) | Holder::Other
    );
    let variable = variable.filter(|variable| fixable && !variable.is_empty());
    if let Some(variable) = variable {
        let (os, import) = ensure_module_import(checker, "os");
        let (range, replacement) = match holder {
            Holder::Fallback(call, _) => {
                let key = call
                    .arguments
                    .args
                    .first()
                    .map_or("", |key| checker.text(key));
                (checker.range(call), format!("{os}.environ[{key}]"))
            }
            _ => (literal, format!("{os}.environ[\"{variable}\"]")),
        };
        finding.fix = Some(Fix::unsafe_(
            format!("Read it from the environment: `{os}.environ[...]`"),
            import
                .into_iter()
                .chain([Edit::replace(range, replacement)])
                .collect(),
        ));
    }
    Some(finding)
}

/// Whether the walk is in the body of a pydantic `BaseSettings` subclass.
fn in_settings_class(checker: &Checker) -> bool {
    let ScopeKind::Class(class) = checker.scope().kind else {
        return false;
    };
    class.bases().iter().any(|base| {
        qualified_name_of(base, checker.imports())
            .is_some_and(|name| SETTINGS_BASES.contains(&name.as_str()))
    })
}

/// `Bearer <token>`, `Basic <credentials>`, `Token <token>`: an Authorization header's value.
fn is_header_credential(value: &str) -> bool {
    ["Bearer ", "Basic ", "Token "].iter().any(|scheme| {
        value.strip_prefix(scheme).is_some_and(|credential| {
            credential.len() >= 8
                && !is_placeholder(credential)
                && !credential.contains(['{', ' '])
                // A word (`"Basic Settings"`) is a title, not a credential.
                && !credential.chars().all(|c| c.is_ascii_alphabetic())
        })
    })
}

fn is_switch(value: &str) -> bool {
    ["true", "false", "yes", "no", "on", "off", "none", "null"]
        .iter()
        .any(|switch| value.eq_ignore_ascii_case(switch))
}

/// What holds `literal`, read from the node above it.
fn holder_of<'t>(checker: &Checker<'t, '_>, literal: &ExprStringLiteral) -> Holder<'t> {
    // The very node (an equal literal elsewhere in the statement is not it).
    let is_literal = |expression: &Expr| matches!(expression, Expr::StringLiteral(string) if std::ptr::eq(string, literal));
    match checker.parent() {
        Some(Parent::Statement(Stmt::Assign(assignment))) if is_literal(&assignment.value) => {
            // `a = b = "..."`: the name nearest the value.
            assignment
                .targets
                .last()
                .and_then(target_name)
                .map_or(Holder::Other, Holder::Named)
        }
        Some(Parent::Statement(Stmt::AnnAssign(assignment)))
            if assignment.value.as_deref().is_some_and(is_literal) =>
        {
            match target_name(&assignment.target) {
                Some(name) if in_settings_class(checker) => Holder::SettingsField(name),
                Some(name) => Holder::Named(name),
                None => Holder::Other,
            }
        }
        Some(Parent::Keyword(keyword)) => {
            if keyword.arg.as_deref() == Some("default")
                && let Some(holder) = setting_default(checker)
            {
                return holder;
            }
            keyword
                .arg
                .as_ref()
                .map_or(Holder::Other, |name| Holder::Named(name.to_string()))
        }
        Some(Parent::Parameter(parameter)) => {
            Holder::ParameterDefault(parameter.parameter.name.to_string())
        }
        Some(Parent::Expression(Expr::Dict(dictionary))) => dictionary
            .items
            .iter()
            .find(|item| is_literal(&item.value))
            .and_then(|item| item.key.as_ref())
            .map_or(Holder::Other, |key| {
                Holder::DictionaryValue(string_value(key).unwrap_or(checker.text(key)).to_string())
            }),
        Some(Parent::Expression(Expr::Call(call))) => fallback_of(checker, call, &is_literal),
        _ => Holder::Other,
    }
}

/// The `default=` of a setting read by name: `os.getenv("NAME", default=...)`, or a
/// settings object called or asked for it (Starlette's and python-decouple's
/// `config("NAME", default=...)`, environs' `env.str("NAME", default=...)`). The
/// literal is judged under the setting's name, as a fallback.
fn setting_default<'t>(checker: &Checker<'t, '_>) -> Option<Holder<'t>> {
    let [.., Parent::Expression(Expr::Call(call)), Parent::Keyword(_)] = checker.ancestors() else {
        return None;
    };
    let variable = call.arguments.args.first().and_then(string_value)?;
    if reads_environment(checker, call) {
        return Some(Holder::Fallback(call, variable.to_string()));
    }
    // `config(...)` itself, or a method of it (`env.str(...)`).
    let settings = match &*call.func {
        Expr::Attribute(method) => &*method.value,
        function => function,
    };
    (checker.kind_of(settings) == Some(BindingKind::Settings))
        .then(|| Holder::SettingDefault(variable.to_string()))
}

/// `os.getenv(...)`, `os.environ.get(...)`, `os.environ.setdefault(...)`: a read of
/// the environment whose second argument (or `default=`) is a fallback.
fn reads_environment(checker: &Checker, call: &ExprCall) -> bool {
    qualified_name_of(&call.func, checker.imports())
        .is_some_and(|name| ENVIRONMENT_FALLBACKS.contains(&name.as_str()))
}

/// `os.getenv("NAME", literal)`: the literal is the second positional argument.
fn fallback_of<'t>(
    checker: &Checker,
    call: &'t ExprCall,
    is_literal: &dyn Fn(&Expr) -> bool,
) -> Holder<'t> {
    let positional = &call.arguments.args;
    if !reads_environment(checker, call)
        || positional.get(1).is_none_or(|second| !is_literal(second))
    {
        return Holder::Other;
    }
    positional
        .first()
        .and_then(string_value)
        .map_or(Holder::Other, |variable| {
            Holder::Fallback(call, variable.to_string())
        })
}

/// The name an assignment target stands for: `x`, `self.x` (its attribute), or
/// `config["X"]` (its key).
fn target_name(target: &Expr) -> Option<String> {
    match target {
        Expr::Name(name) => Some(name.id.to_string()),
        Expr::Attribute(attribute) => Some(attribute.attr.to_string()),
        Expr::Subscript(subscript) => string_value(&subscript.slice).map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_test_admits_named_literals_and_key_shaped_values() {
        assert!(NAMED_LITERAL.is_some() && FORMATS_AND_SCHEMES.is_some());
        for text in [
            "DB_PASSWORD = 'x'",
            "config(\"ADMIN_PASSWORD\", default=\"x\")",
            "SIGNING_KEY = \"x9F2kQ7pL0vR3sT8wY1zB4nM6cD5hJ\"",
            "settings['signing_key'] = b'0123456789abcdef'",
        ] {
            assert!(may_name_or_embed_secret(text), "{text}");
        }
        for text in ["CACHE_KEY = \"users\"", "primary_key=True", "key = 'x'"] {
            assert!(!may_name_or_embed_secret(text), "{text}");
        }
    }
}
