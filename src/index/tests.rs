//! Directory tests: `covering` for every area kind, shared regions, typed
//! rejections, attribute bitsets, and `nearest` against a brute-force
//! haversine scan.

use super::test_support::{at, gazetteer, provider};
use super::*;
use crate::model::{AreaSpec, Availability, Kind, LatLng, Provider, RegionKey};
use geo::Coord;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

fn states(codes: &[&str]) -> AreaSpec {
    AreaSpec::States {
        codes: codes.iter().map(|c| (*c).into()).collect(),
    }
}

fn counties(fips: &[&str]) -> AreaSpec {
    AreaSpec::Counties {
        fips: fips.iter().map(|c| (*c).into()).collect(),
    }
}

fn build(providers: Vec<Provider>) -> (Directory, Vec<Rejection>) {
    Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap()
}

/// The ids of the providers covering a point.
fn covering_ids(directory: &Directory, point: LatLng) -> Vec<String> {
    directory
        .covering(Geometry::Exact, point, gazetteer())
        .into_iter()
        .map(|i| directory.providers()[i as usize].id.to_string())
        .collect()
}

const FRESNO: (f64, f64) = (36.7378, -119.7871);
const RENO: (f64, f64) = (39.5296, -119.8138);
const LOS_ANGELES: (f64, f64) = (34.0522, -118.2437);
const SAN_JUAN_PR: (f64, f64) = (18.4655, -66.1057);
const HAGATNA_GU: (f64, f64) = (13.4757, 144.7489);
const PAGO_PAGO_AS: (f64, f64) = (-14.2756, -170.7020);
const MEXICO_CITY: (f64, f64) = (19.4326, -99.1332);
const ALBUQUERQUE: (f64, f64) = (35.0844, -106.6504);

fn pt((lat, lon): (f64, f64)) -> LatLng {
    at(lat, lon)
}

/// One provider per area kind, built once per test binary.
fn sample() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let square = |lat: f64, lon: f64, half: f64| AreaSpec::Polygon {
            coordinates: vec![vec![vec![
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]]],
        };
        let providers = vec![
            provider(
                "radius-fresno",
                Some(pt(FRESNO)),
                vec![AreaSpec::Radius { radius_km: 40.0 }],
            ),
            provider("state-nv", Some(pt(RENO)), vec![states(&["NV"])]),
            provider("state-ca", None, vec![states(&["CA"])]),
            provider("county-fresno", None, vec![counties(&["06019"])]),
            provider("county-fresno-2", None, vec![counties(&["06019"])]),
            provider(
                "zip-93721",
                None,
                vec![AreaSpec::Zips {
                    zips: vec!["93721".into()],
                }],
            ),
            provider("county-san-juan", None, vec![counties(&["72127"])]),
            provider("county-guam", None, vec![counties(&["66010"])]),
            provider(
                "country-mx",
                None,
                vec![AreaSpec::Countries {
                    codes: vec!["MX".into()],
                }],
            ),
            provider(
                "nationwide-us",
                None,
                vec![AreaSpec::Nationwide {
                    country: "US".into(),
                }],
            ),
            provider("worldwide", None, vec![AreaSpec::Worldwide]),
            provider(
                "polygon-fresno",
                None,
                vec![square(FRESNO.0, FRESNO.1, 0.1)],
            ),
            provider("no-area", Some(pt(LOS_ANGELES)), vec![]),
        ];
        let (directory, rejections) = build(providers);
        assert!(rejections.is_empty(), "{rejections:?}");
        directory
    })
}

#[test]
fn directory_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Directory>();
    assert_send_sync::<Arc<Directory>>();
}

#[test]
fn covering_fresno_has_radius_state_county_zip_polygon_nationwide_worldwide() {
    let ids = covering_ids(sample(), pt(FRESNO));
    assert_eq!(
        ids,
        [
            "radius-fresno",
            "state-ca",
            "county-fresno",
            "county-fresno-2",
            "zip-93721",
            "nationwide-us",
            "worldwide",
            "polygon-fresno"
        ]
    );
}

