//! Where a value spliced into SQL comes from, inside one function: whether it is safe
//! to splice (it cannot carry a quote, or it is quoted as an identifier) or may carry
//! anything a caller sends. Read by `sql-injection`.
//!
//! Safe: literals, UPPER_CASE constants (names and attributes), `__tablename__`, what
//! `int()`, `float()`, `bool()`, `len()`, `round()`, `abs()` and `uuid.UUID()` give,
//! `range`/`enumerate` counters (and loops over literal or constant collections),
//! arithmetic on safe values, strings joined from safe pieces (`", ".join(f":p{i}" for
//! i in range(n))`, `", ".join(["%s"] * len(ids))`), f-strings of safe values, SQL
//! identifier quoting (`quote_ident`, psycopg's `sql.Identifier`/`sql.Literal`,
//! SQLAlchemy's `quoted_name` and `preparer.quote`, `escape_identifier`), parameters
//! annotated with a type whose values hold no quote (`int`, `UUID`, `date`, `ZoneInfo`;
//! FastAPI validates them) and their attributes, class attributes assigned a safe value
//! in the class's body (`cls._threshold`), an `Enum`'s `self.value`, and local names
//! whose last assignment is one of these. Everything else (other parameters, request
//! data and their attributes, what other calls return) is not.

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::{Expr, Operator, Stmt};

use super::checker::Checker;
use super::helpers::last_assignment;
use crate::semantic::python::imports::qualified_name_of;

/// How many assignments a name is followed through.
const MAX_STEPS: u8 = 4;

/// Functions whose result cannot carry a quote.
const SAFE_CALLS: &[&str] = &[
    "int",
    "float",
    "bool",
    "len",
    "round",
    "abs",
    "uuid.UUID",
    "uuid.uuid4",
    "decimal.Decimal",
];

/// Functions and methods (by their last name) that quote an identifier or a literal
/// for SQL.
const QUOTING: &[&str] = &[
    "quote_ident",
    "quote_identifier",
    "quote_literal",
    "quote_name",
    "quoted_name",
    "escape_identifier",
    "escape_literal",
    "Identifier",
    "Literal",
    "Placeholder",
    "quote",
];

/// Whether `expression` (of the item that starts at `base`, standing at byte `at`)
/// is safe to splice into SQL. `bound` holds names that are safe where it stands
/// (the counters of a comprehension around it).
pub fn is_safe_value(
    checker: &Checker,
    expression: &Expr,
    base: usize,
    bound: &[&str],
    steps: u8,
) -> bool {
    let Some(steps) = steps.checked_sub(1) else {
        return false;
    };
    let safe = |value: &Expr| is_safe_value(checker, value, base, bound, steps + 1);
    match expression {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_) => true,
        Expr::Name(name) => {
            let id = name.id.as_str();
            let at = checker.range_at(base, name).start;
            is_constant_name(id)
                || bound.contains(&id)
                || has_safe_type(checker, id)
                || is_safe_loop_counter(checker, id, at, steps)
                || last_assignment(checker, id, at, true).is_some_and(|assigned| {
                    is_safe_value(checker, assigned.value, assigned.base, &[], steps)
                })
        }
        Expr::Attribute(attribute) => {
            let attr = attribute.attr.as_str();
            is_constant_name(attr)
                || attr == "__tablename__"
                || class_constant(checker, attribute, steps)
                // `timezone.key` of a `timezone: ZoneInfo`, `order.id` of an `order: UUID`.
                || matches!(&*attribute.value, Expr::Name(owner) if has_safe_type(checker, owner.id.as_str()))
        }
        Expr::UnaryOp(operation) => safe(&operation.operand),
        // `i + 1`, `["%s"] * len(ids)`, `%` of a safe format: read as a flat list of
        // operands (chains of `+` can be thousands long).
        Expr::BinOp(_) => {
            let mut operands = vec![expression];
            while let Some(operand) = operands.pop() {
                match operand {
                    Expr::BinOp(operation) if is_arithmetic(operation.op) => {
                        operands.push(&operation.right);
                        operands.push(&operation.left);
                    }
                    Expr::BinOp(_) => return false,
                    other => {
                        if !safe(other) {
                            return false;
                        }
                    }
                }
            }
            true
        }
        Expr::FString(string) => string.value.elements().all(|element| match element {
            ruff_python_ast::InterpolatedStringElement::Literal(_) => true,
            ruff_python_ast::InterpolatedStringElement::Interpolation(field) => {
                safe(&field.expression)
            }
        }),
        Expr::List(list) => list.elts.iter().all(safe),
        Expr::Tuple(tuple) => tuple.elts.iter().all(safe),
        Expr::Generator(generator) => comprehension_safe(
            checker,
            &generator.elt,
            &generator.generators,
            base,
            bound,
            steps,
        ),
        Expr::ListComp(list) => {
            comprehension_safe(checker, &list.elt, &list.generators, base, bound, steps)
        }
        Expr::Call(call) => {
            let func = &*call.func;
            // `", ".join(pieces)`: safe when the pieces are.
            if let Expr::Attribute(method) = func {
                if method.attr.as_str() == "join"
                    && matches!(&*method.value, Expr::StringLiteral(_))
                {
                    return call.arguments.args.first().is_some_and(safe);
                }
                if QUOTING.contains(&method.attr.as_str()) {
                    return true;
                }
            }
            if let Expr::Name(name) = func
                && QUOTING.contains(&name.id.as_str())
            {
                return true;
            }
            qualified_name_of(func, checker.imports())
                .is_some_and(|name| SAFE_CALLS.contains(&name.as_str()))
        }
        _ => false,
    }
}

