//! The referral scenario benchmark: 182 callers an advocate could get,
//! across all 50 states, DC, the five inhabited territories and 35
//! countries, covering every issue code of the vocabulary, each asked once
//! as the public and once as staff, through `GET /v1/match` on the bundled
//! directory.
//!
//! Every answer is checked against the ranking principles of the README
//! ("How results are ranked"), written from the seed and the principles,
//! not from today's output:
//!
//! - **place**: the caller lands in the country (and US state) named;
//! - **prefix**: the answers at `limit` 3, 5 and 10 are the first results
//!   of the answer at 30;
//! - **tiers**: in-person results lie within the published reach, remote
//!   offices and farther ones beyond it, farther ones within 1,000 km;
//!   local, helpline and remote results serve the caller's area, nearby and
//!   farther ones do not; helplines are lines or have no location;
//! - **distance**: within a tier and a relaxed set, nothing ranks above a
//!   provider less than a third of its distance away, and `d / e^score`
//!   never falls;
//! - **national line**: when the directory holds, for this view, a line
//!   serving the caller's whole country for the need and passing the
//!   filters, one is in the top 3; where the seed names the line (the
//!   National Human Trafficking Hotline, the National Domestic Violence
//!   Hotline, Llama y Vive for Peru …), it is that line, and for trafficking
//!   in the US it is open 24 hours;
//! - **country**: a US caller never gets a foreign-only number; a caller
//!   abroad gets in-person help only in their own country;
//! - **view**: the public never gets a confidential record;
//! - **filters**: `exclude=law_enforcement` drops every law-enforcement
//!   record, and strict results speak the caller's language, interpret, or
//!   list no languages, while those that list others are relaxed.
//!
//! `cargo test --test scenarios -- --nocapture` prints the pass table
//! (the README's copy comes from it).

mod common;

use axum::http::StatusCode;
use refmatch::api::router;
use refmatch::index::nationwide_countries;
use refmatch::model::{AreaSpec, Kind, Provider};
use serde_json::Value;
use std::collections::BTreeMap;

/// A US place: "City, ST" and the state it must land in.
const US_PLACES: [(&str, &str); 51] = [
    ("Birmingham, AL", "AL"),
    ("Anchorage, AK", "AK"),
    ("Phoenix, AZ", "AZ"),
    ("Little Rock, AR", "AR"),
    ("Fresno, CA", "CA"),
    ("Denver, CO", "CO"),
    ("Hartford, CT", "CT"),
    ("Wilmington, DE", "DE"),
    ("Washington, DC", "DC"),
    ("Miami, FL", "FL"),
    ("Atlanta, GA", "GA"),
    ("Honolulu, HI", "HI"),
    ("Boise, ID", "ID"),
    ("Chicago, IL", "IL"),
    ("Indianapolis, IN", "IN"),
    ("Des Moines, IA", "IA"),
    ("Wichita, KS", "KS"),
    ("Louisville, KY", "KY"),
    ("New Orleans, LA", "LA"),
    ("Portland, ME", "ME"),
    ("Baltimore, MD", "MD"),
    ("Boston, MA", "MA"),
    ("Detroit, MI", "MI"),
    ("Minneapolis, MN", "MN"),
    ("Jackson, MS", "MS"),
    ("St. Louis, MO", "MO"),
    ("Billings, MT", "MT"),
    ("Omaha, NE", "NE"),
    ("Las Vegas, NV", "NV"),
    ("Manchester, NH", "NH"),
    ("Newark, NJ", "NJ"),
    ("Albuquerque, NM", "NM"),
    ("New York, NY", "NY"),
    ("Charlotte, NC", "NC"),
    ("Fargo, ND", "ND"),
    ("Columbus, OH", "OH"),
    ("Tulsa, OK", "OK"),
    ("Portland, OR", "OR"),
    ("Philadelphia, PA", "PA"),
    ("Providence, RI", "RI"),
    ("Charleston, SC", "SC"),
    ("Sioux Falls, SD", "SD"),
    ("Memphis, TN", "TN"),
    ("Houston, TX", "TX"),
    ("Salt Lake City, UT", "UT"),
    ("Burlington, VT", "VT"),
    ("Virginia Beach, VA", "VA"),
    ("Seattle, WA", "WA"),
    ("Charleston, WV", "WV"),
    ("Milwaukee, WI", "WI"),
    ("Cheyenne, WY", "WY"),
];

