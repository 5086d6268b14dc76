//! A static, packed bounding-box tree over provider locations with
//! attribute summaries, for nearest searches that prune by attributes while
//! they search.
//!
//! Points are unit vectors (see `sphere.rs`: chord order is great-circle
//! order). The tree is built top-down once: each node's points are split
//! in two along the longest side of their bounding box at a multiple of the
//! child capacity (a median split, so boxes stay compact on the sphere),
//! until every node has at most [`FANOUT`] children and every leaf at most
//! [`LEAF_SIZE`] points. Nodes are stored level by level, so a node's
//! children are consecutive; leaf points are stored contiguously as arrays
//! of positions, provider indexes and attribute masks.
//!
//! Each node holds its 3-D box and the OR of its providers' attribute masks
//! ([`Mask`]). The search is best-first on the minimum chord distance from
//! the query to a box: a node whose mask shares no bit with some
//! requirement of the filter is never opened, and every point that reaches
//! the heap has passed the exact filter, so the search stops after the
//! `k`-th hit.

use super::filter::{CompiledFilter, Mask};
use super::sphere::{chord_to_km, km_to_chord};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::ControlFlow;
use std::ops::Range;

/// Most points in a leaf.
const LEAF_SIZE: usize = 16;
/// Most children of an inner node.
const FANOUT: usize = 16;

/// Heap payload tag of a node (points have tag 0, so at equal distance a
/// point is returned before a node is opened).
const NODE_TAG: u64 = 1 << 32;

/// One node: its box, the OR of its points' masks and its children (nodes,
/// or for a leaf, points).
#[derive(Debug, Clone)]
struct Node {
    lower: [f64; 3],
    upper: [f64; 3],
    mask: Mask,
    first: u32,
    count: u32,
}

/// The tree. Empty when no provider has a location.
#[derive(Debug, Clone, Default)]
pub(crate) struct PointTree {
    /// Level by level from the root (index 0); leaves are `first_leaf..`.
    nodes: Vec<Node>,
    first_leaf: usize,
    /// Unit vectors in leaf order.
    positions: Vec<[f64; 3]>,
    /// Provider index of each position.
    providers: Vec<u32>,
    /// Attribute mask of each position's provider.
    masks: Vec<Mask>,
}

