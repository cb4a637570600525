//! Words of identifiers, as rules read names: `DB_PASSWORD`, `accessToken`,
//! `APIKeyHeader`.

/// The words of `text`'s identifiers: runs of ASCII letters and digits, split at `_`
/// and at camelCase (`APIKeyHeader` → `API`, `Key`, `Header`).
pub fn identifier_words(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && !bytes[at].is_ascii_alphanumeric() {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_alphanumeric() {
            let (previous, current) = (bytes[at - 1], bytes[at]);
            let next_is_lower = bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase);
            let camel = current.is_ascii_uppercase()
                && (previous.is_ascii_lowercase()
                    || previous.is_ascii_digit()
                    || (previous.is_ascii_uppercase() && next_is_lower));
            if camel {
                break;
            }
            at += 1;
        }
        Some(&text[start..at])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_separators_and_case_changes() {
        fn words(text: &str) -> Vec<&str> {
            identifier_words(text).collect()
        }
        assert_eq!(words("APIKey_v2"), ["API", "Key", "v2"]);
        assert_eq!(words("tokenURL"), ["token", "URL"]);
        assert_eq!(words("get_current_user()"), ["get", "current", "user"]);
        assert_eq!(
            words("OAuth2PasswordBearer"),
            ["O", "Auth2", "Password", "Bearer"]
        );
    }
}
