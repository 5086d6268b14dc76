//! `data/hotlines.json` holds every national and international hotline named
//! on the seed page `referral-database.txt`, as `Provider` records; these
//! tests pin the page's facts.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use refmatch::model::{
    dial_digits, AreaSpec, Availability, Kind, PhoneKind, Provider, Visibility, Vocabulary,
};
use std::collections::{HashMap, HashSet};

/// The `source` of facts from the seed page.
const SEED: &str = "seed:referral-database.txt";

/// The `services` entry that says a line has an interpreting service for
/// languages it does not list.
const INTERPRETATION: &str = "interpretation";

fn hotlines() -> Vec<Provider> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/hotlines.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Vec<Provider>>(&text).unwrap()
}

fn by_id<'a>(all: &'a [Provider], id: &str) -> &'a Provider {
    all.iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no record with id {id}"))
}

fn by_name<'a>(all: &'a [Provider], name: &str) -> &'a Provider {
    all.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no record named {name}"))
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn is_us_national(p: &Provider) -> bool {
    p.service_area
        == [AreaSpec::Nationwide {
            country: "US".into(),
        }]
}

/// Every hotline the page names, as the page names it.
const PAGE_NAMES: [&str; 20] = [
    "National Human Trafficking Resource Center (NHTRC)",
    "Trafficking in Persons and Worker Exploitation Task Force Line",
    "National Center for Missing and Exploited Children (NCMEC) National Hotline",
    "911 – Local Emergency Number",
    "Childhelp National Child Abuse Hotline",
    "Covenant House NineLine",
    "DOL Wage and Hour Line",
    "Equal Employment Opportunity Commission Hotline (EEOC)",
    "Gay, Lesbian, Bisexual, and Transsexual (GLBT) National Helpline",
    "National Center for Victims of Crime",
    "National Domestic Violence Hotline",
    "National Runaway Switchboard",
    "National Sexual Assault Hotline",
    "National Suicide Prevention Lifeline",
    "National Teen Dating Abuse Helpline",
    "Self Reliance Foundation Linea de Ayuda",
    "Llama y Vive",
    "The Angel Coalition",
    "Crimestoppers/Blue Blindfold",
    "La Strada International",
];

/// The record for a hotline the page names: by that name, or, where the
/// page is dated and the record carries the current name, by the page's
/// text kept in its description (`listed as "NAME`).
fn page_records<'a>(all: &'a [Provider], page_name: &str) -> Vec<&'a Provider> {
    let listed = format!("listed as \"{page_name}");
    all.iter()
        .filter(|p| {
            p.name == page_name
                || p.description
                    .as_deref()
                    .is_some_and(|d| d.contains(&listed))
        })
        .collect()
}

#[test]
fn every_page_hotline_is_one_record() {
    let all = hotlines();
    assert_eq!(all.len(), PAGE_NAMES.len(), "one record per page hotline");
    for name in PAGE_NAMES {
        let count = page_records(&all, name).len();
        assert_eq!(count, 1, "{name} should appear exactly once");
    }
}

