//! What code means, per language, computed once per audit from its syntax and shared
//! by every rule: no rule walks a module again to find what a name is bound to.
//! Reads trees and text only; never reports (rules do) and never touches LSP types.

pub mod python;
