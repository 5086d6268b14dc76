//! Drives the axum router in-process with `tower::ServiceExt::oneshot`:
//! every success and every 4xx path of the geocoding endpoints.

mod common;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{state, urlencode};
use refmatch::api::router;
use serde_json::Value;

/// Sends a request and returns status, content type and parsed JSON body.
async fn send(method: &str, uri: &str) -> (StatusCode, String, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request builds");
    let answer = common::send(&router(state()), request).await;
    let body = answer.json();
    (answer.status, answer.content_type, body)
}

async fn get(uri: &str) -> (StatusCode, String, Value) {
    send("GET", uri).await
}

/// Asserts a problem+json answer with `status` and returns its body.
async fn problem(uri: &str, status: StatusCode) -> Value {
    let (got, content_type, body) = get(uri).await;
    assert_eq!(got, status, "{uri}: {body}");
    assert_eq!(content_type, "application/problem+json", "{uri}");
    assert_eq!(body["status"], status.as_u16(), "{uri}: {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.len() > 10,
        "{uri}: detail must say what to fix: {body}"
    );
    assert!(body["type"]
        .as_str()
        .unwrap_or_default()
        .starts_with("urn:refmatch:problem:"));
    body
}

#[tokio::test]
async fn healthz_reports_loaded_data() {
    let (status, _, body) = get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert!(body["gazetteer"]["zips"].as_u64().unwrap_or(0) > 40_000);
    assert!(body["gazetteer"]["counties"].as_u64().unwrap_or(0) > 3_000);
    // The bundled directory: 20 seed-page hotlines + 3,200 sample records.
    assert_eq!(body["directory"]["providers"].as_u64(), Some(3_220));
}

#[tokio::test]
async fn geocode_city_state() {
    let (status, content_type, body) = get("/v1/geocode?q=Fresno,%20CA").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type, "application/json");
    assert_eq!(body["query"], "Fresno, CA");
    assert_eq!(body["precision"], "locality");
    assert_eq!(body["country"], "US");
    assert_eq!(body["region"], "CA");
    assert_eq!(body["county_fips"], "06019");
    let (lat, lon) = (
        body["lat"].as_f64().unwrap_or(0.0),
        body["lon"].as_f64().unwrap_or(0.0),
    );
    assert!(
        (lat - 36.75).abs() < 0.1 && (lon + 119.77).abs() < 0.1,
        "{body}"
    );
    assert!(body["alternatives"].is_array());
}

#[tokio::test]
async fn geocode_each_form_the_issue_names() {
    /// (query, precision, country, region, county_fips)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        ("93721", "postal_code", "US", Some("CA"), Some("06019")),
        ("93721-2402", "postal_code", "US", Some("CA"), Some("06019")),
        (
            "Fresno CA 93721",
            "postal_code",
            "US",
            Some("CA"),
            Some("06019"),
        ),
        (
            "Fresno, California",
            "locality",
            "US",
            Some("CA"),
            Some("06019"),
        ),
        ("Cook County, IL", "county", "US", Some("IL"), Some("17031")),
        (
            "Orleans Parish, LA",
            "county",
            "US",
            Some("LA"),
            Some("22071"),
        ),
        (
            "San Juan Municipio, PR",
            "county",
            "PR",
            Some("PR"),
            Some("72127"),
        ),
        ("Lima, Peru", "locality", "PE", None, None),
        ("San Juan PR", "locality", "PR", Some("PR"), Some("72127")),
        ("california", "region", "US", Some("CA"), None),
        ("TX", "region", "US", Some("TX"), None),
        ("Guam", "region", "GU", Some("GU"), None),
        ("Peru", "country", "PE", None, None),
        ("MEX", "country", "MX", None, None),
        ("San José, CA", "locality", "US", Some("CA"), Some("06085")),
        ("SAN JOSE CA", "locality", "US", Some("CA"), Some("06085")),
        ("St. Louis, MO", "locality", "US", Some("MO"), Some("29510")),
        (
            "Saint Paul, MN",
            "locality",
            "US",
            Some("MN"),
            Some("27123"),
        ),
        (
            "Ft. Lauderdale, FL",
            "locality",
            "US",
            Some("FL"),
            Some("12011"),
        ),
        (
            "Mt. Vernon, NY",
            "locality",
            "US",
            Some("NY"),
            Some("36119"),
        ),
        ("NYC", "locality", "US", Some("NY"), Some("36061")),
        ("Washington DC", "locality", "US", Some("DC"), Some("11001")),
        (
            "Washington, D.C.",
            "locality",
            "US",
            Some("DC"),
            Some("11001"),
        ),
        ("Toronto, CA", "locality", "CA", None, None),
        ("Kyiv, Ukraine", "locality", "UA", None, None),
        (
            "Springfield, IL, USA",
            "locality",
            "US",
            Some("IL"),
            Some("17167"),
        ),
        (
            "36.7378, -119.7871",
            "point",
            "US",
            Some("CA"),
            Some("06019"),
        ),
    ];
    for (query, precision, country, region, county) in cases {
        let uri = format!("/v1/geocode?q={}", urlencode(query));
        let (status, _, body) = get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(body["precision"], *precision, "{query}: {body}");
        assert_eq!(body["country"], *country, "{query}: {body}");
        assert_eq!(body["region"].as_str(), *region, "{query}: {body}");
        assert_eq!(body["county_fips"].as_str(), *county, "{query}: {body}");
    }
}

