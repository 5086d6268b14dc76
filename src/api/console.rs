//! The advocate console and its basemap.
//!
//! `GET /` serves a single-page console (`web/index.html`, `web/app.js`,
//! `web/style.css` and the vendored Leaflet under `web/vendor/leaflet/`),
//! embedded in the binary: nothing is fetched from another origin, and the
//! map is drawn from refmatch's own boundaries. Every asset carries its
//! `Content-Type`, a strong `ETag` (answered `304` on `If-None-Match`), a
//! `Cache-Control` and a strict `Content-Security-Policy`.
//!
//! `GET /v1/outlines?by=country|state|county&tolerance=&bbox=&id=` answers
//! the gazetteer's outlines as a GeoJSON FeatureCollection (RFC 7946,
//! `[lon, lat]`), simplified as the coverage outlines are
//! ([`crate::coverage::outline_geometry`]); the console draws its basemap
//! from it.

use super::heavy::{self, Heavy};
use super::{pairs, ApiError, AppState, Pairs, GEOJSON};
use crate::cancel::{Cancel, Cancelled};
use crate::coverage::outline_geometry;
use crate::gazetteer::Gazetteer;
use crate::model::{BoundingBox, ParameterDoc};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, MultiPolygon, Polygon};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

/// The console's `Content-Security-Policy`: everything from this origin
/// only, no inline scripts, images only from here or `data:` URLs (Leaflet's
/// attribution flag is inline SVG markup, not an image). The one inline
/// style allowed is the referral slip's stylesheet, by its hash
/// ([`crate::render::slip::stylesheet_hash`]): the console opens a slip it
/// fetched (with the key) as a `blob:` page, which keeps this policy.
pub fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self' {}; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            crate::render::slip::stylesheet_hash()
        )
    })
}

/// One embedded file of the console.
struct Asset {
    /// Path under `/console/` (`index.html` is also served at `/`).
    path: &'static str,
    /// Its `Content-Type`.
    content_type: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file the console serves, embedded at build time from `web/`.
const ASSETS: &[Asset] = &[
    Asset {
        path: "index.html",
        content_type: HTML,
        body: include_bytes!("../../web/index.html"),
    },
    Asset {
        path: "app.js",
        content_type: JS,
        body: include_bytes!("../../web/app.js"),
    },
    Asset {
        path: "style.css",
        content_type: CSS,
        body: include_bytes!("../../web/style.css"),
    },
    Asset {
        path: "favicon.svg",
        content_type: SVG,
        body: include_bytes!("../../web/favicon.svg"),
    },
    Asset {
        path: "vendor/leaflet/leaflet.js",
        content_type: JS,
        body: include_bytes!("../../web/vendor/leaflet/leaflet.js"),
    },
    Asset {
        path: "vendor/leaflet/leaflet.css",
        content_type: CSS,
        body: include_bytes!("../../web/vendor/leaflet/leaflet.css"),
    },
    Asset {
        path: "vendor/leaflet/LICENSE",
        content_type: TEXT,
        body: include_bytes!("../../web/vendor/leaflet/LICENSE"),
    },
    Asset {
        path: "vendor/leaflet/images/layers.png",
        content_type: PNG,
        body: include_bytes!("../../web/vendor/leaflet/images/layers.png"),
    },
    Asset {
        path: "vendor/leaflet/images/layers-2x.png",
        content_type: PNG,
        body: include_bytes!("../../web/vendor/leaflet/images/layers-2x.png"),
    },
    Asset {
        path: "vendor/leaflet/images/marker-icon.png",
        content_type: PNG,
        body: include_bytes!("../../web/vendor/leaflet/images/marker-icon.png"),
    },
    Asset {
        path: "vendor/leaflet/images/marker-icon-2x.png",
        content_type: PNG,
        body: include_bytes!("../../web/vendor/leaflet/images/marker-icon-2x.png"),
    },
    Asset {
        path: "vendor/leaflet/images/marker-shadow.png",
        content_type: PNG,
        body: include_bytes!("../../web/vendor/leaflet/images/marker-shadow.png"),
    },
];

/// Strong ETags of [`ASSETS`], in the same order: the first 16 bytes of
/// each file's SHA-256, computed once.
fn etags() -> &'static [HeaderValue] {
    static ETAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.body);
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                HeaderValue::from_str(&format!("\"{hex}\""))
                    .unwrap_or(HeaderValue::from_static("\"0\""))
            })
            .collect()
    })
}

