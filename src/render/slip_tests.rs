use super::*;
use crate::model::{Address, Availability, Kind, Phone, PhoneKind, Provider, Visibility};
use proptest::prelude::*;

fn provider() -> Provider {
    Provider {
        id: "casa".into(),
        name: "Casa Esperanza Anti-Trafficking Shelter".to_owned(),
        organization: Some("Fresno Alliance Against Violence".to_owned()),
        kind: Kind::ServiceProvider,
        issues: vec!["trafficking".into()],
        services: Vec::new(),
        populations: Vec::new(),
        languages: vec!["en".into(), "es".into()],
        availability: Availability::parse(
            "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
            "America/Los_Angeles",
        )
        .expect("hours"),
        hours_note: Some("Closed on holidays".to_owned()),
        phones: vec![
            Phone {
                note: Some("Spanish".into()),
                ..Phone::new("(559) 555-0100", PhoneKind::Voice)
            },
            Phone {
                note: Some("trafficking line".into()),
                ..Phone::new("1-888-NO-TRATA", PhoneKind::TollFree)
            },
            Phone {
                confidential: true,
                note: Some("direct line".into()),
                ..Phone::new("(559) 555-0199", PhoneKind::Voice)
            },
            Phone::new("233733", PhoneKind::Text),
        ],
        email: Some("desk@example.org".to_owned()),
        website: None,
        contact_name: Some("Ana".to_owned()),
        law_enforcement: false,
        address: Some(Address {
            street: Some("100 Main St".into()),
            city: Some("Fresno".into()),
            region: Some("CA".into()),
            postal_code: Some("93721".into()),
            country: Some("US".into()),
        }),
        location: None,
        precision: None,
        location_confidential: false,
        service_area: Vec::new(),
        visibility: Visibility::Public,
        verified_at: None,
        source: "test".into(),
        funder: None,
        description: None,
        incomplete: false,
        capacity: Vec::new(),
    }
}

fn en() -> &'static Catalogue {
    catalogue("en").expect("en")
}

