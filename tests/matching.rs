//! The matching API driven in-process (`tower::ServiceExt::oneshot`) over
//! the bundled data: seed hotlines per country, hard filters, open_now
//! around a weekday 9–5 line, law-enforcement exclusion, relaxed results,
//! distances against an independent haversine, paging, every 4xx path,
//! RFC 7946 validity of every GeoJSON body, gzip, CORS (the OpenAPI document
//! against the router: tests/openapi.rs).

mod common;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{state, urlencode, Answer};
use refmatch::api::{router, router_with, RouterOptions};
use refmatch::model::{Kind, Provider};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::str::FromStr;

fn provider(id: &str) -> Provider {
    state()
        .live
        .snapshot()
        .directory
        .get(id)
        .unwrap_or_else(|| panic!("{id} is in the bundled data"))
        .clone()
}

/// Sends `request` as the shared advocate (who sees every record) unless
/// it carries its own credentials.
async fn send(mut request: Request<Body>, options: Option<&RouterOptions>) -> Answer {
    if !request.headers().contains_key(header::AUTHORIZATION) {
        let auth = common::advocate_auth().parse().expect("header value");
        request.headers_mut().insert(header::AUTHORIZATION, auth);
    }
    let app = match options {
        Some(options) => router_with(state(), options),
        None => router(state()),
    };
    common::send(&app, request).await
}

async fn get(uri: &str) -> Answer {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send(request, None).await
}

/// A GeoJSON answer: 200, `application/geo+json`, valid RFC 7946.
async fn geojson(uri: &str) -> Value {
    let answer = get(uri).await;
    assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.json());
    assert_eq!(answer.content_type, "application/geo+json", "{uri}");
    let body = answer.json();
    check_rfc7946(uri, &answer.bytes, &body);
    body
}

/// Validates a body with the independent `geojson` crate's parser, then
/// checks what the parser does not: coordinate ranges, `[lon, lat]` order
/// against the provider's own record, and no `crs` member (RFC 7946 §4).
fn check_rfc7946(uri: &str, bytes: &[u8], body: &Value) {
    let text = std::str::from_utf8(bytes).expect("UTF-8 body");
    let parsed = geojson::GeoJson::from_str(text)
        .unwrap_or_else(|e| panic!("{uri}: not valid GeoJSON: {e}"));
    let features = match parsed {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => panic!("{uri}: a bare geometry"),
    };
    assert!(body.get("crs").is_none(), "{uri}: RFC 7946 drops crs");
    for feature in features {
        let id = match &feature.id {
            Some(geojson::feature::Id::String(id)) => id.clone(),
            other => panic!("{uri}: feature id must be the provider id string, got {other:?}"),
        };
        let record = provider(&id);
        assert!(feature.properties.is_some(), "{uri}: {id} has properties");
        match (&feature.geometry, record.location) {
            (None, None) => {}
            (Some(geometry), Some(at)) => match &geometry.value {
                geojson::Value::Point(position) => {
                    assert_eq!(position.len(), 2, "{uri}: {id} 2-D position");
                    let (lon, lat) = (position[0], position[1]);
                    assert!((-180.0..=180.0).contains(&lon), "{uri}: {id} lon {lon}");
                    assert!((-90.0..=90.0).contains(&lat), "{uri}: {id} lat {lat}");
                    assert!(
                        (lon - at.lon()).abs() < 1e-9 && (lat - at.lat()).abs() < 1e-9,
                        "{uri}: {id} coordinates must be [lon, lat]"
                    );
                }
                other => panic!("{uri}: {id} geometry must be a Point, got {other:?}"),
            },
            (geometry, location) => {
                panic!("{uri}: {id} geometry {geometry:?} disagrees with location {location:?}")
            }
        }
    }
}

