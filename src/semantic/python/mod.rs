//! The Python semantic model that the rules query instead of walking a module again:
//! what names are imported as, the values and kinds each scope binds to names, and the
//! module's top-level definitions by name.

pub mod bindings;
pub mod bound_kinds;
pub mod definitions;
pub mod imports;
pub mod kinds;
pub mod model;

pub use bindings::ScopedBindings;
pub use definitions::ModuleDefinitions;
pub use imports::Imports;
pub use kinds::BindingKind;
pub use model::{Scopes, SemanticModel};
