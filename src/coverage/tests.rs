//! Unit tests of the coverage module: 2SFCA by hand, figures on a small
//! hand-built directory over the bundled gazetteer, the greedy siting
//! against a brute-force choice, parsing.

use super::*;
use crate::cancel::Cancel;
use crate::gazetteer::Gazetteer;
use crate::index::{Directory, Geometry, IndexOptions};
use crate::matching::Terms;
use crate::model::{AreaSpec, Availability, Kind, LatLng, Provider, Visibility, Vocabulary};
use std::collections::HashSet;
use std::sync::OnceLock;

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap())
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::bundled().unwrap())
}

fn at(lat: f64, lon: f64) -> LatLng {
    LatLng::new(lat, lon).unwrap()
}

fn provider(id: &str, kind: Kind, location: Option<LatLng>, area: Vec<AreaSpec>) -> Provider {
    Provider {
        id: id.into(),
        name: format!("Test provider {id}"),
        organization: None,
        kind,
        issues: vec!["labor_trafficking".into()],
        services: Vec::new(),
        populations: Vec::new(),
        languages: vec!["es".into()],
        availability: Availability::Open24h,
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

const FRESNO: (f64, f64) = (36.7378, -119.7871);

/// A provider in Fresno serving Fresno County, a national hotline located
/// in Los Angeles, and a sex-trafficking-only provider in Maine.
fn directory() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let mut maine = provider(
            "maine",
            Kind::ServiceProvider,
            Some(at(44.3106, -69.7795)),
            vec![AreaSpec::States {
                codes: vec!["ME".into()],
            }],
        );
        maine.issues = vec!["sex_trafficking".into()];
        let providers = vec![
            provider(
                "fresno",
                Kind::ServiceProvider,
                Some(at(FRESNO.0, FRESNO.1)),
                vec![AreaSpec::Counties {
                    fips: vec!["06019".into()],
                }],
            ),
            provider(
                "hotline",
                Kind::Hotline,
                Some(at(34.0522, -118.2437)),
                vec![AreaSpec::Nationwide {
                    country: "US".into(),
                }],
            ),
            maine,
        ];
        let (directory, rejected) =
            Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        directory
    })
}

fn parse(
    params: &[(&str, &str)],
    purpose: Purpose,
) -> Result<CoverageQuery, crate::matching::QueryError> {
    let terms = Terms {
        vocabulary: vocabulary(),
        gazetteer: gazetteer(),
    };
    CoverageQuery::parse(params.iter().copied(), &[], purpose, &terms)
}

fn labor(by: &str) -> CoverageQuery {
    parse(
        &[("by", by), ("issue", "labor_trafficking")],
        Purpose::Report,
    )
    .unwrap()
}

fn figures_of<'r>(report: &'r Report<'_>, id: &str) -> &'r RegionFigures {
    let at = report.units.iter().position(|u| u.id == id).unwrap();
    &report.figures[at]
}