/// Where the seed page is dated, the current public facts stand beside
/// its text, each with its source.
#[test]
fn dated_seed_facts_have_current_ones_beside_them_with_their_source() {
    let all = hotlines();
    let nhth = by_id(&all, "hotline-nhtrc");
    assert_eq!(nhth.name, "National Human Trafficking Hotline");
    assert!(nhth.source.contains("humantraffickinghotline.org"));
    assert_eq!(
        page_records(&all, "National Human Trafficking Resource Center (NHTRC)")[0].id,
        nhth.id,
        "the page's name is kept"
    );
    let lifeline = by_id(&all, "hotline-national-suicide-prevention-lifeline");
    assert_eq!(lifeline.name, "988 Suicide & Crisis Lifeline");
    assert!(lifeline.source.contains("988lifeline.org"));
    for kind in [PhoneKind::Voice, PhoneKind::Text] {
        let phone = lifeline
            .phones
            .iter()
            .find(|p| p.dial == "988" && p.kind == kind)
            .unwrap_or_else(|| panic!("988 as {kind:?}"));
        assert!(phone.note.as_deref().unwrap().contains("988lifeline.org"));
    }
    assert_eq!(
        lifeline.phones.first().map(|p| p.dial.as_str()),
        Some("988"),
        "the current number first"
    );
    assert!(
        lifeline.phones.iter().any(|p| p.dial == "18002738255"),
        "the page's number is kept (it still connects)"
    );
    // Every fact not from the page names where it comes from.
    for p in &all {
        if p.source != SEED {
            assert!(
                p.source.starts_with(&format!("{SEED}; https://")),
                "{}",
                p.id
            );
            assert!(
                p.description
                    .as_deref()
                    .unwrap()
                    .contains("Seed page (dated)"),
                "{}: the page's text is kept as a note",
                p.id
            );
        }
    }
}

/// Languages and interpreting services as the sources state them; an
/// interpreting service is the `interpretation` entry of `services`.
#[test]
fn languages_and_interpreting_services() {
    let all = hotlines();
    let mut interpreting: Vec<&str> = all
        .iter()
        .filter(|p| p.services.iter().any(|s| s == INTERPRETATION))
        .map(|p| p.id.as_str())
        .collect();
    interpreting.sort_unstable();
    assert_eq!(interpreting, ["hotline-dol-wage-and-hour", "hotline-nhtrc"]);
    let nhth = by_id(&all, "hotline-nhtrc");
    assert_eq!(nhth.languages, ["en", "es"]);
    assert!(nhth
        .description
        .as_deref()
        .unwrap()
        .contains("more than 200 additional languages"));
    let dol = by_id(&all, "hotline-dol-wage-and-hour");
    assert_eq!(dol.languages, ["en", "es"]);
    assert!(dol
        .description
        .as_deref()
        .unwrap()
        .contains("interpreting service for additional languages"));
}

#[test]
fn ids_are_unique_and_records_are_public_seed_data() {
    let all = hotlines();
    let mut seen = HashSet::new();
    for p in &all {
        assert!(seen.insert(p.id.as_str()), "duplicate id {}", p.id);
        assert!(p.id.starts_with("hotline-"), "{}", p.id);
        assert_eq!(p.visibility, Visibility::Public, "{}", p.id);
        assert!(p.source.starts_with(SEED), "{}", p.id);
        assert!(p.location.is_none(), "{}: hotlines have no place", p.id);
        assert!(p.verified_at.is_none(), "{}", p.id);
    }
}

#[test]
fn every_dial_follows_the_dial_rule() {
    for p in hotlines() {
        for phone in &p.phones {
            assert_eq!(
                phone.dial,
                dial_digits(&phone.number),
                "{}: {}",
                p.id,
                phone.number
            );
            assert!(!phone.dial.is_empty(), "{}: {}", p.id, phone.number);
            let country = phone.country.as_deref().unwrap();
            assert!(
                country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()),
                "{}: country {country}",
                p.id
            );
        }
    }
}

#[test]
fn vanity_numbers_keep_their_letters() {
    let all = hotlines();
    let childhelp = by_id(&all, "hotline-childhelp");
    assert_eq!(childhelp.phones[0].number, "1-800-4-A-CHILD");
    assert_eq!(childhelp.phones[0].dial, "18004224453");
    let dol = by_id(&all, "hotline-dol-wage-and-hour");
    assert_eq!(dol.phones[0].number, "866-4-US-WAGE");
    assert_eq!(dol.phones[0].dial, "8664879243");
    let rainn = by_id(&all, "hotline-rainn");
    assert_eq!(rainn.phones[0].dial, "8006564673");
    assert_eq!(
        rainn.organization.as_deref(),
        Some("Rape, Abuse & Incest National Network (RAINN)")
    );
}

