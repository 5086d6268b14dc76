//! JSON input: an array of normalised providers ([`Provider`]'s serde
//! shape, each at its 1-based position), an HSDS export (handed to
//! [`hsds`](super::hsds)), or NDJSON, one normalised provider per line.
//! Both are parsed without the gazetteer ([`parse_bytes`](super::parse_bytes))
//! and checked afterwards.

use super::parsed::Body;
use super::{hsds, ordered, Rejection};
use crate::model::Provider;

/// One normalised provider per line; blank lines are not rows. Lines are
/// parsed in batches on every core.
pub(super) fn parse_ndjson(source: &str, bytes: &[u8]) -> Body {
    let mut lines = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| (index as u64 + 1, line));
    let mut batches = Vec::new();
    let mut rows_read = 0;
    ordered::in_order(
        ordered::worker_threads(),
        Vec::new,
        |batch: &mut Vec<(u64, &[u8])>| {
            batch.clear();
            batch.extend(lines.by_ref().take(ordered::BATCH_ROWS));
            rows_read += batch.len();
            !batch.is_empty()
        },
        |batch| {
            batch
                .iter()
                .map(|&(line_number, line)| {
                    std::str::from_utf8(line)
                        .map_err(|_| "line is not valid UTF-8".to_owned())
                        .and_then(|text| {
                            serde_json::from_str::<Provider>(text)
                                .map_err(|e| format!("not a provider record: {e}"))
                        })
                        .map(|provider| (provider, line_number))
                        .map_err(|reason| Rejection::new(source, line_number, None, reason))
                })
                .collect::<Vec<_>>()
        },
        |_, outcomes| batches.push(outcomes),
    );
    Body::Rows {
        batches,
        rows_read,
        warnings: Vec::new(),
    }
}

/// A JSON array of normalised providers (each at its 1-based position), or
/// an HSDS export.
///
/// # Errors
/// The rejection of the whole file when the text is not JSON (at the line
/// where it stops being JSON) or not an array (line 0).
pub(super) fn parse_json(source: &str, bytes: &[u8]) -> Result<Body, Rejection> {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let reason = format!("not valid JSON (truncated file?): {e}");
            return Err(Rejection::new(source, e.line() as u64, None, reason));
        }
    };
    if hsds::looks_like_hsds(&value) {
        return Ok(Body::Hsds(value));
    }
    let serde_json::Value::Array(items) = value else {
        return Err(Rejection::new(
            source,
            0,
            None,
            "expected a JSON array of provider records (or an HSDS export)",
        ));
    };
    let rows_read = items.len();
    let mut outcomes = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let position = index as u64 + 1;
        outcomes.push(match serde_json::from_value::<Provider>(item) {
            Ok(provider) => Ok((provider, position)),
            Err(e) => Err(Rejection::new(
                source,
                position,
                None,
                format!("not a provider record: {e}"),
            )),
        });
    }
    Ok(Body::Rows {
        batches: vec![outcomes],
        rows_read,
        warnings: Vec::new(),
    })
}