#[test]
fn two_step_fca_matches_a_three_region_case_by_hand() {
    // Three towns on the equator: A at 0°, B at 0.5° E (55.6 km from A),
    // C at 2° E (222 km from A). Providers at A and C; catchment 60 km.
    let (a, b, c) = (at(0.0, 0.0), at(0.0, 0.5), at(0.0, 2.0));
    let demand = [(a, 10_000.0), (b, 20_000.0), (c, 5_000.0)];
    let supply = [a, c];
    let ab = a.distance_km(b);
    assert!((ab - 55.6).abs() < 0.1, "{ab}");

    // Binary (Luo and Wang 2003): R_A = 1/(10,000 + 20,000), R_C = 1/5,000.
    let binary = two_step_fca(&demand, &supply, 60.0, Decay::Binary, 2);
    let per_100k: Vec<f64> = binary.iter().map(|x| x * 100_000.0).collect();
    assert!(
        (per_100k[0] - 100_000.0 / 30_000.0).abs() < 1e-9,
        "{per_100k:?}"
    );
    assert!(
        (per_100k[1] - 100_000.0 / 30_000.0).abs() < 1e-9,
        "{per_100k:?}"
    );
    assert!((per_100k[2] - 20.0).abs() < 1e-9, "{per_100k:?}");

    // Gaussian (Dai 2010): B counts W(55.6 km) of its people at A's provider.
    let edge = (-0.5f64).exp();
    let w = ((-0.5 * (ab / 60.0).powi(2)).exp() - edge) / (1.0 - edge);
    let r_a = 1.0 / (10_000.0 + 20_000.0 * w);
    let gaussian = two_step_fca(&demand, &supply, 60.0, Decay::Gaussian, 1);
    assert!((gaussian[0] - r_a).abs() < 1e-15, "{gaussian:?}");
    assert!((gaussian[1] - r_a * w).abs() < 1e-15, "{gaussian:?}");
    assert!((gaussian[2] - 1.0 / 5_000.0).abs() < 1e-15, "{gaussian:?}");
    // Every provider's supply is handed out in full.
    let handed: f64 = gaussian.iter().zip(&demand).map(|(a, (_, p))| a * p).sum();
    assert!((handed - 2.0).abs() < 1e-9, "{handed}");
}

#[test]
fn county_report_has_every_county_once_and_the_right_gap_classes() {
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &labor("county"),
        2,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(report.units.len(), gazetteer().counties().len());
    let ids: HashSet<&str> = report.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), report.units.len(), "a county appears twice");
    // The hotline is not on the ground; the Maine provider has another issue.
    assert_eq!(report.matching_providers, 1);

    let fresno = figures_of(&report, "06019");
    assert_eq!(fresno.providers_serving, 1);
    assert_eq!(fresno.gap, Gap::Served);
    assert_eq!(fresno.unserved_population, 0);

    // Los Angeles: nobody serves it, Fresno is ~300 km away.
    let la = figures_of(&report, "06037");
    assert_eq!(la.providers_serving, 0);
    assert_eq!(la.gap, Gap::Far);
    assert_eq!(la.unserved_population, la.population);
    // nearest_km is the population-weighted mean over LA's people points.
    let unit = report.units.iter().find(|u| u.id == "06037").unwrap();
    let fresno_at = at(FRESNO.0, FRESNO.1);
    let total: f64 = unit.people.iter().map(|p| p.weight).sum();
    let expected: f64 = unit
        .people
        .iter()
        .map(|p| p.weight * p.point.distance_km(fresno_at))
        .sum::<f64>()
        / total;
    let got = la.nearest_km.unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    assert!((250.0..400.0).contains(&got), "{got}");
    assert!((total - la.population as f64).abs() < 1.0);

    // Aroostook, Maine: over 2,000 km from the only matching provider.
    assert_eq!(figures_of(&report, "23003").gap, Gap::None);

    // Madera borders Fresno: not served by an area, but within 60 km.
    let madera = figures_of(&report, "06039");
    assert_eq!(madera.providers_serving, 0);
    assert!(madera.nearest_km.unwrap() <= 60.0, "{madera:?}");
    assert_eq!(madera.gap, Gap::Served);

    let counts = report.gap_counts();
    assert_eq!(
        counts.iter().map(|(_, n)| n).sum::<usize>(),
        report.units.len()
    );
}

#[test]
fn hotlines_count_only_when_asked() {
    let mut query = labor("state");
    query.include_hotlines = true;
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &query,
        2,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(report.units.len(), gazetteer().states().len());
    // The nationwide US hotline serves every state and territory.
    for (unit, f) in report.units.iter().zip(&report.figures) {
        assert!(f.providers_serving >= 1, "{} {f:?}", unit.id);
        assert_eq!(f.gap, Gap::Served, "{}", unit.id);
    }
    assert_eq!(figures_of(&report, "CA").providers_serving, 2);
    // The state's population is the sum of its counties'.
    let ca: u64 = gazetteer()
        .counties()
        .iter()
        .filter(|c| c.state == "CA")
        .filter_map(|c| c.population)
        .sum();
    assert_eq!(figures_of(&report, "CA").population, ca);
}

