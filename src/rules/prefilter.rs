//! Cheap tests of a file's text that tell a rule cannot fire there, so the file is not
//! parsed at all (parsing is most of the cost of `stackaudit check`). Each test must
//! never say "no" where the rule could fire: they allow any white space and
//! backslash line continuations that Python allows between tokens, and any character
//! the parser may skip there when it recovers from an error.

/// What may stand between two tokens: white space, and characters no Python token
/// holds, which the parser skips as errors (control characters, `$`, `?`, `!`, a
/// backtick, and non-ASCII ones, of which U+FFFD from an undecodable byte is one).
/// Erring towards "may" only costs a parse: a non-ASCII letter counted as a gap
/// lets through a text the rule then finds nothing in.
fn is_gap(c: char) -> bool {
    c.is_whitespace() || c.is_ascii_control() || !c.is_ascii() || matches!(c, '$' | '?' | '!' | '`')
}

/// The text before `at`, without the white space and line continuations that end it.
fn before_space(text: &str, at: usize) -> &str {
    let mut end = at;
    loop {
        let trimmed = text[..end].trim_end_matches(is_gap);
        let trimmed = trimmed.strip_suffix('\\').unwrap_or(trimmed);
        if trimmed.len() == end {
            return trimmed;
        }
        end = trimmed.len();
    }
}

/// The text from `at`, without the white space and line continuations that open it
/// (the rules' own text tests use it too).
pub fn after_gap(text: &str, at: usize) -> &str {
    let mut rest = &text[at..];
    loop {
        let trimmed = rest.trim_start_matches(is_gap);
        let trimmed = trimmed.strip_prefix('\\').unwrap_or(trimmed);
        if trimmed.len() == rest.len() {
            return rest;
        }
        rest = trimmed;
    }
}

/// Whether `text` may call a method `name`: `.name(` with any spacing between.
pub fn mentions_method_call(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        before_space(text, at).ends_with('.') && after_gap(text, at + name.len()).starts_with('(')
    })
}

/// Method names looked for in one pass over a text (`mentions_any_method_call`).
pub struct MethodNames {
    matcher: aho_corasick::AhoCorasick,
}

impl MethodNames {
    pub fn new(names: &[&str]) -> MethodNames {
        let matcher = aho_corasick::AhoCorasick::new(names)
            .unwrap_or_else(|error| panic!("method names build a matcher: {error}"));
        MethodNames { matcher }
    }
}

/// Whether `text` may call a method of `names`: `mentions_method_call` for all of them,
/// reading the text once (overlapping matches, so `fetch` inside `fetchrow` counts).
pub fn mentions_any_method_call(text: &str, names: &MethodNames) -> bool {
    names.matcher.find_overlapping_iter(text).any(|found| {
        before_space(text, found.start()).ends_with('.')
            && after_gap(text, found.end()).starts_with('(')
    })
}

/// Whether `text` may define a coroutine: `async` then `def`, with any spacing between.
pub fn mentions_async_def(text: &str) -> bool {
    text.match_indices("async")
        .any(|(at, _)| after_gap(text, at + "async".len()).starts_with("def"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_calls_with_any_spacing() {
        for text in [
            "db.commit()",
            "await session.commit ()",
            "db . commit\t(",
            "conn.\\\n    commit()",
            "x = (db\n    .commit())",
            "db.commit\x01\x00 ()",
            "db.commit\u{FFFD}()",
            "db.$commit ?()",
        ] {
            assert!(mentions_method_call(text, "commit"), "{text:?}");
        }
        for text in [
            "transaction.on_commit(f)",
            "commit()",
            "db.commit",
            "# commit",
        ] {
            assert!(!mentions_method_call(text, "commit"), "{text:?}");
        }
    }

    #[test]
    fn one_pass_over_many_names_equals_one_pass_per_name() {
        let names = ["execute", "executemany", "fetch", "fetchrow", "raw"];
        let matcher = MethodNames::new(&names);
        for text in [
            "cur.executemany (q, rows)",
            "await conn.fetchrow(q)",
            "conn.fetch\\\n (q)",
            "Model.objects.raw(q)",
            "prefetch(q)",
            "x.fetchrows(q)",
            "executemany(q)",
            "# conn . fetch",
            "",
        ] {
            let one_per_name = names.iter().any(|name| mentions_method_call(text, name));
            assert_eq!(
                mentions_any_method_call(text, &matcher),
                one_per_name,
                "{text:?}"
            );
        }
    }

    #[test]
    fn async_defs_with_any_spacing() {
        for text in [
            "async def f():",
            "async  def f():",
            "async\\\ndef f():",
            "\tasync\tdef g",
        ] {
            assert!(mentions_async_def(text), "{text:?}");
        }
        for text in ["async_to_sync(f)", "is_async = True", "asynchronous"] {
            assert!(!mentions_async_def(text), "{text:?}");
        }
    }
}
