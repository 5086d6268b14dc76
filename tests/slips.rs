//! Referral slips through HTTP: `GET /v1/providers/{id}/slip` and
//! `GET /v1/referrals/{id}/slip` (issue 15): staff only, safe by default,
//! never a direct line, the caller's language, a printable page with no
//! script, audited for a confidential record.

mod common;

use axum::http::{header, StatusCode};
use common::{fixture_with, get_bytes, request, send, Fixture};
use refmatch::api::router;
use refmatch::model::{
    Address, AreaSpec, Availability, Kind, LatLng, Phone, PhoneKind, Provider, Visibility,
};

/// A public shelter with a public line (with a note that gives away what
/// it is), a direct line and a public address.
fn shelter(id: &str, visibility: Visibility) -> Provider {
    Provider {
        id: id.into(),
        name: "Casa Esperanza Trafficking Shelter".to_owned(),
        organization: Some("Valley Alliance".to_owned()),
        kind: Kind::ServiceProvider,
        issues: vec!["trafficking".into()],
        services: vec!["shelter".into()],
        populations: Vec::new(),
        languages: vec!["en".into(), "es".into()],
        availability: Availability::parse("Mo-Fr 09:00-17:00", "America/Los_Angeles")
            .expect("hours"),
        hours_note: Some("Crisis calls answered after hours".to_owned()),
        phones: vec![
            Phone {
                note: Some("anti-trafficking intake".into()),
                ..Phone::new("(559) 555-0142", PhoneKind::Voice)
            },
            Phone {
                confidential: true,
                note: Some("direct line".into()),
                ..Phone::new("(559) 555-0177", PhoneKind::Voice)
            },
            Phone::new("1-888-NO-TRATA", PhoneKind::TollFree),
        ],
        email: Some("intake@example.org".to_owned()),
        website: None,
        contact_name: Some("Rosa".to_owned()),
        law_enforcement: false,
        address: Some(Address {
            street: Some("1200 Van Ness Ave".into()),
            city: Some("Fresno".into()),
            region: Some("CA".into()),
            postal_code: Some("93721".into()),
            country: Some("US".into()),
        }),
        location: Some(LatLng::new(36.74, -119.79).expect("point")),
        precision: None,
        location_confidential: false,
        service_area: vec![AreaSpec::Radius { radius_km: 40.0 }],
        visibility,
        verified_at: None,
        source: "slips test".into(),
        funder: None,
        description: None,
        incomplete: false,
        capacity: Vec::new(),
    }
}

fn fixture() -> Fixture {
    fixture_with(|providers| {
        providers.push(shelter("slip-public", Visibility::Public));
        providers.push(shelter("slip-confidential", Visibility::Confidential));
    })
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

#[tokio::test]
async fn a_safe_text_slip_names_nothing_reveals_nothing_and_fits_an_sms() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let auth = bearer(&fixture.advocate_key);
    let (status, body) = get_bytes(&app, "/v1/providers/slip-public/slip", Some(&auth)).await;
    let text = String::from_utf8(body).expect("UTF-8");
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.starts_with("Contact\nCall: (559) 555-0142\n"),
        "{text}"
    );
    assert!(text.contains("Call: 18886687282"), "{text}");
    assert!(
        text.chars().count() <= 160,
        "{} chars: {text}",
        text.chars().count()
    );
    for word in [
        "Casa",
        "Esperanza",
        "Valley",
        "rafficking",
        "helter",
        "risis",
        "TRATA",
        "0177",
    ] {
        assert!(!text.contains(word), "{word} in the safe slip: {text}");
    }
}

#[tokio::test]
async fn a_full_slip_in_spanish_names_the_provider_but_never_its_direct_line() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let request = axum::http::Request::builder()
        .uri("/v1/providers/slip-public/slip?lang=es&safe=false")
        .header(header::AUTHORIZATION, bearer(&fixture.advocate_key))
        .body(axum::body::Body::empty())
        .expect("request");
    let answer = send(&app, request).await;
    let text = answer.text();
    assert_eq!(answer.status, StatusCode::OK, "{text}");
    assert_eq!(answer.media_type(), "text/plain");
    assert_eq!(answer.headers[header::CONTENT_LANGUAGE], "es");
    assert_eq!(
        text,
        "Casa Esperanza Trafficking Shelter\n\
         Valley Alliance\n\
         Llame: (559) 555-0142 (anti-trafficking intake)\n\
         Llame: 1-888-NO-TRATA (gratuito)\n\
         Horario: lun-vie 09:00-17:00 (hora de Los Angeles); Crisis calls answered after hours\n\
         Dirección: 1200 Van Ness Ave, Fresno, CA, 93721"
    );
}

