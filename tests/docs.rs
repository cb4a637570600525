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
