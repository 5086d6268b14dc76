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
