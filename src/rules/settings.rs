//! What the rules read of the user's settings, resolved once: which rules are on, the
//! severities set for them, and the rules' own options. `config` builds it from files
//! and editor settings; rules see it through their `Context` and never read `config`.

use std::collections::BTreeMap;

use super::rule_set::RuleSet;
use super::{Rule, RuleId, Severity};

pub const DEFAULT_REDIS_TTL_SECONDS: u64 = 3600;
pub const DEFAULT_HTTP_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    enabled: RuleSet,
    severity: BTreeMap<RuleId, Severity>,
    /// The `ex=` the `redis-key-without-ttl` fix adds.
    pub redis_default_ttl_seconds: u64,
    /// The `timeout=` the HTTP fixes add.
    pub http_default_timeout_seconds: u64,
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
            "{enabled:?}|{severity:?}|{}|{}",
            self.redis_default_ttl_seconds, self.http_default_timeout_seconds
        );
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }
}
