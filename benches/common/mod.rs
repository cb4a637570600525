//! What the benches share: the generated inputs and where the comparison tools live.

#![allow(clippy::disallowed_methods)] // Starts the servers and tools being compared.
#![allow(dead_code)] // each bench uses its own part

use std::path::PathBuf;
use std::time::Duration;

/// A service module of about `lines` lines: async handlers with DB and Redis calls,
/// helper classes. Every handler has three findings (a blocking `time.sleep`, a commit
/// whose handler does not roll back, a call on a sync Redis client): a stress case.
pub fn python_module(lines: usize) -> String {
    python_module_with_findings_every(lines, 1)
}

/// The same module where only every `every`-th handler has those findings and the rest
/// are written the correct way (`await asyncio.sleep`, a rollback, an async client).
pub fn python_module_with_findings_every(lines: usize, every: usize) -> String {
    let mut out = String::from(
        "import asyncio\nimport time\nimport logging\n\nimport redis\nimport redis.asyncio as aioredis\nimport requests\n\
         from sqlalchemy.exc import IntegrityError\n\nfrom app.db import SessionLocal\n\n\
         logger = logging.getLogger(__name__)\ncache = redis.Redis(socket_timeout=2)\n\
         acache = aioredis.Redis(socket_timeout=2)\n\n",
    );
    let mut index = 0;
    let mut count = out.matches('\n').count();
    while count < lines {
        index += 1;
        let flawed = index % every == 0;
        let (sleep, rollback, set) = if flawed {
            ("time.sleep(0.01)", "", "cache.set")
        } else {
            (
                "await asyncio.sleep(0.01)",
                "        db.rollback()\n",
                "await acache.set",
            )
        };
        let chunk = format!(
            "\n\nasync def handler_{index}(user_id: int, db):\n    \"\"\"Serve request kind {index}.\"\"\"\n    \
             payload = {{\"id\": user_id, \"kind\": {index}}}\n    if user_id % 7 == 0:\n        {sleep}\n    \
             try:\n        db.add(payload)\n        db.commit()\n    except IntegrityError:\n{rollback}        \
             logger.warning(\"duplicate %s\", user_id)\n    {set}(f\"user:{{user_id}}:{index}\", payload[\"kind\"], ex=60)\n    \
             return [value * 2 for value in range(10) if value % 2]\n\n\n\
             class Repository{index}:\n    def __init__(self, session):\n        self.session = session\n\n    \
             def total(self, values):\n        result = 0\n        for value in values:\n            result += value\n        \
             return result\n"
        );
        count += chunk.matches('\n').count();
        out.push_str(&chunk);
    }
    out
}

/// A Dockerfile with a hard-coded secret, different for each `index`.
pub fn dockerfile(index: usize) -> String {
    format!(
        "FROM python:3.12-slim\nWORKDIR /srv/app{index}\nENV APP_ENV=production\n\
         ENV API_TOKEN=tok-{index}-0123456789abcdef\nCOPY . .\nRUN pip install -r requirements.txt\n\
         USER app\nCMD [\"uvicorn\", \"app.main:app\"]\n"
    )
}

/// A compose file with a service per line of the loop, one with a password.
pub fn compose(index: usize) -> String {
    format!(
        "services:\n  api{index}:\n    image: shop/api:{index}\n    environment:\n      \
         DATABASE_URL: postgresql://app@db/app\n      POSTGRES_PASSWORD: hunter{index}\n  \
         redis:\n    image: redis:7\n"
    )
}

/// A multi-stage Dockerfile of about `lines` lines, with a secret in every stage.
pub fn large_dockerfile(lines: usize) -> String {
    let mut out = String::from("# syntax=docker/dockerfile:1\n");
    let mut stage = 0;
    while out.lines().count() < lines {
        stage += 1;
        out.push_str(&format!(
            "FROM python:3.12-slim AS stage{stage}\nARG VERSION_{stage}=1.{stage}\nWORKDIR /srv/stage{stage}\n\
             ENV APP_ENV=production PORT=80{stage:02}\nENV SERVICE_TOKEN_{stage}=tok-{stage}-0123456789abcdef\n\
             COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt \\\n    && useradd app{stage}\n\
             COPY . .\nUSER app{stage}\nEXPOSE 80{stage:02}\nCMD [\"uvicorn\", \"app.main:app\"]\n\n"
        ));
    }
    out
}

