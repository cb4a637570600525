//! What makes a name hold a secret and a value look like one: shared by the Docker,
//! compose and Python rules about hardcoded secrets.

use std::sync::LazyLock;

use regex::Regex;

/// Markers that make a name secret wherever they appear in it.
const SECRET_MARKERS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];
/// Short markers that must be a whole `_`-separated word (`AUTH` but not `AUTHOR`).
const SECRET_WORDS: &[&str] = &["AUTH", "DSN"];
/// Last words of names that configure a secret rather than hold one.
const NON_SECRET_SUFFIXES: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRE",
    "EXPIRATION",
    "LENGTH",
    "LEN",
    "ENABLED",
    "DISABLED",
    "ENABLE",
    "DISABLE",
    "TIMEOUT",
    "SECONDS",
    "MINUTES",
    "HOURS",
    "DAYS",
    "AGE",
    "ALGORITHM",
    "TYPE",
    "NAME",
    "HEADER",
    "URL",
    "HOST",
    "PORT",
    "USER",
    "USERNAME",
    "ID",
    "ISSUER",
    "AUDIENCE",
    "SCOPE",
    "SCOPES",
    "PROVIDER",
    "BACKEND",
    "MODE",
    "METHOD",
    "VERSION",
    "REGION",
    "ENDPOINT",
];

pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if NON_SECRET_SUFFIXES.contains(last) {
        return false;
    }
    SECRET_MARKERS.iter().any(|marker| upper.contains(marker))
        || words.iter().any(|word| SECRET_WORDS.contains(word))
}

/// `scheme://user:password@host` with a non-empty literal password.
pub fn has_inline_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((user_info, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    user_info
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty())
}

/// Credentials with a recognisable shape, whatever name they are stored under:
/// `(what it is, the environment variable a fix reads it from, pattern)`.
static KNOWN_FORMATS: LazyLock<Vec<(&'static str, Option<&'static str>, Regex)>> =
    LazyLock::new(|| {
        [
            (
                "an AWS access key id",
                Some("AWS_ACCESS_KEY_ID"),
                r"^(AKIA|ASIA)[0-9A-Z]{16}$",
            ),
            (
                "a Stripe live secret key",
                Some("STRIPE_API_KEY"),
                r"^(sk|rk)_live_[0-9A-Za-z]{16,}$",
            ),
            (
                "a GitHub token",
                Some("GITHUB_TOKEN"),
                r"^(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})$",
            ),
            (
                "a Slack token",
                Some("SLACK_TOKEN"),
                r"^xox[abposr]-[0-9A-Za-z-]{10,}$",
            ),
            (
                "a JSON Web Token",
                None,
                r"^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}$",
            ),
        ]
        .into_iter()
        .filter_map(|(what, variable, pattern)| Some((what, variable, Regex::new(pattern).ok()?)))
        .collect()
    });

/// What a literal is, when it has the shape of a known credential.
pub fn known_format(value: &str) -> Option<(&'static str, Option<&'static str>)> {
    KNOWN_FORMATS
        .iter()
        .find(|(_, _, pattern)| pattern.is_match(value))
        .map(|(what, variable, _)| (*what, *variable))
}

/// Words a file must contain for a hardcoded secret to be in it: secret-like names, a
/// URL, then the first bytes of every known credential format (`KNOWN_FORMAT_PREFIXES`,
/// which starts at `FORMAT_PREFIXES_START`).
pub const SECRET_TRIGGERS: &[&str] = &[
    "passw",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "access_key",
    "credential",
    "auth",
    "dsn",
    "://",
    "AKIA",
    "ASIA",
    "sk_live_",
    "rk_live_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "eyJ",
];
const FORMAT_PREFIXES_START: usize = 11;

/// The first bytes of every known format, for prefilters.
pub const KNOWN_FORMAT_PREFIXES: &[&str] = SECRET_TRIGGERS.split_at(FORMAT_PREFIXES_START).1;

/// Values that stand for a secret instead of being one: empty, a reference
/// (`${X}`, `{{ x }}`, `<token>`), or one character repeated (`xxxx`, `****`).
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let mut chars = value.chars();
    let first = chars.next();
    value.is_empty()
        || value.starts_with('$')
        || value.starts_with("{{")
        || (value.starts_with('<') && value.ends_with('>'))
        || first.is_some_and(|first| chars.all(|c| c == first))
}

/// `dbPassword`, `self.api_key`, `db-password` -> `DB_PASSWORD`, `API_KEY`.
pub fn environment_variable_name(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    let mut out = String::new();
    let mut previous_lower = false;
    for c in last.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_prefixes_are_the_tail_of_the_trigger_words() {
        assert_eq!(KNOWN_FORMAT_PREFIXES.first(), Some(&"AKIA"));
        assert_eq!(SECRET_TRIGGERS[FORMAT_PREFIXES_START - 1], "://");
        for sample in [
            "AKIAIOSFODNN7EXAMPLE",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "xoxb-1234567890-abcdefghij",
        ] {
            assert!(known_format(sample).is_some());
            assert!(
                KNOWN_FORMAT_PREFIXES
                    .iter()
                    .any(|prefix| sample.starts_with(prefix))
            );
        }
    }

    #[test]
    fn known_formats_and_names() {
        assert_eq!(
            known_format("AKIAIOSFODNN7EXAMPLE").map(|f| f.0),
            Some("an AWS access key id")
        );
        assert_eq!(
            known_format("sk_live_4eC39HqLyjWDarjtT1zdp7dc").map(|f| f.1),
            Some(Some("STRIPE_API_KEY"))
        );
        assert!(known_format("sk_test_4eC39HqLyjWDarjtT1zdp7dc").is_none());
        assert!(known_format("AKIA-not-a-key").is_none());
        assert_eq!(environment_variable_name("self.dbPassword"), "DB_PASSWORD");
        assert_eq!(environment_variable_name("api-key"), "API_KEY");
        assert!(
            is_placeholder("<your token>") && is_placeholder("****") && !is_placeholder("hunter2")
        );
    }
}