#[test]
fn a_need_nobody_meets_leaves_every_region_without_help() {
    let query = parse(&[("by", "country"), ("language", "uk")], Purpose::Report).unwrap();
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &query,
        2,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(report.units.len(), gazetteer().countries().len());
    assert_eq!(report.matching_providers, 0);
    assert!(report
        .figures
        .iter()
        .all(|f| f.gap == Gap::None && f.nearest_km.is_none()));
    assert!(report.figures.iter().all(|f| f.access_per_100k == 0.0));
}

#[test]
fn h3_cells_of_a_bbox_appear_once_and_cover_the_places() {
    let query = parse(
        &[
            ("by", "h3"),
            ("resolution", "5"),
            ("bbox", "-120.5,36,-119,37.5"),
            ("issue", "labor_trafficking"),
        ],
        Purpose::Report,
    )
    .unwrap();
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &query,
        2,
        &Cancel::new(),
    )
    .unwrap();
    let ids: HashSet<&str> = report.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), report.units.len());
    assert!(report.units.len() > 50, "{}", report.units.len());
    // The cell holding Fresno is served.
    let cell = h3o::LatLng::new(FRESNO.0, FRESNO.1)
        .unwrap()
        .to_cell(h3o::Resolution::Five)
        .to_string();
    assert_eq!(figures_of(&report, &cell).gap, Gap::Served);
    assert!(figures_of(&report, &cell).population > 400_000);
}

#[test]
fn too_many_cells_is_refused_before_tiling() {
    let query = parse(&[("by", "h3"), ("resolution", "8")], Purpose::Report).unwrap();
    assert!(matches!(
        report(
            gazetteer(),
            directory(),
            vocabulary(),
            &query,
            1,
            &Cancel::new()
        ),
        Err(CoverageError::TooManyCells { resolution: 8, .. })
    ));
}

#[test]
fn greedy_first_site_is_the_best_single_site() {
    let query = parse(
        &[
            ("by", "state"),
            ("issue", "labor_trafficking"),
            ("sites", "5"),
        ],
        Purpose::Suggest,
    )
    .unwrap();
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &query,
        2,
        &Cancel::new(),
    )
    .unwrap();
    let suggestion = suggest(&report, gazetteer(), 2, &Cancel::new()).unwrap();
    assert_eq!(suggestion.sites.len(), 5);
    // Brute force over every candidate for the first pick.
    let places = gazetteer().places();
    let mut best = 0.0f64;
    let mut seen = HashSet::new();
    for unit in &report.units {
        for p in unit.people.iter().filter_map(|p| p.place) {
            if !seen.insert(p) || places[p as usize].population == 0 {
                continue;
            }
            let site = places[p as usize].point;
            let gain: f64 = report
                .unserved
                .iter()
                .filter(|u| u.point.distance_km(site) <= query.threshold_km)
                .map(|u| u.weight)
                .sum();
            best = best.max(gain);
        }
    }
    let first = &suggestion.sites[0];
    assert!(
        (first.population_added as f64 - best).abs() <= 1.0,
        "{first:?} vs {best}"
    );
    for pair in suggestion.sites.windows(2) {
        assert!(
            pair[0].population_added >= pair[1].population_added,
            "{pair:?}"
        );
        assert_eq!(
            pair[1].cumulative_population,
            pair[0].cumulative_population + pair[1].population_added
        );
    }
    assert_eq!(
        suggestion.unserved_after,
        suggestion.unserved_before - suggestion.sites[4].cumulative_population
    );
}

