//! ## What it does
//! Finds development switches left on in application code:
//! - `debug=True` passed to `FastAPI(...)`, `Starlette(...)`, `uvicorn.run(...)`, or a
//!   Flask app's `run(...)` (in a module that imports Flask);
//! - `reload=True` passed to `uvicorn.run(...)` or `uvicorn.Config(...)`, except in
//!   development entry points (`dev.py`, `local.py`, `run_dev.py`, `*_dev.py`,
//!   `manage.py`, files under `dev/`) and commands (`cli.py`, files under `cli/`,
//!   `commands/`, `scripts/` or `bin/`).
//!
//! Test files are not reported. Values that are not the literal `True`
//! (`debug=settings.DEBUG`) are configuration and are fine.
//!
//! ## Why is this bad?
//! Debug mode answers unhandled errors with the full traceback, local variables
//! included: database URLs, tokens and other users' data go to whoever triggered the
//! error, and Werkzeug's debugger even lets them run code on the server. `reload=True`
//! watches the source tree and restarts workers on changes, which costs CPU, takes
//! the worker count down to one, and restarts the service when a file is touched.
//!
//! ## Example
//! ```python
//! app = FastAPI(debug=True)
//!
//! if __name__ == "__main__":
//!     uvicorn.run("app.main:app", host="127.0.0.1", reload=True)
//! ```
//!
//! ## Use instead
//! ```python
//! app = FastAPI(debug=settings.debug)
//!
//! if __name__ == "__main__":
//!     uvicorn.run("app.main:app", host="127.0.0.1")
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix removes the argument, which changes what the app does (no debug
//! pages, no reloading) — the point, but someone may rely on it while developing; move
//! it to a development entry point or a setting.
//!
//! ## Known problems
//! Which files are development entry points is judged by their names; a development
//! script named otherwise is reported (silence it with
//! `# stackaudit: ignore[debug-in-production]`).

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::file_kind::is_dev_entrypoint;
use super::helpers::{keyword_with_index, remove_argument};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, prefilter};
use crate::semantic::python::imports::qualified_name_of;

pub const RULE: Rule = Rule {
    id: "debug-in-production",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "`debug=True` for FastAPI/Flask/uvicorn, or `reload=True` outside a dev entry point",
    triggers: &["debug", "reload"],
    python_triggers: None,
    text_test: Some(passes_true_switch),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

/// Whether the text has `debug = True` or `reload = True` (any spacing): the rule only
/// reports those keywords with the literal `True`.
fn passes_true_switch(text: &str) -> bool {
    ["debug", "reload"].iter().any(|keyword| {
        prefilter::places_of(text, keyword).any(|at| {
            let after = prefilter::after_gap(text, at + keyword.len());
            after.strip_prefix('=').is_some_and(|value| {
                let start = text.len() - value.len();
                prefilter::after_gap(text, start).starts_with("True")
            })
        })
    })
}

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    if checker.in_test_file() {
        return;
    }
    let imports = checker.imports();
    let name = qualified_name_of(&call.func, imports);
    let is_flask_run = matches!(&*call.func, Expr::Attribute(method) if method.attr.as_str() == "run")
        && imports.imports_module("flask");
    let (takes_debug, takes_reload) = match name.as_deref() {
        Some("fastapi.FastAPI" | "starlette.applications.Starlette") => (true, false),
        Some("uvicorn.run") => (true, true),
        Some("uvicorn.Config") => (false, true),
        _ if is_flask_run => (true, false),
        _ => return,
    };
    let callee = name.unwrap_or_else(|| checker.text(&*call.func).to_string());
    let mut switches = Vec::new();
    if takes_debug {
        switches.push((
            "debug",
            "shows tracebacks with local variables to anyone who triggers an error",
        ));
    }
    // A command (`cli.py develop`, `manage.py runserver`) is how developers start the
    // server; production runs the ASGI server's own command.
    if takes_reload
        && !is_dev_entrypoint(checker.path)
        && !super::file_kind::is_command_path(checker.path)
    {
        switches.push((
            "reload",
            "restarts the server whenever a source file changes; it is for development",
        ));
    }
    for (keyword, consequence) in switches {
        let Some((index, argument)) = keyword_with_index(&call.arguments, keyword) else {
            continue;
        };
        if !matches!(&argument.value, Expr::BooleanLiteral(literal) if literal.value) {
            continue;
        }
        let mut finding = RULE.finding(
            checker.range(argument),
            format!("`{keyword}=True` in `{callee}(...)` {consequence}"),
        );
        finding.fix = remove_argument(checker, &call.arguments, index)
            .map(|edit| Fix::unsafe_(format!("Remove `{keyword}=True`"), vec![edit]));
        findings.push(finding);
    }
}
