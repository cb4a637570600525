//! `docs/rules.md` is generated from the rules' doc comments and must stay in step
//! with them (diagnostics link to it). `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

#[test]
fn rules_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let expected = stackaudit::cli::rules_reference();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs dir")).expect("mkdir docs");
        std::fs::write(&path, &expected).expect("write docs/rules.md");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date: run `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

/// The README's rule table lists every rule, in the order `stackaudit rules` does, with
/// its default severity and its fix in the registry's words (what `stackaudit rules`
/// prints).
#[test]
fn readme_lists_every_rule() {
    let readme = include_str!("../README.md");
    let rows: Vec<&str> = readme
        .lines()
        .filter(|line| line.starts_with("| [`"))
        .collect();
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.strip_prefix("| [`")?.split('`').next())
        .collect();
    let registered: Vec<&str> = stackaudit::rules::ALL_RULES
        .iter()
        .map(|rule| rule.id)
        .collect();
    assert_eq!(ids, registered, "README.md's rule table is out of step");
    for (row, rule) in rows.iter().zip(stackaudit::rules::ALL_RULES) {
        let severity = row.split(" | ").nth(2).unwrap_or_default();
        assert!(
            severity.starts_with(rule.default_severity.as_str()),
            "{}: README says {severity}",
            rule.id
        );
        let fix = row.split(" | ").nth(3).unwrap_or_default();
        assert_eq!(
            fix,
            rule.fix.label(),
            "{}: README's fix column disagrees with the registry",
            rule.id
        );
    }
}
