//! What makes a name hold a secret and a value look like one: shared by the Docker,
//! compose and Python rules about hardcoded secrets.

use std::sync::LazyLock;

use regex::Regex;

/// Words that make a name secret (`DB_PASSWORD`, `accessToken`, `SENTRY_DSN`); a word
/// must be whole: `TOKENS`, `MAX_TOKENS` and `SUPERTOKENS` are not `TOKEN`.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "AUTH",
    "DSN",
];
/// Word pairs that make a name secret (`STRIPE_API_KEY`, `privateKey`).
const SECRET_PAIRS: &[(&str, &str)] = &[("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY")];
/// Words that end a secret name without a separator before them (`DBPASSWORD`,
/// `CLIENTSECRET`).
const SECRET_ENDINGS: &[&str] = &["PASSWORD", "PASSWD", "SECRET"];
/// Short words that are secret as the last of several (`DB_PASS`, `SMTP_PWD`; `PWD`
/// alone is the shell's working directory).
const SECRET_LAST_WORDS: &[&str] = &["PASS", "PWD"];
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
    // The shape or label of a secret, not the secret (`TOKEN_PREFIX = "polar_at_"`).
    "PREFIX",
    "SUFFIX",
    "PATTERN",
    "REGEX",
    "FORMAT",
    "FIELD",
    "LABEL",
    "TEMPLATE",
    "PLACEHOLDER",
    "HINT",
    "DESCRIPTION",
    "COMMENT",
    "TITLE",
    "MESSAGE",
    // What a message about a secret says (`PASSWORD_RESET_SUBJECT`), and how it is used.
    "SUBJECT",
    "BODY",
    "TEXT",
    "PROMPT",
    "FIELDS",
    "ALGORITHMS",
    "POLICY",
];

/// The words of a name, upper-cased: split at anything but letters and digits, and
/// where camelCase changes case (`tokenUrl` is `TOKEN`, `URL`; `APIKey` is `API`,
/// `KEY`).
pub fn name_words(name: &str) -> Vec<String> {
    super::words::identifier_words(name)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// Whether a name says it holds a secret, by its words: a secret word
/// (`SECRET_WORDS`), a pair (`API_KEY`), a word ending in one (`DBPASSWORD`), or
/// `PASS`/`PWD` last; unless its last word says it configures one (`TOKEN_URL`,
/// `PASSWORD_FILE`).
pub fn is_secret_name(name: &str) -> bool {
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NON_SECRET_SUFFIXES.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|word| {
        SECRET_WORDS.contains(&word.as_str())
            || SECRET_ENDINGS.iter().any(|ending| word.ends_with(ending))
    }) || words.windows(2).any(|pair| {
        SECRET_PAIRS
            .iter()
            .any(|(first, second)| pair[0] == *first && pair[1] == *second)
    }) || (words.len() > 1 && SECRET_LAST_WORDS.contains(&last.as_str()))
}

/// A name whose last `_`-separated word is `KEY` (`SIGNING_KEY`, `fernet_key`), and
/// that `is_secret_name` does not settle: it holds a secret when its value looks like
/// one (`looks_like_key`), and a setting otherwise (`CACHE_KEY = "users"`).
pub fn is_key_name(name: &str) -> bool {
    name.rsplit('_').next().is_some_and(|last| last.eq_ignore_ascii_case("KEY"))
        && name.contains('_')
        && !is_secret_name(name)
        // Keys meant to be seen (`STRIPE_PUBLISHABLE_KEY`, `VAPID_PUBLIC_KEY`,
        // `RECAPTCHA_SITE_KEY`) or for a test account.
        && !name_words(name)
            .iter()
            .any(|word| matches!(word.as_str(), "PUBLIC" | "PUBLISHABLE" | "SITE" | "TEST"))
}

