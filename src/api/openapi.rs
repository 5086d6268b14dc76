//! The OpenAPI 3.1 document, built from [`ENDPOINTS`] and the parameter
//! tables the parsers themselves use ([`MATCH_PARAMETERS`],
//! [`LIST_PARAMETERS`]), so the document cannot drift from what the
//! handlers accept.

use crate::matching::{ParameterDoc, LIST_PARAMETERS, MATCH_PARAMETERS};
use serde_json::{json, Map, Value};

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Path, with `{name}` for path parameters.
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Query parameters.
    pub query: &'static [ParameterDoc],
    /// Path parameters.
    pub path_parameters: &'static [ParameterDoc],
    /// Media type of the 200 body.
    pub content_type: &'static str,
    /// Error statuses it can answer with (besides 405, 408 and 500).
    pub errors: &'static [u16],
    /// Whether it takes `format=geojson|json`.
    pub formats: bool,
}

const FORMAT: ParameterDoc = ParameterDoc {
    name: "format",
    schema_type: "string",
    description: "Body format: geojson (default, application/geo+json) or json.",
};

/// Every route the router serves.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/healthz",
        summary: "Liveness and the size of the loaded data.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        formats: false,
    },
    Endpoint {
        path: "/openapi.json",
        summary: "This document.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        formats: false,
    },
    Endpoint {
        path: "/v1/match",
        summary: "Ranked providers for a caller's place and needs, with reasons; a GeoJSON FeatureCollection in rank order.",
        query: MATCH_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400, 404],
        formats: true,
    },
    Endpoint {
        path: "/v1/providers",
        summary: "Providers in a bounding box, filtered, paged with a cursor (for map dashboards).",
        query: LIST_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        formats: false,
    },
    Endpoint {
        path: "/v1/providers/{id}",
        summary: "One provider as a GeoJSON Feature.",
        query: &[],
        path_parameters: &[ParameterDoc {
            name: "id",
            schema_type: "string",
            description: "The provider's id.",
        }],
        content_type: "application/geo+json",
        errors: &[404],
        formats: false,
    },
    Endpoint {
        path: "/v1/hotlines",
        summary: "Hotlines serving a country, with the numbers for that country.",
        query: &[ParameterDoc {
            name: "country",
            schema_type: "string",
            description: "ISO 3166-1 alpha-2 code (PE, UA, US) or English name.",
        }],
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        formats: false,
    },
    Endpoint {
        path: "/v1/vocabulary",
        summary: "Issue codes (with parents), populations, kinds and ISO 639-1 languages.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        formats: false,
    },
    Endpoint {
        path: "/v1/geocode",
        summary: "Free text to a place: ZIP, 'City, ST', county, state, 'City, Country', country or 'lat,lon'.",
        query: &[ParameterDoc {
            name: "q",
            schema_type: "string",
            description: "The place to geocode.",
        }],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 404],
        formats: false,
    },
    Endpoint {
        path: "/v1/reverse",
        summary: "The country, US state or territory and county holding a point.",
        query: &[
            ParameterDoc {
                name: "lat",
                schema_type: "number",
                description: "Latitude in degrees, -90 to 90.",
            },
            ParameterDoc {
                name: "lon",
                schema_type: "number",
                description: "Longitude in degrees, -180 to 180.",
            },
        ],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400],
        formats: false,
    },
    Endpoint {
        path: "/v1/coverage",
        summary: "Coverage gaps of one need per region (state, county, country or H3 cell): serving providers, nearest distance, gap class, 2SFCA access; GeoJSON outlines or a CSV table.",
        query: super::coverage::REPORT_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        formats: false,
    },
    Endpoint {
        path: "/v1/coverage/suggest",
        summary: "Greedy maximal-coverage sites (gazetteer places) for new providers of one need, with the population each adds.",
        query: crate::coverage::SUGGEST_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        formats: false,
    },
];

/// Parameters that must be present (the rest are optional).
const REQUIRED: &[(&str, &str)] = &[
    ("/v1/hotlines", "country"),
    ("/v1/geocode", "q"),
    ("/v1/reverse", "lat"),
    ("/v1/reverse", "lon"),
];

fn parameter(doc: &ParameterDoc, location: &str, path: &str) -> Value {
    let required = location == "path" || REQUIRED.contains(&(path, doc.name));
    json!({
        "name": doc.name,
        "in": location,
        "required": required,
        "description": doc.description,
        "schema": {"type": doc.schema_type},
    })
}

fn error_status_text(status: u16) -> &'static str {
    match status {
        400 => "A parameter is missing or malformed; `parameter` names it and `detail` says what to fix.",
        404 => "Nothing matches; `suggestions` may list close spellings.",
        405 => "Only GET is served.",
        408 => "The request took too long.",
        _ => "Internal error; details are in the server log.",
    }
}

/// The OpenAPI 3.1 document of every route in [`ENDPOINTS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for endpoint in ENDPOINTS {
        let parameters: Vec<Value> = endpoint
            .path_parameters
            .iter()
            .map(|p| parameter(p, "path", endpoint.path))
            .chain(
                endpoint
                    .query
                    .iter()
                    .chain(endpoint.formats.then_some(&FORMAT))
                    .map(|p| parameter(p, "query", endpoint.path)),
            )
            .collect();
        let mut responses = Map::new();
        responses.insert(
            "200".to_owned(),
            json!({
                "description": "OK",
                "content": {endpoint.content_type: {"schema": {"type": "object"}}},
            }),
        );
        for status in endpoint.errors.iter().chain(&[405, 408, 500]) {
            responses.insert(
                status.to_string(),
                json!({
                    "description": error_status_text(*status),
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }),
            );
        }
        let operation_id = endpoint
            .path
            .trim_start_matches('/')
            .replace(['/', '.'], "_")
            .replace(['{', '}'], "");
        paths.insert(
            endpoint.path.to_owned(),
            json!({"get": {
                "operationId": operation_id,
                "summary": endpoint.summary,
                "parameters": parameters,
                "responses": responses,
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "refmatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Geospatial referral matching for anti-trafficking hotlines. GeoJSON bodies follow RFC 7946 ([lon, lat] degrees); errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {"schemas": {"Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "parameter": {"type": "string"},
                "suggestions": {"type": "array", "items": {"type": "string"}},
            },
        }}},
    })
}