#[test]
fn parse_rejects_what_it_does_not_know() {
    let bad: &[(&[(&str, &str)], &str)] = &[
        (&[("by", "zip")], "by"),
        (&[("by", "h3"), ("resolution", "9")], "resolution"),
        (&[("by", "county"), ("resolution", "5")], "resolution"),
        (&[("by", "h3"), ("bbox", "1,2,3")], "bbox"),
        (&[("by", "h3"), ("bbox", "10,1,5,1")], "bbox"),
        (&[("issue", "nonsense")], "issue"),
        (&[("language", "klingon")], "language"),
        (&[("threshold_km", "0")], "threshold_km"),
        (&[("threshold_km", "nan")], "threshold_km"),
        (&[("catchment_km", "900")], "catchment_km"),
        (&[("tolerance", "-1")], "tolerance"),
        (&[("decay", "linear")], "decay"),
        (&[("kind", "wizard")], "kind"),
        (&[("open_24h", "maybe")], "open_24h"),
        (&[("sites", "3")], "sites"),
        (&[("by", "state"), ("by", "county")], "by"),
        (&[("colour", "red")], "colour"),
    ];
    for (params, parameter) in bad {
        let error = parse(params, Purpose::Report).unwrap_err();
        assert_eq!(error.parameter, *parameter, "{params:?}: {error}");
    }
    assert_eq!(
        parse(&[("sites", "0")], Purpose::Suggest)
            .unwrap_err()
            .parameter,
        "sites"
    );
    assert_eq!(
        parse(&[("sites", "101")], Purpose::Suggest)
            .unwrap_err()
            .parameter,
        "sites"
    );
    assert_eq!(
        parse(&[("tolerance", "0.1")], Purpose::Suggest)
            .unwrap_err()
            .parameter,
        "tolerance"
    );
    let ok = parse(
        &[
            ("issue", "trafficking"),
            ("language", "Spanish"),
            ("open_24h", "true"),
            ("exclude", "law_enforcement"),
        ],
        Purpose::Report,
    )
    .unwrap();
    assert_eq!(ok.regions, RegionSet::County);
    assert_eq!(ok.need.languages, ["es"]);
    let filter = ok.attribute_filter(vocabulary());
    assert_eq!(filter.issues_any.len(), 3, "{filter:?}");
    let kinds = filter.kinds.unwrap();
    assert!(!kinds.contains(&Kind::Hotline) && !kinds.contains(&Kind::LawEnforcement));
}

#[test]
fn geojson_rings_follow_the_right_hand_rule() {
    let mut query = labor("state");
    query.tolerance_deg = 0.05;
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &query,
        2,
        &Cancel::new(),
    )
    .unwrap();
    let value = report.geojson(None);
    let text = serde_json::to_string(&value).unwrap();
    let parsed: geojson::GeoJson = text.parse().unwrap();
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        panic!("not a FeatureCollection");
    };
    assert_eq!(collection.features.len(), gazetteer().states().len());
    assert!(collection.foreign_members.unwrap().contains_key("metadata"));
    let mut rings = 0;
    for feature in &collection.features {
        let Some(geometry) = &feature.geometry else {
            continue;
        };
        let geojson::Value::MultiPolygon(polygons) = &geometry.value else {
            panic!("not a MultiPolygon");
        };
        for polygon in polygons {
            for (i, ring) in polygon.iter().enumerate() {
                assert!(ring.len() >= 4 && ring.first() == ring.last());
                let area: f64 = ring
                    .windows(2)
                    .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                    .sum();
                assert_eq!(
                    area > 0.0,
                    i == 0,
                    "ring {i} of {:?} winds the wrong way",
                    feature.id
                );
                assert!(ring
                    .iter()
                    .all(|p| (-180.0..=180.0).contains(&p[0]) && (-90.0..=90.0).contains(&p[1])));
                rings += 1;
            }
        }
    }
    assert!(rings > 56);
}

