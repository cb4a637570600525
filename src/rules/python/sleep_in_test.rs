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

use ruff_python_ast::{Expr, ExprCall, StmtFunctionDef};

use super::checker::{Checker, Hooks, Parent, ScopeKind};
use super::helpers::{AnyNode, any_node};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::semantic::python::imports::qualified_name_of;
use ruff_python_ast::Stmt;

pub const RULE: Rule = Rule {
    id: "sleep-in-test",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "A fixed `time.sleep`/`asyncio.sleep` in a test, waiting for something else",
    triggers: &["sleep"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS,
};

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    if !checker.in_test_file() {
        return;
    }
    let Some(name) = qualified_name_of(&call.func, checker.imports())
        .filter(|name| matches!(name.as_str(), "time.sleep" | "asyncio.sleep"))
    else {
        return;
    };
    // In a loop that can end early the sleep paces a poll (`while not ready():
    // sleep(0.1)`): the wait ends when the condition holds, which is what this rule
    // asks for.
    // A `for` over attempts polls when it can stop early (`break`, `return`).
    let polls = checker.ancestors().iter().rev().any(|parent| match parent {
        Parent::Statement(Stmt::While(_)) => true,
        Parent::Statement(Stmt::For(attempts)) => any_node(&attempts.body, |node| {
            matches!(node, AnyNode::Statement(Stmt::Break(_) | Stmt::Return(_)))
        }),
        _ => false,
    });
    if polls {
        return;
    }
    let Some(seconds) = call
        .arguments
        .args
        .first()
        .filter(|argument| is_number(argument))
    else {
        return;
    };
    let seconds_text = checker.text(seconds);
    if seconds_text
        .trim_start_matches('0')
        .trim_start_matches('.')
        .trim_start_matches('0')
        .is_empty()
    {
        return; // `sleep(0)`: a yield, not a wait
    }
    let scope = checker.scope();
    let ScopeKind::Function(function) = scope.kind else {
        return;
    };
    // A sleep in a `while` loop of the function polls a condition.
    if !is_test_or_setup(checker, function) || scope.whiles > 0 {
        return;
    }
    findings.push(RULE.finding(
        checker.range(call),
        format!(
            "`{name}({seconds_text})` waits a fixed time in a test: slow when the wait is too long, flaky when it is too short"
        ),
    ));
}

/// A number, or arithmetic on numbers (`0.1 * 5`). Iterative: an operand chain nests
/// once per operator.
fn is_number(expression: &Expr) -> bool {
    let mut pending = vec![expression];
    while let Some(expression) = pending.pop() {
        match expression {
            Expr::NumberLiteral(_) => {}
            Expr::BinOp(operation) => pending.extend([&*operation.left, &*operation.right]),
            _ => return false,
        }
    }
    true
}

/// A test, a setup method, or a pytest fixture.
fn is_test_or_setup(checker: &Checker, function: &StmtFunctionDef) -> bool {
    let name = function.name.as_str();
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
        .decorator_list
        .iter()
        .any(|decorator| checker.text(decorator).contains("fixture"))
}