#[tokio::test]
async fn the_printable_page_has_no_script_escapes_its_text_and_allows_only_its_style() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let request = axum::http::Request::builder()
        .uri("/v1/providers/slip-public/slip?format=html&lang=fr")
        .header(header::AUTHORIZATION, bearer(&fixture.admin_key))
        .body(axum::body::Body::empty())
        .expect("request");
    let answer = send(&app, request).await;
    let html = answer.text();
    assert_eq!(answer.status, StatusCode::OK, "{html}");
    assert_eq!(answer.media_type(), "text/html");
    let policy = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("CSP");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("style-src 'sha256-"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains("<h1>Contact</h1>"), "{html}");
    assert!(html.contains("href=\"tel:5595550142\""), "{html}");
    assert!(
        html.contains("1200 Van Ness Ave"),
        "a public address: {html}"
    );
    assert!(html.contains("@media print"), "{html}");
    assert!(
        !html.contains("0177") && !html.contains("Esperanza"),
        "{html}"
    );
}

#[tokio::test]
async fn slips_are_for_staff_and_name_what_is_wrong() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let auth = bearer(&fixture.advocate_key);
    for uri in [
        "/v1/providers/slip-public/slip",
        "/v1/referrals/1/slip",
        "/v1/providers/slip-public/slip?format=html",
    ] {
        let (status, _) = get_bytes(&app, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    for (uri, status, parameter) in [
        ("/v1/providers/slip-public/slip?lang=de", 400, Some("lang")),
        (
            "/v1/providers/slip-public/slip?safe=perhaps",
            400,
            Some("safe"),
        ),
        (
            "/v1/providers/slip-public/slip?format=pdf",
            400,
            Some("format"),
        ),
        (
            "/v1/providers/slip-public/slip?language=es",
            400,
            Some("language"),
        ),
        ("/v1/providers/no-such-provider/slip", 404, None),
    ] {
        let (got, body) = get_bytes(&app, uri, Some(&auth)).await;
        let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem JSON");
        assert_eq!(got.as_u16(), status, "{uri}: {problem}");
        assert_eq!(problem["parameter"].as_str(), parameter, "{uri}: {problem}");
    }
}

#[tokio::test]
async fn a_slip_of_a_confidential_record_is_audited() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let (status, _) = get_bytes(
        &app,
        "/v1/providers/slip-confidential/slip",
        Some(&bearer(&fixture.advocate_key)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = request(
        &app,
        "GET",
        "/v1/audit?limit=1000",
        Some(&bearer(&fixture.admin_key)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let audit: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let entries = audit["entries"].as_array().expect("entries");
    let read = entries
        .iter()
        .find(|e| e.to_string().contains("slip-confidential") && e.to_string().contains("/slip"));
    assert!(read.is_some(), "no audit entry of the slip: {audit}");
    // A public record's slip shows nothing confidential: no entry.
    let (status, _) = get_bytes(
        &app,
        "/v1/providers/slip-public/slip",
        Some(&bearer(&fixture.advocate_key)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = request(
        &app,
        "GET",
        "/v1/audit?limit=1000",
        Some(&bearer(&fixture.admin_key)),
    )
    .await;
    assert!(!String::from_utf8_lossy(&body).contains("slip-public"));
}

/// A referral's slip is its provider's slip; an unknown referral's is a
/// 404 naming the referral, not a missing route.
#[tokio::test]
async fn a_referral_slip_is_the_slip_of_its_provider() {
    let fixture = fixture();
    let app = router(fixture.state.clone());
    let auth = bearer(&fixture.advocate_key);
    let body = serde_json::json!({
        "provider_id": "slip-public",
        "method": "information_given",
        "consent": true,
        "place": "Fresno, CA",
        "issue": ["trafficking"],
        "language": ["es"],
        "population": [],
    });
    let made = send(
        &app,
        axum::http::Request::builder()
            .method("POST")
            .uri("/v1/referrals")
            .header(header::AUTHORIZATION, &auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .expect("request"),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["id"].as_u64().expect("referral id");
    let (status, slip) = get_bytes(
        &app,
        &format!("/v1/referrals/{id}/slip?lang=es"),
        Some(&auth),
    )
    .await;
    let (_, direct) = get_bytes(&app, "/v1/providers/slip-public/slip?lang=es", Some(&auth)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&slip));
    assert_eq!(slip, direct, "the referral's slip is its provider's");
    let (status, body) = get_bytes(&app, "/v1/referrals/987654/slip", Some(&auth)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem");
    assert_ne!(
        problem["type"], "urn:refmatch:problem:no-route",
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("987654"),
        "{problem}"
    );
}
