//! What kind of object a binding holds, judged from the call that made it or the
//! annotation that declares it: the clients, sessions and factories our rules reason
//! about. Names are fully qualified (resolved through imports) before they get here.

/// What a name, attribute or expression holds, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingKind {
    /// A redis-py client (`redis.Redis(...)`, `redis.asyncio.from_url(...)`).
    RedisClient { asynchronous: bool },
    /// A Redis pipeline: commands are queued and sent by `execute()`.
    RedisPipeline { asynchronous: bool },
    /// A Redis publish/subscribe handle (`<client>.pubsub()`).
    RedisPubSub,
    /// An HTTP client that keeps connections (`requests.Session()`, `httpx.Client()`).
    HttpClient {
        library: HttpLibrary,
        asynchronous: bool,
    },
    /// A SQLAlchemy engine (`create_engine`, `create_async_engine`).
    DatabaseEngine { asynchronous: bool },
    /// Something that makes sessions when called (`sessionmaker(...)`).
    SessionFactory { asynchronous: bool },
    /// A database session (`Session(engine)`, `SessionLocal()`, `db: Session`).
    Session { asynchronous: bool },
    /// A web application (`FastAPI()`, `Starlette()`, `Flask(__name__)`).
    WebApp,
    /// A router of one (`APIRouter()`, `Blueprint(...)`).
    Router,
    /// A settings object: an instance of a `pydantic_settings.BaseSettings` subclass,
    /// Starlette's `Config(...)`, python-decouple's `config`, Django's `settings`.
    Settings,
    /// A mutable container bound at module level (`CACHE = {}`, `seen = set()`).
    Container(ContainerKind),
    /// A password hasher whose `hash`/`verify` burn CPU on purpose (passlib's
    /// `CryptContext(...)`, argon2-cffi's `PasswordHasher()`).
    PasswordHasher,
    /// A connection or client of a database other than PostgreSQL (`sqlite3.connect`,
    /// `duckdb.connect`, `pymysql.connect`, a ClickHouse, Snowflake or BigQuery client),
    /// and the cursors and connections it makes: its SQL is another dialect's.
    OtherDatabase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    List,
    Dict,
    Set,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::List => "list",
            ContainerKind::Dict => "dict",
            ContainerKind::Set => "set",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpLibrary {
    Requests,
    Httpx,
    Aiohttp,
}

impl BindingKind {
    /// An app or router: something routes are registered on.
    pub fn is_web_router(self) -> bool {
        matches!(self, BindingKind::WebApp | BindingKind::Router)
    }

    /// A Redis client or pipeline: something that sends commands.
    pub fn is_redis_client(self) -> bool {
        matches!(
            self,
            BindingKind::RedisClient { .. } | BindingKind::RedisPipeline { .. }
        )
    }

    /// One byte that tells kinds apart (for hashes of what a module binds).
    pub fn code(self) -> u8 {
        let (variant, asynchronous) = match self {
            BindingKind::RedisClient { asynchronous } => (0, asynchronous),
            BindingKind::RedisPipeline { asynchronous } => (1, asynchronous),
            BindingKind::RedisPubSub => (2, false),
            BindingKind::HttpClient {
                library,
                asynchronous,
            } => (3 + library as u8, asynchronous),
            BindingKind::DatabaseEngine { asynchronous } => (6, asynchronous),
            BindingKind::SessionFactory { asynchronous } => (7, asynchronous),
            BindingKind::Session { asynchronous } => (8, asynchronous),
            BindingKind::WebApp => (9, false),
            BindingKind::Router => (10, false),
            BindingKind::Settings => (11, false),
            BindingKind::Container(container) => (12 + container as u8, false),
            BindingKind::PasswordHasher => (15, false),
            BindingKind::OtherDatabase => (16, false),
        };
        variant << 1 | u8::from(asynchronous)
    }
}

const SYNC_REDIS_CONSTRUCTORS: &[&str] = &[
    "redis.Redis",
    "redis.StrictRedis",
    "redis.from_url",
    "redis.Redis.from_url",
    "redis.StrictRedis.from_url",
    "redis.client.Redis",
    "redis.client.StrictRedis",
    "redis.RedisCluster",
    "redis.cluster.RedisCluster",
];

const ASYNC_REDIS_CONSTRUCTORS: &[&str] = &[
    "redis.asyncio.Redis",
    "redis.asyncio.StrictRedis",
    "redis.asyncio.from_url",
    "redis.asyncio.Redis.from_url",
    "redis.asyncio.client.Redis",
    "redis.asyncio.RedisCluster",
    "aioredis.Redis",
    "aioredis.from_url",
    "aioredis.Redis.from_url",
];

