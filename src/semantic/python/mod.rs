//! The Python semantic model's parts that the rules query instead of walking a module
//! again: the values each scope binds to plain names, and the module's top-level
//! definitions by name.

pub mod bindings;
pub mod definitions;

pub use bindings::ScopedBindings;
pub use definitions::ModuleDefinitions;
