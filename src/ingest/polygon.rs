//! Service-area polygons: checked before anything tiles or tests them.
//!
//! A provider's own service area is a GeoJSON MultiPolygon's coordinates
//! (`[lon, lat]` degrees, RFC 7946). It is accepted when every polygon is
//! *simple* in the OGC sense:
//! - every ring is closed, has at least 4 positions, all in range, and
//!   encloses an area;
//! - no ring crosses or touches itself (no bow-tie, loop or spike);
//! - the rings of one polygon do not cross each other or overlap on a line
//!   (they may touch at a point), and every hole lies inside its exterior.
//!
//! Polygons of one MultiPolygon may overlap: the area served is their
//! union, so an overlap changes nothing.
//!
//! A ring that crosses or touches itself (a bow-tie, a loop, or the tiny
//! twists that simplified outlines often have: two of the bundled county
//! outlines do) is **repaired**: the polygon becomes the area its outline
//! encloses under the even-odd rule (as PostGIS's `ST_MakeValid` does; a
//! bow-tie becomes its two triangles), through geo's boolean operations.
//! That is what was drawn, and rejecting it would refuse real outlines over
//! slivers a few metres wide. [`CheckedPolygon::repaired`] says what was
//! found. Problems between rings (a hole crossing or outside its exterior,
//! holes inside each other) are **rejected**: whether the editor meant a
//! hole or an island cannot be told. Every rejection names the polygon, the
//! ring and the vertex (edges by the index of their first vertex) and where
//! two edges meet, so the editor can fix it.
//!
//! An area has at most [`MAX_POLYGON_VERTICES`] positions: tiling it into
//! H3 cells and every point-in-polygon test cost time in proportion, and
//! the public can send records (intake submissions).

