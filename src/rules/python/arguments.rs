//! A call's arguments on Ruff's tree: the edits that remove one.

use ruff_python_ast::Arguments;

use super::checker::Checker;
use crate::rules::Edit;

/// The edit that removes the argument at `index` (in source order) of `arguments`, with
/// the comma that separates it; `None` when a comment stands in what would go.
pub fn remove_argument(checker: &Checker, arguments: &Arguments, index: usize) -> Option<Edit> {
    let all: Vec<_> = arguments
        .iter_source_order()
        .map(|argument| checker.range(&argument))
        .collect();
    let argument = all.get(index)?.clone();
    let range = if let Some(next) = all.get(index + 1) {
        // `a, debug=True, b` -> `a, b`: up to the next argument.
        argument.start..next.start
    } else if let Some(previous) = index.checked_sub(1).and_then(|i| all.get(i)) {
        // The last one: from the end of the previous argument (its comma goes too).
        previous.end..argument.end
    } else {
        // The only one: `f(debug=True,)` -> `f()`.
        let close = checker.range(arguments).end.checked_sub(1)?;
        argument.start..close.max(argument.end)
    };
    if checker.source.get(range.clone())?.contains('#') {
        return None; // a comment in between would go with it
    }
    Some(Edit::replace(range, ""))
}

/// The keyword argument `name=` of a call, with its index among the arguments in
/// source order (what `remove_argument` takes).
pub fn keyword_with_index<'a>(
    arguments: &'a Arguments,
    name: &str,
) -> Option<(usize, &'a ruff_python_ast::Keyword)> {
    arguments
        .iter_source_order()
        .enumerate()
        .find_map(|(index, argument)| match argument {
            ruff_python_ast::ArgOrKeyword::Keyword(keyword)
                if keyword.arg.as_ref().is_some_and(|arg| arg.as_str() == name) =>
            {
                Some((index, keyword))
            }
            _ => None,
        })
}
