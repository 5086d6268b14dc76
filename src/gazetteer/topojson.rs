//! A small decoder for the quantized TopoJSON files the gazetteer ships
//! (us-atlas `counties-10m.json`, world-atlas `countries-50m.json`).
//!
//! Only what those files use is supported: a `transform`, delta-encoded
//! arcs, and `Polygon` / `MultiPolygon` geometries in `GeometryCollection`
//! objects. Positions come out as `geo` coordinates with `x = lon`,
//! `y = lat`, in degrees.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a TopoJSON document could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum TopoJsonError {
    /// The text is not JSON of the expected shape.
    #[error("not a TopoJSON topology: {0}")]
    Json(#[from] serde_json::Error),
    /// The named object is absent.
    #[error("TopoJSON object '{0}' not found")]
    MissingObject(String),
    /// A geometry refers to an arc the topology does not have.
    #[error("geometry refers to arc {index}, but the topology has {count} arcs")]
    ArcOutOfRange {
        /// The arc index as written (negative means reversed).
        index: i64,
        /// How many arcs the topology holds.
        count: usize,
    },
}

#[derive(Deserialize)]
struct Topology {
    transform: Option<Transform>,
    objects: BTreeMap<String, GeometryCollection>,
    arcs: Vec<Vec<[f64; 2]>>,
}

#[derive(Deserialize)]
struct Transform {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
struct GeometryCollection {
    geometries: Vec<RawGeometry>,
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<serde_json::Value>,
    #[serde(default)]
    properties: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    arcs: serde_json::Value,
}

/// One decoded feature: its `id` (as a string, if any), its `name`
/// property (if any) and its area as a multipolygon in `[lon, lat]` degrees.
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature's `id`, e.g. a FIPS code `"06019"` or ISO numeric `"604"`.
    pub id: Option<String>,
    /// The feature's `properties.name`.
    pub name: Option<String>,
    /// The outline; empty when the feature has no geometry.
    pub shape: MultiPolygon<f64>,
}

/// A parsed topology whose objects can be decoded into [`Feature`]s.
pub struct Topo {
    arcs: Vec<Vec<Coord<f64>>>,
    objects: BTreeMap<String, GeometryCollection>,
}

impl Topo {
    /// Parses a TopoJSON document and de-quantizes its arcs.
    ///
    /// # Errors
    /// [`TopoJsonError::Json`] when the text is not a topology.
    pub fn parse(bytes: &[u8]) -> Result<Self, TopoJsonError> {
        let topology: Topology = serde_json::from_slice(bytes)?;
        let arcs = topology
            .arcs
            .iter()
            .map(|arc| decode_arc(arc, topology.transform.as_ref()))
            .collect();
        Ok(Self {
            arcs,
            objects: topology.objects,
        })
    }

    /// Decodes every geometry of the object named `object`.
    ///
    /// # Errors
    /// [`TopoJsonError::MissingObject`] or [`TopoJsonError::ArcOutOfRange`].
    pub fn features(&self, object: &str) -> Result<Vec<Feature>, TopoJsonError> {
        let collection = self
            .objects
            .get(object)
            .ok_or_else(|| TopoJsonError::MissingObject(object.to_owned()))?;
        collection
            .geometries
            .iter()
            .map(|geometry| self.feature(geometry))
            .collect()
    }