/// A value with the look of a generated key: 16 characters or more, no spaces, at
/// least two of lower case, upper case and digits (hex and base64 keys; not words and
/// identifiers), and random-looking (3 bits of entropy per character or more).
pub fn looks_like_key(value: &str) -> bool {
    if value.len() < 16 || value.contains(char::is_whitespace) {
        return false;
    }
    // Mixed throughout, not a word with a digit in it (`polar_oauth2_session_state`):
    // the second most common class is a fifth of the letters and digits or more.
    let mut classes = [
        value.bytes().filter(u8::is_ascii_lowercase).count(),
        value.bytes().filter(u8::is_ascii_uppercase).count(),
        value.bytes().filter(u8::is_ascii_digit).count(),
    ];
    classes.sort_unstable();
    let alphanumeric: usize = classes.iter().sum();
    if classes[1] * 5 < alphanumeric {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for byte in value.bytes() {
        *counts.entry(byte).or_insert(0usize) += 1;
    }
    let length = value.len() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&count| {
            let share = count as f64 / length;
            -share * share.log2()
        })
        .sum();
    entropy >= 3.0
}

/// A value that spells its own name of two words or more, or its last word
/// (`access_token = "access_token"`, `client_secret = "polar_client_secret"` in an enum,
/// `PK_TOKEN = "token"`, a field or a parameter name), or another variable's name (`SECRET_ENV_KEY = "WEBHOOK_SECRET"`):
/// a label, not a secret. A one-word name keeps its value (`password = "password"` is
/// a weak password).
pub fn names_itself(name: &str, value: &str) -> bool {
    let letters = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let name = name.rsplit('.').next().unwrap_or(name);
    let words = name_words(name);
    let spells_name = words.len() >= 2
        && !value.is_empty()
        && (letters(value).contains(&letters(name))
            // Its last word alone (`PK_TOKEN = "token"`): a key or column name.
            || words
                .last()
                .is_some_and(|last| letters(value) == last.to_ascii_lowercase()));
    let variable_name = value.contains('_')
        && value.starts_with(|c: char| c.is_ascii_uppercase())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    spells_name || variable_name
}

/// A URL with no credentials in it, or a path (`/api/v1/login`): not a secret under
/// any name (`tokenUrl`, `SUPERTOKENS_CONNECTION_URI`). A URL with a user part
/// (Sentry's DSN carries its key there) is judged by its name.
pub fn is_address(value: &str) -> bool {
    let value = value.trim();
    let url_without_credentials = value.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        !authority.contains('@')
    });
    url_without_credentials || (value.starts_with('/') && !value.contains(char::is_whitespace))
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

/// Words a file must contain for a hardcoded secret to be in it: secret-like names,
/// Authorization schemes, a URL, then the first bytes of every known credential format
/// (`KNOWN_FORMAT_PREFIXES`, which starts at `FORMAT_PREFIXES_START`).
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
    "_key",
    // Authorization header values (`"Bearer ..."`; `Token` is a word above).
    "bearer ",
    "basic ",
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
const FORMAT_PREFIXES_START: usize = 14;

/// The first bytes of every known format, for prefilters.
pub const KNOWN_FORMAT_PREFIXES: &[&str] = SECRET_TRIGGERS.split_at(FORMAT_PREFIXES_START).1;

/// Words of stand-in values that nobody deploys (`"your-api-key"`, `"DummyKey"`). A
/// known default such as `"changeme"` is still a secret: a deployment that keeps it
/// runs with a password everyone knows.
const STAND_IN_WORDS: &[&str] = &["dummy", "example", "placeholder", "your-", "your_"];

/// Values made only of these words are stand-ins too (`"test"`, `"bar:bar"`, `"foo"`).
const STAND_IN_VALUES: &[&str] = &[
    "test", "testing", "foo", "bar", "baz", "qux", "fake", "mock", "sample", "valid", "invalid",
];

