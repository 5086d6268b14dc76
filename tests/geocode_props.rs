//! Property tests: the geocoder answers every string without panicking, and
//! every answer it gives is internally consistent.

use proptest::prelude::*;
use refmatch::gazetteer::{Gazetteer, GeocodeError, MAX_QUERY_CHARS};
use std::sync::OnceLock;

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().expect("gazetteer loads"))
}

fn check(query: &str) -> Result<(), TestCaseError> {
    match gazetteer().geocode(query) {
        Ok(found) => {
            let p = found.best.point;
            prop_assert!((-90.0..=90.0).contains(&p.lat()) && (-180.0..=180.0).contains(&p.lon()));
            prop_assert!(found.alternatives.len() <= 10);
            prop_assert_eq!(found.query.as_str(), query.trim());
        }
        Err(GeocodeError::TooLong { chars, max }) => {
            prop_assert!(chars > max && max == MAX_QUERY_CHARS)
        }
        Err(_) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_string_gets_an_answer_not_a_panic(query in "\\PC{0,300}") {
        check(&query)?;
    }

    #[test]
    fn address_like_strings_get_an_answer(
        number in 0u32..100_000,
        street in "[A-Za-z ]{0,20}",
        place in "(Fresno|San Juan|Lima|Springfield|Cook County|[A-Za-z]{1,12})",
        tail in "(, CA|, PR| PR|, Peru| 9372[0-9]|-[0-9]{4}|, ,|)",
    ) {
        check(&format!("{number} {street}, {place}{tail}"))?;
    }

    #[test]
    fn coordinate_like_strings_are_validated(lat in -200.0f64..200.0, lon in -400.0f64..400.0) {
        let query = format!("{lat},{lon}");
        let answer = gazetteer().geocode(&query);
        let valid = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        prop_assert_eq!(answer.is_ok(), valid, "{}", query);
        if !valid {
            prop_assert!(matches!(answer, Err(GeocodeError::Coordinates(_))));
        }
    }
}

#[test]
fn control_characters_and_oversize_input_are_rejected() {
    let g = gazetteer();
    assert!(matches!(
        g.geocode("Fres\u{7}no"),
        Err(GeocodeError::ControlCharacter {
            position: 5,
            code: 7
        })
    ));
    assert!(matches!(
        g.geocode(&"x".repeat(10_000)),
        Err(GeocodeError::TooLong { .. })
    ));
    assert_eq!(g.geocode("   "), Err(GeocodeError::Empty));
    assert_eq!(g.geocode(",;,"), Err(GeocodeError::Empty));
}

/// Names of countries as callers give them, with the countries each may
/// denote: every ISO name and alias in the gazetteer plus common, former,
/// constituent and Spanish/French/Portuguese names. Names that are also a
/// US state or territory ("Georgia") or a two-letter code are left out:
/// those are read as the US state first, by design.
fn country_names() -> Vec<(String, Vec<String>)> {
    let g = gazetteer();
    let mut names: Vec<(String, Vec<String>)> = g
        .countries()
        .iter()
        .flat_map(|c| {
            std::iter::once(&c.name)
                .chain(&c.aliases)
                .map(move |n| (n.clone(), vec![c.iso2.clone()]))
        })
        .collect();
    for (name, codes) in [
        ("England", &["GB"][..]),
        ("Scotland", &["GB"]),
        ("Wales", &["GB"]),
        ("Northern Ireland", &["GB"]),
        ("Holland", &["NL"]),
        ("Macedonia", &["MK"]),
        ("Burma", &["MM"]),
        ("Laos", &["LA"]),
        ("Syria", &["SY"]),
        ("Moldova", &["MD"]),
        ("Trinidad", &["TT"]),
        ("DR Congo", &["CD"]),
        ("Congo-Brazzaville", &["CG"]),
        ("Congo", &["CD", "CG"]),
        ("Swaziland", &["SZ"]),
        ("East Timor", &["TL"]),
        ("Bosnia", &["BA"]),
        ("Inglaterra", &["GB"]),
        ("Suiza", &["CH"]),
        ("Royaume-Uni", &["GB"]),
        ("Estados Unidos", &["US"]),
        ("Países Bajos", &["NL"]),
        ("Alemanha", &["DE"]),
    ] {
        names.push((
            name.to_owned(),
            codes.iter().map(|c| (*c).to_owned()).collect(),
        ));
    }
    names.retain(|(name, _)| {
        name.chars().filter(|c| c.is_alphanumeric()).count() > 2 && g.state(name).is_none()
    });
    names
}

/// A few subjects: places that exist in many countries, in one, or nowhere.
const SUBJECTS: [&str; 10] = [
    "London",
    "Paris",
    "Springfield",
    "Santiago",
    "Kinshasa",
    "Lima",
    "San José",
    "Victoria",
    "Fakeville",
    "Holland",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Issue 13: when the text names a country, the answer lies in that
    /// country or is a 404; never a point in another country.
    #[test]
    fn a_named_country_is_never_answered_from_another(
        country in prop::sample::select(country_names()),
        subject in prop::sample::select(&SUBJECTS[..]),
        comma in any::<bool>(),
    ) {
        let (name, codes) = country;
        let query = if comma { format!("{subject}, {name}") } else { format!("{subject} {name}") };
        match gazetteer().geocode(&query) {
            Ok(found) => {
                let answered = found.best.country.clone().unwrap_or_default();
                prop_assert!(
                    codes.contains(&answered),
                    "{} answered {} in {}, expected one of {:?}",
                    query, found.best.name, answered, codes
                );
            }
            Err(GeocodeError::NotFound { .. }) => {}
            Err(e) => prop_assert!(false, "{}: {}", query, e),
        }
    }
}
