//! What the rules read of the user's settings, resolved once: which rules are on, the
//! severities set for them, and the rules' own options. `config` builds it from files
//! and editor settings; rules see it through their `Context` and never read `config`.

use std::collections::BTreeMap;

use super::rule_set::RuleSet;
use super::{Rule, RuleId, Severity};

pub const DEFAULT_REDIS_TTL_SECONDS: u64 = 3600;
pub const DEFAULT_HTTP_TIMEOUT_SECONDS: u64 = 10;

/// Which rules run in files a tool generated (`rules::generated`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratedFiles {
    /// Only the security rules (`Rule::security`).
    #[default]
    Security,
    /// Every enabled rule, as in any other file.
    All,
}

impl GeneratedFiles {
    pub fn as_str(self) -> &'static str {
        match self {
            GeneratedFiles::Security => "security",
            GeneratedFiles::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<GeneratedFiles> {
        match text {
            "security" => Some(GeneratedFiles::Security),
            "all" => Some(GeneratedFiles::All),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    enabled: RuleSet,
    severity: BTreeMap<RuleId, Severity>,
    /// The `ex=` the `redis-key-without-ttl` fix adds.
    pub redis_default_ttl_seconds: u64,
    /// The `timeout=` the HTTP fixes add.
    pub http_default_timeout_seconds: u64,
    /// Which rules run in generated files.
    pub generated_files: GeneratedFiles,
}

impl RuleSettings {
    pub fn new(
        enabled: RuleSet,
        severity: BTreeMap<RuleId, Severity>,
        redis_default_ttl_seconds: u64,
        http_default_timeout_seconds: u64,
    ) -> RuleSettings {
        RuleSettings {
            enabled,
            severity,
            redis_default_ttl_seconds,
            http_default_timeout_seconds,
            generated_files: GeneratedFiles::default(),
        }
    }

    pub fn with_generated_files(self, generated_files: GeneratedFiles) -> RuleSettings {
        RuleSettings {
            generated_files,
            ..self
        }
    }

    /// The enabled rules that run on `source`: in a file a tool generated, only the
    /// security rules unless the settings say every rule.
    pub fn enabled_for(&self, language: crate::language::Language, source: &str) -> RuleSet {
        if self.generated_files == GeneratedFiles::Security
            && super::generated::is_generated(language, source)
        {
            self.enabled.retain(|_, rule| rule.security)
        } else {
            self.enabled
        }
    }

    pub fn is_enabled(&self, rule: RuleId) -> bool {
        self.enabled.contains(rule)
    }

    /// The severity the user set for a rule, if any.
    pub fn configured_severity(&self, rule: RuleId) -> Option<Severity> {
        self.severity.get(&rule).copied()
    }

    pub fn severity_of(&self, rule: RuleId) -> Severity {
        self.configured_severity(rule)
            .unwrap_or(rule.rule().default_severity)
    }

    /// A hash of everything that changes what the rules report: cached findings are
    /// reused only under equal fingerprints. Stable across runs and machines (the
    /// `check` cache is keyed by it), unlike `DefaultHasher`; written from rule ids,
    /// not registry positions, which move when a rule is added.
    pub fn fingerprint(&self) -> u64 {
        let enabled: Vec<&str> = self
            .enabled
            .rules()
            .map(|(_, rule): (RuleId, &Rule)| rule.id)
            .collect();
        let severity: Vec<(&str, &str)> = self
            .severity
            .iter()
            .map(|(rule, severity)| (rule.as_str(), severity.as_str()))
            .collect();
        let text = format!(
            "{enabled:?}|{severity:?}|{}|{}|{}",
            self.redis_default_ttl_seconds,
            self.http_default_timeout_seconds,
            self.generated_files.as_str()
        );
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }
}
