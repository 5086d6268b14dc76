//! Open Referral HSDS 3.1 JSON: import and export.
//!
//! An export is a JSON array of `service` objects in HSDS's full form, each
//! with its `organization`, `phones`, `schedules`, `languages`,
//! `service_areas`, `contacts` and `service_at_locations[].location`
//! (coordinates and `addresses`). Fields HSDS has no home for (kind, issue
//! and population codes, law-enforcement flag, visibility, precision, the
//! IANA time zone, 24-hour flag, source) travel as `attributes` with
//! `link_type` `refmatch:<field>`, so `import(export(p)) == p` for every
//! field of the model. HSDS from other systems imports too: a numeric
//! schedule `timezone` (UTC offset) becomes `Etc/GMT±N`, phone `type`
//! `text` and `textphone` become text and TTY lines, and `extent_type`
//! `geojson` areas become polygons.

use super::{Ingested, Rejection, Validator};
use crate::model::{
    Address, AreaSpec, Availability, Kind, LatLng, OpenInterval, Phone, PhoneKind, Precision,
    Provider, Visibility,
};
use compact_str::CompactString;
use serde_json::{json, Map, Value};

const DAY_CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// True when a parsed JSON document is an HSDS export (an array of
/// services) rather than normalised providers.
pub fn looks_like_hsds(value: &Value) -> bool {
    let first = match value {
        Value::Array(items) => items.first(),
        _ => None,
    };
    first.and_then(Value::as_object).is_some_and(|o| {
        !o.contains_key("availability")
            && (o.contains_key("service_at_locations")
                || o.contains_key("organization")
                || o.contains_key("status"))
    })
}

fn attribute(field: &str, value: impl Into<String>) -> Value {
    json!({"link_type": format!("refmatch:{field}"), "link_entity": "service", "value": value.into()})
}

