//! The dependency graph between transactions and the search for its cycles: Tarjan's strongly
//! connected components, then, inside each component, a shortest cycle found by breadth-first
//! search, tried in order of anomaly strength (G0, G1c, G-single, G2, then the same with
//! real-time edges).

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

/// Kinds of edges, as bits so one pair of transactions can carry several.
pub const WW: u8 = 1;
pub const WR: u8 = 2;
pub const RW: u8 = 4;
pub const RT: u8 = 8;
const DATA: u8 = WW | WR | RW;

/// Rw edges tried per component in the G-single search: each try is one breadth-first search, so
/// this bounds the work on a huge component of a badly broken history.
const SINGLE_RW_TRIES_MAX: usize = 2_000;

/// The name of one edge kind bit.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        _ => "realtime",
    }
}

/// Why an edge exists: the key and values that gave it (for ww `value` follows `prior` in
/// the key's version order; for wr the reader saw `value` last; for rw the reader did not see
/// `value`, the next version after what it read). Real-time edges have no key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    pub key: Option<String>,
    pub prior: Option<u64>,
    pub value: Option<u64>,
}

/// Counts of edges by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCounts {
    pub ww: usize,
    pub wr: usize,
    pub rw: usize,
    pub realtime: usize,
}

/// A class of cycle, weakest isolation violated first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleClass {
    pub name: &'static str,
    /// Edge kinds a cycle of this class may use besides its one rw edge.
    allowed: u8,
    /// Whether the cycle has exactly one rw edge (G-single).
    single_rw: bool,
}

/// Search order: the first class with a cycle names a component's anomaly.
pub const CYCLE_CLASSES: [CycleClass; 8] = [
    CycleClass { name: "G0", allowed: WW, single_rw: false },
    CycleClass { name: "G1c", allowed: WW | WR, single_rw: false },
    CycleClass { name: "G-single", allowed: WW | WR, single_rw: true },
    CycleClass { name: "G2", allowed: DATA, single_rw: false },
    CycleClass { name: "G0-realtime", allowed: WW | RT, single_rw: false },
    CycleClass { name: "G1c-realtime", allowed: WW | WR | RT, single_rw: false },
    CycleClass { name: "G-single-realtime", allowed: WW | WR | RT, single_rw: true },
    CycleClass { name: "G2-realtime", allowed: DATA | RT, single_rw: false },
];

/// One edge of a found cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: usize,
    pub to: usize,
    pub kind: u8,
}

/// Transactions are nodes `0..n`; edges carry a bit set of kinds.
#[derive(Debug, Default)]
pub struct DepGraph {
    out: Vec<Vec<(usize, u8)>>,
    /// Position of each edge in `out[from]`, so repeated edges merge their kinds.
    index: HashMap<(usize, usize), usize>,
    why: HashMap<(usize, usize, u8), Why>,
    pub counts: EdgeCounts,
}

impl DepGraph {
    pub fn new(nodes: usize) -> DepGraph {
        DepGraph { out: vec![Vec::new(); nodes], ..DepGraph::default() }
    }

    /// Adds an edge of `kind` (one bit); self-loops are ignored (a transaction does not depend
    /// on itself).
    pub fn add(&mut self, from: usize, to: usize, kind: u8, why: Why) {
        if from == to {
            return;
        }
        let slot = *self.index.entry((from, to)).or_insert_with(|| {
            self.out[from].push((to, 0));
            self.out[from].len() - 1
        });
        let mask = &mut self.out[from][slot].1;
        if *mask & kind != 0 {
            return;
        }
        *mask |= kind;
        match kind {
            WW => self.counts.ww += 1,
            WR => self.counts.wr += 1,
            RW => self.counts.rw += 1,
            _ => self.counts.realtime += 1,
        }
        self.why.insert((from, to, kind), why);
    }

    /// Why the edge `from → to` of `kind` exists.
    pub fn why(&self, from: usize, to: usize, kind: u8) -> Option<&Why> {
        self.why.get(&(from, to, kind))
    }