#[test]
fn radius_is_a_great_circle_check() {
    let directory = sample();
    // 30 km and 50 km due north of Fresno (1° of latitude ≈ 111.2 km).
    let near = at(FRESNO.0 + 30.0 / 111.195, FRESNO.1);
    let far = at(FRESNO.0 + 50.0 / 111.195, FRESNO.1);
    assert!(covering_ids(directory, near).contains(&"radius-fresno".to_owned()));
    assert!(!covering_ids(directory, far).contains(&"radius-fresno".to_owned()));
}

#[test]
fn state_county_and_country_areas() {
    let directory = sample();
    let reno = covering_ids(directory, pt(RENO));
    assert_eq!(reno, ["state-nv", "nationwide-us", "worldwide"]);
    let la = covering_ids(directory, pt(LOS_ANGELES));
    assert_eq!(la, ["state-ca", "nationwide-us", "worldwide"]);
    let mexico = covering_ids(directory, pt(MEXICO_CITY));
    assert_eq!(mexico, ["country-mx", "worldwide"]);
    let albuquerque = covering_ids(directory, pt(ALBUQUERQUE));
    assert_eq!(albuquerque, ["nationwide-us", "worldwide"]);
}

#[test]
fn territory_counties_and_nationwide_us_cover_territories() {
    let directory = sample();
    assert_eq!(
        covering_ids(directory, pt(SAN_JUAN_PR)),
        ["county-san-juan", "nationwide-us", "worldwide"]
    );
    assert_eq!(
        covering_ids(directory, pt(HAGATNA_GU)),
        ["county-guam", "nationwide-us", "worldwide"]
    );
    assert_eq!(
        covering_ids(directory, pt(PAGO_PAGO_AS)),
        ["nationwide-us", "worldwide"]
    );
}

#[test]
fn worldwide_covers_open_ocean() {
    assert_eq!(covering_ids(sample(), at(0.0, 0.0)), ["worldwide"]);
    assert_eq!(covering_ids(sample(), at(-90.0, 180.0)), ["worldwide"]);
}

#[test]
fn polygon_area_covers_inside_only() {
    let directory = sample();
    let inside = at(FRESNO.0 + 0.09, FRESNO.1 - 0.09);
    let outside = at(FRESNO.0 + 0.11, FRESNO.1);
    assert!(covering_ids(directory, inside).contains(&"polygon-fresno".to_owned()));
    assert!(!covering_ids(directory, outside).contains(&"polygon-fresno".to_owned()));
}

#[test]
fn regions_are_shared_between_providers() {
    let directory = sample();
    let shared = |id: &str| -> Arc<Region> {
        let index = directory.index_of(id).unwrap();
        match &directory.area(Geometry::Exact, index).unwrap().parts()[0] {
            AreaPart::Shared(region) => Arc::clone(region),
            other => panic!("{id}: expected a shared region, got {other:?}"),
        }
    };
    let a = shared("county-fresno");
    assert!(Arc::ptr_eq(&a, &shared("county-fresno-2")));
    // A ZIP resolves to the county holding it: the same Arc.
    assert!(Arc::ptr_eq(&a, &shared("zip-93721")));
    assert_eq!(a.key(), "county:06019");
    assert_eq!(a.region_key(), Some(&RegionKey::County("06019".into())));
    let key = RegionKey::parse("county:06019").expect("a county key");
    assert!(Arc::ptr_eq(&a, directory.region(&key).unwrap()));
    // Regions in the index are distinct.
    let regions = directory.regions();
    for (i, r) in regions.iter().enumerate() {
        assert!(
            regions[..i].iter().all(|s| !Arc::ptr_eq(r, s)),
            "{} twice",
            r.key()
        );
    }
}

/// The vertices two boundaries share (identical coordinates: the atlas is
/// a topology, so neighbours share their border's points exactly).
fn shared_vertices(a: &geo::MultiPolygon<f64>, b: &geo::MultiPolygon<f64>) -> Vec<Coord<f64>> {
    let bits = |c: &Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let in_b: std::collections::HashSet<(u64, u64)> =
        b.0.iter()
            .flat_map(|p| p.exterior().0.iter())
            .map(bits)
            .collect();
    a.0.iter()
        .flat_map(|p| p.exterior().0.iter())
        .filter(|c| in_b.contains(&bits(c)))
        .copied()
        .collect()
}

