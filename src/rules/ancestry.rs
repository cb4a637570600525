//! Ancestors of a node without `Node::parent`. Tree-sitter nodes keep no parent
//! pointer: `parent()` descends from the root and scans each level's children, so it
//! costs the width of the root (thousands of top-level statements in a large module)
//! and climbing from many findings becomes quadratic. This index binary-searches the
//! root's children once, then descends only through the (narrow) levels below.

use tree_sitter::Node;

pub struct Ancestry<'t> {
    root: Node<'t>,
    top_level: Vec<Node<'t>>,
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

impl<'t> Ancestry<'t> {
    pub fn new(root: Node<'t>) -> Ancestry<'t> {
        let mut cursor = root.walk();
        let top_level = root.children(&mut cursor).collect();
        Ancestry { root, top_level }
    }

    /// With the root's children already listed (`top_level`, in order).
    pub fn with_top_level(root: Node<'t>, top_level: Vec<Node<'t>>) -> Ancestry<'t> {
        Ancestry { root, top_level }
    }

    /// The ancestors of `node`, outermost (the root) first, its parent last; empty for
    /// the root itself.
    pub fn ancestors(&self, node: Node<'t>) -> Vec<Node<'t>> {
        if node.id() == self.root.id() {
            return Vec::new();
        }
        let mut chain = vec![self.root];
        let first = self
            .top_level
            .partition_point(|child| child.end_byte() < node.start_byte());
        let candidates = self.top_level[first..]
            .iter()
            .take_while(|child| child.start_byte() <= node.start_byte());
        let Some(mut current) = pick_child(candidates.copied(), node) else {
            return chain;
        };
        // One cursor for the whole descent: no allocation per level, which matters when
        // calls nest thousands deep and every one of them asks for its ancestors.
        let mut cursor = current.walk();
        loop {
            if current.id() == node.id() {
                return chain;
            }
            chain.push(current);
            if !cursor.goto_first_child() {
                return chain; // the tree and the node disagree: stop where we are
            }
            // Among the children: the node itself, else the first one containing it.
            let mut next = None;
            loop {
                let child = cursor.node();
                if child.id() == node.id() {
                    next = Some(child);
                    break;
                }
                if child.start_byte() > node.start_byte() {
                    break;
                }
                if next.is_none() && contains(child, node) {
                    next = Some(child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
            let Some(next) = next else {
                return chain;
            };
            cursor.reset(next);
            current = next;
        }
    }

    /// The node that stands for the module (the first item's root).
    pub fn root(&self) -> Node<'t> {
        self.root
    }

    /// The module's top-level nodes, across all its items.
    pub fn top_level(&self) -> &[Node<'t>] {
        &self.top_level
    }

    pub fn parent(&self, node: Node<'t>) -> Option<Node<'t>> {
        self.ancestors(node).pop()
    }
}

/// Among siblings, `node` itself, else the one that contains it.
fn pick_child<'t>(children: impl Iterator<Item = Node<'t>>, node: Node<'t>) -> Option<Node<'t>> {
    let mut containing = None;
    for child in children {
        if child.id() == node.id() {
            return Some(child);
        }
        if containing.is_none() && contains(child, node) {
            containing = Some(child);
        }
    }
    containing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_text;
    use crate::language::Language;

    #[test]
    fn matches_parent_for_every_node() {
        let source = "import x\n\nclass A:\n    async def f(self):\n        await self.db.commit()\n\ny = [1, (2, {3: f(a=b)})]\n";
        let Some(syntax) = parse_text(Language::Python, source) else {
            panic!("parses")
        };
        let ancestry = Ancestry::with_top_level(syntax.root(), syntax.top_level());
        for &statement in ancestry.top_level() {
            assert_eq!(ancestry.parent(statement), Some(syntax.root()));
            crate::rules::walk_tree(statement, |node| {
                if node.id() != statement.id() {
                    assert_eq!(ancestry.parent(node), node.parent(), "{}", node.kind());
                }
            });
        }
    }
}