use crate::model::LatLng;
use geo::algorithm::bool_ops::{BooleanOps, FillRule, OpType};
use geo::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{Coord, CoordinatePosition, Line, LineString, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// Most positions (vertices, counting each ring's closing repeat) one
/// polygon service area may have, over all its polygons and rings.
pub const MAX_POLYGON_VERTICES: usize = 10_000;

/// Why a service-area polygon is refused. Polygons, rings and vertices are
/// numbered from 0 in the order of the coordinates; ring 0 of a polygon is
/// its exterior, the others its holes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolygonError {
    /// No polygon at all.
    #[error("a MultiPolygon needs at least one polygon")]
    Empty,
    /// A polygon without rings.
    #[error("polygon {polygon} has no rings")]
    NoRings {
        /// The polygon.
        polygon: usize,
    },
    /// More positions than [`MAX_POLYGON_VERTICES`].
    #[error(
        "the polygon has {count} vertices, more than the {MAX_POLYGON_VERTICES} accepted per \
         service area; simplify it (a tolerance of about 100 m is plenty for a service area) or \
         use county or state codes"
    )]
    TooManyVertices {
        /// Positions found.
        count: usize,
    },
    /// A ring with fewer than 4 positions.
    #[error(
        "polygon {polygon} ring {ring} has {count} positions; a ring needs at least 4, the last \
         repeating the first"
    )]
    TooFewPositions {
        /// The polygon.
        polygon: usize,
        /// The ring.
        ring: usize,
        /// Positions found.
        count: usize,
    },
    /// A ring whose last position differs from its first.
    #[error(
        "polygon {polygon} ring {ring} is not closed: its last position must repeat its first"
    )]
    NotClosed {
        /// The polygon.
        polygon: usize,
        /// The ring.
        ring: usize,
    },
    /// A position that is not a valid `[lon, lat]`.
    #[error("polygon {polygon} ring {ring} vertex {vertex}: {reason} (positions are [lon, lat])")]
    BadPosition {
        /// The polygon.
        polygon: usize,
        /// The ring.
        ring: usize,
        /// The position's index in the ring.
        vertex: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A ring whose positions are all on one line (or fewer than three
    /// distinct ones).
    #[error(
        "polygon {polygon} ring {ring} encloses no area: it has fewer than 3 distinct positions \
         or they are all on one line"
    )]
    NoArea {
        /// The polygon.
        polygon: usize,
        /// The ring.
        ring: usize,
    },
    /// Two edges of one ring meet (other than consecutive edges at their
    /// shared vertex).
    #[error(
        "polygon {polygon} ring {ring} crosses itself: the edge from vertex {first} meets the \
         edge from vertex {second} at [{lon}, {lat}]; a ring must not cross or touch itself \
         (draw a figure-eight as two polygons)"
    )]
    SelfIntersection {
        /// The polygon.
        polygon: usize,
        /// The ring.
        ring: usize,
        /// Index of the first vertex of one edge.
        first: usize,
        /// Index of the first vertex of the other edge.
        second: usize,
        /// Longitude of (one point of) the intersection, degrees.
        lon: f64,
        /// Latitude of (one point of) the intersection, degrees.
        lat: f64,
    },
    /// Two rings of one polygon cross or overlap on a line.
    #[error(
        "polygon {polygon}: ring {ring} (edge from vertex {vertex}) crosses ring {other_ring} \
         (edge from vertex {other_vertex}) at [{lon}, {lat}]; the rings of a polygon may touch \
         at a point but not cross"
    )]
    RingsCross {
        /// The polygon.
        polygon: usize,
        /// One ring.
        ring: usize,
        /// First vertex of its edge.
        vertex: usize,
        /// The other ring.
        other_ring: usize,
        /// First vertex of its edge.
        other_vertex: usize,
        /// Longitude of (one point of) the intersection, degrees.
        lon: f64,
        /// Latitude of (one point of) the intersection, degrees.
        lat: f64,
    },
    /// A hole inside another hole of the same polygon.
    #[error(
        "polygon {polygon} ring {ring} lies inside ring {other_ring}, another hole; holes of a \
         polygon must not overlap"
    )]
    HolesOverlap {
        /// The polygon.
        polygon: usize,
        /// The inner hole.
        ring: usize,
        /// The hole around it.
        other_ring: usize,
    },
    /// A hole that is not inside its polygon's exterior ring.
    #[error(
        "polygon {polygon} ring {ring} is a hole outside the exterior ring 0; put holes inside \
         the exterior, or make the ring a polygon of its own"
    )]
    HoleOutside {
        /// The polygon.
        polygon: usize,
        /// The hole.
        ring: usize,
    },
}

/// A service area's polygon as checked: the shape to tile and test, and
/// the self-intersection that was repaired, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPolygon {
    /// The valid shape, `[lon, lat]` degrees (x = longitude).
    pub shape: geo::MultiPolygon<f64>,
    /// The first self-intersection found and repaired (even-odd rule);
    /// `None` when the polygon was valid as given.
    pub repaired: Option<PolygonError>,
}

