//! Coverage analytics through the router (`tower::ServiceExt::oneshot`)
//! over the bundled data, and through the `refmatch coverage` binary:
//! every region once, RFC 7946 validity (the `geojson` crate) with
//! right-hand-rule rings, CSV, suggestions, every 4xx path, OpenAPI.
#![allow(clippy::unwrap_used)]

mod common;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{state, Answer};
use http_body_util::BodyExt;
use refmatch::api::{openapi, router};
use serde_json::Value;
use std::collections::HashSet;
use std::process::Command;
use std::str::FromStr;
use tower::ServiceExt;

async fn get(uri: &str) -> Answer {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, common::advocate_auth())
        .body(Body::empty())
        .expect("request");
    common::send(&router(state()), request).await
}

/// Parses with the independent `geojson` crate and checks every ring by
/// the right-hand rule (RFC 7946 §3.1.6): exterior counter-clockwise,
/// holes clockwise, closed, at least 4 positions, `[lon, lat]` in range.
fn check_rfc7946(what: &str, text: &str) -> geojson::FeatureCollection {
    let parsed = geojson::GeoJson::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: not valid GeoJSON: {e}"));
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        panic!("{what}: not a FeatureCollection");
    };
    for feature in &collection.features {
        let Some(geometry) = &feature.geometry else {
            continue;
        };
        let polygons = match &geometry.value {
            geojson::Value::MultiPolygon(p) => p.clone(),
            geojson::Value::Polygon(p) => vec![p.clone()],
            geojson::Value::Point(p) => {
                assert!((-180.0..=180.0).contains(&p[0]) && (-90.0..=90.0).contains(&p[1]));
                continue;
            }
            other => panic!("{what}: unexpected geometry {other:?}"),
        };
        for polygon in polygons {
            for (i, ring) in polygon.iter().enumerate() {
                assert!(ring.len() >= 4, "{what}: short ring in {:?}", feature.id);
                assert_eq!(ring.first(), ring.last(), "{what}: open ring");
                for p in ring {
                    assert!((-180.0..=180.0).contains(&p[0]), "{what}: lon {}", p[0]);
                    assert!((-90.0..=90.0).contains(&p[1]), "{what}: lat {}", p[1]);
                }
                let area: f64 = ring
                    .windows(2)
                    .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                    .sum();
                assert_eq!(
                    area > 0.0,
                    i == 0,
                    "{what}: ring {i} of {:?} breaks the right-hand rule",
                    feature.id
                );
            }
        }
    }
    collection
}