/// Redis connection pools, which take the socket options their clients would.
pub const REDIS_POOL_CONSTRUCTORS: &[&str] = &[
    "redis.ConnectionPool",
    "redis.BlockingConnectionPool",
    "redis.ConnectionPool.from_url",
    "redis.BlockingConnectionPool.from_url",
    "redis.connection.ConnectionPool",
    "redis.connection.BlockingConnectionPool",
    "redis.asyncio.ConnectionPool",
    "redis.asyncio.BlockingConnectionPool",
    "redis.asyncio.ConnectionPool.from_url",
    "redis.asyncio.BlockingConnectionPool.from_url",
    "redis.asyncio.connection.ConnectionPool",
];

/// Whether a fully qualified name makes a Redis client (sync or async).
pub fn is_redis_client_constructor(name: &str) -> bool {
    SYNC_REDIS_CONSTRUCTORS.contains(&name) || ASYNC_REDIS_CONSTRUCTORS.contains(&name)
}

const REQUESTS_SESSION: BindingKind = BindingKind::HttpClient {
    library: HttpLibrary::Requests,
    asynchronous: false,
};
const HTTPX_CLIENT: BindingKind = BindingKind::HttpClient {
    library: HttpLibrary::Httpx,
    asynchronous: false,
};
const HTTPX_ASYNC_CLIENT: BindingKind = BindingKind::HttpClient {
    library: HttpLibrary::Httpx,
    asynchronous: true,
};
const AIOHTTP_SESSION: BindingKind = BindingKind::HttpClient {
    library: HttpLibrary::Aiohttp,
    asynchronous: true,
};
const ENGINE: BindingKind = BindingKind::DatabaseEngine {
    asynchronous: false,
};
const ASYNC_ENGINE: BindingKind = BindingKind::DatabaseEngine { asynchronous: true };
const SESSION_FACTORY: BindingKind = BindingKind::SessionFactory {
    asynchronous: false,
};
const ASYNC_SESSION_FACTORY: BindingKind = BindingKind::SessionFactory { asynchronous: true };
const SESSION: BindingKind = BindingKind::Session {
    asynchronous: false,
};
const ASYNC_SESSION: BindingKind = BindingKind::Session { asynchronous: true };

/// Calls (fully qualified) whose result is of a known kind. Session factories whose
/// class is chosen by an argument (`sessionmaker(class_=AsyncSession)`) are settled by
/// the caller (`constructed_kind`).
const CONSTRUCTORS: &[(&str, BindingKind)] = &[
    ("requests.Session", REQUESTS_SESSION),
    ("requests.session", REQUESTS_SESSION),
    ("requests.sessions.Session", REQUESTS_SESSION),
    ("httpx.Client", HTTPX_CLIENT),
    ("httpx.AsyncClient", HTTPX_ASYNC_CLIENT),
    ("aiohttp.ClientSession", AIOHTTP_SESSION),
    ("sqlalchemy.create_engine", ENGINE),
    ("sqlmodel.create_engine", ENGINE),
    ("sqlalchemy.ext.asyncio.create_async_engine", ASYNC_ENGINE),
    ("sqlalchemy.orm.sessionmaker", SESSION_FACTORY),
    ("sqlalchemy.orm.scoped_session", SESSION_FACTORY),
    (
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        ASYNC_SESSION_FACTORY,
    ),
    (
        "sqlalchemy.ext.asyncio.async_scoped_session",
        ASYNC_SESSION_FACTORY,
    ),
    ("sqlalchemy.orm.Session", SESSION),
    ("sqlmodel.Session", SESSION),
    ("sqlalchemy.ext.asyncio.AsyncSession", ASYNC_SESSION),
    ("sqlmodel.ext.asyncio.session.AsyncSession", ASYNC_SESSION),
    ("fastapi.FastAPI", BindingKind::WebApp),
    ("starlette.applications.Starlette", BindingKind::WebApp),
    ("flask.Flask", BindingKind::WebApp),
    ("fastapi.APIRouter", BindingKind::Router),
    ("fastapi.routing.APIRouter", BindingKind::Router),
    ("flask.Blueprint", BindingKind::Router),
    ("starlette.config.Config", BindingKind::Settings),
    ("decouple.AutoConfig", BindingKind::Settings),
    ("decouple.Config", BindingKind::Settings),
    ("dynaconf.Dynaconf", BindingKind::Settings),
    ("dynaconf.LazySettings", BindingKind::Settings),
    ("environs.Env", BindingKind::Settings),
    ("sqlite3.connect", BindingKind::OtherDatabase),
    ("aiosqlite.connect", BindingKind::OtherDatabase),
    ("duckdb.connect", BindingKind::OtherDatabase),
    ("duckdb.DuckDBPyConnection", BindingKind::OtherDatabase),
    ("pymysql.connect", BindingKind::OtherDatabase),
    ("pymysql.connections.Connection", BindingKind::OtherDatabase),
    ("MySQLdb.connect", BindingKind::OtherDatabase),
    ("mysql.connector.connect", BindingKind::OtherDatabase),
    ("aiomysql.connect", BindingKind::OtherDatabase),
    ("aiomysql.create_pool", BindingKind::OtherDatabase),
    ("clickhouse_connect.get_client", BindingKind::OtherDatabase),
    (
        "clickhouse_connect.get_async_client",
        BindingKind::OtherDatabase,
    ),
    ("clickhouse_driver.Client", BindingKind::OtherDatabase),
    ("snowflake.connector.connect", BindingKind::OtherDatabase),
    ("google.cloud.bigquery.Client", BindingKind::OtherDatabase),
    ("pyodbc.connect", BindingKind::OtherDatabase),
    ("pymssql.connect", BindingKind::OtherDatabase),
    ("oracledb.connect", BindingKind::OtherDatabase),
    ("cx_Oracle.connect", BindingKind::OtherDatabase),
    ("trino.dbapi.connect", BindingKind::OtherDatabase),
    ("databricks.sql.connect", BindingKind::OtherDatabase),
    ("pyathena.connect", BindingKind::OtherDatabase),
    ("nzpy.connect", BindingKind::OtherDatabase),
    ("teradatasql.connect", BindingKind::OtherDatabase),
    ("passlib.context.CryptContext", BindingKind::PasswordHasher),
    ("argon2.PasswordHasher", BindingKind::PasswordHasher),
    (
        "argon2.low_level.PasswordHasher",
        BindingKind::PasswordHasher,
    ),
];

