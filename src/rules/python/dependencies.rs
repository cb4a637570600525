//! FastAPI dependencies and whether they authenticate, read the same way by
//! `missing-auth-dependency` in the module it audits and by the workspace index
//! (`index::python_facts`) for the dependencies, aliases and routers that other modules
//! import.
//!
//! A dependency authenticates when its name or body mentions authentication, word by
//! word (`auth...`, `token`, `permission`, `jwt`, `current user`, ...), when it takes a `Security(...)`, or when
//! one of the dependencies it takes itself (`Depends(x)` in its parameters) does.

use ruff_python_ast::{Expr, StmtFunctionDef};

use super::helpers::{AnyNode, any_node_in, called_name};

/// How a word (of an identifier, split at `_` and camelCase) says a dependency checks
/// who is calling.
enum AuthWord {
    /// The word starts with it: `auth` (`AuthContext`, `authenticate`, `authz`; not
    /// `author`), `oauth2`, `jwt`, `permissions`.
    Starts(&'static str),
    /// The word is it, or its plural: `scopes`, `roles`, `admin`.
    Is(&'static str),
    /// The word is it, not its plural: `token` (`max_tokens` counts text).
    Exactly(&'static str),
    /// The word is it and follows `before`: `current user`, `api key`.
    After(&'static str, &'static str),
}

/// Words in a dependency's name or body that mean it checks who is calling. `user`
/// alone is not one (`get_user_repo` opens a repository); `current user` is.
const AUTH_WORDS: &[AuthWord] = &[
    AuthWord::Starts("auth"),
    AuthWord::Starts("oauth"),
    AuthWord::Starts("jwt"),
    AuthWord::Starts("login"),
    AuthWord::Starts("permission"),
    AuthWord::Starts("credential"),
    AuthWord::Starts("principal"),
    AuthWord::Starts("hmac"),
    AuthWord::Starts("apikey"),
    AuthWord::Starts("superuser"),
    AuthWord::Starts("bearer"),
    AuthWord::Starts("signature"),
    AuthWord::Exactly("token"),
    AuthWord::Is("scope"),
    AuthWord::Is("role"),
    AuthWord::Is("admin"),
    AuthWord::Is("verify"),
    AuthWord::Is("password"),
    AuthWord::After("user", "current"),
    AuthWord::After("user", "active"),
    AuthWord::After("user", "authenticated"),
    AuthWord::After("user", "logged"),
    AuthWord::After("user", "request"),
    AuthWord::After("key", "api"),
    AuthWord::After("in", "logged"),
];

impl AuthWord {
    /// What the prefilter looks for: the word, or for a pair the word before, which is
    /// the rarer one (`in` of `logged in` is in every text).
    fn needle(&self) -> &'static str {
        match self {
            AuthWord::Starts(word)
            | AuthWord::Is(word)
            | AuthWord::Exactly(word)
            | AuthWord::After(_, word) => word,
        }
    }

    /// Whether `word` (lower case), after `before` (lower case), is this one.
    fn matches(&self, word: &str, before: &str) -> bool {
        match self {
            AuthWord::Starts("auth") => {
                word.starts_with("auth")
                    && (!word.starts_with("author") || word.starts_with("authoriz"))
            }
            AuthWord::Starts(start) => word.starts_with(start),
            AuthWord::Is(whole) => word.strip_suffix('s').unwrap_or(word) == *whole,
            AuthWord::Exactly(whole) => word == *whole,
            AuthWord::After(whole, previous) => word == *whole && before == *previous,
        }
    }
}

/// Whether a name or body mentions authentication, word by word (`AUTH_WORDS`). A
/// search for the words' letters anywhere comes first, with no copy: the incremental
/// audit asks this of every definition's body on each keystroke in a FastAPI module,
/// and most hold none of them.
pub fn mentions_auth(text: &str) -> bool {
    static MATCHER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(AUTH_WORDS.iter().map(AuthWord::needle))
                .unwrap_or_else(|error| panic!("auth words build a matcher: {error}"))
        });
    if !MATCHER.is_match(text) {
        return false;
    }
    let mut before = String::new();
    let mut lower = String::new();
    crate::rules::words::identifier_words(text).any(|word| {
        lower.clear();
        lower.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        let found = AUTH_WORDS.iter().any(|auth| auth.matches(&lower, &before));
        std::mem::swap(&mut before, &mut lower);
        found
    })
}

/// The dependencies an expression names: a parameter's default or annotation, an alias's
/// value, a `dependencies=[...]` list.
#[derive(Debug, Default)]
pub struct Dependencies<'e> {
    /// A `Security(...)` is among them: it checks the caller's scopes, whatever it calls.
    pub security: bool,
    /// The callable of each `Depends(x)` (`x`), in source order.
    pub callables: Vec<&'e Expr>,
}

impl<'e> Dependencies<'e> {
    /// Those named anywhere inside `expression`.
    pub fn in_expression(expression: &'e Expr) -> Dependencies<'e> {
        let mut found = Dependencies::default();
        found.add(expression);
        found
    }

    /// Those a function takes: its parameters' defaults and annotations
    /// (`user=Depends(get_user)`, `user: Annotated[User, Depends(get_user)]`).
    pub fn of_parameters(function: &'e StmtFunctionDef) -> Dependencies<'e> {
        let mut found = Dependencies::default();
        for parameter in function.parameters.iter() {
            for expression in parameter
                .default()
                .into_iter()
                .chain(parameter.annotation())
            {
                found.add(expression);
            }
        }
        found
    }

    pub fn is_empty(&self) -> bool {
        !self.security && self.callables.is_empty()
    }

    fn add(&mut self, expression: &'e Expr) {
        any_node_in(expression, |node| {
            let AnyNode::Expression(Expr::Call(call)) = node else {
                return false;
            };
            match called_name(call) {
                Some("Security") => self.security = true,
                Some("Depends") => {
                    let callable = call.arguments.args.first().or_else(|| {
                        call.arguments
                            .find_keyword("dependency")
                            .map(|keyword| &keyword.value)
                    });
                    self.callables.extend(callable);
                }
                _ => {}
            }
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_mention_authentication() {
        for name in [
            "get_current_user",
            "verify_jwt",
            "RequireAdmin",
            "check_API_KEY",
            "APIKeyHeader",
            "oauth2_scheme",
            "AuthContext",
            "Authenticator",
            "CurrentUser",
            "require_roles",
            "x: str = Depends(token_header)",
        ] {
            assert!(mentions_auth(name), "{name}");
        }
        for name in [
            "get_db",
            "require_session_context",
            "pagination",
            "get_user_repo",
            "UserService",
            "author_name",
            "max_tokens_per_request",
            "keyword",
        ] {
            assert!(!mentions_auth(name), "{name}");
        }
    }
}