fn ids(collection: &geojson::FeatureCollection) -> Vec<String> {
    collection
        .features
        .iter()
        .map(|f| match &f.id {
            Some(geojson::feature::Id::String(id)) => id.clone(),
            other => panic!("feature id must be a string, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn county_report_lists_every_county_once_as_valid_geojson() {
    let answer = get("/v1/coverage?by=county&issue=labor_trafficking&language=es").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    assert_eq!(answer.content_type, "application/geo+json");
    let text = String::from_utf8(answer.bytes.clone()).expect("UTF-8");
    let collection = check_rfc7946("county report", &text);
    let ids = ids(&collection);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a county appears twice");
    let expected: HashSet<String> = state()
        .gazetteer
        .counties()
        .iter()
        .map(|c| c.fips.clone())
        .collect();
    assert_eq!(unique.len(), expected.len());
    assert!(ids.iter().all(|id| expected.contains(id)));

    let body = answer.json();
    let metadata = &body["metadata"];
    assert_eq!(
        metadata["need"]["issues"],
        serde_json::json!(["labor_trafficking"])
    );
    assert_eq!(metadata["threshold_km"], 60.0);
    assert!(metadata["population_source"]
        .as_str()
        .unwrap()
        .contains("2020"));
    let counts = &metadata["counts_by_gap"];
    let total: u64 = ["served", "far", "none"]
        .iter()
        .map(|g| counts[g].as_u64().expect("count"))
        .sum();
    assert_eq!(total as usize, ids.len());
    for feature in body["features"].as_array().expect("features") {
        let p = &feature["properties"];
        let gap = p["gap"].as_str().expect("gap");
        let serving = p["providers_serving"].as_u64().expect("serving");
        if serving > 0 {
            assert_eq!(gap, "served", "{p}");
        }
        if gap != "served" {
            assert!(
                p["nearest_km"].is_null() || p["nearest_km"].as_f64().unwrap() > 60.0,
                "{p}"
            );
        }
    }
}

#[tokio::test]
async fn csv_and_h3_and_state_reports() {
    let answer = get("/v1/coverage?by=state&issue=trafficking&format=csv").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type.starts_with("text/csv"));
    let text = String::from_utf8(answer.bytes).expect("UTF-8");
    assert_eq!(text.lines().count(), 1 + state().gazetteer.states().len());
    assert!(text.starts_with("id,name,kind,population,"));

    let answer = get("/v1/coverage?by=h3&resolution=4&bbox=-125,32,-114,42&tolerance=0").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let text = String::from_utf8(answer.bytes).expect("UTF-8");
    let collection = check_rfc7946("h3", &text);
    let ids = ids(&collection);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert!(ids.len() > 50);
}

#[tokio::test]
async fn suggest_returns_ranked_sites() {
    let answer = get(
        "/v1/coverage/suggest?by=county&issue=labor_trafficking&language=es&open_24h=true&sites=3",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let text = String::from_utf8(answer.bytes.clone()).expect("UTF-8");
    check_rfc7946("suggest", &text);
    let body = answer.json();
    let sites = body["features"].as_array().expect("features");
    assert!(!sites.is_empty() && sites.len() <= 3);
    let mut last = u64::MAX;
    for (i, site) in sites.iter().enumerate() {
        let p = &site["properties"];
        assert_eq!(p["rank"], i + 1);
        let added = p["population_added"].as_u64().expect("added");
        assert!(added > 0 && added <= last, "{p}");
        last = added;
    }
    assert!(
        body["metadata"]["unserved_before"].as_u64() >= body["metadata"]["unserved_after"].as_u64()
    );
}

#[tokio::test]
async fn every_bad_parameter_is_a_problem_naming_it() {
    let cases = [
        ("/v1/coverage?by=zip", "by"),
        ("/v1/coverage?by=h3&resolution=2", "resolution"),
        ("/v1/coverage?by=h3&resolution=x", "resolution"),
        ("/v1/coverage?by=state&resolution=5", "resolution"),
        ("/v1/coverage?by=h3&bbox=1,2", "bbox"),
        ("/v1/coverage?by=h3&bbox=-100,40,-110,40", "bbox"),
        ("/v1/coverage?by=h3&bbox=-100,40,-90,95", "bbox"),
        ("/v1/coverage?issue=unicorns", "issue"),
        ("/v1/coverage?language=zz-top", "language"),
        ("/v1/coverage?population=martians", "population"),
        ("/v1/coverage?open_24h=perhaps", "open_24h"),
        ("/v1/coverage?include_hotlines=2", "include_hotlines"),
        ("/v1/coverage?kind=wizard", "kind"),
        ("/v1/coverage?exclude=wizard", "exclude"),
        ("/v1/coverage?threshold_km=-5", "threshold_km"),
        ("/v1/coverage?threshold_km=abc", "threshold_km"),
        ("/v1/coverage?catchment_km=0", "catchment_km"),
        ("/v1/coverage?decay=cubic", "decay"),
        ("/v1/coverage?tolerance=5", "tolerance"),
        ("/v1/coverage?format=xlsx", "format"),
        ("/v1/coverage?format=csv&format=geojson", "format"),
        ("/v1/coverage?sites=3", "sites"),
        ("/v1/coverage?by=state&by=county", "by"),
        ("/v1/coverage?issue=", "issue"),
        ("/v1/coverage?nonsense=1", "nonsense"),
        ("/v1/coverage/suggest?sites=0", "sites"),
        ("/v1/coverage/suggest?sites=1000", "sites"),
        ("/v1/coverage/suggest?format=csv", "format"),
        ("/v1/coverage/suggest?tolerance=0.1", "tolerance"),
    ];
    for (uri, parameter) in cases {
        let answer = get(uri).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(answer.content_type, "application/problem+json", "{uri}");
        let problem = answer.json();
        assert_eq!(problem["parameter"], parameter, "{uri}: {problem}");
        assert!(!problem["detail"].as_str().unwrap_or_default().is_empty());
    }
    let answer = get("/v1/coverage?%ff=1").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

/// Issue 12: one `by=h3&resolution=6` report ran 16–30 s and peaked at
/// 2.4–2.8 GB. Requests over the documented budget are refused with 422
/// naming the parameter and the budget, before any work is done.
#[tokio::test]
async fn requests_over_the_budget_are_refused_before_they_run() {
    let budget = refmatch::coverage::Budget::default();
    let cases = [
        (
            "/v1/coverage?by=h3&resolution=6",
            "resolution",
            budget.max_regions.to_string(),
        ),
        (
            "/v1/coverage?by=h3&resolution=8",
            "resolution",
            budget.max_regions.to_string(),
        ),
        (
            "/v1/coverage?by=h3&resolution=7&bbox=-100,35,-90,45",
            "bbox",
            budget.max_regions.to_string(),
        ),
        (
            "/v1/coverage/suggest?by=h3&resolution=6",
            "resolution",
            budget.max_regions.to_string(),
        ),
        (
            "/v1/coverage/suggest?by=country&threshold_km=1000",
            "threshold_km",
            budget.max_reach_pairs.to_string(),
        ),
    ];
    for (uri, parameter, limit) in cases {
        let answer = get(uri).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(answer.content_type, "application/problem+json", "{uri}");
        let problem = answer.json();
        assert_eq!(problem["type"], "urn:refmatch:problem:over-budget", "{uri}");
        assert_eq!(problem["parameter"], parameter, "{uri}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&limit), "{uri}: {detail}");
    }
    // Just inside the budget: the same kinds of request are answered.
    for uri in [
        "/v1/coverage?by=h3&resolution=5&format=csv",
        "/v1/coverage?by=h3&resolution=6&bbox=-100,35,-90,45&format=csv",
        "/v1/coverage/suggest?by=country&threshold_km=300&sites=2",
    ] {
        let answer = get(uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.json());
    }
}

/// The budgets are documented where callers look: each parameter that a
/// budget refusal names says so in the OpenAPI document, with the number.
#[test]
fn openapi_states_the_budgets() {
    let budget = refmatch::coverage::Budget::default();
    let document = openapi::document();
    for (path, name, number) in [
        ("/v1/coverage", "resolution", budget.max_regions),
        ("/v1/coverage", "bbox", budget.max_regions),
        (
            "/v1/coverage/suggest",
            "threshold_km",
            budget.max_reach_pairs as usize,
        ),
    ] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} is documented"));
        let description = parameters
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["description"].as_str())
            .unwrap_or_else(|| panic!("{path} documents {name}"));
        let written = number.to_string();
        let grouped: String = written
            .chars()
            .rev()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 3 == 0).then_some(',').into_iter().chain([c]))
            .collect::<Vec<char>>()
            .into_iter()
            .rev()
            .collect();
        assert!(
            description.contains(&grouped),
            "{path} {name}: '{description}' does not state {grouped}"
        );
    }
}