/// A territory: how a caller names it and its own country code.
const TERRITORIES: [(&str, &str); 5] = [
    ("San Juan, PR", "PR"),
    ("Hagatna, Guam", "GU"),
    ("Charlotte Amalie, VI", "VI"),
    ("Pago Pago, American Samoa", "AS"),
    ("Saipan, MP", "MP"),
];

/// A place abroad, as a caller says it, and its country.
const ABROAD: [(&str, &str); 35] = [
    ("Lima, Peru", "PE"),
    ("Kyiv, Ukraine", "UA"),
    ("Mexico City, Mexico", "MX"),
    ("Toronto, Canada", "CA"),
    ("London, England", "GB"),
    ("Manila, Philippines", "PH"),
    ("Bangkok, Thailand", "TH"),
    ("Lagos, Nigeria", "NG"),
    ("Moscow, Russia", "RU"),
    ("Warsaw, Poland", "PL"),
    ("Bucharest, Romania", "RO"),
    ("Guatemala City, Guatemala", "GT"),
    ("San Salvador, El Salvador", "SV"),
    ("Tegucigalpa, Honduras", "HN"),
    ("Managua, Nicaragua", "NI"),
    ("San Jose, Costa Rica", "CR"),
    ("Quito, Ecuador", "EC"),
    ("Bogota, Colombia", "CO"),
    ("Santo Domingo, Dominican Republic", "DO"),
    ("Port-au-Prince, Haiti", "HT"),
    ("New Delhi, India", "IN"),
    ("Dhaka, Bangladesh", "BD"),
    ("Kathmandu, Nepal", "NP"),
    ("Hanoi, Vietnam", "VN"),
    ("Beijing, China", "CN"),
    ("Seoul, South Korea", "KR"),
    ("Tokyo, Japan", "JP"),
    ("Nairobi, Kenya", "KE"),
    ("Accra, Ghana", "GH"),
    ("Cairo, Egypt", "EG"),
    ("Istanbul, Turkey", "TR"),
    ("Berlin, Germany", "DE"),
    ("Madrid, Spain", "ES"),
    ("Sao Paulo, Brazil", "BR"),
    ("Chisinau, Moldova", "MD"),
];

/// The national lines the seed names for a need, by issue, for callers in
/// the US and its territories (any one of them will do).
fn us_lines(issue: &str) -> &'static [&'static str] {
    match issue {
        "trafficking" | "sex_trafficking" | "labor_trafficking" => &["hotline-nhtrc"],
        "domestic_violence" => &["hotline-ndvh"],
        "sexual_assault" => &["hotline-rainn"],
        "child_abuse" => &["hotline-childhelp", "hotline-ncmec"],
        "missing_children" => &["hotline-ncmec"],
        "wage_and_hour" => &["hotline-dol-wage-and-hour"],
        "workplace_discrimination" => &["hotline-eeoc"],
        "lgbtq_support" => &["hotline-glbt-national-helpline"],
        "suicide_prevention" => &["hotline-national-suicide-prevention-lifeline"],
        "teen_dating_abuse" => &["hotline-national-teen-dating-abuse-helpline"],
        "emergency" => &["hotline-911"],
        _ => &[],
    }
}

/// The trafficking lines the seed names for callers in these countries.
fn foreign_lines(country: &str) -> &'static [&'static str] {
    match country {
        "PE" | "NI" | "SV" | "CR" | "EC" | "DO" => &["hotline-llama-y-vive"],
        "RU" => &["hotline-angel-coalition"],
        "PL" | "UA" => &["hotline-la-strada-international"],
        "MD" => &["hotline-angel-coalition", "hotline-la-strada-international"],
        _ => &[],
    }
}

const TRAFFICKING: [&str; 3] = ["trafficking", "sex_trafficking", "labor_trafficking"];

/// One caller.
#[derive(Debug, Clone)]
struct Scenario {
    near: &'static str,
    country: &'static str,
    state: Option<&'static str>,
    issue: &'static str,
    language: Option<&'static str>,
    exclude_police: bool,
    staff: bool,
}

impl Scenario {
    fn uri(&self, limit: usize) -> String {
        let mut uri = format!(
            "/v1/match?near={}&issue={}&limit={limit}&format=json",
            common::urlencode(self.near),
            self.issue
        );
        if let Some(language) = self.language {
            uri.push_str(&format!("&language={language}"));
        }
        if self.exclude_police {
            uri.push_str("&exclude=law_enforcement");
        }
        uri
    }

