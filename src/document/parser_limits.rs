//! Texts too deeply indented to parse and walk safely.
//!
//! - **Compose files.** tree-sitter-yaml 0.7.2's C scanner saves its state into a
//!   1,024-byte buffer between tokens and writes past its end on deep block nesting (4
//!   bytes per level after 10, so about 253 levels; upstream #47, #48, fixed only in
//!   unreleased pull requests): the runtime then aborts the whole process.
//! - **Python.** Ruff's parser keeps its indentation on the heap, but a block nested in
//!   a block is a statement inside a statement, and the walks of the module's
//!   statements (its summaries, bindings and scopes) recurse once per level: 600 nested
//!   blocks overflowed a 2 MiB worker thread's stack in a debug build. (The limit was
//!   first set for tree-sitter-python 0.25's scanner, upstream #350, which had the
//!   buffer bug at about 383 levels.)
//!
//! A text whose indentation could get that deep is not parsed at all (so not audited),
//! and the caller says why. Every level of nesting needs at least one more column of
//! indentation (YAML: a sequence may sit at its key's column, so two levels per column;
//! its `- ` and `? ` indicators indent too), so the deepest line's leading columns bound
//! the depth. Real code stays far below the limits; a line is only measured up to its
//! first other character.

use crate::language::Language;

/// Leading columns a Python line may have: 380 levels at one column each, far beyond
/// real code, are walked safely on any thread that audits.
const PYTHON_MAX_COLUMNS: usize = 380;
/// Leading columns (indicators included) a YAML line may have: 2 levels per column.
const YAML_MAX_COLUMNS: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// 0-based line of the first line over the limit.
    pub line: usize,
    pub columns: usize,
    pub limit: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is indented {} columns, deeper than the {} its parser handles safely",
            self.line + 1,
            self.columns,
            self.limit
        )
    }
}

/// Whether `language`'s parser can take the text made of `chunks` (in order).
pub fn check<'a>(
    language: Language,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(), TooDeep> {
    let (limit, yaml) = match language {
        Language::Python => (PYTHON_MAX_COLUMNS, false),
        Language::Compose => (YAML_MAX_COLUMNS, true),
        Language::Dockerfile => return Ok(()), // its scanner checks its buffer
        // PostgreSQL's parser checks its own stack depth (`max_stack_depth`).
        Language::Sql => return Ok(()),
    };
    let mut line = 0;
    let mut columns = 0;
    // Measuring the current line's indentation, or skipping to its end.
    let mut measuring = true;
    let too_deep = |line, columns| TooDeep {
        line,
        columns,
        limit,
    };
    for chunk in chunks {
        let mut at = 0;
        while at < chunk.len() {
            if !measuring {
                match memchr::memchr(b'\n', &chunk[at..]) {
                    Some(newline) => {
                        at += newline + 1;
                        (line, columns, measuring) = (line + 1, 0, true);
                        continue;
                    }
                    None => break,
                }
            }
            // Indentation is mostly spaces: eight at a time.
            if let Some(eight) = chunk.get(at..at + 8)
                && eight == b"        "
            {
                columns += 8;
                at += 8;
                continue;
            }
            match chunk[at] {
                b' ' => columns += 1,
                b'\t' => columns = (columns / 8 + 1) * 8,
                b'\x0c' if !yaml => columns = 0, // Python: a form feed resets the column
                b'-' | b'?' | b':' if yaml => columns += 1,
                b'\r' => {}
                b'\n' => {
                    // A blank Python line indents nothing; YAML indicators alone may.
                    if yaml && columns > limit {
                        return Err(too_deep(line, columns));
                    }
                    (line, columns) = (line + 1, 0);
                }
                _ => {
                    if columns > limit {
                        return Err(too_deep(line, columns));
                    }
                    measuring = false;
                }
            }
            at += 1;
        }
    }
    if measuring && yaml && columns > limit {
        return Err(too_deep(line, columns));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize, line: impl Fn(usize) -> String) -> String {
        (0..levels).map(line).collect()
    }

    #[test]
    fn python_indentation_up_to_the_limit_is_taken() {
        let at_limit = nested(380, |level| format!("{}if x:\n", " ".repeat(level + 1)));
        assert_eq!(check(Language::Python, [at_limit.as_bytes()]), Ok(()));
        let over = nested(382, |level| format!("{}if x:\n", " ".repeat(level)));
        assert_eq!(
            check(Language::Python, [over.as_bytes()]),
            Err(TooDeep {
                line: 381,
                columns: 381,
                limit: 380
            })
        );
        // Tabs count to the next multiple of 8, as Python's tokenizer counts them.
        let tabs = format!("{}x = 1\n", "\t".repeat(48));
        assert_eq!(
            check(Language::Python, [tabs.as_bytes()]).map_err(|e| e.columns),
            Err(384)
        );
        // Spaces counted eight at a time, then a tab (to the next multiple of 8: 384), then
        // three more.
        let mixed = format!("{}\t{}x = 1\n", " ".repeat(377), " ".repeat(3));
        assert_eq!(
            check(Language::Python, [mixed.as_bytes()]).map_err(|e| e.columns),
            Err(387)
        );
        let under = format!("{}\tx = 1\n", " ".repeat(371));
        assert_eq!(check(Language::Python, [under.as_bytes()]), Ok(()));
        // Whitespace-only lines and whitespace after code do not count.
        let blank = format!("x = 1{}\n{}\ny = 2\n", " ".repeat(900), " ".repeat(900));
        assert_eq!(check(Language::Python, [blank.as_bytes()]), Ok(()));
    }

    #[test]
    fn yaml_counts_sequence_indicators_as_indentation() {
        let dashes = format!("{}x\n", "- ".repeat(61));
        assert_eq!(
            check(Language::Compose, [dashes.as_bytes()]).map_err(|e| e.columns),
            Err(122)
        );
        let ordinary = "services:\n  api:\n    environment:\n      - A=b\n---\n";
        assert_eq!(check(Language::Compose, [ordinary.as_bytes()]), Ok(()));
        let dockerfile = format!("{}RUN x\n", " ".repeat(5000));
        assert_eq!(check(Language::Dockerfile, [dockerfile.as_bytes()]), Ok(()));
    }

    #[test]
    fn chunk_boundaries_do_not_change_the_answer() {
        let text = format!("a: 1\n{}b: 2\n  c: 3\n", " ".repeat(130));
        let whole = check(Language::Compose, [text.as_bytes()]);
        assert!(whole.is_err());
        for split in 0..=text.len() {
            let (left, right) = text.as_bytes().split_at(split);
            assert_eq!(
                check(Language::Compose, [left, right]),
                whole,
                "split at {split}"
            );
        }
    }
}