#[test]
fn openapi_documents_the_coverage_endpoints() {
    let document = openapi::document();
    for path in ["/v1/coverage", "/v1/coverage/suggest"] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} is documented"));
        let names: Vec<&str> = parameters
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(
            names.contains(&"issue") && names.contains(&"threshold_km"),
            "{names:?}"
        );
    }
    let report = &document["paths"]["/v1/coverage"]["get"]["parameters"];
    assert!(report
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "format"));
    let suggest = &document["paths"]["/v1/coverage/suggest"]["get"]["parameters"];
    assert!(suggest
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "sites"));
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("refmatch-coverage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn cli_writes_geojson_csv_and_parquet_by_extension() {
    let geojson = scratch("gaps.geojson");
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args([
            "coverage",
            "--by",
            "county",
            "--issue",
            "labor_trafficking",
            "--language",
            "es",
            "--open-24h",
            "--suggest",
            "3",
            "--out",
        ])
        .arg(&geojson)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&geojson).expect("written");
    let collection = check_rfc7946("cli", &text);
    assert_eq!(
        collection.features.len(),
        state().gazetteer.counties().len()
    );
    let suggestion: Value =
        serde_json::from_slice(&output.stdout).expect("suggestion JSON on stdout");
    assert!(suggestion["sites"].as_array().is_some_and(|s| s.len() <= 3));

    for (name, magic) in [
        ("gaps.csv", &b"id,name"[..]),
        ("gaps.parquet", &b"PAR1"[..]),
    ] {
        let path = scratch(name);
        let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
            .args([
                "coverage",
                "--by",
                "state",
                "--issue",
                "trafficking",
                "--out",
            ])
            .arg(&path)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(&bytes[..magic.len()], magic, "{name}");
    }

    let bad = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args(["coverage", "--threshold-km", "0", "--out"])
        .arg(scratch("bad.geojson"))
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--threshold-km"));
    let bad = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args(["coverage", "--out"])
        .arg(scratch("gaps.xlsx"))
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

