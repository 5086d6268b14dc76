//! Referral slips over HTTP (staff only): `GET /v1/referrals/{id}/slip`
//! (the slip of a referral's provider) and `GET /v1/providers/{id}/slip`
//! (any provider's), both with `lang=en|es|fr|pt`, `safe=true|false`
//! (default true) and `format=text|html` (default text). The slip itself is
//! written by [`crate::render::slip`].
//!
//! A text slip is `text/plain` (for an SMS); an HTML slip is a printable
//! page with no script, whose `Content-Security-Policy` allows nothing but
//! its own inline stylesheet. A slip of a confidential record is audited
//! like every staff read of one.

use super::access::Caller;
use super::{audit_reads, value, ApiError, AppState, Pairs};
use crate::live::Snapshot;
use crate::model::{ParameterDoc, Role, Visibility};
use crate::render::slip::{self, Catalogue};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The query parameters of both slip endpoints (`format` is documented
/// apart: [`FORMAT`]).
pub const SLIP_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc::one(
        "lang",
        "string",
        "The caller's language, ISO 639-1: en (default), es, fr or pt.",
    ),
    ParameterDoc::one(
        "safe",
        "boolean",
        "true (default): no organisation name and no word revealing the purpose (a neutral label instead), shortened to fit one SMS (160 characters) where possible; false: the provider's name, every public phone with its notes, hours and public address.",
    ),
];

/// The `format` parameter of the slip endpoints.
pub const FORMAT: ParameterDoc = ParameterDoc::one(
    "format",
    "string",
    "text (default, text/plain for an SMS) or html (a printable page: no script, print stylesheet).",
);

/// What a slip request asks for.
#[derive(Debug, Clone, Copy)]
struct SlipAsk {
    catalogue: &'static Catalogue,
    safe: bool,
    html: bool,
}

impl SlipAsk {
    fn parse(params: &Pairs) -> Result<SlipAsk, ApiError> {
        let catalogue = match value(params, "lang") {
            None => slip::catalogue("en"),
            Some(code) => slip::catalogue(code),
        };
        let catalogue = catalogue.ok_or_else(|| {
            let known: Vec<&str> = slip::language_codes().collect();
            ApiError::invalid(
                "lang",
                format!(
                    "slips are written in {}; got '{}'",
                    known.join(", "),
                    value(params, "lang").unwrap_or_default()
                ),
            )
        })?;
        let safe = match value(params, "safe") {
            None => true,
            Some(text) => crate::model::boolean("safe", text)?,
        };
        let html = match value(params, "format").map(str::trim) {
            None | Some("text") => false,
            Some("html") => true,
            Some(other) => {
                return Err(ApiError::invalid(
                    "format",
                    format!("format must be text or html, got '{other}'"),
                ))
            }
        };
        Ok(SlipAsk {
            catalogue,
            safe,
            html,
        })
    }
}

/// `GET /v1/providers/{id}/slip`: the slip of one provider.
pub(super) async fn provider_slip(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "a referral slip")?;
    let Query(params) = params?;
    let ask = SlipAsk::parse(&params)?;
    let snapshot = state.live.snapshot();
    answer(
        &state,
        &caller,
        &snapshot,
        &id,
        ask,
        "/v1/providers/{id}/slip",
    )
    .await
}

/// `GET /v1/referrals/{id}/slip`: the slip of a referral's provider.
pub(super) async fn referral_slip(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "a referral slip")?;
    let Query(params) = params?;
    let ask = SlipAsk::parse(&params)?;
    let provider_id = referral_provider_id(&state, &id).await?;
    let snapshot = state.live.snapshot();
    answer(
        &state,
        &caller,
        &snapshot,
        &provider_id,
        ask,
        "/v1/referrals/{id}/slip",
    )
    .await
}

/// The provider id of referral `id` (404 for an id no referral has).
async fn referral_provider_id(state: &AppState, id: &str) -> Result<String, ApiError> {
    let not_found = || ApiError::NotFound {
        detail: format!(
            "no referral has id '{id}'; ids come from POST /v1/referrals or GET /v1/referrals"
        ),
        suggestions: Vec::new(),
    };
    let Ok(number) = id.trim().parse::<u64>() else {
        return Err(not_found());
    };
    let live = std::sync::Arc::clone(&state.live);
    let referral = super::blocking("referral read", move || Ok(live.referral(number)?)).await?;
    referral
        .map(|r| r.provider_id.to_string())
        .ok_or_else(not_found)
}

/// The slip of provider `id` as `ask` asks, audited when the record is
/// confidential (`via`: the route, for the audit log).
async fn answer(
    state: &AppState,
    caller: &Caller,
    snapshot: &Snapshot,
    id: &str,
    ask: SlipAsk,
    via: &'static str,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        detail: format!("no provider has id '{id}'; ids come from /v1/match or /v1/providers"),
        suggestions: Vec::new(),
    };
    let provider = snapshot
        .directory
        .index_of(id)
        .and_then(|i| snapshot.directory.provider(i))
        .ok_or_else(not_found)?;
    let slip = slip::slip(provider, ask.catalogue, ask.safe);
    let mut response = if ask.html {
        let mut response = (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            slip.html(),
        )
            .into_response();
        if let Ok(policy) = HeaderValue::from_str(&slip::content_security_policy()) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    } else {
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            slip.text().text,
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(ask.catalogue.code),
    );
    if provider.visibility == Visibility::Confidential {
        audit_reads(state, caller, vec![provider.id.as_str()], via).await?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(query: &[(&str, &str)]) -> Result<SlipAsk, ApiError> {
        let params: Pairs = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SlipAsk::parse(&params)
    }

    #[test]
    fn a_slip_is_english_safe_text_unless_asked_otherwise() {
        let plain = ask(&[]).expect("defaults");
        assert_eq!(plain.catalogue.code, "en");
        assert!(plain.safe && !plain.html);
        let asked = ask(&[("lang", "PT"), ("safe", "false"), ("format", "html")]).expect("asked");
        assert_eq!(asked.catalogue.code, "pt");
        assert!(!asked.safe && asked.html);
    }

    #[test]
    fn unknown_languages_safe_values_and_formats_name_their_parameter() {
        for (query, parameter) in [
            (("lang", "de"), "lang"),
            (("safe", "maybe"), "safe"),
            (("format", "pdf"), "format"),
        ] {
            match ask(&[query]) {
                Err(ApiError::InvalidParameter {
                    parameter: p,
                    detail,
                }) => {
                    assert_eq!(p, parameter, "{detail}");
                    if parameter == "lang" {
                        assert!(detail.contains("en, es, fr, pt"), "{detail}");
                    }
                }
                other => panic!("{query:?}: {other:?}"),
            }
        }
    }
}
