//! Settings, from `stackaudit.toml` or `[tool.stackaudit]` in `pyproject.toml`, with the
//! editor's `initializationOptions` / `didChangeConfiguration` laid over them. The CLI
//! and the server both come through here, so they agree on what is enabled.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::rules::rule_set::RuleSet;
use crate::rules::settings::{
    DEFAULT_HTTP_TIMEOUT_SECONDS, DEFAULT_REDIS_TTL_SECONDS, GeneratedFiles, RuleSettings,
};
use crate::rules::{RuleId, Severity};

/// The options a user may write, in a file or in editor settings.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, Severity>>,
    pub redis: Option<RedisOptions>,
    pub http: Option<HttpOptions>,
    pub exclude: Option<Vec<String>>,
    /// Which rules run in files a tool generated: `security` (the default) or `all`.
    pub generated_files: Option<GeneratedFiles>,
    /// Where `check` keeps its cache (relative to the configuration file's folder);
    /// `.stackaudit_cache` at the project root when unset.
    pub cache_dir: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisOptions {
    #[serde(
        default,
        alias = "defaultTtlSeconds",
        alias = "default-ttl-seconds",
        deserialize_with = "positive_seconds"
    )]
    pub default_ttl_seconds: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpOptions {
    #[serde(
        default,
        alias = "defaultTimeoutSeconds",
        alias = "default-timeout-seconds",
        deserialize_with = "positive_seconds"
    )]
    pub default_timeout_seconds: Option<u64>,
}

/// Seconds that a fix writes into code (`ex=`, `timeout=`): at least 1, since Redis
/// rejects `ex=0` and a zero timeout fails every call or means none, by library. The
/// file and the editor settings (`server::settings`) both check through here.
pub fn seconds_for_fixes(
    written: &impl std::fmt::Display,
    seconds: Option<i64>,
) -> Result<u64, String> {
    seconds
        .and_then(|seconds| u64::try_from(seconds).ok())
        .filter(|&seconds| seconds >= 1)
        .ok_or_else(|| format!("must be a whole number of seconds, at least 1, not {written}"))
}

fn positive_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let seconds = i64::deserialize(deserializer)?;
    seconds_for_fixes(&seconds, Some(seconds))
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl Options {
    /// `other` wins wherever it says something.
    pub fn overlay(mut self, other: Options) -> Options {
        if other.select.is_some() {
            self.select = other.select;
        }
        if other.ignore.is_some() {
            self.ignore = other.ignore;
        }
        if let Some(severity) = other.severity {
            self.severity
                .get_or_insert_with(BTreeMap::new)
                .extend(severity);
        }
        if let Some(ttl) = other.redis.and_then(|redis| redis.default_ttl_seconds) {
            self.redis = Some(RedisOptions {
                default_ttl_seconds: Some(ttl),
            });
        }
        if let Some(timeout) = other.http.and_then(|http| http.default_timeout_seconds) {
            self.http = Some(HttpOptions {
                default_timeout_seconds: Some(timeout),
            });
        }
        if other.exclude.is_some() {
            self.exclude = other.exclude;
        }
        if other.generated_files.is_some() {
            self.generated_files = other.generated_files;
        }
        if other.cache_dir.is_some() {
            self.cache_dir = other.cache_dir;
        }
        self
    }

    /// Rule ids that name no rule, so callers can report them.
    pub fn unknown_rule_ids(&self) -> Vec<String> {
        let select = self.select.iter().flatten();
        let ignore = self.ignore.iter().flatten();
        let severity = self.severity.iter().flat_map(|map| map.keys());
        select
            .chain(ignore)
            .chain(severity)
            .filter(|id| RuleId::from_id(id).is_none())
            .cloned()
            .collect()
    }
}

/// Resolved settings: what the rules read, and which files `check` skips and where it
/// keeps its cache.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: RuleSettings,
    exclude: GlobSet,
    /// The `cache-dir` setting as written (relative paths are below the project root).
    pub cache_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from_options(Options::default())
            .unwrap_or_else(|_| unreachable!("defaults are valid"))
    }
}