    /// Strongly connected components with more than one node, over edges of the `allowed`
    /// kinds between nodes where `member` is true (iterative Tarjan: histories have thousands of
    /// transactions, too deep for recursion).
    pub fn sccs(&self, allowed: u8, member: &dyn Fn(usize) -> bool) -> Vec<Vec<usize>> {
        const UNVISITED: usize = usize::MAX;
        let n = self.out.len();
        let mut order = vec![UNVISITED; n];
        let mut low = vec![0usize; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut components = Vec::new();
        let mut next_order = 0;
        for root in (0..n).filter(|&v| member(v)) {
            if order[root] != UNVISITED {
                continue;
            }
            // Each frame is a node and the position of the next edge to look at.
            let mut frames = vec![(root, 0usize)];
            order[root] = next_order;
            low[root] = next_order;
            next_order += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(frame) = frames.last_mut() {
                let v = frame.0;
                if let Some(&(w, mask)) = self.out[v].get(frame.1) {
                    frame.1 += 1;
                    if mask & allowed == 0 || !member(w) {
                        continue;
                    }
                    if order[w] == UNVISITED {
                        order[w] = next_order;
                        low[w] = next_order;
                        next_order += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        frames.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(order[w]);
                    }
                    continue;
                }
                frames.pop();
                if let Some(&(parent, _)) = frames.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == order[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort_unstable();
                        components.push(component);
                    }
                }
            }
        }
        components
    }