/// A compose file of about `lines` lines: services with environments, some secrets.
pub fn large_compose(lines: usize) -> String {
    let mut out = String::from("services:\n");
    let mut service = 0;
    while out.lines().count() < lines {
        service += 1;
        out.push_str(&format!(
            "  api{service}:\n    image: shop/api:{service}\n    restart: unless-stopped\n    environment:\n      \
             APP_ENV: production\n      DATABASE_URL: postgresql://app@db/app{service}\n      \
             POSTGRES_PASSWORD: hunter{service}\n      API_KEY: ${{API_KEY}}\n    ports:\n      - \"80{service:02}:80\"\n    \
             depends_on:\n      - db\n"
        ));
    }
    out
}

/// The folder `benches/setup.sh` fills (same rule as the script).
pub fn tool_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("STACKAUDIT_BENCH_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp/.cache"));
    base.join("stackaudit-bench")
}

/// A version pinned in `benches/setup.sh` (`NAME=version`).
fn pinned(name: &str) -> String {
    include_str!("../setup.sh")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("benches/setup.sh pins {name}"))
        .to_string()
}

fn pinned_venv() -> PathBuf {
    tool_cache().join(format!(
        "venv-ruff{}-semgrep{}",
        pinned("RUFF_VERSION"),
        pinned("SEMGREP_VERSION")
    ))
}

/// A program `benches/setup.sh` installed (`ruff`, `semgrep`), if it did.
pub fn installed_tool(name: &str) -> Option<PathBuf> {
    ensure_setup();
    Some(pinned_venv().join("bin").join(name)).filter(|path| path.is_file())
}

/// The unpacked Django source release, if `benches/setup.sh` fetched it.
pub fn django_tree() -> Option<PathBuf> {
    ensure_setup();
    Some(tool_cache().join(format!("Django-{}", pinned("DJANGO_VERSION"))))
        .filter(|path| path.join("django").is_dir())
}

/// Run `benches/setup.sh` (once per bench process) when what it prepares is missing:
/// the benches' setup step, which downloads the pinned tools and sources into the
/// cache. `STACKAUDIT_BENCH_OFFLINE=1` skips it (comparisons are then skipped).
fn ensure_setup() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let ready = pinned_venv().join("bin/ruff").is_file()
            && pinned_venv().join("bin/semgrep").is_file()
            && tool_cache()
                .join(format!("Django-{}", pinned("DJANGO_VERSION")))
                .join("django")
                .is_dir();
        if ready || std::env::var_os("STACKAUDIT_BENCH_OFFLINE").is_some() {
            return;
        }
        println!("preparing the comparison tools and sources (benches/setup.sh)...");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/setup.sh");
        let ok = std::process::Command::new("bash")
            .arg(script)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !ok {
            println!("benches/setup.sh failed: comparisons that need it are skipped");
        }
    });
}

/// What `program --version` prints, trimmed (empty when it cannot say).
pub fn version_of(program: &std::path::Path) -> String {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

pub struct Spread {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub runs: usize,
}

pub fn spread(mut samples: Vec<Duration>) -> Spread {
    samples.sort();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 * fraction).ceil() as usize).saturating_sub(1);
        samples[index.min(samples.len() - 1)]
    };
    Spread {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: *samples.last().expect("samples"),
        runs: samples.len(),
    }
}

/// A FastAPI module of about `lines` lines with a route every ~15 lines (more than 300
/// routes at 5,000 lines) on three routers: `router`, `admin` (included into the app
/// with an authenticating dependency) and `internal` (whose own `APIRouter` carries
/// one). Module level holds `import requests`, a `requests.Session`, a Redis client and
/// a session factory; some routes authenticate per route, some write without it.
pub fn fastapi_module(lines: usize) -> String {
    let mut out = String::from(
        "import logging\n\nimport redis\nimport requests\nfrom fastapi import APIRouter, Depends, FastAPI, HTTPException\n\
         from sqlalchemy.orm import Session, sessionmaker\n\nfrom app.auth import get_current_user, verify_token\n\
         from app.db import engine\n\nlogger = logging.getLogger(__name__)\nhttp = requests.Session()\n\
         cache = redis.Redis(socket_timeout=2)\nSessionLocal = sessionmaker(bind=engine)\n\n\
         app = FastAPI()\nrouter = APIRouter(prefix=\"/items\")\nadmin = APIRouter(prefix=\"/admin\")\n\
         internal = APIRouter(prefix=\"/internal\", dependencies=[Depends(verify_token)])\n\n\n\
         def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n",
    );
    let mut index = 0;
    let mut count = out.matches('\n').count();
    while count < lines {
        index += 1;
        let (router, method) = match index % 6 {
            0 => ("admin", "delete"),
            1 | 3 => ("router", "get"),
            2 => ("router", "post"),
            4 => ("internal", "put"),
            _ => ("router", "patch"),
        };
        let auth = if index % 4 == 0 {
            ", user=Depends(get_current_user)"
        } else {
            ""
        };
        let chunk = format!(
            "\n\n@{router}.{method}(\"/things{index}/{{thing_id}}\")\n\
             def handle_{index}(thing_id: int, db: Session = Depends(get_db){auth}):\n    \
             \"\"\"Route number {index}.\"\"\"\n    row = db.get(dict, thing_id)\n    if row is None:\n        \
             raise HTTPException(status_code=404)\n    cached = cache.get(f\"thing:{{thing_id}}\")\n    \
             if cached is not None:\n        return {{\"id\": thing_id, \"cached\": True}}\n    \
             reply = http.get(f\"https://api.example.com/things/{{thing_id}}\", timeout=5)\n    \
             logger.info(\"thing %s -> %s\", thing_id, reply.status_code)\n    return {{\"id\": thing_id, \"kind\": {index}}}\n"
        );
        count += chunk.matches('\n').count();
        out.push_str(&chunk);
    }
    out.push_str("\n\napp.include_router(router)\napp.include_router(admin, dependencies=[Depends(get_current_user)])\napp.include_router(internal)\n");
    out
}

