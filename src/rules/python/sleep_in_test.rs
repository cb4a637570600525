//! ## What it does
//! Finds fixed waits in tests: `time.sleep(<number>)` or `await asyncio.sleep(<number>)`
//! (names resolved through imports) directly in a test function (`test*`), a
//! `setUp`/`setup_method`, or a pytest fixture, in a test file (`test_*.py`,
//! `*_test.py`, `conftest.py`, or under `tests/`).
//!
//! Sleeps inside a `while` loop (polling until a condition holds), `asyncio.sleep(0)`
//! (a yield to the event loop), and sleeps inside nested helpers and fakes (simulating
//! a slow dependency) are fine.
//!
//! ## Why is this bad?
//! A test that sleeps to let a worker, a thread or a container "finish" guesses how long
//! that takes. On a loaded CI machine it takes longer and the test fails at random; on a
//! fast one it wastes the whole wait every run. Both make people distrust and skip the
//! suite.
//!
//! ## Example
//! ```python
//! def test_order_is_processed(queue, orders):
//!     queue.put(order_id)
//!     time.sleep(2)
//!     assert orders.get(order_id).status == "done"
//! ```
//!
//! ## Use instead
//! ```python
//! def test_order_is_processed(queue, orders):
//!     queue.put(order_id)
//!     deadline = time.monotonic() + 10
//!     while orders.get(order_id).status != "done":
//!         assert time.monotonic() < deadline, "order not processed in 10 s"
//!         time.sleep(0.05)
//! ```
//! Or wait on the event itself (`thread.join()`, `event.wait(timeout)`,
//! `await asyncio.wait_for(task, 10)`), or freeze time with a fake clock.
//!
//! ## Fix safety
//! No fix: what to wait for is only known to the test's author.
//!
//! ## Known problems
//! The file must be known to be a test: audited text with no path (standard input) is
//! not a test file. A sleep that really is the behaviour under test (a rate limiter's
//! window) is reported; silence it with `# stackaudit: ignore[sleep-in-test]`.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::file_kind::is_test_file;
use super::positional_arguments;
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::semantic::python::imports::qualified_name;
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "sleep-in-test",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A fixed `time.sleep`/`asyncio.sleep` in a test, waiting for something else",
    triggers: &["sleep"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if !is_test_file(context.path) {
        return;
    }
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let Some(name) = site
            .call
            .field(Field::Function)
            .and_then(|function| qualified_name(function, source, &facts.semantic.imports))
            .filter(|name| matches!(name.as_str(), "time.sleep" | "asyncio.sleep"))
        else {
            continue;
        };
        let Some(seconds) = positional_arguments(site.call)
            .first()
            .copied()
            .filter(|argument| is_number(*argument))
        else {
            continue;
        };
        let seconds_text = node_text(seconds, source);
        if seconds_text
            .trim_start_matches('0')
            .trim_start_matches('.')
            .trim_start_matches('0')
            .is_empty()
        {
            continue; // `sleep(0)`: a yield, not a wait
        }
        let Some(function) = site
            .scope
            .filter(|scope| scope.python_kind() == Kind::FunctionDefinition)
        else {
            continue;
        };
        if !is_test_or_setup(function, source) || polls(site.call, function, facts) {
            continue;
        }
        findings.push(RULE.finding(
            site.call.byte_range(),
            format!(
                "`{name}({seconds_text})` waits a fixed time in a test: slow when the wait is too long, flaky when it is too short"
            ),
        ));
    }
}

fn is_number(node: Node) -> bool {
    match node.python_kind() {
        Kind::Integer | Kind::Float => true,
        Kind::BinaryOperator => {
            node.field(Field::Left).is_some_and(is_number)
                && node.field(Field::Right).is_some_and(is_number)
        }
        _ => false,
    }
}

/// A test, a setup method, or a pytest fixture.
fn is_test_or_setup(function: Node, source: &str) -> bool {
    let name = function
        .field(Field::Name)
        .map_or("", |name| node_text(name, source));
    if name.starts_with("test")
        || matches!(
            name,
            "setUp" | "asyncSetUp" | "setup_method" | "setup_class" | "setUpClass"
        )
    {
        return true;
    }
    // `@pytest.fixture` (or `@fixture`, `@pytest_asyncio.fixture(...)`) on the `def`.
    function
        .parent()
        .filter(|parent| parent.python_kind() == Kind::DecoratedDefinition)
        .is_some_and(|decorated| {
            let mut cursor = decorated.walk();
            decorated
                .children(&mut cursor)
                .filter(|child| child.python_kind() == Kind::Decorator)
                .any(|decorator| node_text(decorator, source).contains("fixture"))
        })
}

/// The sleep sits in a `while` loop inside the function: it polls a condition.
fn polls(call: Node, function: Node, facts: &super::ModuleFacts) -> bool {
    let ancestors = facts.ancestry.ancestors(call);
    ancestors
        .iter()
        .rev()
        .take_while(|ancestor| ancestor.id() != function.id())
        .any(|ancestor| ancestor.python_kind() == Kind::WhileStatement)
}
