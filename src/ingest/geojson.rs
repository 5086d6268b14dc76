//! GeoJSON input (RFC 7946), read with the `geojson` crate: a
//! FeatureCollection whose properties are the flat columns; a `Point`
//! geometry is the location, a `Polygon` or `MultiPolygon` the service
//! area. A feature's line is its 1-based position in `features`.
//!
//! Each feature is decoded on its own ([`geojson::Feature`]), so a bad
//! feature is one rejection, not the whole file. Where the crate is
//! stricter than RFC 7946 readers usually are, the reader keeps what
//! earlier versions accepted: a feature without a `geometry` member is read
//! as `"geometry": null` (placed by its address, if it has one). Where it
//! follows the RFC, a feature must say `"type": "Feature"`, `properties`
//! must be an object or null and `id` a string or number; each is a
//! rejection of that feature, naming the member.

use super::validate::{self, FlatRow};
use super::{file_rejected, Ingested, Rejection, Validator};
use crate::model::{AreaSpec, Provider};
use ::geojson::{feature::Id, Feature, Position, Value as Geometry};
use serde_json::Value;

/// Why a feature's geometry is refused, for a geometry type we do not use.
fn unused_type(kind: &str) -> String {
    format!("geometry type '{kind}' is not used; give a Point (location) or a Polygon/MultiPolygon (service area)")
}

const POINT_SHAPE: &str = "Point coordinates must be [lon, lat]";
const POLYGON_SHAPE: &str = "Polygon coordinates must be rings of [lon, lat]";
const MULTIPOLYGON_SHAPE: &str = "MultiPolygon coordinates must be polygons of [lon, lat] rings";

/// The field and reason for a feature the crate could not decode.
/// `declared` is the type its geometry claims, if any: a geometry whose
/// coordinates do not decode is reported by that type, as the reader did
/// before it used the crate.
fn decode_error(error: ::geojson::Error, declared: Option<&str>) -> (&'static str, String) {
    use ::geojson::Error as E;
    match error {
        E::PropertiesExpectedObjectOrNull(_) => {
            ("properties", "properties must be an object or null".into())
        }
        E::FeatureInvalidIdentifierType(value) => (
            "id",
            format!("id must be a string or a number, got {value}"),
        ),
        E::BboxExpectedArray(_) | E::BboxExpectedNumericValues(_) => {
            ("bbox", "bbox must be an array of numbers".into())
        }
        E::FeatureInvalidGeometryValue(_) => {
            ("geometry", "geometry must be an object or null".into())
        }
        other => (
            "geometry",
            match declared {
                Some("Point") => POINT_SHAPE.into(),
                Some("Polygon") => POLYGON_SHAPE.into(),
                Some("MultiPolygon") => MULTIPOLYGON_SHAPE.into(),
                Some(kind) => unused_type(kind),
                None => match other {
                    E::GeometryUnknownType(kind) => unused_type(&kind),
                    _ => unused_type(""),
                },
            },
        ),
    }
}

/// `[lon, lat]` from a position, or `None` when it has another length
/// (an altitude is refused, as before).
fn lon_lat(position: &Position) -> Option<[f64; 2]> {
    match position.as_slice() {
        [lon, lat] => Some([*lon, *lat]),
        _ => None,
    }
}

/// A polygon's rings as `[lon, lat]` positions.
fn rings(polygon: &[Vec<Position>]) -> Option<Vec<Vec<[f64; 2]>>> {
    polygon
        .iter()
        .map(|ring| ring.iter().map(lon_lat).collect())
        .collect()
}

impl Validator<'_> {
    /// Reads a GeoJSON FeatureCollection held in memory. Text that is not
    /// JSON, or JSON that is not a FeatureCollection, is the rejection of
    /// the whole file (line 0).
    pub(super) fn read_geojson(&self, source: &str, bytes: &[u8]) -> Ingested {
        let mut value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return file_rejected(source, format!("not valid JSON (truncated file?): {e}"))
            }
        };
        if value.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
            return file_rejected(source, "expected a GeoJSON FeatureCollection");
        }
        let features = match value.get_mut("features").map(Value::take) {
            Some(Value::Array(features)) => features,
            _ => Vec::new(),
        };
        let mut out = Ingested::default();
        for (index, feature) in features.into_iter().enumerate() {
            let position = index as u64 + 1;
            out.rows_read += 1;
            match self.feature(feature, source, position) {
                Ok(p) => out.accept(p, source, position),
                Err(r) => out.rejections.push(r),
            }
        }
        out
    }

    /// Decodes one feature with the `geojson` crate, turns its properties
    /// into a flat row and its geometry into a location or service area,
    /// then checks the provider.
    fn feature(&self, value: Value, source: &str, position: u64) -> Result<Provider, Rejection> {
        let reject =
            |field: Option<&str>, reason: String| Rejection::new(source, position, field, reason);
        let Value::Object(mut object) = value else {
            return Err(reject(None, "expected a GeoJSON Feature object".to_owned()));
        };
        if object.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(reject(
                Some("type"),
                "expected a GeoJSON Feature (\"type\": \"Feature\")".to_owned(),
            ));
        }
        object.entry("geometry").or_insert(Value::Null);
        let declared = object
            .get("geometry")
            .and_then(|g| g.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let feature = Feature::try_from(object).map_err(|e| {
            let (field, reason) = decode_error(e, declared.as_deref());
            reject(Some(field), reason)
        })?;

        let mut row = FlatRow::new();
        for (key, value) in feature.properties.into_iter().flatten() {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            row.insert(key.to_ascii_lowercase(), text);
        }
        if let Some(id) = feature.id {
            let id = match id {
                Id::String(s) => s,
                Id::Number(n) => n.to_string(),
            };
            row.entry("id".to_owned()).or_insert(id);
        }
        let mut polygon = None;
        if let Some(geometry) = feature.geometry {
            match &geometry.value {
                Geometry::Point(point) => {
                    let [lon, lat] = lon_lat(point)
                        .ok_or_else(|| reject(Some("geometry"), POINT_SHAPE.into()))?;
                    row.insert("lat".into(), lat.to_string());
                    row.insert("lon".into(), lon.to_string());
                }
                Geometry::Polygon(polygon_rings) => {
                    let rings = rings(polygon_rings)
                        .ok_or_else(|| reject(Some("geometry"), POLYGON_SHAPE.into()))?;
                    polygon = Some(vec![rings]);
                }
                Geometry::MultiPolygon(polygons) => {
                    let polygons = polygons
                        .iter()
                        .map(|p| rings(p))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| reject(Some("geometry"), MULTIPOLYGON_SHAPE.into()))?;
                    polygon = Some(polygons);
                }
                other => return Err(reject(Some("geometry"), unused_type(other.type_name()))),
            }
        }
        let mut provider =
            validate::build_flat(&row, source).map_err(|e| reject(Some(e.field), e.reason))?;
        if let Some(coordinates) = polygon {
            provider
                .service_area
                .push(AreaSpec::Polygon { coordinates });
        }
        self.provider(provider, source, position)
    }
}