#[tokio::test]
async fn street_address_falls_back_to_zip_and_says_so() {
    let (status, _, body) = get("/v1/geocode?q=1600%20Main%20St,%20Fresno,%20CA%2093721").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["precision"], "postal_code");
    assert!(
        body["note"]
            .as_str()
            .unwrap_or_default()
            .contains("street-level"),
        "{body}"
    );
    let (_, _, body) = get("/v1/geocode?q=1600%20Main%20St,%20Fresno,%20CA").await;
    assert_eq!(body["precision"], "locality");
    assert!(
        body["note"]
            .as_str()
            .unwrap_or_default()
            .contains("street-level"),
        "{body}"
    );
}

#[tokio::test]
async fn ambiguous_name_picks_most_populous_and_lists_others() {
    let (status, _, body) = get("/v1/geocode?q=Springfield").await;
    assert_eq!(status, StatusCode::OK);
    let best_population = body["population"].as_u64().unwrap_or(0);
    let alternatives = body["alternatives"].as_array().cloned().unwrap_or_default();
    assert!(alternatives.len() >= 5, "{body}");
    let regions: Vec<&str> = alternatives
        .iter()
        .filter_map(|a| a["region"].as_str())
        .collect();
    assert!(
        regions.contains(&"IL") && regions.contains(&"MA"),
        "{regions:?}"
    );
    for alternative in &alternatives {
        if alternative["precision"] == "locality" {
            assert!(alternative["population"].as_u64().unwrap_or(0) <= best_population);
        }
    }
}