/// Where a bench types: the three places of the standing budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditPlace {
    /// The end of a line inside a function body, in the middle of the module.
    EndOfBodyLine,
    /// Column 0 of an indented line inside a function body (the function's body ends
    /// there while the character stands).
    ColumnZeroOfIndentedLine,
    /// A blank line between two top-level definitions (a new top-level statement).
    BlankLineBetweenDefinitions,
}

impl EditPlace {
    pub const ALL: [EditPlace; 3] = [
        EditPlace::EndOfBodyLine,
        EditPlace::ColumnZeroOfIndentedLine,
        EditPlace::BlankLineBetweenDefinitions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EditPlace::EndOfBodyLine => "end of a body line",
            EditPlace::ColumnZeroOfIndentedLine => "column 0 of an indented line",
            EditPlace::BlankLineBetweenDefinitions => "blank line between definitions",
        }
    }

    /// `(line, column)` (0-based, in bytes = UTF-16 units: the modules are ASCII) where a
    /// character is typed in `text`, in the middle of the module.
    pub fn position(self, text: &str) -> (usize, usize) {
        let lines: Vec<&str> = text.lines().collect();
        let middle = lines.len() / 2;
        let indent = |line: &str| line.len() - line.trim_start().len();
        // A simple statement (not a block's header) indented deeper than the nearest
        // `def` above it: a line of a function's body.
        let is_body = |index: usize| {
            let line: &str = lines[index];
            let header = (0..index)
                .rev()
                .map(|above| lines[above])
                .find(|above| !above.trim().is_empty() && indent(above) < indent(line));
            !line.trim().is_empty()
                && !line.trim_end().ends_with(':')
                && header.is_some_and(|header| {
                    let header = header.trim_start();
                    header.starts_with("def ") || header.starts_with("async def ")
                })
        };
        let found = (middle..lines.len()).find_map(|index| {
            let line = lines[index];
            match self {
                EditPlace::EndOfBodyLine => is_body(index).then_some((index, line.len())),
                EditPlace::ColumnZeroOfIndentedLine => is_body(index).then_some((index, 0)),
                EditPlace::BlankLineBetweenDefinitions => (line.is_empty()
                    && index > 0
                    && lines[index - 1].is_empty()
                    && lines.get(index + 1).is_some_and(|next| {
                        next.starts_with("def ")
                            || next.starts_with("async def ")
                            || next.starts_with("class ")
                            || next.starts_with('@')
                    }))
                .then_some((index, 0)),
            }
        });
        found.unwrap_or_else(|| panic!("no place for {self:?} in the module"))
    }
}