#[test]
fn nhtrc_facts() {
    let all = hotlines();
    let nhtrc = by_id(&all, "hotline-nhtrc");
    assert_eq!(nhtrc.kind, Kind::Hotline);
    assert_eq!(nhtrc.organization.as_deref(), Some("Polaris"));
    assert!(nhtrc
        .phones
        .iter()
        .any(|p| p.number == "1-888-373-7888" && p.kind == PhoneKind::TollFree));
    assert!(nhtrc
        .phones
        .iter()
        .any(|p| p.dial == "233733" && p.kind == PhoneKind::Text));
    assert!(nhtrc.availability.is_open_24h());
    assert!(!nhtrc.law_enforcement, "the page says non-law enforcement");
    assert!(nhtrc.issues.contains(&"sex_trafficking".into()));
    assert!(nhtrc.issues.contains(&"labor_trafficking".into()));
    assert!(nhtrc.funder.as_deref().unwrap().contains("HHS"));
    assert!(is_us_national(nhtrc));
}

#[test]
fn task_force_line_is_federal_law_enforcement_on_weekdays() {
    let all = hotlines();
    let line = by_name(
        &all,
        "Trafficking in Persons and Worker Exploitation Task Force Line",
    );
    assert_eq!(line.kind, Kind::LawEnforcement);
    assert!(line.law_enforcement);
    assert_eq!(line.phones[0].number, "1-888-428-7581");
    assert_eq!(line.phones[0].kind, PhoneKind::TollFree);
    assert!(line.funder.as_deref().unwrap().contains("DOJ"));
    // Monday 2 March 2026, 10:00 EST = 15:00Z.
    assert_eq!(
        line.availability.is_open_at(at("2026-03-02T15:00:00Z")),
        Some(true)
    );
    // Same Monday, 17:30 EST: closed.
    assert_eq!(
        line.availability.is_open_at(at("2026-03-02T22:30:00Z")),
        Some(false)
    );
    // Saturday 7 March 2026, 10:00 EST: closed.
    assert_eq!(
        line.availability.is_open_at(at("2026-03-07T15:00:00Z")),
        Some(false)
    );
    assert!(line.availability != Availability::Unknown);
}

#[test]
fn emergency_number_is_law_enforcement() {
    let all = hotlines();
    let e = by_id(&all, "hotline-911");
    assert_eq!(e.kind, Kind::LawEnforcement);
    assert!(e.law_enforcement);
    assert_eq!(e.issues, ["emergency"]);
    assert_eq!(e.phones[0].dial, "911");
}

#[test]
fn only_the_page_law_enforcement_lines_are_law_enforcement() {
    let mut flagged: Vec<String> = hotlines()
        .into_iter()
        .filter(|p| p.law_enforcement)
        .map(|p| p.id.to_string())
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        ["hotline-911", "hotline-tip-worker-exploitation-task-force"]
    );
}

#[test]
fn llama_y_vive_has_one_phone_per_country() {
    let all = hotlines();
    let llama = by_id(&all, "hotline-llama-y-vive");
    assert!(llama
        .phones
        .iter()
        .any(|p| p.number == "0800-2-3232" && p.country.as_deref() == Some("PE")));
    let us = llama
        .phones
        .iter()
        .find(|p| p.country.as_deref() == Some("US"))
        .unwrap();
    assert_eq!(us.number, "1-888-NO-TRATA");
    assert_eq!(us.dial, "18886687282");
    assert!(us.note.as_deref().unwrap().contains("Washington, D.C."));
    let countries: HashSet<&str> = llama
        .phones
        .iter()
        .filter_map(|p| p.country.as_deref())
        .collect();
    assert_eq!(countries.len(), 7);
    match llama.service_area.as_slice() {
        [AreaSpec::Countries { codes }] => {
            assert!(codes.contains(&"US".into()));
            assert!(codes.contains(&"PE".into()));
            assert_eq!(codes.len(), 7);
        }
        other => panic!("unexpected service area {other:?}"),
    }
}

