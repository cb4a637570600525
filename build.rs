//! Collects each rule's documentation (the `//!` comment at the top of its file) into a
//! table, so `stackaudit rule <id>`, hovers and docs links read the same text that
//! rustdoc shows beside the code. The rule id is the file name with `-` for `_`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let rules_dir = Path::new("src/rules");
    println!("cargo::rerun-if-changed=src/rules");
    let mut entries = Vec::new();
    for language_dir in std::fs::read_dir(rules_dir)
        .expect("src/rules exists")
        .flatten()
    {
        if !language_dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(language_dir.path())
            .expect("rule folder is readable")
            .flatten()
        {
            let path = file.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if stem == "mod" || path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("rule file is UTF-8");
            let docs: Vec<&str> = source
                .lines()
                .take_while(|line| line.starts_with("//!"))
                .map(|line| {
                    line.trim_start_matches("//!")
                        .strip_prefix(' ')
                        .unwrap_or(line.trim_start_matches("//!"))
                })
                .collect();
            // Helper modules have module docs too; a rule's docs start with this section.
            if docs.first() != Some(&"## What it does") {
                continue;
            }
            entries.push((stem.replace('_', "-"), docs.join("\n")));
        }
    }
    entries.sort();
    let mut out = String::from("pub(crate) const RULE_DOCS: &[(&str, &str)] = &[\n");
    for (id, docs) in entries {
        writeln!(out, "    ({id:?}, {docs:?}),").expect("write to string");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("rule_docs.rs"), out).expect("OUT_DIR is writable");
    build_id();
}

/// A hash of the sources that decide what an audit finds (`src/`, `queries/`), for the
/// `check` cache's key: a build with any change to a rule never reads findings cached by
/// another, even under the same version number.
fn build_id() {
    use std::hash::{Hash, Hasher};
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=queries");
    let mut files = Vec::new();
    let mut pending = vec![
        Path::new("src").to_path_buf(),
        Path::new("queries").to_path_buf(),
    ];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    // SipHash with fixed keys: the same sources give the same id on every machine.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.to_string_lossy().hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    println!(
        "cargo::rustc-env=STACKAUDIT_BUILD_ID={:016x}",
        hasher.finish()
    );
}