/// Answers asset `path` (a 404 problem when there is none).
fn asset(path: &str, request: &HeaderMap) -> Result<Response, ApiError> {
    let found = ASSETS
        .iter()
        .position(|a| a.path == path)
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("the console has no file '{path}'; open / for the console"),
            suggestions: Vec::new(),
        })?;
    let asset = &ASSETS[found];
    let etag = etags()
        .get(found)
        .cloned()
        .unwrap_or(HeaderValue::from_static("\"0\""));
    // The page itself is revalidated on every load, so a new build shows
    // at once; the files it names may be reused for an hour.
    let cache = if asset.content_type == HTML {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().as_bytes() == etag.as_bytes())
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(content_security_policy())
            .unwrap_or(HeaderValue::from_static("default-src 'self'")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A caller's place is in the page's fragment; never send it onwards.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    Ok(response)
}

/// `GET /`: the console page.
pub(super) async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    asset("index.html", &headers)
}

/// `GET /console/{*file}`: the console's scripts, styles and images.
pub(super) async fn file(
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    asset(&file, &headers)
}

/// Default `tolerance` of `/v1/outlines`, degrees: small bodies for a
/// national or world basemap.
pub const DEFAULT_OUTLINE_TOLERANCE_DEG: f64 = 0.05;

/// Largest `tolerance` of `/v1/outlines`, degrees (as for `/v1/coverage`).
pub const MAX_OUTLINE_TOLERANCE_DEG: f64 = 1.0;

/// Every parameter of `GET /v1/outlines`.
pub const OUTLINE_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc::one("by", "string", "Which outlines: country (every country), state (US states, DC and territories; default) or county (US counties and equivalents)."),
    ParameterDoc::one("tolerance", "number", "Simplification tolerance in degrees, Ramer-Douglas-Peucker (0 to 1, default 0.05; 0 keeps outlines as they are)."),
    ParameterDoc::one("bbox", "string", "Only outlines whose bounding box meets west,south,east,north degrees (west > east crosses the antimeridian)."),
    ParameterDoc::many("id", "string", "Only these regions: county FIPS, USPS state codes or ISO 3166-1 alpha-2 codes, comma-separated or repeated."),
];

/// Which outlines `/v1/outlines` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutlineSet {
    Country,
    State,
    County,
}

/// The parsed query of `/v1/outlines`.
#[derive(Debug, Clone)]
struct OutlineQuery {
    set: OutlineSet,
    tolerance_deg: f64,
    bbox: Option<[f64; 4]>,
    ids: Option<BTreeSet<String>>,
}