#[test]
fn angel_coalition_facts() {
    let all = hotlines();
    let angel = by_id(&all, "hotline-angel-coalition");
    assert!(angel.phones.len() >= 3);
    assert!(angel.availability.is_open_24h());
    assert!(
        !angel.law_enforcement,
        "cooperates with, is not, law enforcement"
    );
    for country in ["NL", "BE", "DE"] {
        let phone = angel
            .phones
            .iter()
            .find(|p| p.country.as_deref() == Some(country))
            .unwrap();
        assert_eq!(phone.number, "00-800-455-05-555");
        assert_eq!(
            phone.note.as_deref(),
            Some("From the Netherlands, Belgium, Germany (to Russia)")
        );
    }
    let usa = angel
        .phones
        .iter()
        .find(|p| p.country.as_deref() == Some("US"))
        .unwrap();
    assert_eq!(usa.number, "1-866-800-0270");
    assert_eq!(usa.note.as_deref(), Some("From the USA (to Russia)"));
    let russia = angel
        .phones
        .iter()
        .find(|p| p.country.as_deref() == Some("RU"))
        .unwrap();
    assert_eq!(russia.number, "8-800-200-2400");
    match angel.service_area.as_slice() {
        [AreaSpec::Countries { codes }] => assert!(codes.contains(&"RU".into())),
        other => panic!("unexpected service area {other:?}"),
    }
}

#[test]
fn la_strada_facts() {
    let all = hotlines();
    let strada = by_id(&all, "hotline-la-strada-international");
    let ukraine = strada
        .phones
        .iter()
        .find(|p| p.country.as_deref() == Some("UA"))
        .unwrap();
    assert_eq!(ukraine.number, "+380 44 205 36 94");
    assert_eq!(ukraine.dial, "+380442053694");
    let bosnia = strada
        .phones
        .iter()
        .filter(|p| p.country.as_deref() == Some("BA"))
        .count();
    assert_eq!(bosnia, 2, "Bosnia-Hercegovina has two numbers");
    assert_eq!(strada.phones.len(), 10);
    match strada.service_area.as_slice() {
        [AreaSpec::Countries { codes }] => assert_eq!(codes.len(), 9),
        other => panic!("unexpected service area {other:?}"),
    }
}

#[test]
fn lifeline_and_other_national_lines() {
    let all = hotlines();
    let lifeline = by_id(&all, "hotline-national-suicide-prevention-lifeline");
    assert_eq!(lifeline.phones.len(), 6, "988 twice and the page's four");
    assert!(lifeline.phones.iter().any(|p| p.kind == PhoneKind::Tty));
    assert!(lifeline
        .phones
        .iter()
        .any(|p| p.number == "1-888-628-9454" && p.note.as_deref() == Some("Spanish")));
    assert!(lifeline.languages.contains(&"es".into()));
    let glbt = by_id(&all, "hotline-glbt-national-helpline");
    assert_eq!(glbt.phones.len(), 2);
    let youth = glbt
        .phones
        .iter()
        .find(|p| p.note.as_deref().is_some_and(|n| n.starts_with("Youth")))
        .unwrap();
    assert_eq!(
        youth.number, "1-800-246-7743",
        "PRIDE with its extra E dropped"
    );
    assert!(youth.note.as_deref().unwrap().contains("1-800-246-PRIDE"));
    let teen = by_id(&all, "hotline-national-teen-dating-abuse-helpline");
    assert!(teen.populations.contains(&"youth_13_18".into()));
    assert!(teen.phones.iter().any(|p| p.kind == PhoneKind::Tty));
    let dol = by_id(&all, "hotline-dol-wage-and-hour");
    assert_eq!(dol.languages, ["en", "es"]);
    // 8am-5pm Monday-Friday; zone not stated, schedule assumes New York.
    assert_eq!(
        dol.availability.is_open_at(at("2026-03-02T13:30:00Z")),
        Some(true)
    );
    assert_eq!(
        dol.availability.is_open_at(at("2026-03-08T15:00:00Z")),
        Some(false)
    );
    assert!(dol.hours_note.as_deref().unwrap().contains("not stated"));
    let self_reliance = by_id(&all, "hotline-self-reliance-linea-de-ayuda");
    assert_eq!(self_reliance.languages, ["es"]);
    assert_eq!(self_reliance.populations, ["hispanic"]);
}