#[test]
fn tables_hold_one_row_per_region() {
    let report = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &labor("state"),
        1,
        &Cancel::new(),
    )
    .unwrap();
    let mut csv = Vec::new();
    report.write_table(TableFormat::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,name,kind,population,people_points,providers_serving,nearest_km,gap,unserved_population,access_per_100k,label_lat,label_lon"
    );
    assert_eq!(lines.count(), gazetteer().states().len());
    let mut parquet = Vec::new();
    report
        .write_table(TableFormat::Parquet, &mut parquet)
        .unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
}

/// The bundled hotlines and sample directory.
fn sample() -> &'static Directory {
    static SAMPLE: OnceLock<Directory> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let ingested = crate::ingest::Validator::new(gazetteer(), vocabulary()).read_bundled();
        Directory::build(ingested.providers, gazetteer(), IndexOptions::default())
            .unwrap()
            .0
    })
}

/// Does `area` cover `person` by the rule of `serving.rs`: shared regions
/// by the gazetteer's attribution of the point, the other parts exactly?
fn covers_by_attribution(area: &crate::index::ResolvedArea, person: &PeoplePoint) -> bool {
    use crate::index::AreaPart;
    area.parts().iter().any(|part| match part {
        AreaPart::Shared(region) => {
            let key = region.key();
            person
                .county_fips
                .as_ref()
                .is_some_and(|f| key == format!("county:{f}"))
                || person
                    .region
                    .as_ref()
                    .is_some_and(|r| key == format!("state:{r}"))
                || person
                    .country
                    .as_ref()
                    .is_some_and(|c| key == format!("country:{c}"))
        }
        AreaPart::Radius { center, radius_km } => center.distance_km(person.point) <= *radius_km,
        AreaPart::Polygon(region) => region.covers(person.point),
        AreaPart::Nationwide(code) => person
            .country
            .as_deref()
            .is_some_and(|c| crate::index::nationwide_countries(code).contains(&c)),
        AreaPart::Worldwide => true,
    })
}

#[test]
fn serving_counts_agree_with_covering_in_at_every_point() {
    let directory = sample();
    let kinds: HashSet<String> = directory
        .providers()
        .iter()
        .flat_map(|p| {
            p.service_area
                .iter()
                .map(|a| format!("{a:?}").chars().take(6).collect::<String>())
        })
        .collect();
    // The sample has region, radius, polygon, nationwide and worldwide areas.
    assert!(kinds.len() >= 4, "{kinds:?}");
    let mut border = 0;
    let mut pairs = 0;
    for params in [
        &[("by", "county"), ("issue", "trafficking")][..],
        &[("by", "state"), ("include_hotlines", "true")][..],
        &[
            ("by", "country"),
            ("include_hotlines", "true"),
            ("language", "es"),
        ][..],
    ] {
        let query = parse(params, Purpose::Report).unwrap();
        let report = report(
            gazetteer(),
            directory,
            vocabulary(),
            &query,
            2,
            &Cancel::new(),
        )
        .unwrap();
        let filter = directory.compile(&query.attribute_filter(vocabulary()));
        for (unit, figures) in report.units.iter().zip(&report.figures) {
            // Every provider the index finds at some people point...
            let mut found = HashSet::new();
            for person in &unit.people {
                for i in directory.covering_in(Geometry::Exact, person.point, &person.reverse()) {
                    if filter.accepts(i)
                        && (query.include_hotlines || directory.located().contains(i))
                    {
                        found.insert(i);
                    }
                }
            }
            // ...serves the region, except where only a point-in-polygon
            // test on the 1:10M outline of a region the gazetteer does not
            // place the point in says so (a place across a border river).
            let serving = found
                .iter()
                .filter(|&&i| {
                    let area = directory.area(Geometry::Exact, i).unwrap();
                    unit.people.iter().any(|p| covers_by_attribution(area, p))
                })
                .count();
            border += found.len() - serving;
            pairs += found.len();
            assert_eq!(
                figures.providers_serving, serving,
                "{params:?} {} {}",
                unit.id, unit.name
            );
        }
    }
    // Border places are few: under 5% of the provider-region pairs.
    assert!(
        border * 20 < pairs,
        "{border} of {pairs} provider-region pairs differ only at borders"
    );
}