impl OutlineQuery {
    /// Reads the parameters the router's `checked_parameters` layer let
    /// through ([`OUTLINE_PARAMETERS`]: no unknown or repeated ones).
    fn parse(params: &Pairs) -> Result<OutlineQuery, ApiError> {
        let mut query = OutlineQuery {
            set: OutlineSet::State,
            tolerance_deg: DEFAULT_OUTLINE_TOLERANCE_DEG,
            bbox: None,
            ids: None,
        };
        for (name, value) in pairs(params) {
            match name {
                "by" => {
                    query.set = match value.trim() {
                        "country" => OutlineSet::Country,
                        "state" => OutlineSet::State,
                        "county" => OutlineSet::County,
                        other => {
                            return Err(ApiError::invalid(
                                "by",
                                format!("by must be country, state or county, got '{other}'"),
                            ))
                        }
                    };
                }
                "tolerance" => {
                    query.tolerance_deg = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|t| (0.0..=MAX_OUTLINE_TOLERANCE_DEG).contains(t))
                        .ok_or_else(|| {
                            ApiError::invalid(
                                "tolerance",
                                format!("tolerance must be from 0 to {MAX_OUTLINE_TOLERANCE_DEG} degrees, got '{value}'"),
                            )
                        })?;
                }
                "bbox" => query.bbox = Some(BoundingBox::parse(value)?.to_array()),
                "id" => {
                    let ids = query.ids.get_or_insert_with(BTreeSet::new);
                    ids.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|id| !id.is_empty())
                            .map(str::to_ascii_uppercase),
                    );
                }
                _ => {}
            }
        }
        Ok(query)
    }

    /// Whether a region with `id` and `shape` is wanted.
    fn wants(&self, id: &str, shape: &MultiPolygon<f64>) -> bool {
        if let Some(ids) = &self.ids {
            if !ids.contains(&id.to_ascii_uppercase()) {
                return false;
            }
        }
        let Some([west, south, east, north]) = self.bbox else {
            return true;
        };
        let Some(rect) = shape.bounding_rect() else {
            return false;
        };
        let (min, max) = (rect.min(), rect.max());
        let lat_meets = min.y <= north && max.y >= south;
        let lon_meets = if west <= east {
            min.x <= east && max.x >= west
        } else {
            // Across the antimeridian: [west, 180] or [-180, east].
            max.x >= west || min.x <= east
        };
        lat_meets && lon_meets
    }
}

/// `shape` without the islands too small to see at `tolerance_deg` (those
/// whose bounding box is under twice the tolerance across), which
/// simplification would otherwise keep at full detail; the largest part
/// always stays, so no region vanishes.
fn visible_parts(shape: &MultiPolygon<f64>, tolerance_deg: f64) -> Cow<'_, MultiPolygon<f64>> {
    if tolerance_deg <= 0.0 || shape.0.len() < 2 {
        return Cow::Borrowed(shape);
    }
    let extent = |p: &Polygon<f64>| p.bounding_rect().map_or(0.0, |r| r.width().max(r.height()));
    let largest = shape.0.iter().map(extent).fold(0.0_f64, f64::max);
    let kept: Vec<Polygon<f64>> = shape
        .0
        .iter()
        .filter(|p| {
            let e = extent(p);
            e >= 2.0 * tolerance_deg || e >= largest
        })
        .cloned()
        .collect();
    Cow::Owned(MultiPolygon::new(kept))
}

/// Decimal places worth keeping at `tolerance_deg`: a tenth of the
/// tolerance, 3 (about 100 m) to 6 (as the coverage outlines).
fn decimals(tolerance_deg: f64) -> i32 {
    if tolerance_deg <= 0.0 {
        return 6;
    }
    ((-(tolerance_deg / 10.0).log10()).ceil() as i32).clamp(3, 6)
}

/// Rounds every number in a GeoJSON `coordinates` tree to `decimals`
/// places: a basemap outline simplified by 0.05° needs no 0.1 m
/// positions, and the body is a third smaller.
fn round_coordinates(value: &mut Value, decimals: i32) {
    match value {
        Value::Array(items) => {
            for item in items {
                round_coordinates(item, decimals);
            }
        }
        Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                let scale = 10f64.powi(decimals);
                if let Some(rounded) = serde_json::Number::from_f64((x * scale).round() / scale) {
                    *n = rounded;
                }
            }
        }
        _ => {}
    }
}