/// Asserts a problem+json answer with `status` naming `parameter`.
async fn problem(uri: &str, status: StatusCode, parameter: Option<&str>) -> Value {
    let answer = get(uri).await;
    let body = answer.json();
    assert_eq!(answer.status, status, "{uri}: {body}");
    assert_eq!(answer.content_type, "application/problem+json", "{uri}");
    assert_eq!(body["status"], status.as_u16(), "{uri}");
    assert!(
        body["detail"].as_str().unwrap_or_default().len() > 15,
        "{uri}: detail says what to fix: {body}"
    );
    if let Some(parameter) = parameter {
        assert_eq!(body["parameter"], parameter, "{uri}: {body}");
    }
    body
}

fn ids(body: &Value) -> Vec<String> {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

fn feature<'b>(body: &'b Value, id: &str) -> &'b Value {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} is among the results: {:?}", ids(body)))
}

fn phone_numbers(feature: &Value) -> Vec<String> {
    feature["properties"]["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .map(|p| p["number"].as_str().expect("number").to_owned())
        .collect()
}

/// Haversine distance in km, written here independently of the library.
fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

#[tokio::test]
async fn peru_caller_gets_llama_y_vive_with_the_peru_number() {
    let body = geojson("/v1/match?near=Lima,%20Peru&issue=trafficking&limit=20").await;
    let llama = feature(&body, "hotline-llama-y-vive");
    let numbers = phone_numbers(llama);
    assert_eq!(numbers, ["0800-2-3232"], "only Peru's line: {llama}");
    assert_eq!(llama["geometry"], Value::Null);
    assert_eq!(llama["properties"]["distance_km"], Value::Null);
    assert_eq!(llama["properties"]["serves_location"], true);
    assert_eq!(body["query"]["country"], "PE");
}

#[tokio::test]
async fn kyiv_caller_gets_la_strada_ukraine_line() {
    let body = geojson("/v1/match?near=Kyiv,%20Ukraine&limit=20").await;
    let strada = feature(&body, "hotline-la-strada-international");
    let ukraine: Vec<String> = provider("hotline-la-strada-international")
        .phones
        .iter()
        .filter(|p| p.country.as_deref() == Some("UA"))
        .map(|p| p.number.to_string())
        .collect();
    assert!(!ukraine.is_empty());
    assert_eq!(phone_numbers(strada), ukraine);
    assert!(strada["properties"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r.as_str().unwrap_or_default().contains("Ukraine")));
}

#[tokio::test]
async fn us_callers_never_see_a_foreign_only_line() {
    for place in [
        "Fresno, CA",
        "San Juan, PR",
        "Hagatna, GU",
        "Anchorage, AK",
        "10001",
    ] {
        let uri = format!("/v1/match?near={}&limit=100", urlencode(place));
        let body = geojson(&uri).await;
        let country = body["query"]["country"]
            .as_str()
            .expect("country")
            .to_owned();
        for f in body["features"].as_array().expect("features") {
            for phone in f["properties"]["phones"].as_array().expect("phones") {
                let from = phone["country"].as_str();
                assert!(
                    from.is_none_or(refmatch::gazetteer::is_us_or_territory),
                    "{place}: {} offers a foreign-only number {phone}",
                    f["id"]
                );
            }
        }
        let found = ids(&body);
        assert!(!found.contains(&"hotline-la-strada-international".to_owned()));
        assert!(
            !found.contains(&"hotline-angel-coalition".to_owned()),
            "{place}"
        );
        // The national trafficking hotline serves the territories too.
        let hotlines = geojson(&format!("/v1/hotlines?country={country}")).await;
        assert!(
            ids(&hotlines).contains(&"hotline-nhtrc".to_owned()),
            "{place}"
        );
    }
}

#[tokio::test]
async fn hotlines_endpoint_lists_country_lines_with_their_numbers() {
    let peru = geojson("/v1/hotlines?country=PE").await;
    assert_eq!(peru["query"]["country"], "PE");
    assert_eq!(
        phone_numbers(feature(&peru, "hotline-llama-y-vive")),
        ["0800-2-3232"]
    );
    assert!(!ids(&peru).contains(&"hotline-nhtrc".to_owned()));
    let by_name = geojson("/v1/hotlines?country=Ukraine").await;
    assert!(ids(&by_name).contains(&"hotline-la-strada-international".to_owned()));
    let us = geojson("/v1/hotlines?country=US").await;
    for id in ["hotline-nhtrc", "hotline-ndvh", "hotline-rainn"] {
        assert!(ids(&us).contains(&id.to_owned()), "{id}");
    }
    assert!(!ids(&us).contains(&"hotline-la-strada-international".to_owned()));
}

/// Every strict result satisfies every hard filter, over a grid of places
/// and filter combinations; relaxed ones follow all strict ones.
#[tokio::test]
async fn no_strict_result_breaks_a_hard_filter() {
    let state = state();
    let vocabulary = &state.vocabulary;
    let places = [
        "Fresno, CA",
        "Houston, TX",
        "Lima, Peru",
        "Miami, FL",
        "Chicago, IL",
    ];
    let filters = [
        "issue=trafficking",
        "issue=labor_trafficking&language=es",
        "issue=domestic_violence&open_24h=true",
        "exclude=law_enforcement&population=minors",
        "language=Spanish&exclude=law_enforcement,government&radius_km=150",
        "issue=sex_trafficking&population=lgbtq&language=es&open_24h=true",
    ];
    for place in places {
        for filter in filters {
            let uri = format!("/v1/match?near={}&{filter}&limit=30", urlencode(place));
            let body = geojson(&uri).await;
            let query = &body["query"]["filters"];
            let issues: Vec<&str> = query["issues"]
                .as_array()
                .expect("issues")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if filter.contains("issue=trafficking") {
                let expanded: BTreeSet<&str> =
                    vocabulary.expand_issue("trafficking").into_iter().collect();
                assert_eq!(issues.iter().copied().collect::<BTreeSet<_>>(), expanded);
            }
            let mut seen_relaxed = false;
            let mut last_rank = 0;
            for f in body["features"].as_array().expect("features") {
                let props = &f["properties"];
                let rank = props["rank"].as_u64().expect("rank");
                assert_eq!(rank, last_rank + 1, "{uri}: ranks are 1, 2, 3…");
                last_rank = rank;
                let relaxed: Vec<&str> = props["relaxed"]
                    .as_array()
                    .expect("relaxed")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                if relaxed.is_empty() {
                    assert!(!seen_relaxed, "{uri}: a strict result after a relaxed one");
                } else {
                    seen_relaxed = true;
                }
                let p = provider(f["id"].as_str().expect("id"));
                // Never relaxed: issue, exclude, radius.
                if !issues.is_empty() {
                    assert!(
                        p.issues.iter().any(|i| issues.contains(&i.as_str())),
                        "{uri}: {}",
                        p.id
                    );
                }
                if filter.contains("exclude=law_enforcement") {
                    assert!(
                        p.kind != Kind::LawEnforcement && !p.law_enforcement,
                        "{uri}: {}",
                        p.id
                    );
                }
                if filter.contains("government") {
                    assert_ne!(p.kind, Kind::Government, "{uri}");
                }
                if filter.contains("radius_km=150") {
                    if let Some(d) = props["distance_km"].as_f64() {
                        assert!(d <= 150.0, "{uri}: {} at {d} km", p.id);
                    }
                }
                // Relaxable ones: met unless named in `relaxed`.
                // Languages: speaks, interprets, or lists none ("unknown").
                if filter.contains("language=") && !relaxed.contains(&"language") {
                    assert!(
                        p.languages.iter().any(|l| l == "es")
                            || p.services.iter().any(|s| s == "interpretation")
                            || p.languages.is_empty(),
                        "{uri}: {}",
                        p.id
                    );
                }
                if filter.contains("open_24h") && !relaxed.contains(&"open_24h") {
                    assert!(p.availability.is_open_24h(), "{uri}: {}", p.id);
                }
                if filter.contains("population=") && !relaxed.contains(&"population") {
                    let wanted = if filter.contains("lgbtq") {
                        "lgbtq"
                    } else {
                        "minors"
                    };
                    assert!(p.populations.iter().any(|x| x == wanted), "{uri}: {}", p.id);
                }
            }
        }
    }
}

#[tokio::test]
async fn open_now_follows_a_weekday_nine_to_five_line_across_dst() {
    let id = "hotline-tip-worker-exploitation-task-force";
    let hours = provider(id);
    assert!(!hours.availability.is_open_24h());
    let at = |instant: &str| {
        format!(
            "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&open_now=true&at={}&limit=100",
            urlencode(instant)
        )
    };
    let strict = |body: &Value| -> Vec<String> {
        body["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter(|f| {
                f["properties"]["relaxed"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
            })
            .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // Monday 2 March 2026 is standard time in New York (UTC−5).
    let cases = [
        ("2026-03-02T10:00:00-05:00", true),
        ("2026-03-02T16:59:00-05:00", true),
        ("2026-03-02T17:00:00-05:00", false),
        ("2026-03-02T08:59:00-05:00", false),
        ("2026-03-02T13:30:00Z", false),      // 08:30 EST
        ("2026-03-09T13:30:00Z", true),       // 09:30 EDT, after the DST change
        ("2026-03-07T12:00:00-05:00", false), // Saturday
        ("2026-03-02T07:30:00-08:00", true),  // 10:30 in New York, asked from Fresno
    ];
    for (instant, open) in cases {
        let body = geojson(&at(instant)).await;
        assert_eq!(strict(&body).contains(&id.to_owned()), open, "{instant}");
        assert_eq!(body["query"]["filters"]["open_now"], true);
        if !open {
            // It may come back only as a relaxed result, marked so.
            if let Some(f) = body["features"]
                .as_array()
                .and_then(|fs| fs.iter().find(|f| f["id"] == id))
            {
                assert_eq!(
                    f["properties"]["relaxed"],
                    serde_json::json!(["open_now"]),
                    "{instant}"
                );
            }
        }
    }
}

#[tokio::test]
async fn law_enforcement_can_be_excluded() {
    let all = geojson("/v1/match?near=Fresno,%20CA&issue=trafficking&limit=100").await;
    let kinds = |body: &Value| -> Vec<(String, bool)> {
        body["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| {
                let p = provider(f["id"].as_str().unwrap_or_default());
                (p.kind.code().to_owned(), p.law_enforcement)
            })
            .collect()
    };
    assert!(
        kinds(&all)
            .iter()
            .any(|(k, le)| k == "law_enforcement" || *le),
        "the unfiltered answer has law enforcement to exclude"
    );
    let without =
        geojson("/v1/match?near=Fresno,%20CA&issue=trafficking&exclude=law_enforcement&limit=100")
            .await;
    assert!(!kinds(&without).is_empty());
    for (kind, le) in kinds(&without) {
        assert!(kind != "law_enforcement" && !le);
    }
    for f in without["features"].as_array().expect("features") {
        assert_eq!(f["properties"]["law_enforcement"], false);
        let reasons = f["properties"]["reasons"].to_string();
        assert!(reasons.contains("not law enforcement"), "{reasons}");
    }
}

#[tokio::test]
async fn relaxed_results_are_marked_and_come_last() {
    // Few providers within 300 km of Anchorage are open around the clock:
    // the strict answer is short and the rest are relaxed on open_24h only.
    let body = geojson("/v1/match?near=Anchorage,%20AK&open_24h=true&radius_km=300&limit=10").await;
    let features = body["features"].as_array().expect("features");
    assert_eq!(features.len(), 10, "relaxed results fill the limit");
    let relaxed: Vec<&Value> = features
        .iter()
        .filter(|f| {
            !f["properties"]["relaxed"]
                .as_array()
                .is_some_and(Vec::is_empty)
        })
        .collect();
    assert!(!relaxed.is_empty(), "some results are relaxed");
    for f in &relaxed {
        assert_eq!(f["properties"]["relaxed"], serde_json::json!(["open_24h"]));
        let p = provider(f["id"].as_str().unwrap_or_default());
        assert!(!p.availability.is_open_24h());
        assert!(f["properties"]["reasons"].to_string().contains("relaxed"));
    }
    let first_relaxed = features.len() - relaxed.len();
    assert!(first_relaxed > 0, "some strict results");
    for f in &features[..first_relaxed] {
        let p = provider(f["id"].as_str().unwrap_or_default());
        assert!(p.availability.is_open_24h(), "{}", p.id);
    }
}

#[tokio::test]
async fn languages_are_speaks_interpreter_unknown_or_does_not() {
    // Few providers within 300 km of Anchorage list Somali: those listing
    // other languages only are relaxed, those listing none or interpreting
    // are strict, each saying so in its reasons.
    let body = geojson("/v1/match?near=Anchorage,%20AK&language=so&radius_km=300&limit=40").await;
    let mut seen = BTreeSet::new();
    let mut relaxed_seen = false;
    for f in body["features"].as_array().expect("features") {
        let props = &f["properties"];
        let p = provider(f["id"].as_str().unwrap_or_default());
        let fit = props["language"].as_str().unwrap_or_default();
        let reasons = props["reasons"].to_string();
        let expected = if p.languages.iter().any(|l| l == "so") {
            assert!(reasons.contains("speaks Somali"), "{reasons}");
            "speaks"
        } else if p.services.iter().any(|s| s == "interpretation") {
            assert!(
                reasons.contains("Somali through its interpreting service"),
                "{reasons}"
            );
            "interpreter"
        } else if p.languages.is_empty() {
            assert!(
                reasons.contains("languages not listed: ask about Somali"),
                "{reasons}"
            );
            "unknown"
        } else {
            assert_eq!(props["relaxed"], serde_json::json!(["language"]));
            "does_not"
        };
        assert_eq!(fit, expected, "{}", p.id);
        if fit == "does_not" {
            relaxed_seen = true;
        } else {
            assert!(!relaxed_seen, "a strict result after a relaxed one");
        }
        seen.insert(expected);
    }
    assert!(seen.len() >= 3, "{seen:?}");
}

#[tokio::test]
async fn distances_agree_with_an_independent_haversine_and_rank_nearer_first() {
    let body = geojson("/v1/match?lat=36.7378&lon=-119.7871&limit=100").await;
    assert_eq!(body["query"]["county_fips"], "06019");
    assert_eq!(body["query"]["precision"], "point");
    let mut checked = 0;
    for f in body["features"].as_array().expect("features") {
        let props = &f["properties"];
        let Some(d) = props["distance_km"].as_f64() else {
            assert_eq!(f["geometry"], Value::Null);
            continue;
        };
        let [lon, lat] = [
            f["geometry"]["coordinates"][0].as_f64().expect("lon"),
            f["geometry"]["coordinates"][1].as_f64().expect("lat"),
        ];
        let expected = haversine_km(36.7378, -119.7871, lat, lon);
        assert!(
            (d - expected).abs() < 0.01,
            "{}: {d} vs {expected}",
            f["id"]
        );
        checked += 1;
    }
    assert!(checked > 20);
    // Within a distance-ordered tier (and the strict set: no result here
    // is relaxed), effective distance `d / e^score` never falls; helplines
    // other than the national line come by score.
    let mut last: HashMap<String, f64> = HashMap::new();
    for f in body["features"].as_array().expect("features") {
        let props = &f["properties"];
        assert_eq!(props["relaxed"], serde_json::json!([]));
        let tier = props["tier"].as_str().unwrap_or_default().to_owned();
        let score = props["score"].as_f64().expect("score");
        let key = if tier == "helpline" {
            if props["national_line"] == true {
                continue;
            }
            -score
        } else {
            props["distance_km"].as_f64().expect("distance") / score.exp()
        };
        if let Some(previous) = last.get(&tier) {
            assert!(
                key >= *previous - 1e-3,
                "{}: out of order in {tier}",
                f["id"]
            );
        }
        last.insert(tier, key);
    }
    assert!(last.len() >= 3, "several tiers: {last:?}");
}

#[tokio::test]
async fn the_same_query_gives_the_same_answer_and_json_matches_geojson() {
    let uri = "/v1/match?near=93721&issue=trafficking&language=es&limit=15";
    let a = get(uri).await.bytes;
    let b = get(uri).await.bytes;
    assert_eq!(a, b, "deterministic");
    let plain = get(&format!("{uri}&format=json")).await;
    assert_eq!(plain.content_type, "application/json");
    let plain = plain.json();
    let geo = geojson(uri).await;
    let plain_ids: Vec<&str> = plain["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(plain_ids, ids(&geo));
    assert_eq!(plain["query"], geo["query"]);
}

#[tokio::test]
async fn providers_are_paged_by_cursor_over_a_bbox() {
    let snapshot = state().live.snapshot();
    let (min_lon, min_lat, max_lon, max_lat) = (-124.5, 32.5, -114.0, 42.0);
    let expected: BTreeSet<String> = snapshot
        .directory
        .providers()
        .iter()
        .filter(|p| {
            p.location.is_some_and(|l| {
                (min_lon..=max_lon).contains(&l.lon()) && (min_lat..=max_lat).contains(&l.lat())
            }) && p.issues.iter().any(|i| i == "labor_trafficking")
        })
        .map(|p| p.id.to_string())
        .collect();
    assert!(expected.len() > 25, "enough to page: {}", expected.len());
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut uri = format!("/v1/providers?bbox={min_lon},{min_lat},{max_lon},{max_lat}&issue=labor_trafficking&limit=10");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let body = geojson(&uri).await;
        pages += 1;
        let page = ids(&body);
        assert!(page.len() <= 10);
        assert_eq!(body["count"], page.len());
        got.extend(page);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 100, "paging ends");
    }
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no provider twice");
    assert_eq!(unique, expected);
    // A box across the antimeridian finds Guam (144.8° E) and American Samoa (170.7° W).
    let pacific = geojson("/v1/providers?bbox=140,-20,-165,20&limit=1000").await;
    let countries: BTreeSet<String> = ids(&pacific)
        .iter()
        .filter_map(|id| {
            provider(id)
                .address
                .and_then(|a| a.country)
                .map(String::from)
        })
        .collect();
    assert!(
        countries.contains("GU") && countries.contains("AS"),
        "{countries:?}"
    );
}

