//! Point-in-polygon lookup over many boundaries (counties, countries).
//!
//! Each polygon's bounding box goes into an R-tree; a query point is tested
//! only against the polygons whose box holds it, and each polygon's edges
//! are bucketed into horizontal bands so the crossing test reads only the
//! edges near the point's latitude. Coordinates are `x = lon`, `y = lat` in
//! degrees; polygons are treated as planar in lon/lat, which is how the
//! source atlases draw them.

use geo::{BoundingRect, Coord, MultiPolygon, Polygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// Number of horizontal bands per polygon: enough to make large country
/// outlines cheap to test, small enough to keep memory modest.
const BANDS: usize = 64;

/// One polygon (exterior plus holes) prepared for fast crossing tests.
struct BandedPolygon {
    /// Which boundary this polygon belongs to.
    owner: usize,
    min_y: f64,
    band_height: f64,
    /// For each band, the edges `(a, b)` whose y-range meets it.
    bands: Vec<Vec<(Coord<f64>, Coord<f64>)>>,
    /// Bounding box of the polygon.
    bbox: Rect<f64>,
}

impl BandedPolygon {
    fn new(owner: usize, polygon: Polygon<f64>) -> Option<Self> {
        let rect = polygon.bounding_rect()?;
        let min_y = rect.min().y;
        let height = (rect.max().y - min_y).max(f64::EPSILON);
        let band_height = height / BANDS as f64;
        let mut bands = vec![Vec::new(); BANDS];
        let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
        for ring in rings {
            for line in ring.lines() {
                let (lo, hi) = if line.start.y <= line.end.y {
                    (line.start.y, line.end.y)
                } else {
                    (line.end.y, line.start.y)
                };
                let first = band_of(lo, min_y, band_height);
                let last = band_of(hi, min_y, band_height);
                for band in &mut bands[first..=last] {
                    band.push((line.start, line.end));
                }
            }
        }
        Some(Self {
            owner,
            min_y,
            band_height,
            bands,
            bbox: rect,
        })
    }

    /// Planar distance in degrees from `p` to the nearest edge, looking only
    /// at the bands within `tolerance` of `p`; `None` if no edge is that near.
    fn distance_within(&self, p: Coord<f64>, tolerance: f64) -> Option<f64> {
        let first = band_of(p.y - tolerance, self.min_y, self.band_height);
        let last = band_of(p.y + tolerance, self.min_y, self.band_height);
        self.bands[first..=last]
            .iter()
            .flatten()
            .map(|&(a, b)| segment_distance(p, a, b))
            .filter(|d| *d <= tolerance)
            .min_by(f64::total_cmp)
    }

    /// Even-odd crossing test; holes are handled because their edges are
    /// in the same bands.
    fn contains(&self, p: Coord<f64>) -> bool {
        let band = band_of(p.y, self.min_y, self.band_height);
        let mut inside = false;
        for &(a, b) in &self.bands[band] {
            if (a.y > p.y) != (b.y > p.y) {
                let x_cross = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
                if p.x < x_cross {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// Planar distance from `p` to the segment `a`–`b`.
fn segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let length_squared = dx * dx + dy * dy;
    let t = if length_squared > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    (cx * cx + cy * cy).sqrt()
}

fn band_of(y: f64, min_y: f64, band_height: f64) -> usize {
    let band = ((y - min_y) / band_height).floor();
    if band.is_nan() || band < 0.0 {
        0
    } else {
        (band as usize).min(BANDS - 1)
    }
}

/// A set of named boundaries answering "which one holds this point?".
pub struct BoundaryIndex {
    polygons: Vec<BandedPolygon>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl BoundaryIndex {
    /// Indexes `shapes`; the boundary at position `i` is reported as `i`.
    pub fn new<'a>(shapes: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> Self {
        let mut polygons = Vec::new();
        for (owner, shape) in shapes.into_iter().enumerate() {
            for polygon in &shape.0 {
                polygons.extend(BandedPolygon::new(owner, polygon.clone()));
            }
        }
        let boxes = polygons
            .iter()
            .enumerate()
            .map(|(i, p)| {
                GeomWithData::new(
                    Rectangle::from_corners(p.bbox.min().into(), p.bbox.max().into()),
                    i,
                )
            })
            .collect();
        Self {
            polygons,
            tree: RTree::bulk_load(boxes),
        }
    }

    /// The boundary containing the point `(lon, lat)` in degrees, if any.
    /// Where boundaries overlap the first one indexed wins.
    pub fn containing(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Coord { x: lon, y: lat };
        self.tree
            .locate_all_at_point(&[lon, lat])
            .filter(|entry| self.polygons[entry.data].contains(p))
            .map(|entry| self.polygons[entry.data].owner)
            .min()
    }

    /// The boundary containing the point or, failing that, the one whose
    /// outline is nearest within `tolerance_deg` degrees (planar lon/lat
    /// distance). This absorbs the simplification of coastlines in the
    /// source atlases, which can leave a shore town a little out at sea.
    pub fn containing_or_near(&self, lon: f64, lat: f64, tolerance_deg: f64) -> Option<usize> {
        if let Some(found) = self.containing(lon, lat) {
            return Some(found);
        }
        let point = Coord { x: lon, y: lat };
        let search = AABB::from_corners(
            [lon - tolerance_deg, lat - tolerance_deg],
            [lon + tolerance_deg, lat + tolerance_deg],
        );
        self.tree
            .locate_in_envelope_intersecting(&search)
            .filter_map(|entry| {
                let polygon = &self.polygons[entry.data];
                Some((
                    polygon.distance_within(point, tolerance_deg)?,
                    polygon.owner,
                ))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, owner)| owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Distance, Euclidean, Point};
    use proptest::prelude::*;

    fn donut() -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        )])
    }

    fn triangle() -> MultiPolygon<f64> {
        MultiPolygon::new(vec![
            polygon![(x: 20.0, y: 0.0), (x: 30.0, y: 0.0), (x: 25.0, y: 9.0)],
        ])
    }

    #[test]
    fn finds_owner_and_respects_holes() {
        let shapes = [donut(), triangle()];
        let index = BoundaryIndex::new(&shapes);
        assert_eq!(index.containing(1.0, 1.0), Some(0));
        assert_eq!(index.containing(5.0, 5.0), None, "inside the hole");
        assert_eq!(index.containing(25.0, 3.0), Some(1));
        assert_eq!(index.containing(15.0, 3.0), None);
        assert_eq!(index.containing_or_near(10.05, 5.0, 0.1), Some(0));
        assert_eq!(index.containing_or_near(10.5, 5.0, 0.1), None);
    }

    proptest! {
        /// The banded crossing test agrees with geo's `Contains` away from edges.
        #[test]
        fn agrees_with_geo_contains(x in -1.0f64..31.0, y in -1.0f64..11.0) {
            let shapes = [donut(), triangle()];
            let index = BoundaryIndex::new(&shapes);
            let p = Point::new(x, y);
            let near_edge = shapes.iter().any(|s| Euclidean.distance(&p, s) < 1e-9);
            prop_assume!(!near_edge);
            let expected = shapes.iter().position(|s| s.contains(&p));
            prop_assert_eq!(index.containing(x, y), expected);
        }

        /// The banded nearest-edge fallback agrees with geo's distance.
        #[test]
        fn near_fallback_agrees_with_geo_distance(x in -1.0f64..31.0, y in -1.0f64..11.0, tolerance in 0.01f64..2.0) {
            let shapes = [donut(), triangle()];
            let index = BoundaryIndex::new(&shapes);
            let p = Point::new(x, y);
            let inside = shapes.iter().position(|s| s.contains(&p));
            let distances: Vec<f64> = shapes.iter().map(|s| Euclidean.distance(&p, s)).collect();
            let near_edge = distances.iter().any(|d| (d - tolerance).abs() < 1e-9 || *d < 1e-9);
            prop_assume!(!near_edge);
            let expected = inside.or_else(|| {
                (0..shapes.len())
                    .filter(|&i| distances[i] <= tolerance)
                    .min_by(|&a, &b| distances[a].total_cmp(&distances[b]))
            });
            prop_assert_eq!(index.containing_or_near(x, y, tolerance), expected);
        }
    }
}