/// Checks a service area's MultiPolygon coordinates (`[lon, lat]`
/// degrees) and returns the shape to use: as given when valid, repaired
/// when a ring crosses itself (see the module documentation).
///
/// # Errors
/// The first problem that cannot be repaired, as a [`PolygonError`]
/// naming the polygon, ring and vertex.
///
/// # Examples
/// ```
/// use refmatch::ingest::{check_polygon, PolygonError};
/// let square = vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]];
/// assert_eq!(check_polygon(&[square]).unwrap().repaired, None);
/// // A bow-tie becomes its two triangles.
/// let bow_tie = vec![vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]];
/// let checked = check_polygon(&[bow_tie]).unwrap();
/// assert!(matches!(checked.repaired, Some(PolygonError::SelfIntersection { ring: 0, .. })));
/// assert_eq!(checked.shape.0.len(), 2);
/// ```
pub fn check_polygon(coordinates: &[Vec<Vec<[f64; 2]>>]) -> Result<CheckedPolygon, PolygonError> {
    if coordinates.is_empty() {
        return Err(PolygonError::Empty);
    }
    let count: usize = coordinates.iter().flatten().map(Vec::len).sum();
    if count > MAX_POLYGON_VERTICES {
        return Err(PolygonError::TooManyVertices { count });
    }
    let mut polygons = Vec::with_capacity(coordinates.len());
    let mut repaired = None;
    for (p, rings) in coordinates.iter().enumerate() {
        if rings.is_empty() {
            return Err(PolygonError::NoRings { polygon: p });
        }
        let mut distinct = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            distinct.push(check_ring(p, r, ring)?);
        }
        let self_intersection = check_crossings(p, &distinct)?;
        let mut lines = rings.iter().map(|ring| {
            LineString::from(
                ring.iter()
                    .map(|&[x, y]| Coord { x, y })
                    .collect::<Vec<_>>(),
            )
        });
        let Some(exterior) = lines.next() else {
            return Err(PolygonError::NoRings { polygon: p });
        };
        let polygon = Polygon::new(exterior, lines.collect());
        match self_intersection {
            None => {
                check_holes_inside(p, &polygon, &distinct)?;
                polygons.push(polygon);
            }
            Some(problem) => {
                // The area the outline encloses, each polygon on its own
                // (polygons of a MultiPolygon may overlap: even-odd over
                // all of them would cut the overlap out).
                let fixed = polygon.boolean_op_with_fill_rule(
                    &geo::MultiPolygon::<f64>::new(Vec::new()),
                    OpType::Union,
                    FillRule::EvenOdd,
                );
                if fixed.0.is_empty() {
                    return Err(problem);
                }
                polygons.extend(fixed.0);
                repaired.get_or_insert(problem);
            }
        }
    }
    Ok(CheckedPolygon {
        shape: geo::MultiPolygon::new(polygons),
        repaired,
    })
}

/// A ring's positions without consecutive repeats, each with its index in
/// the ring as given; closed (the last equals the first).
type Distinct = Vec<(usize, Coord<f64>)>;

/// Checks one ring's positions; returns its distinct positions.
fn check_ring(
    polygon: usize,
    ring: usize,
    positions: &[[f64; 2]],
) -> Result<Distinct, PolygonError> {
    if positions.len() < 4 {
        return Err(PolygonError::TooFewPositions {
            polygon,
            ring,
            count: positions.len(),
        });
    }
    for (vertex, &[lon, lat]) in positions.iter().enumerate() {
        if let Err(e) = LatLng::new(lat, lon) {
            return Err(PolygonError::BadPosition {
                polygon,
                ring,
                vertex,
                reason: e.to_string(),
            });
        }
    }
    if positions.first() != positions.last() {
        return Err(PolygonError::NotClosed { polygon, ring });
    }
    let mut distinct: Distinct = Vec::with_capacity(positions.len());
    for (vertex, &[x, y]) in positions.iter().enumerate() {
        let coord = Coord { x, y };
        if distinct.last().is_none_or(|(_, last)| *last != coord) {
            distinct.push((vertex, coord));
        }
    }
    // Closed, so 3 distinct vertices make 4 entries; and not all on one
    // line (robust orientation, no rounding).
    let all_on_a_line = match distinct.as_slice() {
        [(_, a), (_, b), rest @ ..] => rest
            .iter()
            .all(|(_, c)| RobustKernel::orient2d(*a, *b, *c) == Orientation::Collinear),
        _ => true,
    };
    if distinct.len() < 4 || all_on_a_line {
        return Err(PolygonError::NoArea { polygon, ring });
    }
    Ok(distinct)
}

/// An edge in the R-tree: its box, with (ring, edge index in
/// [`Distinct`]).
type Edge = GeomWithData<Rectangle<[f64; 2]>, (usize, usize)>;