/// Sends `uri` through a router over `state` with `timeout`.
async fn get_with(
    state: refmatch::api::AppState,
    uri: &str,
    timeout_ms: u64,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let options = refmatch::api::RouterOptions {
        request_timeout: std::time::Duration::from_millis(timeout_ms),
        ..refmatch::api::RouterOptions::default()
    };
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let answer = common::send(&refmatch::api::router_with(state, &options), request).await;
    let body = answer.json();
    (answer.status, answer.headers, body)
}

/// While the coverage permits are taken, a report waits in the queue: cut
/// by its deadline it is a 408 problem; with no room in the queue it is
/// refused at once with 503 and Retry-After. Either way it never ran.
#[tokio::test]
async fn a_full_coverage_lane_queues_then_refuses() {
    use refmatch::api::heavy::{Heavy, HeavyLimits};
    let uri = "/v1/coverage?by=state&format=csv";
    let mut queued = state();
    queued.heavy = std::sync::Arc::new(HeavyLimits::new(|_| (1, 4)));
    let held = queued.heavy.acquire(Heavy::Coverage).await.expect("permit");
    let (status, headers, problem) = get_with(queued.clone(), uri, 200).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{problem}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(problem["type"], "urn:refmatch:problem:timeout");
    assert_eq!(
        queued.heavy.running(Heavy::Coverage),
        1,
        "only the held permit"
    );

    let mut full = state();
    full.heavy = std::sync::Arc::new(HeavyLimits::new(|_| (1, 0)));
    let _held = full.heavy.acquire(Heavy::Coverage).await.expect("permit");
    let (status, headers, problem) = get_with(full.clone(), uri, 10_000).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(headers[header::RETRY_AFTER], "2");
    assert_eq!(problem["type"], "urn:refmatch:problem:busy");

    // Once the permit is back, the same request is answered.
    drop(held);
    let (status, _, _) = get_with(queued, "/v1/coverage?by=state", 60_000).await;
    assert_eq!(status, StatusCode::OK);
}

