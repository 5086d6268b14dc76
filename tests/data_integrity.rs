//! The committed data is what the build scripts produced: every file listed
//! in a `SHA256SUMS` exists and matches, and the tables hold the rows the
//! sources promise.

use sha2::{Digest, Sha256};
use std::path::Path;

/// Checks every `<hex>  <file>` line of `dir/SHA256SUMS`; returns how many.
fn verify_sums(dir: &Path) -> usize {
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap_or_else(|e| panic!("{}/SHA256SUMS: {e}", dir.display()));
    let mut checked = 0;
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (expected, name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("malformed SHA256SUMS line: {line}"));
        let bytes = std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{name} listed in SHA256SUMS: {e}"));
        let actual = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(
            actual, expected,
            "{name} does not match SHA256SUMS; rerun the build script"
        );
        checked += 1;
    }
    checked
}

#[test]
fn gazetteer_files_match_their_checksums() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteer");
    let checked = verify_sums(&dir);
    assert!(
        checked >= 9,
        "SHA256SUMS should cover every derived file, covers {checked}"
    );
    let listed = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap_or_default();
    for required in [
        "us_zip.csv",
        "places.csv",
        "place_altnames.csv",
        "us_state.csv",
        "us_county.csv",
        "country.csv",
        "language.csv",
        "boundaries/counties-10m.json",
        "boundaries/countries-50m.json",
    ] {
        assert!(
            listed.contains(required),
            "{required} missing from SHA256SUMS"
        );
    }
}

#[test]
fn reference_sets_match_their_checksums() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    assert!(verify_sums(&dir) >= 4);
}

#[test]
fn tables_have_the_expected_shape() {
    let gazetteer = refmatch::gazetteer::Gazetteer::bundled().expect("gazetteer loads");
    assert!(
        gazetteer.zip_count() > 41_000,
        "ZIPs: {}",
        gazetteer.zip_count()
    );
    assert_eq!(
        gazetteer.states().len(),
        56,
        "50 states, DC and 5 territories"
    );
    assert!(
        gazetteer.counties().len() >= 3_230,
        "counties: {}",
        gazetteer.counties().len()
    );
    assert!(gazetteer.countries().len() >= 249);
    assert!(gazetteer.places().len() > 80_000);
    assert!(gazetteer.languages().len() > 7_000);
    for territory in ["PR", "GU", "VI", "AS", "MP"] {
        assert!(
            gazetteer.places().iter().any(|p| p.country == territory),
            "no places in {territory}"
        );
        assert!(
            gazetteer.state(territory).is_some(),
            "no state row for {territory}"
        );
    }
    // Every county FIPS a place or ZIP points at is a county with an outline.
    for place in gazetteer.places() {
        if let Some(fips) = &place.county_fips {
            assert!(
                gazetteer.county(fips).is_some(),
                "{} → unknown county {fips}",
                place.name
            );
        }
    }
    assert!(gazetteer.county("02261").and_then(|c| c.population) == Some(9_346));
}
