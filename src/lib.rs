//! stackaudit: audits full-stack web projects (Python back ends, Dockerfiles, compose
//! files) as a language server and as a CLI. Data flows one way: document -> rules ->
//! findings (with fixes) -> LSP messages or CLI output; both front ends share all of it.

pub mod audit;
pub mod cli;
pub mod config;
pub mod document;
pub mod fix;
pub mod index;
pub mod language;
pub mod rules;
pub mod schema;
pub mod semantic;
pub mod server;
pub mod suppression;
pub mod syntax;
