//! The chain of Alembic revisions across the workspace: the order in which migrations
//! run (each after the revisions it names in `down_revision` and `depends_on`), and
//! what breaks the chain (`alembic-broken-chain`): a parent that exists nowhere, an id
//! used twice, and a fork whose branches never meet in a merge revision.
//!
//! A workspace may hold several Alembic environments (one per database, an example
//! project): each is the folder that holds a `versions/` folder, and ids, bases and
//! forks are judged within one. A parent is looked for in every environment
//! (`version_locations` may spread one chain over folders).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::from_alembic::Revision;

/// Every migration's revision, in path order.
#[derive(Debug, Default, Clone)]
pub struct Revisions {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    path: Arc<Path>,
    revision: Revision,
}

/// What breaks the chain at one migration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChainProblem {
    /// A `down_revision` that no migration of the workspace is.
    MissingParent(String),
    /// Another migration of the same environment has this revision's id.
    Duplicate(Arc<Path>),
    /// Other revisions follow the same parent (`None`: other bases) and no revision
    /// follows both branches, and neither branch is labelled.
    Fork {
        parent: Option<String>,
        others: Vec<String>,
    },
}

impl Revisions {
    /// The revisions of `migrations`, given in path order.
    pub fn new(migrations: impl IntoIterator<Item = (Arc<Path>, Revision)>) -> Revisions {
        Revisions {
            entries: migrations
                .into_iter()
                .map(|(path, revision)| Entry { path, revision })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The paths of the migrations in the order they run: each after its parents,
    /// ties (and revisions whose chain is broken) in path order.
    pub fn run_order(&self) -> Vec<Arc<Path>> {
        let by_id: HashMap<&str, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(at, entry)| (entry.revision.revision.as_str(), at))
            .collect();
        let parents: Vec<Vec<usize>> = self
            .entries
            .iter()
            .enumerate()
            .map(|(at, entry)| {
                let named = entry
                    .revision
                    .down_revisions
                    .iter()
                    .chain(&entry.revision.depends_on);
                named
                    .filter_map(|id| by_id.get(id.as_str()).copied())
                    .filter(|parent| *parent != at)
                    .collect()
            })
            .collect();
        let mut waiting: Vec<usize> = parents.iter().map(Vec::len).collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.entries.len()];
        for (child, of) in parents.iter().enumerate() {
            for parent in of {
                children[*parent].push(child);
            }
        }
        // The ready revisions, lowest path first.
        let mut ready: std::collections::BTreeSet<usize> = waiting
            .iter()
            .enumerate()
            .filter(|(_, count)| **count == 0)
            .map(|(at, _)| at)
            .collect();
        let mut order = Vec::with_capacity(self.entries.len());
        let mut placed = vec![false; self.entries.len()];
        loop {
            while let Some(next) = ready.pop_first() {
                placed[next] = true;
                order.push(next);
                for child in &children[next] {
                    waiting[*child] -= 1;
                    if waiting[*child] == 0 {
                        ready.insert(*child);
                    }
                }
            }
            // A cycle: its first revision runs, and what follows it then.
            match (0..self.entries.len()).find(|at| !placed[*at]) {
                Some(stuck) => {
                    waiting[stuck] = 0;
                    ready.insert(stuck);
                }
                None => break,
            }
        }
        order
            .into_iter()
            .map(|at| Arc::clone(&self.entries[at].path))
            .collect()
    }

    /// A hash of every revision but the one at `path` (what the chain's judgement of
    /// that migration rests on besides its own text).
    pub fn fingerprint_without(&self, path: &Path) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for entry in self.entries.iter().filter(|entry| *entry.path != *path) {
            entry.path.hash(&mut hasher);
            entry.revision.hash(&mut hasher);
        }
        hasher.finish()
    }

    /// What breaks the chain at the migration at `path`, whose revision (as its text
    /// says now) is `current`.
    pub fn problems_of(&self, path: &Path, current: &Revision) -> Vec<ChainProblem> {
        let mut entries: Vec<(&Path, &Revision)> = self
            .entries
            .iter()
            .filter(|entry| *entry.path != *path)
            .map(|entry| (&*entry.path, &entry.revision))
            .collect();
        entries.push((path, current));
        let me = entries.len() - 1;
        let environment = environment_of(path);
        let same_environment = |other: &Path| environment_of(other) == environment;
        let mut problems = Vec::new();

        for (other, revision) in &entries[..me] {
            if revision.revision == current.revision && same_environment(other) {
                problems.push(ChainProblem::Duplicate(Arc::from(*other)));
            }
        }
        let ids: HashSet<&str> = entries
            .iter()
            .map(|(_, revision)| revision.revision.as_str())
            .collect();
        for parent in &current.down_revisions {
            if !ids.contains(parent.as_str()) {
                problems.push(ChainProblem::MissingParent(parent.clone()));
            }
        }

        let children = children_of(&entries);
        let parents: Vec<Option<&String>> = if current.down_revisions.is_empty() {
            vec![None]
        } else {
            current.down_revisions.iter().map(Some).collect()
        };
        for parent in parents {
            let siblings = entries[..me]
                .iter()
                .enumerate()
                .filter(|(_, (other, revision))| {
                    // Branches count in this environment only (another may start
                    // from a revision of this one).
                    let follows = match parent {
                        Some(parent) => revision.down_revisions.contains(parent),
                        None => revision.down_revisions.is_empty(),
                    };
                    follows && same_environment(other)
                });
            let mine = descendants(me, &children);
            let mut others: Vec<String> = siblings
                .filter(|(_, (_, revision))| {
                    // A labelled branch is meant to stand apart; so is an id used twice
                    // (reported as such).
                    current.branch_labels.is_empty()
                        && revision.branch_labels.is_empty()
                        && revision.revision != current.revision
                })
                .filter(|(sibling, _)| mine.is_disjoint(&descendants(*sibling, &children)))
                .map(|(_, (_, revision))| revision.revision.clone())
                .collect();
            if !others.is_empty() {
                others.sort();
                problems.push(ChainProblem::Fork {
                    parent: parent.cloned(),
                    others,
                });
            }
        }
        problems
    }
}

