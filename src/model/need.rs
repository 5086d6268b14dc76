//! What kind of help is needed: the attribute filters a match, a listing
//! and a coverage figure share ([`Need`]), read from the same parameters by
//! one parser ([`Need::read`]), with one expansion of issue codes
//! ([`Need::expanded_issues`]) and one meaning of `exclude`
//! ([`Need::admits`]). The index turns a need into its attribute filter
//! (`AttributeFilter::of_need`).

use super::parameters::{boolean, values, ParameterDoc, QueryError};
use super::{Kind, Provider, Vocabulary};

/// The parameters a [`Need`] is read from, as documented. An endpoint's
/// table takes the ones it accepts.
pub mod parameter {
    use super::ParameterDoc;

    /// `issue`: issue codes, any of; parents include their children.
    pub const ISSUE: ParameterDoc = ParameterDoc::many(
        "issue",
        "string",
        "Issue codes (repeat or comma-separate); a parent such as trafficking includes its children. See /v1/vocabulary.",
    );
    /// `language`: languages, any of.
    pub const LANGUAGE: ParameterDoc = ParameterDoc::many(
        "language",
        "string",
        "Languages the provider must speak (any of): ISO 639-1 or 639-3 codes or English names such as Spanish or Farsi.",
    );
    /// `population`: populations served, any of.
    pub const POPULATION: ParameterDoc = ParameterDoc::many(
        "population",
        "string",
        "Populations the provider must serve (any of), e.g. minors, lgbtq.",
    );
    /// `open_24h`: reachable around the clock.
    pub const OPEN_24H: ParameterDoc = ParameterDoc::one(
        "open_24h",
        "boolean",
        "Only providers reachable around the clock.",
    );
    /// `kind`: kinds to keep, any of.
    pub const KIND: ParameterDoc = ParameterDoc::many(
        "kind",
        "string",
        "Kinds, any of, e.g. service_provider,task_force (repeat or comma-separate).",
    );
    /// `exclude`: kinds to leave out.
    pub const EXCLUDE: ParameterDoc = ParameterDoc::many(
        "exclude",
        "string",
        "Kinds to leave out, e.g. law_enforcement (repeat or comma-separate); law_enforcement also leaves out providers of other kinds flagged as law enforcement, such as a police-led task force.",
    );
}

/// Resolves the codes a need is written in: issue and population codes
/// against the [`Vocabulary`], languages by name or code.
pub trait TermResolver {
    /// The vocabulary of issue and population codes.
    fn vocabulary(&self) -> &Vocabulary;

    /// The ISO 639-1 code of a language code, name or alias; the error is
    /// the detail to show (what is valid, close names).
    ///
    /// # Errors
    /// A [`QueryError`] on `language` when nothing matches.
    fn language(&self, text: &str) -> Result<String, QueryError>;

    /// Checks an issue code (case-insensitive; `-` and spaces read as `_`).
    ///
    /// # Errors
    /// [`QueryError`] on `issue` listing the known codes.
    fn issue(&self, text: &str) -> Result<String, QueryError> {
        let vocabulary = self.vocabulary();
        let code = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match vocabulary.issue(&code) {
            Some(term) => Ok(term.code.clone()),
            None => Err(QueryError::new(
                "issue",
                format!(
                    "'{text}' is not an issue code; use one of {}",
                    vocabulary
                        .issues
                        .iter()
                        .map(|t| t.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Checks a population code (case-insensitive).
    ///
    /// # Errors
    /// [`QueryError`] on `population` listing the known codes.
    fn population(&self, text: &str) -> Result<String, QueryError> {
        let vocabulary = self.vocabulary();
        let code = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        if vocabulary.has_population(&code) {
            return Ok(code);
        }
        Err(QueryError::new(
            "population",
            format!(
                "'{text}' is not a population code; use one of {}",
                vocabulary
                    .populations
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// What kind of help is needed. Each non-empty list is an OR over its
/// codes; the lists are ANDed. The default needs nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Need {
    /// Issue codes as asked; a parent (`trafficking`) also matches its
    /// children (see [`Need::expanded_issues`]). Empty: any issue.
    pub issues: Vec<String>,
    /// ISO 639-1 codes; a provider must speak at least one. Empty: any.
    pub languages: Vec<String>,
    /// Population codes; a provider must serve at least one. Empty: any.
    pub populations: Vec<String>,
    /// Require 24-hour capacity.
    pub open_24h: bool,
    /// Allowed kinds; empty: any kind.
    pub kinds: Vec<Kind>,
    /// Kinds to leave out (`law_enforcement` also leaves out providers
    /// flagged as law enforcement; see [`Need::admits`]).
    pub exclude: Vec<Kind>,
}

impl Need {
    /// Reads one parameter into the need when it is one of the need's
    /// ([`parameter`]): `issue`, `language`, `population`, `open_24h`,
    /// `kind`, `exclude`. Returns `Ok(false)` for any other name, for the
    /// caller to read. Repeated values collapse; counts are capped at
    /// [`MAX_VALUES`](super::parameters::MAX_VALUES) per parameter.
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter and what is valid.
    pub fn read(
        &mut self,
        name: &str,
        value: &str,
        terms: &impl TermResolver,
    ) -> Result<bool, QueryError> {
        match name {
            "issue" => {
                for text in values(name, value, self.issues.len())? {
                    push_new(&mut self.issues, terms.issue(text)?);
                }
            }
            "language" => {
                for text in values(name, value, self.languages.len())? {
                    push_new(&mut self.languages, terms.language(text)?);
                }
            }
            "population" => {
                for text in values(name, value, self.populations.len())? {
                    push_new(&mut self.populations, terms.population(text)?);
                }
            }
            "open_24h" => self.open_24h = boolean(name, value)?,
            "kind" | "exclude" => {
                let list = if name == "kind" {
                    &mut self.kinds
                } else {
                    &mut self.exclude
                };
                for code in values(name, value, list.len())? {
                    let kind = Kind::parse(code).ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!(
                                "'{code}' is not a kind; use one of {}",
                                Kind::ALL.map(Kind::code).join(", ")
                            ),
                        )
                    })?;
                    push_new(list, kind);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The issue codes with every parent expanded to itself and its
    /// children, each once, in the order asked. Empty when any issue will
    /// do.
    pub fn expanded_issues<'v>(&self, vocabulary: &'v Vocabulary) -> Vec<&'v str> {
        let mut issues: Vec<&'v str> = Vec::new();
        for code in &self.issues {
            for expanded in vocabulary.expand_issue(code) {
                push_new(&mut issues, expanded);
            }
        }
        issues
    }

    /// Whether `exclude` names `law_enforcement`.
    pub fn excludes_law_enforcement(&self) -> bool {
        self.exclude.contains(&Kind::LawEnforcement)
    }

    /// Whether a provider's kind passes `kind` and `exclude`. Excluding
    /// `law_enforcement` also leaves out a provider of another kind
    /// flagged as law enforcement (a police-led task force): what the
    /// caller asking it wants to avoid.
    pub fn admits(&self, provider: &Provider) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&provider.kind))
            && !self.exclude.contains(&provider.kind)
            && !(provider.law_enforcement && self.excludes_law_enforcement())
    }

    /// The kinds `kind` and `exclude` allow, in [`Kind::ALL`] order.
    pub fn allowed_kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.kinds.is_empty() || self.kinds.contains(k))
            .filter(|k| !self.exclude.contains(k))
            .collect()
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
