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
pub fn before_space(text: &str, at: usize) -> &str {
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

/// Whether `text` holds `needle`: `str::contains` with the SIMD search (`memmem`).
/// Text tests ask this of whole files, mostly for words that are not there, and
/// `str::contains` reads every byte (it showed in `check`'s profile).
pub fn contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Where `word` starts in `text`, in order (`str::match_indices` without the matches,
/// and SIMD-accelerated: the text tests read every file's text).
pub fn places_of<'t>(text: &'t str, word: &'t str) -> impl Iterator<Item = usize> + 't {
    memchr::memmem::find_iter(text.as_bytes(), word.as_bytes())
}

/// Whether `text` may call a method `name`: `.name(` with any spacing between.
pub fn mentions_method_call(text: &str, name: &str) -> bool {
    places_of(text, name).any(|at| {
        before_space(text, at).ends_with('.') && after_gap(text, at + name.len()).starts_with('(')
    })
}

/// Method names looked for in one pass over a text (`mentions_any_method_call`).
pub struct MethodNames {
    matcher: aho_corasick::AhoCorasick,
}

impl MethodNames {
    pub fn new(names: &[&str]) -> MethodNames {
        MethodNames {
            matcher: longest_words_matcher(names, false),
        }
    }
}

/// A matcher of `words` for `each_place_a_word_starts`.
pub fn longest_words_matcher<W: AsRef<[u8]>>(
    words: impl IntoIterator<Item = W>,
    ascii_case_insensitive: bool,
) -> aho_corasick::AhoCorasick {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(ascii_case_insensitive)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(words)
        .unwrap_or_else(|error| panic!("words build a matcher: {error}"))
}

/// Call `visit` with the longest word of `matcher` (a `longest_words_matcher`) at each
/// place in `text` where one starts, in order, until it says stop (returns true). A
/// shorter word that starts at the same place is a prefix of the longest, and words
/// that start inside another match are still seen (the search resumes a byte after
/// each start), so this finds what an overlapping search would, with the matcher's
/// fast non-overlapping search. Returns whether `visit` stopped it.
pub fn each_place_a_word_starts(
    matcher: &aho_corasick::AhoCorasick,
    text: &str,
    mut visit: impl FnMut(aho_corasick::Match) -> bool,
) -> bool {
    let mut from = 0;
    while from < text.len() {
        let input = aho_corasick::Input::new(text).span(from..text.len());
        let Some(found) = matcher.find(input) else {
            return false;
        };
        if visit(found) {
            return true;
        }
        from = found.start() + 1;
    }
    false
}

/// Whether `text` may call a method of `names`: `mentions_method_call` for all of them,
/// reading the text once (`fetch` and `fetchrow` both count; only the longest name at
/// a place can be followed by its call's parenthesis).
pub fn mentions_any_method_call(text: &str, names: &MethodNames) -> bool {
    mentions_method_calls(text, names, 1)
}

/// Whether `text` may make `at_least` calls of methods of `names` (each `.name(`, with
/// any spacing).
pub fn mentions_method_calls(text: &str, names: &MethodNames, at_least: usize) -> bool {
    let mut calls = 0;
    each_place_a_word_starts(&names.matcher, text, |found| {
        if before_space(text, found.start()).ends_with('.')
            && after_gap(text, found.end()).starts_with('(')
        {
            calls += 1;
        }
        calls >= at_least
    })
}

/// Whether `text` may define a coroutine: `async` then `def`, with any spacing between.
pub fn mentions_async_def(text: &str) -> bool {
    places_of(text, "async").any(|at| after_gap(text, at + "async".len()).starts_with("def"))
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