/// A finished report keeps its permit until its body is taken: clients
/// that read slowly cannot pile up finished bodies in memory.
#[tokio::test]
async fn a_report_body_holds_its_permit_until_it_is_sent() {
    use refmatch::api::heavy::{Heavy, HeavyLimits};
    let mut lane = state();
    lane.heavy = std::sync::Arc::new(HeavyLimits::new(|_| (1, 4)));
    let request = Request::get("/v1/coverage?by=state")
        .body(Body::empty())
        .expect("request");
    let response = router(lane.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(lane.heavy.running(Heavy::Coverage), 1, "body not yet sent");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(bytes.len() > 1000);
    assert_eq!(lane.heavy.running(Heavy::Coverage), 0, "body sent");
}

/// `exclude=law_enforcement` means the same in coverage as in matching: it
/// also leaves out a provider of another kind flagged as law enforcement
/// (a police-led task force), so such a provider never counts as serving
/// a need that excludes law enforcement.
#[tokio::test]
async fn excluding_law_enforcement_drops_flagged_task_forces_from_coverage() {
    let fixture = common::fixture_with(|providers| {
        let mut task_force = providers
            .iter()
            .find(|p| p.location.is_some() && p.kind != refmatch::model::Kind::LawEnforcement)
            .expect("a located provider")
            .clone();
        task_force.id = "test-police-led-task-force".into();
        task_force.name = "Police-led Task Force (test)".to_owned();
        task_force.kind = refmatch::model::Kind::TaskForce;
        task_force.law_enforcement = true;
        task_force.issues = vec!["wage_and_hour".into()];
        task_force.visibility = refmatch::model::Visibility::Public;
        task_force.location_confidential = false;
        task_force.location = refmatch::model::LatLng::new(36.7378, -119.7871).ok();
        task_force.service_area = vec![refmatch::model::AreaSpec::Counties {
            fips: vec!["06019".into()],
        }];
        providers.push(task_force);
    });
    let app = router(fixture.state.clone());
    let fresno = |uri: String| {
        let app = app.clone();
        async move {
            let (status, bytes) = common::get_bytes(&app, &uri, None).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            let body: Value = serde_json::from_slice(&bytes).expect("JSON");
            body["features"]
                .as_array()
                .expect("features")
                .iter()
                .find(|f| f["id"] == "06019")
                .map(|f| {
                    f["properties"]["providers_serving"]
                        .as_u64()
                        .expect("count")
                })
                .expect("Fresno County is reported")
        }
    };
    let base = "/v1/coverage?by=county&issue=wage_and_hour";
    let all = fresno(base.to_owned()).await;
    let civilian = fresno(format!("{base}&exclude=law_enforcement")).await;
    assert!(all >= 1, "the task force serves Fresno County: {all}");
    assert_eq!(
        civilian,
        all - 1,
        "the flagged task force still counts with exclude=law_enforcement"
    );
    // Matching agrees: the task force is offered, except when excluded.
    let ids = |uri: &'static str| {
        let app = app.clone();
        async move {
            let (_, bytes) = common::get_bytes(&app, uri, None).await;
            serde_json::from_slice::<Value>(&bytes).expect("JSON")["features"]
                .as_array()
                .expect("features")
                .iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect::<Vec<String>>()
        }
    };
    let id = "test-police-led-task-force".to_owned();
    assert!(
        ids("/v1/match?lat=36.7378&lon=-119.7871&issue=wage_and_hour&limit=50")
            .await
            .contains(&id)
    );
    assert!(!ids(
        "/v1/match?lat=36.7378&lon=-119.7871&issue=wage_and_hour&exclude=law_enforcement&limit=50"
    )
    .await
    .contains(&id));
}

/// One bounding box everywhere: an H3 report over a box across the
/// antimeridian (Fiji, Tonga and Samoa lie on both sides of it) has cells
/// on both sides and only inside the box; the same box lists providers
/// on both sides.
#[tokio::test]
async fn an_h3_bbox_across_the_antimeridian_covers_both_sides() {
    let answer = get("/v1/coverage?by=h3&resolution=3&bbox=170,-25,-165,-10").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let body = answer.json();
    let features = body["features"].as_array().expect("features");
    let centres: Vec<(f64, f64)> = features
        .iter()
        .map(|f| {
            let cell = h3o::CellIndex::from_str(f["id"].as_str().expect("cell id")).expect("cell");
            let centre = h3o::LatLng::from(cell);
            (centre.lat(), centre.lng())
        })
        .collect();
    assert!(
        centres.iter().any(|(_, lon)| *lon > 170.0),
        "cells west of 180°"
    );
    assert!(
        centres.iter().any(|(_, lon)| *lon < -165.0),
        "cells east of 180°"
    );
    // Covers: a cell meets the box, so its centre lies within a cell's
    // width (about 1.3° at resolution 3) of it.
    for (lat, lon) in &centres {
        assert!((-27.0..=-8.0).contains(lat), "{lat}");
        assert!(*lon >= 168.0 || *lon <= -163.0, "{lon}");
    }
    assert_eq!(
        body["metadata"]["regions"]["bbox"],
        serde_json::json!([170.0, -25.0, -165.0, -10.0])
    );
}
