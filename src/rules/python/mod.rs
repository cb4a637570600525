//! Python rules, one per file, and what they share: the traversal that runs them
//! (`checker`), the module's scope, routes and header, and helpers that read Ruff's
//! tree or the text. Helpers never report.

pub mod bind_all_interfaces;
pub mod blocking_io_in_async;
pub mod broad_except;
pub mod checker;
pub mod cors_wildcard_credentials;
pub mod db_pool_without_timeout;
pub mod debug_in_production;
pub mod dependencies;
pub mod exceptions;
pub mod file_kind;
pub mod fk_without_index;
pub mod global_mutable_state;
pub mod hardcoded_secret;
pub mod header;
pub mod helpers;
pub mod http_without_timeout;
pub mod import_inside_function;
pub mod missing_auth_dependency;
pub mod missing_rollback;
pub mod module_scope;
pub mod n_plus_one_query;
pub mod provenance;
pub mod pubsub_without_reconnect;
pub mod redis_client_without_timeout;
pub mod redis_key_without_ttl;
pub mod redis_keys_command;
pub mod redis_race_condition;
pub mod redis_silent_failure;
pub mod routes;
pub mod session_shared_across_requests;
pub mod sleep_in_test;
pub mod sql;
pub mod sql_injection;
pub mod sql_syntax_in_python;
pub mod stdlib;
pub mod swallowed_exception;
pub mod type_ignore_without_reason;

use super::indentation_at;

/// The unit of indentation at `byte`: a tab when the line is indented with tabs.
pub fn indent_unit(source: &str, byte: usize) -> &'static str {
    if indentation_at(source, byte).contains('\t') {
        "\t"
    } else {
        "    "
    }
}

/// Two expressions' texts are the same once white space is ignored.
pub fn same_expression(left: &str, right: &str) -> bool {
    left.split_whitespace().eq(right.split_whitespace())
        || left
            .chars()
            .filter(|c| !c.is_whitespace())
            .eq(right.chars().filter(|c| !c.is_whitespace()))
}