/// Values that stand for a secret instead of being one: empty, a reference
/// (`${X}`, `{{ x }}`, `<token>`), one character repeated (`xxxx`, `****`), a
/// stand-in (`"your-api-key"`, `"DummyKey"`), or only stand-in words (`"test"`,
/// `"bar:bar"`).
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let mut chars = value.chars();
    let first = chars.next();
    let lowered = value.to_ascii_lowercase();
    // A known format's prefix says nothing of the rest (`"xoxb-valid"`, `"sk_test_fake"`).
    let is_format_prefix = |word: &str| {
        // Slack's `xoxb`, `xoxp`, ... share the prefix `xox`.
        (word.len() == 4 && word.starts_with("xox"))
            || KNOWN_FORMAT_PREFIXES.iter().any(|prefix| {
                prefix
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|part| !part.is_empty() && part.eq_ignore_ascii_case(word))
            })
    };
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let only_stand_in_words = words.iter().any(|word| STAND_IN_VALUES.contains(word))
        && words
            .iter()
            .all(|word| STAND_IN_VALUES.contains(word) || is_format_prefix(word));
    STAND_IN_WORDS.iter().any(|word| lowered.contains(word))
        || (only_stand_in_words && !value.is_empty())
        || value.is_empty()
        || value.starts_with('$')
        || value.starts_with("{{")
        // A format field (`"{token}"`).
        || (value.starts_with('{') && value.ends_with('}') && !value.contains(char::is_whitespace))
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

    #[test]
    fn secret_names_are_words() {
        for name in [
            "DB_PASSWORD",
            "dbPassword",
            "DBPASSWORD",
            "accessToken",
            "TOKEN",
            "GITHUB_TOKEN",
            "stripe_api_key",
            "APIKey",
            "privateKey",
            "client_secret",
            "SENTRY_DSN",
            "BASIC_AUTH",
            "DB_PASS",
            "SMTP_PWD",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "MAX_TOTAL_TOKENS",
            "TOKENS",
            "SUPERTOKENS_CONNECTION_URI",
            "tokenUrl",
            "TOKEN_TTL",
            "DB_PASSWORD_FILE",
            "AUTHOR",
            "PWD",
            "PASSENGER",
            "SIGNING_KEY",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
        assert_eq!(name_words("APIKey_v2"), ["API", "KEY", "V2"]);
        assert_eq!(name_words("tokenURL"), ["TOKEN", "URL"]);
    }

    #[test]
    fn key_names_hold_secrets_when_their_values_look_like_keys() {
        assert!(is_key_name("SIGNING_KEY") && is_key_name("fernet_key"));
        assert!(!is_key_name("KEY") && !is_key_name("API_KEY") && !is_key_name("monkey"));
        assert!(!is_key_name("STRIPE_PUBLISHABLE_KEY") && !is_key_name("STRIPE_TEST_KEY"));
        assert!(looks_like_key("x9F2kQ7pL0vR3sT8wY1zB4nM6cD5hJ"));
        assert!(!looks_like_key("users"));
        assert!(!looks_like_key("user_profile_cache_prefix"));
        assert!(!looks_like_key("aaaaaaaaaaaaaaaaaaaa"));
        assert!(!looks_like_key("a1a1a1a1a1a1a1a1a1a1"));
        assert!(!looks_like_key("polar_oauth2_session_state"));
        assert!(names_itself("ACCESS_TOKEN", "access_token"));
        assert!(names_itself("self.clientSecret", "client-secret"));
        assert!(!names_itself("TOKEN", "t0ken-value"));
        assert!(!names_itself("password", "password"));
        assert!(names_itself("client_secret", "polar_client_secret"));
        assert!(names_itself("WEBHOOK_SECRET_ENV", "POLAR_WEBHOOK_SECRET"));
        assert!(!names_itself("DB_PASSWORD", "Hunter2_x"));
        assert!(is_placeholder("{token}") && !is_placeholder("{not a field"));
        assert!(is_placeholder("DummyKey") && is_placeholder("your-api-key-here"));
        assert!(!is_placeholder("changethis") && !is_placeholder("s3cr3t-value"));
        assert!(!is_secret_name("TOKEN_PREFIX") && !is_secret_name("API_KEY_HINT"));
        assert!(looks_like_key("9f86d081884c7d659a2feaa0c55ad015"));
        assert!(is_address("/api/v1/login/access-token"));
        assert!(is_address("http://supertokens:3567"));
        assert!(!is_address("postgres://app:hunter2@db/app"));
        assert!(!is_address("hunter2"));
        assert!(!is_address("https://abc123@o0.ingest.sentry.io/42"));
    }
}