impl PointTree {
    /// Builds the tree over `(unit vector, provider index, attribute mask)`.
    pub(crate) fn build(mut points: Vec<([f64; 3], u32, Mask)>) -> Self {
        let n = points.len();
        if n == 0 {
            return Self::default();
        }
        // Capacity of a node at each height above the leaves.
        let mut capacities = vec![LEAF_SIZE];
        while capacities.last().is_some_and(|&c| c < n) {
            let c = capacities.last().copied().unwrap_or(n);
            capacities.push(c.saturating_mul(FANOUT));
        }

        // Top-down: each level's point ranges, and each node's child range
        // within the next level.
        let mut levels: Vec<Vec<(Range<usize>, Range<usize>)>> = Vec::new();
        let mut current: Vec<Range<usize>> = std::iter::once(0..n).collect();
        for &child_capacity in capacities.iter().rev().skip(1) {
            let mut next = Vec::new();
            let mut level = Vec::with_capacity(current.len());
            for range in current {
                let start = next.len();
                split(
                    &mut points[range.clone()],
                    range.start,
                    child_capacity,
                    &mut next,
                );
                level.push((range, start..next.len()));
            }
            levels.push(level);
            current = next;
        }
        levels.push(current.into_iter().map(|r| (r.clone(), r)).collect());

        let mut offsets = Vec::with_capacity(levels.len());
        let mut total = 0;
        for level in &levels {
            offsets.push(total);
            total += level.len();
        }
        let first_leaf = offsets.last().copied().unwrap_or(0);
        let empty = Node {
            lower: [f64::INFINITY; 3],
            upper: [f64::NEG_INFINITY; 3],
            mask: 0,
            first: 0,
            count: 0,
        };
        let mut nodes = vec![empty.clone(); total];
        // Bottom-up: leaves from their points, inner nodes from children.
        for (depth, level) in levels.iter().enumerate().rev() {
            for (i, (points_range, children)) in level.iter().enumerate() {
                let mut node = empty.clone();
                if depth + 1 == levels.len() {
                    for (p, _, mask) in &points[points_range.clone()] {
                        grow(&mut node, p, p);
                        node.mask |= mask;
                    }
                    node.first = points_range.start as u32;
                    node.count = points_range.len() as u32;
                } else {
                    let first = offsets[depth + 1] + children.start;
                    for child in &nodes[first..first + children.len()] {
                        grow(&mut node, &child.lower, &child.upper);
                        node.mask |= child.mask;
                    }
                    node.first = first as u32;
                    node.count = children.len() as u32;
                }
                nodes[offsets[depth] + i] = node;
            }
        }
        PointTree {
            nodes,
            first_leaf,
            positions: points.iter().map(|p| p.0).collect(),
            providers: points.iter().map(|p| p.1).collect(),
            masks: points.iter().map(|p| p.2).collect(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.positions.capacity() * std::mem::size_of::<[f64; 3]>()
            + self.providers.capacity() * std::mem::size_of::<u32>()
            + self.masks.capacity() * std::mem::size_of::<Mask>()
    }

    /// The `k` points nearest to `query` (a unit vector) whose provider
    /// passes `filter` and `extra`, as `(provider index, distance_km)` in
    /// non-decreasing distance, none farther than `max_km` (NaN: no bound).
    /// `extra` is called in distance order, only on providers that passed
    /// `filter`, and not after the `k`-th hit.
    pub(crate) fn nearest(
        &self,
        query: [f64; 3],
        k: usize,
        max_km: Option<f64>,
        filter: &CompiledFilter<'_>,
        extra: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut found = Vec::with_capacity(k.min(256));
        if k == 0 {
            return found;
        }
        self.visit_nearest(query, max_km, filter, |provider, km| {
            if extra(provider) {
                found.push((provider, km));
                if found.len() == k {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        found
    }

    /// Calls `visit(provider index, distance_km)` on every point whose
    /// provider passes `filter`, in non-decreasing distance from `query` (a
    /// unit vector), none farther than `max_km` (NaN: no bound), until
    /// `visit` breaks. Groups whose attribute summary cannot pass `filter`
    /// are never opened, and nothing beyond the point `visit` stops at is
    /// computed: a caller that knows a bound on what farther points can
    /// still offer stops as soon as the bound is passed.
    pub(crate) fn visit_nearest(
        &self,
        query: [f64; 3],
        max_km: Option<f64>,
        filter: &CompiledFilter<'_>,
        mut visit: impl FnMut(u32, f64) -> ControlFlow<()>,
    ) {
        let Some(root) = self.nodes.first() else {
            return;
        };
        if filter.rejects_all() || max_km.is_some_and(|m| m < 0.0) {
            return;
        }
        // Squared chord bound for pruning, a little generous: the exact test
        // is on the distance in km.
        let bound2 = max_km
            .and_then(km_to_chord)
            .map_or(f64::INFINITY, |c| (c * (1.0 + 1e-9) + 1e-12).powi(2));
        let unrestricted = filter.is_unrestricted();

        let mut heap: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
        if filter.may_pass(root.mask) {
            heap.push(Reverse((box_distance2(&query, root).to_bits(), NODE_TAG)));
        }
        while let Some(Reverse((key, item))) = heap.pop() {
            let index = (item & u64::from(u32::MAX)) as usize;
            if item < NODE_TAG {
                let km = chord_to_km(f64::from_bits(key).sqrt());
                if max_km.is_some_and(|max| km > max) {
                    break;
                }
                if visit(self.providers[index], km).is_break() {
                    break;
                }
                continue;
            }
            let node = &self.nodes[index];
            let children = node.first as usize..(node.first + node.count) as usize;
            if index >= self.first_leaf {
                for p in children {
                    if !unrestricted && !filter.may_pass(self.masks[p]) {
                        continue;
                    }
                    let d2 = distance2(&query, &self.positions[p]);
                    if d2 <= bound2 && filter.accepts(self.providers[p]) {
                        heap.push(Reverse((d2.to_bits(), p as u64)));
                    }
                }
            } else {
                for c in children {
                    let child = &self.nodes[c];
                    if !filter.may_pass(child.mask) {
                        continue;
                    }
                    let d2 = box_distance2(&query, child);
                    if d2 <= bound2 {
                        heap.push(Reverse((d2.to_bits(), NODE_TAG | c as u64)));
                    }
                }
            }
        }
    }
}

/// Splits `points` (which start at `offset` in the whole array) into
/// consecutive ranges of at most `capacity` points, all full but the last,
/// by recursive median splits along the longest side of the bounding box.
fn split(
    points: &mut [([f64; 3], u32, Mask)],
    offset: usize,
    capacity: usize,
    out: &mut Vec<Range<usize>>,
) {
    if points.len() <= capacity {
        out.push(offset..offset + points.len());
        return;
    }
    let left = points.len().div_ceil(capacity) / 2 * capacity;
    let mut lower = [f64::INFINITY; 3];
    let mut upper = [f64::NEG_INFINITY; 3];
    for (p, _, _) in points.iter() {
        for axis in 0..3 {
            lower[axis] = lower[axis].min(p[axis]);
            upper[axis] = upper[axis].max(p[axis]);
        }
    }
    let axis = (0..3)
        .max_by(|&a, &b| (upper[a] - lower[a]).total_cmp(&(upper[b] - lower[b])))
        .unwrap_or(0);
    points.select_nth_unstable_by(left, |a, b| a.0[axis].total_cmp(&b.0[axis]));
    let (head, tail) = points.split_at_mut(left);
    split(head, offset, capacity, out);
    split(tail, offset + left, capacity, out);
}

/// Extends a node's box by the box `lower`–`upper`.
fn grow(node: &mut Node, lower: &[f64; 3], upper: &[f64; 3]) {
    for axis in 0..3 {
        node.lower[axis] = node.lower[axis].min(lower[axis]);
        node.upper[axis] = node.upper[axis].max(upper[axis]);
    }
}

/// Squared chord between two unit vectors.
///
/// Computed with the same operations as [`box_distance2`], so (rounding
/// being monotone) a box's distance never exceeds a contained point's.
#[inline]
fn distance2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [
        (a[0] - b[0]).abs(),
        (a[1] - b[1]).abs(),
        (a[2] - b[2]).abs(),
    ];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Squared distance from a point to the nearest point of a node's box.
#[inline]
fn box_distance2(query: &[f64; 3], node: &Node) -> f64 {
    let gap = |axis: usize| {
        let q = query[axis];
        if q < node.lower[axis] {
            node.lower[axis] - q
        } else if q > node.upper[axis] {
            q - node.upper[axis]
        } else {
            0.0
        }
    };
    let d = [gap(0), gap(1), gap(2)];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed-seed 64-bit LCG giving `[0, 1)`.
    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn unit(next: &mut impl FnMut() -> f64) -> [f64; 3] {
        let z: f64 = 2.0 * next() - 1.0;
        let lon = std::f64::consts::TAU * next();
        let r = (1.0 - z * z).sqrt();
        [r * lon.cos(), r * lon.sin(), z]
    }

    #[test]
    fn structure_holds_every_point_once_in_full_leaves_and_tight_boxes() {
        let mut next = lcg(7);
        for n in [1, 15, 16, 17, 256, 257, 5_000] {
            let points: Vec<_> = (0..n as u32)
                .map(|i| (unit(&mut next), i, 1u128 << (i % 100)))
                .collect();
            let tree = PointTree::build(points.clone());
            assert_eq!(tree.positions.len(), n);
            let mut ids = tree.providers.clone();
            ids.sort_unstable();
            assert_eq!(ids, (0..n as u32).collect::<Vec<_>>());
            for (i, node) in tree.nodes.iter().enumerate() {
                assert!(node.count >= 1 && node.count as usize <= FANOUT.max(LEAF_SIZE));
                let range = node.first as usize..(node.first + node.count) as usize;
                let (mut mask, mut lower, mut upper) = (0, [f64::INFINITY; 3], [-f64::INFINITY; 3]);
                if i >= tree.first_leaf {
                    for p in range {
                        mask |= tree.masks[p];
                        assert_eq!(tree.masks[p], points[tree.providers[p] as usize].2);
                        for a in 0..3 {
                            lower[a] = lower[a].min(tree.positions[p][a]);
                            upper[a] = upper[a].max(tree.positions[p][a]);
                        }
                    }
                } else {
                    assert!(range.start > i && range.end <= tree.nodes.len());
                    for c in range {
                        mask |= tree.nodes[c].mask;
                        for a in 0..3 {
                            lower[a] = lower[a].min(tree.nodes[c].lower[a]);
                            upper[a] = upper[a].max(tree.nodes[c].upper[a]);
                        }
                    }
                }
                assert_eq!((node.mask, node.lower, node.upper), (mask, lower, upper));
            }
            // All leaves but the last on each level's right edge are full.
            let leaves = &tree.nodes[tree.first_leaf..];
            let full = leaves
                .iter()
                .filter(|l| l.count as usize == LEAF_SIZE)
                .count();
            assert!(
                full + 8 >= leaves.len(),
                "{full} of {} leaves full",
                leaves.len()
            );
        }
    }

    #[test]
    fn box_distance_never_exceeds_a_contained_point() {
        let mut next = lcg(11);
        let points: Vec<_> = (0..2_000u32).map(|i| (unit(&mut next), i, 1)).collect();
        let tree = PointTree::build(points);
        for _ in 0..200 {
            let q = unit(&mut next);
            for leaf in &tree.nodes[tree.first_leaf..] {
                let d = box_distance2(&q, leaf);
                for p in leaf.first..leaf.first + leaf.count {
                    assert!(d <= distance2(&q, &tree.positions[p as usize]));
                }
            }
        }
    }
}