    /// A shortest path `from → … → to` over `allowed` edges between nodes where `member` is
    /// true, as the list of its nodes (both ends included).
    fn shortest_path(&self, from: usize, to: usize, allowed: u8, member: &dyn Fn(usize) -> bool) -> Option<Vec<usize>> {
        let mut parent: HashMap<usize, usize> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        parent.insert(from, from);
        while let Some(v) = queue.pop_front() {
            for &(w, mask) in &self.out[v] {
                if mask & allowed == 0 || !member(w) || (parent.contains_key(&w) && w != to) {
                    continue;
                }
                if w == to {
                    let mut path = vec![to, v];
                    let mut at = v;
                    while at != from {
                        at = parent[&at];
                        path.push(at);
                    }
                    path.reverse();
                    return Some(path);
                }
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
        None
    }

    fn mask(&self, from: usize, to: usize) -> u8 {
        self.index.get(&(from, to)).map(|&i| self.out[from][i].1).unwrap_or(0)
    }

    /// Turns a node path into steps, naming each edge by the strongest kind it has among
    /// `allowed` (ww before wr before rw before real-time).
    fn steps(&self, path: &[usize], allowed: u8) -> Vec<Step> {
        path.windows(2)
            .map(|pair| {
                let mask = self.mask(pair[0], pair[1]) & allowed;
                let kind = [WW, WR, RW, RT].into_iter().find(|k| mask & k != 0).unwrap_or(RT);
                Step { from: pair[0], to: pair[1], kind }
            })
            .collect()
    }

    /// A cycle of `class` inside `component`, if there is one.
    fn cycle_of_class(&self, component: &[usize], class: CycleClass) -> Option<Vec<Step>> {
        let inside: std::collections::HashSet<usize> = component.iter().copied().collect();
        let in_component = |v: usize| inside.contains(&v);
        if class.single_rw {
            let mut tries = 0;
            for &a in component {
                for &(b, mask) in &self.out[a] {
                    if mask & RW == 0 || !in_component(b) {
                        continue;
                    }
                    tries += 1;
                    if tries > SINGLE_RW_TRIES_MAX {
                        return None;
                    }
                    if let Some(path) = self.shortest_path(b, a, class.allowed, &in_component) {
                        let mut steps = vec![Step { from: a, to: b, kind: RW }];
                        steps.extend(self.steps(&path, class.allowed));
                        return Some(steps);
                    }
                }
            }
            return None;
        }
        let subs = self.sccs(class.allowed, &in_component);
        let sub = subs.first()?;
        let in_sub: std::collections::HashSet<usize> = sub.iter().copied().collect();
        let member = |v: usize| in_sub.contains(&v);
        if class.allowed & RW != 0 {
            // Earlier classes found nothing here, so every cycle has an rw edge; start from
            // one, so the cycle shown has one too.
            for &a in sub {
                for &(b, mask) in &self.out[a] {
                    if mask & RW != 0 && member(b) {
                        let path = self.shortest_path(b, a, class.allowed, &member)?;
                        let mut steps = vec![Step { from: a, to: b, kind: RW }];
                        steps.extend(self.steps(&path, class.allowed));
                        return Some(steps);
                    }
                }
            }
        }
        let start = sub[0];
        let path = self.shortest_path(start, start, class.allowed, &member)?;
        Some(self.steps(&path, class.allowed))
    }

    /// For every strongly connected component, the first class in [`CYCLE_CLASSES`] with a
    /// cycle in it, and a short such cycle.
    pub fn find_cycles(&self) -> Vec<(CycleClass, Vec<Step>)> {
        let everyone = |_: usize| true;
        let mut found = Vec::new();
        for component in self.sccs(DATA | RT, &everyone) {
            if let Some(hit) =
                CYCLE_CLASSES.iter().find_map(|&class| self.cycle_of_class(&component, class).map(|c| (class, c)))
            {
                found.push(hit);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_why() -> Why {
        Why { key: None, prior: None, value: None }
    }

    fn graph(n: usize, edges: &[(usize, usize, u8)]) -> DepGraph {
        let mut g = DepGraph::new(n);
        for &(a, b, k) in edges {
            g.add(a, b, k, no_why());
        }
        g
    }

    #[test]
    fn tarjan_finds_only_components_with_cycles() {
        let g = graph(6, &[(0, 1, WW), (1, 2, WW), (2, 0, WR), (2, 3, WW), (3, 4, RW), (4, 3, RW), (5, 5, WW)]);
        let all = |_: usize| true;
        let mut sccs = g.sccs(DATA, &all);
        sccs.sort();
        assert_eq!(sccs, vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(g.sccs(WW, &all), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn tarjan_survives_a_long_chain() {
        let n = 200_000;
        let mut edges: Vec<(usize, usize, u8)> = (0..n - 1).map(|i| (i, i + 1, RT)).collect();
        edges.push((n - 1, 0, WW));
        let g = graph(n, &edges);
        assert_eq!(g.sccs(DATA | RT, &|_| true)[0].len(), n);
    }

    #[test]
    fn the_weakest_class_names_a_component() {
        let name = |edges: &[(usize, usize, u8)]| {
            let found = graph(4, edges).find_cycles();
            found.iter().map(|(c, _)| c.name).collect::<Vec<_>>()
        };
        assert_eq!(name(&[(0, 1, WW), (1, 0, WW)]), ["G0"]);
        assert_eq!(name(&[(0, 1, WW), (1, 0, WR)]), ["G1c"]);
        assert_eq!(name(&[(0, 1, RW), (1, 0, WR)]), ["G-single"]);
        assert_eq!(name(&[(0, 1, RW), (1, 0, RW)]), ["G2"]);
        assert_eq!(name(&[(0, 1, RT), (1, 0, WW)]), ["G0-realtime"]);
        assert_eq!(name(&[(0, 1, RT), (1, 0, RW)]), ["G-single-realtime"]);
        assert_eq!(name(&[(0, 1, RT), (1, 2, RW), (2, 0, RW)]), ["G2-realtime"]);
        assert!(name(&[(0, 1, RT), (1, 2, RW), (0, 2, WW)]).is_empty());
        // A pair with both a ww and an rw edge is G0, the stronger reading.
        assert_eq!(name(&[(0, 1, RW), (0, 1, WW), (1, 0, WW)]), ["G0"]);
    }

    #[test]
    fn the_cycle_shown_is_closed_and_uses_its_class_edges() {
        let g = graph(5, &[(0, 1, WW), (1, 2, WR), (2, 3, WW), (3, 0, RW), (2, 0, RW)]);
        let found = g.find_cycles();
        assert_eq!(found.len(), 1);
        let (class, steps) = &found[0];
        assert_eq!(class.name, "G-single");
        assert_eq!(steps.iter().filter(|s| s.kind == RW).count(), 1);
        assert_eq!(steps.first().map(|s| s.from), steps.last().map(|s| s.to));
        for pair in steps.windows(2) {
            assert_eq!(pair[0].to, pair[1].from);
        }
        // The shortest one: 2 → 0 → 1 → 2, not through node 3.
        assert_eq!(steps.len(), 3);
    }
}