fn edge_line(rings: &[Distinct], ring: usize, edge: usize) -> Option<Line<f64>> {
    let positions = rings.get(ring)?;
    Some(Line::new(
        positions.get(edge)?.1,
        positions.get(edge + 1)?.1,
    ))
}

/// Finds two edges that meet where they may not: between rings, anywhere
/// but isolated points (an error); within a ring, anywhere but the shared
/// vertex of consecutive edges (returned: the polygon is to be repaired).
/// Candidate pairs come from an R-tree of edge boxes, so a ring of n
/// vertices costs about n log n, not n².
fn check_crossings(
    polygon: usize,
    rings: &[Distinct],
) -> Result<Option<PolygonError>, PolygonError> {
    let mut self_intersection = None;
    let edges: Vec<Edge> = rings
        .iter()
        .enumerate()
        .flat_map(|(r, positions)| {
            positions.windows(2).enumerate().map(move |(e, w)| {
                let (a, b) = (w[0].1, w[1].1);
                GeomWithData::new(Rectangle::from_corners([a.x, a.y], [b.x, b.y]), (r, e))
            })
        })
        .collect();
    let tree = RTree::bulk_load(edges.clone());
    for edge in &edges {
        let (r, e) = edge.data;
        let Some(line) = edge_line(rings, r, e) else {
            continue;
        };
        let envelope = AABB::from_corners(
            [line.start.x.min(line.end.x), line.start.y.min(line.end.y)],
            [line.start.x.max(line.end.x), line.start.y.max(line.end.y)],
        );
        for other in tree.locate_in_envelope_intersecting(&envelope) {
            let (r2, e2) = other.data;
            // Each pair once.
            if (r2, e2) <= (r, e) {
                continue;
            }
            let Some(other_line) = edge_line(rings, r2, e2) else {
                continue;
            };
            let Some(meet) = line_intersection(line, other_line) else {
                continue;
            };
            let (at, on_a_line) = match meet {
                LineIntersection::SinglePoint { intersection, .. } => (intersection, false),
                LineIntersection::Collinear { intersection } => (intersection.start, true),
            };
            let vertex = |ring: usize, edge: usize| rings[ring][edge].0;
            if r == r2 {
                let edges_in_ring = rings[r].len() - 1;
                let consecutive = e2 == e + 1 || (e == 0 && e2 == edges_in_ring - 1);
                // Consecutive edges share one vertex and may meet only there.
                if consecutive && !on_a_line {
                    continue;
                }
                self_intersection.get_or_insert(PolygonError::SelfIntersection {
                    polygon,
                    ring: r,
                    first: vertex(r, e),
                    second: vertex(r2, e2),
                    lon: at.x,
                    lat: at.y,
                });
                continue;
            }
            // Rings may touch at a point, not cross or share a line.
            if on_a_line || meet.is_proper() {
                return Err(PolygonError::RingsCross {
                    polygon,
                    ring: r,
                    vertex: vertex(r, e),
                    other_ring: r2,
                    other_vertex: vertex(r2, e2),
                    lon: at.x,
                    lat: at.y,
                });
            }
        }
    }
    Ok(self_intersection)
}

/// Where ring `inner` lies relative to ring `outer` (as a polygon without
/// holes): the rings do not cross, so the first vertex of `inner` off
/// `outer`'s boundary decides. `OnBoundary` when every vertex is on it.
fn ring_position(outer: &Polygon<f64>, inner: &Distinct) -> CoordPos {
    inner
        .iter()
        .map(|(_, coord)| outer.coordinate_position(coord))
        .find(|position| *position != CoordPos::OnBoundary)
        .unwrap_or(CoordPos::OnBoundary)
}