#[test]
fn points_on_the_ca_nv_border_are_covered_by_a_side() {
    let g = gazetteer();
    let (ca, nv) = (g.state("CA").unwrap(), g.state("NV").unwrap());
    let border = shared_vertices(&ca.shape, &nv.shape);
    assert!(
        border.len() > 10,
        "CA and NV share {} vertices",
        border.len()
    );
    let directory = sample();
    let mut checked = 0;
    for pair in border.windows(2) {
        // Each shared vertex, and the midpoint of consecutive ones.
        let mid = Coord {
            x: (pair[0].x + pair[1].x) / 2.0,
            y: (pair[0].y + pair[1].y) / 2.0,
        };
        for c in [pair[0], mid] {
            let ids = covering_ids(directory, at(c.y, c.x));
            assert!(
                ids.contains(&"state-ca".to_owned()) || ids.contains(&"state-nv".to_owned()),
                "border point {c:?} covered by neither state: {ids:?}"
            );
            checked += 1;
        }
    }
    // Vertices lie on both closed boundaries: both states cover them.
    let ids = covering_ids(directory, at(border[1].y, border[1].x));
    assert!(ids.contains(&"state-ca".to_owned()) && ids.contains(&"state-nv".to_owned()));
    assert!(checked > 20);
}

#[test]
fn shared_county_vertex_is_covered_by_the_county() {
    let g = gazetteer();
    let fresno = g.county("06019").unwrap();
    let neighbour = g
        .counties()
        .iter()
        .find(|c| c.fips != "06019" && !shared_vertices(&fresno.shape, &c.shape).is_empty())
        .unwrap();
    for c in shared_vertices(&fresno.shape, &neighbour.shape) {
        let ids = covering_ids(sample(), at(c.y, c.x));
        assert!(
            ids.contains(&"county-fresno".to_owned()),
            "{} at {c:?}",
            neighbour.fips
        );
    }
}

#[test]
fn unknown_codes_are_typed_errors_naming_the_code() {
    let g = gazetteer();
    let mut resolver = AreaResolver::new(g, &IndexOptions::default()).unwrap();
    let cases = [
        (states(&["ZZ"]), AreaError::UnknownState("ZZ".into())),
        (
            counties(&["99999"]),
            AreaError::UnknownCounty("99999".into()),
        ),
        (
            AreaSpec::Zips {
                zips: vec!["00000".into()],
            },
            AreaError::UnknownZip("00000".into()),
        ),
        (
            AreaSpec::Countries {
                codes: vec!["XX".into()],
            },
            AreaError::UnknownCountry("XX".into()),
        ),
        (
            AreaSpec::Nationwide {
                country: "Atlantis".into(),
            },
            AreaError::UnknownCountry("Atlantis".into()),
        ),
        (
            AreaSpec::Radius { radius_km: 10.0 },
            AreaError::RadiusWithoutLocation,
        ),
    ];
    for (spec, expected) in cases {
        let error = resolver.resolve(&[spec], None).unwrap_err();
        assert_eq!(error, expected);
    }
    let here = Some(pt(FRESNO));
    for bad in [0.0, -5.0, f64::INFINITY] {
        let error = resolver
            .resolve(&[AreaSpec::Radius { radius_km: bad }], here)
            .unwrap_err();
        assert!(matches!(error, AreaError::BadRadius(_)));
    }
    let open_ring = AreaSpec::Polygon {
        coordinates: vec![vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]],
    };
    assert!(matches!(
        resolver.resolve(&[open_ring], None),
        Err(AreaError::BadPolygon(_))
    ));
    let lat_lon_swapped = AreaSpec::Polygon {
        coordinates: vec![vec![vec![
            [10.0, 100.0],
            [11.0, 100.0],
            [11.0, 101.0],
            [10.0, 100.0],
        ]]],
    };
    assert!(matches!(
        resolver.resolve(&[lat_lon_swapped], None),
        Err(AreaError::BadPolygon(_))
    ));
    assert!(error_text_names_code());
}