/// A PostgreSQL schema and seed script of about `lines` lines: tables with foreign
/// keys, indexes, a trigger function in dollar quotes, views and inserts, and every
/// twentieth table written with MySQL's `KEY` and `DATETIME` (findings to publish).
pub fn sql_schema(lines: usize) -> String {
    let mut text = String::from("-- schema\nSET search_path = app, public;\n\n");
    let mut table = 0;
    while text.lines().count() < lines {
        let mysql = table % 20 == 19;
        let stamp = if mysql { "DATETIME" } else { "timestamptz" };
        text.push_str(&format!(
            "CREATE TABLE app.table_{table} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  owner_id bigint NOT NULL REFERENCES app.table_{previous} (id),\n  name text NOT NULL,\n  amount numeric(12, 2) NOT NULL DEFAULT 0,\n  created_at {stamp} NOT NULL DEFAULT now(),\n  payload jsonb{key}\n);\n\n",
            previous = table.max(1) - 1,
            key = if mysql { ",\n  KEY idx_owner (owner_id)" } else { "" },
        ));
        text.push_str(&format!(
            "CREATE INDEX ix_table_{table}_owner ON app.table_{table} (owner_id);\n\nINSERT INTO app.table_{table} (owner_id, name) VALUES (1, 'first'), (2, 'second')\n  ON CONFLICT DO NOTHING;\n\n"
        ));
        if table % 10 == 0 {
            text.push_str(&format!(
                "CREATE FUNCTION app.touch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.created_at := now();\n  RETURN NEW;\nEND;\n$$;\n\nCREATE VIEW app.recent_{table} AS\n  SELECT id, name FROM app.table_{table} WHERE created_at > now() - interval '1 day';\n\n"
            ));
        }
        table += 1;
    }
    text
}

/// An Alembic migration of about `lines` lines, as autogenerate writes a large initial
/// one (tables with keys, indexes and `sa.DateTime()` columns), with changes to older
/// tables (a column added and indexed, one dropped) and an empty `downgrade()`: every
/// Alembic rule has work in it.
pub fn alembic_migration(lines: usize) -> String {
    let mut text = String::from(
        "\"\"\"initial schema\n\nRevision ID: 1a2b3c4d5e6f\nRevises: 0f1e2d3c4b5a\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"1a2b3c4d5e6f\"\ndown_revision = \"0f1e2d3c4b5a\"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n",
    );
    let mut table = 0;
    while text.lines().count() < lines {
        text.push_str(&format!(
            "    op.create_table(\n        \"table_{table}\",\n        sa.Column(\"id\", sa.Integer(), nullable=False),\n        sa.Column(\"owner_id\", sa.Integer(), nullable=True),\n        sa.Column(\"name\", sa.String(length=120), nullable=False),\n        sa.Column(\"created_at\", sa.DateTime(), nullable=True),\n        sa.ForeignKeyConstraint([\"owner_id\"], [\"table_{previous}.id\"]),\n        sa.PrimaryKeyConstraint(\"id\"),\n    )\n    op.create_index(op.f(\"ix_table_{table}_owner_id\"), \"table_{table}\", [\"owner_id\"], unique=False)\n    op.add_column(\"legacy_{table}\", sa.Column(\"note\", sa.Text(), nullable=True))\n    op.create_index(\"ix_legacy_{table}_note\", \"legacy_{table}\", [\"note\"])\n    op.drop_column(\"legacy_{table}\", \"old_note\")\n",
            previous = table.max(1) - 1,
        ));
        table += 1;
    }
    text.push_str("\n\ndef downgrade() -> None:\n    pass\n");
    text
}

/// Where a character is typed in a SQL script (`sql_schema`), in its middle.
#[derive(Debug, Clone, Copy)]
pub enum SqlEditPlace {
    /// The end of a column's line inside `CREATE TABLE`.
    EndOfColumnLine,
    /// Column 0 of a column's line.
    ColumnZeroOfColumnLine,
    /// A blank line between two statements (a new statement).
    BlankLineBetweenStatements,
}

impl SqlEditPlace {
    pub const ALL: [SqlEditPlace; 3] = [
        SqlEditPlace::EndOfColumnLine,
        SqlEditPlace::ColumnZeroOfColumnLine,
        SqlEditPlace::BlankLineBetweenStatements,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SqlEditPlace::EndOfColumnLine => "end of a column line",
            SqlEditPlace::ColumnZeroOfColumnLine => "column 0 of a column line",
            SqlEditPlace::BlankLineBetweenStatements => "blank line between statements",
        }
    }

    /// `(line, column)` (0-based) in the middle of `text`.
    pub fn position(self, text: &str) -> (usize, usize) {
        let lines: Vec<&str> = text.lines().collect();
        let middle = lines.len() / 2;
        (middle..lines.len())
            .find_map(|index| {
                let line = lines[index];
                match self {
                    SqlEditPlace::EndOfColumnLine => line
                        .starts_with("  name text")
                        .then_some((index, line.len())),
                    SqlEditPlace::ColumnZeroOfColumnLine => {
                        line.starts_with("  name text").then_some((index, 0))
                    }
                    SqlEditPlace::BlankLineBetweenStatements => (line.is_empty()
                        && lines
                            .get(index + 1)
                            .is_some_and(|next| next.starts_with("CREATE TABLE")))
                    .then_some((index, 0)),
                }
            })
            .unwrap_or((middle, 0))
    }
}
