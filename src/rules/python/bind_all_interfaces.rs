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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::file_kind::{is_container_entrypoint, is_test_file};
use super::{keyword_argument, positional_arguments};
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::syntax::python_fields::{Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "bind-all-interfaces",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "`host=\"0.0.0.0\"` (every interface) in app code outside a container entry point",
    triggers: &["0.0.0.0", "\"::\"", "'::'"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if is_container_entrypoint(context.path) || is_test_file(context.path) {
        return;
    }
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let address = keyword_argument(site.call, "host", source).or_else(|| {
            // `sock.bind(("0.0.0.0", 8000))`
            (site.method(source) == Some("bind"))
                .then(|| positional_arguments(site.call).first().copied())
                .flatten()
                .filter(|tuple| tuple.python_kind() == Kind::Tuple)
                .and_then(|tuple| tuple.named_child(0))
        });
        let Some(address) = address.filter(|address| is_every_interface(*address, source)) else {
            continue;
        };
        findings.push(RULE.finding(
            address.byte_range(),
            format!(
                "`{}` listens on every network interface; outside a container that exposes the service to every network the machine is on",
                node_text(address, source)
            ),
        ));
    }
}

fn is_every_interface(address: Node, source: &str) -> bool {
    if address.python_kind() != Kind::String {
        return false;
    }
    let text = node_text(address, source);
    let unquoted = text
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_matches(['"', '\'']);
    matches!(unquoted, "0.0.0.0" | "::")
}