#[test]
fn us_national_hotlines_only_have_us_phones() {
    let all = hotlines();
    let national: Vec<&Provider> = all.iter().filter(|p| is_us_national(p)).collect();
    assert!(national.len() >= 16);
    for p in national {
        for phone in &p.phones {
            assert_eq!(
                phone.country.as_deref(),
                Some("US"),
                "{}: {}",
                p.id,
                phone.number
            );
        }
    }
}

#[test]
fn incomplete_entries_invent_nothing() {
    let all = hotlines();
    let mut incomplete: Vec<&str> = all
        .iter()
        .filter(|p| p.incomplete)
        .map(|p| p.name.as_str())
        .collect();
    incomplete.sort_unstable();
    assert_eq!(
        incomplete,
        [
            "Covenant House NineLine",
            "Crimestoppers/Blue Blindfold",
            "National Center for Victims of Crime",
            "National Runaway Switchboard",
        ]
    );
    for p in all.iter().filter(|p| p.incomplete) {
        assert!(p.phones.is_empty(), "{}", p.id);
        assert_eq!(p.availability, Availability::Unknown, "{}", p.id);
        assert_eq!(p.kind, Kind::Hotline, "{}", p.id);
    }
    for p in all.iter().filter(|p| !p.incomplete) {
        assert!(
            !p.phones.is_empty(),
            "{} is complete but has no phone",
            p.id
        );
    }
}

#[test]
fn codes_come_from_the_vocabulary() {
    let vocabulary = Vocabulary::bundled().unwrap();
    for p in hotlines() {
        for issue in &p.issues {
            assert!(vocabulary.issue(issue).is_some(), "{}: issue {issue}", p.id);
        }
        for population in &p.populations {
            assert!(
                vocabulary.has_population(population),
                "{}: population {population}",
                p.id
            );
        }
        for language in &p.languages {
            assert!(
                language.len() == 2 && language.chars().all(|c| c.is_ascii_lowercase()),
                "{}: language {language}",
                p.id
            );
        }
    }
}

/// One region's row of `data/dial/dial_plan.csv` (libphonenumber's metadata).
struct DialPlan {
    calling_code: String,
    national_prefix: String,
    international_prefix: String,
    lengths: Vec<usize>,
    short_lengths: Vec<usize>,
}

fn dial_plans() -> HashMap<String, DialPlan> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/dial/dial_plan.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let lengths = |text: &str| -> Vec<usize> {
        text.split(';')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect()
    };
    let mut plans = HashMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let plan = DialPlan {
            calling_code: row[1].to_owned(),
            national_prefix: row[2].to_owned(),
            international_prefix: row[3].to_owned(),
            lengths: lengths(&row[4]),
            short_lengths: lengths(&row[6]),
        };
        // Non-geographic codes (800, International Freephone) are all
        // region 001: key them by code.
        let key = if &row[0] == "001" {
            format!("+{}", &row[1])
        } else {
            row[0].to_owned()
        };
        plans.insert(key, plan);
    }
    plans
}

/// Whether `digits` (no `+`) is a calling code followed by a national
/// number of a possible length for some region with that code.
fn is_international(plans: &HashMap<String, DialPlan>, digits: &str) -> bool {
    (1..=3).any(|n| {
        digits.len() > n
            && plans.values().any(|plan| {
                plan.calling_code == digits[..n] && plan.lengths.contains(&(digits.len() - n))
            })
    })
}