    fn feature(&self, geometry: &RawGeometry) -> Result<Feature, TopoJsonError> {
        let id = match &geometry.id {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let name = geometry
            .properties
            .get("name")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let polygons: Vec<Vec<Vec<i64>>> = match geometry.kind.as_deref() {
            Some("Polygon") => vec![serde_json::from_value(geometry.arcs.clone())?],
            Some("MultiPolygon") => serde_json::from_value(geometry.arcs.clone())?,
            _ => Vec::new(),
        };
        let mut shape = Vec::with_capacity(polygons.len());
        for rings in polygons {
            let mut decoded = Vec::with_capacity(rings.len());
            for ring in rings {
                decoded.push(self.ring(&ring)?);
            }
            let mut rings = decoded.into_iter();
            if let Some(exterior) = rings.next() {
                shape.push(Polygon::new(exterior, rings.collect()));
            }
        }
        Ok(Feature {
            id,
            name,
            shape: MultiPolygon::new(shape),
        })
    }

    fn ring(&self, arc_indexes: &[i64]) -> Result<LineString<f64>, TopoJsonError> {
        let mut coords: Vec<Coord<f64>> = Vec::new();
        for &index in arc_indexes {
            let (position, reversed) = if index < 0 {
                (!index, true)
            } else {
                (index, false)
            };
            let arc = usize::try_from(position)
                .ok()
                .and_then(|i| self.arcs.get(i))
                .ok_or(TopoJsonError::ArcOutOfRange {
                    index,
                    count: self.arcs.len(),
                })?;
            // Consecutive arcs share their joining point: skip the repeat.
            let skip = usize::from(!coords.is_empty());
            if reversed {
                coords.extend(arc.iter().rev().skip(skip));
            } else {
                coords.extend(arc.iter().skip(skip));
            }
        }
        Ok(LineString::new(coords))
    }
}

fn decode_arc(arc: &[[f64; 2]], transform: Option<&Transform>) -> Vec<Coord<f64>> {
    match transform {
        None => arc.iter().map(|&[x, y]| Coord { x, y }).collect(),
        Some(t) => {
            let (mut x, mut y) = (0.0, 0.0);
            arc.iter()
                .map(|&[dx, dy]| {
                    x += dx;
                    y += dy;
                    Coord {
                        x: x * t.scale[0] + t.translate[0],
                        y: y * t.scale[1] + t.translate[1],
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Point};

    const SQUARE: &str = r#"{"type":"Topology",
        "transform":{"scale":[1,1],"translate":[10,20]},
        "objects":{"shapes":{"type":"GeometryCollection","geometries":[
            {"type":"Polygon","id":"A","properties":{"name":"left"},"arcs":[[-1,1]]},
            {"type":"Polygon","id":7,"arcs":[[2,0]]},
            {"type":null,"id":"empty"}
        ]}},
        "arcs":[[[2,0],[0,2]],[[2,0],[-2,0],[0,2],[2,0]],[[2,2],[2,0],[0,-2],[-2,0]]]}"#;

    #[test]
    fn decodes_shared_arcs_in_both_directions() {
        let topo = Topo::parse(SQUARE.as_bytes()).unwrap();
        let features = topo.features("shapes").unwrap();
        assert_eq!(features.len(), 3);
        assert_eq!(features[0].id.as_deref(), Some("A"));
        assert_eq!(features[0].name.as_deref(), Some("left"));
        assert_eq!(features[1].id.as_deref(), Some("7"));
        assert!(features[2].shape.0.is_empty());
        let left = &features[0].shape;
        assert!((left.unsigned_area() - 4.0).abs() < 1e-9);
        assert!(left.contains(&Point::new(11.0, 21.0)));
        let right = &features[1].shape;
        assert!((right.unsigned_area() - 4.0).abs() < 1e-9);
        assert!(right.contains(&Point::new(13.0, 21.0)));
        assert!(!right.contains(&Point::new(11.0, 21.0)));
    }

    #[test]
    fn bad_arc_index_is_an_error_not_a_panic() {
        let text = r#"{"type":"Topology","objects":{"o":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[5]]}]}},"arcs":[]}"#;
        let topo = Topo::parse(text.as_bytes()).unwrap();
        assert!(matches!(
            topo.features("o"),
            Err(TopoJsonError::ArcOutOfRange { index: 5, count: 0 })
        ));
        assert!(matches!(
            topo.features("nope"),
            Err(TopoJsonError::MissingObject(_))
        ));
    }
}