#[test]
fn every_catalogue_loads_with_every_key_and_no_other() {
    let all = catalogues().expect("every catalogue loads");
    assert_eq!(all.len(), CATALOGUE_FILES.len());
    let keys = |text: &str| -> Vec<String> {
        let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let mut keys: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    let english = keys(CATALOGUE_FILES[0].1);
    for (code, text) in CATALOGUE_FILES {
        assert_eq!(
            keys(text),
            english,
            "data/slips/{code}.json has other keys than en.json"
        );
        let c = catalogue(code).expect("loaded");
        assert_eq!(c.code, *code);
        for (name, value) in [
            ("language", &c.language),
            ("title", &c.title),
            ("safe_label", &c.safe_label),
            ("call", &c.call),
            ("text", &c.text),
            ("tty", &c.tty),
            ("toll_free", &c.toll_free),
            ("hours", &c.hours),
            ("open_24h", &c.open_24h),
            ("open_24h_short", &c.open_24h_short),
            ("hours_unknown", &c.hours_unknown),
            ("time_zone", &c.time_zone),
            ("address", &c.address),
        ] {
            assert!(!value.trim().is_empty(), "{code}: {name} is empty");
        }
        assert!(
            c.time_zone.contains("{zone}"),
            "{code}: time_zone has no {{zone}}"
        );
        assert!(c.days.iter().all(|d| !d.trim().is_empty()), "{code}: a day");
        assert!(c.purpose_words.len() >= 10, "{code}: purpose words");
    }
    // A missing key does not load.
    let mut value: serde_json::Value = serde_json::from_str(CATALOGUE_FILES[0].1).expect("JSON");
    value.as_object_mut().expect("object").remove("safe_label");
    assert!(serde_json::from_value::<Catalogue>(value).is_err());
}

#[test]
fn the_catalogues_own_words_reveal_no_purpose() {
    for c in catalogues().expect("load") {
        let fixed = [
            &c.title,
            &c.safe_label,
            &c.call,
            &c.text,
            &c.tty,
            &c.toll_free,
            &c.hours,
            &c.open_24h,
            &c.open_24h_short,
            &c.hours_unknown,
            &c.time_zone,
            &c.address,
        ];
        for text in fixed.into_iter().chain(c.days.iter()) {
            assert_eq!(purpose_word_in(text), None, "{}: '{text}'", c.code);
        }
    }
}

#[test]
fn languages_are_found_by_code_and_unknown_ones_are_not() {
    assert_eq!(catalogue("ES").map(|c| c.code), Some("es"));
    assert_eq!(catalogue(" pt ").map(|c| c.code), Some("pt"));
    assert!(catalogue("de").is_none());
    assert_eq!(
        language_codes().collect::<Vec<_>>(),
        ["en", "es", "fr", "pt"]
    );
}

#[test]
fn purpose_words_are_found_across_case_accents_and_inside_words() {
    assert!(purpose_word_in("Anti-TRAFFICKING line").is_some());
    assert!(purpose_word_in("Línea de la VIOLÊNCIA").is_some());
    assert!(purpose_word_in("Víctimas").is_some());
    assert_eq!(purpose_word_in("Spanish"), None);
    assert_eq!(purpose_word_in("Mon-Fri 09:00-17:00"), None);
}

#[test]
fn a_full_slip_names_the_provider_and_never_gives_a_direct_line() {
    let slip = slip(&provider(), en(), false);
    let text = slip.text();
    assert_eq!(
        text.text,
        "Casa Esperanza Anti-Trafficking Shelter\n\
         Fresno Alliance Against Violence\n\
         Call: (559) 555-0100 (Spanish)\n\
         Call: 1-888-NO-TRATA (toll-free, trafficking line)\n\
         Text: 233733\n\
         Hours: Mon-Fri 09:00-17:00; Sat 10:00-14:00 (Los Angeles time); Closed on holidays\n\
         Address: 100 Main St, Fresno, CA, 93721"
    );
    assert_eq!(text.shortening, Shortening::Full);
    assert!(!text.text.contains("0199"), "a direct line");
    assert!(!slip.html().contains("0199"), "a direct line");
}

#[test]
fn a_safe_slip_has_a_neutral_label_no_name_no_purpose_and_fits_an_sms() {
    let slip = slip(&provider(), en(), true);
    let text = slip.text();
    // The address and the hours detail go; the schedule stays.
    assert_eq!(
        text.text,
        "Contact\n\
         Call: (559) 555-0100\n\
         Call: 18886687282\n\
         Text: 233733\n\
         Hours: Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    );
    assert_eq!(text.shortening, Shortening::NoHoursDetail);
    assert!(text.fits_sms && text.chars <= SMS_CHARS, "{}", text.chars);
    // The printable page is not shortened, and as clean.
    let html = slip.html();
    assert!(html.contains("<h1>Contact</h1>"), "{html}");
    assert!(
        html.contains("100 Main St"),
        "the address is public: {html}"
    );
    for word in [
        "Casa",
        "Esperanza",
        "Alliance",
        "rafficking",
        "TRATA",
        "0199",
    ] {
        assert!(!html.contains(word), "{word} in {html}");
        assert!(!text.text.contains(word), "{word} in {}", text.text);
    }
}

#[test]
fn a_safe_slip_shortens_address_then_hours_detail_then_phones() {
    let mut p = provider();
    p.hours_note = None;
    p.address = None;
    p.phones.truncate(1);
    let text = slip(&p, en(), true).text();
    assert_eq!(text.shortening, Shortening::Full, "{}", text.text);
    // A public address goes first.
    p.address = provider().address;
    let text = slip(&p, en(), true).text();
    assert_eq!(text.shortening, Shortening::Full, "{}", text.text);
    p.phones = provider().phones;
    p.hours_note = Some("Walk-ins welcome".to_owned());
    let text = slip(&p, en(), true).text();
    assert_eq!(text.shortening, Shortening::NoHoursDetail, "{}", text.text);
    // Then the schedule.
    p.availability = Availability::parse(
        "Mo 09:00-12:00,13:00-17:00; Tu 09:00-17:00; We 10:00-18:00; Th 09:00-17:00; Fr 09:00-13:00",
        "America/Los_Angeles",
    )
    .expect("hours");
    let text = slip(&p, en(), true).text();
    assert_eq!(text.shortening, Shortening::NoHours, "{}", text.text);
    assert_eq!(
        text.text,
        "Contact\nCall: (559) 555-0100\nCall: 18886687282\nText: 233733"
    );
    for n in 0..6 {
        p.phones
            .push(Phone::new(&format!("+1 559 555 01{n}0"), PhoneKind::Voice));
    }
    let text = slip(&p, en(), true).text();
    assert_eq!(text.shortening, Shortening::OnePhone, "{}", text.text);
    assert_eq!(text.text, "Contact\nCall: (559) 555-0100");
    // Around the clock keeps "24/7" when the detail goes.
    p.availability = Availability::Open24h;
    let text = slip(&p, en(), true).text();
    assert_eq!(text.text, "Contact\nCall: (559) 555-0100\nHours: 24/7");
}

#[test]
fn the_address_is_given_only_for_a_public_record_at_a_public_location() {
    let mut p = provider();
    assert!(slip(&p, en(), false).address.is_some());
    p.location_confidential = true;
    assert_eq!(slip(&p, en(), false).address, None);
    p.location_confidential = false;
    p.visibility = Visibility::Confidential;
    assert_eq!(slip(&p, en(), false).address, None);
    assert!(!slip(&p, en(), false).html().contains("Main St"));
}

#[test]
fn safe_slips_drop_any_text_that_names_the_provider_or_its_purpose() {
    let mut p = provider();
    p.organization = None;
    p.hours_note = Some("Shelter intake until 20:00".to_owned());
    p.phones[0].note = Some("Esperanza desk".into());
    p.address = Some(Address {
        street: Some("1 Refuge Way".into()),
        city: Some("Fresno".into()),
        ..Address::default()
    });
    let s = slip(&p, en(), true);
    assert_eq!(s.hours_note, None);
    assert_eq!(s.phones[0].note, None);
    assert_eq!(s.address.as_deref(), Some("Fresno"));
    // A word of the organisation's name is one of the provider's names.
    p.organization = Some("Fresno Alliance".to_owned());
    assert_eq!(slip(&p, en(), true).address, None);
    // Not safe: every note is there.
    let full = slip(&p, en(), false);
    assert_eq!(
        full.hours_note.as_deref(),
        Some("Shelter intake until 20:00")
    );
    assert_eq!(full.phones[0].note.as_deref(), Some("Esperanza desk"));
}

#[test]
fn a_name_met_across_the_slips_own_parts_leaves_the_label_and_one_number() {
    // "Hours Mon" is in no single part, but in "Hours: Mon-Fri …".
    let mut p = provider();
    p.name = "Hours Mon".to_owned();
    p.organization = None;
    let s = slip(&p, en(), true);
    let text = s.text();
    assert_eq!(text.shortening, Shortening::Bare);
    assert_eq!(text.text, "Contact\nCall: (559) 555-0100");
    assert!(!normalize(&s.html()).contains("hours mon"), "{}", s.html());
}

#[test]
fn day_names_and_labels_follow_the_language() {
    let p = provider();
    let es = slip(&p, catalogue("es").expect("es"), true).text().text;
    assert!(es.starts_with("Contacto\nLlame: (559) 555-0100"), "{es}");
    assert!(
        es.contains("Horario: lun-vie 09:00-17:00; sáb 10:00-14:00"),
        "{es}"
    );
    let es_page = slip(&p, catalogue("es").expect("es"), true).html();
    assert!(
        es_page.contains("lun-vie 09:00-17:00; sáb 10:00-14:00 (hora de Los Angeles)"),
        "{es_page}"
    );
    let fr = slip(&p, catalogue("fr").expect("fr"), false).text().text;
    assert!(
        fr.contains("Horaires: lun-ven 09:00-17:00; sam 10:00-14:00"),
        "{fr}"
    );
    assert!(fr.contains("SMS: 233733"), "{fr}");
    let pt = slip(&p, catalogue("pt").expect("pt"), false).text().text;
    assert!(pt.contains("Ligue: (559) 555-0100"), "{pt}");
    assert!(pt.contains("seg-sex 09:00-17:00; sáb 10:00-14:00"), "{pt}");
    let mut unknown = provider();
    unknown.availability = Availability::Unknown;
    unknown.hours_note = None;
    let text = slip(&unknown, en(), false).text().text;
    assert!(text.contains("Hours: Call for hours"), "{text}");
}

#[test]
fn hours_past_midnight_are_written_as_the_clock_reads() {
    let mut p = provider();
    p.availability = Availability::parse("Fr-Sa 22:00-02:00", "Europe/Lisbon").expect("hours");
    p.hours_note = None;
    let s = slip(&p, catalogue("pt").expect("pt"), false);
    assert_eq!(s.hours, "sex-sáb 22:00-02:00");
    assert_eq!(s.time_zone.as_deref(), Some("horário de Lisbon"));
}

#[test]
fn the_page_escapes_every_text_and_holds_no_script() {
    let mut p = provider();
    p.name = "<script>alert('x')</script> & \"Co\"".to_owned();
    p.phones[0].note = Some("<img src=x onerror=alert(1)>".into());
    let html = slip(&p, en(), false).html();
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"));
    assert!(html.contains("<a class=\"number\" href=\"tel:5595550100\">(559) 555-0100</a>"));
    assert!(html.contains("href=\"sms:233733\""));
    assert!(html.contains("@media print"));
    assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"));
}

#[test]
fn the_stylesheet_hash_is_the_base64_sha256_of_the_stylesheet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    let hash = stylesheet_hash();
    assert!(
        hash.starts_with("'sha256-") && hash.ends_with("='"),
        "{hash}"
    );
    assert_eq!(hash.len(), "'sha256-".len() + 44 + 1);
    assert!(content_security_policy().contains(hash));
    assert!(!content_security_policy().contains("script-src"));
}

// ------------------------------------------------------------- property

const PURPOSE_SAMPLES: &[&str] = &[
    "Trafficking",
    "Anti-Trafficking",
    "Shelter",
    "Abuse",
    "Violence",
    "Crisis",
    "Trata",
    "Refugio",
    "Violência",
    "Víctimas",
    "Traite",
    "Domestic",
    "Survivors",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(PURPOSE_SAMPLES).prop_map(str::to_owned),
        "[A-Z][a-z]{3,9}",
    ]
}

