//! `data/hotlines.json` holds every national and international hotline named
//! on the seed page `referral-database.txt`, as `Provider` records; these
//! tests pin the page's facts.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use refmatch::model::{
    dial_digits, AreaSpec, Availability, Kind, PhoneKind, Provider, Visibility, Vocabulary,
};
use std::collections::HashSet;

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

#[test]
fn every_page_hotline_is_one_record() {
    let all = hotlines();
    assert_eq!(all.len(), PAGE_NAMES.len(), "one record per page hotline");
    for name in PAGE_NAMES {
        let count = all.iter().filter(|p| p.name == name).count();
        assert_eq!(count, 1, "{name} should appear exactly once");
    }
}

#[test]
fn ids_are_unique_and_records_are_public_seed_data() {
    let all = hotlines();
    let mut seen = HashSet::new();
    for p in &all {
        assert!(seen.insert(p.id.as_str()), "duplicate id {}", p.id);
        assert!(p.id.starts_with("hotline-"), "{}", p.id);
        assert_eq!(p.visibility, Visibility::Public, "{}", p.id);
        assert_eq!(p.source, "seed:referral-database.txt", "{}", p.id);
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
    assert_eq!(ukraine.number, "+ 380 44 205 36 94");
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
    assert_eq!(lifeline.phones.len(), 4);
    assert!(lifeline.phones.iter().any(|p| p.kind == PhoneKind::Tty));
    assert!(lifeline
        .phones
        .iter()
        .any(|p| p.number == "1-888-628-9454" && p.note.as_deref() == Some("Spanish")));
    assert!(lifeline.languages.contains(&"es".into()));
    let glbt = by_id(&all, "hotline-glbt-national-helpline");
    assert_eq!(glbt.phones.len(), 2);
    assert!(glbt
        .phones
        .iter()
        .any(|p| p.note.as_deref() == Some("Youth")));
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
