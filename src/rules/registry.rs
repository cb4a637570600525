//! The one list of rules. Each line names a rule's `RuleId` variant and the module
//! whose `RULE` declares it (id, languages, severity, fix, triggers, check; its docs
//! are the module's `//!` comment). From this list come `RuleId`, whose discriminant is
//! the rule's bit in a `RuleSet`, and `ALL_RULES`, in the order `stackaudit rules`
//! lists them. Adding a rule is one file and one line here.

use super::Rule;

macro_rules! declare_rules {
    ($($variant:ident => $($module:ident)::+;)*) => {
        /// A rule, as code names it (configuration and sets hold these, not strings).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($variant,)*
        }

        impl RuleId {
            /// Every rule, in registry order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The rule's declaration.
            pub fn rule(self) -> &'static Rule {
                match self {
                    $(RuleId::$variant => &super::$($module)::+::RULE,)*
                }
            }
        }

        /// Every rule, in the order `stackaudit rules` lists them (`RuleId` order).
        pub static ALL_RULES: &[&Rule] = &[$(&super::$($module)::+::RULE,)*];
    };
}

declare_rules! {
    MissingRollback => python::missing_rollback;
    BlockingIoInAsync => python::blocking_io_in_async;
    RedisKeyWithoutTtl => python::redis_key_without_ttl;
    SqlInjection => python::sql_injection;
    SqlSyntaxInPython => python::sql_syntax_in_python;
    NPlusOneQuery => python::n_plus_one_query;
    HttpWithoutTimeout => python::http_without_timeout;
    RedisClientWithoutTimeout => python::redis_client_without_timeout;
    RedisSilentFailure => python::redis_silent_failure;
    RedisKeysCommand => python::redis_keys_command;
    RedisRaceCondition => python::redis_race_condition;
    PubsubWithoutReconnect => python::pubsub_without_reconnect;
    DbPoolWithoutTimeout => python::db_pool_without_timeout;
    SessionSharedAcrossRequests => python::session_shared_across_requests;
    GlobalMutableState => python::global_mutable_state;
    FkWithoutIndex => python::fk_without_index;
    SwallowedException => python::swallowed_exception;
    BroadExcept => python::broad_except;
    CorsWildcardCredentials => python::cors_wildcard_credentials;
    MissingAuthDependency => python::missing_auth_dependency;
    DebugInProduction => python::debug_in_production;
    BindAllInterfaces => python::bind_all_interfaces;
    SleepInTest => python::sleep_in_test;
    HardcodedSecret => python::hardcoded_secret;
    TypeIgnoreWithoutReason => python::type_ignore_without_reason;
    ImportInsideFunction => python::import_inside_function;
    DockerHardcodedSecret => docker::docker_hardcoded_secret;
    SqlSyntaxError => sql::sql_syntax_error;
    MysqlSyntaxInPostgres => sql::mysql_syntax_in_postgres;
    DeleteWithoutWhere => sql::delete_without_where;
    UpdateWithoutWhere => sql::update_without_where;
    DestructiveMigration => sql::destructive_migration;
    CreateIndexNotConcurrently => sql::create_index_not_concurrently;
    PreferTimestamptz => sql::prefer_timestamptz;
    MissingReferencedTable => sql::missing_referenced_table;
    FkTypeMismatch => sql::fk_type_mismatch;
    InconsistentIdTypes => sql::inconsistent_id_types;
    MissingPrimaryKey => sql::missing_primary_key;
    AlembicBrokenChain => alembic::alembic_broken_chain;
    MissingDowngrade => alembic::missing_downgrade;
    MigrationModelDrift => alembic::migration_model_drift;
}

impl RuleId {
    /// The rule's id as users write it (`missing-rollback`).
    pub fn as_str(self) -> &'static str {
        self.rule().id
    }

    /// The rule a user's id names.
    pub fn from_id(id: &str) -> Option<RuleId> {
        RuleId::ALL.iter().copied().find(|rule| rule.as_str() == id)
    }

    /// Its bit in a `RuleSet` (its place in the registry).
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_declarations_line_up() {
        assert_eq!(RuleId::ALL.len(), ALL_RULES.len());
        for (index, (id, rule)) in RuleId::ALL.iter().zip(ALL_RULES).enumerate() {
            assert_eq!(id.index(), index);
            assert!(std::ptr::eq(id.rule(), *rule));
            assert_eq!(RuleId::from_id(rule.id), Some(*id));
        }
        assert_eq!(RuleId::from_id("no-such-rule"), None);
    }
}
