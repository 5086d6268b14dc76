//! Country names as callers say them, beyond the ISO names in
//! `country.csv`: short, common and former English names, the United
//! Kingdom's constituent countries, and the Spanish, French and Portuguese
//! forms of those that `i18n-iso-countries` does not carry.
//!
//! The ISO tables give "Syrian Arab Republic", "Lao People's Democratic
//! Republic" and "Moldova, Republic of"; a caller says "Syria", "Laos",
//! "Moldova", "Burma", "Holland" or "London, England". Without these names
//! the text falls through to a US place of the same name (England, AR;
//! Holland, MI; Macedonia, OH) or to nothing at all.

/// Common, short and former names → ISO 3166-1 alpha-2, keyed as
/// [`super::normalize`] folds them. These override the ISO aliases (so
/// "Congo" is not silently the Democratic Republic; see
/// [`AMBIGUOUS_COUNTRY_NAMES`]).
pub(crate) const COMMON_COUNTRY_NAMES: &[(&str, &str)] = &[
    ("syria", "SY"),
    ("moldova", "MD"),
    ("laos", "LA"),
    ("lao", "LA"),
    ("bosnia", "BA"),
    ("bosnia herzegovina", "BA"),
    ("dr congo", "CD"),
    ("drc", "CD"),
    ("d r congo", "CD"),
    ("congo kinshasa", "CD"),
    ("democratic republic of congo", "CD"),
    ("democratic republic of the congo", "CD"),
    ("zaire", "CD"),
    ("congo brazzaville", "CG"),
    ("republic of congo", "CG"),
    ("republic of the congo", "CG"),
    ("burma", "MM"),
    ("swaziland", "SZ"),
    ("eswatini", "SZ"),
    ("east timor", "TL"),
    ("timor leste", "TL"),
    ("holland", "NL"),
    ("netherlands", "NL"),
    ("macedonia", "MK"),
    ("north macedonia", "MK"),
    ("micronesia", "FM"),
    ("federated states of micronesia", "FM"),
    ("ivory coast", "CI"),
    ("cote divoire", "CI"),
    ("cape verde", "CV"),
    ("cabo verde", "CV"),
    ("bahamas", "BS"),
    ("gambia", "GM"),
    ("czechia", "CZ"),
    ("czech republic", "CZ"),
    ("turkey", "TR"),
    ("turkiye", "TR"),
    ("russia", "RU"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("north korea", "KP"),
    ("vietnam", "VN"),
    ("viet nam", "VN"),
    ("iran", "IR"),
    ("persia", "IR"),
    ("bolivia", "BO"),
    ("venezuela", "VE"),
    ("tanzania", "TZ"),
    ("uae", "AE"),
    ("emirates", "AE"),
    ("united arab emirates", "AE"),
    ("uk", "GB"),
    ("u k", "GB"),
    ("great britain", "GB"),
    ("britain", "GB"),
    ("united kingdom", "GB"),
    ("usa", "US"),
    ("us", "US"),
    ("u s", "US"),
    ("u s a", "US"),
    ("united states", "US"),
    ("america", "US"),
    ("trinidad", "TT"),
    ("trinidad tobago", "TT"),
    ("palestine", "PS"),
    ("vatican", "VA"),
    ("vatican city", "VA"),
    ("taiwan", "TW"),
    ("brunei", "BN"),
    ("ceylon", "LK"),
    ("siam", "TH"),
    ("kyrgyzstan", "KG"),
    ("slovakia", "SK"),
    ("libya", "LY"),
    ("saint kitts", "KN"),
    ("saint kitts nevis", "KN"),
    ("saint lucia", "LC"),
    ("saint vincent", "VC"),
    ("antigua", "AG"),
    ("antigua barbuda", "AG"),
    ("sao tome", "ST"),
    ("dominican republic", "DO"),
    ("hong kong", "HK"),
    ("macau", "MO"),
    ("macao", "MO"),
    // Spanish, French and Portuguese forms that the i18n-iso-countries
    // tables lack or give only in their formal shape.
    ("holanda", "NL"),
    ("hollande", "NL"),
    ("paises bajos", "NL"),
    ("estados unidos", "US"),
    ("eeuu", "US"),
    ("ee uu", "US"),
    ("etats unis", "US"),
    ("eua", "US"),
    ("reino unido", "GB"),
    ("gran bretana", "GB"),
    ("gra bretanha", "GB"),
    ("royaume uni", "GB"),
    ("grande bretagne", "GB"),
    ("siria", "SY"),
    ("syrie", "SY"),
    ("birmania", "MM"),
    ("birmanie", "MM"),
    ("rusia", "RU"),
    ("russie", "RU"),
    ("russia federation", "RU"),
    ("corea del sur", "KR"),
    ("coree du sud", "KR"),
    ("coreia do sul", "KR"),
    ("corea del norte", "KP"),
    ("coree du nord", "KP"),
    ("coreia do norte", "KP"),
    ("republica checa", "CZ"),
    ("republique tcheque", "CZ"),
    ("chequia", "CZ"),
    ("tchequie", "CZ"),
    ("turquia", "TR"),
    ("turquie", "TR"),
    ("costa de marfil", "CI"),
    ("costa do marfim", "CI"),
    ("bolivie", "BO"),
    ("venezuela republica bolivariana", "VE"),
    ("tanzanie", "TZ"),
    ("tanzania republica unida", "TZ"),
    ("emiratos arabes unidos", "AE"),
    ("emirats arabes unis", "AE"),
    ("emirados arabes unidos", "AE"),
    ("moldavia", "MD"),
    ("moldavie", "MD"),
    ("moldavia republica", "MD"),
    ("bosnie", "BA"),
    ("macedonia del norte", "MK"),
    ("macedoine", "MK"),
    ("republica democratica del congo", "CD"),
    ("republique democratique du congo", "CD"),
    ("rdc", "CD"),
    ("rd congo", "CD"),
    ("republica do congo", "CG"),
    ("vietnan", "VN"),
    ("iran republica islamica", "IR"),
    ("suazilandia", "SZ"),
    ("timor oriental", "TL"),
    // Brazilian Portuguese and Latin American Spanish forms
    // (i18n-iso-countries' `pt` is European Portuguese).
    ("ira", "IR"),
    ("vietna", "VN"),
    ("mianmar", "MM"),
    ("tchequia", "CZ"),
    ("russia", "RU"),
    ("seicheles", "SC"),
    ("turcomenistao", "TM"),
    ("fiyi", "FJ"),
    ("san cristobal nieves", "KN"),
    ("sao cristovao nevis", "KN"),
    ("saint vincent grenadines", "VC"),
    ("british virgin islands", "VG"),
    ("bvi", "VG"),
    ("aotearoa", "NZ"),
    ("aotearoa new zealand", "NZ"),
];

/// Words that join the parts of a country's name ("Trinidad e Tobago"),
/// dropped when the name is not found with them.
pub(crate) const CONNECTORS: [&str; 5] = ["and", "y", "e", "et", "&"];

/// Names that more than one country goes by → the countries, most
/// populous first. As a qualifier ("Brazzaville, Congo") each is tried and
/// the one that holds the place wins; alone ("Congo") the first answers and
/// the others are its alternatives.
pub(crate) const AMBIGUOUS_COUNTRY_NAMES: &[(&str, &[&str])] = &[
    ("congo", &["CD", "CG"]),
    ("the congo", &["CD", "CG"]),
    ("el congo", &["CD", "CG"]),
    ("le congo", &["CD", "CG"]),
];

/// A first-level part of a country that callers name as if it were a
/// country: the United Kingdom's constituent countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subdivision {
    /// English name ("Scotland").
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 of the country it is part of.
    pub country: &'static str,
    /// GeoNames admin1 code of the subdivision within that country.
    pub admin1: &'static str,
    /// Its capital, whose position answers the subdivision alone.
    pub capital: &'static str,
}