fn clock(minutes: u16) -> String {
    let minutes = minutes % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Exports providers as HSDS 3.1 services (full form).
pub fn export(providers: &[Provider]) -> Value {
    Value::Array(providers.iter().map(export_one).collect())
}

fn export_one(p: &Provider) -> Value {
    let mut attributes = vec![attribute("kind", p.kind.code())];
    attributes.extend(p.issues.iter().map(|i| attribute("issue", i.clone())));
    attributes.extend(
        p.populations
            .iter()
            .map(|i| attribute("population", i.clone())),
    );
    attributes.extend(p.services.iter().map(|i| attribute("service", i.clone())));
    attributes.push(attribute("law_enforcement", p.law_enforcement.to_string()));
    attributes.push(attribute(
        "visibility",
        match p.visibility {
            Visibility::Public => "public",
            Visibility::Confidential => "confidential",
        },
    ));
    attributes.push(attribute("source", p.source.clone()));
    if let Some(precision) = p.precision {
        attributes.push(attribute("precision", precision.as_str()));
    }
    if p.location_confidential {
        attributes.push(attribute("location_confidential", "true"));
    }
    if p.incomplete {
        attributes.push(attribute("incomplete", "true"));
    }
    if p.organization.is_none() {
        attributes.push(attribute("organization_is_service", "true"));
    }
    if let Some(note) = &p.hours_note {
        attributes.push(attribute("hours_note", note.clone()));
    }
    let schedules: Vec<Value> = match &p.availability {
        Availability::Open24h => {
            attributes.push(attribute("open_24h", "true"));
            vec![
                json!({"freq": "WEEKLY", "byday": DAY_CODES.join(","), "opens_at": "00:00", "closes_at": "23:59", "description": "24/7"}),
            ]
        }
        Availability::Weekly {
            timezone,
            intervals,
        } => {
            attributes.push(attribute("timezone", timezone.clone()));
            intervals
                .iter()
                .map(|i| {
                    json!({
                        "freq": "WEEKLY",
                        "byday": DAY_CODES[usize::from(i.day % 7)],
                        "opens_at": clock(i.opens_min),
                        "closes_at": clock(i.closes_min),
                    })
                })
                .collect()
        }
        Availability::Unknown => Vec::new(),
    };
    let phones: Vec<Value> = p
        .phones
        .iter()
        .map(|phone| {
            let kind = match phone.kind {
                PhoneKind::Voice | PhoneKind::TollFree => "voice",
                PhoneKind::Text => "text",
                PhoneKind::Tty => "textphone",
            };
            let mut object = json!({"number": phone.number, "type": kind});
            let mut flags = Vec::new();
            if phone.kind == PhoneKind::TollFree {
                flags.push(attribute("toll_free", "true"));
            }
            if phone.confidential {
                flags.push(attribute("confidential", "true"));
            }
            if !flags.is_empty() {
                object["attributes"] = json!(flags);
            }
            if let Some(country) = &phone.country {
                object["country"] = json!(country);
            }
            if let Some(note) = &phone.note {
                object["description"] = json!(note);
            }
            object
        })
        .collect();
    let service_areas: Vec<Value> = p
        .service_area
        .iter()
        .map(|area| match area {
            AreaSpec::Polygon { coordinates } => json!({
                "extent_type": "geojson",
                "extent": json!({"type": "MultiPolygon", "coordinates": coordinates}).to_string(),
            }),
            other => json!({"extent_type": "text", "name": other.to_text().join(";")}),
        })
        .collect();
    let mut location = Map::new();
    location.insert(
        "location_type".into(),
        json!(if p.location.is_some() {
            "physical"
        } else {
            "virtual"
        }),
    );
    if let Some(point) = p.location {
        location.insert("latitude".into(), json!(point.lat()));
        location.insert("longitude".into(), json!(point.lon()));
    }
    if let Some(a) = &p.address {
        location.insert(
            "addresses".into(),
            json!([{
                "address_1": a.street, "city": a.city, "state_province": a.region,
                "postal_code": a.postal_code, "country": a.country, "address_type": "physical",
            }]),
        );
    }
    json!({
        "id": p.id,
        "name": p.name,
        "status": "active",
        "description": p.description,
        "url": p.website,
        "email": p.email,
        "assured_date": p.verified_at.map(|d| d.to_string()),
        "organization": {
            "id": format!("org-{}", p.id),
            "name": p.organization.clone().unwrap_or_else(|| p.name.clone()),
            "funding": p.funder.iter().map(|f| json!({"source": f})).collect::<Vec<_>>(),
        },
        "contacts": p.contact_name.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
        "phones": phones,
        "schedules": schedules,
        "languages": p.languages.iter().map(|l| json!({"code": l})).collect::<Vec<_>>(),
        "service_areas": service_areas,
        "service_at_locations": [{"location": Value::Object(location)}],
        "attributes": attributes,
    })
}

/// Imports an HSDS export: every service becomes a provider or a rejection.
pub fn import(validator: &Validator<'_>, source: &str, value: Value) -> Ingested {
    let Value::Array(services) = value else {
        return super::file_rejected(source, "an HSDS export must be a JSON array of services");
    };
    let mut out = Ingested::default();
    for (index, service) in services.iter().enumerate() {
        let position = index as u64 + 1;
        out.rows_read += 1;
        let provider = import_one(service)
            .map_err(|(field, reason)| Rejection::new(source, position, Some(field), reason));
        match provider.and_then(|p| validator.provider(p, source, position)) {
            Ok(p) => out.accept(p, source, position),
            Err(r) => out.rejections.push(r),
        }
    }
    out
}

type ImportError = (&'static str, String);

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn array<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn import_one(service: &Value) -> Result<Provider, ImportError> {
    if !service.is_object() {
        return Err(("service", "each HSDS service must be an object".into()));
    }
    let attributes: Vec<(String, String)> = array(service, "attributes")
        .iter()
        .filter_map(|a| {
            let link_type = text(a, "link_type")?;
            let field = link_type.strip_prefix("refmatch:")?.to_owned();
            Some((field, text(a, "value").unwrap_or_default()))
        })
        .collect();
    let all = |field: &str| -> Vec<String> {
        attributes
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let codes = |field: &str| -> Vec<CompactString> {
        attributes
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, v)| CompactString::from(v.as_str()))
            .collect()
    };
    let one = |field: &str| all(field).into_iter().next();
    let name = text(service, "name").ok_or(("name", "service has no name".to_owned()))?;
    let kind = match one("kind") {
        Some(code) => {
            Kind::parse(&code).ok_or(("kind", format!("unknown kind attribute '{code}'")))?
        }
        None => Kind::ServiceProvider,
    };
    let organization = service.get("organization").unwrap_or(&Value::Null);
    let organization_name = text(organization, "name");
    let organization_is_service = one("organization_is_service").as_deref() == Some("true");
    let funder = array(organization, "funding")
        .iter()
        .find_map(|f| text(f, "source"));

    let mut phones = Vec::new();
    for phone in array(service, "phones") {
        let number = text(phone, "number").ok_or(("phones", "a phone has no number".to_owned()))?;
        let flag = |name: &str| {
            array(phone, "attributes")
                .iter()
                .any(|a| text(a, "link_type").as_deref() == Some(&format!("refmatch:{name}")))
        };
        let toll_free = flag("toll_free");
        let kind = match text(phone, "type").as_deref() {
            Some("text") => PhoneKind::Text,
            Some("textphone") => PhoneKind::Tty,
            _ if toll_free => PhoneKind::TollFree,
            _ => PhoneKind::Voice,
        };
        let mut p = Phone::new(&number, kind);
        p.country = text(phone, "country").map(Into::into);
        p.note = text(phone, "description").map(Into::into);
        p.confidential = flag("confidential");
        phones.push(p);
    }

    let availability = import_schedules(
        array(service, "schedules"),
        one("timezone"),
        one("open_24h").is_some(),
    )?;

    let mut service_area = Vec::new();
    for area in array(service, "service_areas") {
        match text(area, "extent_type").as_deref() {
            Some("geojson") => {
                let extent = text(area, "extent")
                    .ok_or(("service_area", "geojson area has no extent".to_owned()))?;
                let geometry: Value = serde_json::from_str(&extent)
                    .map_err(|e| ("service_area", format!("extent is not GeoJSON: {e}")))?;
                let coordinates = geometry.get("coordinates").cloned().unwrap_or_default();
                let coordinates = match geometry.get("type").and_then(Value::as_str) {
                    Some("Polygon") => serde_json::from_value(coordinates).map(|rings| vec![rings]),
                    Some("MultiPolygon") => serde_json::from_value(coordinates),
                    _ => {
                        return Err((
                            "service_area",
                            "extent must be a Polygon or MultiPolygon".into(),
                        ))
                    }
                }
                .map_err(|e| ("service_area", format!("extent coordinates: {e}")))?;
                service_area.push(AreaSpec::Polygon { coordinates });
            }
            _ => {
                if let Some(name) = text(area, "name") {
                    let items: Vec<String> = name.split(';').map(str::to_owned).collect();
                    let parsed = super::parse_areas(&items).map_err(|e| (e.field, e.reason))?;
                    service_area.extend(parsed);
                }
            }
        }
    }

    let location_object = array(service, "service_at_locations")
        .first()
        .and_then(|sal| sal.get("location"))
        .unwrap_or(&Value::Null);
    let location = match (
        location_object.get("latitude").and_then(Value::as_f64),
        location_object.get("longitude").and_then(Value::as_f64),
    ) {
        (Some(lat), Some(lon)) => Some(LatLng::new(lat, lon).map_err(|e| ("lat", e.to_string()))?),
        _ => None,
    };
    let address = array(location_object, "addresses")
        .first()
        .map(|a| Address {
            street: text(a, "address_1").map(Into::into),
            city: text(a, "city").map(Into::into),
            region: text(a, "state_province").map(Into::into),
            postal_code: text(a, "postal_code").map(Into::into),
            country: text(a, "country").map(Into::into),
        });
    let precision = match one("precision") {
        Some(p) => Some(
            serde_json::from_value::<Precision>(json!(p))
                .map_err(|_| ("precision", format!("unknown precision '{p}'")))?,
        ),
        None => location.map(|_| Precision::Point),
    };
    let verified_at = text(service, "assured_date")
        .map(|d| {
            d.parse::<jiff::civil::Date>()
                .map_err(|_| ("verified_at", format!("'{d}' is not a date")))
        })
        .transpose()?;
    Ok(Provider {
        id: text(service, "id").map(Into::into).unwrap_or_default(),
        name,
        organization: if organization_is_service {
            None
        } else {
            organization_name
        },
        kind,
        issues: codes("issue"),
        services: codes("service"),
        populations: codes("population"),
        languages: array(service, "languages")
            .iter()
            .filter_map(|l| text(l, "code"))
            .map(Into::into)
            .collect(),
        availability,
        hours_note: one("hours_note"),
        phones,
        email: text(service, "email"),
        website: text(service, "url"),
        contact_name: array(service, "contacts")
            .iter()
            .find_map(|c| text(c, "name")),
        law_enforcement: one("law_enforcement").as_deref() == Some("true"),
        address,
        location,
        precision,
        location_confidential: one("location_confidential").as_deref() == Some("true"),
        service_area,
        visibility: match one("visibility").as_deref() {
            Some("public") => Visibility::Public,
            _ => Visibility::Confidential,
        },
        verified_at,
        source: one("source").map_or_else(|| "hsds".into(), Into::into),
        funder,
        description: text(service, "description"),
        incomplete: one("incomplete").as_deref() == Some("true"),
        capacity: Vec::new(),
    })
}

fn parse_clock(text: &str) -> Option<u16> {
    let text = text.trim_end_matches('Z');
    let text = text.get(..5).unwrap_or(text);
    let (h, m) = text.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn import_schedules(
    schedules: &[Value],
    timezone: Option<String>,
    open_24h: bool,
) -> Result<Availability, ImportError> {
    if open_24h {
        return Ok(Availability::Open24h);
    }
    if schedules.is_empty() {
        return Ok(Availability::Unknown);
    }
    let mut offset_zone = None;
    let mut intervals = Vec::new();
    for schedule in schedules {
        let opens = text(schedule, "opens_at").and_then(|t| parse_clock(&t));
        let closes = text(schedule, "closes_at").and_then(|t| parse_clock(&t));
        let (Some(opens_min), Some(closes)) = (opens, closes) else {
            return Err((
                "hours",
                "a schedule needs opens_at and closes_at as HH:MM".into(),
            ));
        };
        if let Some(offset) = schedule.get("timezone").and_then(Value::as_f64) {
            // HSDS gives a UTC offset; Etc/GMT zones have the sign inverted.
            let hours = offset.round() as i64;
            offset_zone = Some(match hours {
                0 => "Etc/UTC".to_owned(),
                h if h > 0 => format!("Etc/GMT-{h}"),
                h => format!("Etc/GMT+{}", -h),
            });
        }
        let closes_min = if closes <= opens_min {
            closes + 24 * 60
        } else {
            closes
        };
        let days = text(schedule, "byday").unwrap_or_else(|| DAY_CODES.join(","));
        for day in days.split(',') {
            let day = DAY_CODES
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day.trim()))
                .ok_or(("hours", format!("unknown byday '{day}'")))?;
            intervals.push(OpenInterval {
                day: day as u8,
                opens_min,
                closes_min,
            });
        }
    }
    intervals.sort_by_key(|i| (i.day, i.opens_min, i.closes_min));
    intervals.dedup();
    let timezone = timezone.or(offset_zone).unwrap_or_else(|| "Etc/UTC".into());
    if jiff::tz::TimeZone::get(&timezone).is_err() {
        return Err(("timezone", format!("unknown time zone '{timezone}'")));
    }
    Ok(Availability::Weekly {
        timezone: timezone.into(),
        intervals,
    })
}