#[tokio::test]
async fn unknown_place_is_404_with_close_spellings() {
    let body = problem("/v1/geocode?q=Fresnoo,%20CA", StatusCode::NOT_FOUND).await;
    let suggestions: Vec<&str> = body["suggestions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(suggestions.contains(&"Fresno, CA"), "{body}");
    problem("/v1/geocode?q=00000", StatusCode::NOT_FOUND).await;
    problem("/v1/geocode?q=Qwxzvbnmplk", StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn bad_geocode_input_is_400_problem() {
    for uri in [
        "/v1/geocode",
        "/v1/geocode?q=",
        "/v1/geocode?q=%20%20",
        "/v1/geocode?q=,,,",
        "/v1/geocode?q=Fresno%00CA",
        "/v1/geocode?q=Fres%0Ano",
        "/v1/geocode?q=91,0",
        "/v1/geocode?q=NaN,NaN",
        "/v1/geocode?q=0,-181",
        "/v1/geocode?q=%FF%FE",
    ] {
        let body = problem(uri, StatusCode::BAD_REQUEST).await;
        if uri != "/v1/geocode?q=%FF%FE" {
            assert_eq!(body["parameter"], "q", "{uri}: {body}");
        }
    }
    // Past the geocoder's limit, under the URI limit (8 KiB): the
    // geocoder says why.
    let long = "a".repeat(4 * 1024);
    let body = problem(&format!("/v1/geocode?q={long}"), StatusCode::BAD_REQUEST).await;
    assert!(body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("at most"));
    // Past the URI limit: 414 before anything reads it.
    let longer = "a".repeat(10 * 1024);
    problem(&format!("/v1/geocode?q={longer}"), StatusCode::URI_TOO_LONG).await;
}

#[tokio::test]
async fn ocean_is_a_valid_point_with_no_country() {
    let (status, _, body) = get("/v1/geocode?q=0,0").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["precision"], "point");
    assert!(body["country"].is_null());
    let (status, _, body) = get("/v1/reverse?lat=0&lon=0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["country"].is_null() && body["region"].is_null() && body["county"].is_null());
}

#[tokio::test]
async fn reverse_geocodes_county_state_country() {
    let (status, content_type, body) = get("/v1/reverse?lat=41.8781&lon=-87.6298").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(body["country"], "US");
    assert_eq!(body["region"], "IL");
    assert_eq!(body["county_fips"], "17031");
    assert_eq!(body["county"], "Cook County");
    let (_, _, body) = get("/v1/reverse?lat=-12.0464&lon=-77.0428").await;
    assert_eq!(body["country"], "PE");
    assert!(body["region"].is_null());
}

#[tokio::test]
async fn bad_reverse_input_is_400_naming_the_parameter() {
    for (uri, parameter) in [
        ("/v1/reverse?lat=91&lon=0", "lat"),
        ("/v1/reverse?lat=0&lon=-181", "lon"),
        ("/v1/reverse?lat=NaN&lon=0", "lat"),
        ("/v1/reverse?lat=0&lon=inf", "lon"),
        ("/v1/reverse?lat=abc&lon=0", "lat"),
        ("/v1/reverse?lon=0", "lat"),
        ("/v1/reverse?lat=0", "lon"),
    ] {
        let body = problem(uri, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["parameter"], parameter, "{uri}: {body}");
    }
}

#[tokio::test]
async fn unknown_route_and_wrong_method_are_problems() {
    problem("/v2/nothing", StatusCode::NOT_FOUND).await;
    let (status, content_type, body) = send("POST", "/v1/geocode?q=Fresno").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(content_type, "application/problem+json");
}

/// One parameter table per endpoint drives parsing on every route: an
/// unknown parameter and a repeated single-valued one are a 400 naming
/// it, whatever the method, before any work is done (nothing is stored).
#[tokio::test]
async fn every_route_refuses_unknown_and_repeated_parameters() {
    let fixture = common::new_fixture();
    let app = refmatch::api::router(fixture.state.clone());
    let auth = format!("Bearer {}", fixture.admin_key);
    let before = common::request(&app, "GET", "/v1/audit?limit=1000", Some(&auth)).await;
    for endpoint in refmatch::api::openapi::ENDPOINTS {
        let path = endpoint.path.replace(
            "{id}",
            if endpoint.path.starts_with("/v1/submissions") {
                "1"
            } else {
                "x"
            },
        );
        let method = endpoint.method.to_ascii_uppercase();
        let problem = |status: StatusCode, bytes: &[u8], uri: &str| -> Value {
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{method} {uri}: {}",
                String::from_utf8_lossy(bytes)
            );
            serde_json::from_slice(bytes).expect("problem+json")
        };
        let uri = format!("{path}?zz_unknown=1");
        let (status, bytes) = common::request(&app, &method, &uri, Some(&auth)).await;
        let body = problem(status, &bytes, &uri);
        assert_eq!(body["parameter"], "zz_unknown", "{method} {uri}");
        assert!(
            body["detail"]
                .as_str()
                .expect("detail")
                .contains("unknown parameter"),
            "{body}"
        );
        let single = endpoint.parameters().find(|p| !p.repeatable);
        if let Some(single) = single {
            let uri = format!("{path}?{0}=1&{0}=2", single.name);
            let (status, bytes) = common::request(&app, &method, &uri, Some(&auth)).await;
            let body = problem(status, &bytes, &uri);
            assert_eq!(body["parameter"], single.name, "{method} {uri}");
        }
    }
    let after = common::request(&app, "GET", "/v1/audit?limit=1000", Some(&auth)).await;
    assert_eq!(before, after, "a refused request stores nothing");
}

/// Geocoding and reverse geocoding no longer ignore what they do not read.
#[tokio::test]
async fn geocode_and_reverse_refuse_unknown_repeated_and_missing_parameters() {
    let app = refmatch::api::router(common::state());
    for (uri, parameter) in [
        ("/v1/geocode?q=Fresno,%20CA&colour=blue", "colour"),
        ("/v1/geocode?q=Fresno,%20CA&q=Reno,%20NV", "q"),
        ("/v1/geocode", "q"),
        ("/v1/reverse?lat=18.4&lon=-66.1&zoom=3", "zoom"),
        ("/v1/reverse?lat=18.4&lat=18.5&lon=-66.1", "lat"),
        ("/v1/reverse?lat=18.4", "lon"),
        ("/v1/hotlines?country=PE&country=US", "country"),
    ] {
        let (status, bytes) = common::get_bytes(&app, uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        let body: Value = serde_json::from_slice(&bytes).expect("problem+json");
        assert_eq!(body["parameter"], parameter, "{uri}: {body}");
    }
    let (status, _) = common::get_bytes(&app, "/v1/geocode?q=Fresno,%20CA", None).await;
    assert_eq!(status, StatusCode::OK);
    // HEAD is answered by the GET handler, so it takes the GET table.
    let (status, _) = common::request(&app, "HEAD", "/v1/geocode?q=Fresno,%20CA", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = common::request(&app, "HEAD", "/v1/geocode?q=Fresno&zoom=3", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