/// The United Kingdom's constituent countries.
pub(crate) const SUBDIVISIONS: [Subdivision; 4] = [
    Subdivision {
        name: "England",
        country: "GB",
        admin1: "ENG",
        capital: "London",
    },
    Subdivision {
        name: "Scotland",
        country: "GB",
        admin1: "SCT",
        capital: "Edinburgh",
    },
    Subdivision {
        name: "Wales",
        country: "GB",
        admin1: "WLS",
        capital: "Cardiff",
    },
    Subdivision {
        name: "Northern Ireland",
        country: "GB",
        admin1: "NIR",
        capital: "Belfast",
    },
];

/// Names of the subdivisions in English, Spanish, French and Portuguese
/// (normalised) → index in [`SUBDIVISIONS`].
pub(crate) const SUBDIVISION_NAMES: &[(&str, usize)] = &[
    ("england", 0),
    ("inglaterra", 0),
    ("angleterre", 0),
    ("scotland", 1),
    ("escocia", 1),
    ("ecosse", 1),
    ("wales", 2),
    ("gales", 2),
    ("pais de gales", 2),
    ("pays de galles", 2),
    ("northern ireland", 3),
    ("irlanda del norte", 3),
    ("irlande du nord", 3),
    ("irlanda do norte", 3),
];

/// The subdivision a normalised name denotes, if any.
pub(crate) fn subdivision(key: &str) -> Option<&'static Subdivision> {
    SUBDIVISION_NAMES
        .iter()
        .find(|(name, _)| *name == key)
        .and_then(|&(_, i)| SUBDIVISIONS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::normalize;

    /// Every key is already in normal form, so a lookup can ever match it.
    #[test]
    fn keys_are_normalised() {
        let keys = COMMON_COUNTRY_NAMES
            .iter()
            .map(|(k, _)| *k)
            .chain(AMBIGUOUS_COUNTRY_NAMES.iter().map(|(k, _)| *k))
            .chain(SUBDIVISION_NAMES.iter().map(|(k, _)| *k));
        for key in keys {
            assert_eq!(normalize(key), key);
        }
    }
}
