//! Repairs of atlas outlines before they are used as planar lon/lat polygons.

use geo::{BooleanOps, BoundingRect, Coord, MapCoords, MultiPolygon, Polygon, Rect};

/// Drops degenerate rings and splits antimeridian-crossing polygons: the
/// outline every boundary of the gazetteer (and every user polygon the
/// index tiles) goes through.
pub fn clean_outline(shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    split_at_antimeridian(drop_degenerate_rings(shape))
}

/// Drops rings of fewer than four positions (slivers the atlas' arc
/// simplification leaves), which enclose nothing and which h3o rejects.
pub fn drop_degenerate_rings(shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let polygons = shape
        .0
        .into_iter()
        .filter(|p| p.exterior().0.len() >= 4)
        .map(|p| {
            let (exterior, interiors) = p.into_inner();
            let interiors = interiors.into_iter().filter(|r| r.0.len() >= 4).collect();
            Polygon::new(exterior, interiors)
        })
        .collect();
    MultiPolygon::new(polygons)
}

/// Splits polygons that cross the antimeridian into an east and a west part.
///
/// The world atlas draws a few rings (Russia with Chukotka, Wrangel Island,
/// a Fijian island) going from +180° straight on to −180°: read as planar
/// lon/lat they would enclose a band round the whole globe. A polygon wider
/// than 180° that becomes narrower than 180° once negative longitudes are
/// shifted by +360° is such a ring: it is shifted, clipped at 180° and its
/// eastern part shifted back. A genuinely wide planar polygon (Antarctica,
/// running along −90°) is left alone.
pub fn split_at_antimeridian(shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let width = |p: &Polygon<f64>| p.bounding_rect().map_or(0.0, |r| r.width());
    let mut out = Vec::with_capacity(shape.0.len());
    for polygon in shape.0 {
        if width(&polygon) <= 180.0 {
            out.push(polygon);
            continue;
        }
        let shifted = polygon.map_coords(|c| Coord {
            x: if c.x < 0.0 { c.x + 360.0 } else { c.x },
            y: c.y,
        });
        if width(&shifted) > 180.0 {
            out.push(polygon);
            continue;
        }
        let west = Rect::new(Coord { x: 0.0, y: -90.0 }, Coord { x: 180.0, y: 90.0 });
        let east = Rect::new(Coord { x: 180.0, y: -90.0 }, Coord { x: 360.0, y: 90.0 });
        out.extend(shifted.intersection(&west.to_polygon()));
        out.extend(
            shifted
                .intersection(&east.to_polygon())
                .map_coords(|c| Coord {
                    x: c.x - 360.0,
                    y: c.y,
                }),
        );
    }
    MultiPolygon::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Point};

    #[test]
    fn a_ring_jumping_across_the_antimeridian_is_split_not_a_world_band() {
        // Drawn like Chukotka in the world atlas: from 170°E on to -170°.
        let ring = MultiPolygon::new(vec![polygon![
            (x: 170.0, y: 60.0), (x: 180.0, y: 60.0), (x: -180.0, y: 60.0), (x: -170.0, y: 60.0),
            (x: -170.0, y: 70.0), (x: -180.0, y: 70.0), (x: 180.0, y: 70.0), (x: 170.0, y: 70.0),
        ]]);
        assert!(
            ring.contains(&Point::new(0.0, 65.0)),
            "read as planar, it spans the globe"
        );
        let split = clean_outline(ring);
        assert!(!split.contains(&Point::new(0.0, 65.0)));
        assert!(!split.contains(&Point::new(-100.0, 65.0)));
        assert!(split.contains(&Point::new(175.0, 65.0)));
        assert!(split.contains(&Point::new(-175.0, 65.0)));
    }

    #[test]
    fn rings_with_fewer_than_four_positions_are_dropped() {
        let degenerate = MultiPolygon::new(vec![Polygon::new(
            vec![(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)].into(),
            vec![],
        )]);
        assert!(clean_outline(degenerate).0.is_empty());
    }
}