/// Checks that `dial` can be dialled in `country`: `+` and the country's
/// calling code with a national number of a possible length; the
/// country's international prefix and any valid international number
/// (International Freephone from Europe); the trunk prefix and a
/// national number; a national number; or a short number (911, 133, an
/// SMS short code) of a length the country has.
fn check_dial(plans: &HashMap<String, DialPlan>, country: &str, dial: &str) -> Result<(), String> {
    let plan = plans
        .get(country)
        .ok_or_else(|| format!("no dial plan for country {country}"))?;
    if let Some(digits) = dial.strip_prefix('+') {
        let national = digits
            .strip_prefix(plan.calling_code.as_str())
            .ok_or_else(|| {
                format!(
                    "+{digits} does not start with {country}'s calling code +{}",
                    plan.calling_code
                )
            })?;
        return if plan.lengths.contains(&national.len()) {
            Ok(())
        } else {
            Err(format!(
                "{country} national numbers have {:?} digits, +{} {national} has {}",
                plan.lengths,
                plan.calling_code,
                national.len()
            ))
        };
    }
    if !dial.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{dial} holds more than digits"));
    }
    if let Some(rest) = dial
        .strip_prefix(plan.international_prefix.as_str())
        .filter(|_| !plan.international_prefix.is_empty())
    {
        if is_international(plans, rest) {
            return Ok(());
        }
    }
    if let Some(rest) = dial
        .strip_prefix(plan.national_prefix.as_str())
        .filter(|_| !plan.national_prefix.is_empty())
    {
        if plan.lengths.contains(&rest.len()) {
            return Ok(());
        }
    }
    if plan.lengths.contains(&dial.len()) || plan.short_lengths.contains(&dial.len()) {
        return Ok(());
    }
    Err(format!(
        "{dial} is not a {country} number: national numbers have {:?} digits (trunk prefix {:?}), short numbers {:?}",
        plan.lengths, plan.national_prefix, plan.short_lengths
    ))
}

/// Checks how a number is written: `+` only first and before a digit; no
/// separator first, last or next to another ("1-800-246- PRIDE"); one
/// kind of separator, except the North American "(559) 555-0142"; letters
/// (vanity numbers) only in the North American plan. A word before a
/// parenthesised number ("BeFree (233733)") is a name: the number is the
/// part in parentheses.
fn check_written(number: &str, north_american: bool) -> Result<(), String> {
    let mut text = number;
    if let (Some(open), Some(close)) = (number.find('('), number.rfind(')')) {
        let before = number[..open].trim();
        if !before.is_empty() && !before.ends_with(|c: char| c.is_ascii_digit()) && before != "+1" {
            text = &number[open + 1..close];
        }
    }
    let area_code = |t: &str| -> Option<usize> {
        let t = t.strip_prefix("+1 ").unwrap_or(t);
        let after = t.strip_prefix('(')?;
        (after.len() > 5
            && after[..3].chars().all(|c| c.is_ascii_digit())
            && after[3..].starts_with(") "))
        .then_some(number.len() - after.len() + 5)
    };
    let body = match area_code(text) {
        Some(_) if text == number => {
            let t = text.strip_prefix("+1 ").unwrap_or(text);
            &t[6..]
        }
        _ => text,
    };
    let separators = |c: char| matches!(c, ' ' | '-' | '.');
    let mut kinds: Vec<char> = body.chars().filter(|&c| separators(c)).collect();
    kinds.dedup();
    kinds.sort_unstable();
    kinds.dedup();
    let chars: Vec<char> = body.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '0'..='9' => {}
            '+' if i == 0 && chars.get(1).is_some_and(char::is_ascii_digit) => {}
            'A'..='Z' | 'a'..='z' if north_american => {}
            c if separators(c) => {
                if i == 0 || i + 1 == chars.len() || separators(chars[i - 1]) {
                    return Err(format!("{number}: a separator first, last or doubled"));
                }
            }
            other => return Err(format!("{number}: '{other}' does not belong in a number")),
        }
    }
    if kinds.len() > 1 {
        return Err(format!("{number}: mixes separators {kinds:?}"));
    }
    Ok(())
}