/// A cancelled token stops every stage: regions, the report, the
/// suggestion and the streamed GeoJSON, each with the typed error.
#[test]
fn a_cancelled_request_stops_every_stage() {
    let cancelled = Cancel::new();
    assert!(cancelled.cancel());
    for by in ["state", "county", "country"] {
        assert_eq!(
            report(
                gazetteer(),
                directory(),
                vocabulary(),
                &labor(by),
                2,
                &cancelled
            )
            .err(),
            Some(CoverageError::Cancelled(crate::cancel::Cancelled)),
            "{by}"
        );
    }
    let h3 = parse(
        &[
            ("by", "h3"),
            ("resolution", "4"),
            ("bbox", "-125,32,-114,42"),
        ],
        Purpose::Report,
    )
    .unwrap();
    assert!(matches!(
        regions(gazetteer(), &h3.regions, &cancelled),
        Err(CoverageError::Cancelled(_))
    ));
    let done = report(
        gazetteer(),
        directory(),
        vocabulary(),
        &labor("state"),
        2,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(
        suggest(&done, gazetteer(), 2, &cancelled),
        Err(crate::cancel::Cancelled)
    );
    let mut body = Vec::new();
    assert!(matches!(
        done.write_geojson(None, &mut body, &cancelled),
        Err(CoverageError::Cancelled(_))
    ));
    // Not cancelled: the streamed body is the same document as the tree.
    let mut body = Vec::new();
    done.write_geojson(None, &mut body, &Cancel::new()).unwrap();
    let streamed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(streamed, done.geojson(None));
}

/// Sizing is an upper bound of what the report then holds, and the budget
/// names the parameter to change.
#[test]
fn size_bounds_the_report_and_the_budget_names_the_parameter() {
    for params in [
        &[("by", "county")][..],
        &[("by", "state")][..],
        &[("by", "country")][..],
        &[
            ("by", "h3"),
            ("resolution", "4"),
            ("bbox", "-125,32,-114,42"),
        ][..],
    ] {
        let query = parse(params, Purpose::Report).unwrap();
        let sized = size(gazetteer(), directory(), vocabulary(), &query).unwrap();
        let done = report(
            gazetteer(),
            directory(),
            vocabulary(),
            &query,
            2,
            &Cancel::new(),
        )
        .unwrap();
        let points: usize = done.units.iter().map(|u| u.people.len()).sum();
        assert!(
            sized.people_points >= points,
            "{params:?}: {sized:?} < {points}"
        );
        assert!(
            sized.regions * 10 >= done.units.len() * 9,
            "{params:?}: {sized:?}"
        );
        assert!(
            sized.matching_providers >= done.matching_providers,
            "{params:?}"
        );
    }
    let tight = Budget {
        max_regions: 10,
        ..Budget::default()
    };
    let query = parse(&[("by", "h3"), ("resolution", "4")], Purpose::Report).unwrap();
    let sized = size(gazetteer(), directory(), vocabulary(), &query).unwrap();
    assert!(matches!(
        tight.check(&query, Purpose::Report, &sized),
        Err(CoverageError::OverBudget {
            parameter: "resolution",
            ..
        })
    ));
    let query = parse(
        &[("by", "country"), ("threshold_km", "1000")],
        Purpose::Suggest,
    )
    .unwrap();
    let sized = size(gazetteer(), directory(), vocabulary(), &query).unwrap();
    assert!(Budget::default()
        .check(&query, Purpose::Report, &sized)
        .is_ok());
    assert!(matches!(
        Budget::default().check(&query, Purpose::Suggest, &sized),
        Err(CoverageError::OverBudget {
            parameter: "threshold_km",
            ..
        })
    ));
}
