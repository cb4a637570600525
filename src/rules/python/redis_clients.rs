//! Which expressions hold a redis-py client or pipeline: names assigned from a client
//! constructor (in the module, the function, or `self.x` in the class), pipelines made
//! from a known client, and parameters annotated as a client. Shared by the Redis rules
//! and by `blocking-io-in-async` (calls on a synchronous client block the event loop).

use std::collections::HashMap;

use tree_sitter::Node;

use super::{Imports, dotted_name, enclosing_class, qualified_name, same_expression};
use crate::rules::node_text;
use crate::syntax::python_fields::{Field, PythonNode};

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

/// Connection pools, which take the socket options their clients would.
pub const POOL_CONSTRUCTORS: &[&str] = &[
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
pub fn is_client_constructor(name: &str) -> bool {
    SYNC_CONSTRUCTORS.contains(&name) || ASYNC_CONSTRUCTORS.contains(&name)
}

/// The scopes a node sits in, innermost function first, for binding lookups.
pub struct Scopes<'t> {
    functions: Vec<Node<'t>>,
    class: Option<Node<'t>>,
    module: Option<Node<'t>>,
}

impl<'t> Scopes<'t> {
    /// From a walk's stack of `def`/`lambda`/`class` nodes, outermost first.
    pub fn from_stack(stack: &[Node<'t>], root: Node<'t>) -> Scopes<'t> {
        let chain: Vec<Node<'t>> = std::iter::once(root).chain(stack.iter().copied()).collect();
        Scopes::of(&chain)
    }

    /// From a node's ancestors, outermost first.
    pub fn of(ancestors: &[Node<'t>]) -> Scopes<'t> {
        let functions = ancestors
            .iter()
            .rev()
            .filter(|node| node.kind_name() == "function_definition")
            .copied()
            .collect();
        Scopes {
            functions,
            class: enclosing_class(ancestors),
            module: ancestors.first().copied(),
        }
    }

    /// Where a binding of `text` made here lives.
    fn binding_scope(&self, text: &str) -> Option<Node<'t>> {
        if text.starts_with("self.") {
            return self
                .class
                .or_else(|| self.functions.first().copied())
                .or(self.module);
        }
        // A name bound in a class body is a class attribute, not a module global.
        self.functions
            .first()
            .copied()
            .or(self.class)
            .or(self.module)
    }

    /// Where a plain name used here is looked up: the enclosing functions, the class
    /// body when used directly in it (methods do not see class-body names), the module.
    fn lookup_scopes(&self) -> impl Iterator<Item = Node<'t>> + '_ {
        let class_body = self.class.filter(|_| self.functions.is_empty());
        self.functions
            .iter()
            .copied()
            .chain(class_body)
            .chain(self.module)
    }
}

impl RedisClients {
    /// The names bound to clients in one scope (by its node id), sorted by name.
    pub fn bindings_in(&self, scope_id: usize) -> Vec<(&str, RedisHandle)> {
        let mut names: Vec<(&str, RedisHandle)> = self
            .bindings
            .iter()
            .filter(|((scope, _), _)| *scope == scope_id)
            .map(|((_, name), handle)| (name.as_str(), *handle))
            .collect();
        names.sort_by_key(|(name, _)| *name);
        names
    }

    /// Bindings from the assignments, `with` items and annotated parameters of a module,
    /// each with the scopes it was made in.
    pub fn collect(sites: &[(Node, Scopes)], source: &str, imports: &Imports) -> RedisClients {
        let mut clients = RedisClients::default();
        // Two passes, so a pipeline made from a client bound later in the file still resolves.
        for _ in 0..2 {
            for (node, scopes) in sites {
                let Some((target, handle)) =
                    clients.binding_made_by(*node, scopes, source, imports)
                else {
                    continue;
                };
                let text = normalized(node_text(target, source));
                if let Some(scope) = scopes.binding_scope(&text) {
                    clients.bindings.insert((scope.id(), text), handle);
                }
            }
        }
        clients
    }

    /// The name an assignment, `with ... as` or annotated parameter binds to a client.
    fn binding_made_by<'t>(
        &self,
        node: Node<'t>,
        scopes: &Scopes,
        source: &str,
        imports: &Imports,
    ) -> Option<(Node<'t>, RedisHandle)> {
        match node.kind_name() {
            "assignment" => {
                let target = node.field(Field::Left)?;
                let handle =
                    self.handle_of_value(node.field(Field::Right)?, scopes, source, imports)?;
                Some((target, handle))
            }
            "with_item" => {
                let value = node
                    .field(Field::Value)
                    .filter(|value| value.kind_name() == "as_pattern")?;
                let target = value.field(Field::Alias)?.named_child(0)?;
                Some((
                    target,
                    self.handle_of_value(value.named_child(0)?, scopes, source, imports)?,
                ))
            }
            _ => {
                let name = node.field(Field::Name).or_else(|| node.named_child(0))?;
                Some((
                    name,
                    handle_of_annotation(node.field(Field::Type)?, source, imports)?,
                ))
            }
        }
    }

