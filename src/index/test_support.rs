//! Shared test fixtures: the gazetteer (loaded once per test binary) and a
//! compact provider builder.

use crate::gazetteer::Gazetteer;
use crate::model::{AreaSpec, Availability, Kind, LatLng, Provider, Visibility};
use std::sync::OnceLock;

/// The bundled gazetteer, loaded once per test binary.
pub(crate) fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().expect("bundled gazetteer loads"))
}

/// A position, panicking on invalid test input.
pub(crate) fn at(lat: f64, lon: f64) -> LatLng {
    LatLng::new(lat, lon).expect("valid test coordinates")
}

/// A minimal provider: `id`, optional location and service area; other
/// fields empty (kind: service provider, hours unknown).
pub(crate) fn provider(id: &str, location: Option<LatLng>, area: Vec<AreaSpec>) -> Provider {
    Provider {
        id: id.into(),
        name: format!("Test provider {id}"),
        organization: None,
        kind: Kind::ServiceProvider,
        issues: Vec::new(),
        services: Vec::new(),
        populations: Vec::new(),
        languages: Vec::new(),
        availability: Availability::Unknown,
        hours_note: None,
        phones: Vec::new(),
        email: None,
        website: None,
        contact_name: None,
        law_enforcement: false,
        address: None,
        location,
        precision: None,
        location_confidential: false,
        service_area: area,
        visibility: Visibility::Public,
        verified_at: None,
        source: "test".into(),
        funder: None,
        description: None,
        incomplete: false,
        capacity: Vec::new(),
    }
}