    fn in_us(&self) -> bool {
        self.country == "US" || TERRITORIES.iter().any(|(_, c)| *c == self.country)
    }
}

/// Every place twice: as the public with a trafficking need (a language
/// on every third, law enforcement excluded on every fourth), and as staff
/// with the issue codes in turn.
fn scenarios(issue_codes: &[&'static str]) -> Vec<Scenario> {
    let places: Vec<(&'static str, &'static str, Option<&'static str>)> = US_PLACES
        .iter()
        .map(|(near, state)| (*near, "US", Some(*state)))
        .chain(TERRITORIES.iter().map(|(near, c)| (*near, *c, None)))
        .chain(ABROAD.iter().map(|(near, c)| (*near, *c, None)))
        .collect();
    let mut all = Vec::new();
    for (n, (near, country, state)) in places.into_iter().enumerate() {
        all.push(Scenario {
            near,
            country,
            state,
            issue: TRAFFICKING[n % TRAFFICKING.len()],
            language: (n % 3 == 0).then_some(if n % 2 == 0 { "es" } else { "Spanish" }),
            exclude_police: n % 4 == 0,
            staff: false,
        });
        all.push(Scenario {
            near,
            country,
            state,
            issue: issue_codes[n % issue_codes.len()],
            language: (n % 5 == 0).then_some("ar"),
            exclude_police: false,
            staff: true,
        });
    }
    all
}

async fn fetch(app: &axum::Router, uri: &str, staff: bool) -> Value {
    let auth = staff.then(common::advocate_auth);
    let (status, bytes) = common::get_bytes(app, uri, auth.as_deref()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The properties, in table order.
const PROPERTIES: [&str; 8] = [
    "place",
    "prefix",
    "tiers",
    "distance",
    "national line",
    "country",
    "view",
    "filters",
];

/// What one scenario's answer got right: per property, `None` when it does
/// not apply, else the failures found (empty: passed).
type Checks = BTreeMap<&'static str, Option<Vec<String>>>;

fn ids(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `provider` passes the filters of `s` strictly (for the
/// national-line check): issue, exclude, view and language.
fn passes(s: &Scenario, issues: &[String], provider: &Provider) -> bool {
    let issue = provider
        .issues
        .iter()
        .any(|i| issues.contains(&i.to_string()));
    let police = provider.kind == Kind::LawEnforcement || provider.law_enforcement;
    let language = match s.language {
        None => true,
        Some(language) => {
            let code = if language == "Spanish" {
                "es"
            } else {
                language
            };
            provider.languages.iter().any(|l| l == code)
                || provider.languages.is_empty()
                || provider.services.iter().any(|x| x == "interpretation")
        }
    };
    issue && !(s.exclude_police && police) && (s.staff || provider.is_public()) && language
}

/// A line (hotline, or no location) whose area covers the whole country.
fn serves_whole_country(provider: &Provider, country: &str) -> bool {
    (provider.kind == Kind::Hotline || provider.location.is_none())
        && provider.service_area.iter().any(|area| match area {
            AreaSpec::Nationwide { country: code } => nationwide_countries(code).contains(&country),
            AreaSpec::Countries { codes } => codes.iter().any(|c| c == country),
            _ => false,
        })
}

fn check(
    s: &Scenario,
    answers: &[(usize, Value)],
    directory: &refmatch::index::Directory,
) -> Checks {
    let mut checks: Checks = BTreeMap::new();
    let (_, full) = answers.last().expect("the limit-30 answer");
    let query = &full["query"];
    let results: &[Value] = full["results"].as_array().map_or(&[], Vec::as_slice);
    let provider = |r: &Value| directory.get(r["id"].as_str().unwrap_or_default());
    let fail = |list: &mut Vec<String>, what: String| list.push(format!("{}: {what}", s.near));

    // place
    let mut place = Vec::new();
    if query["country"] != s.country {
        fail(&mut place, format!("landed in {}", query["country"]));
    }
    if let Some(state) = s.state {
        if query["region"] != state {
            fail(&mut place, format!("landed in state {}", query["region"]));
        }
    }
    checks.insert("place", Some(place));

    // prefix
    let mut prefix = Vec::new();
    let whole = ids(full);
    for (limit, answer) in &answers[..answers.len() - 1] {
        let got = ids(answer);
        let want: Vec<String> = whole.iter().take(*limit).cloned().collect();
        if got != want {
            fail(&mut prefix, format!("limit {limit}: {got:?} vs {want:?}"));
        }
    }
    checks.insert("prefix", Some(prefix));

    // tiers
    let reach = query["filters"]["reach_km"].as_f64().unwrap_or(f64::NAN);
    let mut tiers = Vec::new();
    for r in results {
        let tier = r["tier"].as_str().unwrap_or_default();
        let d = r["distance_km"].as_f64();
        let serves = r["serves_location"] == true;
        let hotline = r["kind"] == "hotline";
        // Published distances are rounded (to whole km for a confidential
        // location shown to the public); the reach to 0.1 km.
        let (near, far) = (
            d.is_some_and(|d| d <= reach + 0.6),
            d.is_some_and(|d| d > reach - 0.6),
        );
        let ok = match tier {
            "local" => serves && near && !hotline && r["in_person"] == true,
            "nearby" => !serves && near && !hotline && r["in_person"] == true,
            "helpline" => serves && (hotline || d.is_none()) && r["in_person"] == false,
            "remote" => serves && far && !hotline && r["in_person"] == false,
            "farther" => !serves && far && d.is_some_and(|d| d <= 1_000.5) && !hotline,
            _ => false,
        };
        if !ok {
            fail(
                &mut tiers,
                format!("{} as {tier} at {d:?} km, reach {reach}", r["id"]),
            );
        }
    }
    checks.insert("tiers", Some(tiers));

    // distance
    let mut distance = Vec::new();
    for (a, earlier) in results.iter().enumerate() {
        for later in &results[a + 1..] {
            if earlier["tier"] != later["tier"]
                || earlier["relaxed"] != later["relaxed"]
                || earlier["tier"] == "helpline"
            {
                continue;
            }
            let (Some(d1), Some(d2)) = (
                earlier["distance_km"].as_f64(),
                later["distance_km"].as_f64(),
            ) else {
                continue;
            };
            let (b1, b2) = (
                earlier["score"].as_f64().unwrap_or_default(),
                later["score"].as_f64().unwrap_or_default(),
            );
            if d2 < d1 / 3.0 - 0.5 || d2 / b2.exp() < d1 / b1.exp() - 0.5 {
                fail(
                    &mut distance,
                    format!(
                        "{} at {d1} km above {} at {d2} km",
                        earlier["id"], later["id"]
                    ),
                );
            }
        }
    }
    checks.insert("distance", Some(distance));

    // national line
    let issues: Vec<String> = query["filters"]["issues"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let available: Vec<&Provider> = directory
        .providers()
        .iter()
        .filter(|p| serves_whole_country(p, s.country) && passes(s, &issues, p))
        .collect();
    let named: &[&str] = if s.in_us() {
        us_lines(s.issue)
    } else if TRAFFICKING.contains(&s.issue) {
        foreign_lines(s.country)
    } else {
        &[]
    };
    let named: Vec<&str> = named
        .iter()
        .copied()
        .filter(|id| available.iter().any(|p| p.id == *id))
        .collect();
    if available.is_empty() {
        checks.insert("national line", None);
    } else {
        let mut line = Vec::new();
        let top: Vec<&Value> = results.iter().take(3).collect();
        match top.iter().find(|r| r["national_line"] == true) {
            None => fail(&mut line, "no national line in the top 3".to_owned()),
            Some(r) => {
                let id = r["id"].as_str().unwrap_or_default();
                if !available.iter().any(|p| p.id == id) {
                    fail(
                        &mut line,
                        format!("{id} is not a line for the whole country"),
                    );
                }
                if !named.is_empty() && !named.contains(&id) {
                    fail(&mut line, format!("{id} instead of {named:?}"));
                }
                if s.in_us() && TRAFFICKING.contains(&s.issue) && r["open_24h"] != true {
                    fail(&mut line, format!("{id} is not open 24 hours"));
                }
            }
        }
        checks.insert("national line", Some(line));
    }

    // country
    let mut country = Vec::new();
    for r in results {
        let numbers: Vec<&str> = r["phones"]
            .as_array()
            .map(|p| p.iter().filter_map(|x| x["country"].as_str()).collect())
            .unwrap_or_default();
        let listed = r["phones"].as_array().map_or(0, Vec::len);
        if s.in_us()
            && listed > 0
            && numbers.len() == listed
            && !numbers
                .iter()
                .any(|c| nationwide_countries("US").contains(c))
        {
            fail(
                &mut country,
                format!("{} has only foreign numbers", r["id"]),
            );
        }
        if !s.in_us() && r["in_person"] == true || r["tier"] == "farther" {
            let at = r["address"]["country"].as_str().unwrap_or_default();
            let home = if s.in_us() {
                nationwide_countries("US").contains(&at) || at.is_empty()
            } else {
                at == s.country || at.is_empty()
            };
            if !home {
                fail(&mut country, format!("{} in person in {at}", r["id"]));
            }
        }
    }
    checks.insert("country", Some(country));

    // view
    let mut view = Vec::new();
    if !s.staff {
        for r in results {
            if provider(r).is_none_or(|p| !p.is_public()) {
                fail(&mut view, format!("{} is not public", r["id"]));
            }
        }
    }
    checks.insert("view", Some(view));

    // filters
    let mut filters = Vec::new();
    let mut relaxed_seen = false;
    for r in results {
        let Some(p) = provider(r) else { continue };
        if s.exclude_police && (p.kind == Kind::LawEnforcement || p.law_enforcement) {
            fail(&mut filters, format!("{} is law enforcement", p.id));
        }
        if !p.issues.iter().any(|i| issues.contains(&i.to_string())) {
            fail(
                &mut filters,
                format!("{} does not handle {}", p.id, s.issue),
            );
        }
        let relaxed = r["relaxed"].as_array().is_some_and(|a| !a.is_empty());
        if relaxed {
            relaxed_seen = true;
        } else if relaxed_seen {
            fail(&mut filters, format!("{} strict after relaxed", p.id));
        }
        if s.language.is_some() {
            let fit = r["language"].as_str().unwrap_or_default();
            let language_relaxed = r["relaxed"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "language"));
            let ok = if language_relaxed {
                fit == "does_not"
            } else {
                matches!(fit, "speaks" | "interpreter" | "unknown")
            };
            if !ok {
                fail(&mut filters, format!("{} language {fit}", p.id));
            }
        }
    }
    checks.insert("filters", Some(filters));
    checks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_answers_as_the_ranking_principles_say() {
    let fixture = common::fixture();
    let app = router(fixture.state.clone());
    let snapshot = fixture.state.live.snapshot();
    let directory = &snapshot.directory;
    let vocabulary = refmatch::model::Vocabulary::bundled().expect("vocabulary");
    let issue_codes: Vec<&'static str> = vocabulary
        .issues
        .into_iter()
        .map(|t| &*t.code.leak())
        .collect();
    let all = scenarios(&issue_codes);
    assert!(all.len() >= 150);
    let mut passed: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut by_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut issues_seen = std::collections::BTreeSet::new();
    for s in &all {
        let mut answers = Vec::new();
        for limit in [3, 5, 10, 30] {
            answers.push((limit, fetch(&app, &s.uri(limit), s.staff).await));
        }
        issues_seen.insert(s.issue);
        let checks = check(s, &answers, directory);
        let mut all_ok = true;
        for (property, outcome) in checks {
            let entry = passed.entry(property).or_default();
            if let Some(found) = outcome {
                entry.0 += 1;
                if found.is_empty() {
                    entry.1 += 1;
                } else {
                    all_ok = false;
                    failures.extend(found.into_iter().map(|f| format!("[{property}] {f}")));
                }
            }
        }
        let group = match (s.in_us(), s.country, s.staff) {
            (true, "US", false) => "50 states + DC, public",
            (true, "US", true) => "50 states + DC, staff",
            (true, _, false) => "territories, public",
            (true, _, true) => "territories, staff",
            (false, _, false) => "abroad, public",
            (false, _, true) => "abroad, staff",
        };
        let entry = by_group.entry(group).or_default();
        entry.0 += 1;
        entry.1 += usize::from(all_ok);
    }
    println!("| property | scenarios it applies to | passed |");
    println!("| --- | ---: | ---: |");
    for property in PROPERTIES {
        let (applies, ok) = passed.get(property).copied().unwrap_or_default();
        println!("| {property} | {applies} | {ok} |");
    }
    println!();
    println!("| callers | scenarios | all properties pass |");
    println!("| --- | ---: | ---: |");
    for (group, (count, ok)) in &by_group {
        println!("| {group} | {count} | {ok} |");
    }
    println!(
        "| **all** | **{}** | **{}** |",
        all.len(),
        by_group.values().map(|v| v.1).sum::<usize>()
    );
    assert_eq!(
        issues_seen.len(),
        issue_codes.len(),
        "every issue code is asked"
    );
    let (national, _) = passed.get("national line").copied().unwrap_or_default();
    assert!(
        national >= 100,
        "the national-line rule applies to most scenarios: {national}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
