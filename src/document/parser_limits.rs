//! Texts the grammars' C scanners cannot take safely. A scanner's state is saved into
//! a 1,024-byte buffer between tokens, and tree-sitter-yaml 0.7.2 (#47, #48) writes
//! past its end on deep block nesting (4 bytes per level after 10, so about 253
//! levels) before it stops: the runtime then aborts the whole process (or, with
//! assertions off, memory is overwritten). The bug is reported upstream and an
//! unreleased fix exists. (tree-sitter-python 0.25 had the same bug, #350; Python is
//! now read by Ruff's parser, which keeps its indentation on the heap.)
//!
//! Until a fixed release exists, a compose file whose indentation could get that deep
//! is not parsed at all (so not audited), and the caller says why. Every level of
//! nesting needs at least one more column of indentation (a sequence may sit at its
//! key's column, so two levels per column; its `- ` and `? ` indicators indent too),
//! so the deepest line's leading columns bound the depth. Real files stay far below the
//! limit; a line is only measured up to its first other character.

use crate::language::Language;

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
    let limit = match language {
        Language::Compose => YAML_MAX_COLUMNS,
        // Dockerfile's scanner checks its buffer; Ruff's parser has no fixed one.
        Language::Dockerfile | Language::Python => return Ok(()),
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
            match chunk[at] {
                b' ' => columns += 1,
                b'\t' => columns = (columns / 8 + 1) * 8,
                b'-' | b'?' | b':' => columns += 1,
                b'\r' => {}
                b'\n' => {
                    // Indicators alone on a line indent what follows.
                    if columns > limit {
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
    if measuring && columns > limit {
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
    fn python_has_no_limit() {
        let deep = nested(600, |level| format!("{}if x:\n", " ".repeat(level)));
        assert_eq!(check(Language::Python, [deep.as_bytes()]), Ok(()));
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