fn words(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..=max).prop_map(|w| w.join(" "))
}

fn phone() -> impl Strategy<Value = Phone> {
    (
        prop_oneof![
            "[2-9][0-9]{2} [0-9]{3} [0-9]{4}",
            "1-8[0-9]{2}-[A-Z]{2}-[A-Z]{5}"
        ],
        proptest::sample::select(
            &[
                PhoneKind::Voice,
                PhoneKind::TollFree,
                PhoneKind::Text,
                PhoneKind::Tty,
            ][..],
        ),
        proptest::option::of(words(3)),
        any::<bool>(),
    )
        .prop_map(|(number, kind, note, confidential)| Phone {
            note: note.map(Into::into),
            confidential,
            ..Phone::new(&number, kind)
        })
}

fn arbitrary_provider() -> impl Strategy<Value = Provider> {
    (
        words(4),
        proptest::option::of(words(4)),
        proptest::collection::vec(phone(), 0..5),
        proptest::option::of(words(6)),
        proptest::option::of((words(3), words(2))),
        any::<bool>(),
        any::<bool>(),
        0..3u8,
    )
        .prop_map(
            |(name, organization, phones, hours_note, address, public, hidden, hours)| {
                let mut p = provider();
                p.name = name;
                p.organization = organization;
                p.phones = phones;
                p.hours_note = hours_note;
                p.address = address.map(|(street, city)| Address {
                    street: Some(street.into()),
                    city: Some(city.into()),
                    ..Address::default()
                });
                p.visibility = if public {
                    Visibility::Public
                } else {
                    Visibility::Confidential
                };
                p.location_confidential = hidden;
                p.availability = match hours {
                    0 => Availability::Open24h,
                    1 => Availability::Unknown,
                    _ => p.availability,
                };
                p
            },
        )
}

