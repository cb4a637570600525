//! A statement's tokens as PostgreSQL's own scanner reads them (through `pg_query`),
//! with MySQL's backtick-quoted identifiers joined into one token each (PostgreSQL
//! scans a backtick as an operator character): what the structural readings of a
//! statement (`sql_mysql`, `sql_statements`) walk.

use std::ops::Range;

use pg_query::protobuf::{KeywordKind, Token};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlToken {
    /// Bytes of the statement text.
    pub range: Range<usize>,
    pub kind: TokenKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or a plain identifier.
    Word,
    /// A reserved keyword of PostgreSQL's (needs quotes as a name).
    Reserved,
    /// `"name"`.
    Quoted,
    /// `` `name` `` (MySQL).
    Backticked,
    /// A string constant.
    String,
    Number,
    /// One of `( ) , ; . = :` and the like.
    Punctuation(u8),
    /// An operator, a parameter or anything else.
    Other,
}

impl SqlToken {
    pub fn text<'s>(&self, statement: &'s str) -> &'s str {
        statement.get(self.range.clone()).unwrap_or("")
    }

    /// Whether this is the word `keyword` (ASCII case ignored; `keyword` upper-case).
    pub fn is(&self, statement: &str, keyword: &str) -> bool {
        matches!(self.kind, TokenKind::Word | TokenKind::Reserved)
            && self.text(statement).eq_ignore_ascii_case(keyword)
    }

    pub fn is_punctuation(&self, byte: u8) -> bool {
        self.kind == TokenKind::Punctuation(byte)
    }

    /// Whether the token can name something: a word or a quoted identifier.
    pub fn is_name(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Word | TokenKind::Reserved | TokenKind::Quoted | TokenKind::Backticked
        )
    }

    /// The name it spells: a plain word folded to lower case (as PostgreSQL folds it),
    /// a quoted one as written.
    pub fn name(&self, statement: &str) -> String {
        let text = self.text(statement);
        match self.kind {
            TokenKind::Quoted => text
                .get(1..text.len().saturating_sub(1))
                .unwrap_or("")
                .replace("\"\"", "\""),
            TokenKind::Backticked => text
                .get(1..text.len().saturating_sub(1))
                .unwrap_or("")
                .to_string(),
            _ => text.to_ascii_lowercase(),
        }
    }
}

/// The tokens of `statement`, comments left out; none when the scanner fails (a NUL
/// byte, an unterminated string).
pub fn tokens(statement: &str) -> Vec<SqlToken> {
    if statement.contains('\0') {
        return Vec::new();
    }
    let Ok(scanned) = pg_query::scan(statement) else {
        return Vec::new();
    };
    let mut tokens = Vec::with_capacity(scanned.tokens.len());
    let mut backtick_open: Option<usize> = None;
    for token in &scanned.tokens {
        let (Ok(start), Ok(end)) = (usize::try_from(token.start), usize::try_from(token.end))
        else {
            continue;
        };
        let Some(text) = statement.get(start..end) else {
            continue;
        };
        if token.token == Token::SqlComment as i32 || token.token == Token::CComment as i32 {
            continue;
        }
        // Backticks stand inside operator tokens (`` ` ``, `` `=` ``): each opens or
        // closes a MySQL identifier.
        if text.contains('`') && !is_constant(token.token) {
            for (offset, _) in text.match_indices('`') {
                let at = start + offset;
                match backtick_open.take() {
                    Some(open) => {
                        tokens
                            .truncate(tokens.partition_point(|t: &SqlToken| t.range.start < open));
                        tokens.push(SqlToken {
                            range: open..at + 1,
                            kind: TokenKind::Backticked,
                        });
                    }
                    None => backtick_open = Some(at),
                }
            }
            continue;
        }
        if backtick_open.is_some() {
            // Inside backticks: kept until the closing one replaces them.
            tokens.push(SqlToken {
                range: start..end,
                kind: TokenKind::Other,
            });
            continue;
        }
        tokens.push(SqlToken {
            range: start..end,
            kind: kind_of(token, text),
        });
    }
    tokens
}

fn is_constant(token: i32) -> bool {
    [
        Token::Sconst,
        Token::Usconst,
        Token::Bconst,
        Token::Xconst,
        Token::Ident,
        Token::Uident,
    ]
    .iter()
    .any(|kind| *kind as i32 == token)
}

fn kind_of(token: &pg_query::protobuf::ScanToken, text: &str) -> TokenKind {
    let kind = token.token;
    if kind == Token::Ident as i32 {
        return if text.starts_with('"') {
            TokenKind::Quoted
        } else {
            TokenKind::Word
        };
    }
    if token.keyword_kind == KeywordKind::ReservedKeyword as i32 {
        return TokenKind::Reserved;
    }
    if token.keyword_kind != KeywordKind::NoKeyword as i32 {
        return TokenKind::Word;
    }
    if [Token::Sconst, Token::Usconst, Token::Bconst, Token::Xconst]
        .iter()
        .any(|constant| *constant as i32 == kind)
    {
        return TokenKind::String;
    }
    if kind == Token::Iconst as i32 || kind == Token::Fconst as i32 {
        return TokenKind::Number;
    }
    match text.as_bytes() {
        [byte] if b"(),;.=:[]".contains(byte) => TokenKind::Punctuation(*byte),
        _ => TokenKind::Other,
    }
}

/// The index of the `)` that closes the `(` at `open`, or `None`.
pub fn closing_parenthesis(tokens: &[SqlToken], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            TokenKind::Punctuation(b'(') => depth += 1,
            TokenKind::Punctuation(b')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The elements of the list between the `(` at `open` and the `)` at `close`: index
/// ranges of `tokens` split at the commas outside nested parentheses.
pub fn list_elements(tokens: &[SqlToken], open: usize, close: usize) -> Vec<Range<usize>> {
    let mut elements = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (index, token) in tokens.iter().enumerate().take(close).skip(open + 1) {
        match token.kind {
            TokenKind::Punctuation(b'(') => depth += 1,
            TokenKind::Punctuation(b')') => depth = depth.saturating_sub(1),
            TokenKind::Punctuation(b',') if depth == 0 => {
                elements.push(start..index);
                start = index + 1;
            }
            _ => {}
        }
    }
    if start < close {
        elements.push(start..close);
    }
    elements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticked_names_are_one_token() {
        let statement = "CREATE TABLE `order items` (`id` int, a=`b`) -- `x`";
        let found: Vec<(&str, TokenKind)> = tokens(statement)
            .iter()
            .map(|token| (token.text(statement), token.kind))
            .collect();
        assert_eq!(
            found,
            [
                ("CREATE", TokenKind::Reserved),
                ("TABLE", TokenKind::Reserved),
                ("`order items`", TokenKind::Backticked),
                ("(", TokenKind::Punctuation(b'(')),
                ("`id`", TokenKind::Backticked),
                ("int", TokenKind::Word),
                (",", TokenKind::Punctuation(b',')),
                ("a", TokenKind::Word),
                ("`b`", TokenKind::Backticked),
                (")", TokenKind::Punctuation(b')')),
            ]
        );
    }
}