fn error_text_names_code() -> bool {
    AreaError::UnknownCounty("06999".into())
        .to_string()
        .contains("06999")
}

#[test]
fn build_reports_every_dropped_provider() {
    let providers = vec![
        provider("ok", None, vec![counties(&["06019"])]),
        provider("bad-county", None, vec![counties(&["06019", "99999"])]),
        provider(
            "radius-no-location",
            None,
            vec![AreaSpec::Radius { radius_km: 5.0 }],
        ),
        provider("ok", None, vec![AreaSpec::Worldwide]),
    ];
    let (directory, rejections) = build(providers);
    assert_eq!(directory.len(), 1);
    assert_eq!(directory.get("ok").unwrap().service_area.len(), 1);
    let positions: Vec<usize> = rejections.iter().map(|r| r.input_index).collect();
    assert_eq!(positions, [1, 2, 3], "rejections name their input position");
    let got: Vec<(&str, &RejectionReason)> = rejections
        .iter()
        .map(|r| (r.provider_id.as_str(), &r.reason))
        .collect();
    assert_eq!(
        got,
        [
            (
                "bad-county",
                &RejectionReason::Area(AreaError::UnknownCounty("99999".into()))
            ),
            (
                "radius-no-location",
                &RejectionReason::Area(AreaError::RadiusWithoutLocation)
            ),
            ("ok", &RejectionReason::DuplicateId),
        ]
    );
}

#[test]
fn resolution_outside_3_to_8_is_an_error() {
    for resolution in [2, 9] {
        let options = IndexOptions {
            resolution,
            ..IndexOptions::default()
        };
        assert_eq!(
            Directory::build(Vec::new(), gazetteer(), options).err(),
            Some(IndexError::Resolution(resolution))
        );
    }
}