/// The outlines `query` asks for, as a FeatureCollection; gives up,
/// checking per outline, when `cancel` is cancelled.
fn outlines(
    gazetteer: &Gazetteer,
    query: &OutlineQuery,
    cancel: &Cancel,
) -> Result<Value, Cancelled> {
    let feature = |id: &str, name: &str, extra: Value, shape: &MultiPolygon<f64>| {
        let shape = visible_parts(shape, query.tolerance_deg);
        let mut geometry = outline_geometry(&shape, query.tolerance_deg);
        if let Some(coordinates) = geometry.get_mut("coordinates") {
            round_coordinates(coordinates, decimals(query.tolerance_deg));
        }
        let mut properties = json!({"id": id, "name": name});
        if let (Some(p), Value::Object(extra)) = (properties.as_object_mut(), extra) {
            p.extend(extra);
        }
        json!({
            "type": "Feature",
            "id": id,
            "geometry": geometry,
            "properties": properties,
        })
    };
    let features: Vec<Value> = match query.set {
        OutlineSet::Country => gazetteer
            .countries()
            .iter()
            .filter(|c| query.wants(&c.iso2, &c.shape))
            .take_while(|_| !cancel.is_cancelled())
            .map(|c| feature(&c.iso2, &c.name, json!({"kind": "country"}), &c.shape))
            .collect(),
        OutlineSet::State => gazetteer
            .states()
            .iter()
            .filter(|s| query.wants(&s.code, &s.shape))
            .take_while(|_| !cancel.is_cancelled())
            .map(|s| feature(&s.code, &s.name, json!({"kind": "state"}), &s.shape))
            .collect(),
        OutlineSet::County => gazetteer
            .counties()
            .iter()
            .filter(|c| query.wants(&c.fips, &c.shape))
            .take_while(|_| !cancel.is_cancelled())
            .map(|c| {
                feature(
                    &c.fips,
                    &format!("{}, {}", c.full_name, c.state),
                    json!({"kind": "county", "state": c.state}),
                    &c.shape,
                )
            })
            .collect(),
    };
    cancel.check()?;
    // Outlines without a shape are left out: a basemap has nothing to draw.
    let features: Vec<Value> = features
        .into_iter()
        .filter(|f| !f["geometry"].is_null())
        .collect();
    Ok(json!({
        "type": "FeatureCollection",
        "count": features.len(),
        "tolerance_deg": query.tolerance_deg,
        "features": features,
    }))
}

/// `GET /v1/outlines`.
pub(super) async fn outline_collection(
    State(state): State<AppState>,
    Extension(cancel): Extension<Cancel>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let query = OutlineQuery::parse(&params)?;
    let gazetteer = Arc::clone(&state.gazetteer);
    let mut response = heavy::run_body(&state, Heavy::Outlines, &cancel, move |cancel| {
        let body = serde_json::to_vec(&outlines(&gazetteer, &query, cancel)?).map_err(|error| {
            tracing::error!(%error, "serialising outlines");
            ApiError::Internal
        })?;
        Ok((GEOJSON, body))
    })
    .await?;
    // The gazetteer changes only with a new build or restart.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_named_once_and_not_empty() {
        let names: BTreeSet<&str> = ASSETS.iter().map(|a| a.path).collect();
        assert_eq!(names.len(), ASSETS.len());
        assert!(ASSETS.iter().all(|a| !a.body.is_empty()));
        assert_eq!(etags().len(), ASSETS.len());
    }

    #[test]
    fn coordinates_keep_a_tenth_of_the_tolerance() {
        assert_eq!(decimals(0.05), 3);
        assert_eq!(decimals(0.005), 4);
        assert_eq!(decimals(0.0), 6);
        assert_eq!(decimals(1.0), 3);
        let mut ring = json!([[[-119.796_032_1, 36.728_851]]]);
        round_coordinates(&mut ring, 3);
        assert_eq!(ring, json!([[[-119.796, 36.729]]]));
    }

    #[test]
    fn bbox_across_the_antimeridian_meets_both_sides() {
        let query = OutlineQuery {
            set: OutlineSet::Country,
            tolerance_deg: 0.0,
            bbox: Some([170.0, -20.0, -170.0, 0.0]),
            ids: None,
        };
        let square = |x: f64| {
            MultiPolygon::new(vec![geo::Polygon::new(
                vec![(x, -10.0), (x + 1.0, -10.0), (x + 1.0, -9.0), (x, -10.0)].into(),
                vec![],
            )])
        };
        assert!(query.wants("FJ", &square(175.0)));
        assert!(query.wants("WS", &square(-172.0)));
        assert!(!query.wants("PE", &square(-77.0)));
    }
}