/// Every (country, number, dial) of the bundled hotlines and sample
/// directory.
fn bundled_phones() -> Vec<(String, String, String, String)> {
    let mut phones = Vec::new();
    for p in hotlines() {
        for phone in &p.phones {
            phones.push((
                p.id.to_string(),
                phone.country.as_deref().unwrap().to_owned(),
                phone.number.to_string(),
                phone.dial.to_string(),
            ));
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/directory.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, phone_column, country) = (column("id"), column("phones"), column("country"));
    for row in reader.records() {
        let row = row.unwrap();
        for phone in row[phone_column].split(';').filter(|p| !p.is_empty()) {
            let mut parts = phone.split('|');
            let number = parts.next().unwrap().to_owned();
            let _kind = parts.next();
            let phone_country = parts
                .next()
                .filter(|c| !c.is_empty())
                .unwrap_or(&row[country])
                .to_owned();
            let dial = dial_digits(&number).to_string();
            phones.push((row[id].to_owned(), phone_country, number, dial));
        }
    }
    phones
}

#[test]
fn every_bundled_number_is_a_valid_dial_string_for_its_country() {
    let plans = dial_plans();
    let phones = bundled_phones();
    assert!(phones.len() > 3200, "the sample and the hotlines");
    let mut abroad = HashSet::new();
    let mut bad = Vec::new();
    for (id, country, number, dial) in &phones {
        let north_american = plans.get(country).is_some_and(|p| p.calling_code == "1");
        if !north_american {
            abroad.insert(country.as_str());
        }
        if let Err(error) = check_dial(&plans, country, dial) {
            bad.push(format!("{id}: {number} ({country}): {error}"));
        }
        if let Err(error) = check_written(number, north_american) {
            bad.push(format!("{id}: {error}"));
        }
    }
    assert!(
        abroad.len() > 100,
        "numbers of {} countries checked",
        abroad.len()
    );
    assert!(
        bad.is_empty(),
        "{} bad numbers:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The checks refuse what they are there to refuse.
#[test]
fn the_dial_checks_refuse_broken_numbers() {
    let plans = dial_plans();
    for (country, dial) in [
        ("US", "18002467743"),
        ("US", "911"),
        ("US", "233733"),
        ("PE", "080023232"),
        ("RU", "88002002400"),
        ("NL", "0080045505555"),
        ("BA", "1261"),
        ("UA", "+380442053694"),
        ("DO", "18092007393"),
    ] {
        assert_eq!(
            check_dial(&plans, country, dial),
            Ok(()),
            "{country} {dial}"
        );
    }
    for (country, dial) in [
        ("US", "180024677433"),  // 1-800-246-PRIDE dialled letter by letter
        ("BA", "+1261"),         // the page's "+ 1261"
        ("PE", "+005550100042"), // the old synthetic +00
        ("PE", "+515550100"),    // right code, wrong length
        ("GB", "+33155501000"),  // another country's code
        ("US", "1800555"),
    ] {
        assert!(
            check_dial(&plans, country, dial).is_err(),
            "{country} {dial}"
        );
    }
    for number in [
        "1-800-4-A-CHILD",
        "(559) 555-0142",
        "+1 (506) 555-0142",
        "BeFree (233733)",
        "+420 2 22 71 7171",
        "00-800-455-05-555",
    ] {
        assert_eq!(check_written(number, true), Ok(()), "{number}");
    }
    for number in [
        "1-800-246- PRIDE",
        "+ 48 22 628 9999",
        "1-800 SUICIDE",
        "555--0142",
        "-555-0142",
    ] {
        assert!(check_written(number, true).is_err(), "{number}");
    }
    assert!(
        check_written("+44 20 SHOP", false).is_err(),
        "letters outside NANP"
    );
}