/// The Alembic environment a migration belongs to: the folder that holds its
/// `versions/` folder, else its own folder.
fn environment_of(path: &Path) -> PathBuf {
    let folder = path.parent().unwrap_or(Path::new(""));
    match folder.file_name() {
        Some(name) if name == "versions" => folder.parent().unwrap_or(folder).to_path_buf(),
        _ => folder.to_path_buf(),
    }
}

/// For each entry, the entries that name it as a parent.
fn children_of(entries: &[(&Path, &Revision)]) -> Vec<Vec<usize>> {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (at, (_, revision)) in entries.iter().enumerate() {
        by_id
            .entry(revision.revision.as_str())
            .or_default()
            .push(at);
    }
    let mut children = vec![Vec::new(); entries.len()];
    for (child, (_, revision)) in entries.iter().enumerate() {
        for parent in &revision.down_revisions {
            for at in by_id.get(parent.as_str()).into_iter().flatten() {
                children[*at].push(child);
            }
        }
    }
    children
}

/// `start` and every entry that follows it, however far down.
fn descendants(start: usize, children: &[Vec<usize>]) -> HashSet<usize> {
    let mut seen = HashSet::from([start]);
    let mut next = vec![start];
    while let Some(at) = next.pop() {
        for child in &children[at] {
            if seen.insert(*child) {
                next.push(*child);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(id: &str, downs: &[&str], labels: &[&str]) -> Revision {
        Revision {
            revision: id.to_string(),
            down_revisions: downs.iter().map(|down| down.to_string()).collect(),
            branch_labels: labels.iter().map(|label| label.to_string()).collect(),
            ..Revision::default()
        }
    }

    fn chain(revisions: &[(&str, Revision)]) -> Revisions {
        Revisions::new(
            revisions
                .iter()
                .map(|(path, revision)| (Arc::from(Path::new(path)), revision.clone())),
        )
    }

    fn problems(revisions: &Revisions, path: &str, current: &Revision) -> Vec<ChainProblem> {
        revisions.problems_of(Path::new(path), current)
    }

    #[test]
    fn a_straight_chain_runs_in_revision_order_and_has_no_problem() {
        let b = revision("b", &["a"], &[]);
        let revisions = chain(&[
            ("env/versions/1_c.py", revision("c", &["b"], &[])),
            ("env/versions/2_a.py", revision("a", &[], &[])),
            ("env/versions/3_b.py", b.clone()),
        ]);
        let order: Vec<String> = revisions
            .run_order()
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        assert_eq!(
            order,
            [
                "env/versions/2_a.py",
                "env/versions/3_b.py",
                "env/versions/1_c.py"
            ]
        );
        assert_eq!(problems(&revisions, "env/versions/3_b.py", &b), []);
    }

    #[test]
    fn a_fork_is_a_problem_until_a_merge_joins_it_or_a_label_names_it() {
        let b = revision("b", &["a"], &[]);
        let c = revision("c", &["a"], &[]);
        let forked = [
            ("env/versions/a.py", revision("a", &[], &[])),
            ("env/versions/b.py", b.clone()),
            ("env/versions/c.py", c.clone()),
        ];
        assert_eq!(
            problems(&chain(&forked), "env/versions/b.py", &b),
            [ChainProblem::Fork {
                parent: Some("a".to_string()),
                others: vec!["c".to_string()]
            }]
        );
        let mut merged = forked.to_vec();
        merged.push(("env/versions/m.py", revision("m", &["b", "c"], &[])));
        assert_eq!(problems(&chain(&merged), "env/versions/b.py", &b), []);
        let labelled = revision("c", &["a"], &["reporting"]);
        let mut branches = forked.to_vec();
        branches[2] = ("env/versions/c.py", labelled.clone());
        assert_eq!(
            problems(&chain(&branches), "env/versions/c.py", &labelled),
            []
        );
    }

    #[test]
    fn missing_parents_duplicates_and_bases_per_environment() {
        let orphan = revision("d", &["gone"], &[]);
        let revisions = chain(&[
            ("app/alembic/versions/a.py", revision("a", &[], &[])),
            ("app/alembic/versions/a2.py", revision("a", &[], &[])),
            ("audit/alembic/versions/x.py", revision("x", &[], &[])),
            ("app/alembic/versions/d.py", orphan.clone()),
        ]);
        assert_eq!(
            problems(&revisions, "app/alembic/versions/d.py", &orphan),
            [ChainProblem::MissingParent("gone".to_string())]
        );
        // Two files with one id: each is told of the other; the other environment's
        // base is no fork.
        assert_eq!(
            problems(
                &revisions,
                "app/alembic/versions/a.py",
                &revision("a", &[], &[])
            ),
            [ChainProblem::Duplicate(Arc::from(Path::new(
                "app/alembic/versions/a2.py"
            )))]
        );
        assert_eq!(
            problems(
                &revisions,
                "audit/alembic/versions/x.py",
                &revision("x", &[], &[])
            ),
            []
        );
    }
}
