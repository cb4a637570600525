//! FastAPI dependencies and whether they authenticate, read the same way by
//! `missing-auth-dependency` in the module it audits and by the workspace index
//! (`index::python_facts`) for the dependencies, aliases and routers that other modules
//! import.
//!
//! A dependency authenticates when its name or body mentions authentication (`auth`,
//! `user`, `token`, `permission`, `jwt`, ...), when it takes a `Security(...)`, or when
//! one of the dependencies it takes itself (`Depends(x)` in its parameters) does.

use ruff_python_ast::{Expr, StmtFunctionDef};

use super::helpers::{AnyNode, any_node_in, called_name};

/// Words in a dependency's name or body that mean it checks who is calling.
const AUTH_WORDS: &[&str] = &[
    "auth",
    "user",
    "token",
    "permission",
    "login",
    "admin",
    "jwt",
    "api_key",
    "apikey",
    "scope",
    "role",
    "credential",
    "verify",
    "principal",
    "oauth",
    "signature",
    "hmac",
];

/// Whether a name or body mentions authentication. One pass over the text with no
/// copy: the incremental audit asks this of every definition's body on each keystroke
/// in a FastAPI module.
pub fn mentions_auth(text: &str) -> bool {
    static MATCHER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(AUTH_WORDS)
                .unwrap_or_else(|error| panic!("auth words build a matcher: {error}"))
        });
    MATCHER.is_match(text)
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
        ] {
            assert!(mentions_auth(name), "{name}");
        }
        for name in ["get_db", "require_session_context", "pagination"] {
            assert!(!mentions_auth(name), "{name}");
        }
    }
}