#[tokio::test]
async fn one_provider_and_vocabulary() {
    let body = geojson("/v1/providers/hotline-nhtrc").await;
    assert_eq!(body["type"], "Feature");
    assert_eq!(body["properties"]["name"], provider("hotline-nhtrc").name);
    problem("/v1/providers/no-such-id", StatusCode::NOT_FOUND, None).await;
    let vocabulary = get("/v1/vocabulary").await.json();
    let trafficking_children: Vec<&str> = vocabulary["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|t| t["parent"] == "trafficking")
        .filter_map(|t| t["code"].as_str())
        .collect();
    assert_eq!(
        trafficking_children,
        ["sex_trafficking", "labor_trafficking"]
    );
    assert!(vocabulary["kinds"].to_string().contains("law_enforcement"));
    assert!(vocabulary["languages"]
        .as_array()
        .expect("languages")
        .iter()
        .any(|l| l["code"] == "es" && l["name"] == "Spanish"));
}

#[tokio::test]
async fn every_bad_request_is_a_problem_naming_what_to_fix() {
    use StatusCode as S;
    let cases: &[(&str, S, Option<&str>)] = &[
        ("/v1/match", S::BAD_REQUEST, Some("near")),
        ("/v1/match?near=", S::BAD_REQUEST, Some("near")),
        (
            "/v1/match?near=Fresno&lat=1&lon=2",
            S::BAD_REQUEST,
            Some("near"),
        ),
        ("/v1/match?lat=36.7", S::BAD_REQUEST, Some("lon")),
        ("/v1/match?lat=91&lon=0", S::BAD_REQUEST, Some("lat")),
        ("/v1/match?lat=0&lon=200", S::BAD_REQUEST, Some("lon")),
        ("/v1/match?lat=NaN&lon=0", S::BAD_REQUEST, Some("lat")),
        ("/v1/match?lat=abc&lon=0", S::BAD_REQUEST, Some("lat")),
        (
            "/v1/match?near=Fresno,%20CA&limit=0",
            S::BAD_REQUEST,
            Some("limit"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&limit=101",
            S::BAD_REQUEST,
            Some("limit"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&limit=ten",
            S::BAD_REQUEST,
            Some("limit"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&radius_km=0",
            S::BAD_REQUEST,
            Some("radius_km"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&radius_km=20001",
            S::BAD_REQUEST,
            Some("radius_km"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&radius_km=inf",
            S::BAD_REQUEST,
            Some("radius_km"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&issue=smuggling",
            S::BAD_REQUEST,
            Some("issue"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&issue=",
            S::BAD_REQUEST,
            Some("issue"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&language=Klingon",
            S::BAD_REQUEST,
            Some("language"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&population=aliens",
            S::BAD_REQUEST,
            Some("population"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&exclude=wizards",
            S::BAD_REQUEST,
            Some("exclude"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&open_24h=maybe",
            S::BAD_REQUEST,
            Some("open_24h"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&open_now=true&at=yesterday",
            S::BAD_REQUEST,
            Some("at"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&format=kml",
            S::BAD_REQUEST,
            Some("format"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&lang=es",
            S::BAD_REQUEST,
            Some("lang"),
        ),
        (
            "/v1/match?near=Fresno,%20CA&limit=5&limit=6",
            S::BAD_REQUEST,
            Some("limit"),
        ),
        ("/v1/match?near=Fresnoo,%20CA", S::NOT_FOUND, None),
        ("/v1/match?near=%FF%FE", S::BAD_REQUEST, None),
        ("/v1/providers?bbox=1,2,3", S::BAD_REQUEST, Some("bbox")),
        (
            "/v1/providers?bbox=-200,0,10,10",
            S::BAD_REQUEST,
            Some("bbox"),
        ),
        (
            "/v1/providers?bbox=0,50,10,10",
            S::BAD_REQUEST,
            Some("bbox"),
        ),
        ("/v1/providers?bbox=a,b,c,d", S::BAD_REQUEST, Some("bbox")),
        ("/v1/providers?limit=1001", S::BAD_REQUEST, Some("limit")),
        ("/v1/providers?cursor=abc", S::BAD_REQUEST, Some("cursor")),
        (
            "/v1/providers?cursor=99999999",
            S::BAD_REQUEST,
            Some("cursor"),
        ),
        ("/v1/providers?kind=wizard", S::BAD_REQUEST, Some("kind")),
        ("/v1/providers?colour=red", S::BAD_REQUEST, Some("colour")),
        ("/v1/hotlines", S::BAD_REQUEST, Some("country")),
        (
            "/v1/hotlines?country=Atlantis",
            S::BAD_REQUEST,
            Some("country"),
        ),
        ("/v1/hotlines?country=PE&x=1", S::BAD_REQUEST, Some("x")),
    ];
    for (uri, status, parameter) in cases {
        problem(uri, *status, *parameter).await;
    }
    let unknown = problem("/v1/match?near=Fresnoo,%20CA", S::NOT_FOUND, None).await;
    assert!(unknown["suggestions"].to_string().contains("Fresno"));
    let language = problem(
        "/v1/match?near=Fresno,%20CA&language=Spansh",
        S::BAD_REQUEST,
        Some("language"),
    )
    .await;
    assert!(
        language["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Spanish"),
        "{language}"
    );
}

#[tokio::test]
async fn gzip_when_asked_and_cors_when_configured() {
    let request = Request::get("/v1/match?near=Fresno,%20CA&limit=50")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("request");
    let answer = send(request, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_ENCODING], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&answer.bytes[..])
        .read_to_string(&mut text)
        .expect("gunzips");
    let body: Value = serde_json::from_str(&text).expect("JSON inside");
    assert_eq!(body["type"], "FeatureCollection");

    let options = RouterOptions {
        cors_origins: vec!["https://dashboard.example.org".to_owned()],
        ..RouterOptions::default()
    };
    let request = |origin: &str| {
        Request::get("/v1/vocabulary")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .expect("request")
    };
    let allowed = send(request("https://dashboard.example.org"), Some(&options)).await;
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://dashboard.example.org"
    );
    let other = send(request("https://evil.example"), Some(&options)).await;
    assert!(other
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    let default = send(request("https://dashboard.example.org"), None).await;
    assert!(default
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}