fn is_arithmetic(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::Add
            | Operator::Sub
            | Operator::Mult
            | Operator::Div
            | Operator::FloorDiv
            | Operator::Mod
            | Operator::Pow
    )
}

/// A comprehension's element is safe, with the counters its loops bind safely.
fn comprehension_safe(
    checker: &Checker,
    element: &Expr,
    generators: &[ruff_python_ast::Comprehension],
    base: usize,
    bound: &[&str],
    steps: u8,
) -> bool {
    let mut names: Vec<&str> = bound.to_vec();
    for generator in generators {
        names.extend(safely_bound_names(
            checker,
            &generator.target,
            &generator.iter,
            base,
            steps,
        ));
    }
    is_safe_value(checker, element, base, &names, steps)
}

/// Types whose values cannot carry a quote: a parameter annotated with one (FastAPI
/// validates it) is safe, and so are its attributes (`zone.key`).
const SAFE_TYPES: &[&str] = &[
    "int",
    "float",
    "bool",
    "uuid.UUID",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "decimal.Decimal",
    "zoneinfo.ZoneInfo",
    "pydantic.UUID4",
    "pydantic.PositiveInt",
    "pydantic.NonNegativeInt",
];

/// Whether `name` is a parameter of the enclosing function annotated with a safe type
/// (`order_id: int`, `key: UUID | None`, `Annotated[int, Query()]`).
fn has_safe_type(checker: &Checker, name: &str) -> bool {
    let Some(function) = checker.enclosing_function() else {
        return false;
    };
    let Some(parameter) = function
        .parameters
        .iter()
        .find(|parameter| parameter.name().as_str() == name)
    else {
        return false;
    };
    let Some(annotation) = parameter.annotation() else {
        return false;
    };
    annotation_is_safe(checker, annotation)
}

fn annotation_is_safe(checker: &Checker, annotation: &Expr) -> bool {
    match annotation {
        // `int | None`
        Expr::BinOp(union) if union.op == Operator::BitOr => {
            annotation_is_safe(checker, &union.left) && annotation_is_safe(checker, &union.right)
        }
        Expr::NoneLiteral(_) => true,
        // `Optional[int]`, `Annotated[int, ...]`
        Expr::Subscript(subscript) => {
            let outer = qualified_name_of(&subscript.value, checker.imports()).unwrap_or_default();
            match (outer.as_str(), &*subscript.slice) {
                ("typing.Optional", inner) => annotation_is_safe(checker, inner),
                ("typing.Annotated", Expr::Tuple(tuple)) => tuple
                    .elts
                    .first()
                    .is_some_and(|inner| annotation_is_safe(checker, inner)),
                _ => false,
            }
        }
        other => qualified_name_of(other, checker.imports())
            .is_some_and(|name| SAFE_TYPES.contains(&name.as_str())),
    }
}

