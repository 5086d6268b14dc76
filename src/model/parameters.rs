//! Query parameters: the table each endpoint's parameters are described
//! in ([`ParameterDoc`]), the one check every parser runs first
//! ([`check_parameters`]: unknown, repeated and missing parameters), the
//! error naming the parameter at fault ([`QueryError`]) and the readers of
//! one value (numbers, booleans, comma-separated lists).
//!
//! A table drives three things: what a parser accepts, what the OpenAPI
//! document lists (name, type, description, whether required) and what
//! `--help`-style messages name as known.

/// Most values a multi-valued parameter (`issue`, `language`…) may carry.
pub const MAX_VALUES: usize = 32;

/// A query parameter as documented (in the OpenAPI document and `--help`)
/// and as checked before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterDoc {
    /// Parameter name.
    pub name: &'static str,
    /// JSON Schema type: `string`, `number`, `integer` or `boolean`.
    pub schema_type: &'static str,
    /// What it means, with units.
    pub description: &'static str,
    /// May be given more than once (values add up); otherwise a repeat is
    /// refused.
    pub repeatable: bool,
    /// Must be given.
    pub required: bool,
}

impl ParameterDoc {
    /// An optional parameter given at most once.
    pub const fn one(
        name: &'static str,
        schema_type: &'static str,
        description: &'static str,
    ) -> ParameterDoc {
        ParameterDoc {
            name,
            schema_type,
            description,
            repeatable: false,
            required: false,
        }
    }

    /// An optional parameter that may repeat (or hold comma-separated
    /// values).
    pub const fn many(
        name: &'static str,
        schema_type: &'static str,
        description: &'static str,
    ) -> ParameterDoc {
        ParameterDoc {
            repeatable: true,
            ..ParameterDoc::one(name, schema_type, description)
        }
    }

    /// The same parameter, required.
    pub const fn required(self) -> ParameterDoc {
        ParameterDoc {
            required: true,
            ..self
        }
    }

    /// The same parameter with another description (a table that shares
    /// a parameter but says more about it).
    pub const fn described(self, description: &'static str) -> ParameterDoc {
        ParameterDoc {
            description,
            ..self
        }
    }
}

/// Two tables as one, at compile time: `C` must be `A + B` (a table that
/// shares its first rows with another).
pub const fn joined<const A: usize, const B: usize, const C: usize>(
    first: [ParameterDoc; A],
    then: [ParameterDoc; B],
) -> [ParameterDoc; C] {
    assert!(A + B == C, "C must be A + B");
    let mut out = [ParameterDoc::one("", "", ""); C];
    let mut i = 0;
    while i < A {
        out[i] = first[i];
        i += 1;
    }
    while i < C {
        out[i] = then[i - A];
        i += 1;
    }
    out
}

/// Why a query was rejected: the parameter and what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct QueryError {
    /// The parameter at fault.
    pub parameter: String,
    /// What is wrong and what is valid.
    pub detail: String,
}

impl QueryError {
    /// An error about `parameter`.
    pub fn new(parameter: &str, detail: impl Into<String>) -> QueryError {
        QueryError {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }
}

/// Checks `params` against an endpoint's `table` before any value is read:
/// a name not in the table (nor in `handled`, names the caller reads
/// itself, such as `format`) is refused, so a typo never silently widens a
/// search; a parameter that is not [`ParameterDoc::repeatable`] given twice
/// is refused (which of two values was meant is unknowable); a
/// [`ParameterDoc::required`] one that is missing is refused.
///
/// # Errors
/// [`QueryError`] naming the parameter and listing the known ones.
pub fn check_parameters(
    params: &[(&str, &str)],
    table: &[ParameterDoc],
    handled: &[&str],
) -> Result<(), QueryError> {
    let mut seen: Vec<&str> = Vec::with_capacity(params.len());
    for (name, _) in params {
        let doc = table.iter().find(|p| p.name == *name);
        if doc.is_none() && !handled.contains(name) {
            let known: Vec<&str> = table
                .iter()
                .map(|p| p.name)
                .chain(handled.iter().copied())
                .collect();
            return Err(QueryError::new(
                name,
                format!("unknown parameter '{name}'; known: {}", known.join(", ")),
            ));
        }
        let repeatable = doc.is_some_and(|p| p.repeatable);
        if !repeatable && seen.contains(name) {
            return Err(QueryError::new(
                name,
                format!("'{name}' is given more than once; give it once"),
            ));
        }
        seen.push(name);
    }
    if let Some(missing) = table.iter().find(|p| p.required && !seen.contains(&p.name)) {
        return Err(QueryError::new(
            missing.name,
            format!(
                "missing query parameter '{}': {}",
                missing.name, missing.description
            ),
        ));
    }
    Ok(())
}

/// A finite number, or a [`QueryError`] on `name`.
///
/// # Errors
/// [`QueryError`] when `value` is not a finite number.
pub fn number(name: &str, value: &str) -> Result<f64, QueryError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| QueryError::new(name, format!("{name} must be a number, got '{value}'")))
}

/// `true`/`1`/`yes`/empty or `false`/`0`/`no`, or a [`QueryError`] on `name`.
///
/// # Errors
/// [`QueryError`] for any other value.
pub fn boolean(name: &str, value: &str) -> Result<bool, QueryError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(QueryError::new(
            name,
            format!("{name} must be true or false, got '{value}'"),
        )),
    }
}

/// Splits a comma-separated value, checking that the total count stays
/// within [`MAX_VALUES`] (`already`: values of `name` read before).
///
/// # Errors
/// [`QueryError`] when the value is empty or the count is over.
pub fn values<'v>(name: &str, value: &'v str, already: usize) -> Result<Vec<&'v str>, QueryError> {
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(QueryError::new(
            name,
            format!("{name} is empty; give at least one value or leave it out"),
        ));
    }
    if already + parts.len() > MAX_VALUES {
        return Err(QueryError::new(
            name,
            format!("at most {MAX_VALUES} values of {name} are accepted"),
        ));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[ParameterDoc] = &[
        ParameterDoc::one("q", "string", "Free text.").required(),
        ParameterDoc::many("issue", "string", "Issue codes."),
    ];

    #[test]
    fn unknown_repeated_and_missing_parameters_are_refused_by_name() {
        let error = check_parameters(&[("q", "a"), ("colour", "blue")], TABLE, &[]).unwrap_err();
        assert_eq!(error.parameter, "colour");
        assert!(error.detail.contains("known: q, issue"), "{error}");
        let error = check_parameters(&[("q", "a"), ("q", "b")], TABLE, &[]).unwrap_err();
        assert_eq!(error.parameter, "q");
        let error = check_parameters(&[("issue", "a")], TABLE, &[]).unwrap_err();
        assert_eq!(error.parameter, "q");
        assert!(error.detail.starts_with("missing query parameter 'q'"));
        let error = check_parameters(
            &[("q", "a"), ("format", "json"), ("format", "csv")],
            TABLE,
            &["format"],
        )
        .unwrap_err();
        assert_eq!(
            error.parameter, "format",
            "a handled name is still given once"
        );
    }

    #[test]
    fn repeatable_and_handled_parameters_pass() {
        check_parameters(
            &[
                ("issue", "a"),
                ("q", "x"),
                ("issue", "b"),
                ("format", "json"),
            ],
            TABLE,
            &["format"],
        )
        .unwrap();
    }
}