    /// Whether `expression` could hold a client or pipeline, judged from its shape
    /// alone, before its scopes are worked out: the result of a call can only when the
    /// call is a constructor or `.pipeline()`. (A chain like `r.set(..).set(..)` is
    /// then checked once, not once per link.)
    pub fn may_hold_handle(expression: Node, source: &str) -> bool {
        let mut expression = expression;
        while expression.kind_name() == "parenthesized_expression" {
            let Some(inner) = expression.named_child(0) else {
                return false;
            };
            expression = inner;
        }
        if expression.kind_name() != "call" {
            return true;
        }
        let Some(function) = expression.field(Field::Function) else {
            return false;
        };
        match function.kind_name() {
            "identifier" => true, // a constructor imported under any name
            "attribute" => function.field(Field::Attribute).is_some_and(|name| {
                let name = node_text(name, source);
                name == "pipeline"
                    || SYNC_CONSTRUCTORS
                        .iter()
                        .chain(ASYNC_CONSTRUCTORS)
                        .any(|constructor| constructor.rsplit('.').next() == Some(name))
            }),
            _ => false,
        }
    }

    /// What `expression` holds, when it is a known client or pipeline; `scopes` are
    /// those of the statement it appears in.
    pub fn handle_of(
        &self,
        expression: Node,
        scopes: &Scopes,
        source: &str,
        imports: &Imports,
    ) -> Option<RedisHandle> {
        // A loop, not recursion: parentheses and `.pipeline()` calls can nest thousands
        // deep, and each level would be a stack frame.
        let mut expression = expression;
        let mut through_pipeline = false;
        let handle = loop {
            match expression.kind_name() {
                "parenthesized_expression" => expression = expression.named_child(0)?,
                "call" => {
                    let function = expression.field(Field::Function)?;
                    if let Some(handle) = constructed_handle(function, source, imports) {
                        break handle;
                    }
                    // `<client>.pipeline(...)`
                    let attribute = function.field(Field::Attribute)?;
                    if function.kind_name() != "attribute"
                        || node_text(attribute, source) != "pipeline"
                    {
                        return None;
                    }
                    through_pipeline = true;
                    expression = function.field(Field::Object)?;
                }
                _ => {
                    let text = normalized(node_text(expression, source));
                    let bound = if text.starts_with("self.") {
                        self.bindings.get(&(scopes.class?.id(), text))
                    } else {
                        scopes
                            .lookup_scopes()
                            .find_map(|scope| self.bindings.get(&(scope.id(), text.clone())))
                    };
                    break *bound?;
                }
            }
        };
        Some(RedisHandle {
            pipeline: handle.pipeline || through_pipeline,
            ..handle
        })
    }

    /// What the value of an assignment or `with` item evaluates to: a client made by a
    /// constructor call, or a pipeline of one (a bare name is not followed).
    fn handle_of_value(
        &self,
        value: Node,
        scopes: &Scopes,
        source: &str,
        imports: &Imports,
    ) -> Option<RedisHandle> {
        let value = if value.kind_name() == "await" {
            value.named_child(0)?
        } else {
            value
        };
        if value.kind_name() != "call" {
            return None;
        }
        self.handle_of(value, scopes, source, imports)
    }
}

/// The client a constructor call makes (`redis.Redis(...)`, `redis.asyncio.from_url(...)`).
fn constructed_handle(function: Node, source: &str, imports: &Imports) -> Option<RedisHandle> {
    let name = qualified_name(function, source, imports)?;
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
    None
}

fn handle_of_annotation(annotation: Node, source: &str, imports: &Imports) -> Option<RedisHandle> {
    // `Redis`, `redis.Redis`, `"Redis"`, `Optional[Redis]`, `Redis | None`: look at each
    // outermost name (not inside an attribute chain) and each string annotation.
    let mut stack = vec![annotation];
    while let Some(node) = stack.pop() {
        let name = match node.kind_name() {
            "identifier" | "attribute" => {
                qualified_name(node, source, imports).or_else(|| dotted_name(node, source))
            }
            "string_content" => {
                let text = node_text(node, source);
                let head = text.split('.').next().unwrap_or(text);
                let resolved = imports.resolve(head).unwrap_or(head);
                Some(format!("{resolved}{}", &text[head.len()..]))
            }
            _ => {
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor));
                continue;
            }
        };
        let Some(name) = name else { continue };
        let last = name.rsplit('.').next().unwrap_or(&name);
        let asynchronous = name.starts_with("redis.asyncio") || name.starts_with("aioredis");
        match last {
            "Redis" | "StrictRedis" | "RedisCluster" => {
                return Some(RedisHandle {
                    asynchronous,
                    pipeline: false,
                });
            }
            "Pipeline" if name.contains("redis") => {
                return Some(RedisHandle {
                    asynchronous,
                    pipeline: true,
                });
            }
            _ => {}
        }
    }
    None
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect()
}

/// Whether two key expressions are the same text.
pub fn same_key(left: &str, right: &str) -> bool {
    same_expression(left, right)
}