/// The slip's own words in every language: a name made of them cannot be
/// kept out of a slip (a provider called "Call Hours").
fn fixed_words() -> String {
    let mut all = String::new();
    for c in catalogues().expect("load") {
        for text in [
            &c.title,
            &c.safe_label,
            &c.call,
            &c.text,
            &c.tty,
            &c.toll_free,
            &c.hours,
            &c.open_24h,
            &c.open_24h_short,
            &c.hours_unknown,
            &c.time_zone,
            &c.address,
        ]
        .into_iter()
        .chain(c.days.iter())
        {
            all.push_str(text);
            all.push('\n');
        }
    }
    normalize(&all)
}

/// The page's text without its stylesheet.
fn page_text(html: &str) -> String {
    match (html.find("<style>"), html.find("</style>")) {
        (Some(open), Some(close)) => format!("{}{}", &html[..open], &html[close..]),
        _ => html.to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn safe_slips_never_name_the_provider_reveal_the_purpose_or_give_a_direct_line(
        p in arbitrary_provider(),
        language in proptest::sample::select(&["en", "es", "fr", "pt"][..]),
    ) {
        let fixed = fixed_words();
        let names: Vec<String> = [Some(p.name.as_str()), p.organization.as_deref()]
            .into_iter()
            .flatten()
            .map(normalize)
            .collect();
        prop_assume!(names.iter().all(|n| !fixed.contains(n.as_str())));
        let public: Vec<&str> = p.phones.iter().filter(|x| !x.confidential).map(|x| x.dial.as_str()).collect();
        let catalogue = catalogue(language).expect("catalogue");
        let s = slip(&p, catalogue, true);
        let text = s.text();
        let html = page_text(&s.html());
        for (what, body) in [("text", text.text.as_str()), ("html", html.as_str())] {
            let folded = normalize(body);
            for name in &names {
                prop_assert!(!folded.contains(name.as_str()), "{what} names '{name}':\n{body}");
            }
            prop_assert_eq!(purpose_word_in(body), None, "{} reveals the purpose:\n{}", what, body);
            for direct in p.phones.iter().filter(|x| x.confidential) {
                // A direct line equal to a public number is that public number.
                if public.iter().any(|d| d.contains(direct.dial.as_str())) {
                    continue;
                }
                prop_assert!(!body.contains(direct.number.as_str()), "{what} gives {}", direct.number);
                prop_assert!(!body.contains(direct.dial.as_str()), "{what} gives {}", direct.dial);
            }
        }
        // Something to call is always left, when there is one.
        if !public.is_empty() {
            prop_assert!(text.text.contains(':'), "{}", text.text);
        }
        // It fits where a label and one public number fit.
        let first = s.phones.iter().map(|x| x.number.chars().count() + x.action.chars().count()).max().unwrap_or(0);
        if first + catalogue.safe_label.chars().count() + 20 < SMS_CHARS {
            prop_assert!(text.fits_sms, "{} chars:\n{}", text.chars, text.text);
        }
    }
}
