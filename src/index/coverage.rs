//! The H3 coverage index: compacted cell → the regions whose cover holds it.
//!
//! Regions, not providers, are listed under each cell: a county used by a
//! thousand providers appears once, and region → providers is a separate
//! list. A query point's cell is looked up at every resolution present,
//! walking its parents from the finest indexed resolution up to 0, because
//! compaction leaves a region's interior as coarse parent cells.

use super::area::Region;
use crate::model::LatLng;
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Cell → region indexes, stored as ranges into one flat list.
#[derive(Debug, Default)]
pub(crate) struct CoverageIndex {
    /// Cell (as `u64`) → `(start, len)` in `region_ids`.
    cells: FxHashMap<u64, (u32, u32)>,
    region_ids: Vec<u32>,
    /// Bit `r` is set when some cell of resolution `r` is indexed.
    resolutions: u16,
    finest: Option<Resolution>,
}

impl CoverageIndex {
    /// Indexes the cells of `regions` (region `i` is `regions[i]`).
    pub(crate) fn build(regions: &[Arc<Region>]) -> Self {
        let mut pairs: Vec<(u64, u32)> = regions
            .iter()
            .enumerate()
            .flat_map(|(i, region)| {
                region
                    .cells()
                    .iter()
                    .map(move |c| (u64::from(*c), i as u32))
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut index = CoverageIndex {
            cells: FxHashMap::with_capacity_and_hasher(pairs.len(), Default::default()),
            region_ids: Vec::with_capacity(pairs.len()),
            resolutions: 0,
            finest: None,
        };
        for chunk in pairs.chunk_by(|a, b| a.0 == b.0) {
            let start = index.region_ids.len() as u32;
            index.region_ids.extend(chunk.iter().map(|&(_, r)| r));
            let cell = chunk[0].0;
            index.cells.insert(cell, (start, chunk.len() as u32));
            if let Ok(cell) = CellIndex::try_from(cell) {
                let res = cell.resolution();
                index.resolutions |= 1 << u8::from(res);
                index.finest = index.finest.max(Some(res));
            }
        }
        index.region_ids.shrink_to_fit();
        index
    }

    /// Appends to `out` the regions whose cover holds `point` (candidates,
    /// still to be confirmed against the boundary).
    pub(crate) fn candidates(&self, point: LatLng, out: &mut Vec<u32>) {
        let Some(finest) = self.finest else {
            return;
        };
        let Ok(ll) = h3o::LatLng::new(point.lat(), point.lon()) else {
            return;
        };
        let cell = ll.to_cell(finest);
        for res in Resolution::range(Resolution::Zero, finest).rev() {
            if self.resolutions & (1 << u8::from(res)) == 0 {
                continue;
            }
            let Some(parent) = cell.parent(res) else {
                continue;
            };
            if let Some(&(start, len)) = self.cells.get(&u64::from(parent)) {
                out.extend_from_slice(&self.region_ids[start as usize..(start + len) as usize]);
            }
        }
    }

    /// Number of distinct cells indexed.
    pub(crate) fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        // hashbrown: key + value + one control byte per bucket.
        self.cells.capacity() * (8 + 8 + 1) + self.region_ids.capacity() * 4
    }
}