impl Settings {
    pub fn from_options(options: Options) -> Result<Settings, String> {
        if let Some(unknown) = options.unknown_rule_ids().first() {
            return Err(format!(
                "unknown rule id `{unknown}` (see `stackaudit rules`)"
            ));
        }
        let mut exclude = GlobSetBuilder::new();
        for pattern in options.exclude.iter().flatten() {
            let glob = Glob::new(pattern)
                .map_err(|error| format!("bad exclude glob `{pattern}`: {error}"))?;
            exclude.add(glob);
        }
        let named = |ids: &Option<Vec<String>>| {
            let mut set = RuleSet::EMPTY;
            for rule in ids.iter().flatten().filter_map(|id| RuleId::from_id(id)) {
                set.insert(rule);
            }
            set
        };
        let selected = match &options.select {
            Some(_) => named(&options.select),
            None => RuleSet::from_fn(|_| true),
        };
        let ignored = named(&options.ignore);
        let enabled = selected.retain(|rule, _| !ignored.contains(rule));
        let severity = options
            .severity
            .iter()
            .flatten()
            .filter_map(|(id, severity)| Some((RuleId::from_id(id)?, *severity)))
            .collect();
        let rules = RuleSettings::new(
            enabled,
            severity,
            options
                .redis
                .and_then(|redis| redis.default_ttl_seconds)
                .unwrap_or(DEFAULT_REDIS_TTL_SECONDS),
            options
                .http
                .and_then(|http| http.default_timeout_seconds)
                .unwrap_or(DEFAULT_HTTP_TIMEOUT_SECONDS),
        )
        .with_generated_files(options.generated_files.unwrap_or_default());
        Ok(Settings {
            rules,
            exclude: exclude.build().map_err(|error| error.to_string())?,
            cache_dir: options.cache_dir.map(PathBuf::from),
        })
    }

    /// `relative` is the path below the workspace root.
    pub fn is_excluded(&self, relative: &Path) -> bool {
        self.exclude.is_match(relative)
    }
}

/// A configuration file that could not be used: file, line, column and problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.problem
        )
    }
}

/// A configuration found on disk: the file it came from and what it said.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub path: Option<PathBuf>,
    pub options: Options,
}

/// Look for `stackaudit.toml`, then `pyproject.toml` with `[tool.stackaudit]`, in `start`
/// and its ancestors. No file means defaults.
pub fn discover(start: &Path) -> Result<LoadedConfig, ConfigError> {
    for dir in start.ancestors() {
        let dedicated = dir.join("stackaudit.toml");
        if dedicated.is_file() {
            return load_file(&dedicated, false);
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file() {
            let loaded = load_file(&pyproject, true)?;
            if loaded.path.is_some() {
                return Ok(loaded);
            }
        }
    }
    Ok(LoadedConfig {
        path: None,
        options: Options::default(),
    })
}

fn load_file(path: &Path, is_pyproject: bool) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        problem: format!("cannot read: {error}"),
    })?;
    let options = parse_options(&text, is_pyproject).map_err(|(span, problem)| {
        let (line, column) = line_column(&text, span.start);
        ConfigError {
            path: path.to_path_buf(),
            line,
            column,
            problem,
        }
    })?;
    match options {
        None => Ok(LoadedConfig {
            path: None,
            options: Options::default(),
        }),
        Some(options) => Ok(LoadedConfig {
            path: Some(path.to_path_buf()),
            options,
        }),
    }
}