#[test]
fn attribute_bitsets() {
    let mut a = provider("a", None, vec![]);
    a.issues = vec!["sex_trafficking".into(), "domestic_violence".into()];
    a.languages = vec!["en".into(), "es".into()];
    a.populations = vec!["minors".into()];
    a.availability = Availability::Open24h;
    a.kind = Kind::Hotline;
    let mut b = provider("b", Some(pt(FRESNO)), vec![]);
    b.issues = vec!["sex_trafficking".into()];
    b.languages = vec!["es".into()];
    let (directory, _) = build(vec![a, b]);
    assert_eq!(
        directory
            .with_issue("sex_trafficking")
            .iter()
            .collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        directory
            .with_issue("domestic_violence")
            .iter()
            .collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(directory.with_issue("nonsense").count(), 0);
    assert_eq!(directory.with_language("es").count(), 2);
    assert_eq!(
        directory
            .with_population("minors")
            .iter()
            .collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(
        directory
            .with_kind(Kind::Hotline)
            .iter()
            .collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(
        directory
            .with_kind(Kind::ServiceProvider)
            .iter()
            .collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(directory.open_24h().iter().collect::<Vec<_>>(), [0]);
    assert_eq!(directory.located().iter().collect::<Vec<_>>(), [1]);
    let both = directory.with_language("es").and(directory.open_24h());
    assert_eq!(both.iter().collect::<Vec<_>>(), [0]);
}

#[test]
fn nearest_crosses_the_antimeridian() {
    // Two providers 0.1° either side of the antimeridian near American
    // Samoa's latitude, and one 1.5° away on the same side as the query.
    let providers = vec![
        provider("east", Some(at(-14.0, -179.95)), vec![]),
        provider("west", Some(at(-14.0, 179.95)), vec![]),
        provider("far", Some(at(-14.0, -178.3)), vec![]),
    ];
    let (directory, _) = build(providers);
    let hits = directory.nearest(Geometry::Exact, at(-14.0, 179.99), 3, None, |_| true);
    let ids: Vec<&str> = hits
        .iter()
        .map(|(i, _)| directory.providers()[*i as usize].id.as_str())
        .collect();
    assert_eq!(ids, ["west", "east", "far"]);
    assert!((hits[1].1 - at(-14.0, 179.99).distance_km(at(-14.0, -179.95))).abs() < 1e-6);
    assert!(directory
        .nearest(Geometry::Exact, at(0.0, 0.0), 0, None, |_| true)
        .is_empty());
    assert!(directory
        .nearest(Geometry::Exact, at(-14.0, 179.99), 3, Some(1.0), |_| true)
        .is_empty());
}

/// Positions biased towards the hard places: the poles and the antimeridian.
fn position() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        (-90.0f64..=90.0, -180.0f64..=180.0),
        (
            prop_oneof![80.0f64..=90.0, -90.0f64..=-80.0],
            -180.0f64..=180.0
        ),
        (
            -60.0f64..=60.0,
            prop_oneof![170.0f64..=180.0, -180.0f64..=-170.0]
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn nearest_equals_brute_force_haversine(
        points in proptest::collection::vec(position(), 1..300),
        query in position(),
        k in 1usize..20,
        modulus in 1u32..5,
        max_km in proptest::option::of(10.0f64..5_000.0),
    ) {
        let providers: Vec<Provider> = points
            .iter()
            .enumerate()
            .map(|(i, &(lat, lon))| provider(&format!("p{i}"), Some(at(lat, lon)), vec![]))
            .collect();
        let (directory, _) = build(providers);
        let query = at(query.0, query.1);
        let filter = |i: u32| i.is_multiple_of(modulus);
        let hits = directory.nearest(Geometry::Exact, query, k, max_km, filter);

        let mut brute: Vec<(u32, f64)> = (0..points.len() as u32)
            .filter(|&i| filter(i))
            .map(|i| (i, query.distance_km(directory.providers()[i as usize].location.unwrap())))
            .filter(|&(_, d)| max_km.is_none_or(|m| d <= m + 1e-6))
            .collect();
        brute.sort_by(|a, b| a.1.total_cmp(&b.1));
        brute.truncate(k);

        // Same count (allowing a hit exactly at the max_km edge to differ by rounding).
        prop_assert!(hits.len().abs_diff(brute.len()) <= usize::from(max_km.is_some()));
        for (hit, expected) in hits.iter().zip(&brute) {
            prop_assert!(filter(hit.0));
            prop_assert!((hit.1 - expected.1).abs() < 1e-6, "{hit:?} vs {expected:?}");
            let own = query.distance_km(directory.providers()[hit.0 as usize].location.unwrap());
            prop_assert!((hit.1 - own).abs() < 1e-6);
        }
        prop_assert!(hits.windows(2).all(|w| w[0].1 <= w[1].1), "not sorted: {hits:?}");
        if let Some(max) = max_km {
            prop_assert!(hits.iter().all(|h| h.1 <= max));
        }
    }
}

/// Providers with random radius areas and the sample's regions, for the
/// differential test of `covering` against the exact part-by-part check.
fn mixed() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let mut seed = 42u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let regions = [
            states(&["CA"]),
            states(&["NV", "AZ"]),
            counties(&["06019"]),
            counties(&["06037", "06029"]),
            AreaSpec::Countries {
                codes: vec!["MX".into()],
            },
            AreaSpec::Nationwide {
                country: "US".into(),
            },
        ];
        let mut providers = Vec::new();
        for i in 0..400 {
            // Around the US south-west, where the test points fall.
            let location = at(30.0 + 12.0 * next(), -125.0 + 17.0 * next());
            let area = if i % 2 == 0 {
                vec![AreaSpec::Radius {
                    radius_km: 5.0 + 300.0 * next(),
                }]
            } else {
                vec![regions[i / 2 % regions.len()].clone()]
            };
            providers.push(provider(&format!("m{i}"), Some(location), area));
        }
        build(providers).0
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn covering_equals_exact_check(lat in 28.0f64..44.0, lon in -127.0f64..-106.0) {
        let g = gazetteer();
        let directory = mixed();
        let point = at(lat, lon);
        let place = g.reverse(point);
        let trusted: Vec<String> = [
            place.county_fips.as_ref().map(|f| format!("county:{f}")),
            place.region.as_ref().map(|r| format!("state:{r}")),
            place.country.as_ref().map(|c| format!("country:{c}")),
        ].into_iter().flatten().collect();
        let expected: Vec<u32> = (0..directory.len() as u32)
            .filter(|&i| {
                let area = directory.area(Geometry::Exact, i).unwrap();
                area.covers(point, place.country.as_deref())
                    || area.parts().iter().any(|p| matches!(p, AreaPart::Shared(r) if trusted.iter().any(|k| k == r.key())))
            })
            .collect();
        prop_assert_eq!(directory.covering_in(Geometry::Exact, point, &place), expected);
    }
}

/// Regression for the outline-sampled tiling: user polygons have no
/// reverse-geocoding fallback, so every point inside one must reach it
/// through the H3 cells. California's county outlines, given as polygons,
/// are checked against the exact test at dense fixed-seed points.
#[test]
fn polygon_cells_leave_no_holes() {
    let g = gazetteer();
    let mut providers = Vec::new();
    for county in g.counties().iter().filter(|c| c.state == "CA") {
        let coordinates: Vec<Vec<Vec<[f64; 2]>>> = county
            .shape
            .0
            .iter()
            .map(|polygon| {
                std::iter::once(polygon.exterior())
                    .chain(polygon.interiors())
                    .map(|ring| ring.coords().map(|c| [c.x, c.y]).collect())
                    .collect()
            })
            .collect();
        providers.push(provider(
            &format!("poly-{}", county.fips),
            None,
            vec![AreaSpec::Polygon { coordinates }],
        ));
    }
    let (directory, rejected) = build(providers);
    assert!(rejected.is_empty(), "{rejected:?}");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut checked = 0;
    for _ in 0..4_000 {
        let point = at(32.5 + 9.5 * next(), -124.5 + 10.5 * next());
        let place = g.reverse(point);
        let expected: Vec<u32> = (0..directory.len() as u32)
            .filter(|&i| {
                directory
                    .area(Geometry::Exact, i)
                    .is_some_and(|a| a.covers(point, None))
            })
            .collect();
        checked += usize::from(!expected.is_empty());
        assert_eq!(
            directory.covering_in(Geometry::Exact, point, &place),
            expected,
            "at {point}"
        );
    }
    assert!(
        checked > 1_000,
        "most points should fall in some county: {checked}"
    );
}

/// Providers at `points`, every third one confidential (not public), every
/// fifth public with a confidential location; each with a radius area.
fn mixed_visibility(points: &[(f64, f64)], radius_km: f64) -> Vec<Provider> {
    points
        .iter()
        .enumerate()
        .map(|(i, &(lat, lon))| {
            let mut p = provider(
                &format!("p{i}"),
                Some(at(lat, lon)),
                vec![AreaSpec::Radius { radius_km }],
            );
            if i % 3 == 1 {
                p.visibility = crate::model::Visibility::Confidential;
            }
            if i % 5 == 2 {
                p.location_confidential = true;
            }
            p
        })
        .collect()
}

/// A point within `km` of `point` that has the same coarsened point:
/// somewhere else the public cannot tell apart.
fn elsewhere_in_cell(point: LatLng, east_km: f64, north_km: f64) -> LatLng {
    let moved = at(
        (point.lat() + north_km / 111.2).clamp(-89.9, 89.9),
        point.lon() + east_km / (111.2 * point.lat().to_radians().cos().max(0.1)),
    );
    if coarsen(moved) == coarsen(point) {
        moved
    } else {
        point
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Public geometry against a brute-force oracle: the nearest public
    /// records by the distance to the point the public is shown, and the
    /// records whose re-centred radius covers the point.
    #[test]
    fn public_geometry_equals_brute_force_over_public_points(
        points in proptest::collection::vec((30.0f64..45.0, -120.0f64..-80.0), 1..200),
        query in (30.0f64..45.0, -120.0f64..-80.0),
        k in 1usize..15,
        radius_km in 5.0f64..300.0,
    ) {
        let (directory, _) = build(mixed_visibility(&points, radius_km));
        let query = at(query.0, query.1);
        let shown = |i: u32| {
            let p = &directory.providers()[i as usize];
            let at = p.location.unwrap();
            if p.location_confidential { coarsen(at) } else { at }
        };
        let public: Vec<u32> = (0..directory.len() as u32)
            .filter(|&i| directory.providers()[i as usize].is_public())
            .collect();

        let hits = directory.nearest(Geometry::Public, query, k, None, |_| true);
        let mut brute: Vec<(u32, f64)> = public.iter().map(|&i| (i, query.distance_km(shown(i)))).collect();
        brute.sort_by(|a, b| a.1.total_cmp(&b.1));
        brute.truncate(k);
        prop_assert_eq!(hits.len(), brute.len());
        for (hit, expected) in hits.iter().zip(&brute) {
            prop_assert!(public.contains(&hit.0));
            prop_assert!((hit.1 - expected.1).abs() < 1e-6, "{:?} vs {:?}", hit, expected);
            prop_assert_eq!(directory.location(Geometry::Public, hit.0), Some(shown(hit.0)));
        }

        let place = gazetteer().reverse(query);
        let covering: Vec<u32> = public
            .iter()
            .copied()
            .filter(|&i| shown(i).distance_km(query) <= radius_km)
            .collect();
        prop_assert_eq!(directory.covering_in(Geometry::Public, query, &place), covering);
        for i in 0..directory.len() as u32 {
            let area = directory.area(Geometry::Public, i);
            prop_assert_eq!(area.is_some(), public.contains(&i));
        }
    }

    /// Non-inferability: two directories that differ only in what the
    /// public must not learn (a confidential location moved within its
    /// coarse cell, a confidential record moved anywhere) answer every
    /// public query identically, distances included. The exact geometry
    /// does tell them apart, so the test can fail.
    #[test]
    fn public_answers_do_not_depend_on_hidden_points(
        points in proptest::collection::vec((30.0f64..45.0, -120.0f64..-80.0), 5..150),
        moves in proptest::collection::vec((-4.0f64..4.0, -4.0f64..4.0), 150),
        queries in proptest::collection::vec((30.0f64..45.0, -120.0f64..-80.0), 10),
        radius_km in 5.0f64..200.0,
    ) {
        let original = mixed_visibility(&points, radius_km);
        let mut moved = original.clone();
        for (p, &(east, north)) in moved.iter_mut().zip(&moves) {
            let Some(location) = p.location else { continue };
            if !p.is_public() {
                p.location = Some(at(
                    (location.lat() + north).clamp(-89.0, 89.0),
                    location.lon() + east,
                ));
            } else if p.location_confidential {
                p.location = Some(elsewhere_in_cell(location, east, north));
            }
        }
        let (a, _) = build(original);
        let (b, _) = build(moved);
        let mut exact_differs = false;
        for &(lat, lon) in &queries {
            let query = at(lat, lon);
            let place = gazetteer().reverse(query);
            for k in [1, 5, 50] {
                prop_assert_eq!(
                    a.nearest(Geometry::Public, query, k, Some(500.0), |_| true),
                    b.nearest(Geometry::Public, query, k, Some(500.0), |_| true)
                );
            }
            exact_differs |= a.nearest(Geometry::Exact, query, a.len(), None, |_| true)
                != b.nearest(Geometry::Exact, query, b.len(), None, |_| true);
            prop_assert_eq!(
                a.covering_in(Geometry::Public, query, &place),
                b.covering_in(Geometry::Public, query, &place)
            );
        }
        for i in 0..a.len() as u32 {
            prop_assert_eq!(a.location(Geometry::Public, i), b.location(Geometry::Public, i));
        }
        let hidden_moved = a
            .providers()
            .iter()
            .zip(b.providers())
            .any(|(x, y)| x.location != y.location);
        prop_assert!(hidden_moved && exact_differs, "the exact geometry tells them apart");
    }
}
