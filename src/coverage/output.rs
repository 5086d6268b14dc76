//! Report outputs: a GeoJSON FeatureCollection (RFC 7946) of region
//! outlines with the figures as properties, and CSV / Parquet tables of
//! the same figures written with polars.

use super::figures::{Gap, Report};
use super::query::RegionSet;
use super::regions::UnitKind;
use super::suggest::Suggestion;
use super::{population_source, CoverageError, REACH_KM};
use crate::cancel::Cancel;
use geo::{LineString, Polygon, Simplify};
use polars::prelude::{Column, CsvWriter, DataFrame, ParquetWriter, SerWriter};
use serde_json::{json, Map, Value};
use std::io::Write;

/// Decimal places kept in output coordinates (about 0.1 m).
const COORDINATE_DECIMALS: i32 = 6;

/// A table format for [`Report::write_table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl UnitKind {
    /// The kind as written in outputs.
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::State => "state",
            UnitKind::County => "county",
            UnitKind::Country => "country",
            UnitKind::H3 => "h3",
        }
    }
}

fn round(x: f64) -> f64 {
    let scale = 10f64.powi(COORDINATE_DECIMALS);
    (x * scale).round() / scale
}

/// Twice the signed area of a closed ring in `[lon, lat]`: positive when
/// counter-clockwise.
fn signed_area2(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

/// A ring as rounded `[lon, lat]` positions, wound counter-clockwise
/// (`ccw`) or clockwise; `None` when it has fewer than 4 positions or no
/// area left.
fn ring(line: &LineString<f64>, ccw: bool) -> Option<Vec<[f64; 2]>> {
    let mut coords: Vec<[f64; 2]> = line.coords().map(|c| [round(c.x), round(c.y)]).collect();
    coords.dedup();
    if coords.first() != coords.last() {
        let first = *coords.first()?;
        coords.push(first);
    }
    if coords.len() < 4 {
        return None;
    }
    let area = signed_area2(&coords);
    if area == 0.0 {
        return None;
    }
    if (area > 0.0) != ccw {
        coords.reverse();
    }
    Some(coords)
}

/// A polygon's rings (RFC 7946 right-hand rule: exterior counter-clockwise,
/// holes clockwise), simplified with `tolerance_deg` (Ramer–Douglas–Peucker);
/// `None` when the exterior degenerates.
fn polygon_rings(polygon: &Polygon<f64>, tolerance_deg: f64) -> Option<Vec<Vec<[f64; 2]>>> {
    let simplified = if tolerance_deg > 0.0 {
        polygon.simplify(tolerance_deg)
    } else {
        polygon.clone()
    };
    let exterior = ring(simplified.exterior(), true).or_else(|| ring(polygon.exterior(), true))?;
    let mut rings = vec![exterior];
    rings.extend(simplified.interiors().iter().filter_map(|h| ring(h, false)));
    Some(rings)
}

/// The GeoJSON geometry of a unit's outline: a MultiPolygon, or `null`
/// when the atlas has none.
pub fn geometry(shape: &geo::MultiPolygon<f64>, tolerance_deg: f64) -> Value {
    let polygons: Vec<Vec<Vec<[f64; 2]>>> = shape
        .0
        .iter()
        .filter_map(|p| polygon_rings(p, tolerance_deg))
        .collect();
    if polygons.is_empty() {
        return Value::Null;
    }
    json!({"type": "MultiPolygon", "coordinates": polygons})
}

impl Report<'_> {
    /// The `metadata` member: the need, the options, the definitions, the
    /// population source and the counts by gap class.
    pub fn metadata(&self) -> Value {
        let q = &self.query;
        let need = &q.need;
        let mut regions = Map::new();
        regions.insert("by".into(), q.regions.name().into());
        if let RegionSet::H3 { resolution, bbox } = q.regions {
            regions.insert("resolution".into(), resolution.into());
            regions.insert(
                "bbox".into(),
                match bbox {
                    Some(b) => json!(b),
                    None => {
                        "contiguous US (48 states and DC), cells whose centre lies inside".into()
                    }
                },
            );
        }
        regions.insert("count".into(), self.units.len().into());
        let counts: Map<String, Value> = self
            .gap_counts()
            .iter()
            .map(|(g, n)| (g.name().to_owned(), (*n).into()))
            .collect();
        json!({
            "generator": format!("refmatch {}", env!("CARGO_PKG_VERSION")),
            "regions": regions,
            "need": {
                "issues": need.issues,
                "languages": need.languages,
                "open_24h": need.open_24h,
                "kinds": need.kinds.iter().map(|k| k.code()).collect::<Vec<_>>(),
                "exclude": need.exclude.iter().map(|k| k.code()).collect::<Vec<_>>(),
                "populations": need.populations,
                "include_hotlines": q.include_hotlines,
            },
            "matching_providers": self.matching_providers,
            "threshold_km": q.threshold_km,
            "reach_km": REACH_KM,
            "catchment_km": q.catchment_km,
            "decay": q.decay.name(),
            "tolerance_deg": q.tolerance_deg,
            "population_source": population_source(&q.regions),
            "counts_by_gap": counts,
            "unserved_population": self.figures.iter().map(|f| f.unserved_population).sum::<u64>(),
            "definitions": {
                "providers": "providers passing the need's filters; by default only on-the-ground ones (with a location, kind other than hotline), since national hotlines serve everywhere",
                "people_points": "the gazetteer's populated places in the region, each weighted by its share of the region's population; the label point (cell centre for H3) when it has none",
                "providers_serving": "distinct matching providers whose service area covers any of the region's people points",
                "nearest_km": "population-weighted mean over the people points of the great-circle distance to the nearest matching provider, km",
                "gap": "served: a matching provider serves the region or nearest_km <= threshold_km; far: none serves it and nearest_km > threshold_km (within reach_km); none: no matching provider within reach_km",
                "unserved_population": "persons at people points that no matching provider serves and whose nearest matching provider is beyond threshold_km",
                "access_per_100k": "two-step floating catchment area (Luo and Wang 2003; Gaussian decay as in Dai 2010 unless decay=binary): matching providers per 100,000 people within catchment_km, population-weighted over the people points; demand is the region set's people points",
            },
        })
    }

    /// The Feature of region `u`: its outline simplified with the query's
    /// tolerance, its figures as properties.
    fn feature(&self, u: usize) -> Value {
        let (unit, f) = (&self.units[u], &self.figures[u]);
        json!({
            "type": "Feature",
            "id": unit.id,
            "geometry": geometry(&unit.shape, self.query.tolerance_deg),
            "properties": {
                "id": unit.id,
                "name": unit.name,
                "kind": unit.kind.name(),
                "population": f.population,
                "people_points": f.people_points,
                "providers_serving": f.providers_serving,
                "nearest_km": f.nearest_km.map(|d| (d * 1000.0).round() / 1000.0),
                "gap": f.gap.name(),
                "unserved_population": f.unserved_population,
                "access_per_100k": (f.access_per_100k * 1e4).round() / 1e4,
                "label_lat": unit.label.lat(),
                "label_lon": unit.label.lon(),
            }
        })
    }

    /// The `metadata` member, with `suggestion` when given.
    fn metadata_with(&self, suggestion: Option<&Suggestion>) -> Value {
        let mut metadata = self.metadata();
        if let (Some(s), Some(m)) = (suggestion, metadata.as_object_mut()) {
            m.insert("suggestion".into(), json!(s));
        }
        metadata
    }

    /// The report as a GeoJSON FeatureCollection (RFC 7946): one Feature per
    /// region, `[lon, lat]` degrees, rings by the right-hand rule, outlines
    /// simplified with the query's tolerance, the figures as properties,
    /// and a top-level `metadata` member (see [`Report::metadata`]).
    /// `suggestion`, when given, goes into `metadata.suggestion`.
    pub fn geojson(&self, suggestion: Option<&Suggestion>) -> Value {
        let features: Vec<Value> = (0..self.units.len()).map(|u| self.feature(u)).collect();
        json!({
            "type": "FeatureCollection",
            "metadata": self.metadata_with(suggestion),
            "features": features,
        })
    }

    /// Writes [`Report::geojson`] to `out` one Feature at a time (only one
    /// Feature's tree is in memory at once), checking `cancel` per
    /// Feature.
    ///
    /// # Errors
    /// [`CoverageError::Cancelled`] when `cancel` is cancelled;
    /// [`CoverageError::Table`] when `out` fails.
    pub fn write_geojson(
        &self,
        suggestion: Option<&Suggestion>,
        mut out: impl Write,
        cancel: &Cancel,
    ) -> Result<(), CoverageError> {
        let failed = |e: std::io::Error| CoverageError::Table(e.to_string());
        let json_failed = |e: serde_json::Error| CoverageError::Table(e.to_string());
        out.write_all(br#"{"type":"FeatureCollection","metadata":"#)
            .map_err(failed)?;
        serde_json::to_writer(&mut out, &self.metadata_with(suggestion)).map_err(json_failed)?;
        out.write_all(br#","features":["#).map_err(failed)?;
        for u in 0..self.units.len() {
            cancel.check()?;
            if u > 0 {
                out.write_all(b",").map_err(failed)?;
            }
            serde_json::to_writer(&mut out, &self.feature(u)).map_err(json_failed)?;
        }
        out.write_all(b"]}").map_err(failed)
    }

    /// The figures as a polars table, one row per region: `id`, `name`,
    /// `kind`, `population`, `people_points`, `providers_serving`,
    /// `nearest_km` (null without a matching provider), `gap`,
    /// `unserved_population`, `access_per_100k`, `label_lat`, `label_lon`
    /// (degrees).
    ///
    /// # Errors
    /// [`CoverageError::Table`] if polars refuses the columns (a bug).
    pub fn table(&self) -> Result<DataFrame, CoverageError> {
        let units = &self.units;
        let f = &self.figures;
        let columns = vec![
            Column::new(
                "id".into(),
                units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                units.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "kind".into(),
                units.iter().map(|u| u.kind.name()).collect::<Vec<_>>(),
            ),
            Column::new(
                "population".into(),
                f.iter().map(|f| f.population).collect::<Vec<u64>>(),
            ),
            Column::new(
                "people_points".into(),
                f.iter()
                    .map(|f| f.people_points as u64)
                    .collect::<Vec<u64>>(),
            ),
            Column::new(
                "providers_serving".into(),
                f.iter()
                    .map(|f| f.providers_serving as u64)
                    .collect::<Vec<u64>>(),
            ),
            Column::new(
                "nearest_km".into(),
                f.iter().map(|f| f.nearest_km).collect::<Vec<Option<f64>>>(),
            ),
            Column::new(
                "gap".into(),
                f.iter().map(|f| f.gap.name()).collect::<Vec<_>>(),
            ),
            Column::new(
                "unserved_population".into(),
                f.iter()
                    .map(|f| f.unserved_population)
                    .collect::<Vec<u64>>(),
            ),
            Column::new(
                "access_per_100k".into(),
                f.iter().map(|f| f.access_per_100k).collect::<Vec<f64>>(),
            ),
            Column::new(
                "label_lat".into(),
                units.iter().map(|u| u.label.lat()).collect::<Vec<f64>>(),
            ),
            Column::new(
                "label_lon".into(),
                units.iter().map(|u| u.label.lon()).collect::<Vec<f64>>(),
            ),
        ];
        DataFrame::new(units.len(), columns).map_err(|e| CoverageError::Table(e.to_string()))
    }

    /// Writes [`Report::table`] as CSV or Parquet to `out`.
    ///
    /// # Errors
    /// [`CoverageError::Table`] when polars cannot write to `out`.
    pub fn write_table(&self, format: TableFormat, out: impl Write) -> Result<(), CoverageError> {
        let mut table = self.table()?;
        let failed = |e: polars::error::PolarsError| CoverageError::Table(e.to_string());
        match format {
            TableFormat::Csv => CsvWriter::new(out).finish(&mut table).map_err(failed),
            TableFormat::Parquet => ParquetWriter::new(out)
                .finish(&mut table)
                .map(|_| ())
                .map_err(failed),
        }
    }
}

impl Gap {
    /// Parses a class name.
    pub fn parse(text: &str) -> Option<Gap> {
        Gap::ALL.into_iter().find(|g| g.name() == text)
    }
}
