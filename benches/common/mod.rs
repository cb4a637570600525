//! What the benches share: the generated inputs and where the comparison tools live.

#![allow(dead_code)] // each bench uses its own part

use std::path::PathBuf;
use std::time::Duration;

/// A realistic service module: handlers with DB, Redis and HTTP calls, helpers, classes.
pub fn python_module(lines: usize) -> String {
    let mut out = String::from(
        "import time\nimport logging\n\nimport redis\nimport requests\nfrom sqlalchemy.exc import IntegrityError\n\n\
         from app.db import SessionLocal\n\nlogger = logging.getLogger(__name__)\ncache = redis.Redis(socket_timeout=2)\n\n",
    );
    let mut index = 0;
    let mut count = out.matches('\n').count();
    while count < lines {
        index += 1;
        let chunk = format!(
            "\n\nasync def handler_{index}(user_id: int, db):\n    \"\"\"Serve request kind {index}.\"\"\"\n    \
             payload = {{\"id\": user_id, \"kind\": {index}}}\n    if user_id % 7 == 0:\n        time.sleep(0.01)\n    \
             try:\n        db.add(payload)\n        db.commit()\n    except IntegrityError:\n        \
             logger.warning(\"duplicate %s\", user_id)\n    cache.set(f\"user:{{user_id}}:{index}\", payload[\"kind\"], ex=60)\n    \
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

/// A program `benches/setup.sh` installed (`ruff`, `semgrep`), if it did.
pub fn installed_tool(name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(tool_cache()).ok()?;
    entries
        .flatten()
        .map(|entry| entry.path().join("bin").join(name))
        .find(|path| path.is_file())
}

/// The unpacked Django source release, if `benches/setup.sh` fetched it.
pub fn django_tree() -> Option<PathBuf> {
    let entries = std::fs::read_dir(tool_cache()).ok()?;
    entries.flatten().map(|entry| entry.path()).find(|path| {
        path.file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("Django-"))
            && path.join("django").is_dir()
    })
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
