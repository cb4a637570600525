//! The Python semantic model that the rules query instead of walking a module again:
//! what names are imported as, and the kinds of object each scope binds to names.

pub mod bound_kinds;
pub mod imports;
pub mod kinds;

pub use imports::Imports;
pub use kinds::BindingKind;

/// Modules the model's tests read.
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