/// `self.NAME`/`cls._threshold` whose assignment in the enclosing class's body is a
/// safe value, and `self.value`/`self.name` in an `Enum` (its members are constants).
fn class_constant(
    checker: &Checker,
    attribute: &ruff_python_ast::ExprAttribute,
    steps: u8,
) -> bool {
    let Expr::Name(owner) = &*attribute.value else {
        return false;
    };
    let Some(class) = checker.enclosing_class() else {
        return false;
    };
    let owner = owner.id.as_str();
    if !matches!(owner, "self" | "cls") && owner != class.name.as_str() {
        return false;
    }
    let attr = attribute.attr.as_str();
    let is_enum = class.bases().iter().any(|base| {
        qualified_name_of(base, checker.imports()).is_some_and(|name| {
            name.starts_with("enum.") && name.ends_with("Enum") || name == "enum.Flag"
        })
    });
    if is_enum && matches!(attr, "value" | "name") {
        return true;
    }
    class.body.iter().any(|statement| {
        let (target, value) = match statement {
            Stmt::Assign(assign) => match assign.targets.as_slice() {
                [target] => (target, Some(&*assign.value)),
                _ => return false,
            },
            Stmt::AnnAssign(assign) => (&*assign.target, assign.value.as_deref()),
            _ => return false,
        };
        matches!(target, Expr::Name(name) if name.id.as_str() == attr)
            && value.is_some_and(|value| is_safe_value(checker, value, checker.base(), &[], steps))
    })
}

/// `NAME`, `MAX_ROWS`: a constant by convention.
pub fn is_constant_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase())
}

/// The names a loop's `target` binds to safe values from `iter`: the counter of
/// `range(...)` and `enumerate(...)`, and the items of a literal or constant collection.
fn safely_bound_names<'t>(
    checker: &Checker,
    target: &'t Expr,
    iter: &Expr,
    base: usize,
    steps: u8,
) -> Vec<&'t str> {
    let called = match iter {
        Expr::Call(call) => qualified_name_of(&call.func, checker.imports()),
        _ => None,
    };
    match (called.as_deref(), target) {
        (Some("range"), Expr::Name(name)) => vec![name.id.as_str()],
        (Some("enumerate"), Expr::Tuple(tuple)) => match tuple.elts.first() {
            Some(Expr::Name(counter)) => vec![counter.id.as_str()],
            _ => Vec::new(),
        },
        (None, Expr::Name(name))
            if matches!(
                iter,
                Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) | Expr::Name(_)
            ) && is_safe_value(checker, iter, base, &[], steps) =>
        {
            vec![name.id.as_str()]
        }
        _ => Vec::new(),
    }
}

/// Whether `name`, used at byte `at`, is bound there by a `for` loop of the enclosing
/// function to a safe value (a counter, an item of a constant collection).
fn is_safe_loop_counter(checker: &Checker, name: &str, at: usize, steps: u8) -> bool {
    let Some(function) = checker.enclosing_function() else {
        return false;
    };
    let mut loops = LoopsAround {
        checker,
        at,
        found: Vec::new(),
    };
    loops.visit_body(&function.body);
    loops.found.iter().any(|(target, iter)| {
        safely_bound_names(checker, target, iter, checker.base(), steps).contains(&name)
    })
}

/// The `for` loops (target and iterable) whose body or `else` holds byte `at`, in the
/// statements walked (nested definitions aside).
struct LoopsAround<'c, 'a, 't> {
    checker: &'c Checker<'c, 'a>,
    at: usize,
    found: Vec<(&'t Expr, &'t Expr)>,
}

impl<'t> StatementVisitor<'t> for LoopsAround<'_, '_, 't> {
    fn visit_stmt(&mut self, statement: &'t Stmt) {
        if !self.checker.range(statement).contains(&self.at) {
            return;
        }
        match statement {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            // Not its header (`for r in rows` reads `rows` where `r` is not bound yet).
            Stmt::For(for_loop) if self.at > self.checker.range(&*for_loop.iter).end => {
                self.found.push((&for_loop.target, &for_loop.iter));
            }
            _ => {}
        }
        statement_visitor::walk_stmt(self, statement);
    }
}

/// Whether every value spliced by the pieces of `values` is safe.
pub fn all_safe<'e>(
    checker: &Checker,
    values: impl IntoIterator<Item = &'e Expr>,
    base: usize,
) -> bool {
    values
        .into_iter()
        .all(|value| is_safe_value(checker, value, base, &[], MAX_STEPS))
}
