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

/// Modules both readings of the model are tested on (`model` on tree-sitter's tree,
/// `bound_kinds` on Ruff's), so the two say the same of them.
#[cfg(test)]
mod test_modules {
    /// Settings objects made from a class, a constructor and an import.
    pub const SETTINGS: &str = "\
from pydantic_settings import BaseSettings
from starlette.config import Config
from django.conf import settings as django_settings


class Settings(BaseSettings):
    debug: bool = False


class TestSettings(Settings):
    pass


class Plain:
    pass


settings = Settings()
test_settings = TestSettings()
config = Config(\".env\")
plain = Plain()
";

    /// Module-level containers, and names that are not.
    pub const CONTAINERS: &str = "\
import collections
from collections import defaultdict

CACHE = {}
SEEN: set[str] = set()
COUNTS = defaultdict(int)
QUEUE = collections.deque()
NAMES = [name for name in ()]
LIMIT = 10
if LIMIT:
    NESTED = []


def handler():
    local = []
    return local
";
}