/// Objects a library makes for its users, bound by importing them.
const IMPORTED_OBJECTS: &[(&str, BindingKind)] = &[
    ("django.conf.settings", BindingKind::Settings),
    ("decouple.config", BindingKind::Settings),
];

/// Base classes whose subclasses are settings (instances read the environment).
pub const SETTINGS_BASES: &[&str] = &[
    "pydantic_settings.BaseSettings",
    "pydantic.BaseSettings",
    "pydantic.v1.BaseSettings",
];

/// Calls (fully qualified) that make a mutable container.
pub const CONTAINER_CONSTRUCTORS: &[(&str, ContainerKind)] = &[
    ("list", ContainerKind::List),
    ("dict", ContainerKind::Dict),
    ("set", ContainerKind::Set),
    ("collections.defaultdict", ContainerKind::Dict),
    ("collections.OrderedDict", ContainerKind::Dict),
    ("collections.Counter", ContainerKind::Dict),
    ("collections.deque", ContainerKind::List),
];

/// The container a call of the fully qualified `name` makes.
pub fn container_made_by(name: &str) -> Option<ContainerKind> {
    CONTAINER_CONSTRUCTORS
        .iter()
        .find(|(constructor, _)| *constructor == name)
        .map(|(_, kind)| *kind)
}

/// The kind of an object a library makes, bound by importing its fully qualified
/// `name` (`from django.conf import settings`).
pub fn imported_kind(name: &str) -> Option<BindingKind> {
    listed(IMPORTED_OBJECTS, name)
}

/// Classes that only annotations name (nothing calls them to make one).
const ANNOTATIONS: &[(&str, BindingKind)] = &[
    ("sqlalchemy.Engine", ENGINE),
    ("sqlalchemy.engine.Engine", ENGINE),
    ("sqlalchemy.engine.base.Engine", ENGINE),
    ("sqlalchemy.ext.asyncio.AsyncEngine", ASYNC_ENGINE),
    ("sqlalchemy.orm.session.Session", SESSION),
    ("sqlalchemy.orm.session.sessionmaker", SESSION_FACTORY),
];

/// The kind a table gives the fully qualified `name`.
fn listed(table: &[(&str, BindingKind)], name: &str) -> Option<BindingKind> {
    table
        .iter()
        .find(|(listed, _)| *listed == name)
        .map(|(_, kind)| *kind)
}

/// Whether `name` is the last part of a known constructor (`from_url`, `Session`,
/// `create_engine`): a cheap test of a call's shape before names are resolved.
pub fn is_constructor_last_name(name: &str) -> bool {
    SYNC_REDIS_CONSTRUCTORS
        .iter()
        .chain(ASYNC_REDIS_CONSTRUCTORS)
        .chain(CONSTRUCTORS.iter().map(|(constructor, _)| constructor))
        .any(|constructor| constructor.rsplit('.').next() == Some(name))
}

