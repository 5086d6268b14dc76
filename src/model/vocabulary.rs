//! The controlled vocabulary of issue and population codes, read from
//! `data/vocabulary.json` (compiled in). Extend it by editing that file.

use serde::{Deserialize, Serialize};

/// An issue code with its label and optional parent (`sex_trafficking` →
/// `trafficking`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueTerm {
    /// snake_case code.
    pub code: String,
    /// English label.
    pub label: String,
    /// Parent code, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A population code with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationTerm {
    /// snake_case code.
    pub code: String,
    /// English label.
    pub label: String,
}

/// The issue and population vocabularies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Issue terms.
    pub issues: Vec<IssueTerm>,
    /// Population terms.
    pub populations: Vec<PopulationTerm>,
}

/// Why a vocabulary file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    /// Not JSON of the expected shape.
    #[error("vocabulary is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A parent names no issue in the file.
    #[error("issue '{code}' names unknown parent '{parent}'")]
    UnknownParent {
        /// The child code.
        code: String,
        /// The missing parent.
        parent: String,
    },
}

impl Vocabulary {
    /// The vocabulary compiled in from `data/vocabulary.json`.
    ///
    /// # Errors
    /// [`VocabularyError`] if the bundled file is malformed (a build problem).
    pub fn bundled() -> Result<Self, VocabularyError> {
        Self::from_json(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/vocabulary.json"
        )))
    }

    /// Parses and checks a vocabulary document.
    ///
    /// # Errors
    /// [`VocabularyError`] for bad JSON or a dangling parent.
    pub fn from_json(text: &str) -> Result<Self, VocabularyError> {
        let vocabulary: Vocabulary = serde_json::from_str(text)?;
        for issue in &vocabulary.issues {
            if let Some(parent) = &issue.parent {
                if vocabulary.issue(parent).is_none() {
                    return Err(VocabularyError::UnknownParent {
                        code: issue.code.clone(),
                        parent: parent.clone(),
                    });
                }
            }
        }
        Ok(vocabulary)
    }

    /// The issue term for `code`.
    pub fn issue(&self, code: &str) -> Option<&IssueTerm> {
        self.issues.iter().find(|t| t.code == code)
    }

    /// True when `code` is a known population.
    pub fn has_population(&self, code: &str) -> bool {
        self.populations.iter().any(|t| t.code == code)
    }

    /// `code` and every issue below it (`trafficking` → itself,
    /// `sex_trafficking`, `labor_trafficking`).
    pub fn expand_issue(&self, code: &str) -> Vec<&str> {
        let mut found = vec![];
        let mut frontier = vec![code];
        while let Some(current) = frontier.pop() {
            if let Some(term) = self.issue(current) {
                if !found.contains(&term.code.as_str()) {
                    found.push(term.code.as_str());
                    frontier.extend(
                        self.issues
                            .iter()
                            .filter(|t| t.parent.as_deref() == Some(current))
                            .map(|t| t.code.as_str()),
                    );
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_vocabulary_expands_parents() {
        let v = Vocabulary::bundled().unwrap();
        let mut expanded = v.expand_issue("trafficking");
        expanded.sort();
        assert_eq!(
            expanded,
            ["labor_trafficking", "sex_trafficking", "trafficking"]
        );
        assert_eq!(v.expand_issue("domestic_violence"), ["domestic_violence"]);
        assert!(v.expand_issue("nonsense").is_empty());
        assert!(v.has_population("minors"));
    }

    #[test]
    fn dangling_parent_is_rejected() {
        let text = r#"{"issues":[{"code":"a","label":"A","parent":"zz"}],"populations":[]}"#;
        assert!(matches!(
            Vocabulary::from_json(text),
            Err(VocabularyError::UnknownParent { .. })
        ));
    }
}
