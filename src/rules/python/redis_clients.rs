//! Which expressions hold a redis-py client or pipeline: names assigned from a client
//! constructor (in the module, the function, or `self.x` in the class), pipelines made
//! from a known client, and parameters annotated as a client. Shared by the Redis rules
//! and by `blocking-io-in-async` (calls on a synchronous client block the event loop).

use std::collections::HashMap;

use tree_sitter::Node;

use super::{
    Imports, dotted_name, enclosing_class, enclosing_scope, qualified_name, same_expression,
};
use crate::rules::{node_text, walk_tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisHandle {
    /// From `redis.asyncio` (its commands are awaited).
    pub asynchronous: bool,
    /// A pipeline: commands are queued and sent by `execute()`.
    pub pipeline: bool,
}

/// Bindings of client names, keyed by the id of the scope node they live in.
#[derive(Debug, Default)]
pub struct RedisClients {
    bindings: HashMap<(usize, String), RedisHandle>,
}

const SYNC_CONSTRUCTORS: &[&str] = &[
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

const ASYNC_CONSTRUCTORS: &[&str] = &[
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

impl RedisClients {
    pub fn collect(root: Node, source: &str, imports: &Imports) -> RedisClients {
        let mut clients = RedisClients::default();
        // Two passes, so a pipeline made from a client bound later in the file still resolves.
        for _ in 0..2 {
            walk_tree(root, |node| match node.kind() {
                "assignment" => {
                    let (Some(target), Some(value)) = (
                        node.child_by_field_name("left"),
                        node.child_by_field_name("right"),
                    ) else {
                        return;
                    };
                    if let Some(handle) = clients.handle_of_value(value, source, imports) {
                        clients.bind(target, source, handle);
                    }
                }
                "with_item" => {
                    let Some(value) = node.child_by_field_name("value") else {
                        return;
                    };
                    if value.kind() != "as_pattern" {
                        return;
                    }
                    let (Some(expression), Some(alias)) =
                        (value.named_child(0), value.child_by_field_name("alias"))
                    else {
                        return;
                    };
                    let Some(target) = alias.named_child(0) else {
                        return;
                    };
                    if let Some(handle) = clients.handle_of_value(expression, source, imports) {
                        clients.bind(target, source, handle);
                    }
                }
                "typed_parameter" | "typed_default_parameter" => {
                    let name = node
                        .child_by_field_name("name")
                        .or_else(|| node.named_child(0));
                    let (Some(name), Some(annotation)) = (name, node.child_by_field_name("type"))
                    else {
                        return;
                    };
                    if let Some(handle) = handle_of_annotation(annotation, source, imports) {
                        clients.bind(name, source, handle);
                    }
                }
                _ => {}
            });
        }
        clients
    }

    fn bind(&mut self, target: Node, source: &str, handle: RedisHandle) {
        let text = node_text(target, source);
        let scope = if text.starts_with("self.") {
            enclosing_class(target).unwrap_or_else(|| enclosing_scope(target))
        } else {
            enclosing_scope(target)
        };
        self.bindings.insert((scope.id(), normalized(text)), handle);
    }

    /// What `expression` holds, when it is a known client or pipeline.
    pub fn handle_of(
        &self,
        expression: Node,
        source: &str,
        imports: &Imports,
    ) -> Option<RedisHandle> {
        if expression.kind() == "call" {
            return self.handle_of_value(expression, source, imports);
        }
        if expression.kind() == "parenthesized_expression" {
            return self.handle_of(expression.named_child(0)?, source, imports);
        }
        let text = normalized(node_text(expression, source));
        if text.starts_with("self.") {
            let class = enclosing_class(expression)?;
            return self.bindings.get(&(class.id(), text)).copied();
        }
        let mut scope = enclosing_scope(expression);
        loop {
            if let Some(handle) = self.bindings.get(&(scope.id(), text.clone())) {
                return Some(*handle);
            }
            scope = enclosing_scope(scope.parent()?);
        }
    }

    /// What the value of an assignment or `with` item evaluates to.
    fn handle_of_value(&self, value: Node, source: &str, imports: &Imports) -> Option<RedisHandle> {
        let value = if value.kind() == "await" {
            value.named_child(0)?
        } else {
            value
        };
        if value.kind() != "call" {
            return None;
        }
        let function = value.child_by_field_name("function")?;
        if let Some(name) = qualified_name(function, source, imports) {
            if SYNC_CONSTRUCTORS.contains(&name.as_str()) {
                return Some(RedisHandle {
                    asynchronous: false,
                    pipeline: false,
                });
            }
            if ASYNC_CONSTRUCTORS.contains(&name.as_str()) {
                return Some(RedisHandle {
                    asynchronous: true,
                    pipeline: false,
                });
            }
        }
        // `<client>.pipeline(...)`
        if function.kind() == "attribute" {
            let attribute = function.child_by_field_name("attribute")?;
            if node_text(attribute, source) == "pipeline" {
                let client =
                    self.handle_of(function.child_by_field_name("object")?, source, imports)?;
                return Some(RedisHandle {
                    pipeline: true,
                    ..client
                });
            }
        }
        None
    }
}

fn handle_of_annotation(annotation: Node, source: &str, imports: &Imports) -> Option<RedisHandle> {
    // `Redis`, `redis.Redis`, `"Redis"`, `Optional[Redis]`, `Redis | None`
    let mut found = None;
    walk_tree(annotation, |node| {
        if found.is_some() {
            return;
        }
        let name = match node.kind() {
            "identifier" | "attribute" => {
                if node
                    .parent()
                    .is_some_and(|parent| parent.kind() == "attribute")
                {
                    return;
                }
                qualified_name(node, source, imports).or_else(|| dotted_name(node, source))
            }
            "string_content" => {
                let text = node_text(node, source);
                let head = text.split('.').next().unwrap_or(text);
                let resolved = imports.resolve(head).unwrap_or(head);
                Some(format!("{resolved}{}", &text[head.len()..]))
            }
            _ => None,
        };
        let Some(name) = name else { return };
        let last = name.rsplit('.').next().unwrap_or(&name);
        let asynchronous = name.starts_with("redis.asyncio") || name.starts_with("aioredis");
        found = match last {
            "Redis" | "StrictRedis" | "RedisCluster" => Some(RedisHandle {
                asynchronous,
                pipeline: false,
            }),
            "Pipeline" if name.contains("redis") => Some(RedisHandle {
                asynchronous,
                pipeline: true,
            }),
            _ => None,
        };
    });
    found
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect()
}

/// Whether two key expressions are the same text.
pub fn same_key(left: &str, right: &str) -> bool {
    same_expression(left, right)
}