/// What a call to the fully qualified `name` makes. `class_argument` is the text of
/// its `class_=` argument, which makes a `sessionmaker` asynchronous.
pub fn constructed_kind(name: &str, class_argument: Option<&str>) -> Option<BindingKind> {
    if SYNC_REDIS_CONSTRUCTORS.contains(&name) {
        return Some(BindingKind::RedisClient {
            asynchronous: false,
        });
    }
    if ASYNC_REDIS_CONSTRUCTORS.contains(&name) {
        return Some(BindingKind::RedisClient { asynchronous: true });
    }
    let kind = listed(CONSTRUCTORS, name)?;
    let makes_async_sessions = class_argument.is_some_and(|class| class.ends_with("AsyncSession"));
    Some(match kind {
        BindingKind::SessionFactory { .. } if makes_async_sessions => ASYNC_SESSION_FACTORY,
        kind => kind,
    })
}

/// What an annotation naming the fully qualified `name` declares. Redis clients are
/// recognised by their class's name whatever the module path (`redis.client.Redis`,
/// a re-export, a stub); the others by their qualified name only, since `Session` and
/// `Client` mean different things in different libraries.
pub fn annotated_kind(name: &str) -> Option<BindingKind> {
    let last = name.rsplit('.').next().unwrap_or(name);
    let asynchronous = name.starts_with("redis.asyncio") || name.starts_with("aioredis");
    match last {
        "Redis" | "StrictRedis" | "RedisCluster" => {
            return Some(BindingKind::RedisClient { asynchronous });
        }
        "Pipeline" if name.contains("redis") => {
            return Some(BindingKind::RedisPipeline { asynchronous });
        }
        "PubSub" if name.contains("redis") => return Some(BindingKind::RedisPubSub),
        _ => {}
    }
    listed(CONSTRUCTORS, name).or_else(|| listed(ANNOTATIONS, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_annotations_name_their_kinds() {
        assert_eq!(
            constructed_kind("redis.asyncio.from_url", None),
            Some(BindingKind::RedisClient { asynchronous: true })
        );
        assert_eq!(
            constructed_kind("sqlalchemy.orm.sessionmaker", Some("AsyncSession")),
            Some(BindingKind::SessionFactory { asynchronous: true })
        );
        assert_eq!(
            constructed_kind("sqlalchemy.orm.sessionmaker", None),
            Some(BindingKind::SessionFactory {
                asynchronous: false
            })
        );
        assert_eq!(constructed_kind("requests.get", None), None);
        assert_eq!(
            annotated_kind("sqlalchemy.ext.asyncio.AsyncSession"),
            Some(BindingKind::Session { asynchronous: true })
        );
        assert_eq!(
            annotated_kind("redis.client.Redis"),
            Some(BindingKind::RedisClient {
                asynchronous: false
            })
        );
        // `Session` alone is no one library's session.
        assert_eq!(annotated_kind("Session"), None);
        assert_eq!(annotated_kind("app.models.Client"), None);
    }

    #[test]
    fn kind_codes_are_distinct() {
        let kinds = [
            BindingKind::RedisClient { asynchronous: true },
            BindingKind::RedisClient {
                asynchronous: false,
            },
            BindingKind::RedisPipeline { asynchronous: true },
            BindingKind::RedisPipeline {
                asynchronous: false,
            },
            BindingKind::RedisPubSub,
            BindingKind::HttpClient {
                library: HttpLibrary::Requests,
                asynchronous: false,
            },
            BindingKind::HttpClient {
                library: HttpLibrary::Httpx,
                asynchronous: false,
            },
            BindingKind::HttpClient {
                library: HttpLibrary::Httpx,
                asynchronous: true,
            },
            BindingKind::HttpClient {
                library: HttpLibrary::Aiohttp,
                asynchronous: true,
            },
            BindingKind::DatabaseEngine { asynchronous: true },
            BindingKind::SessionFactory { asynchronous: true },
            BindingKind::Session { asynchronous: true },
            BindingKind::Session {
                asynchronous: false,
            },
            BindingKind::WebApp,
            BindingKind::Router,
            BindingKind::Settings,
            BindingKind::Container(ContainerKind::List),
            BindingKind::Container(ContainerKind::Dict),
            BindingKind::Container(ContainerKind::Set),
        ];
        let codes: std::collections::HashSet<u8> = kinds.iter().map(|kind| kind.code()).collect();
        assert_eq!(codes.len(), kinds.len());
    }
}
