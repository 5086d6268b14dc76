//! GeoJSON input: a FeatureCollection whose properties are the flat
//! columns; a `Point` geometry is the location, a `Polygon` or
//! `MultiPolygon` the service area. A feature's line is its 1-based
//! position in `features`.

use super::validate::{self, FlatRow};
use super::{file_rejected, Ingested, Rejection, Validator};
use crate::model::{AreaSpec, Provider};

impl Validator<'_> {
    /// Reads a GeoJSON FeatureCollection held in memory.
    pub(super) fn read_geojson(&self, source: &str, bytes: &[u8]) -> Ingested {
        let value: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return file_rejected(source, format!("not valid JSON (truncated file?): {e}"))
            }
        };
        if value.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
            return file_rejected(source, "expected a GeoJSON FeatureCollection");
        }
        let features = value
            .get("features")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default();
        let mut out = Ingested::default();
        for (index, feature) in features.iter().enumerate() {
            let position = index as u64 + 1;
            out.rows_read += 1;
            match self.feature(feature, source, position) {
                Ok(p) => out.accept(p, source, position),
                Err(r) => out.rejections.push(r),
            }
        }
        out
    }

    fn feature(
        &self,
        feature: &serde_json::Value,
        source: &str,
        position: u64,
    ) -> Result<Provider, Rejection> {
        let reject =
            |field: Option<&str>, reason: String| Rejection::new(source, position, field, reason);
        let mut row = FlatRow::new();
        if let Some(properties) = feature.get("properties").and_then(|p| p.as_object()) {
            for (key, value) in properties {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(";"),
                    other => other.to_string(),
                };
                row.insert(key.to_ascii_lowercase(), text);
            }
        }
        if let Some(id) = feature.get("id") {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
            row.entry("id".to_owned()).or_insert(id);
        }
        let mut polygon = None;
        if let Some(geometry) = feature.get("geometry").filter(|g| !g.is_null()) {
            let kind = geometry
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            let coordinates = geometry.get("coordinates").cloned().unwrap_or_default();
            match kind {
                "Point" => {
                    let [lon, lat]: [f64; 2] = serde_json::from_value(coordinates)
                        .map_err(|_| reject(Some("geometry"), "Point coordinates must be [lon, lat]".into()))?;
                    row.insert("lat".into(), lat.to_string());
                    row.insert("lon".into(), lon.to_string());
                }
                "Polygon" => {
                    let rings: Vec<Vec<[f64; 2]>> = serde_json::from_value(coordinates)
                        .map_err(|_| reject(Some("geometry"), "Polygon coordinates must be rings of [lon, lat]".into()))?;
                    polygon = Some(vec![rings]);
                }
                "MultiPolygon" => {
                    let polygons: Vec<Vec<Vec<[f64; 2]>>> = serde_json::from_value(coordinates).map_err(|_| {
                        reject(Some("geometry"), "MultiPolygon coordinates must be polygons of [lon, lat] rings".into())
                    })?;
                    polygon = Some(polygons);
                }
                other => {
                    return Err(reject(
                        Some("geometry"),
                        format!("geometry type '{other}' is not used; give a Point (location) or a Polygon/MultiPolygon (service area)"),
                    ))
                }
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