/// Every hole lies inside the exterior, and no hole inside another.
fn check_holes_inside(
    polygon: usize,
    shape: &Polygon<f64>,
    rings: &[Distinct],
) -> Result<(), PolygonError> {
    let exterior = Polygon::new(shape.exterior().clone(), Vec::new());
    for (r, positions) in rings.iter().enumerate().skip(1) {
        if ring_position(&exterior, positions) == CoordPos::Outside {
            return Err(PolygonError::HoleOutside { polygon, ring: r });
        }
    }
    for (h, hole) in shape.interiors().iter().enumerate() {
        let hole = Polygon::new(hole.clone(), Vec::new());
        for (r, positions) in rings.iter().enumerate().skip(1) {
            if r != h + 1 && ring_position(&hole, positions) == CoordPos::Inside {
                return Err(PolygonError::HolesOverlap {
                    polygon,
                    ring: r,
                    other_ring: h + 1,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(ring: &[[f64; 2]]) -> Vec<Vec<Vec<[f64; 2]>>> {
        vec![vec![ring.to_vec()]]
    }

    const SQUARE: [[f64; 2]; 5] = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];

    #[test]
    fn simple_polygons_and_holes_pass() {
        assert_eq!(check_polygon(&one(&SQUARE)).unwrap().repaired, None);
        // Clockwise, with a repeated vertex: still simple.
        let repeated = [
            [0.0, 0.0],
            [0.0, 1.0],
            [0.0, 1.0],
            [1.0, 1.0],
            [1.0, 0.0],
            [0.0, 0.0],
        ];
        assert!(check_polygon(&one(&repeated)).is_ok());
        let hole = vec![[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]];
        assert!(check_polygon(&[vec![SQUARE.to_vec(), hole]]).is_ok());
        // Two overlapping polygons: their union is served.
        let shifted: Vec<[f64; 2]> = SQUARE.iter().map(|[x, y]| [x + 0.5, *y]).collect();
        assert!(check_polygon(&[vec![SQUARE.to_vec()], vec![shifted]]).is_ok());
    }

    fn area(checked: &CheckedPolygon) -> f64 {
        use geo::Area;
        checked.shape.unsigned_area()
    }

    fn covers(checked: &CheckedPolygon, x: f64, y: f64) -> bool {
        use geo::Contains;
        checked.shape.contains(&Coord { x, y })
    }

    #[test]
    fn a_bow_tie_is_repaired_into_its_two_triangles_and_named() {
        let bow_tie = [[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0], [0.0, 0.0]];
        let checked = check_polygon(&one(&bow_tie)).unwrap();
        let found = checked.repaired.clone().unwrap();
        assert_eq!(
            found,
            PolygonError::SelfIntersection {
                polygon: 0,
                ring: 0,
                first: 0,
                second: 2,
                lon: 1.0,
                lat: 1.0
            }
        );
        let text = found.to_string();
        assert!(text.contains("ring 0 crosses itself"), "{text}");
        assert!(
            text.contains("vertex 0") && text.contains("vertex 2"),
            "{text}"
        );
        // Both lobes, nothing between them.
        assert_eq!(checked.shape.0.len(), 2, "{:?}", checked.shape);
        assert!((area(&checked) - 2.0).abs() < 1e-9);
        assert!(covers(&checked, 0.2, 1.0) && covers(&checked, 1.8, 1.0));
        assert!(!covers(&checked, 1.0, 0.2) && !covers(&checked, 1.0, 1.8));
        use geo::Validation;
        assert!(checked.shape.is_valid());
    }

    #[test]
    fn spikes_are_cut_and_problems_between_rings_refused() {
        // A spike: the ring goes out and back along one line.
        let spike = [
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.0, 0.0],
        ];
        let checked = check_polygon(&one(&spike)).unwrap();
        assert!(matches!(
            checked.repaired,
            Some(PolygonError::SelfIntersection { ring: 0, .. })
        ));
        assert!((area(&checked) - 1.0).abs() < 1e-9);
        // Collinear: no area.
        let flat = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]];
        assert_eq!(
            check_polygon(&one(&flat)),
            Err(PolygonError::NoArea {
                polygon: 0,
                ring: 0
            })
        );
        // A hole crossing the exterior, one outside it, one inside another.
        let crossing = vec![[0.5, 0.5], [1.5, 0.5], [1.5, 0.7], [0.5, 0.5]];
        assert!(matches!(
            check_polygon(&[vec![SQUARE.to_vec(), crossing]]),
            Err(PolygonError::RingsCross {
                ring: 0,
                other_ring: 1,
                ..
            })
        ));
        let outside = vec![[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 2.0]];
        assert_eq!(
            check_polygon(&[vec![SQUARE.to_vec(), outside]]),
            Err(PolygonError::HoleOutside {
                polygon: 0,
                ring: 1
            })
        );
        let big = vec![[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.1]];
        let small = vec![[0.7, 0.2], [0.8, 0.2], [0.8, 0.3], [0.7, 0.2]];
        assert_eq!(
            check_polygon(&[vec![SQUARE.to_vec(), big, small]]),
            Err(PolygonError::HolesOverlap {
                polygon: 0,
                ring: 2,
                other_ring: 1
            })
        );
    }

    #[test]
    fn positions_and_shape_are_checked_with_their_place() {
        let open = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert_eq!(
            check_polygon(&one(&open)),
            Err(PolygonError::NotClosed {
                polygon: 0,
                ring: 0
            })
        );
        let far = [[0.0, 0.0], [1.0, 0.0], [1.0, 91.0], [0.0, 0.0]];
        assert!(matches!(
            check_polygon(&one(&far)),
            Err(PolygonError::BadPosition { vertex: 2, .. })
        ));
        assert_eq!(check_polygon(&[]), Err(PolygonError::Empty));
        assert_eq!(
            check_polygon(&[vec![]]),
            Err(PolygonError::NoRings { polygon: 0 })
        );
    }

    #[test]
    fn the_vertex_cap_is_named() {
        // A valid circle just over the cap.
        let n = MAX_POLYGON_VERTICES;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        let error = check_polygon(&[vec![ring.clone()]]).unwrap_err();
        assert_eq!(error, PolygonError::TooManyVertices { count: n + 1 });
        assert!(error.to_string().contains("10000"), "{error}");
        // At the cap it passes (and the crossing test is quick).
        ring.drain(n - 1..n);
        let started = std::time::Instant::now();
        assert_eq!(check_polygon(&[vec![ring]]).unwrap().repaired, None);
        assert!(started.elapsed().as_secs_f64() < 5.0);
    }

    proptest! {
        /// Whatever the rings, the check answers (never panics); what it
        /// accepts as given geo also finds valid, and a repair leaves an
        /// area.
        #[test]
        fn never_panics_on_arbitrary_rings(
            rings in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        (-200.0f64..200.0, -100.0f64..100.0),
                        (0i32..4, 0i32..4).prop_map(|(x, y)| (f64::from(x), f64::from(y))),
                        Just((f64::NAN, 0.0)),
                        Just((f64::INFINITY, 1.0)),
                    ],
                    0..12,
                ),
                0..4,
            ),
            close in any::<bool>(),
        ) {
            let rings: Vec<Vec<[f64; 2]>> = rings
                .into_iter()
                .map(|ring| {
                    let mut ring: Vec<[f64; 2]> = ring.into_iter().map(|(x, y)| [x, y]).collect();
                    if close {
                        if let Some(first) = ring.first().copied() {
                            ring.push(first);
                        }
                    }
                    ring
                })
                .collect();
            if let Ok(checked) = check_polygon(&[rings]) {
                prop_assert!(!checked.shape.0.is_empty());
                if checked.repaired.is_none() {
                    use geo::Validation;
                    prop_assert!(
                        checked.shape.is_valid(),
                        "{:?}",
                        checked.shape.validation_errors()
                    );
                }
            }
        }
    }
}
