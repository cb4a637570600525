//! The `stackaudit` binary as a user runs it: output, exit codes, fixes on disk.

#![allow(clippy::disallowed_methods)] // Starts the built binary, as a user or an editor does.

use std::path::Path;
use std::process::{Command, Output};

fn stackaudit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackaudit"))
        .args(args)
        .current_dir(dir)
        .env_remove("STACKAUDIT_LOG")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

const HANDLER: &[u8] = b"import time\n\nasync def handler():\n    time.sleep(1)\n";

#[test]
fn check_prints_findings_with_carets_and_a_summary() {
    let dir = project(&[
        ("app/handlers.py", HANDLER),
        (
            "compose.yaml",
            b"services:\n  db:\n    environment:\n      - DB_PASSWORD=hunter2\n",
        ),
    ]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "app/handlers.py:4:5: warning[blocking-io-in-async] [*] `time.sleep` blocks the event loop inside `async def handler`\n\
         4 |     time.sleep(1)\n\
         \x20 |     ^^^^^^^^^^^^^\n\
         \n\
         compose.yaml:4:21: error[docker-hardcoded-secret] `DB_PASSWORD` holds a literal secret; it ends up in the image or the repository for anyone to read\n\
         4 |       - DB_PASSWORD=hunter2\n\
         \x20 |                     ^^^^^^^\n\
         \n\
         Found 2 findings (1 error, 1 warning) in 2 of 2 files. [*] 1 fixable with `--fix`. 1 more with `--fix --unsafe-fixes`.\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn clean_project_exits_zero() {
    let dir = project(&[
        ("app.py", b"async def handler():\n    return 1\n"),
        ("README.md", b"# not audited\n"),
    ]);
    let output = stackaudit(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "All checks passed (1 file audited).\n");
}

#[test]
fn json_output_is_shaped_like_ruffs() {
    let dir = project(&[("Dockerfile", b"FROM alpine\nENV API_KEY=abc123\n")]);
    let output = stackaudit(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(
        json,
        serde_json::json!([{
            "code": "docker-hardcoded-secret",
            "filename": "Dockerfile",
            "location": {"row": 2, "column": 13},
            "end_location": {"row": 2, "column": 19},
            "message": "`API_KEY` holds a literal secret; it ends up in the image or the repository for anyone to read",
            "severity": "error",
            "fix": {
                "applicability": "unsafe",
                "message": "Remove `API_KEY` from the image (pass it at run time: compose `environment:`, `docker run -e`, or a BuildKit secret mount)",
                "edits": [{"content": "", "location": {"row": 2, "column": 1}, "end_location": {"row": 3, "column": 1}}],
            },
            "url": "https://github.com/stackaudit/stackaudit/blob/main/docs/rules.md#docker-hardcoded-secret",
        }])
    );
}

#[test]
fn fix_writes_safe_fixes_in_place_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[("worker.py", HANDLER)]);
    let path = dir.path().join("worker.py");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let output = stackaudit(dir.path(), &["check", "--fix"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Fixed 1 finding.\nAll checks passed (1 file audited).\n"
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "import asyncio\nimport time\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    );
    assert_eq!(
        std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777,
        0o750
    );
    let mut leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        vec![
            std::ffi::OsString::from(".stackaudit_cache"),
            std::ffi::OsString::from("worker.py")
        ],
        "no temporary files left behind"
    );
}

#[test]
fn unsafe_fixes_only_with_the_flag() {
    let dir = project(&[("Dockerfile", b"FROM alpine\nARG NPM_TOKEN=npm_abc\n")]);
    let output = stackaudit(dir.path(), &["check", "--fix"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read"),
        "FROM alpine\nARG NPM_TOKEN=npm_abc\n"
    );
    let output = stackaudit(dir.path(), &["check", "--fix", "--unsafe-fixes"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read"),
        "FROM alpine\nARG NPM_TOKEN\n"
    );
}

#[test]
fn unreadable_files_are_reported_and_the_rest_still_run() {
    let dir = project(&[("bad.py", b"x = '\xff\xfe'\n"), ("good.py", HANDLER)]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "stackaudit: ./bad.py: not UTF-8; skipped\n"
    );
    assert!(
        stdout(&output).starts_with("good.py:4:5: warning[blocking-io-in-async]"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn gitignore_and_exclude_are_respected() {
    let dir = project(&[
        (".gitignore", b"build/\n"),
        ("build/gen.py", HANDLER),
        ("migrations/old.py", HANDLER),
        ("stackaudit.toml", b"exclude = [\"migrations/**\"]\n"),
        ("app.py", b"print('ok')\n"),
    ]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(stdout(&output), "All checks passed (1 file audited).\n");
    assert_eq!(output.status.code(), Some(0));
}

/// A module a tool wrote: a blocking call (a reliability rule) and a literal password
/// (a security rule).
const GENERATED_CLIENT: &[u8] = b"# Code generated by openapi-codegen. DO NOT EDIT.\nimport time\n\nAPI_PASSWORD = \"hunter2-but-longer\"\n\n\nasync def fetch():\n    time.sleep(1)\n";

#[test]
fn generated_files_get_the_security_rules_only_unless_configured() {
    let dir = project(&[("client/api.py", GENERATED_CLIENT)]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(
        stdout(&output),
        "client/api.py:4:16: error[hardcoded-secret] `API_PASSWORD` holds a literal secret; anyone who can read the repository can use it\n\
         4 | API_PASSWORD = \"hunter2-but-longer\"\n\
         \x20 |                ^^^^^^^^^^^^^^^^^^^^\n\
         \n\
         Found 1 finding (1 error) in 1 of 1 file. 1 more with `--fix --unsafe-fixes`.\n"
    );
    // The same file, hand-written: every rule.
    let hand_written = String::from_utf8_lossy(GENERATED_CLIENT).replace(
        "# Code generated by openapi-codegen. DO NOT EDIT.",
        "# The API client.",
    );
    std::fs::write(dir.path().join("client/api.py"), hand_written).expect("write");
    let output = stackaudit(dir.path(), &["check"]);
    assert!(
        stdout(&output).contains("warning[blocking-io-in-async]"),
        "{}",
        stdout(&output)
    );
    // Configured to audit generated files as any other.
    std::fs::write(dir.path().join("client/api.py"), GENERATED_CLIENT).expect("write");
    std::fs::write(
        dir.path().join("stackaudit.toml"),
        "generated-files = \"all\"\n",
    )
    .expect("write");
    let output = stackaudit(dir.path(), &["check"]);
    let found = stdout(&output);
    assert!(
        found.contains("error[hardcoded-secret]")
            && found.contains("warning[blocking-io-in-async]"),
        "{found}"
    );
    std::fs::write(
        dir.path().join("stackaudit.toml"),
        "generated-files = \"some\"\n",
    )
    .expect("write");
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn broken_config_is_one_line_naming_file_and_line() {
    let dir = project(&[
        (
            "stackaudit.toml",
            b"select = [\"missing-rollback\"]\n\n[severity]\nmissing-rollback = 3\n",
        ),
        ("app.py", HANDLER),
    ]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let expected_prefix = format!(
        "stackaudit: error: {}:4:",
        dir.path().join("stackaudit.toml").display()
    );
    assert!(message.starts_with(&expected_prefix), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(stdout(&output), "");
}

#[test]
fn usage_errors_exit_two() {
    let dir = project(&[]);
    let missing = stackaudit(dir.path(), &["check", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "stackaudit: error: nowhere: no such file or directory\n"
    );
    let unknown_rule = stackaudit(dir.path(), &["rule", "no-such-rule"]);
    assert_eq!(unknown_rule.status.code(), Some(2));
    assert_eq!(
        stderr(&unknown_rule),
        "stackaudit: error: unknown rule `no-such-rule` (see `stackaudit rules`)\n"
    );
    let bad_select = stackaudit(dir.path(), &["check", "--select", "nope"]);
    assert_eq!(bad_select.status.code(), Some(2));
    assert_eq!(
        stderr(&bad_select),
        "stackaudit: error: unknown rule id `nope` (see `stackaudit rules`)\n"
    );
    assert_eq!(
        stackaudit(dir.path(), &["check", "--bogus"]).status.code(),
        Some(2)
    );
}

#[test]
fn rules_and_rule_document_every_rule() {
    let dir = project(&[]);
    let listing = stdout(&stackaudit(dir.path(), &["rules"]));
    let ids: Vec<&str> = listing
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    let registered: Vec<&str> = stackaudit::rules::ALL_RULES
        .iter()
        .map(|rule| rule.id)
        .collect();
    assert_eq!(ids, registered);
    assert_eq!(
        &ids[..3],
        [
            "missing-rollback",
            "blocking-io-in-async",
            "redis-key-without-ttl"
        ]
    );
    // Columns are padded to the longest entry; compare the cells.
    let docker_row: Vec<&str> = listing
        .lines()
        .find(|line| line.starts_with("docker-hardcoded-secret "))
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    assert_eq!(
        docker_row[..4],
        [
            "docker-hardcoded-secret",
            "dockerfile, compose",
            "error",
            "unsafe"
        ],
        "{listing}"
    );
    let docs = stdout(&stackaudit(dir.path(), &["rule", "missing-rollback"]));
    assert!(
        docs.starts_with(
            "# missing-rollback\n\nA database commit that can fail with no rollback on failure.\n"
        ),
        "{docs}"
    );
    for section in stackaudit::rules::DOC_SECTIONS {
        assert!(docs.contains(section), "{section} missing");
    }
}

#[test]
fn the_bundled_example_project_has_its_known_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = stackaudit(root, &["check", "examples/shop", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let found: Vec<String> = json
        .as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            format!(
                "{}:{} {} {}",
                finding["filename"].as_str().unwrap_or(""),
                finding["location"]["row"],
                finding["code"].as_str().unwrap_or(""),
                finding["severity"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            "examples/shop/Dockerfile:6 docker-hardcoded-secret error",
            "examples/shop/Dockerfile:7 docker-hardcoded-secret error",
            "examples/shop/app/cache.py:9 redis-key-without-ttl error",
            "examples/shop/app/cache.py:19 redis-key-without-ttl error",
            "examples/shop/app/cache.py:29 redis-silent-failure warning",
            "examples/shop/app/cache.py:34 redis-keys-command warning",
            "examples/shop/app/db.py:10 db-pool-without-timeout info",
            "examples/shop/app/db.py:26 missing-rollback error",
            "examples/shop/app/db.py:42 missing-rollback error",
            "examples/shop/app/main.py:28 blocking-io-in-async warning",
            "examples/shop/app/main.py:29 blocking-io-in-async warning",
            // `cache` is the sync Redis client `app/cache.py` makes.
            "examples/shop/app/main.py:35 blocking-io-in-async warning",
            "examples/shop/app/main.py:49 missing-auth-dependency warning",
            "examples/shop/db/seed.sql:7 mysql-syntax-in-postgres error",
            "examples/shop/db/seed.sql:14 sql-syntax-error error",
            "examples/shop/docker-compose.yml:9 docker-hardcoded-secret error",
            "examples/shop/docker-compose.yml:16 docker-hardcoded-secret error",
        ]
    );
    // The example's stackaudit.toml sets the Redis TTL the fixes use.
    let set = &json.as_array().expect("array")[2];
    assert_eq!(set["fix"]["edits"][0]["content"], ", ex=900");
}

#[test]
fn scans_skip_binary_files_and_pipes_and_never_block_on_them() {
    let dir = project(&[
        ("good.py", HANDLER),
        // Binary content under audited names: parsed (valid UTF-8 with NULs) or skipped.
        (
            "blob.py",
            b"\x00\x01\x02import time\x00async def\x00\n\x7fELF\x00\x00",
        ),
        ("compose.yml", b"\x00\x00\x00\x00services:\x00\n"),
        (
            "image.png.py",
            &[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xd8],
        ),
    ]);
    // A named pipe with an audited name: reading it would block forever.
    let fifo = dir.path().join("pipe.py");
    let fifo_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o644) }, 0);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "stackaudit: ./image.png.py: not UTF-8; skipped\n"
    );
    assert_eq!(
        stdout(&output).lines().last(),
        Some("Found 1 finding (1 warning) in 1 of 3 files. [*] 1 fixable with `--fix`.")
    );
}

#[test]
fn scans_do_not_follow_symlinks_out_of_the_workspace() {
    let outside = project(&[("secret/app.py", HANDLER), ("loose.py", HANDLER)]);
    let dir = project(&[("app.py", b"print('ok')\n")]);
    std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("linked"))
        .expect("symlink");
    std::os::unix::fs::symlink(outside.path().join("loose.py"), dir.path().join("loose.py"))
        .expect("symlink");
    let output = stackaudit(dir.path(), &["check", "--fix"]);
    assert_eq!(stdout(&output), "All checks passed (1 file audited).\n");
    assert_eq!(output.status.code(), Some(0));
    for file in ["secret/app.py", "loose.py"] {
        assert_eq!(
            std::fs::read(outside.path().join(file)).expect("read"),
            HANDLER,
            "{file} was written"
        );
    }
    // A link named on the command line is audited, but never written through.
    let output = stackaudit(dir.path(), &["check", "--fix", "loose.py"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "stackaudit: loose.py: a symbolic link; fixes are not written through links\n"
    );
    assert!(stdout(&output).starts_with("loose.py:4:5: warning[blocking-io-in-async]"));
    assert_eq!(
        std::fs::read(outside.path().join("loose.py")).expect("read"),
        HANDLER
    );
    assert!(
        std::fs::symlink_metadata(dir.path().join("loose.py"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn files_indented_deeper_than_the_parsers_handle_are_skipped_not_crashed_on() {
    let python: String = (0..600)
        .map(|level| format!("{}if 1:\n", " ".repeat(level)))
        .chain(std::iter::once(format!("{}'a'\n", " ".repeat(600))))
        .collect();
    let yaml: String = (0..300)
        .map(|level| format!("{}a:\n", " ".repeat(level)))
        .collect();
    let dir = project(&[
        ("deep.py", python.as_bytes()),
        ("compose.yml", yaml.as_bytes()),
        ("good.py", HANDLER),
    ]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "stackaudit: ./compose.yml: line 122 is indented 121 columns, deeper than the 120 its parser handles safely; skipped\n\
         stackaudit: ./deep.py: line 382 is indented 381 columns, deeper than the 380 its parser handles safely; skipped\n"
    );
    assert!(stdout(&output).starts_with("good.py:4:5: warning[blocking-io-in-async]"));
}

#[test]
fn a_run_that_audits_nothing_fails() {
    // Every file found was skipped.
    let dir = project(&[("bad.py", b"x = '\xff\xfe'\n")]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "stackaudit: ./bad.py: not UTF-8; skipped\n\
         stackaudit: error: nothing was audited: the one file found was skipped (see above)\n"
    );
    assert_eq!(stdout(&output), "");
    // Nothing stackaudit audits under the path.
    let dir = project(&[("notes.txt", b"hello\n")]);
    let output = stackaudit(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "stackaudit: error: nothing to audit in .: no Python file, Dockerfile, compose file or SQL file (see `exclude` and .gitignore)\n"
    );
}

#[test]
fn python_files_are_read_in_the_encoding_they_declare() {
    let latin1: &[u8] = b"# -*- coding: latin-1 -*-\nimport time\n\n\nasync def caf\xe9_handler():\n    # d\xe9j\xe0 vu\n    time.sleep(1)\n";
    let dir = project(&[("legacy.py", latin1)]);
    let output = stackaudit(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert!(
        stdout(&output).starts_with(
            "legacy.py:7:5: warning[blocking-io-in-async] [*] `time.sleep` blocks the event loop inside `async def café_handler`\n"
        ),
        "{}",
        stdout(&output)
    );
    // Fixed in place, the file stays Latin-1.
    let output = stackaudit(dir.path(), &["check", "--fix"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        std::fs::read(dir.path().join("legacy.py")).expect("read"),
        b"# -*- coding: latin-1 -*-\nimport asyncio\nimport time\n\n\nasync def caf\xe9_handler():\n    # d\xe9j\xe0 vu\n    await asyncio.sleep(1)\n"
    );
}

#[test]
fn configuration_values_are_checked_each_in_one_line() {
    let cases: [(&[u8], &str); 6] = [
        (
            b"[redis]\ndefault_ttl_seconds = 0\n",
            "2:23: must be a whole number of seconds, at least 1, not 0",
        ),
        (
            b"[http]\ndefault_timeout_seconds = -3\n",
            "2:27: must be a whole number of seconds, at least 1, not -3",
        ),
        (b"select = [\n", "2:1: invalid array: expected `]`"),
        (
            b"\nselect = []\n",
            "2:1: `select = []` turns every rule off; leave it out to run every rule",
        ),
        (
            b"[tool]\nx = 1\n",
            "1:2: unknown field `tool`, expected one of `select`, `ignore`, `severity`, `redis`, `http`, `exclude`, `generated-files`, `cache-dir`",
        ),
        (
            b"generated-files = \"some\"\n",
            "1:19: unknown variant `some`, expected `security` or `all`",
        ),
    ];
    for (config, expected) in cases {
        let dir = project(&[("stackaudit.toml", config), ("app.py", HANDLER)]);
        let output = stackaudit(dir.path(), &["check"]);
        assert_eq!(output.status.code(), Some(2), "{expected}");
        let file = dir.path().join("stackaudit.toml");
        assert_eq!(
            stderr(&output),
            format!("stackaudit: error: {}:{expected}\n", file.display())
        );
    }
    let dir = project(&[("app.py", HANDLER)]);
    for flag in ["--select", "--ignore"] {
        for value in ["", "missing-rollback,"] {
            let output = stackaudit(dir.path(), &["check", flag, value]);
            assert_eq!(output.status.code(), Some(2));
            assert_eq!(
                stderr(&output),
                format!(
                    "stackaudit: error: {flag} takes rule ids separated by commas, and one of them is empty (see `stackaudit rules`)\n"
                )
            );
        }
    }
}

#[test]
fn text_output_shows_the_configured_severity() {
    let dir = project(&[
        (
            "stackaudit.toml",
            b"[severity]\nblocking-io-in-async = \"error\"\n",
        ),
        ("app.py", HANDLER),
    ]);
    let output = stackaudit(dir.path(), &["check"]);
    assert!(
        stdout(&output).starts_with(
            "app.py:4:5: error[blocking-io-in-async] [*] `time.sleep` blocks the event loop inside `async def handler`\n"
        ),
        "{}",
        stdout(&output)
    );
}

/// The cache: a second run reads what the first wrote (shown by a cached finding
/// edited in place), and a changed file, a changed setting or `--no-cache` bring back
/// what the rules find.
#[test]
fn check_reuses_cached_findings_until_the_file_or_settings_change() {
    let dir = project(&[("app.py", HANDLER)]);
    let first = stackaudit(dir.path(), &["check"]);
    assert_eq!(first.status.code(), Some(1));
    let folder = dir.path().join(".stackaudit_cache");
    assert_eq!(
        std::fs::read_to_string(folder.join(".gitignore")).expect("gitignore"),
        "# Made by stackaudit; safe to delete.\n*\n"
    );
    let caches: Vec<_> = std::fs::read_dir(&folder)
        .expect("ls")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    assert_eq!(caches.len(), 1, "{caches:?}");
    let real = "`time.sleep` blocks the event loop inside `async def handler`";
    let cached = std::fs::read_to_string(&caches[0]).expect("cache");
    assert!(cached.contains(real), "{cached}");
    std::fs::write(&caches[0], cached.replace(real, "read from the cache")).expect("edit");

    let second = stackaudit(dir.path(), &["check"]);
    assert!(
        stdout(&second).contains("read from the cache"),
        "{}",
        stdout(&second)
    );
    assert_eq!(second.status.code(), Some(1));
    let uncached = stackaudit(dir.path(), &["check", "--no-cache"]);
    assert!(stdout(&uncached).contains(real), "{}", stdout(&uncached));

    // Another setting: another cache file, what the rules find.
    std::fs::write(
        dir.path().join("stackaudit.toml"),
        "[severity]\nblocking-io-in-async = \"error\"\n",
    )
    .expect("config");
    let configured = stackaudit(dir.path(), &["check"]);
    assert!(
        stdout(&configured).contains(&format!("error[blocking-io-in-async] [*] {real}")),
        "{}",
        stdout(&configured)
    );
    std::fs::remove_file(dir.path().join("stackaudit.toml")).expect("rm");
    assert!(stdout(&stackaudit(dir.path(), &["check"])).contains("read from the cache"));

    // Another text: audited again.
    std::fs::write(
        dir.path().join("app.py"),
        "import time\n\n\nasync def handler():\n    time.sleep(1)\n",
    )
    .expect("write");
    let edited = stackaudit(dir.path(), &["check"]);
    assert!(
        stdout(&edited).contains(&format!(
            "app.py:5:5: warning[blocking-io-in-async] [*] {real}"
        )),
        "{}",
        stdout(&edited)
    );
}

/// `cache-dir` moves the cache; `--no-cache` writes none.
#[test]
fn the_cache_folder_follows_the_setting_and_no_cache_writes_nothing() {
    let dir = project(&[
        ("app.py", HANDLER),
        ("stackaudit.toml", b"cache-dir = \"build/lint-cache\"\n"),
    ]);
    stackaudit(dir.path(), &["check", "--no-cache"]);
    assert!(!dir.path().join("build").exists());
    assert!(!dir.path().join(".stackaudit_cache").exists());
    stackaudit(dir.path(), &["check"]);
    assert!(dir.path().join("build/lint-cache/.gitignore").is_file());
    assert!(!dir.path().join(".stackaudit_cache").exists());
}

/// Statements nested once per operator, as deep as the parser admits (every byte a
/// level), are walked and dropped without overflowing a stack, and the rest of the file
/// is still audited; an item with a statement past the limit gets no findings from the
/// rules that read Ruff's tree, and the rules that read the text still run there.
#[test]
fn statements_nested_as_deep_as_the_parser_admits_are_audited_safely() {
    let bare_except = "try:\n    pass\nexcept:\n    pass\n";
    let deepest = 99_000;
    let unary = format!("x = {}1\n{bare_except}", "-".repeat(deepest));
    let calls = format!(
        "y = {}{}\n{bare_except}",
        "f(".repeat(deepest / 3),
        ")".repeat(deepest / 3)
    );
    // In one item (a function) with its handler: the item is not parsed by Ruff's
    // parser; the rules that read the text still read it.
    let too_long = format!(
        "def f():\n    z = {}1  # type: ignore\n{}",
        "-".repeat(200_000),
        bare_except
            .replace('\n', "\n    ")
            .replacen("try", "    try", 1)
    );
    let dir = project(&[
        ("unary.py", unary.as_bytes()),
        ("calls.py", calls.as_bytes()),
        ("too_long.py", too_long.as_bytes()),
    ]);
    let output = stackaudit(
        dir.path(),
        &["check", "--no-cache", "--output-format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let mut found: Vec<(String, String)> = report
        .as_array()
        .expect("an array of findings")
        .iter()
        .map(|finding| {
            let file = finding["filename"].as_str().unwrap_or("");
            let name = Path::new(file).file_name().unwrap_or_default();
            (
                name.to_string_lossy().into_owned(),
                finding["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("calls.py".to_string(), "broad-except".to_string()),
            ("calls.py".to_string(), "swallowed-exception".to_string()),
            (
                "too_long.py".to_string(),
                "type-ignore-without-reason".to_string()
            ),
            ("unary.py".to_string(), "broad-except".to_string()),
            ("unary.py".to_string(), "swallowed-exception".to_string()),
        ]
    );
}
