//! ## What it does
//! Finds servers and sockets bound to every network interface in application code:
//! `host="0.0.0.0"` (or `"::"`) passed to any call (`uvicorn.run`, `app.run`,
//! `uvicorn.Config`, `web.run_app`, ...), and `sock.bind(("0.0.0.0", port))`.
//!
//! Container entry points (`*entrypoint*.py`, gunicorn's config, files under `docker/`
//! or `deploy/`), where listening on every interface is how the container's port is
//! published, and test files are not reported.
//!
//! ## Why is this bad?
//! Outside a container, `0.0.0.0` exposes the process on every network the machine is
//! on: a developer's laptop on café Wi-Fi, or a VM whose internal admin port becomes
//! reachable from the internet when someone opens a security group. Bind to
//! `127.0.0.1` and let the container or the reverse proxy decide what is public, or
//! read the host from configuration.
//!
//! ## Example
//! ```python
//! if __name__ == "__main__":
//!     uvicorn.run(app, host="0.0.0.0", port=8000)
//! ```
//!
//! ## Use instead
//! ```python
//! if __name__ == "__main__":
//!     uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=8000)
//! ```
//!
//! ## Fix safety
//! No fix: whether the service must be reachable from other machines is a deployment
//! decision.
//!
//! ## Known problems
//! Container entry points are recognised by their file names only; a module started by
//! a Dockerfile `CMD` under another name is reported until the workspace index can
//! follow the Dockerfile to it.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::file_kind::is_container_entrypoint;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "bind-all-interfaces",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "`host=\"0.0.0.0\"` (every interface) in app code outside a container entry point",
    triggers: &["0.0.0.0", "\"::\"", "'::'"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::NONE,
};

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    if is_container_entrypoint(checker.path) || checker.in_test_file() {
        return;
    }
    let address = match call.arguments.find_keyword("host") {
        Some(host) => Some(&host.value),
        // `sock.bind(("0.0.0.0", 8000))`
        None => match (&*call.func, call.arguments.args.first()) {
            (Expr::Attribute(method), Some(Expr::Tuple(tuple)))
                if method.attr.as_str() == "bind" =>
            {
                tuple.elts.first()
            }
            _ => None,
        },
    };
    let Some(address) = address.filter(|address| is_every_interface(address)) else {
        return;
    };
    findings.push(RULE.finding(
        checker.range(address),
        format!(
            "`{}` listens on every network interface; outside a container that exposes the service to every network the machine is on",
            checker.text(address)
        ),
    ));
}

/// A string literal (not an f-string) that names every interface.
fn is_every_interface(address: &Expr) -> bool {
    let Expr::StringLiteral(literal) = address else {
        return false;
    };
    matches!(literal.value.to_str(), "0.0.0.0" | "::")
}