/// `Ok(None)` when a pyproject has no `[tool.stackaudit]` table.
fn parse_options(
    text: &str,
    is_pyproject: bool,
) -> Result<Option<Options>, (std::ops::Range<usize>, String)> {
    // toml's messages may run over several lines; an error here is one line.
    let toml_error = |error: toml::de::Error| {
        let lines: Vec<&str> = error
            .message()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        (error.span().unwrap_or(0..0), lines.join(": "))
    };
    let options: Option<Options> = if is_pyproject {
        #[derive(Deserialize)]
        struct PyProject {
            tool: Option<Tool>,
        }
        #[derive(Deserialize)]
        struct Tool {
            stackaudit: Option<toml::Spanned<Options>>,
        }
        let pyproject: PyProject = toml::from_str(text).map_err(toml_error)?;
        match pyproject.tool.and_then(|tool| tool.stackaudit) {
            None => return Ok(None),
            Some(spanned) => {
                let span = spanned.span();
                let options = spanned.into_inner();
                check_rule_ids(&options, text, span)?;
                Some(options)
            }
        }
    } else {
        let options: Options = toml::from_str(text).map_err(toml_error)?;
        check_rule_ids(&options, text, 0..text.len())?;
        Some(options)
    };
    Ok(options)
}

/// Point an unknown rule id, or a `select` of none, at where it is written.
fn check_rule_ids(
    options: &Options,
    text: &str,
    table: std::ops::Range<usize>,
) -> Result<(), (std::ops::Range<usize>, String)> {
    let table_text = text.get(table.clone()).unwrap_or("");
    if options.select.as_ref().is_some_and(Vec::is_empty) {
        let at = table_text
            .find("select")
            .map_or(table.start, |offset| table.start + offset);
        return Err((
            at..at,
            "`select = []` turns every rule off; leave it out to run every rule".to_string(),
        ));
    }
    let Some(unknown) = options.unknown_rule_ids().into_iter().next() else {
        return Ok(());
    };
    let at = table_text
        .find(&format!("\"{unknown}\""))
        .or_else(|| table_text.find(&unknown))
        .map_or(table.start, |offset| table.start + offset);
    Err((
        at..at,
        format!("unknown rule id `{unknown}` (see `stackaudit rules`)"),
    ))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_toml_names_line_and_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stackaudit.toml");
        std::fs::write(
            &path,
            "select = [\"missing-rollback\"]\n[severity]\nmissing-rollback = \"loud\"\n",
        )
        .expect("write");
        let error = discover(dir.path()).expect_err("invalid severity");
        assert_eq!(error.line, 3);
        assert!(error.problem.contains("loud"), "{}", error.problem);
    }

    #[test]
    fn unknown_rule_id_in_pyproject_points_at_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pyproject.toml");
        std::fs::write(
            &path,
            "[project]\nname = \"x\"\n\n[tool.stackaudit]\nignore = [\"no-such-rule\"]\n",
        )
        .expect("write");
        let error = discover(dir.path()).expect_err("unknown id");
        assert_eq!((error.line, error.column), (5, 11));
        assert_eq!(
            error.problem,
            "unknown rule id `no-such-rule` (see `stackaudit rules`)"
        );
    }

    #[test]
    fn pyproject_without_table_means_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .expect("write");
        let loaded = discover(dir.path()).expect("defaults");
        assert!(loaded.path.is_none());
    }

    #[test]
    fn overlay_and_enablement() {
        let file: Options =
            toml::from_str("ignore = [\"missing-rollback\"]\n[redis]\ndefault_ttl_seconds = 60\n")
                .expect("toml");
        let editor: Options = serde_json::from_value(serde_json::json!({
            "severity": {"blocking-io-in-async": "error"},
            "redis": {"defaultTtlSeconds": 120}
        }))
        .expect("json");
        let settings = Settings::from_options(file.overlay(editor)).expect("valid");
        let rules = &settings.rules;
        assert!(!rules.is_enabled(RuleId::MissingRollback));
        assert!(rules.is_enabled(RuleId::BlockingIoInAsync));
        assert_eq!(
            rules.severity_of(RuleId::BlockingIoInAsync),
            Severity::Error
        );
        assert_eq!(rules.redis_default_ttl_seconds, 120);
    }
}
